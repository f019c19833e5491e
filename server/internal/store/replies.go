package store

import (
	"context"
	"database/sql"

	"fmt"
	"time"
)

// SavedReply is a team-wide reply a technician starts from. Body may hold
// the placeholders {{first_name}}, {{technician}} and {{device}}, which the
// console fills in before the reply is sent.
type SavedReply struct {
	ID         string    `json:"id"`
	Title      string    `json:"title"`
	Body       string    `json:"body"`
	AuthorID   string    `json:"author_id,omitempty"`
	AuthorName string    `json:"author,omitempty"`
	UpdatedAt  time.Time `json:"updated_at"`
}

// seedReplies are the five replies the console used to hard-code, stored
// by the self-help migration so a new and an upgraded server start alike.
const seedReplies = `
	INSERT INTO saved_replies(id, title, body, updated_at) VALUES
	('rep_looking', 'Looking into it', 'Hi {{first_name}}, thanks for letting us know — I''m looking into it now and will get back to you shortly.', 0),
	('rep_restart', 'Try a restart', 'Hi {{first_name}}, could you try closing the app and opening it again, then tell me if it still happens?', 0),
	('rep_check', 'Check now?', 'Hi {{first_name}}, I''ve made a change on our side. Could you check whether it works for you now?', 0),
	('rep_software', 'Software: on it', 'Hi {{first_name}}, happy to help with that software — I''ll get it set up for you properly.', 0),
	('rep_resolved', 'Resolved', 'Hi {{first_name}}, this should be sorted now. If anything is still not right, just reply here and I''ll pick it up again.', 0);`

// ListSavedReplies returns the team's saved replies by title.
func (s *SQL) ListSavedReplies(ctx context.Context) ([]SavedReply, error) {
	rows, err := s.r.QueryContext(ctx, "SELECT id, title, body, author_id, author_name, updated_at FROM saved_replies ORDER BY title, id")
	if err != nil {
		return nil, fmt.Errorf("list saved replies: %w", err)
	}
	defer rows.Close()
	out := []SavedReply{}
	for rows.Next() {
		var r SavedReply
		var at int64
		if err := rows.Scan(&r.ID, &r.Title, &r.Body, &r.AuthorID, &r.AuthorName, &at); err != nil {
			return nil, fmt.Errorf("list saved replies: %w", err)
		}
		r.UpdatedAt = fromMS(at)
		out = append(out, r)
	}
	return out, rows.Err()
}

// SaveReply creates the reply or, when its id exists, replaces it; it
// returns the reply as stored.
func (s *SQL) SaveReply(ctx context.Context, r SavedReply) (SavedReply, error) {
	r.UpdatedAt = stamp(r.UpdatedAt)
	_, err := s.w.ExecContext(ctx, `INSERT INTO saved_replies(id, title, body, author_id, author_name, updated_at) VALUES(?,?,?,?,?,?)
		ON CONFLICT(id) DO UPDATE SET title = excluded.title, body = excluded.body, author_id = excluded.author_id,
		author_name = excluded.author_name, updated_at = excluded.updated_at`, r.ID, r.Title, r.Body, r.AuthorID, r.AuthorName, ms(r.UpdatedAt))
	if err != nil {
		return r, fmt.Errorf("save reply %s: %w", r.ID, err)
	}
	return r, nil
}

// SavedReply returns one saved reply.
func (s *SQL) SavedReply(ctx context.Context, id string) (SavedReply, error) {
	var r SavedReply
	var at int64
	err := s.r.QueryRowContext(ctx, "SELECT id, title, body, author_id, author_name, updated_at FROM saved_replies WHERE id = ?", id).
		Scan(&r.ID, &r.Title, &r.Body, &r.AuthorID, &r.AuthorName, &at)
	r.UpdatedAt = fromMS(at)
	if err != nil {
		return r, notFound(err, "saved reply "+id)
	}
	return r, nil
}

// DeleteSavedReply removes a saved reply.
func (s *SQL) DeleteSavedReply(ctx context.Context, id string) error {
	res, err := s.w.ExecContext(ctx, "DELETE FROM saved_replies WHERE id = ?", id)
	if err == nil {
		if n, _ := res.RowsAffected(); n == 0 {
			err = sql.ErrNoRows
		}
	}
	if err != nil {
		return notFound(err, "delete saved reply "+id)
	}
	return nil
}
