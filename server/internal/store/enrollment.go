package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// CreateToken stores an enrolment token by the hash of its secret.
func (s *SQL) CreateToken(ctx context.Context, t EnrollToken, secretHash []byte) error {
	var exp any
	if t.ExpiresAt != nil {
		exp = ms(*t.ExpiresAt)
	}
	_, err := s.w.ExecContext(ctx, "INSERT INTO enroll_tokens(id, secret_hash, grp, expires_at, max_uses, created_at) VALUES(?,?,?,?,?,?)",
		t.ID, secretHash, t.Group, exp, t.MaxUses, ms(t.CreatedAt))
	if err != nil {
		return fmt.Errorf("create enrolment token: %w", err)
	}
	return nil
}

// ListTokens returns every token, newest first.
func (s *SQL) ListTokens(ctx context.Context) ([]EnrollToken, error) {
	rows, err := s.r.QueryContext(ctx, "SELECT id, grp, expires_at, max_uses, uses, revoked, created_at FROM enroll_tokens ORDER BY created_at DESC")
	if err != nil {
		return nil, fmt.Errorf("list enrolment tokens: %w", err)
	}
	defer rows.Close()
	out := []EnrollToken{}
	for rows.Next() {
		var t EnrollToken
		var exp sql.NullInt64
		var created int64
		if err := rows.Scan(&t.ID, &t.Group, &exp, &t.MaxUses, &t.Uses, &t.Revoked, &created); err != nil {
			return nil, fmt.Errorf("list enrolment tokens: %w", err)
		}
		if exp.Valid {
			e := fromMS(exp.Int64)
			t.ExpiresAt = &e
		}
		t.CreatedAt = fromMS(created)
		out = append(out, t)
	}
	return out, rows.Err()
}

// RevokeToken stops a token from enrolling more devices.
func (s *SQL) RevokeToken(ctx context.Context, id string) error {
	res, err := s.w.ExecContext(ctx, "UPDATE enroll_tokens SET revoked = 1 WHERE id = ?", id)
	if err != nil {
		return fmt.Errorf("revoke enrolment token %s: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("revoke enrolment token %s: %w", id, ErrNotFound)
	}
	return nil
}

// Enroll checks the token, spends one use and stores the device, in one
// transaction, so a single-use token cannot enrol two devices.
func (s *SQL) Enroll(ctx context.Context, tokenHash []byte, d Device, now time.Time) (Device, error) {
	err := s.tx(ctx, func(tx handle) error {
		var id string
		var exp sql.NullInt64
		var maxUses, uses int
		var revoked bool
		err := tx.QueryRowContext(ctx, "SELECT id, grp, expires_at, max_uses, uses, revoked FROM enroll_tokens WHERE secret_hash = ?"+tx.d.lock(""), tokenHash).
			Scan(&id, &d.Group, &exp, &maxUses, &uses, &revoked)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return ErrTokenUnknown
		case err != nil:
			return err
		case revoked:
			return ErrTokenRevoked
		case exp.Valid && now.UnixMilli() >= exp.Int64:
			return ErrTokenExpired
		case maxUses > 0 && uses >= maxUses:
			return ErrTokenUsedUp
		}
		if _, err := tx.ExecContext(ctx, "UPDATE enroll_tokens SET uses = uses + 1 WHERE id = ?", id); err != nil {
			return err
		}
		d.EnrolledAt = now
		_, err = tx.ExecContext(ctx, `INSERT INTO devices(id, secret_hash, hostname, usr, os, platform, arch, grp, agent_version, enrolled_at)
			VALUES(?,?,?,?,?,?,?,?,?,?)`, d.ID, d.SecretHash, d.Hostname, d.User, d.OS, d.Platform, d.Arch, d.Group, d.AgentVersion, ms(now))
		return err
	})
	if err != nil {
		return Device{}, fmt.Errorf("enrol device: %w", err)
	}
	return d, nil
}
