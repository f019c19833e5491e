package store

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/deskside/deskside/shared/protocol"
)

// ReportStore is IT's month: the figures of the Reports page (reports.go).
type ReportStore interface {
	// MonthReport counts the requests created in [from, to) and what
	// happened around them; loc is the time zone of the busiest hours.
	MonthReport(ctx context.Context, from, to time.Time, loc *time.Location) (Report, error)
	// ClaimMeta stores key = value only if key is not set yet, and reports
	// whether this call set it: of several nodes racing for one job (the
	// monthly email), exactly one wins.
	ClaimMeta(ctx context.Context, key, value string) (bool, error)
}

// MaxReportComments bounds the comments a report carries (newest first).
const MaxReportComments = 50

// Report is one month of the help desk's work. Every figure counts the
// requests created in the month (a request raised on the 31st and solved
// on the 2nd belongs to the month it was raised in), except the
// self-service figures, which count what happened in the month.
type Report struct {
	Month    string    `json:"month"` // YYYY-MM in TimeZone; set by the caller
	From     time.Time `json:"from"`
	To       time.Time `json:"to"` // exclusive
	TimeZone string    `json:"time_zone"`
	Requests int       `json:"requests"`
	// ByKind is requests by kind (category) and urgency, every pair seen.
	ByKind []KindCount `json:"by_kind"`
	// FirstResponse and Resolution are wall-clock times from creation (a
	// paused clock while waiting on the employee still counts).
	FirstResponse Durations    `json:"first_response"`
	Resolution    Durations    `json:"resolution"`
	Targets       Targets      `json:"targets"`
	Satisfaction  Satisfaction `json:"satisfaction"`
	// Hours[weekday][hour] counts requests created then, in TimeZone;
	// weekday 0 is Sunday (time.Weekday).
	Hours    [7][24]int     `json:"hours"`
	Software SoftwareReport `json:"software"`
	HeadsUp  HeadsUpReport  `json:"heads_up"`
	Articles ArticleReport  `json:"articles"`
}

// KindCount is the number of requests of one kind and urgency.
type KindCount struct {
	Kind    protocol.Category `json:"kind"`
	Urgency protocol.Urgency  `json:"urgency"`
	Count   int               `json:"count"`
}

// Durations summarises how long something took: Count requests had it;
// the median and 90th percentile are in minutes, interpolated between the
// two nearest requests as PostgreSQL's percentile_cont does.
type Durations struct {
	Count         int     `json:"count"`
	MedianMinutes float64 `json:"median_minutes"`
	P90Minutes    float64 `json:"p90_minutes"`
}

// Targets is how often the response targets were met.
type Targets struct {
	FirstResponse TargetFigure `json:"first_response"`
	Resolution    TargetFigure `json:"resolution"`
}

// TargetFigure counts requests with a target: Met in time, Missed (late,
// or not done and already past due) and Pending (not done, not due yet).
// Percent is Met of Met+Missed; 0 when neither.
type TargetFigure struct {
	WithTarget int     `json:"with_target"`
	Met        int     `json:"met"`
	Missed     int     `json:"missed"`
	Pending    int     `json:"pending"`
	Percent    float64 `json:"percent"`
}

// Satisfaction is the employees' ratings (1 to 5).
type Satisfaction struct {
	Rated        int            `json:"rated"`
	Average      float64        `json:"average"`
	Distribution [5]int         `json:"distribution"` // [0] is rated 1
	Comments     []RatedComment `json:"comments"`
}

// RatedComment is what an employee wrote beside a rating.
type RatedComment struct {
	RequestID string            `json:"request_id"`
	Kind      protocol.Category `json:"kind"`
	Rating    int               `json:"rating"`
	Comment   string            `json:"comment"`
	CreatedAt time.Time         `json:"created_at"`
}

// SoftwareReport is software brought in from the cold: titles IT approved
// that people had told about (came in), and the "yes, for work" answers.
type SoftwareReport struct {
	CameIn          int `json:"came_in"`
	AnsweredForWork int `json:"answered_for_work"`
}

