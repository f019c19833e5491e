package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/deskside/deskside/agent/agentapi"
	"github.com/deskside/deskside/shared/protocol"
)

// Item is one frame waiting in the outbox for the server's ack. ID is the
// envelope id, the idempotency key the server dedups on.
type Item struct {
	ID    string
	Kind  protocol.Kind
	Ref   string // the request or message the frame carries
	Frame []byte // the envelope's wire form, resent byte for byte
	At    time.Time
}

// Acked tells the caller what an ack settled.
type Acked struct {
	Kind protocol.Kind
	Ref  string
	// RequestID is the request the frame belongs to (for every request kind).
	RequestID string
	// Request is that request's summary as the ack left it (nil for other
	// kinds).
	Request *agentapi.Request
	// Found is false when the id was not (or no longer) in the outbox.
	Found bool
}

func enqueue(ctx context.Context, tx *sql.Tx, env protocol.Envelope, ref string) error {
	frame, err := env.Marshal()
	if err != nil {
		return fmt.Errorf("encode frame: %w", err)
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO outbox(id,kind,ref,frame,created_at) VALUES(?,?,?,?,?)`,
		env.ID, string(env.Type), ref, frame, unixMS(time.Now()))
	return err
}

// AddRequest stores a new request and its request.new frame together.
func (s *Store) AddRequest(ctx context.Context, r agentapi.Request, env protocol.Envelope) error {
	return s.tx(ctx, "save request", func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO requests(id,category,urgency,text,status,created_at,updated_at,has_screenshot)
			VALUES(?,?,?,?,?,?,?,?)`, r.ID, r.Category, r.Urgency, r.Text, r.Status, unixMS(r.CreatedAt), unixMS(r.CreatedAt), sqlBool(r.HasScreenshot))
		if err != nil {
			return err
		}
		return enqueue(ctx, tx, env, r.ID)
	})
}

// AddReply stores the user's message and its request.reply frame together.
func (s *Store) AddReply(ctx context.Context, m agentapi.Message, env protocol.Envelope) error {
	return s.tx(ctx, "save reply", func(tx *sql.Tx) error {
		if err := requestExists(ctx, tx, m.RequestID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO messages(id,request_id,from_user,text,created_at,read) VALUES(?,?,1,?,?,1)`,
			m.ID, m.RequestID, m.Text, unixMS(m.CreatedAt)); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE requests SET updated_at=? WHERE id=?`, unixMS(m.CreatedAt), m.RequestID); err != nil {
			return err
		}
		return enqueue(ctx, tx, env, m.ID)
	})
}

// AddRating stores the user's rating and its request.rate frame together.
func (s *Store) AddRating(ctx context.Context, requestID string, rating int, env protocol.Envelope) error {
	return s.tx(ctx, "save rating", func(tx *sql.Tx) error {
		if err := requestExists(ctx, tx, requestID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE requests SET rating=?, updated_at=? WHERE id=?`, rating, unixMS(time.Now()), requestID); err != nil {
			return err
		}
		return enqueue(ctx, tx, env, requestID)
	})
}

// AddReopen marks a request reopened locally and queues request.reopen.
func (s *Store) AddReopen(ctx context.Context, requestID, text string, env protocol.Envelope) error {
	return s.tx(ctx, "save reopen", func(tx *sql.Tx) error {
		if err := requestExists(ctx, tx, requestID); err != nil {
			return err
		}
		now := unixMS(time.Now())
		if _, err := tx.ExecContext(ctx, `UPDATE requests SET status=?, updated_at=? WHERE id=?`, protocol.StatusReopened, now, requestID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO history(request_id,status,text,at) VALUES(?,?,?,?)`,
			requestID, protocol.StatusReopened, "You reopened this request", now); err != nil {
			return err
		}
		return enqueue(ctx, tx, env, requestID)
	})
}

// AddSnapshot queues a snapshot frame, replacing any snapshot still
// waiting: only the newest matters.
func (s *Store) AddSnapshot(ctx context.Context, env protocol.Envelope) error {
	return s.tx(ctx, "save snapshot", func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM outbox WHERE kind=?`, protocol.KindSnapshot); err != nil {
			return err
		}
		return enqueue(ctx, tx, env, "")
	})
}

func requestExists(ctx context.Context, tx *sql.Tx, id string) error {
	var one int
	err := tx.QueryRowContext(ctx, `SELECT 1 FROM requests WHERE id=?`, id).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("request %s: %w", id, ErrNotFound)
	}
	return err
}

// Pending lists the outbox, oldest first.
func (s *Store) Pending(ctx context.Context) ([]Item, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id,kind,ref,frame,created_at FROM outbox ORDER BY seq`)
	if err != nil {
		return nil, wrap("read outbox", err)
	}
	defer rows.Close()
	var out []Item
	for rows.Next() {
		var it Item
		var at int64
		if err := rows.Scan(&it.ID, &it.Kind, &it.Ref, &it.Frame, &at); err != nil {
			return nil, wrap("read outbox", err)
		}
		it.At = fromUnixMS(at)
		out = append(out, it)
	}
	return out, wrap("read outbox", rows.Err())
}

