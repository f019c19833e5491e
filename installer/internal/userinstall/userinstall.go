// Package userinstall installs the agent for one user on Linux, with no
// root: the agent and its window app side by side in ~/.local/bin, a menu
// entry, an XDG autostart entry, the icon and the user's enrolment config.
// Uninstall removes exactly those files.
package userinstall

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/deskside/deskside/installer/internal/gen"
	"github.com/deskside/deskside/shared/enrollconf"
)

// Layout is where a per-user install puts each file.
type Layout struct {
	Bin        string // ~/.local/bin/deskside-agent
	UIBin      string // ~/.local/bin/deskside-ui: next to Bin, where the agent looks
	Desktop    string // ~/.local/share/applications/deskside.desktop
	Autostart  string // ~/.config/autostart/deskside-agent.desktop
	Icon       string // ~/.local/share/icons/hicolor/scalable/apps/deskside.svg
	EnrollFile string // ~/.config/deskside/enroll.json
}

// UserLayout follows the XDG base directory variables, falling back to
// their defaults under $HOME.
func UserLayout() (Layout, error) {
	home, err := os.UserHomeDir()
	if err != nil {
		return Layout{}, fmt.Errorf("find the home directory: %w", err)
	}
	data := envOr("XDG_DATA_HOME", filepath.Join(home, ".local", "share"))
	conf := envOr("XDG_CONFIG_HOME", filepath.Join(home, ".config"))
	return Layout{
		Bin:        filepath.Join(home, ".local", "bin", "deskside-agent"),
		UIBin:      filepath.Join(home, ".local", "bin", "deskside-ui"),
		Desktop:    filepath.Join(data, "applications", "deskside.desktop"),
		Autostart:  filepath.Join(conf, "autostart", "deskside-agent.desktop"),
		Icon:       filepath.Join(data, "icons", "hicolor", "scalable", "apps", "deskside.svg"),
		EnrollFile: filepath.Join(conf, "deskside", enrollconf.FileName),
	}, nil
}

func envOr(k, def string) string {
	if v := os.Getenv(k); filepath.IsAbs(v) {
		return v
	}
	return def
}

// Install copies agentBin and uiBin (the window app) into place and writes
// the other files. cfg may be nil: the agent then needs `deskside-agent
// enrol` or a machine-wide config.
func Install(l Layout, agentBin, uiBin string, cfg *enrollconf.Config) error {
	// The window app first: an agent already running finds it at once.
	if err := copyFile(uiBin, l.UIBin, 0o755); err != nil {
		return fmt.Errorf("install the window app: %w", err)
	}
	if err := copyFile(agentBin, l.Bin, 0o755); err != nil {
		return fmt.Errorf("install the agent binary: %w", err)
	}
	for _, f := range []struct {
		path string
		data []byte
	}{
		{l.Desktop, gen.DesktopEntry(l.UIBin)},
		{l.Autostart, gen.AutostartEntry(l.Bin)},
		{l.Icon, gen.Icon()},
	} {
		if err := writeFile(f.path, f.data, 0o644); err != nil {
			return fmt.Errorf("install: %w", err)
		}
	}
	if cfg != nil {
		// 0600: only this user's agent needs the token.
		if err := enrollconf.Write(l.EnrollFile, *cfg, 0o600); err != nil {
			return fmt.Errorf("install: %w", err)
		}
	}
	return nil
}

// Uninstall removes what Install wrote. With purge it also removes the
// whole ~/.config/deskside directory: the device's identity and local
// state, so the next install enrols as a new device.
func Uninstall(l Layout, purge bool) error {
	var errs []error
	for _, p := range []string{l.Bin, l.UIBin, l.Desktop, l.Autostart, l.Icon, l.EnrollFile} {
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	if purge {
		if err := os.RemoveAll(filepath.Dir(l.EnrollFile)); err != nil {
			errs = append(errs, err)
		}
	} else {
		_ = os.Remove(filepath.Dir(l.EnrollFile)) // only if empty
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("uninstall: %w", err)
	}
	return nil
}

func writeFile(path string, data []byte, mode fs.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp := path + ".new"
	if err := os.WriteFile(tmp, data, mode); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// copyFile writes through a temporary file and a rename, so a running
// agent keeps its (old) binary and the new one is complete when it appears.
func copyFile(src, dst string, mode fs.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	tmp := dst + ".new"
	out, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		os.Remove(tmp)
		return err
	}
	if err := out.Close(); err != nil {
		os.Remove(tmp)
		return err
	}
	return os.Rename(tmp, dst)
}