// HeadsUpReport is heads-up items people fixed themselves ("Fix it for
// me"), by check. check_history keeps 30 days, so an older month counts
// only what is still kept.
type HeadsUpReport struct {
	Fixed   int          `json:"fixed"`
	ByCheck []NamedCount `json:"by_check"`
}

// ArticleReport is questions answered by articles ("This solved it"); the
// top ten articles by it.
type ArticleReport struct {
	Solved int          `json:"solved"`
	Top    []NamedCount `json:"top"`
}

// NamedCount is a count of one thing.
type NamedCount struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Count int    `json:"count"`
}

// MonthReport aggregates in SQL: one pass over the month's rows of an
// index for the counts (reportCounts), one query of hourly range counts
// for the hours (reportHours), and two index walks per percentile
// (percentiles).
func (s *SQL) MonthReport(ctx context.Context, from, to time.Time, loc *time.Location) (Report, error) {
	if loc == nil {
		loc = time.UTC
	}
	rep := Report{From: from, To: to, TimeZone: loc.String(), ByKind: []KindCount{}}
	rep.Satisfaction.Comments = []RatedComment{}
	rep.HeadsUp.ByCheck, rep.Articles.Top = []NamedCount{}, []NamedCount{}
	f, t, now := ms(from), ms(to), ms(time.Now())
	// The queries are independent reads: run them side by side on the
	// read pool, the percentiles once the counts say how many there are.
	var responded, resolved int
	err := together(
		func() error {
			var err error
			if responded, resolved, err = s.reportCounts(ctx, &rep, f, t, now); err != nil {
				return err
			}
			return together(
				func() error {
					var err error
					rep.FirstResponse, err = s.percentiles(ctx, "first_response_at", f, t, responded)
					return err
				},
				func() error {
					var err error
					rep.Resolution, err = s.percentiles(ctx, "resolved_at", f, t, resolved)
					return err
				})
		},
		func() error { return s.reportHours(ctx, &rep, from, to, loc) },
		func() error {
			if err := s.reportComments(ctx, &rep, f, t); err != nil {
				return err
			}
			return s.reportSelfService(ctx, &rep, f, t)
		})
	if err != nil {
		return Report{}, fmt.Errorf("month report %s: %w", from.In(loc).Format("2006-01"), err)
	}
	return rep, nil
}

// How a request stands against a target, as requests_report indexes it
// (so SQLite groups by the stored value instead of working it out for a
// million rows): the stamp is set or not, the target there or not.
const (
	outcomeNone       = 0 // neither stamp nor target
	outcomeOpen       = 1 // target, not done yet
	outcomeMet        = 2
	outcomeLate       = 3
	outcomeNoTarget   = 4 // done, no target
	outcomeExprFormat = "(CASE WHEN %[1]s = 0 THEN (CASE WHEN %[2]s = 0 THEN 0 ELSE 1 END) WHEN %[2]s = 0 THEN 4 " +
		"WHEN %[1]s <= %[2]s THEN 2 ELSE 3 END)"
)

var (
	frOutcome  = fmt.Sprintf(outcomeExprFormat, "first_response_at", "first_response_due")
	resOutcome = fmt.Sprintf(outcomeExprFormat, "resolved_at", "resolution_due")
)

