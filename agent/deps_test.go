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
