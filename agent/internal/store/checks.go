package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/deskside/deskside/shared/protocol"
)

// Heads-up checks keep two meta keys: the newest policy IT sent (applied
// offline too) and the checks runner's memory (what it reported, snoozes).
const (
	metaChecksPolicy = "checks_policy"
	metaChecksState  = "checks_state"
)

// applyChecksPolicy keeps env's policy when its revision is higher than
// the kept one's (a replayed older frame changes nothing).
func applyChecksPolicy(ctx context.Context, tx *sql.Tx, env protocol.Envelope) (*protocol.ChecksPolicy, error) {
	var p protocol.ChecksPolicy
	if err := env.Decode(&p); err != nil {
		return nil, err
	}
	if cur, err := getMeta(tx, ctx, metaChecksPolicy); err == nil && cur != "" {
		var old protocol.ChecksPolicy
		if json.Unmarshal([]byte(cur), &old) == nil && old.Revision >= p.Revision {
			return nil, nil
		}
	}
	b, err := json.Marshal(p)
	if err != nil {
		return nil, fmt.Errorf("encode checks policy: %w", err)
	}
	if err := setMeta(tx, ctx, metaChecksPolicy, string(b)); err != nil {
		return nil, err
	}
	return &p, nil
}

// ChecksPolicy returns the kept heads-up policy (nil: none yet, use the
// defaults).
func (s *Store) ChecksPolicy(ctx context.Context) (*protocol.ChecksPolicy, error) {
	v, err := s.Meta(ctx, metaChecksPolicy)
	if err != nil || v == "" {
		return nil, err
	}
	var p protocol.ChecksPolicy
	if err := json.Unmarshal([]byte(v), &p); err != nil {
		return nil, fmt.Errorf("read checks policy: %w", err)
	}
	return &p, nil
}

// ChecksState is the checks runner's saved memory.
func (s *Store) ChecksState(ctx context.Context) ([]byte, error) {
	v, err := s.Meta(ctx, metaChecksState)
	return []byte(v), err
}

// SetChecksState saves the checks runner's memory.
func (s *Store) SetChecksState(ctx context.Context, b []byte) error {
	return s.SetMeta(ctx, metaChecksState, string(b))
}

// AddCheckReport queues a check.report, replacing one for the same check
// still waiting: only the newest state matters.
func (s *Store) AddCheckReport(ctx context.Context, check protocol.CheckKind, env protocol.Envelope) error {
	return s.tx(ctx, "save check report", func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM outbox WHERE kind=? AND ref=?`, protocol.KindCheckReport, string(check)); err != nil {
			return err
		}
		return enqueue(ctx, tx, env, string(check))
	})
}