// reportCounts reads the counts by kind, urgency, rating and outcomes in
// one pass that SQLite streams in the order of requests_report (a few
// hundred groups at most), then counts the open requests already past
// their due from the small partial indexes of unanswered and unresolved
// requests.
func (s *SQL) reportCounts(ctx context.Context, rep *Report, f, t, now int64) (responded, resolved int, err error) {
	// SQLite is told the index: without statistics (the server never runs
	// ANALYZE) it would take requests_created, read the table and sort.
	indexed := " INDEXED BY requests_report"
	if s.d.postgres {
		indexed = ""
	}
	rows, err := s.r.QueryContext(ctx, `SELECT category, urgency, rating, `+frOutcome+`, `+resOutcome+`, count(*)
		FROM requests`+indexed+` WHERE created_at >= ? AND created_at < ?
		GROUP BY category, urgency, rating, `+frOutcome+`, `+resOutcome, f, t)
	if err != nil {
		return 0, 0, fmt.Errorf("counts: %w", err)
	}
	defer rows.Close()
	fr, res := &rep.Targets.FirstResponse, &rep.Targets.Resolution
	byKind := map[KindCount]int{}
	tally := func(tf *TargetFigure, outcome, n int, done *int) {
		switch outcome {
		case outcomeOpen:
			tf.WithTarget += n
			tf.Pending += n
		case outcomeMet:
			tf.WithTarget, tf.Met, *done = tf.WithTarget+n, tf.Met+n, *done+n
		case outcomeLate:
			tf.WithTarget, tf.Missed, *done = tf.WithTarget+n, tf.Missed+n, *done+n
		case outcomeNoTarget:
			*done += n
		}
	}
	for rows.Next() {
		var k KindCount
		var rating, frO, resO, n int
		if err := rows.Scan(&k.Kind, &k.Urgency, &rating, &frO, &resO, &n); err != nil {
			return 0, 0, fmt.Errorf("counts: %w", err)
		}
		byKind[k] += n
		rep.Requests += n
		if rating >= 1 && rating <= 5 {
			rep.Satisfaction.Distribution[rating-1] += n
		}
		tally(fr, frO, n, &responded)
		tally(res, resO, n, &resolved)
	}
	if err := rows.Err(); err != nil {
		return 0, 0, fmt.Errorf("counts: %w", err)
	}
	for k, n := range byKind {
		k.Count = n
		rep.ByKind = append(rep.ByKind, k)
	}
	slices.SortFunc(rep.ByKind, func(a, b KindCount) int {
		return cmp.Or(cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Urgency, b.Urgency))
	})
	// Not done and past due counts as missed, not pending.
	for _, o := range []struct {
		tf      *TargetFigure
		at, due string
	}{{fr, "first_response_at", "first_response_due"}, {res, "resolved_at", "resolution_due"}} {
		var overdue int
		if err := s.r.QueryRowContext(ctx, `SELECT count(*) FROM requests WHERE `+o.at+` = 0 AND `+o.due+` > 0
			AND created_at >= ? AND created_at < ? AND `+o.due+` < ?`, f, t, now).Scan(&overdue); err != nil {
			return 0, 0, fmt.Errorf("overdue: %w", err)
		}
		o.tf.Pending -= overdue
		o.tf.Missed += overdue
		if done := o.tf.Met + o.tf.Missed; done > 0 {
			o.tf.Percent = round1(100 * float64(o.tf.Met) / float64(done))
		}
	}
	sum := 0
	for i, n := range rep.Satisfaction.Distribution {
		rep.Satisfaction.Rated += n
		sum += (i + 1) * n
	}
	if rep.Satisfaction.Rated > 0 {
		rep.Satisfaction.Average = math.Round(100*float64(sum)/float64(rep.Satisfaction.Rated)) / 100
	}
	return responded, resolved, nil
}

