// Package inventory finds the software installed on this computer: package
// databases, per-user apps, the Windows Uninstall keys and macOS app bundles.
package inventory

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"time"

	"github.com/deskside/deskside/shared/protocol"
)

// Options says where to look. Zero values mean the real system.
type Options struct {
	// Root is a filesystem prefix for tests ("" = "/"): /var/lib/dpkg/status,
	// /var/lib/flatpak, /snap, /Applications are read under it.
	Root string
	// Home is the user's home ("" = os.UserHomeDir()).
	Home string
	// LocalAppData is Windows' %LOCALAPPDATA% ("" = the environment's).
	LocalAppData string
	// Run runs rpm; nil = os/exec with a timeout. A missing binary
	// (exec.ErrNotFound) means the source is absent, not failed.
	Run func(ctx context.Context, name string, args ...string) ([]byte, error)
	// Registry reads the Windows registry; nil = the real registry on
	// Windows, none elsewhere.
	Registry RegistryReader
	// GOOS picks the sources ("" = runtime.GOOS); tests set it to read
	// another OS's fixtures.
	GOOS string
}

// SourceError is a source that is present but could not be read.
type SourceError struct {
	Source protocol.SoftwareSource
	Err    error
}

func (e SourceError) Error() string { return fmt.Sprintf("%s: %v", e.Source, e.Err) }

func (e SourceError) Unwrap() error { return e.Err }

// Report is what Collect found.
type Report struct {
	// Entries are protocol.NormalizeSoftware'd: sorted, deduplicated,
	// bounded. A source in Failed has none of its entries here.
	Entries   []protocol.SoftwareEntry
	Truncated bool
	// Read lists the sources that were present and read.
	Read []protocol.SoftwareSource
	// Failed lists sources present but unreadable: the caller keeps that
	// source's previous entries rather than report them removed.
	Failed []SourceError
	Took   time.Duration
}

// maxPerSource bounds what one source may hold in memory before
// normalisation: a hostile or broken database cannot grow the agent
// without bound, and anything past it is more than a full list can carry.
const maxPerSource = 4 * protocol.MaxSoftwareEntries

// maxSmallFile caps a keyfile, metainfo, snap.yaml or Info.plist read whole.
const maxSmallFile = 1 << 20

// runTimeout bounds one run of a package tool.
const runTimeout = 60 * time.Second

// errAbsent says a source is not on this computer.
var errAbsent = errors.New("source absent")

// reader is one source: it returns the source's entries, errAbsent when
// the source is not here, or another error when it is here but unreadable.
// truncated is true when it stopped at maxPerSource.
type reader struct {
	source protocol.SoftwareSource
	read   func(ctx context.Context, o *Options) (entries []protocol.SoftwareEntry, truncated bool, err error)
}

// readersFor lists the sources of an OS family.
func readersFor(goos string) []reader {
	switch goos {
	case "windows":
		return []reader{
			{protocol.SourceRegistryMachine, readRegistryMachine},
			{protocol.SourceRegistryUser, readRegistryUser},
			{protocol.SourceWinPrograms, readWinPrograms},
		}
	case "darwin":
		return []reader{{protocol.SourceAppBundle, readAppBundles}}
	case "linux":
		return []reader{
			{protocol.SourceDpkg, readDpkg},
			{protocol.SourceRPM, readRPM},
			{protocol.SourceFlatpak, readFlatpak},
			{protocol.SourceSnap, readSnap},
			// desktop skips an entry that launches an AppImage the
			// appimage source lists: one app, one entry.
			{protocol.SourceAppImage, readAppImages},
			{protocol.SourceDesktop, readDesktopEntries},
		}
	}
	return nil
}

