package store

import (
	"context"
	"fmt"
	"time"
)

const techCols = "id, email, name, greeting, role, disabled, password_hash, created_at, auth_method, external_id, break_glass"

func scanTech(row interface{ Scan(...any) error }) (Technician, error) {
	var t Technician
	var created int64
	err := row.Scan(&t.ID, &t.Email, &t.Name, &t.Greeting, &t.Role, &t.Disabled, &t.PasswordHash, &created,
		&t.AuthMethod, &t.ExternalID, &t.BreakGlass)
	t.CreatedAt = fromMS(created)
	return t, err
}

// CreateTechnician stores a new technician; ErrConflict when the email is taken.
func (s *SQL) CreateTechnician(ctx context.Context, t Technician) error {
	_, err := s.w.ExecContext(ctx, "INSERT INTO technicians("+techCols+") VALUES(?,?,?,?,?,?,?,?,?,?,?)",
		t.ID, t.Email, t.Name, t.Greeting, t.Role, b2i(t.Disabled), t.PasswordHash, ms(t.CreatedAt),
		t.AuthMethod, t.ExternalID, b2i(t.BreakGlass))
	if s.isUnique(err) {
		return fmt.Errorf("create technician %s: %w", t.Email, ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("create technician %s: %w", t.Email, err)
	}
	return nil
}

// UpdateTechnician rewrites name, greeting, role, disabled, password hash,
// sign-in method, external id and the break-glass mark.
func (s *SQL) UpdateTechnician(ctx context.Context, t Technician) error {
	res, err := s.w.ExecContext(ctx, "UPDATE technicians SET name=?, greeting=?, role=?, disabled=?, password_hash=?, auth_method=?, external_id=?, break_glass=? WHERE id=?",
		t.Name, t.Greeting, t.Role, b2i(t.Disabled), t.PasswordHash, t.AuthMethod, t.ExternalID, b2i(t.BreakGlass), t.ID)
	if err != nil {
		return fmt.Errorf("update technician %s: %w", t.ID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("update technician %s: %w", t.ID, ErrNotFound)
	}
	return nil
}

// Technician returns one technician by id.
func (s *SQL) Technician(ctx context.Context, id string) (Technician, error) {
	t, err := scanTech(s.r.QueryRowContext(ctx, "SELECT "+techCols+" FROM technicians WHERE id = ?", id))
	if err != nil {
		return t, notFound(err, "technician "+id)
	}
	return t, nil
}

// TechnicianByEmail returns one technician by email (case-insensitive).
func (s *SQL) TechnicianByEmail(ctx context.Context, email string) (Technician, error) {
	t, err := scanTech(s.r.QueryRowContext(ctx, "SELECT "+techCols+" FROM technicians WHERE lower(email) = lower(?)", email))
	if err != nil {
		return t, notFound(err, "technician "+email)
	}
	return t, nil
}

// TechnicianByExternalID returns the technician single sign-on made for
// "issuer|subject".
func (s *SQL) TechnicianByExternalID(ctx context.Context, externalID string) (Technician, error) {
	if externalID == "" {
		return Technician{}, fmt.Errorf("technician by external id: %w", ErrNotFound)
	}
	t, err := scanTech(s.r.QueryRowContext(ctx, "SELECT "+techCols+" FROM technicians WHERE external_id = ?", externalID))
	if err != nil {
		return t, notFound(err, "technician "+externalID)
	}
	return t, nil
}

// ListTechnicians returns every technician by name.
func (s *SQL) ListTechnicians(ctx context.Context) ([]Technician, error) {
	rows, err := s.r.QueryContext(ctx, "SELECT "+techCols+" FROM technicians ORDER BY name")
	if err != nil {
		return nil, fmt.Errorf("list technicians: %w", err)
	}
	defer rows.Close()
	out := []Technician{}
	for rows.Next() {
		t, err := scanTech(rows)
		if err != nil {
			return nil, fmt.Errorf("list technicians: %w", err)
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// CountTechnicians counts accounts (zero means setup has not happened).
func (s *SQL) CountTechnicians(ctx context.Context) (int, error) {
	var n int
	if err := s.r.QueryRowContext(ctx, "SELECT count(*) FROM technicians").Scan(&n); err != nil {
		return 0, fmt.Errorf("count technicians: %w", err)
	}
	return n, nil
}

// CreateSession stores a session under the hash of its cookie value.
func (s *SQL) CreateSession(ctx context.Context, hash []byte, se Session) error {
	_, err := s.w.ExecContext(ctx, "INSERT INTO sessions(hash, technician_id, csrf, expires_at) VALUES(?,?,?,?)",
		hash, se.TechnicianID, se.CSRF, ms(se.ExpiresAt))
	if err != nil {
		return fmt.Errorf("create session: %w", err)
	}
	// Drop expired sessions while we are here; cheap with few technicians.
	_, _ = s.w.ExecContext(ctx, "DELETE FROM sessions WHERE expires_at < ?", ms(time.Now()))
	return nil
}

// Session returns a session by the hash of its cookie value.
func (s *SQL) Session(ctx context.Context, hash []byte) (Session, error) {
	var se Session
	var exp int64
	err := s.r.QueryRowContext(ctx, "SELECT technician_id, csrf, expires_at FROM sessions WHERE hash = ?", hash).
		Scan(&se.TechnicianID, &se.CSRF, &exp)
	if err != nil {
		return se, notFound(err, "session")
	}
	se.ExpiresAt = fromMS(exp)
	return se, nil
}

// DeleteSession signs a session out.
func (s *SQL) DeleteSession(ctx context.Context, hash []byte) error {
	if _, err := s.w.ExecContext(ctx, "DELETE FROM sessions WHERE hash = ?", hash); err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}
