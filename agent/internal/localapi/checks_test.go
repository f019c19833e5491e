package localapi_test

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/deskside/deskside/agent/agentapi"
	"github.com/deskside/deskside/agent/agentapi/agentapitest"
	"github.com/deskside/deskside/agent/internal/localapi"
	"github.com/deskside/deskside/shared/protocol"
)

// The checks routes carry the items and the actions both ways over a real
// socket, and the agent's refusal arrives as the same sentence.
func TestChecksOverSocket(t *testing.T) {
	dir, err := os.MkdirTemp("", "lapi")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	f := &agentapitest.Fake{}
	item := agentapi.CheckItem{Kind: protocol.CheckDiskSpace, State: protocol.CheckWarn, Title: "Disk space",
		Summary: "Your disk is almost full: 3.1 GB left on /home (3% free).", Evidence: map[string]string{"free_gb": "3.1"},
		Fix: "clear_temp", ObservedAt: time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)}
	f.SetChecks([]agentapi.CheckItem{item}, false)
	sock := filepath.Join(dir, "agent.sock")
	l, err := localapi.Listen(sock)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = localapi.Serve(ctx, l, f, nil) }()
	t.Cleanup(func() { cancel(); <-done })
	c := localapi.NewClient(sock)

	got, err := c.Checks(context.Background())
	if err != nil || len(got) != 1 || !reflect.DeepEqual(got[0], item) {
		t.Fatalf("checks: %+v %v", got, err)
	}
	res, err := c.CheckAction(context.Background(), protocol.CheckDiskSpace, agentapi.CheckPlanFix, "")
	if err != nil || res.Plan == nil || res.Plan.Bytes != 2_400_000_000 {
		t.Fatalf("plan: %+v %v", res, err)
	}
	if res, err = c.CheckAction(context.Background(), protocol.CheckDiskSpace, agentapi.CheckFix, "tonight"); err != nil || res.Item.State != protocol.CheckFixed {
		t.Fatalf("fix: %+v %v", res, err)
	}
	_, err = c.CheckAction(context.Background(), "battery_health", agentapi.CheckSnooze, "")
	if !agentapi.IsCode(err, agentapi.CodeNotFound) || agentapi.UserMessage(err) != "That check isn't running on this computer." {
		t.Fatalf("unknown check: %v", err)
	}
	if calls := f.CheckCalls(); len(calls) != 3 || calls[1] != "disk_space fix tonight" {
		t.Fatalf("calls %q", calls)
	}
}
