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
	shared, err := sharedFrame(out)
	if err != nil {
		return a, nil, fmt.Errorf("announce %s: %w", a.ID, err)
	}
	var ds []Delivery
	err = s.tx(ctx, func(tx handle) error {
		ds, err = s.announceTx(ctx, tx, &a, shared)
		return err
	})
	if err != nil {
		return a, nil, fmt.Errorf("announce %s: %w", a.ID, err)
	}
	return a, ds, nil
}

func sharedFrame(out Outgoing) (*protocol.SeqFrame, error) {
	env, err := protocol.NewWithID(out.Kind, out.ID, out.Body)
	if err != nil {
		return nil, err
	}
	return protocol.NewSeqFrame(env)
}

// announceTx stores a (its Recipients set) and its target devices' outbox rows.
func (s *SQL) announceTx(ctx context.Context, tx handle, a *Announcement, shared *protocol.SeqFrame) ([]Delivery, error) {
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
	if a.Kind == "" {
		a.Kind = protocol.AnnouncementNews
	}
	var ds []Delivery
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
		return nil, err
	}
	for rows.Next() {
		d := Delivery{Shared: shared}
		if err := rows.Scan(&d.DeviceID, &d.Seq); err != nil {
			rows.Close()
			return nil, err
		}
		ds = append(ds, d)
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return nil, err
	}
	a.Recipients = len(ds)
	_, err = tx.ExecContext(ctx, `INSERT INTO announcements(id, title, text, severity, target_kind, target_value, author_id,
		author_name, created_at, expires_at, recipients, frame, kind, resolved_at, resolved_text) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`,
		a.ID, a.Title, a.Text, a.Severity, a.TargetKind, a.TargetValue, a.AuthorID, a.AuthorName, ms(a.CreatedAt), ms(a.ExpiresAt),
		a.Recipients, shared.Template(), a.Kind, ms(a.ResolvedAt), a.ResolvedText)
	if err != nil || s.d.postgres {
		return ds, err
	}
	// Same WHERE in the same write transaction: exactly the devices
	// whose next_seq was just taken, with that seq.
	_, err = tx.ExecContext(ctx, "INSERT INTO outbox(device_id, seq, frame, announcement_id, created_at) SELECT id, next_seq, "+s.d.emptyBlob+", ?, ? FROM devices"+
		where, append([]any{a.ID, ms(time.Now())}, args...)...)
	return ds, err
}

// allClearKind marks the hidden row that carries a resolved announcement's
// second frame (the all-clear): the outbox shares frames through rows of
// announcements, and lists leave these out.
const allClearKind = "all_clear"

// ResolveAnnouncement marks the announcement resolved and sends it again,
// as out makes it from the resolved announcement, to the devices it
// targets, through a hidden all-clear row ("<id>.resolved") so the
// frame is stored once and replayed like any announcement.
func (s *SQL) ResolveAnnouncement(ctx context.Context, id, text string, at time.Time, out func(a Announcement) Outgoing) (Announcement, []Delivery, error) {
	var a Announcement
	var ds []Delivery
	err := s.tx(ctx, func(tx handle) error {
		var err error
		a, err = scanAnnouncement(tx.QueryRowContext(ctx, "SELECT "+annCols+" FROM announcements a WHERE a.id = ? AND a.kind <> ?"+tx.d.lock(""), id, allClearKind))
		if err != nil {
			return notFound(err, "announcement "+id)
		}
		if !a.ResolvedAt.IsZero() {
			return fmt.Errorf("announcement %s: %w", id, ErrConflict)
		}
		a.ResolvedAt, a.ResolvedText = stamp(at), text
		if _, err := tx.ExecContext(ctx, "UPDATE announcements SET resolved_at = ?, resolved_text = ? WHERE id = ?", ms(a.ResolvedAt), text, id); err != nil {
			return err
		}
		shared, err := sharedFrame(out(a))
		if err != nil {
			return err
		}
		clear := a
		clear.ID, clear.Kind, clear.CreatedAt = id+".resolved", allClearKind, a.ResolvedAt
		ds, err = s.announceTx(ctx, tx, &clear, shared)
		return err
	})
	if err != nil {
		return a, nil, fmt.Errorf("resolve announcement %s: %w", id, err)
	}
	return a, ds, nil
}

