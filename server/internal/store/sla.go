package store

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/deskside/deskside/shared/protocol"
)

// SLAStore is response targets: the SLA policy and the request clocks (sla.go).
type SLAStore interface {
	// SLAPolicy is the saved policy document (nil: none saved, the
	// default applies).
	SLAPolicy(ctx context.Context) ([]byte, error)
	// SetSLAPolicy saves a policy document (validated by the caller);
	// nil goes back to the default.
	SetSLAPolicy(ctx context.Context, policy []byte) error
	// SetResumeClock sets the function that moves a request's due times
	// when it stops waiting on the employee (nil: dues never move).
	SetResumeClock(fn ResumeClock)
	// ClaimSLAWarnings marks and returns the open, unpaused requests
	// whose target is due within warnBefore of now (not yet warned) or has
	// passed (not yet warned as passed). Each level of each target is
	// claimed by exactly one caller, however many nodes ask at once.
	ClaimSLAWarnings(ctx context.Context, now time.Time, warnBefore time.Duration) ([]SLAWarning, error)
	// FirstResponses are the requests created since since that got a
	// first response, newest first, at most limit: the data of the
	// employees' honest expectation.
	FirstResponses(ctx context.Context, since time.Time, limit int) ([]FirstResponse, error)
}

// ResumeClock moves r's due times later by the working time it waited on
// the employee, from r.WaitingSince to now; group is its device's
// enrolment group (which picks the team's calendar). It runs inside the
// write that ends the wait, so the move and the status change are one.
type ResumeClock func(group string, r *Request, now time.Time)

// Kinds of target (events.Target.Kind).
const (
	TargetFirstResponse = "first_response"
	TargetResolution    = "resolution"
)

// SLAWarning is one claimed warning.
type SLAWarning struct {
	Request Request // without its snapshot
	Kind    string  // TargetFirstResponse or TargetResolution
	Due     time.Time
	Overdue bool // the target has passed (else: about to)
}

// FirstResponse is how long one request waited for its first answer.
type FirstResponse struct {
	Urgency         protocol.Urgency
	Group           string // the device's enrolment group
	CreatedAt       time.Time
	FirstResponseAt time.Time
}

const slaPolicyKey = "sla.policy"

// SLAPolicy implements SLAStore.
func (s *SQL) SLAPolicy(ctx context.Context) ([]byte, error) {
	v, err := s.GetMeta(ctx, slaPolicyKey)
	if err != nil || v == "" {
		return nil, err
	}
	return []byte(v), nil
}

// SetSLAPolicy implements SLAStore.
func (s *SQL) SetSLAPolicy(ctx context.Context, policy []byte) error {
	return s.SetMeta(ctx, slaPolicyKey, string(policy))
}

// resumeHook holds a store's ResumeClock, set once the SLA clock exists
// (after the store is open) and read by every write that ends a wait.
type resumeHook struct{ fn atomic.Pointer[ResumeClock] }

// SetResumeClock implements SLAStore.
func (s *SQL) SetResumeClock(fn ResumeClock) {
	if fn == nil {
		s.resume.fn.Store(nil)
		return
	}
	s.resume.fn.Store(&fn)
}

// dueCols writes both due times; a due that moves resets its warning
// level, so a target moved by a pause is warned about afresh. Arguments:
// first-response due twice, resolution due twice. (The CASE reads the
// row's old due: SET expressions see the row as it was.)
const dueCols = `first_response_due = ?, first_response_warned = CASE WHEN first_response_due = ? THEN first_response_warned ELSE 0 END,
	resolution_due = ?, resolution_warned = CASE WHEN resolution_due = ? THEN resolution_warned ELSE 0 END`

// resumeClock runs the ResumeClock when a write takes r out of waiting on
// the employee. Why here and not in the API: the employee's own reply
// (AddUserMessage) ends the wait inside the store, and a technician's
// status change (UpdateRequest) and a reopen do too; doing it at the one
// place where every path stamps its status keeps the pause exact for all
// of them, in the same transaction as the status change.
func (s *SQL) resumeClock(ctx context.Context, tx handle, r *Request, now time.Time) error {
	if r.WaitingSince.IsZero() || r.Status == protocol.StatusWaitingOnUser {
		return nil
	}
	fn := s.resume.fn.Load()
	if fn == nil || (r.FirstResponseDue.IsZero() && r.ResolutionDue.IsZero()) {
		return nil
	}
	var grp string
	if err := tx.QueryRowContext(ctx, "SELECT grp FROM devices WHERE id = ?", r.DeviceID).Scan(&grp); err != nil {
		return fmt.Errorf("read the device's group: %w", err)
	}
	(*fn)(grp, r, now)
	return nil
}

