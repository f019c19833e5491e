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

// checkCounts is one check's line of GET /api/v1/checks/summary.
type checkCounts struct {
	Check       protocol.CheckKind `json:"check"`
	Affected    int                `json:"affected"`
	Warning     int                `json:"warning"`
	FixedByUser int                `json:"fixed_by_user"`
	AskedIT     int                `json:"asked_it"`
	Snoozed     int                `json:"snoozed"`
}

func summaryOf(t *testing.T, tech *servertest.Tech, k protocol.CheckKind) checkCounts {
	t.Helper()
	var out struct {
		Checks []checkCounts `json:"checks"`
	}
	if st := tech.Do(t, http.MethodGet, "/api/v1/checks/summary", nil, &out); st != http.StatusOK {
		t.Fatalf("checks summary: %d", st)
	}
	for _, c := range out.Checks {
		if c.Check == k {
			return c
		}
	}
	return checkCounts{Check: k}
}

// The whole heads-up loop with the real server: a desk is fine under the
// default policy; IT raises the disk threshold from the console's API; the
// desk applies it, warns with IT's words and reports; the summary counts
// it as affected; "Ask IT" moves it to asked_it and the technician's
// request carries the evidence and the check.
func TestE2EHeadsUpPolicyReportAndSummary(t *testing.T) {
	srv := servertest.New(t)
	tech := srv.Tech(t)
	a := startAgentWith(t, filepath.Join(t.TempDir(), "agent.db"), enrolled(t, srv), store.Options{}, func(cfg *core.Config) {
		cfg.Checks = &checks.Config{
			Env: checks.Env{Root: t.TempDir(), Home: t.TempDir(), Timeout: 5 * time.Second,
				Mounts: func(context.Context) ([]checks.Mount, error) {
					return []checks.Mount{{Path: "/", TotalBytes: 100e9, FreeBytes: 30e9}}, nil // 30 % free
				}},
			ReportJitter: time.Millisecond,
		}
	})
	a.waitFor(t, "online", isState(agentapi.ConnOnline))
	if c := summaryOf(t, tech, protocol.CheckDiskSpace); c.Affected != 0 {
		t.Fatalf("30 %% free is fine by default, yet the summary says %+v", c)
	}

	policy := map[string]any{"checks": []protocol.CheckPolicy{{Kind: protocol.CheckDiskSpace, Enabled: true, DiskFreePct: 40,
		RemindHours: 24, Title: "Running out of room", Text: "Only {free_gb} GB left on {mount}."}}}
	if st := tech.Do(t, http.MethodPut, "/api/v1/checks/policy", policy, nil); st != http.StatusOK {
		t.Fatalf("put policy: %d", st)
	}
	ev := a.waitFor(t, "the desk warning under IT's policy", func(ev agentapi.Event) bool {
		return ev.Type == agentapi.EventCheck && ev.Notify && ev.Check.Kind == protocol.CheckDiskSpace
	})
	if !strings.Contains(ev.Check.Summary, "30") {
		t.Errorf("the warning does not give the figure: %q", ev.Check.Summary)
	}
	eventually(t, "the server to count the desk as affected", func() bool {
		c := summaryOf(t, tech, protocol.CheckDiskSpace)
		return c.Affected == 1 && c.Warning == 1
	})

	res, err := a.CheckAction(context.Background(), protocol.CheckDiskSpace, agentapi.CheckAskIT, "")
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "the summary to count 'asked IT'", func() bool {
		c := summaryOf(t, tech, protocol.CheckDiskSpace)
		return c.AskedIT == 1 && c.Affected == 1 && c.Warning == 0
	})
	var got struct {
		Request protocol.RequestSummary `json:"request"`
	}
	eventually(t, "the request at the server", func() bool {
		return tech.Do(t, http.MethodGet, "/api/v1/requests/"+res.RequestID, nil, &got) == http.StatusOK
	})
	for _, want := range []string{"Only 30.0 GB left on /.", "free_gb: 30.0", "free_pct: 30"} {
		if !strings.Contains(got.Request.Text, want) {
			t.Errorf("the request lacks %q:\n%s", want, got.Request.Text)
		}
	}
}
