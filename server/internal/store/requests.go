package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/deskside/deskside/shared/protocol"
)

const reqCols = `r.id, r.device_id, d.hostname, d.usr, r.category, r.urgency, r.status, r.text, r.assignee, r.rating,
	r.rating_comment, r.snapshot, r.screenshot_type, r.created_at, r.updated_at, r.first_response_due, r.resolution_due,
	r.first_response_at, r.resolved_at, r.waiting_since`

// reqSummaryCols are reqCols without the snapshot (a few KB each), for
// lists and for the request a write returns.
var reqSummaryCols = strings.Replace(reqCols, "r.snapshot", "NULL", 1)

const reqFrom = " FROM requests r JOIN devices d ON d.id = r.device_id"

func scanRequest(row interface{ Scan(...any) error }) (Request, error) {
	var r Request
	var snap []byte
	var created, updated, frDue, resDue, frAt, resAt, waiting int64
	err := row.Scan(&r.ID, &r.DeviceID, &r.Hostname, &r.User, &r.Category, &r.Urgency, &r.Status, &r.Text, &r.Assignee,
		&r.Rating, &r.RatingComment, &snap, &r.ScreenshotType, &created, &updated, &frDue, &resDue, &frAt, &resAt, &waiting)
	r.Snapshot = snap
	r.CreatedAt, r.UpdatedAt = fromMS(created), fromMS(updated)
	r.FirstResponseDue, r.ResolutionDue = optMS(frDue), optMS(resDue)
	r.FirstResponseAt, r.ResolvedAt, r.WaitingSince = optMS(frAt), optMS(resAt), optMS(waiting)
	return r, err
}

// ownRequest reads the request (without its snapshot), locked for the
// transaction, when it belongs to deviceID.
func ownRequest(ctx context.Context, tx handle, deviceID, requestID string) (Request, error) {
	r, err := scanRequest(tx.QueryRowContext(ctx, "SELECT "+reqSummaryCols+reqFrom+" WHERE r.id = ?"+tx.d.lock("r"), requestID))
	if errors.Is(err, sql.ErrNoRows) {
		return Request{}, fmt.Errorf("request %s: %w", requestID, ErrNotFound)
	}
	if err != nil {
		return Request{}, err
	}
	if r.DeviceID != deviceID {
		return Request{}, fmt.Errorf("request %s: %w", requestID, ErrForbidden)
	}
	return r, nil
}

// optMS is fromMS with 0 as the zero time (a stamp not set yet).
func optMS(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return fromMS(v)
}

// optStamp is ms with the zero time as 0.
func optStamp(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return ms(t)
}

// stamp is t as the store keeps it (milliseconds), so a request a write
// returns equals the one a later read gives.
func stamp(t time.Time) time.Time { return fromMS(ms(t)) }

