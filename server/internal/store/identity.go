package store

import (
	"context"
	"fmt"
)

// TakeMeta deletes a setting only if it still holds value, and reports
// whether it did: a compare-and-swap, so of several callers racing for one
// single-use secret (the setup token) exactly one wins.
func (s *SQL) TakeMeta(ctx context.Context, key, value string) (bool, error) {
	if value == "" {
		return false, nil
	}
	res, err := s.w.ExecContext(ctx, "DELETE FROM meta WHERE key = ? AND value = ?", key, value)
	if err != nil {
		return false, fmt.Errorf("take setting %s: %w", key, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("take setting %s: %w", key, err)
	}
	return n == 1, nil
}

// DeleteSessions signs a technician out everywhere except the session
// stored under except (nil: everywhere) and returns how many ended.
func (s *SQL) DeleteSessions(ctx context.Context, technicianID string, except []byte) (int, error) {
	if except == nil {
		except = []byte{}
	}
	res, err := s.w.ExecContext(ctx, "DELETE FROM sessions WHERE technician_id = ? AND hash <> ?", technicianID, except)
	if err != nil {
		return 0, fmt.Errorf("end sessions of %s: %w", technicianID, err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}
