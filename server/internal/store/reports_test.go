package store

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/deskside/deskside/shared/protocol"
)

// reportRow is one request of the hand-computed month: minutes after
// creation of each stamp (-1: not set), and of each due (0: none).
type reportRow struct {
	id      string
	created string // America/New_York wall clock
	kind    protocol.Category
	urgency protocol.Urgency
	fr, res int
	frDue   int
	resDue  int
	rating  int
	comment string
}

// testMonthReport checks the figures of March 2026 in New York (daylight
// saving time began on the 8th) against ones computed by hand, including
// the requests just outside the month in local time that are inside it
// in UTC.
func testMonthReport(t *testing.T, s Store) {
	ctx := context.Background()
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Skip("no time-zone database:", err)
	}
	enroll(t, s, map[string]string{"a": "linux"})
	const never = 10 * 365 * 24 * 60 // a due so far ahead it is pending
	rows := []reportRow{
		{"r0", "2026-02-28 23:30", "problem", "blocking", 1, 1, 0, 0, 1, "outside: February"},
		{"r1", "2026-03-02 09:30", "problem", "blocking", 10, 60, 15, 100, 5, "Quick and kind"},
		{"r2", "2026-03-10 09:15", "problem", "when_you_can", 20, 120, 15, 100, 4, ""},
		{"r3", "2026-03-31 23:30", "software", "when_you_can", 30, 180, 60, 0, 2, "=HYPERLINK(\"x\")"},
		{"r4", "2026-03-11 14:00", "software", "blocking", 40, 600, 0, 0, 5, ""},
		{"r5", "2026-03-12 14:20", "question", "blocking", 100, -1, 0, 0, 0, ""},
		{"r6", "2026-03-13 08:00", "question", "blocking", -1, -1, 15, 0, 0, ""},
		{"r7", "2026-03-13 08:05", "question", "blocking", -1, -1, never, 0, 0, ""},
		{"r8", "2026-04-01 00:30", "idea", "when_you_can", 1, 1, 0, 0, 1, "outside: April"},
	}
	db := s.(*SQL)
	for i, r := range rows {
		at, err := time.ParseInLocation("2006-01-02 15:04", r.created, ny)
		if err != nil {
			t.Fatal(err)
		}
		q := Request{ID: r.id, DeviceID: "a", Category: r.kind, Urgency: r.urgency, Status: protocol.StatusNew,
			Text: "help", CreatedAt: at, UpdatedAt: at}
		if _, err := s.CreateRequest(ctx, "f"+r.id, q, nil); err != nil {
			t.Fatal(err)
		}
		after := func(min int, zero int) int64 {
			if min == zero {
				return 0
			}
			return ms(at.Add(time.Duration(min) * time.Minute))
		}
		if _, err := db.DB().ExecContext(ctx, db.Rebind(`UPDATE requests SET first_response_at = ?, resolved_at = ?,
			first_response_due = ?, resolution_due = ?, rating = ?, rating_comment = ? WHERE id = ?`),
			after(r.fr, -1), after(r.res, -1), after(r.frDue, 0), after(r.resDue, 0), r.rating, r.comment, r.id); err != nil {
			t.Fatalf("row %d: %v", i, err)
		}
	}
	// Beside the requests: software brought in, heads-up fixes, articles.
	mar := func(day int) int64 { return ms(time.Date(2026, 3, day, 12, 0, 0, 0, ny)) }
	art, _, err := s.CreateArticle(ctx, Article{ID: "art_vpn", Title: "Connect to the VPN", Body: "Open it.", Published: true,
		CreatedAt: time.Now(), UpdatedAt: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{"INSERT INTO software_titles(id, name, source, first_seen, last_seen, came_in_at) VALUES(?,?,?,?,?,?)",
			[]any{"sw_1", "Figma", "apps", mar(1), mar(1), mar(5)}},
		{"INSERT INTO software_titles(id, name, source, first_seen, last_seen, came_in_at) VALUES(?,?,?,?,?,?)",
			[]any{"sw_2", "Slack", "apps", mar(1), mar(1), ms(time.Date(2026, 4, 2, 0, 0, 0, 0, ny))}},
		{"INSERT INTO software_answers(title_id, device_id, answer, at) VALUES(?,?,?,?)", []any{"sw_1", "a", "work", mar(3)}},
		{"INSERT INTO software_answers(title_id, device_id, answer, at) VALUES(?,?,?,?)", []any{"sw_2", "a", "personal", mar(3)}},
		{"INSERT INTO check_history(device_id, check_kind, state, at) VALUES(?,?,?,?)", []any{"a", "disk_space", "fixed", mar(4)}},
		{"INSERT INTO check_history(device_id, check_kind, state, at) VALUES(?,?,?,?)", []any{"a", "disk_space", "fixed", mar(9)}},
		{"INSERT INTO check_history(device_id, check_kind, state, at) VALUES(?,?,?,?)", []any{"a", "updates", "fixed", mar(9)}},
		{"INSERT INTO check_history(device_id, check_kind, state, at) VALUES(?,?,?,?)", []any{"a", "updates", "warn", mar(9)}},
		{"INSERT INTO article_feedback(device_id, article_id, event, at) VALUES(?,?,?,?)", []any{"a", art.ID, "solved", mar(6)}},
		{"INSERT INTO article_feedback(device_id, article_id, event, at) VALUES(?,?,?,?)", []any{"a", art.ID, "solved", mar(7)}},
		{"INSERT INTO article_feedback(device_id, article_id, event, at) VALUES(?,?,?,?)", []any{"a", "art_gone", "solved", mar(7)}},
		{"INSERT INTO article_feedback(device_id, article_id, event, at) VALUES(?,?,?,?)", []any{"a", art.ID, "viewed", mar(7)}},
	} {
		if _, err := db.DB().ExecContext(ctx, db.Rebind(q.sql), q.args...); err != nil {
			t.Fatalf("%s: %v", q.sql, err)
		}
	}

	from := time.Date(2026, 3, 1, 0, 0, 0, 0, ny)
	got, err := s.MonthReport(ctx, from, from.AddDate(0, 1, 0), ny)
	if err != nil {
		t.Fatal(err)
	}
	if got.Requests != 7 || got.TimeZone != "America/New_York" {
		t.Errorf("requests %d in %s, want 7 in America/New_York", got.Requests, got.TimeZone)
	}
	wantKinds := []KindCount{{"problem", "blocking", 1}, {"problem", "when_you_can", 1}, {"question", "blocking", 3},
		{"software", "blocking", 1}, {"software", "when_you_can", 1}}
	if !reflect.DeepEqual(got.ByKind, wantKinds) {
		t.Errorf("by kind %+v\nwant %+v", got.ByKind, wantKinds)
	}
	// 10 20 30 40 100: median 30; p90 at rank 3.6 = 40 + 0.6×60.
	if want := (Durations{Count: 5, MedianMinutes: 30, P90Minutes: 76}); got.FirstResponse != want {
		t.Errorf("first response %+v, want %+v", got.FirstResponse, want)
	}
	// 60 120 180 600: median 150; p90 at rank 2.7 = 180 + 0.7×420.
	if want := (Durations{Count: 4, MedianMinutes: 150, P90Minutes: 474}); got.Resolution != want {
		t.Errorf("resolution %+v, want %+v", got.Resolution, want)
	}
	// r1, r3 met; r2 late, r6 past due unanswered; r7 not due yet.
	if want := (TargetFigure{WithTarget: 5, Met: 2, Missed: 2, Pending: 1, Percent: 50}); got.Targets.FirstResponse != want {
		t.Errorf("first response target %+v, want %+v", got.Targets.FirstResponse, want)
	}
	if want := (TargetFigure{WithTarget: 2, Met: 1, Missed: 1, Percent: 50}); got.Targets.Resolution != want {
		t.Errorf("resolution target %+v, want %+v", got.Targets.Resolution, want)
	}
	sat := got.Satisfaction
	if sat.Rated != 4 || sat.Average != 4 || sat.Distribution != [5]int{0, 1, 0, 1, 2} {
		t.Errorf("satisfaction %+v, want 4 rated averaging 4 as [0 1 0 1 2]", sat)
	}
	if len(sat.Comments) != 2 || sat.Comments[0].RequestID != "r3" || sat.Comments[0].Comment != `=HYPERLINK("x")` ||
		sat.Comments[1].RequestID != "r1" || sat.Comments[1].Rating != 5 || sat.Comments[1].Kind != "problem" {
		t.Errorf("comments %+v, want r3 then r1", sat.Comments)
	}
	// In local time across the change to daylight saving time: r2 at 09:15
	// EDT is hour 9 (a fixed EST offset would say 8).
	var wantHours [7][24]int
	wantHours[time.Monday][9] = 1
	wantHours[time.Tuesday][9] = 1
	wantHours[time.Tuesday][23] = 1
	wantHours[time.Wednesday][14] = 1
	wantHours[time.Thursday][14] = 1
	wantHours[time.Friday][8] = 2
	if got.Hours != wantHours {
		t.Errorf("hours %v\nwant %v", got.Hours, wantHours)
	}
	if got.Software != (SoftwareReport{CameIn: 1, AnsweredForWork: 1}) {
		t.Errorf("software %+v, want 1 came in, 1 answered for work", got.Software)
	}
	wantChecks := []NamedCount{{"disk_space", "disk_space", 2}, {"updates", "updates", 1}}
	if got.HeadsUp.Fixed != 3 || !reflect.DeepEqual(got.HeadsUp.ByCheck, wantChecks) {
		t.Errorf("heads-up %+v, want 3: %+v", got.HeadsUp, wantChecks)
	}
	wantArts := []NamedCount{{art.ID, "Connect to the VPN", 2}, {"art_gone", "art_gone", 1}}
	if got.Articles.Solved != 3 || !reflect.DeepEqual(got.Articles.Top, wantArts) {
		t.Errorf("articles %+v, want 3: %+v", got.Articles, wantArts)
	}

	// The same month in UTC: r0 (04:30 UTC on the 1st) is in, r3 (03:30
	// UTC on 1 April) is out.
	utc, err := s.MonthReport(ctx, time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC), time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	if utc.Requests != 7 || utc.Hours[time.Sunday][4] != 1 || utc.Hours[time.Monday][14] != 1 {
		t.Errorf("UTC month: %d requests, hours %v", utc.Requests, utc.Hours)
	}
	// An empty month is zeros and empty lists, not nulls.
	empty, err := s.MonthReport(ctx, time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2025, 2, 1, 0, 0, 0, 0, time.UTC), nil)
	if err != nil || empty.Requests != 0 || empty.ByKind == nil || empty.Satisfaction.Comments == nil ||
		empty.FirstResponse != (Durations{}) || empty.Targets.FirstResponse.Percent != 0 {
		t.Errorf("empty month: %+v %v", empty, err)
	}
}

