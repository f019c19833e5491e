package release

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

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
