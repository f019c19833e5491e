// Package build compiles the agent and its window app for each platform,
// stamps their version and assembles the packages in an output directory:
// .deb and .rpm through nfpm, a per-user tarball, a Windows MSI through wixl
// (optionally Authenticode-signed with osslsigncode) and a macOS .app
// layout.
//
// Two programs ship together, always in one directory: deskside-agent, up
// all day, built without cgo; and deskside-ui, the fyne window app, which
// needs cgo (GL, X11; mingw-w64 for Windows). The agent looks for the
// window app next to its own executable (agent/ui/uiapp).
package build

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"

	"github.com/deskside/deskside/shared/enrollconf"
)

// Module is the Go module path; VersionVar is stamped with -X.
const (
	Module     = "github.com/deskside/deskside"
	VersionVar = Module + "/shared/version.Version"
	// AgentPkg is the agent's main package; StubPkg stands in for it.
	AgentPkg = "./agent"
	StubPkg  = "./installer/internal/stubagent"
	SetupPkg = "./installer/cmd/deskside-setup"
	// UIPkg is the window app, deskside-ui. With the stub agent, the stub
	// stands in for it too.
	UIPkg = "./agent/cmd/deskside-ui"
)

// Options says what to build.
type Options struct {
	Version   string             // stamped into the binaries and the packages
	Out       string             // output directory, e.g. dist
	Root      string             // the module's root directory
	Enroll    *enrollconf.Config // baked into the packages when set
	AllowStub bool               // package the stub agent if agent/ has no main
	AgentPkg  string             // the agent's main package; empty: AgentPkg, or the stub

	Linux, Windows, Mac bool // which platforms
	// WindowsGUI builds deskside-ui.exe (cgo with mingw-w64, minutes cold)
	// and puts it in the MSI with a Start-menu entry. Without it the MSI
	// has the agent (tray, CLI) but no windows.
	WindowsGUI bool

	// AgentBin and UIBin use prebuilt linux/amd64 binaries instead of
	// compiling them (tests build them once and share them); WindowsUIBin a
	// prebuilt deskside-ui.exe, which implies WindowsGUI.
	AgentBin, UIBin, WindowsUIBin string

	SignCert, SignKey, SignPass string // Authenticode; PEM files
	Log                         io.Writer
}

// Result lists the built artefacts.
type Result struct{ Files []string }

// Run builds everything Options asks for.
func Run(o Options) (*Result, error) {
	if o.Log == nil {
		o.Log = io.Discard
	}
	if (o.SignCert == "") != (o.SignKey == "") {
		return nil, errors.New("give both --sign-cert and --sign-key, or neither")
	}
	if o.Version == "" {
		return nil, errors.New("a version is required")
	}
	out, err := filepath.Abs(o.Out)
	if err != nil {
		return nil, fmt.Errorf("output directory: %w", err)
	}
	o.Out = out
	if err := os.MkdirAll(filepath.Join(out, "build"), 0o755); err != nil {
		return nil, fmt.Errorf("output directory: %w", err)
	}
	b := &builder{Options: o}
	if o.Windows || (o.Linux && (o.AgentBin == "" || o.UIBin == "")) {
		if b.agentPkg, err = o.agentPackage(); err != nil {
			return nil, err
		}
		b.uiPkg = UIPkg
		if b.agentPkg == StubPkg {
			b.uiPkg = StubPkg
		}
	}
	if o.Linux {
		if err := b.linux(); err != nil {
			return nil, fmt.Errorf("linux: %w", err)
		}
	}
	if o.Windows {
		if err := b.windows(); err != nil {
			return nil, fmt.Errorf("windows: %w", err)
		}
	}
	if o.Mac {
		if err := b.macos(); err != nil {
			return nil, fmt.Errorf("macos: %w", err)
		}
	}
	if err := b.checksums(); err != nil {
		return nil, err
	}
	return &Result{Files: b.files}, nil
}

type builder struct {
	Options
	agentPkg, uiPkg string
	files           []string // artefacts, relative to Out
}

func (b *builder) logf(format string, args ...any) { fmt.Fprintf(b.Log, format+"\n", args...) }

// agentPackage returns the agent's main package, or the stub when allowed.
func (o Options) agentPackage() (string, error) {
	if o.AgentPkg != "" {
		return o.AgentPkg, nil
	}
	cmd := exec.Command("go", "list", "-f", "{{.Name}}", AgentPkg)
	cmd.Dir = o.Root
	name, err := cmd.Output()
	if err == nil && strings.TrimSpace(string(name)) == "main" {
		return AgentPkg, nil
	}
	if !o.AllowStub {
		return "", errors.New("agent/ has no main package yet, so there is no agent to package: " +
			"build again once it exists, or pass --allow-stub to package a placeholder agent (for testing the packages only)")
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	fmt.Fprintln(o.Log, "WARNING: agent/ has no main package yet: packaging the placeholder agent", StubPkg)
	return StubPkg, nil
}

// goBuild compiles pkg for goos/goarch into dst with the version stamped.
func (b *builder) goBuild(pkg, goos, goarch, dst string, cgo bool, env []string, ldflags ...string) error {
	flags := append([]string{"-s", "-w", "-X", VersionVar + "=" + b.Version}, ldflags...)
	args := []string{"build", "-trimpath", "-ldflags", strings.Join(flags, " "), "-o", dst, pkg}
	cmd := exec.Command("go", args...)
	cmd.Dir = b.Root
	cgoEnv := "CGO_ENABLED=0"
	if cgo {
		cgoEnv = "CGO_ENABLED=1"
	}
	cmd.Env = append(append(os.Environ(), "GOOS="+goos, "GOARCH="+goarch, cgoEnv), env...)
	b.logf("== go build %s (%s/%s, %s) -> %s", pkg, goos, goarch, cgoEnv, b.rel(dst))
	if outb, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s for %s/%s: %w\n%s", pkg, goos, goarch, err, outb)
	}
	return nil
}

func (b *builder) rel(p string) string {
	if r, err := filepath.Rel(b.Out, p); err == nil {
		return filepath.Join(filepath.Base(b.Out), r)
	}
	return p
}

func (b *builder) add(path string) {
	r, _ := filepath.Rel(b.Out, path)
	b.files = append(b.files, r)
	if st, err := os.Stat(path); err == nil {
		b.logf("built %s (%s)", b.rel(path), humanSize(st.Size()))
	}
}

func humanSize(n int64) string {
	if n < 1<<20 {
		return fmt.Sprintf("%.1f KiB", float64(n)/1024)
	}
	return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
}

// checksums writes SHA256SUMS for the artefacts.
func (b *builder) checksums() error {
	sort.Strings(b.files)
	var sb strings.Builder
	for _, f := range b.files {
		data, err := os.ReadFile(filepath.Join(b.Out, f))
		if err != nil {
			return fmt.Errorf("checksum: %w", err)
		}
		fmt.Fprintf(&sb, "%x  %s\n", sha256.Sum256(data), filepath.ToSlash(f))
	}
	if err := os.WriteFile(filepath.Join(b.Out, "SHA256SUMS"), []byte(sb.String()), 0o644); err != nil {
		return fmt.Errorf("checksum: %w", err)
	}
	return nil
}

func writeFile(path string, data []byte, mode os.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, data, mode)
}

// need reports a missing tool with the Debian package that provides it.
func need(tool, debPkg string) error {
	if _, err := exec.LookPath(tool); err != nil {
		return fmt.Errorf("%s is not installed: apt-get install %s (scripts/package.sh does this)", tool, debPkg)
	}
	return nil
}
