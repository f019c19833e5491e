// Command deskside-setup writes and removes the enrolment config and does
// per-user installs. It ships next to the agent: in the Windows MSI (whose
// custom actions call write-config and remove-config) and in the Linux
// per-user tarball. It is small and needs no root except for --system.
//
//	deskside-setup write-config  (--system | --user | --file PATH) --server URL --token T [--pin HEX] [--update-key RWQ…]
//	deskside-setup remove-config (--system | --user | --file PATH)
//	deskside-setup user-install  [--bin PATH] [--ui-bin PATH] [--server URL --token T [--pin HEX] [--update-key RWQ…]]
//	deskside-setup user-uninstall [--purge]
//	deskside-setup stop-agents    (Windows; the MSI runs it before removing files)
//
// Every flag can also be given as an environment variable: DESKSIDE_SERVER,
// DESKSIDE_TOKEN, DESKSIDE_PIN, DESKSIDE_UPDATE_KEY.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"

	"github.com/deskside/deskside/installer/internal/userinstall"
	"github.com/deskside/deskside/shared/enrollconf"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "deskside-setup:", err)
		os.Exit(1)
	}
}

const usage = `usage:
  deskside-setup write-config  (--system | --user | --file PATH) --server URL --token T [--pin HEX] [--update-key RWQ…]
  deskside-setup remove-config (--system | --user | --file PATH)
  deskside-setup user-install  [--bin PATH] [--ui-bin PATH] [--server URL --token T [--pin HEX] [--update-key RWQ…]]
  deskside-setup user-uninstall [--purge]`

// target resolves --system / --user / --file to a path and file mode.
func target(system, user bool, file string) (string, fs.FileMode, error) {
	switch {
	case system && !user && file == "":
		// Every user's agent reads the machine's file: world-readable.
		return enrollconf.SystemPath(runtime.GOOS), 0o644, nil
	case user && !system && file == "":
		p, err := enrollconf.UserPath()
		return p, 0o600, err
	case file != "" && !system && !user:
		return file, 0o600, nil
	}
	return "", 0, errors.New("choose exactly one of --system, --user, --file PATH")
}

func run(args []string) error {
	if len(args) == 0 {
		return errors.New(usage)
	}
	cmd, args := args[0], args[1:]
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	switch cmd {
	case "write-config", "remove-config":
		system := fs.Bool("system", false, "the machine-wide file")
		user := fs.Bool("user", false, "the current user's file")
		file := fs.String("file", "", "this file")
		ef := enrollconf.AddFlags(fs)
		if err := fs.Parse(args); err != nil {
			return err
		}
		path, mode, err := target(*system, *user, *file)
		if err != nil {
			return err
		}
		if cmd == "remove-config" {
			if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
				return fmt.Errorf("remove enrolment config: %w", err)
			}
			_ = os.Remove(filepath.Dir(path)) // only if empty
			return nil
		}
		c, err := ef.Required()
		if err != nil {
			return err
		}
		if err := enrollconf.Write(path, *c, mode); err != nil {
			return err
		}
		fmt.Println("wrote", path)
		return nil
	case "user-install":
		bin := fs.String("bin", besideMe("deskside-agent"), "the agent binary to install")
		uiBin := fs.String("ui-bin", "", "the window app to install (default: deskside-ui next to --bin)")
		ef := enrollconf.AddFlags(fs)
		if err := fs.Parse(args); err != nil {
			return err
		}
		cfg, err := ef.Optional()
		if err != nil {
			return err
		}
		if cfg == nil {
			// A tarball built with --server/--token carries enroll.json.
			if c, err := enrollconf.Load(besideMe(enrollconf.FileName)); err == nil {
				cfg = &c
			} else if !errors.Is(err, os.ErrNotExist) {
				return err
			}
		}
		if *uiBin == "" {
			*uiBin = filepath.Join(filepath.Dir(*bin), "deskside-ui")
		}
		return userInstall(*bin, *uiBin, cfg)
	case "stop-agents":
		return stopAgents()
	case "user-uninstall":
		purge := fs.Bool("purge", false, "also remove ~/.config/deskside: the device identity and local state")
		if err := fs.Parse(args); err != nil {
			return err
		}
		l, err := userinstall.UserLayout()
		if err != nil {
			return err
		}
		if err := userinstall.Uninstall(l, *purge); err != nil {
			return err
		}
		fmt.Println("Deskside removed for this user. A running agent exits at logout.")
		return nil
	}
	return fmt.Errorf("unknown command %q\n%s", cmd, usage)
}

func userInstall(bin, uiBin string, cfg *enrollconf.Config) error {
	if runtime.GOOS != "linux" {
		return errors.New("user-install is for Linux; on Windows and macOS use the MSI or the .app (see docs/install.md)")
	}
	l, err := userinstall.UserLayout()
	if err != nil {
		return err
	}
	if err := userinstall.Install(l, bin, uiBin, cfg); err != nil {
		return err
	}
	fmt.Printf("Deskside installed for this user: %s\nIt starts at your next login; to start it now: %s run &\n", l.Bin, l.Bin)
	if cfg == nil {
		fmt.Println("No enrolment config given: enrol with", l.Bin, "enrol --server URL --token T")
	}
	return nil
}

// stopAgents ends every user's running agent and open windows (Windows
// only: the MSI needs deskside-agent.exe and deskside-ui.exe closed to
// remove or replace them without a reboot).
func stopAgents() error {
	if runtime.GOOS != "windows" {
		return errors.New("stop-agents is for the Windows installer")
	}
	// Open windows (deskside-ui.exe) hold their file too.
	var errs []error
	for _, exe := range []string{"deskside-agent.exe", "deskside-ui.exe"} {
		out, err := exec.Command("taskkill", "/F", "/T", "/IM", exe).CombinedOutput()
		var ee *exec.ExitError
		if errors.As(err, &ee) && ee.ExitCode() == 128 { // no such process
			continue
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("stop %s: %w: %s", exe, err, out))
		}
	}
	return errors.Join(errs...)
}

// besideMe is a file in the directory of this executable.
func besideMe(name string) string {
	exe, err := os.Executable()
	if err != nil {
		return name
	}
	return filepath.Join(filepath.Dir(exe), name)
}
