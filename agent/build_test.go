package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// The agent binary links fyne, so one build costs tens of seconds on a
// small CI machine. Tests share builds: each distinct build is made once
// per test binary, one at a time, into a directory removed at the end.
var (
	buildMu    sync.Mutex
	buildDir   string
	buildCache = map[agentBuild]string{}
)

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// agentBuild is one way to build this command.
type agentBuild struct {
	version string // -X shared/version.Version; "" keeps the default
	key     string // -X agent/internal/update.TrustedKeys
	// protocol, when not 0, builds against a shared/protocol that speaks
	// this major version (through go build -overlay): a release the server
	// cannot talk to.
	protocol int
	// noUI builds without ui_wire.go (overlaid with an empty file): the
	// agent as it would be without fyne linked in, for measurements.
	noUI bool
}

// buildAgent compiles this command as is, once per test binary.
func buildAgent(t *testing.T) string { return buildAgentWith(t, agentBuild{}) }

// buildAgentWith returns the path of a shared build; copy it before
// letting anything replace it.
func buildAgentWith(t *testing.T, b agentBuild) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the agent binary")
	}
	buildMu.Lock()
	defer buildMu.Unlock()
	if bin, ok := buildCache[b]; ok {
		return bin
	}
	if buildDir == "" {
		d, err := os.MkdirTemp("", "deskside-agent-test-")
		if err != nil {
			t.Fatal(err)
		}
		buildDir = d
	}
	bin := filepath.Join(buildDir, "agent-"+strconv.Itoa(len(buildCache))+exeSuffix())
	args := []string{"build", "-o", bin}
	var ld []string
	if b.version != "" {
		ld = append(ld, "-X github.com/deskside/deskside/shared/version.Version="+b.version)
	}
	if b.key != "" {
		ld = append(ld, "-X github.com/deskside/deskside/agent/internal/update.TrustedKeys="+b.key)
	}
	if len(ld) > 0 {
		args = append(args, "-ldflags", strings.Join(ld, " "))
	}
	replace := map[string]string{}
	if b.protocol != 0 {
		src, patched := protocolPatch(t, b.protocol)
		replace[src] = patched
	}
	if b.noUI {
		src, err := filepath.Abs("ui_wire.go")
		if err != nil {
			t.Fatal(err)
		}
		empty := filepath.Join(buildDir, "no_ui.go")
		if err := os.WriteFile(empty, []byte("package main\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		replace[src] = empty
	}
	if len(replace) > 0 {
		overlay, _ := json.Marshal(map[string]map[string]string{"Replace": replace})
		path := filepath.Join(buildDir, "overlay-"+strconv.Itoa(len(buildCache))+".json")
		if err := os.WriteFile(path, overlay, 0o600); err != nil {
			t.Fatal(err)
		}
		args = append(args, "-overlay", path)
	}
	out, err := exec.Command("go", append(args, ".")...).CombinedOutput()
	if err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	buildCache[b] = bin
	return bin
}

// protocolPatch writes a copy of shared/protocol's envelope.go that
// declares another version, and returns both paths.
func protocolPatch(t *testing.T, v int) (src, patched string) {
	t.Helper()
	src, err := filepath.Abs("../shared/protocol/envelope.go")
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	const decl = "const Version = 1\n"
	if !strings.Contains(string(b), decl) {
		t.Fatalf("%s no longer declares %q; update protocolOverlay", src, decl)
	}
	patched = filepath.Join(buildDir, "envelope-v"+strconv.Itoa(v)+".go")
	if err := os.WriteFile(patched, []byte(strings.Replace(string(b), decl, "const Version = "+strconv.Itoa(v)+"\n", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	return src, patched
}

func exeSuffix() string {
	if os.PathSeparator == '\\' {
		return ".exe"
	}
	return ""
}
