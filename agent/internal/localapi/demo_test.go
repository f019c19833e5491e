package localapi_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/deskside/deskside/agent/agentapi"
	"github.com/deskside/deskside/agent/agentapi/agentapitest"
	"github.com/deskside/deskside/agent/internal/localapi"
	"github.com/deskside/deskside/shared/protocol"
)

// TestDemoHeadsUp serves a Fake agent with heads-up items on
// DESKSIDE_DEMO_SOCKET for DESKSIDE_DEMO_SECONDS (default 60), so the real
// window app can be shown and captured under Xvfb
// (scripts/screenshot-heads-up.sh). Skipped otherwise.
func TestDemoHeadsUp(t *testing.T) {
	sock := os.Getenv("DESKSIDE_DEMO_SOCKET")
	if sock == "" {
		t.Skip("DESKSIDE_DEMO_SOCKET is not set: this serves a demo agent for screenshots")
	}
	f := agentapitest.NewFake()
	now := time.Now()
	f.SetChecks([]agentapi.CheckItem{
		{Kind: protocol.CheckPasswordExpiry, State: protocol.CheckWarn, Title: "Password",
			Summary:  "Your password expires in 3 days (" + now.AddDate(0, 0, 3).Format("Monday 2 January") + "). Change it now so you're not locked out.",
			Deadline: now.AddDate(0, 0, 3), Fix: "open_password_page", HowToURL: "https://help.acme.test/password"},
		{Kind: protocol.CheckDiskSpace, State: protocol.CheckWarn, Title: "Disk space",
			Summary: "Your disk is almost full: 3.1 GB left on /home (3% free).", Fix: "clear_temp"},
		{Kind: protocol.CheckRestartNeeded, State: protocol.CheckSnoozed, Title: "Restart", Fix: "restart",
			Summary: "Your computer has been on for 23 days. A restart keeps it quick and safe.", SnoozedUntil: now.Add(20 * time.Hour)},
		{Kind: protocol.CheckOSUpdates, State: protocol.CheckOK, Title: "Updates", Summary: "Your computer is up to date."},
		{Kind: protocol.CheckBatteryHealth, State: protocol.CheckOK, Title: "Battery", Summary: "Your battery is healthy: it holds 91% of what it did when new."},
		{Kind: protocol.CheckDiskEncryption, State: protocol.CheckOK, Title: "Disk encryption", Summary: "Your disk is encrypted: your files are safe if the computer is lost."},
	}, false)
	f.SetStatus(agentapi.Connection{State: agentapi.ConnOnline, ServerName: "Acme IT"})
	l, err := localapi.Listen(sock)
	if err != nil {
		t.Fatal(err)
	}
	secs := 60 * time.Second
	if d, err := time.ParseDuration(os.Getenv("DESKSIDE_DEMO_SECONDS") + "s"); err == nil && d > 0 {
		secs = d
	}
	ctx, cancel := context.WithTimeout(context.Background(), secs)
	defer cancel()
	_ = localapi.Serve(ctx, l, f, nil)
}