// openStatuses are the statuses whose clock runs.
const openStatuses = "('new', 'in_progress', 'reopened')"

// ClaimSLAWarnings implements SLAStore. Each claim is one UPDATE …
// RETURNING: on PostgreSQL a second node's UPDATE waits for the first's
// row lock and then re-checks the level, finding it already raised, so it
// claims nothing; on SQLite the one writer runs them in turn.
func (s *SQL) ClaimSLAWarnings(ctx context.Context, now time.Time, warnBefore time.Duration) ([]SLAWarning, error) {
	nowMS, soonMS := ms(now), ms(now.Add(max(warnBefore, 0)))
	var out []SLAWarning
	err := s.tx(ctx, func(tx handle) error {
		out = out[:0]
		type claim struct {
			id      string
			kind    string
			due     int64
			overdue bool
		}
		var claims []claim
		for _, k := range []struct{ kind, due, warned, done string }{
			{TargetFirstResponse, "first_response_due", "first_response_warned", "first_response_at"},
			{TargetResolution, "resolution_due", "resolution_warned", "resolved_at"},
		} {
			q := fmt.Sprintf(`UPDATE requests SET %[2]s = CASE WHEN %[1]s <= ?1 THEN 2 ELSE 1 END
				WHERE status IN %[4]s AND %[3]s = 0 AND waiting_since = 0 AND %[1]s > 0
				AND ((%[2]s = 0 AND %[1]s <= ?2) OR (%[2]s < 2 AND %[1]s <= ?1))
				RETURNING id, %[1]s, %[2]s`, k.due, k.warned, k.done, openStatuses)
			rows, err := tx.QueryContext(ctx, q, nowMS, soonMS)
			if err != nil {
				return fmt.Errorf("claim %s warnings: %w", k.kind, err)
			}
			for rows.Next() {
				var c claim
				var level int
				if err := rows.Scan(&c.id, &c.due, &level); err != nil {
					rows.Close()
					return err
				}
				c.kind, c.overdue = k.kind, level == 2
				claims = append(claims, c)
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return err
			}
		}
		if len(claims) == 0 {
			return nil
		}
		ids := make([]any, len(claims))
		for i, c := range claims {
			ids[i] = c.id
		}
		rows, err := tx.QueryContext(ctx, "SELECT "+reqSummaryCols+reqFrom+" WHERE r.id IN (?"+strings.Repeat(",?", len(ids)-1)+")", ids...)
		if err != nil {
			return fmt.Errorf("read claimed requests: %w", err)
		}
		defer rows.Close()
		byID := map[string]Request{}
		for rows.Next() {
			r, err := scanRequest(rows)
			if err != nil {
				return err
			}
			byID[r.ID] = r
		}
		if err := rows.Err(); err != nil {
			return err
		}
		for _, c := range claims {
			out = append(out, SLAWarning{Request: byID[c.id], Kind: c.kind, Due: fromMS(c.due), Overdue: c.overdue})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("claim response-target warnings: %w", err)
	}
	return out, nil
}

// FirstResponses implements SLAStore.
func (s *SQL) FirstResponses(ctx context.Context, since time.Time, limit int) ([]FirstResponse, error) {
	if limit <= 0 {
		limit = 10000
	}
	rows, err := s.r.QueryContext(ctx, `SELECT r.urgency, d.grp, r.created_at, r.first_response_at`+reqFrom+`
		WHERE r.created_at >= ? AND r.first_response_at > 0 ORDER BY r.created_at DESC LIMIT ?`, ms(since), limit)
	if err != nil {
		return nil, fmt.Errorf("list first responses: %w", err)
	}
	defer rows.Close()
	var out []FirstResponse
	for rows.Next() {
		var f FirstResponse
		var created, first int64
		if err := rows.Scan(&f.Urgency, &f.Group, &created, &first); err != nil {
			return nil, fmt.Errorf("list first responses: %w", err)
		}
		f.CreatedAt, f.FirstResponseAt = fromMS(created), fromMS(first)
		out = append(out, f)
	}
	return out, rows.Err()
}
