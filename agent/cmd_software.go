package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/deskside/deskside/agent/agentapi"
	"github.com/deskside/deskside/agent/internal/core"
	"github.com/deskside/deskside/agent/internal/localapi"
	"github.com/deskside/deskside/agent/internal/store"
	"github.com/deskside/deskside/shared/protocol"
)

// `deskside-agent software`: the installed software this computer reports
// to IT, exactly as the agent keeps it (what the server acknowledged when
// in sync).
func init() {
	commands["software"] = command{"list the installed software this computer reports to IT (--json)", cmdSoftware}
	synopsis["software"] = " [--json]"
}

func cmdSoftware(ctx context.Context, args []string) error {
	return softwareCommand(ctx, os.Stdout, localapi.NewClient(os.Getenv("DESKSIDE_SOCKET")), softwareOffline, args)
}

// softwareCommand asks the running agent (b); when none runs, offline
// answers (the agent's store, else a collection made now).
func softwareCommand(ctx context.Context, w io.Writer, b agentapi.Backend,
	offline func(context.Context) (agentapi.SoftwareInventory, string, error), args []string) error {
	fs := newFlags("software")
	fs.SetOutput(w)
	asJSON := fs.Bool("json", false, "print the inventory as JSON (entries, hash, in_sync, collected_at, truncated, unreadable)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("software takes no words, only --json")
	}
	inv, err := b.Software(ctx)
	note := ""
	if agentapi.IsCode(err, agentapi.CodeUnavailable) {
		inv, note, err = offline(ctx)
	}
	if err != nil {
		return err
	}
	if inv.Entries == nil {
		inv.Entries = []protocol.SoftwareEntry{}
	}
	if *asJSON {
		return writeJSON(w, inv)
	}
	if note != "" {
		fmt.Fprintln(w, note)
	}
	printSoftware(w, inv)
	return nil
}

// softwareOffline reads what the agent last kept; on a computer where it
// never collected, it collects now (nothing is kept or sent).
func softwareOffline(ctx context.Context) (agentapi.SoftwareInventory, string, error) {
	p, err := agentPaths()
	if err != nil {
		return agentapi.SoftwareInventory{}, "", err
	}
	if _, statErr := os.Stat(p.db); statErr == nil {
		st, err := store.Open(p.db, store.Options{})
		if err != nil {
			return agentapi.SoftwareInventory{}, "", &userFacingError{core.Words(err), err}
		}
		inv, err := core.LocalSoftware(ctx, st)
		st.Close()
		if err != nil {
			return inv, "", err
		}
		if inv.Hash != "" {
			return inv, "The agent isn't running; this is what it found last.", nil
		}
	}
	inv, err := core.SoftwareNow(ctx)
	return inv, "The agent isn't running, so this was read just now — IT doesn't have it yet.", err
}

// printSoftware lists the entries (name, version, source, a * for a
// per-user install) and says how many and whether IT has exactly this.
func printSoftware(w io.Writer, inv agentapi.SoftwareInventory) {
	if len(inv.Entries) == 0 && inv.Hash == "" {
		fmt.Fprintln(w, "The agent hasn't looked at the installed software yet: it does a few minutes after it starts (is it running? deskside-agent status).")
		return
	}
	perUser := 0
	for _, e := range inv.Entries {
		mark := " "
		if e.PerUser {
			mark, perUser = "*", perUser+1
		}
		fmt.Fprintf(w, "%s %-40s %-24s %s\n", mark, clip(e.Name, 40), clip(e.Version, 24), e.Source)
	}
	if len(inv.Entries) > 0 {
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "%d %s", len(inv.Entries), plural(len(inv.Entries), "entry", "entries"))
	if perUser > 0 {
		fmt.Fprintf(w, ", %d installed just for you (*)", perUser)
	}
	if !inv.CollectedAt.IsZero() {
		fmt.Fprintf(w, ", found %s", inv.CollectedAt.Local().Format("Jan _2 15:04"))
	}
	fmt.Fprintln(w, ".")
	if inv.InSync {
		fmt.Fprintln(w, "IT has exactly this list.")
	} else {
		fmt.Fprintln(w, "Not yet with IT: it goes out when we're connected.")
	}
	for _, s := range inv.Unreadable {
		fmt.Fprintf(w, "Couldn't read %s this time; what it listed before is kept.\n", s)
	}
	if inv.Truncated {
		fmt.Fprintf(w, "There is more than a list can carry; the first %d are reported.\n", len(inv.Entries))
	}
}

// clip cuts s to n runes, with an ellipsis.
func clip(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