// CreateRequest stores a new request with its snapshot and screenshot. The
// same request id sent again by the same device is a duplicate; by another
// device it is ErrForbidden.
func (s *SQL) CreateRequest(ctx context.Context, frameID string, r Request, screenshot []byte) (Result, error) {
	res, err := s.deviceOp(ctx, r.DeviceID, frameID, func(tx handle) (string, error) {
		if _, err := ownRequest(ctx, tx, r.DeviceID, r.ID); err == nil {
			return r.ID, errDuplicate
		} else if !errors.Is(err, ErrNotFound) {
			return "", err
		}
		var snap any
		if len(r.Snapshot) > 0 {
			snap = []byte(r.Snapshot)
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO requests(id, device_id, category, urgency, status, text, snapshot, screenshot,
			screenshot_type, created_at, updated_at, software_title, first_response_due, resolution_due) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?)`,
			r.ID, r.DeviceID, r.Category, r.Urgency, r.Status, r.Text, snap, screenshot, r.ScreenshotType, ms(r.CreatedAt), ms(r.UpdatedAt),
			r.SoftwareTitle, optStamp(r.FirstResponseDue), optStamp(r.ResolutionDue))
		if err != nil {
			return "", err
		}
		if snap != nil {
			if _, err = tx.ExecContext(ctx, "UPDATE devices SET snapshot = ? WHERE id = ?", snap, r.DeviceID); err != nil {
				return "", err
			}
		}
		if shown := cleanShown(r.ShownArticles); shown != "" {
			if _, err = tx.ExecContext(ctx, "UPDATE requests SET shown_articles = ? WHERE id = ?", shown, r.ID); err != nil {
				return "", err
			}
			err = countRequestAfter(ctx, tx, r.DeviceID, splitList(shown, " "))
		}
		return r.ID, err
	})
	if errors.Is(err, errDuplicate) {
		return Result{Ref: r.ID, Duplicate: true}, nil
	}
	if err != nil {
		return res, fmt.Errorf("create request %s: %w", r.ID, err)
	}
	return res, nil
}

// errDuplicate rolls back a device operation that would repeat one already stored.
var errDuplicate = errors.New("duplicate")

// AddUserMessage stores what the user wrote in a thread. A reply to a
// resolved request reopens it ("if it's not solved, just reply"); a reply
// while waiting on the user puts it back in progress.
func (s *SQL) AddUserMessage(ctx context.Context, frameID string, m Message) (Result, error) {
	var changed Request
	res, err := s.deviceOp(ctx, m.DeviceID, frameID, func(tx handle) (string, error) {
		r, err := ownRequest(ctx, tx, m.DeviceID, m.RequestID)
		if err != nil {
			return "", err
		}
		var exists int
		_ = tx.QueryRowContext(ctx, "SELECT 1 FROM messages WHERE id = ?", m.ID).Scan(&exists)
		if exists == 1 {
			return m.RequestID, errDuplicate
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO messages(id, request_id, device_id, author_name, from_user, text, created_at)
			VALUES(?,?,?,?,1,?,?)`, m.ID, m.RequestID, m.DeviceID, m.AuthorName, m.Text, ms(m.CreatedAt))
		if err != nil {
			return "", err
		}
		switch r.Status {
		case protocol.StatusResolved:
			r.Status = protocol.StatusReopened
		case protocol.StatusWaitingOnUser:
			r.Status = protocol.StatusInProgress
		}
		r.UpdatedAt = stamp(time.Now())
		if err := s.resumeClock(ctx, tx, &r, r.UpdatedAt); err != nil {
			return "", err
		}
		stampStatus(&r, r.UpdatedAt)
		_, err = tx.ExecContext(ctx, "UPDATE requests SET status = ?, updated_at = ?, resolved_at = ?, waiting_since = ?, "+dueCols+" WHERE id = ?",
			r.Status, ms(r.UpdatedAt), optStamp(r.ResolvedAt), optStamp(r.WaitingSince), optStamp(r.FirstResponseDue),
			optStamp(r.FirstResponseDue), optStamp(r.ResolutionDue), optStamp(r.ResolutionDue), m.RequestID)
		changed = r
		return m.RequestID, err
	})
	if errors.Is(err, errDuplicate) {
		return Result{Ref: m.RequestID, Duplicate: true}, nil
	}
	if err != nil {
		return res, fmt.Errorf("add message to %s: %w", m.RequestID, err)
	}
	if !res.Duplicate {
		res.Request = changed
	}
	return res, nil
}

// ErrNotResolved refuses a rating before the request is resolved.
var ErrNotResolved = errors.New("request is not resolved yet")

