package version

import (
	"fmt"
	"testing"
)

// format writes v the way Parse reads it.
func format(v Semver) string {
	s := fmt.Sprintf("%d.%d.%d", v.Major, v.Minor, v.Patch)
	if v.Pre != "" {
		s += "-" + v.Pre
	}
	return s
}

// FuzzCompare checks that Parse and Compare make a total order an update
// can trust: whatever parses formats back to the same version; Compare
// answers -1, 0 or 1, is reflexive, antisymmetric and transitive, and says
// 0 only for equal versions; Newer agrees with Compare.
func FuzzCompare(f *testing.F) {
	f.Add("1.0.0", "1.0.0-rc.1", "v1.0.1")
	f.Add("1.10.0", "1.9.9", "01.10.0")
	f.Add("1.0.0-rc.2", "1.0.0-rc.10", "1.0.0+build")
	f.Add(" 2.0.0-\u00e9 ", "2.0.0-", "9223372036854775807.0.0")
	f.Fuzz(func(t *testing.T, a, b, c string) {
		var vs []Semver
		for _, s := range []string{a, b, c} {
			v, err := Parse(s)
			if err != nil {
				continue
			}
			if v.Major < 0 || v.Minor < 0 || v.Patch < 0 {
				t.Fatalf("Parse(%q) = %+v: negative", s, v)
			}
			back, err := Parse(format(v))
			if err != nil || back != v {
				t.Fatalf("Parse(%q) = %+v; formatted %q parses to %+v, %v", s, v, format(v), back, err)
			}
			if Compare(v, v) != 0 {
				t.Fatalf("Compare(%+v, itself) = %d", v, Compare(v, v))
			}
			vs = append(vs, v)
		}
		for _, x := range vs {
			for _, y := range vs {
				xy, yx := Compare(x, y), Compare(y, x)
				if xy < -1 || xy > 1 || xy != -yx {
					t.Fatalf("Compare(%+v, %+v) = %d, reversed %d", x, y, xy, yx)
				}
				if (xy == 0) != (x == y) {
					t.Fatalf("Compare(%+v, %+v) = %d for versions that are equal: %v", x, y, xy, x == y)
				}
				if got := Newer(format(x), format(y)); got != (xy > 0) {
					t.Fatalf("Newer(%q, %q) = %v; Compare says %d", format(x), format(y), got, xy)
				}
				for _, z := range vs {
					if xy <= 0 && Compare(y, z) <= 0 && Compare(x, z) > 0 {
						t.Fatalf("not transitive: %+v ≤ %+v ≤ %+v but %+v > %+v", x, y, z, x, z)
					}
				}
			}
		}
	})
}
