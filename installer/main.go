// Command installer builds Deskside's packages and installs the agent for
// one user. It is run from the repository's root:
//
//	go run ./installer build [--version V] [--server URL --token T [--pin HEX] [--update-key RWQ…]] [--out dist]
//	                         [--platforms linux,windows,macos] [--windows-gui]
//	                         [--sign-cert cert.pem --sign-key key.pem [--sign-pass P]] [--allow-stub]
//	go run ./installer user-install [--bin PATH [--ui-bin PATH]] [--server URL --token T [--pin HEX]]
//	go run ./installer user-uninstall [--purge]
//
// Every flag has an environment variable: DESKSIDE_VERSION, DESKSIDE_SERVER,
// DESKSIDE_TOKEN, DESKSIDE_PIN, DESKSIDE_UPDATE_KEY, DESKSIDE_OUT,
// DESKSIDE_PLATFORMS, DESKSIDE_WINDOWS_GUI, DESKSIDE_SIGN_CERT,
// DESKSIDE_SIGN_KEY, DESKSIDE_SIGN_PASS.
// See docs/install.md.
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/deskside/deskside/installer/internal/build"
	"github.com/deskside/deskside/installer/internal/userinstall"
	"github.com/deskside/deskside/shared/enrollconf"
	"github.com/deskside/deskside/shared/version"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "installer:", err)
		os.Exit(1)
	}
}

const usage = `usage: go run ./installer build | user-install | user-uninstall [flags]   (-h for flags)`

func env(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

func run(args []string) error {
	if len(args) == 0 {
		return errors.New(usage)
	}
	switch args[0] {
	case "build":
		return buildCmd(args[1:])
	case "user-install", "user-uninstall":
		return userCmd(args[0], args[1:])
	}
	return fmt.Errorf("unknown command %q\n%s", args[0], usage)
}

func buildCmd(args []string) error {
	fs := flag.NewFlagSet("build", flag.ContinueOnError)
	ver := fs.String("version", env("DESKSIDE_VERSION", version.Version), "version stamped into binaries and packages (env DESKSIDE_VERSION)")
	out := fs.String("out", env("DESKSIDE_OUT", "dist"), "output directory (env DESKSIDE_OUT)")
	plats := fs.String("platforms", env("DESKSIDE_PLATFORMS", "linux,windows,macos"), "comma-separated: linux, windows, macos (env DESKSIDE_PLATFORMS)")
	gui := fs.Bool("windows-gui", os.Getenv("DESKSIDE_WINDOWS_GUI") != "", "also build the Windows window app deskside-ui.exe with cgo and mingw-w64 (~5 min cold); without it the MSI has no windows (env DESKSIDE_WINDOWS_GUI=1)")
	stub := fs.Bool("allow-stub", false, "package a placeholder agent if agent/ has no main package (testing only)")
	agentBin := fs.String("agent-bin", "", "use this prebuilt linux/amd64 agent instead of compiling one")
	uiBin := fs.String("ui-bin", "", "use this prebuilt linux/amd64 deskside-ui instead of compiling one")
	winUIBin := fs.String("windows-ui-bin", "", "use this prebuilt deskside-ui.exe (implies a GUI MSI) instead of --windows-gui")
	cert := fs.String("sign-cert", os.Getenv("DESKSIDE_SIGN_CERT"), "Authenticode certificate (PEM) for the Windows files (env DESKSIDE_SIGN_CERT)")
	key := fs.String("sign-key", os.Getenv("DESKSIDE_SIGN_KEY"), "its private key (PEM) (env DESKSIDE_SIGN_KEY)")
	pass := fs.String("sign-pass", os.Getenv("DESKSIDE_SIGN_PASS"), "the key's passphrase (env DESKSIDE_SIGN_PASS)")
	ef := enrollconf.AddFlags(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if _, err := version.Parse(*ver); err != nil {
		return fmt.Errorf("--version: %w", err)
	}
	cfg, err := ef.Optional()
	if err != nil {
		return fmt.Errorf("enrolment settings: %w", err)
	}
	root, err := moduleRoot()
	if err != nil {
		return err
	}
	o := build.Options{
		Version: strings.TrimPrefix(*ver, "v"), Out: *out, Root: root, Enroll: cfg, AllowStub: *stub,
		WindowsGUI: *gui, AgentBin: *agentBin, UIBin: *uiBin, WindowsUIBin: *winUIBin, SignCert: *cert, SignKey: *key, SignPass: *pass, Log: os.Stdout,
	}
	for _, p := range strings.Split(*plats, ",") {
		switch strings.TrimSpace(p) {
		case "linux":
			o.Linux = true
		case "windows":
			o.Windows = true
		case "macos", "darwin":
			o.Mac = true
		case "":
		default:
			return fmt.Errorf("--platforms: unknown platform %q (want linux, windows, macos)", p)
		}
	}
	res, err := build.Run(o)
	if err != nil {
		return err
	}
	fmt.Printf("== %d artefacts in %s (checksums in SHA256SUMS)\n", len(res.Files), *out)
	return nil
}

func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("find the module root: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", errors.New("run the installer from inside the Deskside repository")
	}
	return filepath.Dir(gomod), nil
}

func userCmd(cmd string, args []string) error {
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	bin := fs.String("bin", "", "the agent binary to install (default: build ./agent)")
	uiBin := fs.String("ui-bin", "", "the window app to install (default: deskside-ui next to --bin, else build ./agent/cmd/deskside-ui)")
	purge := fs.Bool("purge", false, "user-uninstall: also remove ~/.config/deskside (the device identity)")
	ef := enrollconf.AddFlags(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	l, err := userinstall.UserLayout()
	if err != nil {
		return err
	}
	if cmd == "user-uninstall" {
		return userinstall.Uninstall(l, *purge)
	}
	cfg, err := ef.Optional()
	if err != nil {
		return fmt.Errorf("enrolment settings: %w", err)
	}
	if *uiBin == "" && *bin != "" {
		*uiBin = filepath.Join(filepath.Dir(*bin), "deskside-ui")
	}
	if *bin == "" || *uiBin == "" {
		tmp, err := os.MkdirTemp("", "deskside-agent-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		for _, b := range []struct {
			dst       *string
			name, pkg string
			cgo       string
		}{{bin, "deskside-agent", build.AgentPkg, "CGO_ENABLED=0"}, {uiBin, "deskside-ui", build.UIPkg, "CGO_ENABLED=1"}} {
			if *b.dst != "" {
				continue
			}
			*b.dst = filepath.Join(tmp, b.name)
			c := exec.Command("go", "build", "-trimpath", "-o", *b.dst, b.pkg)
			c.Env = append(os.Environ(), b.cgo)
			c.Stdout, c.Stderr = os.Stdout, os.Stderr
			if err := c.Run(); err != nil {
				return fmt.Errorf("build %s (pass --bin and --ui-bin to use built ones): %w", b.pkg, err)
			}
		}
	}
	if err := userinstall.Install(l, *bin, *uiBin, cfg); err != nil {
		return err
	}
	fmt.Println("installed", l.Bin, l.UIBin, "and", l.Autostart)
	return nil
}
