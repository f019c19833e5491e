package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/deskside/deskside/agent/agentapi"
	"github.com/deskside/deskside/agent/internal/localapi"
	"github.com/deskside/deskside/shared/protocol"
)

func init() {
	commands["checks"] = command{"show the heads-up checks on this computer and what each found (--json)", cmdChecks}
	synopsis["checks"] = " [--json]"
}

// cmdChecks prints each heads-up check's current result.
func cmdChecks(ctx context.Context, args []string) error {
	fs := newFlags("checks")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parse(fs, args); err != nil {
		return err
	}
	cs, err := localapi.NewClient(os.Getenv("DESKSIDE_SOCKET")).Checks(ctx)
	if err != nil {
		return err
	}
	if *asJSON {
		if cs == nil {
			cs = []agentapi.CheckItem{}
		}
		return printJSON(cs)
	}
	printChecks(os.Stdout, cs)
	return nil
}

// checkStateWords is a check's state for a person.
func checkStateWords(c agentapi.CheckItem) string {
	switch c.State {
	case protocol.CheckWarn:
		return "needs you"
	case protocol.CheckOK:
		return "ok"
	case protocol.CheckFixed:
		return "fixed"
	case protocol.CheckSnoozed:
		return "later (" + c.SnoozedUntil.Local().Format("Jan _2 15:04") + ")"
	case protocol.CheckAskedIT:
		return "with IT"
	case protocol.CheckUnknown:
		return "couldn't check"
	}
	return string(c.State)
}

// printChecks lists the checks, one per line, with what to do next for
// the ones that need the person.
func printChecks(w io.Writer, cs []agentapi.CheckItem) {
	if len(cs) == 0 {
		fmt.Fprintln(w, "No heads-up checks have run yet: they run as soon as the agent starts (is it running? deskside-agent status).")
		return
	}
	need := 0
	for _, c := range cs {
		mark := " "
		if c.Attention() {
			mark, need = "!", need+1
		}
		fmt.Fprintf(w, "%s %-16s %-22s %s\n", mark, c.Title, checkStateWords(c), c.Summary)
		if c.RequestID != "" {
			fmt.Fprintf(w, "  %-16s %-22s request %s\n", "", "", c.RequestID)
		}
	}
	if need > 0 {
		fmt.Fprintln(w, "\nOpen Heads-up from the Deskside menu to fix these, be reminded later, or ask IT.")
	}
}
