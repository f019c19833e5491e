package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestAgentLinksNoFyne keeps fyne (and the GL and X11 libraries it loads at
// start) out of the agent binary: the agent process runs all day on every
// desk, so its idle footprint is paid thousands of times over. The windows
// live in the deskside-ui program (agent/cmd/deskside-ui). fyne.io/systray,
// pure Go on Linux, is fine.
func TestAgentLinksNoFyne(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	var bad []string
	for _, p := range strings.Fields(string(out)) {
		if p == "fyne.io/fyne/v2" || strings.HasPrefix(p, "fyne.io/fyne/") ||
			strings.HasPrefix(p, "github.com/go-gl/") {
			bad = append(bad, p)
		}
	}
	if len(bad) > 0 {
		t.Errorf("the agent links %d fyne/GL packages; keep them in agent/cmd/deskside-ui: %s",
			len(bad), strings.Join(bad, " "))
	}
}

// TestAgentLayers keeps the layout's rules for the agent: the core side
// (agent/internal/... and agent/agentapi) knows nothing of the user
// interface, of fyne or of the packager. The UI depends on agentapi, the
// installer on shared/enrollconf; never the other way round.
func TestAgentLayers(t *testing.T) {
	const mod = "github.com/deskside/deskside/"
	out, err := exec.Command("go", "list", "-deps", "-f", `{{.ImportPath}}{{range .Deps}} {{.}}{{end}}`,
		"./internal/...", "./agentapi/...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	forbidden := func(p string) bool {
		return strings.HasPrefix(p, mod+"agent/ui/") || strings.HasPrefix(p, mod+"installer/") ||
			strings.HasPrefix(p, "fyne.io/") || strings.HasPrefix(p, "github.com/go-gl/")
	}
	core := func(p string) bool {
		return strings.HasPrefix(p, mod+"agent/internal/") || p == mod+"agent/agentapi" ||
			strings.HasPrefix(p, mod+"agent/agentapi/")
	}
	var bad []string
	checked := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 || !core(f[0]) {
			continue
		}
		checked++
		for _, imp := range f[1:] {
			if forbidden(imp) {
				bad = append(bad, f[0]+" depends on "+imp)
			}
		}
	}
	if checked < 8 {
		t.Fatalf("checked only %d agent core packages; is go list finding them?", checked)
	}
	for _, b := range bad {
		t.Error(b)
	}
}
