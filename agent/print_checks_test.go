package main

import (
	"strings"
	"testing"

	"github.com/deskside/deskside/agent/agentapi"
	"github.com/deskside/deskside/shared/protocol"
)

func TestPrintChecks(t *testing.T) {
	var b strings.Builder
	printChecks(&b, []agentapi.CheckItem{
		{Kind: protocol.CheckPasswordExpiry, State: protocol.CheckWarn, Title: "Password", Summary: "Your password expires in 3 days (Sunday 6 December)."},
		{Kind: protocol.CheckDiskSpace, State: protocol.CheckAskedIT, Title: "Disk space", Summary: "Your disk is almost full: 3.1 GB left on /home (3% free).", RequestID: "r-1"},
		{Kind: protocol.CheckDiskEncryption, State: protocol.CheckUnknown, Title: "Disk encryption", Summary: "We couldn't check whether your disk is encrypted."},
	})
	want := `! Password         needs you              Your password expires in 3 days (Sunday 6 December).
  Disk space       with IT                Your disk is almost full: 3.1 GB left on /home (3% free).
                                          request r-1
  Disk encryption  couldn't check         We couldn't check whether your disk is encrypted.

Open Heads-up from the Deskside menu to fix these, be reminded later, or ask IT.
`
	if b.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", b.String(), want)
	}
	b.Reset()
	printChecks(&b, nil)
	if !strings.Contains(b.String(), "No heads-up checks have run yet") {
		t.Errorf("empty: %q", b.String())
	}
}
