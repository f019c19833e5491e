//go:build linux

package tray

import (
	"testing"

	"github.com/deskside/deskside/agent/agentapi"
	"github.com/deskside/deskside/shared/protocol"
)

// A check that starts warning reaches the desktop's notification server
// (a private D-Bus) in plain words with its numbers, and a click opens the
// Heads-up window.
func TestDBusHeadsUpNotification(t *testing.T) {
	r := startDBusRig(t, Branding{})
	r.fake.SetChecks([]agentapi.CheckItem{{Kind: protocol.CheckPasswordExpiry, State: protocol.CheckWarn, Title: "Password",
		Summary: "Your password expires in 3 days (Sunday 6 December). Change it now so you're not locked out.",
		Fix:     "open_password_page"}}, true)
	got := r.server.received(t)
	if got.Summary != "Heads-up: password" ||
		got.Body != "Your password expires in 3 days (Sunday 6 December). Change it now so you're not locked out. Open Heads-up to fix it in one click." {
		t.Errorf("Notify(summary %q, body %q)", got.Summary, got.Body)
	}
	r.server.click(t, got.ID)
	if s := r.opened(t); s != "heads-up" {
		t.Errorf("click opened %q, want the Heads-up window", s)
	}
}
