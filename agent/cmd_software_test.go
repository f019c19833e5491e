package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/deskside/deskside/agent/agentapi"
	"github.com/deskside/deskside/agent/agentapi/agentapitest"
	"github.com/deskside/deskside/agent/internal/core"
	"github.com/deskside/deskside/agent/internal/localapi"
	"github.com/deskside/deskside/agent/internal/store"
	"github.com/deskside/deskside/shared/protocol"
)

// `deskside-agent software` over the real local API: the list as the agent
// reports it, and --json exactly agentapi.SoftwareInventory.
func TestSoftwareCommand(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sock := filepath.Join(t.TempDir(), "agent.sock")
	l, err := localapi.Listen(sock)
	if err != nil {
		t.Fatal(err)
	}
	f := agentapitest.NewFake()
	sample := agentapitest.SampleSoftware()
	sample.CollectedAt = sample.CollectedAt.UTC().Truncate(time.Millisecond)
	f.SetSoftware(sample)
	done := make(chan struct{})
	go func() { defer close(done); _ = localapi.Serve(ctx, l, f, slog.New(slog.DiscardHandler)) }()
	defer func() { cancel(); <-done }()
	client := localapi.NewClient(sock)
	noOffline := func(context.Context) (agentapi.SoftwareInventory, string, error) {
		t.Fatal("asked the offline path while the agent runs")
		return agentapi.SoftwareInventory{}, "", nil
	}
	run := func(b agentapi.Backend, off func(context.Context) (agentapi.SoftwareInventory, string, error), args ...string) (string, error) {
		var out strings.Builder
		err := softwareCommand(ctx, &out, b, off, args)
		return out.String(), err
	}

	out, err := run(client, noOffline)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"* Figma                                    124.1.2                  appimage\n",
		"  firefox-esr                              115.9.1esr-1             dpkg\n",
		"5 entries, 2 installed just for you (*)", "IT has exactly this list."} {
		if !strings.Contains(out, want) {
			t.Errorf("the list lacks %q:\n%s", want, out)
		}
	}
	out, err = run(client, noOffline, "--json")
	var got agentapi.SoftwareInventory
	if err != nil || json.Unmarshal([]byte(out), &got) != nil {
		t.Fatalf("--json:\n%s\n%v", out, err)
	}
	if !reflect.DeepEqual(got.Entries, sample.Entries) || got.Hash != sample.Hash || !got.InSync || !got.CollectedAt.Equal(sample.CollectedAt) {
		t.Fatalf("--json gave %+v\nwant %+v", got, sample)
	}
	if _, err := run(client, noOffline, "figma"); err == nil {
		t.Fatal("words after software: no error")
	}

	// No agent running: the agent's store answers, saying so.
	down := localapi.NewClient(filepath.Join(t.TempDir(), "nobody.sock"))
	st, err := store.Open(filepath.Join(t.TempDir(), "agent.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	entries := sample.Entries[:2]
	if err := st.SaveSoftwareCurrent(ctx, store.SoftwareSet{Entries: entries, Hash: protocol.SoftwareHash(entries), CollectedAt: time.Now(),
		Unreadable: []protocol.SoftwareSource{protocol.SourceSnap}}); err != nil {
		t.Fatal(err)
	}
	fromStore := func(ctx context.Context) (agentapi.SoftwareInventory, string, error) {
		inv, err := core.LocalSoftware(ctx, st)
		return inv, "The agent isn't running; this is what it found last.", err
	}
	out, err = run(down, fromStore)
	if err != nil || !strings.HasPrefix(out, "The agent isn't running") || !strings.Contains(out, "2 entries") ||
		!strings.Contains(out, "Not yet with IT") || !strings.Contains(out, "Couldn't read snap this time") {
		t.Fatalf("offline:\n%s\n%v", out, err)
	}
}

func TestPrintSoftwareEmpty(t *testing.T) {
	var b strings.Builder
	printSoftware(&b, agentapi.SoftwareInventory{})
	if !strings.Contains(b.String(), "hasn't looked at the installed software yet") {
		t.Fatalf("empty: %q", b.String())
	}
}
