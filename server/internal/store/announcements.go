package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/deskside/deskside/shared/protocol"
)

// Announce stores the announcement with its frame once, then gives every
// target device the next seq and a frameless outbox row pointing at it, in
// two set-based statements (not two statements per device).
func (s *SQL) Announce(ctx context.Context, a Announcement, out Outgoing) (Announcement, []Delivery, error) {
	env, err := protocol.NewWithID(out.Kind, out.ID, out.Body)
	if err != nil {
		return a, nil, fmt.Errorf("announce %s: %w", a.ID, err)
	}
	shared, err := protocol.NewSeqFrame(env)
	if err != nil {
		return a, nil, fmt.Errorf("announce %s: %w", a.ID, err)
	}
	where := " WHERE revoked = 0"
	var args []any
	switch a.TargetKind {
	case "group":
		where += " AND grp = ?"
		args = append(args, a.TargetValue)
	case "os":
		where += " AND os = ?"
		args = append(args, a.TargetValue)
	}
	var ds []Delivery
	err = s.tx(ctx, func(tx handle) error {
		ds = nil
		q, qargs := "UPDATE devices SET next_seq = next_seq + 1"+where+" RETURNING id, next_seq", args
		if s.d.postgres {
			// Read committed: a second statement could see a device that
			// matched only after the UPDATE (enrolled or changed meanwhile),
			// so the outbox rows come from the UPDATE's own RETURNING.
			q = pgAnnounceSeqs(where)
			qargs = append(append([]any(nil), args...), a.ID, ms(time.Now()))
		}
		rows, err := tx.QueryContext(ctx, q, qargs...)
		if err != nil {
			return err
		}
		for rows.Next() {
			d := Delivery{Shared: shared}
			if err := rows.Scan(&d.DeviceID, &d.Seq); err != nil {
				rows.Close()
				return err
			}
			ds = append(ds, d)
		}
		if err := errors.Join(rows.Err(), rows.Close()); err != nil {
			return err
		}
		a.Recipients = len(ds)
		_, err = tx.ExecContext(ctx, `INSERT INTO announcements(id, title, text, severity, target_kind, target_value, author_id,
			author_name, created_at, expires_at, recipients, frame) VALUES(?,?,?,?,?,?,?,?,?,?,?,?)`, a.ID, a.Title, a.Text, a.Severity,
			a.TargetKind, a.TargetValue, a.AuthorID, a.AuthorName, ms(a.CreatedAt), ms(a.ExpiresAt), a.Recipients, shared.Template())
		if err != nil || s.d.postgres {
			return err
		}
		// Same WHERE in the same write transaction: exactly the devices
		// whose next_seq was just taken, with that seq.
		_, err = tx.ExecContext(ctx, "INSERT INTO outbox(device_id, seq, frame, announcement_id, created_at) SELECT id, next_seq, "+s.d.emptyBlob+", ?, ? FROM devices"+
			where, append([]any{a.ID, ms(time.Now())}, args...)...)
		return err
	})
	if err != nil {
		return a, nil, fmt.Errorf("announce %s: %w", a.ID, err)
	}
	return a, ds, nil
}

// ListAnnouncements returns the newest first.
func (s *SQL) ListAnnouncements(ctx context.Context) ([]Announcement, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT id, title, text, severity, target_kind, target_value, author_id, author_name,
		created_at, expires_at, recipients, delivered FROM announcements ORDER BY created_at DESC LIMIT 200`)
	if err != nil {
		return nil, fmt.Errorf("list announcements: %w", err)
	}
	defer rows.Close()
	out := []Announcement{}
	for rows.Next() {
		var a Announcement
		var created, expires int64
		if err := rows.Scan(&a.ID, &a.Title, &a.Text, &a.Severity, &a.TargetKind, &a.TargetValue, &a.AuthorID, &a.AuthorName,
			&created, &expires, &a.Recipients, &a.Delivered); err != nil {
			return nil, fmt.Errorf("list announcements: %w", err)
		}
		a.CreatedAt, a.ExpiresAt = fromMS(created), fromMS(expires)
		out = append(out, a)
	}
	return out, rows.Err()
}
