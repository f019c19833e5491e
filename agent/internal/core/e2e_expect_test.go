package core_test

import (
	"context"
	"net/http"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/deskside/deskside/agent/agentapi"
	"github.com/deskside/deskside/agent/internal/core"
	"github.com/deskside/deskside/agent/internal/store"
	"github.com/deskside/deskside/server/servertest"
	"github.com/deskside/deskside/shared/protocol"
)

// The agent says exactly what the real server promises at hello — no
// more: a promise kept from before is replaced (today's server, before
// the response-target part, promises nothing, so nothing may be shown);
// a request waiting for its first answer carries the promise with who is
// on it, and IT's first message ends it. A probe device reads the
// server's welcome, so the test holds before and after the server fills
// expectations.
func TestE2EExpectationsAreWhatTheServerPromises(t *testing.T) {
	srv := servertest.New(t)
	probe := srv.Enroll(t, "probe")
	wel := probe.ConnectWith(t, protocol.Hello{AgentVersion: "1.0.0", OS: "linux", Arch: "amd64", Revision: protocol.Revision})
	probe.Close()
	promised := map[protocol.Urgency]protocol.Expectation{}
	for _, e := range wel.Expectations {
		if _, seen := promised[e.Urgency]; !seen && e.Urgency.Valid() && e.FirstResponseMinutes > 0 {
			promised[e.Urgency] = e
		}
	}
	if len(promised) == 0 {
		t.Log("the server promises nothing yet: checking that the agent invents nothing and drops what it kept")
	}
	want := func(u protocol.Urgency, assignee string) string {
		e, ok := promised[u]
		if !ok {
			return ""
		}
		return core.ExpectationWords(e, assignee, time.Now(), time.Local)
	}

	// An earlier run kept a promise the server no longer makes.
	db := filepath.Join(t.TempDir(), "agent.db")
	st, err := store.Open(db, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.SetMeta(context.Background(), "expectations", `[{"urgency":"blocking","first_response_minutes":1,"working":true}]`); err != nil {
		t.Fatal(err)
	}
	st.Close()

	a := startAgent(t, db, enrolled(t, srv), store.Options{})
	wantStatus := []string{want(protocol.UrgencyBlocking, ""), want(protocol.UrgencyWhenYouCan, "")}
	deadline := time.Now().Add(20 * time.Second)
	for {
		s := a.conn()
		got := []string{agentapi.ExpectationFor(s.Expectations, protocol.UrgencyBlocking), agentapi.ExpectationFor(s.Expectations, protocol.UrgencyWhenYouCan)}
		if s.State == agentapi.ConnOnline && reflect.DeepEqual(got, wantStatus) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("status promises %q, want %q (state %s)", got, wantStatus, s.State)
		}
		time.Sleep(20 * time.Millisecond)
	}

	ctx := context.Background()
	r, err := a.RaiseRequest(ctx, agentapi.NewRequest{Text: "I can't log in to payroll", Urgency: protocol.UrgencyBlocking})
	if err != nil {
		t.Fatal(err)
	}
	if r.Expectation != want(protocol.UrgencyBlocking, "") {
		t.Fatalf("raised: %q, want %q", r.Expectation, want(protocol.UrgencyBlocking, ""))
	}
	a.waitFor(t, "sent", func(ev agentapi.Event) bool { return ev.Type == agentapi.EventRequest && ev.Request.Sent })
	tech := srv.Tech(t)
	if st := tech.Do(t, http.MethodPatch, "/api/v1/requests/"+r.ID, map[string]string{"status": "in_progress", "assignee": "me"}, nil); st != http.StatusOK {
		t.Fatalf("patch: %d", st)
	}
	ev := a.waitFor(t, "picked up", func(ev agentapi.Event) bool {
		return ev.Type == agentapi.EventRequest && ev.Request.Status == protocol.StatusInProgress && ev.Request.Assignee != nil
	})
	if w := want(protocol.UrgencyBlocking, ev.Request.Assignee.Name); ev.Request.Expectation != w {
		t.Fatalf("picked up: %q, want %q", ev.Request.Expectation, w)
	}
	if st := tech.Do(t, http.MethodPost, "/api/v1/requests/"+r.ID+"/messages", map[string]string{"text": "Try now?"}, nil); st != http.StatusCreated {
		t.Fatalf("tech message: %d", st)
	}
	a.waitFor(t, "IT's answer", func(ev agentapi.Event) bool { return ev.Type == agentapi.EventMessage })
	got, err := a.Request(ctx, r.ID)
	if err != nil || got.Expectation != "" || !got.Answered {
		t.Fatalf("answered: %+v, %v", got, err)
	}
}
