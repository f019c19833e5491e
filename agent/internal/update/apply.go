package update

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/deskside/deskside/shared/protocol"
	"github.com/deskside/deskside/shared/release"
	"github.com/deskside/deskside/shared/version"
)

// apply runs one offer through every check, swaps the binary and restarts.
// Refusals on the merits are reported to the server; the binary on disk is
// untouched by any failure before the swap.
func (u *Updater) apply(ctx context.Context, offer protocol.UpdateAvailable) error {
	m, staged, err := u.prepare(ctx, offer)
	if staged != "" {
		defer os.Remove(staged)
	}
	if err != nil {
		var v errVerify
		if errors.As(err, &v) {
			u.report(ctx, protocol.UpdateReport{FromVersion: u.cfg.Version, ToVersion: offer.Version, Detail: "refused: " + err.Error()})
		}
		return fmt.Errorf("update to %s: %w", offer.Version, err)
	}
	if err := u.swap(m, staged); err != nil {
		return fmt.Errorf("update to %s: %w", m.Version, err)
	}
	u.log.Info("update applied; restarting when the user is not busy", "from", u.cfg.Version, "to", m.Version)
	if err := u.waitIdle(ctx); err != nil {
		return nil // the next start runs the new binary and finishes the job
	}
	if err := u.cfg.Restart(u.cfg.Executable, u.cfg.Args); err != nil {
		return fmt.Errorf("update to %s: restart: %w", m.Version, err)
	}
	return nil
}

// prepare fetches and verifies everything and returns the staged binary.
func (u *Updater) prepare(ctx context.Context, offer protocol.UpdateAvailable) (*release.Manifest, string, error) {
	st, err := u.loadState()
	if err != nil {
		return nil, "", err
	}
	if st.Phase != phaseNone {
		return nil, "", fmt.Errorf("an update to %s is still %s", st.To, st.Phase)
	}
	manifest, err := u.fetchSmall(ctx, offer.ManifestURL, release.MaxManifestBytes)
	if err != nil {
		return nil, "", fmt.Errorf("manifest: %w", err)
	}
	sig, err := u.fetchSmall(ctx, signatureURL(offer.ManifestURL), release.MaxSignatureBytes)
	if err != nil {
		return nil, "", fmt.Errorf("signature: %w", err)
	}
	m, err := release.Verify(u.keys, manifest, sig)
	if err != nil {
		return nil, "", errVerify{err}
	}
	if err := u.acceptable(m, offer, st); err != nil {
		return nil, "", err
	}
	if err := canApply(u.cfg.Executable); err != nil {
		return nil, "", err
	}
	staged, err := u.download(ctx, offer.BinaryURL, m)
	if err != nil {
		return nil, "", err
	}
	if err := u.smoke(ctx, staged, m.Version); err != nil {
		return nil, staged, err
	}
	return m, staged, nil
}

// acceptable applies the rules a signed manifest must still pass here.
func (u *Updater) acceptable(m *release.Manifest, offer protocol.UpdateAvailable, st state) error {
	if m.OS != runtime.GOOS || m.Arch != runtime.GOARCH {
		return refuse("release is for %s, this is %s/%s", m.Platform(), runtime.GOOS, runtime.GOARCH)
	}
	if offer.Version != "" && offer.Version != m.Version {
		return refuse("offer says %s but the signed manifest says %s", offer.Version, m.Version)
	}
	if !u.cfg.Channel.Accepts(m.Channel) {
		return fmt.Errorf("release is on %s; this device follows %s", m.Channel, u.cfg.Channel)
	}
	if st.failed(m.Version) {
		return fmt.Errorf("%s rolled back on this machine before", m.Version)
	}
	if m.Rollback {
		cur, err1 := version.Parse(u.cfg.Version)
		to, err2 := version.Parse(m.Version)
		if err1 != nil || err2 != nil || version.Compare(cur, to) == 0 {
			return fmt.Errorf("rollback to %s: already running it", m.Version)
		}
		if !m.Created.After(st.Installed) {
			return refuse("rollback manifest of %s is older than the installed release (replay?)", m.Created.Format(time.RFC3339))
		}
		return nil
	}
	if !version.Newer(m.Version, u.cfg.Version) {
		return fmt.Errorf("%s is not newer than %s and is not a signed rollback", m.Version, u.cfg.Version)
	}
	return nil
}

// smoke runs `<staged> version` with a timeout; it must print the version.
func (u *Updater) smoke(ctx context.Context, path, want string) error {
	ctx, cancel := context.WithTimeout(ctx, u.cfg.Smoke)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, "version")
	cmd.Env = append(os.Environ(), "DESKSIDE_SMOKE_TEST=1")
	var out bytes.Buffer
	cmd.Stdout = &out
	if err := cmd.Run(); err != nil {
		return refuse("smoke run of %s: %w", filepath.Base(path), err)
	}
	if !printsVersion(out.String(), want) {
		return refuse("smoke run printed %q, not %s", strings.TrimSpace(out.String()), want)
	}
	return nil
}

// printsVersion accepts "1.4.0", "v1.4.0" or "deskside-agent 1.4.0 (linux/amd64)".
func printsVersion(out, want string) bool {
	for _, f := range strings.Fields(out) {
		if strings.TrimPrefix(f, "v") == want {
			return true
		}
	}
	return false
}

// swap records the plan, then replaces the binary keeping the old one.
func (u *Updater) swap(m *release.Manifest, staged string) error {
	exe := u.cfg.Executable
	oldSum, err := sumFile(exe)
	if err != nil {
		return fmt.Errorf("hash running binary: %w", err)
	}
	st, err := u.loadState()
	if err != nil {
		return err
	}
	st.Phase, st.From, st.To, st.Exe = phaseApplying, u.cfg.Version, m.Version, exe
	st.OldPath = oldBinaryPath(exe)
	st.OldSHA256 = hex.EncodeToString(oldSum)
	st.Created, st.Starts, st.Detail = m.Created, 0, ""
	if err := u.saveState(st); err != nil {
		return err
	}
	if err := replaceBinary(exe, staged, m.SumBytes(), st.OldPath); err != nil {
		st.clear()
		if serr := u.saveState(st); serr != nil {
			u.log.Error("clear update state", "err", serr)
		}
		return err
	}
	st.Phase = phaseApplied
	return u.saveState(st)
}

// oldBinaryPath keeps the previous binary next to the current one, so the
// rename is on the same file system.
func oldBinaryPath(exe string) string {
	return filepath.Join(filepath.Dir(exe), "."+filepath.Base(exe)+".previous")
}

// waitIdle returns once the user is not busy (or ctx ends).
func (u *Updater) waitIdle(ctx context.Context) error {
	for u.cfg.Busy() {
		t := time.NewTimer(u.cfg.BusyPoll)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
	return nil
}

// report hands a report to the durable sender; a failure is logged, since
// the caller has nothing better to do with it.
func (u *Updater) report(ctx context.Context, r protocol.UpdateReport) bool {
	if err := u.cfg.Report(ctx, r); err != nil {
		u.log.Warn("send update report", "err", err, "to", r.ToVersion, "ok", r.OK)
		return false
	}
	return true
}
