package update

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"

	"github.com/deskside/deskside/shared/protocol"
	"github.com/deskside/deskside/shared/release"
)

// get starts a GET of ref and returns the response when it is 200 (or 204).
func (u *Updater) get(ctx context.Context, ref string) (*http.Response, error) {
	abs, sameOrigin, err := u.resolve(ref)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, abs.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("get %s: %w", abs, err)
	}
	if sameOrigin && u.cfg.Authorize != nil {
		u.cfg.Authorize(req)
	}
	resp, err := u.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("get %s: %w", abs.Redacted(), err)
	}
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusNoContent {
		resp.Body.Close()
		return nil, fmt.Errorf("get %s: %s", abs.Redacted(), resp.Status)
	}
	return resp, nil
}

// fetchSmall reads a whole small response, refusing one over limit bytes.
func (u *Updater) fetchSmall(ctx context.Context, ref string, limit int64) ([]byte, error) {
	resp, err := u.get(ctx, ref)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", ref, err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("read %s: over %d bytes", ref, limit)
	}
	return b, nil
}

// fetchOffer asks the server for a release; nil means none.
func (u *Updater) fetchOffer(ctx context.Context, ref string) (*protocol.UpdateAvailable, error) {
	resp, err := u.get(ctx, ref)
	if err != nil {
		return nil, fmt.Errorf("ask for update: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNoContent {
		return nil, nil
	}
	var offer protocol.UpdateAvailable
	if err := json.NewDecoder(io.LimitReader(resp.Body, 16<<10)).Decode(&offer); err != nil {
		return nil, fmt.Errorf("ask for update: %w", err)
	}
	return &offer, nil
}

// errVerify marks a refusal on the merits (signature, checksum, platform,
// smoke run) as opposed to a network hiccup; only these are reported to the
// server, which halts the release.
type errVerify struct{ err error }

func (e errVerify) Error() string { return e.err.Error() }
func (e errVerify) Unwrap() error { return e.err }

func refuse(format string, a ...any) error { return errVerify{fmt.Errorf(format, a...)} }

// download streams the binary into the staging directory, reading at most
// m.Size+1 bytes, and checks size and SHA-256 against the signed manifest.
// It returns the staged path; on any error nothing is left behind.
func (u *Updater) download(ctx context.Context, ref string, m *release.Manifest) (string, error) {
	resp, err := u.get(ctx, ref)
	if err != nil {
		return "", fmt.Errorf("download binary: %w", err)
	}
	defer resp.Body.Close()
	if resp.ContentLength > m.Size {
		return "", fmt.Errorf("download binary: server sends %d bytes; the manifest says %d", resp.ContentLength, m.Size)
	}
	stageDir := filepath.Join(u.dir, "staged")
	if err := os.MkdirAll(stageDir, 0o700); err != nil {
		return "", fmt.Errorf("stage binary: %w", err)
	}
	// Keep the executable's extension: Windows runs only .exe files.
	path := filepath.Join(stageDir, "deskside-"+m.Version+filepath.Ext(u.cfg.Executable))
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o700)
	if err != nil {
		return "", fmt.Errorf("stage binary: %w", err)
	}
	ok := false
	defer func() {
		if !ok {
			f.Close()
			os.Remove(path)
		}
	}()
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(f, h), io.LimitReader(resp.Body, m.Size+1))
	if err != nil {
		return "", fmt.Errorf("download binary: %w", err)
	}
	if n < m.Size {
		return "", fmt.Errorf("download binary: got %d of %d bytes", n, m.Size)
	}
	if err := m.CheckBinary(n, h.Sum(nil)); err != nil {
		return "", refuse("download binary: %w", err)
	}
	if err := f.Sync(); err != nil {
		return "", fmt.Errorf("stage binary: %w", err)
	}
	if err := f.Close(); err != nil {
		return "", fmt.Errorf("stage binary: %w", err)
	}
	ok = true
	return path, nil
}

// sumFile returns the SHA-256 of a file.
func sumFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return nil, err
	}
	return h.Sum(nil), nil
}