// reportHours counts the requests of each hour of the month, walked in
// Go in loc (so daylight saving time is the time package's business, not
// the database's), in one query of hour ranges that each count a range
// of the created_at index: no sort, no time-zone database in SQL.
func (s *SQL) reportHours(ctx context.Context, rep *Report, from, to time.Time, loc *time.Location) error {
	type slot struct{ wd, h int }
	var slots []slot
	var q strings.Builder
	// VALUES names its columns column1… on both backends.
	q.WriteString("SELECT h.column1, (SELECT count(*) FROM requests WHERE created_at >= h.column2 AND created_at < h.column3) FROM (VALUES ")
	for at := from; at.Before(to); {
		// The next hour boundary in loc: an hour later, or sooner when
		// the zone changes on a half hour.
		next := at.Add(time.Hour).Truncate(time.Hour)
		if _, end := at.In(loc).ZoneBounds(); !end.IsZero() && end.After(at) && end.Before(next) {
			next = end
		}
		if _, off := at.In(loc).Zone(); off%3600 != 0 {
			next = at.Add(time.Hour)
		}
		if next.After(to) {
			next = to
		}
		local := at.In(loc)
		if len(slots) > 0 {
			q.WriteString(",")
		}
		// Literal integers the server computed: nothing from outside.
		fmt.Fprintf(&q, "(%d, %d, %d)", len(slots), ms(at), ms(next))
		slots = append(slots, slot{int(local.Weekday()), local.Hour()})
		at = next
	}
	if len(slots) == 0 {
		return nil
	}
	q.WriteString(") h")
	rows, err := s.r.QueryContext(ctx, q.String())
	if err != nil {
		return fmt.Errorf("hours: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var i, n int
		if err := rows.Scan(&i, &n); err != nil {
			return fmt.Errorf("hours: %w", err)
		}
		if i >= 0 && i < len(slots) {
			rep.Hours[slots[i].wd][slots[i].h] += n
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("hours: %w", err)
	}
	return nil
}

// percentiles computes the median and 90th percentile of col - created_at
// over the month's n requests that have col, as PostgreSQL's
// percentile_cont would: both backends walk the partial expression index
// on (col - created_at) in order to the two ranks around each percentile
// (LIMIT 2 OFFSET k, from whichever end is nearer), skipping other months
// by the index's second column without touching the table.
func (s *SQL) percentiles(ctx context.Context, col string, f, t int64, n int) (Durations, error) {
	d := Durations{Count: n}
	if n == 0 {
		return d, nil
	}
	// SQLite is told the index (the planner would rather sort); PostgreSQL
	// picks it by itself.
	indexed := " INDEXED BY " + map[string]string{"first_response_at": "requests_first_response", "resolved_at": "requests_resolution"}[col]
	if s.d.postgres {
		indexed = ""
	}
	at := func(p float64) (float64, error) {
		pos := p * float64(n-1)
		lo := int(math.Floor(pos))
		order, offset := "", lo
		if lo > n/2 { // nearer the top: walk down from it
			order, offset = " DESC", max(n-2-lo, 0)
		}
		rows, err := s.r.QueryContext(ctx, `SELECT `+col+` - created_at FROM requests`+indexed+`
			WHERE `+col+` > 0 AND created_at >= ? AND created_at < ? ORDER BY `+col+` - created_at`+order+` LIMIT 2 OFFSET ?`,
			f, t, offset)
		if err != nil {
			return 0, err
		}
		var v []float64
		for rows.Next() {
			var x int64
			if err := rows.Scan(&x); err != nil {
				rows.Close()
				return 0, err
			}
			v = append(v, float64(x))
		}
		if err := errors.Join(rows.Err(), rows.Close()); err != nil {
			return 0, err
		}
		if order != "" {
			slices.Reverse(v)
			if lo == n-1 { // the last rank: only it matters
				v = v[len(v)-1:]
			}
		}
		switch len(v) {
		case 0:
			return 0, fmt.Errorf("no row at rank %d of %d", lo, n)
		case 1:
			return v[0], nil
		}
		return v[0] + (pos-float64(lo))*(v[1]-v[0]), nil
	}
	med, err := at(0.5)
	if err != nil {
		return d, fmt.Errorf("%s median: %w", col, err)
	}
	p90, err := at(0.9)
	if err != nil {
		return d, fmt.Errorf("%s p90: %w", col, err)
	}
	d.MedianMinutes, d.P90Minutes = minutes(med), minutes(p90)
	return d, nil
}

func (s *SQL) reportComments(ctx context.Context, rep *Report, f, t int64) error {
	rows, err := s.r.QueryContext(ctx, `SELECT id, category, rating, rating_comment, created_at FROM requests
		WHERE created_at >= ? AND created_at < ? AND rating > 0 AND rating_comment <> ''
		ORDER BY created_at DESC, id DESC LIMIT ?`, f, t, MaxReportComments)
	if err != nil {
		return fmt.Errorf("comments: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var c RatedComment
		var at int64
		if err := rows.Scan(&c.RequestID, &c.Kind, &c.Rating, &c.Comment, &at); err != nil {
			return fmt.Errorf("comments: %w", err)
		}
		c.CreatedAt = fromMS(at)
		rep.Satisfaction.Comments = append(rep.Satisfaction.Comments, c)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("comments: %w", err)
	}
	return nil
}

// reportSelfService counts what people and IT did in the month beside
// requests: software brought in, heads-up fixes, articles that solved it.
func (s *SQL) reportSelfService(ctx context.Context, rep *Report, f, t int64) error {
	err := s.r.QueryRowContext(ctx, `SELECT
		(SELECT count(*) FROM software_titles WHERE came_in_at >= ? AND came_in_at < ?),
		(SELECT count(*) FROM software_answers WHERE answer = ? AND at >= ? AND at < ?)`,
		f, t, protocol.AnswerForWork, f, t).Scan(&rep.Software.CameIn, &rep.Software.AnsweredForWork)
	if err != nil {
		return fmt.Errorf("software: %w", err)
	}
	named := func(what, q string, args ...any) ([]NamedCount, int, error) {
		rows, err := s.r.QueryContext(ctx, q, args...)
		if err != nil {
			return nil, 0, fmt.Errorf("%s: %w", what, err)
		}
		defer rows.Close()
		out, total := []NamedCount{}, 0
		for rows.Next() {
			var c NamedCount
			if err := rows.Scan(&c.ID, &c.Name, &c.Count); err != nil {
				return nil, 0, fmt.Errorf("%s: %w", what, err)
			}
			out, total = append(out, c), total+c.Count
		}
		if err := rows.Err(); err != nil {
			return nil, 0, fmt.Errorf("%s: %w", what, err)
		}
		return out, total, nil
	}
	rep.HeadsUp.ByCheck, rep.HeadsUp.Fixed, err = named("heads-up", `SELECT check_kind, check_kind, count(*) FROM check_history
		WHERE state = ? AND at >= ? AND at < ? GROUP BY check_kind ORDER BY count(*) DESC, check_kind`, protocol.CheckFixed, f, t)
	if err != nil {
		return err
	}
	if err := s.r.QueryRowContext(ctx, "SELECT count(*) FROM article_feedback WHERE event = ? AND at >= ? AND at < ?",
		protocol.ArticleSolved, f, t).Scan(&rep.Articles.Solved); err != nil {
		return fmt.Errorf("articles: %w", err)
	}
	rep.Articles.Top, _, err = named("articles", `SELECT f.article_id, coalesce(max(a.title), f.article_id), count(*)
		FROM article_feedback f LEFT JOIN articles a ON a.id = f.article_id
		WHERE f.event = ? AND f.at >= ? AND f.at < ? GROUP BY f.article_id ORDER BY count(*) DESC, f.article_id LIMIT 10`,
		protocol.ArticleSolved, f, t)
	return err
}

// together runs fns at once and returns their errors joined. Each writes
// its own fields of the report.
func together(fns ...func() error) error {
	errs := make([]error, len(fns))
	var wg sync.WaitGroup
	for i, fn := range fns {
		wg.Go(func() { errs[i] = fn() })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// ClaimMeta inserts key = value unless key exists.
func (s *SQL) ClaimMeta(ctx context.Context, key, value string) (bool, error) {
	res, err := s.w.ExecContext(ctx, "INSERT INTO meta(key, value) VALUES(?, ?) ON CONFLICT (key) DO NOTHING", key, value)
	if err != nil {
		return false, fmt.Errorf("claim setting %s: %w", key, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("claim setting %s: %w", key, err)
	}
	return n == 1, nil
}

// minutes turns milliseconds into minutes, to a tenth.
func minutes(msec float64) float64 { return round1(msec / 60000) }

func round1(v float64) float64 { return math.Round(v*10) / 10 }
