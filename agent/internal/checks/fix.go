package checks

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/deskside/deskside/shared/protocol"
)

// CleanFolders are the person's own temp, cache and trash folders on goos:
// the only places "Fix it for me" deletes from.
func CleanFolders(goos, home string) []string {
	if home == "" {
		return nil
	}
	j := func(p ...string) string { return filepath.Join(append([]string{home}, p...)...) }
	switch goos {
	case "windows":
		local := os.Getenv("LOCALAPPDATA")
		if local == "" {
			local = j("AppData", "Local")
		}
		return []string{filepath.Join(local, "Temp"), filepath.Join(local, "Microsoft", "Windows", "INetCache")}
	case "darwin":
		return []string{j("Library", "Caches"), j(".Trash")}
	default:
		return []string{j(".cache"), j(".local", "share", "Trash"), j(".thumbnails")}
	}
}

// Cleanup is what clearing the folders would free, shown before the person
// agrees.
type Cleanup struct {
	Folders []string `json:"folders"`
	Bytes   uint64   `json:"bytes"`
	Files   int      `json:"files"`
}

// Describe says it in words: "I can clear 2.4 GB of temporary files…".
func (c Cleanup) Describe() string {
	if c.Bytes == 0 {
		return "Your temporary files, caches and trash are already empty."
	}
	return fmt.Sprintf("I can clear %s of temporary files, caches and the trash for you (%s). Nothing else is touched.",
		size(c.Bytes), plural(c.Files, "file", "files"))
}

// MeasureCleanup sums the regular files in folders. It follows no symlink
// and skips a folder that is itself a symlink (it could point anywhere).
func MeasureCleanup(ctx context.Context, folders []string) Cleanup {
	c := Cleanup{}
	for _, dir := range folders {
		if !realDir(dir) {
			continue
		}
		c.Folders = append(c.Folders, dir)
		_ = filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
			if err != nil {
				return nil // unreadable: not ours to count
			}
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if d.Type().IsRegular() {
				if info, err := d.Info(); err == nil {
					c.Bytes += uint64(info.Size())
					c.Files++
				}
			}
			return nil
		})
	}
	return c
}

func realDir(dir string) bool {
	fi, err := os.Lstat(dir)
	return err == nil && fi.IsDir()
}

// Clean empties folders (not the folders themselves) and returns what it
// freed. os.RemoveAll removes a symlink, never what it points to, so
// nothing outside the folders is touched. A file in use is left and the
// rest goes on.
func Clean(ctx context.Context, folders []string) (freed uint64, err error) {
	before := MeasureCleanup(ctx, folders)
	var errs []error
	for _, dir := range before.Folders {
		entries, rerr := os.ReadDir(dir)
		if rerr != nil {
			errs = append(errs, rerr)
			continue
		}
		for _, e := range entries {
			if ctx.Err() != nil {
				return 0, ctx.Err()
			}
			if rerr := os.RemoveAll(filepath.Join(dir, e.Name())); rerr != nil {
				errs = append(errs, rerr)
			}
		}
	}
	after := MeasureCleanup(ctx, folders)
	if after.Bytes < before.Bytes {
		freed = before.Bytes - after.Bytes
	}
	if len(errs) > 0 && freed == 0 {
		return 0, fmt.Errorf("clear temporary files: %w", errors.Join(errs...))
	}
	return freed, nil
}

// Rebooter restarts the computer (tests: a fake that counts).
type Rebooter interface {
	Reboot(ctx context.Context) error
}

// OSRebooter restarts through the OS's own command.
type OSRebooter struct {
	Cmd  Commander
	GOOS string
}

// Reboot implements Rebooter.
func (r OSRebooter) Reboot(ctx context.Context) error {
	var err error
	switch r.GOOS {
	case "windows":
		_, err = r.Cmd.Run(ctx, "shutdown", "/r", "/t", "30", "/c", "Deskside is restarting your computer, as you asked.")
	case "darwin":
		_, err = r.Cmd.Run(ctx, "osascript", "-e", `tell application "System Events" to restart`)
	default:
		if _, err = r.Cmd.Run(ctx, "systemctl", "reboot"); err != nil {
			_, err = r.Cmd.Run(ctx, "shutdown", "-r", "now")
		}
	}
	if err != nil {
		return fmt.Errorf("restart: %w", err)
	}
	return nil
}

// Timer is the part of *time.Timer the Restarter uses.
type Timer interface{ Stop() bool }

