package core_test

import (
	"context"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/deskside/deskside/agent/agentapi"
	"github.com/deskside/deskside/agent/internal/checks"
	"github.com/deskside/deskside/agent/internal/core"
	"github.com/deskside/deskside/agent/internal/store"
	"github.com/deskside/deskside/server/servertest"
	"github.com/deskside/deskside/shared/protocol"
)

// A desk whose disk is almost full, linked to a real server: the check
// warns (and says so as an event to notify), a check.report waits in the
// outbox, and "Ask IT" raises a request the technician sees with the
// evidence, in one click.
func TestE2EHeadsUpAskIT(t *testing.T) {
	srv := servertest.New(t)
	creds := enrolled(t, srv)
	db := filepath.Join(t.TempDir(), "agent.db")
	a := startAgentWith(t, db, creds, store.Options{}, func(cfg *core.Config) {
		cfg.Checks = &checks.Config{
			Env: checks.Env{Root: t.TempDir(), Home: t.TempDir(), Timeout: 5 * time.Second,
				Mounts: func(context.Context) ([]checks.Mount, error) {
					return []checks.Mount{{Path: "/home", TotalBytes: 256e9, FreeBytes: 3.1e9}}, nil
				}},
			ReportJitter: time.Millisecond,
		}
	})
	ev := a.waitFor(t, "disk warning", func(ev agentapi.Event) bool {
		return ev.Type == agentapi.EventCheck && ev.Notify && ev.Check.Kind == protocol.CheckDiskSpace
	})
	if ev.Check.Summary != "Your disk is almost full: 3.1 GB left on /home (1% free)." || ev.Check.Fix != "clear_temp" {
		t.Fatalf("warning %+v", ev.Check)
	}
	items, err := a.Checks(context.Background())
	if err != nil || len(items) == 0 {
		t.Fatalf("checks: %v %v", items, err)
	}
	res, err := a.CheckAction(context.Background(), protocol.CheckDiskSpace, agentapi.CheckAskIT, "")
	if err != nil || res.RequestID == "" || res.Item.State != protocol.CheckAskedIT {
		t.Fatalf("ask IT: %+v %v", res, err)
	}
	if _, err := a.CheckAction(context.Background(), protocol.CheckDiskSpace, agentapi.CheckAskIT, ""); !agentapi.IsCode(err, agentapi.CodeBadRequest) {
		t.Fatalf("asking twice: %v", err)
	}
	a.waitFor(t, "request sent", func(ev agentapi.Event) bool {
		return ev.Type == agentapi.EventRequest && ev.Request.ID == res.RequestID && ev.Request.Sent
	})
	tech := srv.Tech(t)
	var out struct {
		Requests []protocol.RequestSummary `json:"requests"`
	}
	if st := tech.Do(t, http.MethodGet, "/api/v1/requests", nil, &out); st != http.StatusOK {
		t.Fatalf("list requests: %d", st)
	}
	var got *protocol.RequestSummary
	for i := range out.Requests {
		if out.Requests[i].RequestID == res.RequestID {
			got = &out.Requests[i]
		}
	}
	if got == nil {
		t.Fatalf("the technician does not see request %s", res.RequestID)
	}
	for _, want := range []string{"Your disk is almost full: 3.1 GB left on /home", "free_gb: 3.1", "path: /home"} {
		if !strings.Contains(got.Text, want) {
			t.Errorf("the technician's request lacks %q:\n%s", want, got.Text)
		}
	}
	if got.Category != protocol.CategoryProblem {
		t.Errorf("category %s", got.Category)
	}
}

// Checks run before enrolment and offline, with the policy kept in the
// store; a newer policy from IT replaces it, an older replay does not.
func TestChecksPolicyKeptAndAppliedOffline(t *testing.T) {
	db := filepath.Join(t.TempDir(), "agent.db")
	st, err := store.Open(db, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	send := func(seq uint64, p protocol.ChecksPolicy) {
		env, err := protocol.New(protocol.KindChecksPolicy, p)
		if err != nil {
			t.Fatal(err)
		}
		env.Seq = seq
		if _, err := st.ApplyServerFrame(context.Background(), env); err != nil {
			t.Fatal(err)
		}
	}
	send(1, protocol.ChecksPolicy{Revision: 5, Checks: []protocol.CheckPolicy{{Kind: protocol.CheckDiskSpace, Enabled: true, DiskFreePct: 50}}})
	send(2, protocol.ChecksPolicy{Revision: 4, Checks: []protocol.CheckPolicy{{Kind: protocol.CheckDiskSpace, Enabled: false}}})
	st.Close()

	a := startAgentWith(t, db, nil, store.Options{}, func(cfg *core.Config) {
		cfg.Checks = &checks.Config{Env: checks.Env{Root: t.TempDir(), Home: t.TempDir(), Timeout: 5 * time.Second,
			Mounts: func(context.Context) ([]checks.Mount, error) {
				return []checks.Mount{{Path: "/", TotalBytes: 100e9, FreeBytes: 40e9}}, nil
			}}}
	})
	// 40 % free warns only under revision 5's 50 %: the newer policy is
	// the one applied, offline and before enrolment.
	ev := a.waitFor(t, "disk warning under the kept policy", func(ev agentapi.Event) bool {
		return ev.Type == agentapi.EventCheck && ev.Notify
	})
	if ev.Check.Kind != protocol.CheckDiskSpace {
		t.Fatalf("warning %+v", ev.Check)
	}
	items, _ := a.Checks(context.Background())
	if len(items) != 1 {
		t.Fatalf("policy revision 5 has one check; the agent runs %d", len(items))
	}
}