// testClaimMeta checks a claim is won once, whoever asks.
func testClaimMeta(t *testing.T, s Store) {
	ctx := context.Background()
	won, err := s.ClaimMeta(ctx, "report.mailed.2026-03", "node-a")
	if err != nil || !won {
		t.Fatalf("first claim: %v %v", won, err)
	}
	for _, node := range []string{"node-a", "node-b"} {
		if won, err := s.ClaimMeta(ctx, "report.mailed.2026-03", node); err != nil || won {
			t.Fatalf("second claim by %s: %v %v", node, won, err)
		}
	}
	if v, err := s.GetMeta(ctx, "report.mailed.2026-03"); err != nil || v != "node-a" {
		t.Fatalf("claimed value %q %v", v, err)
	}
}

// TestMonthReportPlans: on SQLite, with no statistics (as a server has
// them), the month's counts read only the covering index requests_report (its expressions must match frOutcome
// and resOutcome word for word, or SQLite silently reads the table), and
// the percentiles walk their expression indexes without a sort.
func TestMonthReportPlans(t *testing.T) {
	s := openSQLite(t, t.TempDir())
	ctx := context.Background()
	plan := func(q string, args ...any) string {
		rows, err := s.r.QueryContext(ctx, "EXPLAIN QUERY PLAN "+q, args...)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var out []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			out = append(out, detail)
		}
		return strings.Join(out, "; ")
	}
	counts := plan(`SELECT category, urgency, rating, `+frOutcome+`, `+resOutcome+`, count(*) FROM requests INDEXED BY requests_report
		WHERE created_at >= ? AND created_at < ? GROUP BY category, urgency, rating, `+frOutcome+`, `+resOutcome, 0, 1)
	if !strings.Contains(counts, "COVERING INDEX requests_report") || strings.Contains(counts, "TEMP B-TREE") {
		t.Errorf("counts plan: %s", counts)
	}
	if p := plan(`SELECT count(*) FROM requests WHERE created_at >= ? AND created_at < ?`, 0, 1); !strings.Contains(p, "COVERING INDEX requests_created") {
		t.Errorf("an hour's count: %s", p)
	}
	for _, col := range []string{"first_response_at", "resolved_at"} {
		idx := map[string]string{"first_response_at": "requests_first_response", "resolved_at": "requests_resolution"}[col]
		p := plan(`SELECT `+col+` - created_at FROM requests INDEXED BY `+idx+` WHERE `+col+` > 0 AND created_at >= ? AND created_at < ?
			ORDER BY `+col+` - created_at LIMIT 2 OFFSET ?`, 0, 1, 0)
		if !strings.Contains(p, "COVERING INDEX "+idx) || strings.Contains(p, "TEMP B-TREE") {
			t.Errorf("%s percentile plan: %s", col, p)
		}
	}
}
