package release

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

const releaseCols = `id, version, os, arch, channel, rollback, sha256, size, created_at, uploaded_at, uploaded_by,
	percent, paused, halted_reason`

func scanRelease(row interface{ Scan(...any) error }) (Release, error) {
	var r Release
	var rollback, paused int
	var created, uploaded int64
	err := row.Scan(&r.ID, &r.Version, &r.OS, &r.Arch, &r.Channel, &rollback, &r.SHA256, &r.Size,
		&created, &uploaded, &r.UploadedBy, &r.Percent, &paused, &r.HaltedReason)
	r.Rollback, r.Paused = rollback != 0, paused != 0
	r.Created, r.Uploaded = msTime(created), msTime(uploaded)
	return r, err
}

// Get returns one release with its progress.
func (s *Service) Get(ctx context.Context, id string) (Release, error) {
	r, err := scanRelease(s.db.QueryRowContext(ctx, `SELECT `+releaseCols+` FROM releases WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Release{}, ErrNotFound
	}
	if err != nil {
		return Release{}, fmt.Errorf("get release %s: %w", id, err)
	}
	return r, s.progress(ctx, &r)
}

// List returns every release, newest upload first, with progress.
func (s *Service) List(ctx context.Context) ([]Release, error) {
	rels, err := s.all(ctx)
	if err != nil {
		return nil, err
	}
	for i := range rels {
		if err := s.progress(ctx, &rels[i]); err != nil {
			return nil, err
		}
	}
	return rels, nil
}

func (s *Service) all(ctx context.Context) ([]Release, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+releaseCols+` FROM releases ORDER BY uploaded_at DESC, id`)
	if err != nil {
		return nil, fmt.Errorf("list releases: %w", err)
	}
	defer rows.Close()
	var out []Release
	for rows.Next() {
		r, err := scanRelease(rows)
		if err != nil {
			return nil, fmt.Errorf("list releases: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

func (s *Service) progress(ctx context.Context, r *Release) error {
	err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM release_devices WHERE version = ? AND os = ? AND arch = ?`,
		r.Version, r.OS, r.Arch).Scan(&r.Devices)
	if err != nil {
		return fmt.Errorf("count devices: %w", err)
	}
	err = s.db.QueryRowContext(ctx, `SELECT COALESCE(SUM(ok), 0), COALESCE(SUM(1 - ok), 0) FROM release_reports WHERE release_id = ?`,
		r.ID).Scan(&r.Updated, &r.Failed)
	if err != nil {
		return fmt.Errorf("count reports: %w", err)
	}
	return nil
}

// Versions counts devices per version and platform, most devices first.
func (s *Service) Versions(ctx context.Context) ([]VersionCount, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT version, os, arch, COUNT(*) FROM release_devices
		GROUP BY version, os, arch ORDER BY COUNT(*) DESC, version DESC`)
	if err != nil {
		return nil, fmt.Errorf("count versions: %w", err)
	}
	defer rows.Close()
	var out []VersionCount
	for rows.Next() {
		var v VersionCount
		if err := rows.Scan(&v.Version, &v.OS, &v.Arch, &v.Devices); err != nil {
			return nil, fmt.Errorf("count versions: %w", err)
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// SetRollout changes the percentage and/or pauses or resumes a release.
// Resuming clears a halt. Widening the rollout offers it to connected
// devices at once (when Connected and Send are wired).
func (s *Service) SetRollout(ctx context.Context, id string, percent *int, paused *bool, actor string) (Release, error) {
	before, err := s.Get(ctx, id)
	if err != nil {
		return Release{}, err
	}
	after := before
	if percent != nil {
		if *percent < 0 || *percent > 100 {
			return Release{}, fmt.Errorf("percent %d is outside 0..100", *percent)
		}
		after.Percent = *percent
	}
	if paused != nil {
		after.Paused = *paused
		if !*paused {
			after.HaltedReason = ""
		}
	}
	_, err = s.db.ExecContext(ctx, `UPDATE releases SET percent = ?, paused = ?, halted_reason = ? WHERE id = ?`,
		after.Percent, b2i(after.Paused), after.HaltedReason, id)
	if err != nil {
		return Release{}, fmt.Errorf("set rollout of %s: %w", id, err)
	}
	s.cfg.Audit(ctx, actor, "release.rollout", id, fmt.Sprintf("percent %d→%d paused %t→%t", before.Percent, after.Percent, before.Paused, after.Paused))
	if !after.Paused && (after.Percent > before.Percent || before.Paused) {
		go s.nudgeConnected(context.WithoutCancel(ctx))
	}
	return s.Get(ctx, id)
}
