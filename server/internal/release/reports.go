package release

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/deskside/deskside/shared/protocol"
)

// Reports returns a release's reports (failed ones only when failedOnly),
// newest first, at most limit.
func (s *Service) Reports(ctx context.Context, releaseID string, failedOnly bool, limit int) ([]Report, error) {
	q := `SELECT release_id, device_id, from_version, to_version, ok, rolled_back, detail, at FROM release_reports WHERE release_id = ?`
	if failedOnly {
		q += ` AND ok = 0`
	}
	rows, err := s.db.QueryContext(ctx, q+` ORDER BY at DESC LIMIT ?`, releaseID, limit)
	if err != nil {
		return nil, fmt.Errorf("list reports: %w", err)
	}
	defer rows.Close()
	var out []Report
	for rows.Next() {
		var r Report
		var ok, rb int
		var at int64
		if err := rows.Scan(&r.ReleaseID, &r.DeviceID, &r.FromVersion, &r.ToVersion, &ok, &rb, &r.Detail, &at); err != nil {
			return nil, fmt.Errorf("list reports: %w", err)
		}
		r.OK, r.RolledBack, r.At = ok != 0, rb != 0, msTime(at)
		out = append(out, r)
	}
	return out, rows.Err()
}

// RecordReport stores a device's update.report. A failure (refused, or
// rolled back after the health window) halts the release at once: it is
// paused with the reason, and stays paused until an admin resumes it.
func (s *Service) RecordReport(ctx context.Context, deviceID string, rep protocol.UpdateReport) error {
	_, err := s.RecordReportOnce(ctx, deviceID, "", rep)
	return err
}

// RecordReportOnce is RecordReport for a report that arrived as a frame:
// frameID (the envelope id) makes it idempotent. A repeated frame id
// changes nothing and returns duplicate true. The report, the halt and the
// frame id commit in one transaction, so the caller may ack on nil.
func (s *Service) RecordReportOnce(ctx context.Context, deviceID, frameID string, rep protocol.UpdateReport) (duplicate bool, err error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("record report: %w", err)
	}
	defer tx.Rollback() // a no-op after Commit
	if frameID != "" {
		res, err := tx.ExecContext(ctx, `INSERT INTO release_report_frames (device_id, frame_id, at) VALUES (?,?,?)
			ON CONFLICT (device_id, frame_id) DO NOTHING`, deviceID, frameID, s.now())
		if err != nil {
			return false, fmt.Errorf("record report: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return true, nil
		}
	}
	halted, reason, err := s.recordReport(ctx, tx, deviceID, rep)
	if err != nil {
		return false, err
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("record report: commit: %w", err)
	}
	// Audit goes through the same single-writer database: only after commit.
	for _, id := range halted {
		s.log.Warn("release halted by a failed update", "release", id, "device", deviceID, "detail", rep.Detail)
		s.cfg.Audit(ctx, "device:"+deviceID, "release.halt", id, reason)
	}
	return false, nil
}

// querier is what recordReport needs of a *sql.Tx (or *sql.DB).
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// recordReport stores the report and halts the release on a failure; it
// returns the releases it halted and why.
func (s *Service) recordReport(ctx context.Context, q querier, deviceID string, rep protocol.UpdateReport) (halted []string, reason string, err error) {
	var d Device
	err = q.QueryRowContext(ctx, `SELECT os, arch FROM release_devices WHERE device_id = ?`, deviceID).Scan(&d.OS, &d.Arch)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, "", fmt.Errorf("record report: %w", err)
	}
	// The release is the newest one of that version for the device's
	// platform; with no platform on record, every release of that version.
	sel := `SELECT id FROM releases WHERE version = ?`
	args := []any{rep.ToVersion}
	if d.OS != "" {
		sel += ` AND os = ? AND arch = ?`
		args = append(args, d.OS, d.Arch)
	}
	rows, err := q.QueryContext(ctx, sel+` ORDER BY uploaded_at DESC`, args...)
	if err != nil {
		return nil, "", fmt.Errorf("record report: %w", err)
	}
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, "", fmt.Errorf("record report: %w", err)
		}
		ids = append(ids, id)
	}
	rows.Close()
	relID := ""
	if len(ids) > 0 {
		relID = ids[0]
	}
	now := s.now()
	_, err = q.ExecContext(ctx, `INSERT INTO release_reports (release_id, device_id, from_version, to_version, ok,
		rolled_back, detail, at) VALUES (?,?,?,?,?,?,?,?)`, relID, deviceID, rep.FromVersion, rep.ToVersion,
		b2i(rep.OK), b2i(rep.RolledBack), truncate(rep.Detail, 500), now)
	if err != nil {
		return nil, "", fmt.Errorf("record report: %w", err)
	}
	running := rep.FromVersion
	if rep.OK {
		running = rep.ToVersion
	}
	if _, err := q.ExecContext(ctx, `UPDATE release_devices SET version = ?, seen_at = ? WHERE device_id = ?`,
		running, now, deviceID); err != nil {
		return nil, "", fmt.Errorf("record report: %w", err)
	}
	if rep.OK {
		return nil, "", nil
	}
	if relID != "" && d.OS != "" {
		ids = ids[:1]
	}
	reason = truncate(fmt.Sprintf("halted: %s on device %s: %s", map[bool]string{true: "rolled back", false: "refused"}[rep.RolledBack], deviceID, rep.Detail), 500)
	for _, id := range ids {
		res, err := q.ExecContext(ctx, `UPDATE releases SET paused = 1, halted_reason = ? WHERE id = ? AND paused = 0`, reason, id)
		if err != nil {
			return nil, "", fmt.Errorf("halt release %s: %w", id, err)
		}
		if n, _ := res.RowsAffected(); n > 0 {
			halted = append(halted, id)
		}
	}
	return halted, reason, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "")
}