// RateRequest stores the user's satisfaction with a resolved request.
func (s *SQL) RateRequest(ctx context.Context, frameID, deviceID, requestID string, rating int, comment string) (Result, error) {
	var changed Request
	res, err := s.deviceOp(ctx, deviceID, frameID, func(tx handle) (string, error) {
		r, err := ownRequest(ctx, tx, deviceID, requestID)
		if err != nil {
			return "", err
		}
		if r.Status != protocol.StatusResolved {
			return "", ErrNotResolved
		}
		r.Rating, r.RatingComment, r.UpdatedAt = rating, comment, stamp(time.Now())
		_, err = tx.ExecContext(ctx, "UPDATE requests SET rating = ?, rating_comment = ?, updated_at = ? WHERE id = ?",
			rating, comment, ms(r.UpdatedAt), requestID)
		changed = r
		return requestID, err
	})
	if err != nil {
		return res, fmt.Errorf("rate request %s: %w", requestID, err)
	}
	if !res.Duplicate {
		res.Request = changed
	}
	return res, nil
}

// ReopenRequest reopens a request, keeping the user's word why in the thread.
func (s *SQL) ReopenRequest(ctx context.Context, frameID, deviceID, requestID, text string, at time.Time) (Result, error) {
	var changed Request
	res, err := s.deviceOp(ctx, deviceID, frameID, func(tx handle) (string, error) {
		r, err := ownRequest(ctx, tx, deviceID, requestID)
		if err != nil {
			return "", err
		}
		if text != "" {
			_, err := tx.ExecContext(ctx, `INSERT INTO messages(id, request_id, device_id, author_name, from_user, text, created_at)
				SELECT ?, ?, ?, usr, 1, ?, ? FROM devices WHERE id = ?`, "msg_"+frameID, requestID, deviceID, text, ms(at), deviceID)
			if err != nil {
				return "", err
			}
		}
		r.Status, r.UpdatedAt = protocol.StatusReopened, stamp(at)
		if err := s.resumeClock(ctx, tx, &r, r.UpdatedAt); err != nil {
			return "", err
		}
		stampStatus(&r, r.UpdatedAt)
		_, err = tx.ExecContext(ctx, "UPDATE requests SET status = ?, updated_at = ?, resolved_at = ?, waiting_since = ?, "+dueCols+" WHERE id = ?",
			r.Status, ms(r.UpdatedAt), optStamp(r.ResolvedAt), optStamp(r.WaitingSince), optStamp(r.FirstResponseDue),
			optStamp(r.FirstResponseDue), optStamp(r.ResolutionDue), optStamp(r.ResolutionDue), requestID)
		changed = r
		return requestID, err
	})
	if err != nil {
		return res, fmt.Errorf("reopen request %s: %w", requestID, err)
	}
	if !res.Duplicate {
		res.Request = changed
	}
	return res, nil
}

// Request returns one request.
func (s *SQL) Request(ctx context.Context, id string) (Request, error) {
	r, err := scanRequest(s.r.QueryRowContext(ctx, "SELECT "+reqCols+reqFrom+" WHERE r.id = ?", id))
	if err != nil {
		return r, notFound(err, "request "+id)
	}
	return r, nil
}