const annCols = `a.id, a.title, a.text, a.severity, a.target_kind, a.target_value, a.author_id, a.author_name,
	a.created_at, a.expires_at, a.recipients, a.delivered, a.kind, a.resolved_at, a.resolved_text,
	(SELECT count(*) FROM announcement_metoo m WHERE m.announcement_id = a.id)`

func scanAnnouncement(row interface{ Scan(...any) error }) (Announcement, error) {
	var a Announcement
	var created, expires, resolved int64
	err := row.Scan(&a.ID, &a.Title, &a.Text, &a.Severity, &a.TargetKind, &a.TargetValue, &a.AuthorID, &a.AuthorName,
		&created, &expires, &a.Recipients, &a.Delivered, &a.Kind, &resolved, &a.ResolvedText, &a.MeToo)
	a.CreatedAt, a.ExpiresAt, a.ResolvedAt = fromMS(created), fromMS(expires), fromMS(resolved)
	return a, err
}

// ListAnnouncements returns the newest first, with their me-too counts.
func (s *SQL) ListAnnouncements(ctx context.Context) ([]Announcement, error) {
	rows, err := s.r.QueryContext(ctx, "SELECT "+annCols+" FROM announcements a WHERE a.kind <> ? ORDER BY a.created_at DESC LIMIT 200", allClearKind)
	if err != nil {
		return nil, fmt.Errorf("list announcements: %w", err)
	}
	defer rows.Close()
	out := []Announcement{}
	for rows.Next() {
		a, err := scanAnnouncement(rows)
		if err != nil {
			return nil, fmt.Errorf("list announcements: %w", err)
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// MeTooEntry is one device that said a known problem hits it too.
type MeTooEntry struct {
	DeviceID string    `json:"device_id"`
	Hostname string    `json:"hostname"`
	User     string    `json:"user"`
	At       time.Time `json:"at"`
}

// MeToo counts the device on the announcement once: a second "me too"
// from the same device (another frame) changes nothing. Result.Ref is the
// announcement id; Result.Duplicate is set for a repeated frame or device.
func (s *SQL) MeToo(ctx context.Context, frameID, deviceID, announcementID string, at time.Time) (Result, error) {
	res, err := s.deviceOp(ctx, deviceID, frameID, func(tx handle) (string, error) {
		var one int
		if err := tx.QueryRowContext(ctx, "SELECT 1 FROM announcements WHERE id = ? AND kind <> ?", announcementID, allClearKind).Scan(&one); err != nil {
			return "", notFound(err, "announcement "+announcementID)
		}
		r, err := tx.ExecContext(ctx, `INSERT INTO announcement_metoo(announcement_id, device_id, at) VALUES(?,?,?)
			ON CONFLICT DO NOTHING`, announcementID, deviceID, ms(at))
		if err != nil {
			return "", err
		}
		if n, _ := r.RowsAffected(); n == 0 {
			return announcementID, errDuplicate
		}
		return announcementID, nil
	})
	if errors.Is(err, errDuplicate) {
		return Result{Ref: announcementID, Duplicate: true}, nil
	}
	if err != nil {
		return res, fmt.Errorf("me too on %s from %s: %w", announcementID, deviceID, err)
	}
	return res, nil
}

// MeToos returns who said "me too" on the announcement, newest first.
func (s *SQL) MeToos(ctx context.Context, announcementID string) ([]MeTooEntry, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT m.device_id, coalesce(d.hostname, ''), coalesce(d.usr, ''), m.at FROM announcement_metoo m
		LEFT JOIN devices d ON d.id = m.device_id WHERE m.announcement_id = ? ORDER BY m.at DESC, m.device_id LIMIT 500`, announcementID)
	if err != nil {
		return nil, fmt.Errorf("me toos of %s: %w", announcementID, err)
	}
	defer rows.Close()
	out := []MeTooEntry{}
	for rows.Next() {
		var e MeTooEntry
		var at int64
		if err := rows.Scan(&e.DeviceID, &e.Hostname, &e.User, &at); err != nil {
			return nil, fmt.Errorf("me toos of %s: %w", announcementID, err)
		}
		e.At = fromMS(at)
		out = append(out, e)
	}
	return out, rows.Err()
}
