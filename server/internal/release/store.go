package release

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/deskside/deskside/shared/protocol"
	srel "github.com/deskside/deskside/shared/release"
)

// Upload verifies manifest and signature with the publisher key, streams the
// binary to disk checking size and SHA-256 against the manifest, and stores
// the release at 0 % (nothing is offered until an admin sets a percentage).
func (s *Service) Upload(ctx context.Context, manifest, signature []byte, binary io.Reader, actor string) (Release, error) {
	m, err := srel.Verify(s.keys, manifest, signature)
	if err != nil {
		return Release{}, fmt.Errorf("upload: %w", err)
	}
	if m.Size > s.cfg.MaxBinary {
		return Release{}, fmt.Errorf("upload: binary is %d bytes; the limit is %d", m.Size, s.cfg.MaxBinary)
	}
	id := srel.ID(manifest)
	if _, err := s.Get(ctx, id); err == nil {
		return Release{}, fmt.Errorf("upload %s: %w", id, ErrExists)
	}
	tmp, err := s.writeBlob(id, m, binary)
	if err != nil {
		return Release{}, fmt.Errorf("upload: %w", err)
	}
	defer os.Remove(tmp) // a no-op once renamed into place
	now := s.now()
	_, err = s.db.ExecContext(ctx, `INSERT INTO releases (id, version, os, arch, channel, rollback, sha256, size,
		manifest, signature, created_at, uploaded_at, uploaded_by) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)`,
		id, m.Version, m.OS, m.Arch, string(m.Channel), b2i(m.Rollback), m.SHA256, m.Size,
		string(manifest), string(signature), m.Created.UnixMilli(), now, actor)
	if err != nil {
		if strings.Contains(strings.ToLower(err.Error()), "unique") {
			return Release{}, fmt.Errorf("upload %s %s: %w (one build per version, platform and rollback flag)", m.Version, m.Platform(), ErrExists)
		}
		return Release{}, fmt.Errorf("upload: store: %w", err)
	}
	// The row goes in first, then the file: a losing concurrent upload of
	// the same release never touches the winner's file.
	if err := os.Rename(tmp, s.blobPath(id)); err != nil {
		if _, derr := s.db.ExecContext(ctx, `DELETE FROM releases WHERE id = ?`, id); derr != nil {
			s.log.Error("forget release whose binary could not be stored", "release", id, "err", derr)
		}
		return Release{}, fmt.Errorf("upload: store binary: %w", err)
	}
	s.cfg.Audit(ctx, actor, "release.upload", id, fmt.Sprintf("%s %s %s rollback=%t", m.Version, m.Platform(), m.Channel, m.Rollback))
	return s.Get(ctx, id)
}

func (s *Service) blobPath(id string) string { return filepath.Join(s.cfg.Dir, id+".bin") }

// writeBlob streams the binary into a temp file and returns its path when
// size and checksum match the signed manifest; otherwise nothing is left.
func (s *Service) writeBlob(id string, m *srel.Manifest, r io.Reader) (string, error) {
	tmp, err := os.CreateTemp(s.cfg.Dir, id+"-*.tmp")
	if err != nil {
		return "", err
	}
	ok := false
	defer func() {
		tmp.Close()
		if !ok {
			os.Remove(tmp.Name())
		}
	}()
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(tmp, h), io.LimitReader(r, m.Size+1))
	if err != nil {
		return "", fmt.Errorf("read binary: %w", err)
	}
	if err := m.CheckBinary(n, h.Sum(nil)); err != nil {
		return "", err
	}
	if err := tmp.Sync(); err != nil {
		return "", err
	}
	if err := tmp.Close(); err != nil {
		return "", err
	}
	ok = true
	return tmp.Name(), nil
}

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

// Offer records the device's platform, channel and version and returns the
// release it should run, or nil. Call it when a device connects (then send
// the result as update.available) and for the agent's periodic check.
// An empty Channel keeps the one recorded last (stable at first).
func (s *Service) Offer(ctx context.Context, d Device) (*protocol.UpdateAvailable, error) {
	if d.Channel == "" {
		var ch string
		err := s.db.QueryRowContext(ctx, `SELECT channel FROM release_devices WHERE device_id = ?`, d.ID).Scan(&ch)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return nil, fmt.Errorf("offer: %w", err)
		}
		d.Channel = srel.Channel(ch)
	}
	if !d.Channel.Valid() {
		d.Channel = srel.ChannelStable
	}
	if err := s.recordDevice(ctx, d); err != nil {
		return nil, err
	}
	rels, err := s.all(ctx)
	if err != nil {
		return nil, err
	}
	return toOffer(choose(d, rels)), nil
}

func (s *Service) recordDevice(ctx context.Context, d Device) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO release_devices (device_id, os, arch, channel, version, seen_at)
		VALUES (?,?,?,?,?,?) ON CONFLICT (device_id) DO UPDATE SET os = excluded.os, arch = excluded.arch,
		channel = excluded.channel, version = excluded.version, seen_at = excluded.seen_at`,
		d.ID, d.OS, d.Arch, string(d.Channel), d.Version, s.now())
	if err != nil {
		return fmt.Errorf("record device %s: %w", d.ID, err)
	}
	return nil
}

func toOffer(r *Release) *protocol.UpdateAvailable {
	if r == nil {
		return nil
	}
	base := "/api/v1/releases/" + r.ID
	return &protocol.UpdateAvailable{Version: r.Version, Channel: string(r.Channel),
		ManifestURL: base + "/manifest", BinaryURL: base + "/binary", Rollback: r.Rollback}
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

// nudgeConnected offers the current releases to every connected device.
func (s *Service) nudgeConnected(ctx context.Context) {
	if s.cfg.Connected == nil || s.cfg.Send == nil {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	rels, err := s.all(ctx)
	if err != nil {
		s.log.Warn("nudge devices", "err", err)
		return
	}
	for _, d := range s.cfg.Connected() {
		if d.Channel == "" {
			var ch string
			_ = s.db.QueryRowContext(ctx, `SELECT channel FROM release_devices WHERE device_id = ?`, d.ID).Scan(&ch)
			d.Channel = srel.Channel(ch)
		}
		if !d.Channel.Valid() {
			d.Channel = srel.ChannelStable
		}
		if o := toOffer(choose(d, rels)); o != nil {
			if err := s.cfg.Send(ctx, d.ID, *o); err != nil {
				s.log.Debug("nudge device", "device", d.ID, "err", err)
			}
		}
	}
}