// ListRequests returns matching requests, newest first, without snapshots.
func (s *SQL) ListRequests(ctx context.Context, f RequestFilter) ([]Request, error) {
	q := "SELECT " + reqSummaryCols + reqFrom + " WHERE 1=1"
	var args []any
	add := func(cond, v string) {
		if v != "" {
			q += " AND " + cond
			args = append(args, v)
		}
	}
	add("r.status = ?", string(f.Status))
	add("r.category = ?", string(f.Category))
	add("r.urgency = ?", string(f.Urgency))
	add("r.device_id = ?", f.DeviceID)
	if f.Assignee == "none" {
		q += " AND r.assignee = ''"
	} else {
		add("r.assignee = ?", f.Assignee)
	}
	if f.Limit <= 0 || f.Limit > 1000 {
		f.Limit = 500
	}
	q += " ORDER BY r.created_at DESC LIMIT ?"
	args = append(args, f.Limit)
	rows, err := s.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list requests: %w", err)
	}
	defer rows.Close()
	out := []Request{}
	for rows.Next() {
		r, err := scanRequest(rows)
		if err != nil {
			return nil, fmt.Errorf("list requests: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// CountRequestsByStatus counts requests per status.
func (s *SQL) CountRequestsByStatus(ctx context.Context) (map[protocol.Status]int, error) {
	rows, err := s.r.QueryContext(ctx, "SELECT status, count(*) FROM requests GROUP BY status")
	if err != nil {
		return nil, fmt.Errorf("count requests: %w", err)
	}
	defer rows.Close()
	out := map[protocol.Status]int{}
	for rows.Next() {
		var st protocol.Status
		var n int
		if err := rows.Scan(&st, &n); err != nil {
			return nil, fmt.Errorf("count requests: %w", err)
		}
		out[st] = n
	}
	return out, rows.Err()
}

// Screenshot returns a request's screenshot; ErrNotFound when it has none.
func (s *SQL) Screenshot(ctx context.Context, requestID string) ([]byte, string, error) {
	var data []byte
	var ct string
	err := s.r.QueryRowContext(ctx, "SELECT screenshot, screenshot_type FROM requests WHERE id = ?", requestID).Scan(&data, &ct)
	if err != nil {
		return nil, "", notFound(err, "screenshot of "+requestID)
	}
	if len(data) == 0 {
		return nil, "", fmt.Errorf("screenshot of %s: %w", requestID, ErrNotFound)
	}
	return data, ct, nil
}

// Messages returns a thread, oldest first.
func (s *SQL) Messages(ctx context.Context, requestID string) ([]Message, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT id, request_id, device_id, technician_id, author_name, from_user, text, created_at
		FROM messages WHERE request_id = ? ORDER BY created_at, `+s.d.rowOrder, requestID)
	if err != nil {
		return nil, fmt.Errorf("list messages of %s: %w", requestID, err)
	}
	defer rows.Close()
	out := []Message{}
	for rows.Next() {
		var m Message
		var at int64
		if err := rows.Scan(&m.ID, &m.RequestID, &m.DeviceID, &m.TechnicianID, &m.AuthorName, &m.FromUser, &m.Text, &at); err != nil {
			return nil, fmt.Errorf("list messages of %s: %w", requestID, err)
		}
		m.CreatedAt = fromMS(at)
		out = append(out, m)
	}
	return out, rows.Err()
}

// UpdateRequest changes a request and stores the frame that tells the device.
func (s *SQL) UpdateRequest(ctx context.Context, id string, change func(r *Request) (*Outgoing, error)) (Request, *Delivery, error) {
	var r Request
	var d *Delivery
	err := s.tx(ctx, func(tx handle) error {
		var err error
		r, err = scanRequest(tx.QueryRowContext(ctx, "SELECT "+reqSummaryCols+reqFrom+" WHERE r.id = ?"+tx.d.lock("r"), id))
		if err != nil {
			return notFound(err, "request "+id)
		}
		out, err := change(&r)
		if err != nil {
			return err
		}
		r.UpdatedAt = stamp(time.Now())
		if err := s.resumeClock(ctx, tx, &r, r.UpdatedAt); err != nil {
			return err
		}
		stampStatus(&r, r.UpdatedAt)
		_, err = tx.ExecContext(ctx, `UPDATE requests SET status = ?, assignee = ?, updated_at = ?, resolved_at = ?, waiting_since = ?,
			first_response_at = ?, `+dueCols+` WHERE id = ?`,
			r.Status, r.Assignee, ms(r.UpdatedAt), optStamp(r.ResolvedAt), optStamp(r.WaitingSince), optStamp(r.FirstResponseAt),
			optStamp(r.FirstResponseDue), optStamp(r.FirstResponseDue), optStamp(r.ResolutionDue), optStamp(r.ResolutionDue), id)
		if err != nil || out == nil {
			return err
		}
		del, err := appendOutbox(ctx, tx, r.DeviceID, *out, "")
		d = &del
		return err
	})
	if err != nil {
		return r, nil, fmt.Errorf("update request %s: %w", id, err)
	}
	return r, d, nil
}

// AddTechMessage stores a technician's message and the frame that carries
// it, and returns the request as it left it (zero for a direct message).
func (s *SQL) AddTechMessage(ctx context.Context, m Message, out Outgoing) (Request, Delivery, error) {
	var r Request
	var d Delivery
	err := s.tx(ctx, func(tx handle) error {
		r = Request{}
		if m.RequestID != "" {
			var err error
			r, err = scanRequest(tx.QueryRowContext(ctx, "SELECT "+reqSummaryCols+reqFrom+" WHERE r.id = ? AND r.device_id = ?"+tx.d.lock("r"),
				m.RequestID, m.DeviceID))
			if err != nil {
				return notFound(err, "request "+m.RequestID)
			}
			r.UpdatedAt = stamp(m.CreatedAt)
			if r.FirstResponseAt.IsZero() {
				r.FirstResponseAt = r.UpdatedAt // the first answer a person got
			}
			if _, err := tx.ExecContext(ctx, "UPDATE requests SET updated_at = ?, first_response_at = ? WHERE id = ?", ms(r.UpdatedAt),
				optStamp(r.FirstResponseAt), m.RequestID); err != nil {
				return err
			}
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO messages(id, request_id, device_id, technician_id, author_name, from_user, text, created_at)
			VALUES(?,?,?,?,?,0,?,?)`, m.ID, m.RequestID, m.DeviceID, m.TechnicianID, m.AuthorName, m.Text, ms(m.CreatedAt))
		if err != nil {
			return err
		}
		d, err = appendOutbox(ctx, tx, m.DeviceID, out, "")
		return err
	})
	if err != nil {
		return Request{}, d, fmt.Errorf("add technician message: %w", err)
	}
	return r, d, nil
}

