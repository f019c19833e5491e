//go:build darwin

package tray

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// TestOsascriptReceivesTextsVerbatim runs osascript with the notifier's
// arguments, its display line swapped for one that echoes them back, and
// checks AppleScript saw the hostile texts as they were.
func TestOsascriptReceivesTextsVerbatim(t *testing.T) {
	if _, err := exec.LookPath("osascript"); err != nil {
		t.Skip("no osascript")
	}
	args := osascriptArgs("Acme IT", Notification{Title: hostile, Body: hostile})
	i := slices.Index(args, osascriptScript[1])
	args[i] = `return (item 2 of argv) & "|" & (item 3 of argv) & "|" & (item 4 of argv)`
	out, err := exec.Command("osascript", args...).Output()
	if err != nil {
		t.Fatalf("osascript: %v", err)
	}
	want := "Acme IT|" + oneLine(hostile) + "|" + strings.TrimSpace(printable(hostile))
	if got := strings.TrimSuffix(string(out), "\n"); got != want {
		t.Errorf("AppleScript saw\n%q\nwant\n%q", got, want)
	}
}
