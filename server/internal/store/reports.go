package store

import (
	"context"
	"errors"
	"fmt"
	"math"
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

// MonthReport aggregates in SQL: one pass over the month's rows of the
// covering index requests_report for the counts, one per zone offset for
// the hours, and two index probes per percentile (see percentiles).
func (s *SQL) MonthReport(ctx context.Context, from, to time.Time, loc *time.Location) (Report, error) {
	if loc == nil {
		loc = time.UTC
	}
	rep := Report{From: from, To: to, TimeZone: loc.String(), ByKind: []KindCount{}}
	rep.Satisfaction.Comments = []RatedComment{}
	rep.HeadsUp.ByCheck, rep.Articles.Top = []NamedCount{}, []NamedCount{}
	f, t, now := ms(from), ms(to), ms(time.Now())
	steps := []func() error{
		func() error { return s.reportCounts(ctx, &rep, f, t, now) },
		func() error { return s.reportHours(ctx, &rep, from, to, loc) },
		func() error {
			var err error
			rep.FirstResponse, err = s.percentiles(ctx, "first_response_at", f, t)
			return err
		},
		func() error {
			var err error
			rep.Resolution, err = s.percentiles(ctx, "resolved_at", f, t)
			return err
		},
		func() error { return s.reportComments(ctx, &rep, f, t) },
		func() error { return s.reportSelfService(ctx, &rep, f, t) },
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return Report{}, fmt.Errorf("month report %s: %w", from.In(loc).Format("2006-01"), err)
		}
	}
	return rep, nil
}

