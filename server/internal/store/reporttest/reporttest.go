// Package reporttest seeds a month's worth (or a million) of help requests
// with plain SQL for the Reports page's tests, benchmarks and screenshots:
// realistic kinds, working hours, answers, targets and ratings.
package reporttest

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"time"
)

// DB is what the seeder needs of a store (store.SQL has both).
type DB interface {
	DB() *sql.DB
	Rebind(query string) string
}

// Options say what to seed. Requests are created at random in [From, To),
// mostly on weekdays in working hours of Loc.
type Options struct {
	Requests int
	Devices  int // enrolled first; 0: 200
	From, To time.Time
	Loc      *time.Location // nil: UTC
	Seed     uint64
	// Now: stamps after it are left unset (the request is still open);
	// zero: To.
	Now time.Time
	// Articles are article ids that solved someone's question; with
	// SelfService, feedback, heads-up fixes and software are seeded too.
	Articles    []string
	SelfService bool
}

const batch = 500 // rows per INSERT: 15 columns × 500 stays under SQLite's 32,766 parameters

var comments = []string{
	"Rob fixed it in five minutes, thank you!", "Quick and kind.", "Took a while, but it works now.",
	"I had to ask twice.", "Lovely, the printer finally prints.", "Still a bit slow, but better.",
	"Great help with the VPN.", "Nobody answered for a day.", "Friendly and clear, thanks Ana.",
	"=SUM(A1:A9) looks like a formula but is just my comment",
}

