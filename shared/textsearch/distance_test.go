package textsearch

import "testing"

func TestDistance(t *testing.T) {
	for _, c := range []struct {
		a, b  string
		limit int
		want  int
	}{{"pritner", "printer", 2, 1}, {"printr", "printer", 2, 1}, {"printer", "printer", 2, 0}, {"certifcate", "calendar", 1, 2},
		{"abc", "xyz", 5, 3}, {"", "abc", 5, 3}, {"ab", "ba", 1, 1}, {"calender", "calendar", 1, 1}, {"ça", "ca", 2, 1}} {
		if got := Distance([]rune(c.a), []rune(c.b), c.limit); got != c.want {
			t.Errorf("Distance(%q, %q, %d) = %d, want %d", c.a, c.b, c.limit, got, c.want)
		}
	}
}

// FuzzDistance: the distance is symmetric, zero exactly for equal words,
// at most the longer length, and capped at limit+1.
func FuzzDistance(f *testing.F) {
	f.Add("pritner", "printer", 2)
	f.Add("", "x", 0)
	f.Fuzz(func(t *testing.T, a, b string, limit int) {
		if limit < 0 || limit > 64 || len(a) > 64 || len(b) > 64 {
			return
		}
		ra, rb := []rune(a), []rune(b)
		d := Distance(ra, rb, limit)
		if d > limit+1 {
			t.Fatalf("Distance = %d over limit+1 = %d", d, limit+1)
		}
		if d2 := Distance(rb, ra, limit); d2 != d {
			t.Fatalf("not symmetric: %d vs %d", d, d2)
		}
		if (d == 0) != (string(ra) == string(rb)) {
			t.Fatalf("Distance(%q, %q) = %d", a, b, d)
		}
		if d <= limit && d > max(len(ra), len(rb)) {
			t.Fatalf("Distance(%q, %q) = %d is more than the longer length", a, b, d)
		}
	})
}