func (s *SQL) reportCounts(ctx context.Context, rep *Report, f, t, now int64) error {
	rows, err := s.r.QueryContext(ctx, `SELECT category, urgency, count(*),
		sum(CASE WHEN first_response_due > 0 THEN 1 ELSE 0 END),
		sum(CASE WHEN first_response_due > 0 AND first_response_at > 0 AND first_response_at <= first_response_due THEN 1 ELSE 0 END),
		sum(CASE WHEN first_response_due > 0 AND (first_response_at > first_response_due
			OR (first_response_at = 0 AND first_response_due < ?)) THEN 1 ELSE 0 END),
		sum(CASE WHEN resolution_due > 0 THEN 1 ELSE 0 END),
		sum(CASE WHEN resolution_due > 0 AND resolved_at > 0 AND resolved_at <= resolution_due THEN 1 ELSE 0 END),
		sum(CASE WHEN resolution_due > 0 AND (resolved_at > resolution_due
			OR (resolved_at = 0 AND resolution_due < ?)) THEN 1 ELSE 0 END),
		sum(CASE WHEN rating = 1 THEN 1 ELSE 0 END), sum(CASE WHEN rating = 2 THEN 1 ELSE 0 END),
		sum(CASE WHEN rating = 3 THEN 1 ELSE 0 END), sum(CASE WHEN rating = 4 THEN 1 ELSE 0 END),
		sum(CASE WHEN rating = 5 THEN 1 ELSE 0 END)
		FROM requests WHERE created_at >= ? AND created_at < ? GROUP BY category, urgency ORDER BY category, urgency`,
		now, now, f, t)
	if err != nil {
		return fmt.Errorf("counts: %w", err)
	}
	defer rows.Close()
	fr, res := &rep.Targets.FirstResponse, &rep.Targets.Resolution
	for rows.Next() {
		var k KindCount
		var frWith, frMet, frMissed, resWith, resMet, resMissed int
		var d [5]int
		if err := rows.Scan(&k.Kind, &k.Urgency, &k.Count, &frWith, &frMet, &frMissed, &resWith, &resMet, &resMissed,
			&d[0], &d[1], &d[2], &d[3], &d[4]); err != nil {
			return fmt.Errorf("counts: %w", err)
		}
		rep.ByKind = append(rep.ByKind, k)
		rep.Requests += k.Count
		fr.WithTarget, fr.Met, fr.Missed = fr.WithTarget+frWith, fr.Met+frMet, fr.Missed+frMissed
		res.WithTarget, res.Met, res.Missed = res.WithTarget+resWith, res.Met+resMet, res.Missed+resMissed
		for i, n := range d {
			rep.Satisfaction.Distribution[i] += n
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("counts: %w", err)
	}
	for _, tf := range []*TargetFigure{fr, res} {
		tf.Pending = tf.WithTarget - tf.Met - tf.Missed
		if done := tf.Met + tf.Missed; done > 0 {
			tf.Percent = round1(100 * float64(tf.Met) / float64(done))
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
	return nil
}

// reportHours buckets by hour and weekday in loc with integer arithmetic
// in SQL, one query per stretch of constant UTC offset (a month has at
// most a few: daylight saving time), so no time-zone database is needed
// in the database.
func (s *SQL) reportHours(ctx context.Context, rep *Report, from, to time.Time, loc *time.Location) error {
	for at := from; at.Before(to); {
		_, offset := at.In(loc).Zone()
		_, end := at.In(loc).ZoneBounds()
		if end.IsZero() || end.After(to) {
			end = to
		}
		if !end.After(at) { // never loop on a zone that reports no end
			end = to
		}
		off := int64(offset) * 1000
		// 1970-01-01 was a Thursday (weekday 4).
		rows, err := s.r.QueryContext(ctx, `SELECT ((created_at + ?) / 86400000 + 4) % 7, ((created_at + ?) / 3600000) % 24, count(*)
			FROM requests WHERE created_at >= ? AND created_at < ? GROUP BY 1, 2`, off, off, ms(at), ms(end))
		if err != nil {
			return fmt.Errorf("hours: %w", err)
		}
		for rows.Next() {
			var wd, h, n int
			if err := rows.Scan(&wd, &h, &n); err != nil {
				rows.Close()
				return fmt.Errorf("hours: %w", err)
			}
			if wd >= 0 && wd < 7 && h >= 0 && h < 24 {
				rep.Hours[wd][h] += n
			}
		}
		if err := errors.Join(rows.Err(), rows.Close()); err != nil {
			return fmt.Errorf("hours: %w", err)
		}
		at = end
	}
	return nil
}

// percentiles computes the median and 90th percentile of col - created_at
// over the month's requests that have col. PostgreSQL has percentile_cont;
// SQLite walks the partial expression index on (col - created_at) in order
// to the two ranks around each percentile (LIMIT 2 OFFSET n), skipping
// other months by the index's second column without touching the table.
func (s *SQL) percentiles(ctx context.Context, col string, f, t int64) (Durations, error) {
	var d Durations
	if s.d.postgres {
		var med, p90 *float64
		err := s.r.QueryRowContext(ctx, `SELECT count(*), percentile_cont(0.5) WITHIN GROUP (ORDER BY `+col+` - created_at),
			percentile_cont(0.9) WITHIN GROUP (ORDER BY `+col+` - created_at)
			FROM requests WHERE created_at >= ? AND created_at < ? AND `+col+` > 0`, f, t).Scan(&d.Count, &med, &p90)
		if err != nil {
			return d, fmt.Errorf("%s percentiles: %w", col, err)
		}
		if med != nil && p90 != nil {
			d.MedianMinutes, d.P90Minutes = minutes(*med), minutes(*p90)
		}
		return d, nil
	}
	index := map[string]string{"first_response_at": "requests_first_response", "resolved_at": "requests_resolution"}[col]
	if err := s.r.QueryRowContext(ctx, `SELECT count(*) FROM requests INDEXED BY `+index+`
		WHERE `+col+` > 0 AND created_at >= ? AND created_at < ?`, f, t).Scan(&d.Count); err != nil {
		return d, fmt.Errorf("%s count: %w", col, err)
	}
	if d.Count == 0 {
		return d, nil
	}
	at := func(p float64) (float64, error) {
		pos := p * float64(d.Count-1)
		lo := int64(math.Floor(pos))
		rows, err := s.r.QueryContext(ctx, `SELECT `+col+` - created_at FROM requests INDEXED BY `+index+`
			WHERE `+col+` > 0 AND created_at >= ? AND created_at < ? ORDER BY `+col+` - created_at LIMIT 2 OFFSET ?`, f, t, lo)
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
		switch len(v) {
		case 0:
			return 0, fmt.Errorf("no row at rank %d of %d", lo, d.Count)
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