// Collect reads every source of this OS. It never fails as a whole: a
// source that is absent is left out, one that is unreadable is in Failed.
func Collect(ctx context.Context, o Options) Report {
	start := time.Now()
	o.fill()
	var rep Report
	var all []protocol.SoftwareEntry
	for _, r := range readersFor(o.GOOS) {
		if err := ctx.Err(); err != nil {
			rep.Failed = append(rep.Failed, SourceError{r.source, err})
			continue
		}
		entries, truncated, err := r.read(ctx, &o)
		switch {
		case errors.Is(err, errAbsent):
			continue
		case err != nil:
			slog.Debug("software source unreadable", "source", r.source, "err", err)
			rep.Failed = append(rep.Failed, SourceError{r.source, err})
			continue
		}
		rep.Read = append(rep.Read, r.source)
		rep.Truncated = rep.Truncated || truncated
		all = append(all, entries...)
	}
	var truncated bool
	rep.Entries, truncated = protocol.NormalizeSoftware(all)
	rep.Truncated = rep.Truncated || truncated
	rep.Took = time.Since(start)
	return rep
}

// fill puts the real system's values in the zero fields.
func (o *Options) fill() {
	if o.GOOS == "" {
		o.GOOS = runtime.GOOS
	}
	if o.Root == "" {
		o.Root = string(filepath.Separator)
	}
	if o.Home == "" {
		o.Home, _ = os.UserHomeDir() // no home: the per-user sources are absent
	}
	if o.LocalAppData == "" && o.GOOS == "windows" {
		o.LocalAppData = os.Getenv("LOCALAPPDATA")
	}
	if o.Run == nil {
		o.Run = runCommand
	}
	if o.Registry == nil && o.GOOS == "windows" {
		o.Registry = systemRegistry()
	}
}

// path is p (slash-separated, absolute) under the root.
func (o *Options) path(p string) string { return filepath.Join(o.Root, filepath.FromSlash(p)) }

// homePath is p (slash-separated) under the home, "" when there is no home.
func (o *Options) homePath(p string) string {
	if o.Home == "" {
		return ""
	}
	return filepath.Join(o.Home, filepath.FromSlash(p))
}

// runCommand runs a tool with a timeout and returns its standard output.
func runCommand(ctx context.Context, name string, args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, runTimeout)
	defer cancel()
	path, err := exec.LookPath(name)
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Env = append(os.Environ(), "LC_ALL=C.UTF-8")
	out, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) && len(ee.Stderr) > 0 {
			return out, fmt.Errorf("%s: %w: %s", name, err, firstLine(ee.Stderr))
		}
		return out, fmt.Errorf("%s: %w", name, err)
	}
	return out, nil
}

func firstLine(b []byte) string {
	for i, c := range b {
		if c == '\n' {
			b = b[:i]
			break
		}
	}
	if len(b) > 200 {
		b = b[:200]
	}
	return string(b)
}

// absent turns "not there" into errAbsent and keeps any other error.
func absent(err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return errAbsent
	}
	return err
}

// readSmall reads a small file whole, refusing one larger than maxSmallFile.
func readSmall(path string) ([]byte, error) {
	f, err := openRegular(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxSmallFile+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if len(b) > maxSmallFile {
		return nil, fmt.Errorf("read %s: larger than %d bytes", path, maxSmallFile)
	}
	return b, nil
}

// openRegular opens a regular file (or a symlink to one). Anything else is
// refused before it is opened: opening a FIFO that a user left in their
// home would block the collection for good, and a device is no record.
func openRegular(path string) (*os.File, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() && !fi.IsDir() {
		return nil, fmt.Errorf("open %s: not a regular file (%v)", path, fi.Mode().Type())
	}
	// A directory is let through: reading it fails, and says so.
	return os.Open(path)
}

// statDir reports whether path is a directory, errAbsent when it is not there.
func statDir(path string) error {
	if path == "" {
		return errAbsent
	}
	fi, err := os.Stat(path)
	if err != nil {
		return absent(err)
	}
	if !fi.IsDir() {
		return errAbsent
	}
	return nil
}