// IsPending reports whether the frame id is still in the outbox.
func (s *Store) IsPending(ctx context.Context, id string) (bool, error) {
	var one int
	err := s.db.QueryRowContext(ctx, `SELECT 1 FROM outbox WHERE id=?`, id).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, wrap("read outbox", err)
}

// PendingCount is the number of frames awaiting an ack.
func (s *Store) PendingCount(ctx context.Context) (int, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM outbox WHERE kind<>?`, protocol.KindSnapshot).Scan(&n)
	return n, wrap("count outbox", err)
}

// Ack removes the frame id from the outbox and records what it settled: a
// request or message becomes sent; a snapshot becomes "what IT can see".
func (s *Store) Ack(ctx context.Context, id string) (Acked, error) {
	var a Acked
	err := s.tx(ctx, "ack "+id, func(tx *sql.Tx) error {
		var frame []byte
		err := tx.QueryRowContext(ctx, `SELECT kind,ref,frame FROM outbox WHERE id=?`, id).Scan(&a.Kind, &a.Ref, &frame)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		a.Found = true
		switch a.Kind {
		case protocol.KindRequestNew:
			a.RequestID = a.Ref
			_, err = tx.ExecContext(ctx, `UPDATE requests SET sent=1 WHERE id=?`, a.Ref)
		case protocol.KindRequestRate, protocol.KindRequestReopen:
			a.RequestID = a.Ref
		case protocol.KindRequestReply:
			if err = tx.QueryRowContext(ctx, `SELECT request_id FROM messages WHERE id=?`, a.Ref).Scan(&a.RequestID); err != nil {
				return err
			}
			_, err = tx.ExecContext(ctx, `UPDATE messages SET sent=1 WHERE id=?`, a.Ref)
		case protocol.KindSnapshot:
			var env protocol.Envelope
			if err = json.Unmarshal(frame, &env); err == nil {
				err = setMeta(tx, ctx, "last_snapshot", string(env.Body))
			}
		}
		if err != nil {
			return err
		}
		if _, err = tx.ExecContext(ctx, `DELETE FROM outbox WHERE id=?`, id); err != nil {
			return err
		}
		if a.RequestID != "" {
			a.Request = requestSummary(ctx, tx, a.RequestID)
		}
		return nil
	})
	return a, err
}

// Drop removes a frame the server refused for good (it would be refused
// again). The request or message stays in the local history, unsent.
func (s *Store) Drop(ctx context.Context, id string) error {
	return s.tx(ctx, "drop "+id, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM outbox WHERE id=?`, id)
		return err
	})
}

// LastSnapshot is the snapshot the server last acknowledged, or nil.
func (s *Store) LastSnapshot(ctx context.Context) (*protocol.Snapshot, error) {
	v, err := getMeta(s.db, ctx, "last_snapshot")
	if err != nil || v == "" {
		return nil, wrap("last snapshot", err)
	}
	var snap protocol.Snapshot
	if err := json.Unmarshal([]byte(v), &snap); err != nil {
		return nil, fmt.Errorf("last snapshot: %w", err)
	}
	return &snap, nil
}

// AddUpdateReport queues an update.report frame (the self-updater's word
// on an update it tried); it is on disk when this returns.
func (s *Store) AddUpdateReport(ctx context.Context, env protocol.Envelope) error {
	if env.Type != protocol.KindUpdateReport {
		return fmt.Errorf("queue update report: frame is %s", env.Type)
	}
	return s.tx(ctx, "queue update report", func(tx *sql.Tx) error {
		return enqueue(ctx, tx, env, "")
	})
}

// OldestPending returns when the oldest frame still in the outbox was
// queued; ok is false when the outbox is empty. It reads no frame bodies.
func (s *Store) OldestPending(ctx context.Context) (at time.Time, ok bool, err error) {
	var v sql.NullInt64
	if err := s.db.QueryRowContext(ctx, `SELECT min(created_at) FROM outbox`).Scan(&v); err != nil {
		return time.Time{}, false, wrap("read outbox", err)
	}
	if !v.Valid {
		return time.Time{}, false, nil
	}
	return fromUnixMS(v.Int64), true, nil
}