// stampStatus keeps a request's status stamps in step with its status,
// inside the write that changes it: resolving stamps resolved_at (and
// counts as a first response if none came before); waiting on the
// employee starts waiting_since, and leaving that state clears it.
func stampStatus(r *Request, at time.Time) {
	switch r.Status {
	case protocol.StatusResolved:
		if r.ResolvedAt.IsZero() {
			r.ResolvedAt = at
		}
		if r.FirstResponseAt.IsZero() {
			r.FirstResponseAt = at
		}
	case protocol.StatusReopened, protocol.StatusNew, protocol.StatusInProgress:
		r.ResolvedAt = time.Time{}
	}
	if r.Status == protocol.StatusWaitingOnUser {
		if r.WaitingSince.IsZero() {
			r.WaitingSince = at
		}
	} else {
		r.WaitingSince = time.Time{}
	}
}

// AddNote stores an internal note.
func (s *SQL) AddNote(ctx context.Context, n Note) error {
	_, err := s.w.ExecContext(ctx, "INSERT INTO notes(id, request_id, technician_id, author_name, text, created_at) VALUES(?,?,?,?,?,?)",
		n.ID, n.RequestID, n.TechnicianID, n.Author, n.Text, ms(n.CreatedAt))
	if err != nil {
		return fmt.Errorf("add note to %s: %w", n.RequestID, err)
	}
	return nil
}

// Notes returns a request's internal notes, oldest first.
func (s *SQL) Notes(ctx context.Context, requestID string) ([]Note, error) {
	rows, err := s.r.QueryContext(ctx, "SELECT id, technician_id, author_name, text, created_at FROM notes WHERE request_id = ? ORDER BY created_at, "+s.d.rowOrder, requestID)
	if err != nil {
		return nil, fmt.Errorf("list notes of %s: %w", requestID, err)
	}
	defer rows.Close()
	out := []Note{}
	for rows.Next() {
		n := Note{RequestID: requestID}
		var at int64
		if err := rows.Scan(&n.ID, &n.TechnicianID, &n.Author, &n.Text, &at); err != nil {
			return nil, fmt.Errorf("list notes of %s: %w", requestID, err)
		}
		n.CreatedAt = fromMS(at)
		out = append(out, n)
	}
	return out, rows.Err()
}
