package reports

import (
	"bytes"
	"encoding/csv"
	"errors"
	"testing"
	"time"

	"github.com/deskside/deskside/server/internal/store"
)

func TestParseMonth(t *testing.T) {
	now := time.Date(2026, 11, 30, 23, 30, 0, 0, time.UTC)
	for _, tc := range []struct {
		month, tz, label string
		from             time.Time
		err              error
	}{
		{"2026-03", "", "2026-03", time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), nil},
		{"", "", "2026-11", time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), nil},
		// In Tokyo it is already December.
		{"", "Asia/Tokyo", "2026-12", time.Date(2026, 11, 30, 15, 0, 0, 0, time.UTC), nil},
		{"2026-13", "", "", time.Time{}, ErrBadMonth},
		{"2026-3", "", "", time.Time{}, ErrBadMonth},
		{"1999-12", "", "", time.Time{}, ErrBadMonth},
		{"2026-03", "Nowhere/Else", "", time.Time{}, ErrBadZone},
		{"2026-03", "Local", "", time.Time{}, ErrBadZone},
	} {
		m, err := ParseMonth(tc.month, tc.tz, now)
		if !errors.Is(err, tc.err) || (err == nil && (m.Label != tc.label || !m.From.Equal(tc.from))) {
			t.Errorf("ParseMonth(%q, %q) = %s from %v, %v", tc.month, tc.tz, m.Label, m.From, err)
		}
	}
	m, _ := ParseMonth("2026-01", "", now)
	if p := m.Previous(); p.Label != "2025-12" || !p.To.Equal(m.From) {
		t.Errorf("previous of January: %+v", p)
	}
}

// FuzzParseMonth: any query gives a month of one calendar month in its
// zone, or an error, never a panic.
func FuzzParseMonth(f *testing.F) {
	for _, s := range [][2]string{{"2026-03", "Europe/Berlin"}, {"", ""}, {"9999-12", "UTC"}, {"2026-00", "../etc"}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, month, tz string) {
		m, err := ParseMonth(month, tz, time.Now())
		if err != nil {
			return
		}
		if !m.To.After(m.From) || m.From.In(m.Loc).Day() != 1 || m.To.Sub(m.From) > 32*24*time.Hour || m.Label != m.From.In(m.Loc).Format("2006-01") {
			t.Fatalf("%q %q: %+v", month, tz, m)
		}
	})
}

func TestWriteCSVGuardsFormulas(t *testing.T) {
	var b bytes.Buffer
	rows, _ := Table(store.Report{Satisfaction: store.Satisfaction{Comments: []store.RatedComment{
		{RequestID: "r1", Comment: "=1+1"}, {RequestID: "r2", Comment: "+A1"}, {RequestID: "r3", Comment: "-2"},
		{RequestID: "r4", Comment: "@SUM(A1)"}, {RequestID: "r5", Comment: "\tx"}, {RequestID: "r6", Comment: "fine, thanks"}}}}, "comments")
	if err := WriteCSV(&b, rows); err != nil {
		t.Fatal(err)
	}
	got, err := csv.NewReader(&b).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"'=1+1", "'+A1", "'-2", "'@SUM(A1)", "'\tx", "fine, thanks"}
	for i, w := range want {
		if got[i+1][4] != w {
			t.Errorf("row %d: %q, want %q", i+1, got[i+1][4], w)
		}
	}
	if _, ok := Table(store.Report{}, "nope"); ok {
		t.Error("a table that does not exist")
	}
}
