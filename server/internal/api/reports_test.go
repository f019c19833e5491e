package api_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/deskside/deskside/server/internal/store"
	"github.com/deskside/deskside/server/internal/store/reporttest"
	"github.com/deskside/deskside/server/servertest"
)

// get sends a signed-in GET and returns the whole answer.
func get(t *testing.T, tech *servertest.Tech, url string) (*http.Response, []byte) {
	t.Helper()
	resp, err := tech.Client.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

// TestMonthReportAPI reads March 2026 as JSON, each table as CSV and each
// chart as SVG, and checks what a person typed never becomes a formula or
// markup.
func TestMonthReportAPI(t *testing.T) {
	srv := servertest.New(t)
	admin := srv.Tech(t)
	st := storeOf(t, srv)
	ctx := context.Background()
	from := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	if err := reporttest.Seed(ctx, st, reporttest.Options{Requests: 300, Devices: 20, From: from, To: from.AddDate(0, 1, 0),
		Seed: 7}); err != nil {
		t.Fatal(err)
	}
	// The newest rated request gets a formula for a comment, and a kind
	// that is markup.
	if _, err := st.DB().ExecContext(ctx, st.Rebind(`UPDATE requests SET rating = 1, rating_comment = ?, category = ?
		WHERE id = (SELECT id FROM requests ORDER BY created_at DESC LIMIT 1)`), `=cmd|' /C calc'!A0`, `<b>x</b>&`); err != nil {
		t.Fatal(err)
	}
	base := srv.URL() + "/api/v1/reports/month"

	resp, body := get(t, admin, base+"?month=2026-03&tz=UTC")
	var rep store.Report
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &rep) != nil {
		t.Fatalf("report: %d %s", resp.StatusCode, body)
	}
	if rep.Month != "2026-03" || rep.Requests != 300 || rep.TimeZone != "UTC" || len(rep.ByKind) == 0 ||
		rep.FirstResponse.Count == 0 || rep.Satisfaction.Rated == 0 {
		t.Fatalf("report: %+v", rep)
	}

	for _, bad := range []struct{ query, code string }{
		{"?month=2026-13", "bad_month"}, {"?month=March", "bad_month"}, {"?month=1999-12", "bad_month"},
		{"?month=2026-03&tz=Mars/Olympus", "bad_time_zone"}, {"?month=2026-03&tz=Local", "bad_time_zone"},
	} {
		resp, body := get(t, admin, base+bad.query)
		var e struct{ Error, Message string }
		_ = json.Unmarshal(body, &e)
		if resp.StatusCode != http.StatusBadRequest || e.Error != bad.code || e.Message == "" {
			t.Errorf("%s: %d %s, want 400 %s with a message", bad.query, resp.StatusCode, body, bad.code)
		}
	}

	for _, table := range []string{"by_kind", "response", "satisfaction", "comments", "hours", "self_service", "heads_up", "articles"} {
		resp, body := get(t, admin, base+".csv?month=2026-03&table="+table)
		if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") ||
			resp.Header.Get("Content-Disposition") != `attachment; filename="deskside-2026-03-`+table+`.csv"` {
			t.Fatalf("%s: %d %v", table, resp.StatusCode, resp.Header)
		}
		rows, err := csv.NewReader(bytes.NewReader(body)).ReadAll()
		if err != nil || len(rows) == 0 {
			t.Fatalf("%s: %v %q", table, err, body)
		}
		for _, row := range rows {
			for _, cell := range row {
				if cell != "" && strings.ContainsRune("=+-@", rune(cell[0])) {
					t.Errorf("%s: cell %q would be read as a formula", table, cell)
				}
			}
		}
		if table == "comments" && !slices.Contains(rows[1], `'=cmd|' /C calc'!A0`) {
			t.Errorf("comments: the formula comment is not first, guarded: %q", rows[1])
		}
	}
	if resp, _ := get(t, admin, base+".csv?month=2026-03&table=secrets"); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("unknown table: %d", resp.StatusCode)
	}

	for _, chart := range []string{"by_kind", "satisfaction", "hours"} {
		resp, body := get(t, admin, base+"/"+chart+".svg?month=2026-03")
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "image/svg+xml" ||
			resp.Header.Get("X-Content-Type-Options") != "nosniff" ||
			!strings.HasPrefix(resp.Header.Get("Content-Security-Policy"), "default-src 'none'") {
			t.Fatalf("%s: %d %v", chart, resp.StatusCode, resp.Header)
		}
		// Well-formed XML whose only elements are drawing ones.
		dec := xml.NewDecoder(bytes.NewReader(body))
		for {
			tok, err := dec.Token()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("%s: not well-formed: %v", chart, err)
			}
			if el, ok := tok.(xml.StartElement); ok && !slices.Contains([]string{"svg", "title", "rect", "text", "line"}, el.Name.Local) {
				t.Errorf("%s: element <%s> in the chart", chart, el.Name.Local)
			}
		}
		if chart == "by_kind" && !bytes.Contains(body, []byte("&lt;b&gt;x&lt;/b&gt;&amp;")) {
			t.Errorf("by_kind: the markup kind is not escaped:\n%s", body)
		}
	}
	if resp, _ := get(t, admin, base+"/pie.svg"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown chart: %d", resp.StatusCode)
	}
	// No month: the month now is in.
	resp, body = get(t, admin, base)
	if err := json.Unmarshal(body, &rep); resp.StatusCode != http.StatusOK || err != nil || rep.Month != time.Now().UTC().Format("2006-01") {
		t.Errorf("default month: %d %s", resp.StatusCode, rep.Month)
	}
}