// Seed inserts the devices and requests in one transaction (bulk INSERTs).
func Seed(ctx context.Context, db DB, o Options) error {
	if o.Devices == 0 {
		o.Devices = 200
	}
	if o.Loc == nil {
		o.Loc = time.UTC
	}
	if o.Now.IsZero() {
		o.Now = o.To
	}
	rng := rand.New(rand.NewPCG(o.Seed, 17))
	tx, err := db.DB().BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("seed requests: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // after Commit it is a no-op
	insert := func(table, cols string, n int, row func(i int) []any) error {
		width := strings.Count(cols, ",") + 1
		one := "(" + strings.TrimSuffix(strings.Repeat("?,", width), ",") + ")"
		for start := 0; start < n; start += batch {
			k := min(batch, n-start)
			args := make([]any, 0, k*width)
			for i := start; i < start+k; i++ {
				args = append(args, row(i)...)
			}
			q := "INSERT INTO " + table + "(" + cols + ") VALUES " + strings.TrimSuffix(strings.Repeat(one+",", k), ",")
			if _, err := tx.ExecContext(ctx, db.Rebind(q), args...); err != nil {
				return fmt.Errorf("seed %s: %w", table, err)
			}
		}
		return nil
	}
	enrolled := o.From.Add(-24 * time.Hour).UnixMilli()
	if err := insert("devices", "id, secret_hash, hostname, usr, os, enrolled_at", o.Devices, func(i int) []any {
		return []any{fmt.Sprintf("dev_%05d", i), []byte("x"), fmt.Sprintf("desk-%05d", i), fmt.Sprintf("person%d", i), "windows", enrolled}
	}); err != nil {
		return err
	}
	span := o.To.Sub(o.From)
	now := o.Now.UnixMilli()
	stampAt := func(created int64, minutes float64) int64 {
		at := created + int64(minutes*60000)
		if at > now {
			return 0
		}
		return at
	}
	err = insert("requests", `id, device_id, category, urgency, status, text, created_at, updated_at, first_response_at,
		resolved_at, first_response_due, resolution_due, rating, rating_comment, assignee`, o.Requests, func(i int) []any {
		created := workingTime(rng, o.From, span, o.Loc).UnixMilli()
		kind := pick(rng, []string{"problem", "problem", "problem", "question", "question", "software", "software", "idea"})
		urgency := "when_you_can"
		frDueMin, resDueMin := 240.0, 2*24*60.0
		if kind != "idea" && rng.IntN(4) == 0 {
			urgency, frDueMin, resDueMin = "blocking", 30, 4*60
		}
		// Log-normal times: most quick, a long tail.
		fr := math.Exp(math.Log(frDueMin/3) + rng.NormFloat64()*0.9)
		res := fr + math.Exp(math.Log(resDueMin/4)+rng.NormFloat64()*1.0)
		frAt, resAt := stampAt(created, fr), stampAt(created, res)
		status := "resolved"
		switch {
		case frAt == 0:
			status = "new"
		case resAt == 0:
			status = "in_progress"
		}
		rating, comment := 0, ""
		if resAt != 0 && rng.IntN(10) < 6 {
			rating = pick(rng, []int{5, 5, 5, 5, 4, 4, 4, 3, 2, 1})
			if rng.IntN(8) == 0 {
				comment = pick(rng, comments)
			}
		}
		return []any{fmt.Sprintf("req_%07d", i), fmt.Sprintf("dev_%05d", rng.IntN(o.Devices)), kind, urgency, status,
			"Something is not working", created, created, frAt, resAt, created + int64(frDueMin*60000),
			created + int64(resDueMin*60000), rating, comment, ""}
	})
	if err != nil {
		return err
	}
	if o.SelfService {
		if err := seedSelfService(ctx, tx, db, rng, o); err != nil {
			return err
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("seed requests: %w", err)
	}
	// On PostgreSQL, fresh statistics and a visibility map (index-only
	// scans), as autovacuum gives a server that has run for a while. SQLite
	// is left without statistics, as the server leaves it.
	if db.Rebind("?") != "?" {
		if _, err := db.DB().ExecContext(ctx, "VACUUM ANALYZE requests"); err != nil {
			return fmt.Errorf("seed requests: analyze: %w", err)
		}
	}
	return nil
}

func seedSelfService(ctx context.Context, tx *sql.Tx, db DB, rng *rand.Rand, o Options) error {
	at := func() int64 { return workingTime(rng, o.From, o.To.Sub(o.From), o.Loc).UnixMilli() }
	exec := func(q string, args ...any) error {
		_, err := tx.ExecContext(ctx, db.Rebind(q), args...)
		return err
	}
	for i, name := range []string{"Figma", "Notion", "Zoom", "Miro", "Spotify"} {
		came := int64(0)
		if i < 4 {
			came = at()
		}
		id := fmt.Sprintf("sw_seed%02d", i)
		if err := exec("INSERT INTO software_titles(id, name, source, first_seen, last_seen, came_in_at, status) VALUES(?,?,?,?,?,?,?)",
			id, name, "apps", o.From.UnixMilli(), o.From.UnixMilli(), came, "approved"); err != nil {
			return fmt.Errorf("seed software: %w", err)
		}
		for d := 0; d < 3+i; d++ {
			if err := exec("INSERT INTO software_answers(title_id, device_id, answer, at) VALUES(?,?,?,?)",
				id, fmt.Sprintf("dev_%05d", d), "work", at()); err != nil {
				return fmt.Errorf("seed software answers: %w", err)
			}
		}
	}
	for i, kind := range []string{"disk_space", "disk_space", "os_updates", "disk_space", "antivirus", "os_updates", "disk_space"} {
		for k := 0; k <= i; k++ {
			if err := exec("INSERT INTO check_history(device_id, check_kind, state, at) VALUES(?,?,?,?)",
				fmt.Sprintf("dev_%05d", k), kind, "fixed", at()); err != nil {
				return fmt.Errorf("seed heads-up: %w", err)
			}
		}
	}
	for i, id := range o.Articles {
		for k := 0; k < 3*(len(o.Articles)-i)+rng.IntN(4); k++ {
			if err := exec("INSERT INTO article_feedback(device_id, article_id, event, at) VALUES(?,?,?,?)",
				fmt.Sprintf("dev_%05d", k), id, "solved", at()); err != nil {
				return fmt.Errorf("seed article feedback: %w", err)
			}
		}
	}
	return nil
}

// workingTime is a moment in [from, from+span): four in five on a weekday
// between 8:00 and 18:00 in loc, peaking mid-morning; the rest anywhere.
func workingTime(rng *rand.Rand, from time.Time, span time.Duration, loc *time.Location) time.Time {
	for range 20 {
		t := from.Add(time.Duration(rng.Int64N(int64(span)))).In(loc)
		if rng.IntN(5) == 0 {
			return t
		}
		if wd := t.Weekday(); wd == time.Saturday || wd == time.Sunday {
			continue
		}
		h := 8 + int(math.Abs(rng.NormFloat64()*2.5)+rng.Float64()*4)%10
		day := time.Date(t.Year(), t.Month(), t.Day(), h, rng.IntN(60), rng.IntN(60), 0, loc)
		if !day.Before(from) && day.Before(from.Add(span)) {
			return day
		}
	}
	return from.Add(time.Duration(rng.Int64N(int64(span))))
}

func pick[T any](rng *rand.Rand, xs []T) T { return xs[rng.IntN(len(xs))] }
