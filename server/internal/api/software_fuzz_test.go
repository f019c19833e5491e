package api

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// FuzzSoftwareFilter: any query string either becomes a filter within the
// bounds or a 400, never a panic.
func FuzzSoftwareFilter(f *testing.F) {
	for _, q := range []string{"", "status=new,approved&new=7&per_user=1&source=windows&q=figma&sort=name&limit=50&offset=100",
		"status=banned", "new=-1", "limit=99999999999999999999", "q=%ff%fe", "status=,,,", "format=csv&catalogue=true"} {
		f.Add(q)
	}
	f.Fuzz(func(t *testing.T, q string) {
		r := httptest.NewRequest("GET", "/api/v1/software", nil)
		r.URL.RawQuery = q
		w := httptest.NewRecorder()
		sf, ok := softwareFilter(w, r)
		if !ok {
			if w.Code != http.StatusBadRequest {
				t.Fatalf("refused %q with %d", q, w.Code)
			}
			return
		}
		if sf.Limit > 1000 || sf.Limit < 0 || sf.Offset < 0 || len(sf.Query) > maxSoftwareQuery {
			t.Fatalf("%q let through %+v", q, sf)
		}
		for _, s := range sf.Status {
			if !s.Valid() {
				t.Fatalf("%q let through status %q", q, s)
			}
		}
	})
}

// FuzzCSVCell: no exported cell starts a formula.
func FuzzCSVCell(f *testing.F) {
	for _, s := range []string{"=SUM(A1)", "+1", "-1", "@cmd", "\tx", "Figma", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c := csvCell(s)
		if c != "" && strings.ContainsRune("=+-@\t\r", rune(c[0])) {
			t.Fatalf("csvCell(%q) = %q starts a formula", s, c)
		}
		if !strings.HasSuffix(c, s) {
			t.Fatalf("csvCell(%q) = %q lost text", s, c)
		}
	})
}