// Restarter holds at most one planned restart, with a countdown the person
// can cancel. It never restarts while the person is busy typing (Busy):
// it waits ten minutes and looks again.
type Restarter struct {
	Rebooter Rebooter
	// Busy reports that a request is being typed (optional).
	Busy func() bool
	// AfterFunc is time.AfterFunc (tests fire it by hand).
	AfterFunc func(d time.Duration, f func()) Timer
	Now       func() time.Time
	// Done is told each restart attempt's result (optional).
	Done func(error)

	mu    sync.Mutex
	at    time.Time
	timer Timer
	gen   int
}

// BusyDelay is how long a restart waits when the person is busy.
const BusyDelay = 10 * time.Minute

func (r *Restarter) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

// Tonight is when "restart tonight" restarts: 22:00 today, or in an hour
// when it is already past 21:00.
func Tonight(now time.Time) time.Time {
	t := time.Date(now.Year(), now.Month(), now.Day(), 22, 0, 0, 0, now.Location())
	if now.Add(time.Hour).After(t) {
		return now.Add(time.Hour)
	}
	return t
}

// Schedule plans the restart at at (replacing any earlier plan).
func (r *Restarter) Schedule(at time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.timer != nil {
		r.timer.Stop()
	}
	r.gen++
	gen := r.gen
	r.at = at
	after := r.AfterFunc
	if after == nil {
		after = func(d time.Duration, f func()) Timer { return time.AfterFunc(d, f) }
	}
	r.timer = after(max(at.Sub(r.now()), 0), func() { r.fire(gen) })
}

// Cancel drops the planned restart; false when there was none.
func (r *Restarter) Cancel() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.at.IsZero() {
		return false
	}
	if r.timer != nil {
		r.timer.Stop()
	}
	r.gen++
	r.at, r.timer = time.Time{}, nil
	return true
}

// Planned returns when the restart is planned (zero: none).
func (r *Restarter) Planned() time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.at
}

func (r *Restarter) fire(gen int) {
	r.mu.Lock()
	if gen != r.gen {
		r.mu.Unlock()
		return // cancelled or replaced after the timer fired
	}
	r.mu.Unlock()
	if r.Busy != nil && r.Busy() {
		r.Schedule(r.now().Add(BusyDelay))
		return
	}
	r.mu.Lock()
	r.at, r.timer = time.Time{}, nil
	r.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err := r.Rebooter.Reboot(ctx)
	if r.Done != nil {
		r.Done(err)
	}
}

// Opener opens a web address or a settings page in the person's session.
type Opener interface {
	Open(ctx context.Context, target string) error
}

// UpdateSettings is the target that opens the OS's update settings.
const UpdateSettings = "deskside:update-settings"

// OSOpener opens through the OS: xdg-open, open, or the URL handler.
type OSOpener struct {
	Cmd  Commander
	GOOS string
}

// Open implements Opener.
func (o OSOpener) Open(ctx context.Context, target string) error {
	var err error
	switch {
	case target == UpdateSettings && o.GOOS == "windows":
		_, err = o.Cmd.Run(ctx, "rundll32", "url.dll,FileProtocolHandler", "ms-settings:windowsupdate")
	case target == UpdateSettings && o.GOOS == "darwin":
		_, err = o.Cmd.Run(ctx, "open", "x-apple.systempreferences:com.apple.Software-Update-Settings.extension")
	case target == UpdateSettings:
		// Each desktop has its own updater; the first one present wins.
		for _, c := range [][]string{{"gnome-software", "--mode=updates"}, {"update-manager"}, {"plasma-discover", "--mode", "update"}} {
			if _, err = o.Cmd.Run(ctx, c[0], c[1:]...); err == nil {
				return nil
			}
		}
	case o.GOOS == "windows":
		_, err = o.Cmd.Run(ctx, "rundll32", "url.dll,FileProtocolHandler", target)
	case o.GOOS == "darwin":
		_, err = o.Cmd.Run(ctx, "open", target)
	default:
		_, err = o.Cmd.Run(ctx, "xdg-open", target)
	}
	if err != nil {
		return fmt.Errorf("open %s: %w", target, err)
	}
	return nil
}

// PasswordPage checks IT's password-change address (https only) and
// returns its host, which the person sees before it opens.
func PasswordPage(raw string) (host string, err error) {
	if raw == "" {
		return "", errors.New("IT has not set a password-change page")
	}
	if err := protocol.CheckHTTPSURL(raw); err != nil {
		return "", err
	}
	u, _ := url.Parse(raw)
	return u.Hostname(), nil
}
