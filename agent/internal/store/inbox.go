package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/deskside/deskside/agent/agentapi"
	"github.com/deskside/deskside/shared/protocol"
)

// Applied tells the caller what a server frame changed, for events.
type Applied struct {
	// Duplicate is true when the frame's seq was already stored.
	Duplicate    bool
	Message      *agentapi.Message
	Request      *agentapi.Request // the changed request's summary, when this computer has it
	Announcement *agentapi.Announcement
	// Resolved is true when this frame is IT's all-clear on a known
	// problem (first time only); MeToo says whether this person said "Me
	// too" on it.
	Resolved, MeToo bool
	// ChecksPolicy is a heads-up policy newer than the one kept (nil when
	// the frame was another kind or an older policy).
	ChecksPolicy *protocol.ChecksPolicy
	// SoftwareAsk is IT's new "Is it for your work?" question (nil when
	// the frame was another kind, or a title asked about before).
	SoftwareAsk *SoftwareAsk
	// SoftwareThanks is IT's thank-you or note about a title.
	SoftwareThanks *SoftwareThanks
}

// ApplyServerFrame stores a sequenced server → device frame and advances
// last_seq in the same transaction, so a crash never skips or repeats one.
func (s *Store) ApplyServerFrame(ctx context.Context, env protocol.Envelope) (Applied, error) {
	var a Applied
	err := s.tx(ctx, "store "+string(env.Type), func(tx *sql.Tx) error {
		v, err := getMeta(tx, ctx, "last_seq")
		if err != nil {
			return err
		}
		last, _ := strconv.ParseUint(v, 10, 64)
		if env.Seq != 0 && env.Seq <= last {
			a.Duplicate = true
			return nil
		}
		switch env.Type {
		case protocol.KindMessage:
			var m protocol.Message
			if err := env.Decode(&m); err != nil {
				return err
			}
			mm, err := applyMessage(ctx, tx, m)
			if err != nil {
				return err
			}
			a.Message, a.Request = mm, requestSummary(ctx, tx, m.RequestID)
		case protocol.KindRequestStatus:
			var st protocol.RequestStatus
			if err := env.Decode(&st); err != nil {
				return err
			}
			if err := applyStatus(ctx, tx, st, env.Seq); err != nil {
				return err
			}
			a.Request = requestSummary(ctx, tx, st.RequestID)
		case protocol.KindAnnouncement:
			var an protocol.Announcement
			if err := env.Decode(&an); err != nil {
				return err
			}
			author, _ := json.Marshal(an.Author)
			if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO announcements(id,title,text,severity,author,created_at,expires_at)
				VALUES(?,?,?,?,?,?,?)`, an.AnnouncementID, an.Title, an.Text, an.Severity, string(author), unixMS(an.CreatedAt), unixMS(an.ExpiresAt)); err != nil {
				return err
			}
			st, err := applyAnnouncementState(ctx, tx, an)
			if err != nil {
				return err
			}
			a.Resolved, a.MeToo = st.newlyResolved, st.meToo
			a.Announcement = &agentapi.Announcement{ID: an.AnnouncementID, Title: an.Title, Text: an.Text, Severity: an.Severity,
				Author: an.Author, CreatedAt: an.CreatedAt, ExpiresAt: an.ExpiresAt,
				Kind: an.Kind, ResolvedAt: an.ResolvedAt, ResolvedText: an.ResolvedText, MeToo: st.meToo}
		case protocol.KindChecksPolicy:
			p, err := applyChecksPolicy(ctx, tx, env)
			if err != nil {
				return err
			}
			a.ChecksPolicy = p
		case protocol.KindSoftwareAsk:
			ask, err := applySoftwareAsk(ctx, tx, env)
			if err != nil {
				return err
			}
			a.SoftwareAsk = ask
		case protocol.KindSoftwareThanks:
			th, err := applySoftwareThanks(ctx, tx, env)
			if err != nil {
				return err
			}
			a.SoftwareThanks = th
		}
		if env.Seq == 0 {
			return nil
		}
		return setMeta(tx, ctx, "last_seq", strconv.FormatUint(env.Seq, 10))
	})
	return a, err
}

// requestSummary reads request id as lists show it (no thread, no history)
// inside tx, right after a write changed it, for the event that tells the
// UI. It is nil when this computer has no such request, or when the read
// fails: the write stands either way, and the UI re-reads on its next look.
func requestSummary(ctx context.Context, tx *sql.Tx, id string) *agentapi.Request {
	r, err := scanRequest(tx.QueryRowContext(ctx, `SELECT `+requestCols+` FROM requests WHERE id=?`, id))
	if err != nil {
		return nil
	}
	return &r
}

func applyMessage(ctx context.Context, tx *sql.Tx, m protocol.Message) (*agentapi.Message, error) {
	author, _ := json.Marshal(m.Author)
	res, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO messages(id,request_id,author,from_user,text,created_at,sent,read)
		VALUES(?,?,?,?,?,?,1,0)`, m.MessageID, m.RequestID, string(author), sqlBool(m.FromUser), m.Text, unixMS(m.CreatedAt))
	if err != nil {
		return nil, err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil, nil // already had it (e.g. the user's own message echoed)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE requests SET unread=1, updated_at=max(updated_at,?) WHERE id=?`, unixMS(m.CreatedAt), m.RequestID); err != nil {
		return nil, err
	}
	return &agentapi.Message{ID: m.MessageID, RequestID: m.RequestID, Author: m.Author, FromUser: m.FromUser,
		Text: m.Text, CreatedAt: m.CreatedAt, Sent: true}, nil
}

func applyStatus(ctx context.Context, tx *sql.Tx, st protocol.RequestStatus, seq uint64) error {
	var assignee string
	if st.Assignee != nil {
		b, _ := json.Marshal(st.Assignee)
		assignee = string(b)
	}
	at := st.ChangedAt
	if at.IsZero() {
		at = time.Now()
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO history(request_id,status,assignee,text,at,seq) VALUES(?,?,?,?,?,?)`,
		st.RequestID, st.Status, assignee, st.Text, unixMS(at), seq); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, `UPDATE requests SET status=?, assignee=CASE WHEN ?='' THEN assignee ELSE ? END,
		unread=1, updated_at=max(updated_at,?) WHERE id=?`, st.Status, assignee, assignee, unixMS(at), st.RequestID)
	return err
}

const requestCols = `id,category,urgency,text,status,assignee,rating,created_at,updated_at,sent,unread,has_screenshot,
	coalesce((SELECT text FROM messages m WHERE m.request_id=requests.id ORDER BY created_at DESC LIMIT 1),''),
	EXISTS(SELECT 1 FROM messages m WHERE m.request_id=requests.id AND m.from_user=0)`

func scanRequest(sc interface{ Scan(...any) error }) (agentapi.Request, error) {
	var r agentapi.Request
	var assignee string
	var created, updated int64
	var sent, unread, shot, answered int
	if err := sc.Scan(&r.ID, &r.Category, &r.Urgency, &r.Text, &r.Status, &assignee, &r.Rating, &created, &updated,
		&sent, &unread, &shot, &r.LastText, &answered); err != nil {
		return r, err
	}
	r.CreatedAt, r.UpdatedAt = fromUnixMS(created), fromUnixMS(updated)
	r.Sent, r.Unread, r.HasScreenshot, r.Answered = sent == 1, unread == 1, shot == 1, answered == 1
	if assignee != "" {
		var p protocol.Person
		if json.Unmarshal([]byte(assignee), &p) == nil {
			r.Assignee = &p
		}
	}
	return r, nil
}

// Requests lists the user's requests, most recently updated first.
func (s *Store) Requests(ctx context.Context) ([]agentapi.Request, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+requestCols+` FROM requests ORDER BY updated_at DESC, created_at DESC`)
	if err != nil {
		return nil, wrap("list requests", err)
	}
	defer rows.Close()
	var out []agentapi.Request
	for rows.Next() {
		r, err := scanRequest(rows)
		if err != nil {
			return nil, wrap("list requests", err)
		}
		out = append(out, r)
	}
	return out, wrap("list requests", rows.Err())
}

// Request returns one request with its thread and history.
func (s *Store) Request(ctx context.Context, id string) (agentapi.Request, error) {
	r, err := scanRequest(s.db.QueryRowContext(ctx, `SELECT `+requestCols+` FROM requests WHERE id=?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return r, fmt.Errorf("request %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return r, wrap("read request", err)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT id,author,from_user,text,created_at,sent,read FROM messages WHERE request_id=? ORDER BY created_at, rowid`, id)
	if err != nil {
		return r, wrap("read thread", err)
	}
	for rows.Next() {
		m := agentapi.Message{RequestID: id}
		var author string
		var fromUser, sent, read int
		var created int64
		if err := rows.Scan(&m.ID, &author, &fromUser, &m.Text, &created, &sent, &read); err != nil {
			rows.Close()
			return r, wrap("read thread", err)
		}
		if author != "" {
			_ = json.Unmarshal([]byte(author), &m.Author)
		}
		m.FromUser, m.Sent, m.Read, m.CreatedAt = fromUser == 1, sent == 1, read == 1, fromUnixMS(created)
		r.Messages = append(r.Messages, m)
	}
	rows.Close()
	hrows, err := s.db.QueryContext(ctx, `SELECT status,assignee,text,at FROM history WHERE request_id=? ORDER BY at, rowid`, id)
	if err != nil {
		return r, wrap("read history", err)
	}
	defer hrows.Close()
	for hrows.Next() {
		var h agentapi.StatusEvent
		var assignee string
		var at int64
		if err := hrows.Scan(&h.Status, &assignee, &h.Text, &at); err != nil {
			return r, wrap("read history", err)
		}
		if assignee != "" {
			var p protocol.Person
			if json.Unmarshal([]byte(assignee), &p) == nil {
				h.Assignee = &p
			}
		}
		h.At = fromUnixMS(at)
		r.History = append(r.History, h)
	}
	return r, wrap("read history", hrows.Err())
}

// MarkRead clears the unread flag of a request and its messages.
func (s *Store) MarkRead(ctx context.Context, id string) error {
	return s.tx(ctx, "mark read", func(tx *sql.Tx) error {
		if err := requestExists(ctx, tx, id); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE requests SET unread=0 WHERE id=?`, id); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `UPDATE messages SET read=1 WHERE request_id=?`, id)
		return err
	})
}

// Announcements lists announcements, newest first.
func (s *Store) Announcements(ctx context.Context) ([]agentapi.Announcement, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT a.id,a.title,a.text,a.severity,a.author,a.created_at,a.expires_at,a.read,
		coalesce(s.kind,''),coalesce(s.resolved_at,0),coalesce(s.resolved_text,''),coalesce(s.metoo_at,0)
		FROM announcements a LEFT JOIN announcement_state s ON s.id=a.id ORDER BY a.created_at DESC`)
	if err != nil {
		return nil, wrap("list announcements", err)
	}
	defer rows.Close()
	var out []agentapi.Announcement
	for rows.Next() {
		var a agentapi.Announcement
		var author string
		var created, expires int64
		var read int
		var resolved, metoo int64
		if err := rows.Scan(&a.ID, &a.Title, &a.Text, &a.Severity, &author, &created, &expires, &read,
			&a.Kind, &resolved, &a.ResolvedText, &metoo); err != nil {
			return nil, wrap("list announcements", err)
		}
		a.ResolvedAt, a.MeToo = fromUnixMS(resolved), metoo != 0
		_ = json.Unmarshal([]byte(author), &a.Author)
		a.CreatedAt, a.ExpiresAt, a.Read = fromUnixMS(created), fromUnixMS(expires), read == 1
		out = append(out, a)
	}
	return out, wrap("list announcements", rows.Err())
}

// MarkAnnouncementRead marks one announcement read.
func (s *Store) MarkAnnouncementRead(ctx context.Context, id string) error {
	return s.tx(ctx, "mark announcement read", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE announcements SET read=1 WHERE id=?`, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("announcement %s: %w", id, ErrNotFound)
		}
		return nil
	})
}

// Unread counts unread requests and announcements.
func (s *Store) Unread(ctx context.Context) (int, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM requests WHERE unread=1) + (SELECT count(*) FROM announcements WHERE read=0)`).Scan(&n)
	return n, wrap("count unread", err)
}

// AddLocalAnnouncement stores a note from the agent itself (not from IT),
// such as "Deskside updated itself", so it shows in News like any other;
// false when an announcement with that id exists already.
func (s *Store) AddLocalAnnouncement(ctx context.Context, a agentapi.Announcement) (bool, error) {
	var added bool
	err := s.tx(ctx, "save local announcement", func(tx *sql.Tx) error {
		author, _ := json.Marshal(a.Author)
		res, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO announcements(id,title,text,severity,author,created_at,expires_at)
			VALUES(?,?,?,?,?,?,?)`, a.ID, a.Title, a.Text, a.Severity, string(author), unixMS(a.CreatedAt), unixMS(a.ExpiresAt))
		if err != nil {
			return err
		}
		n, _ := res.RowsAffected()
		added = n == 1
		return nil
	})
	return added, err
}
