package core_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/deskside/deskside/agent/agentapi"
	"github.com/deskside/deskside/agent/internal/core"
	"github.com/deskside/deskside/agent/internal/enroll"
	"github.com/deskside/deskside/agent/internal/link"
	"github.com/deskside/deskside/agent/internal/store"
	"github.com/deskside/deskside/agent/internal/sysinfo"
	"github.com/deskside/deskside/server/servertest"
	"github.com/deskside/deskside/shared/protocol"
)

// agent is a real core on a real store, linked to a real in-process server.
type agent struct {
	*core.Core
	st     *store.Store
	events <-chan agentapi.Event
	stop   func()
}

var sys = sysinfo.New(sysinfo.Options{AgentVersion: "1.0.0-test"})

func startAgent(t *testing.T, db string, creds *enroll.Credentials, opt store.Options) *agent {
	t.Helper()
	return startAgentWith(t, db, creds, opt, nil)
}

// startAgentWith lets a test adjust the core's config (hooks) first.
func startAgentWith(t *testing.T, db string, creds *enroll.Credentials, opt store.Options, mod func(*core.Config)) *agent {
	t.Helper()
	st, err := store.Open(db, opt)
	if err != nil {
		t.Fatal(err)
	}
	cfg := core.Config{Store: st, Collector: sys, Creds: creds,
		Link: func(lc *link.Config) {
			lc.BackoffBase, lc.BackoffCap, lc.CursorDelay = 20*time.Millisecond, 200*time.Millisecond, 20*time.Millisecond
		}}
	if mod != nil {
		mod(&cfg)
	}
	c, err := core.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	subCtx, cancelSub := context.WithCancel(context.Background())
	events, err := c.Events(subCtx)
	if err != nil {
		t.Fatal(err)
	}
	<-events // the connection as it is now: the tests wait for changes
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = c.Run(ctx) }()
	a := &agent{Core: c, st: st, events: events}
	var stopped bool
	a.stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		<-done
		cancelSub()
		c.Close()
		st.Close()
	}
	t.Cleanup(a.stop)
	return a
}

// conn is the core's Status, for tests that only look at it.
func (a *agent) conn() agentapi.Connection {
	s, _ := a.Status(context.Background())
	return s
}

func (a *agent) waitFor(t *testing.T, what string, ok func(agentapi.Event) bool) agentapi.Event {
	t.Helper()
	timeout := time.After(20 * time.Second)
	for {
		select {
		case ev, open := <-a.events:
			if !open {
				t.Fatalf("events closed while waiting for %s", what)
			}
			if ok(ev) {
				return ev
			}
		case <-timeout:
			t.Fatalf("timed out waiting for %s (status %+v)", what, a.conn())
		}
	}
}

func isState(s agentapi.ConnState) func(agentapi.Event) bool {
	return func(ev agentapi.Event) bool { return ev.Type == agentapi.EventConnection && ev.Connection.State == s }
}

func enrolled(t *testing.T, srv *servertest.Server) *enroll.Credentials {
	t.Helper()
	creds, err := enroll.Enroll(context.Background(), srv.URL(), srv.Token(t), enroll.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return creds
}

func serverRequests(t *testing.T, tech *servertest.Tech, text string) []protocol.RequestSummary {
	t.Helper()
	var out struct {
		Requests []protocol.RequestSummary `json:"requests"`
	}
	if st := tech.Do(t, http.MethodGet, "/api/v1/requests", nil, &out); st != http.StatusOK {
		t.Fatalf("list requests: %d", st)
	}
	var got []protocol.RequestSummary
	for _, r := range out.Requests {
		if r.Text == text {
			got = append(got, r)
		}
	}
	return got
}

// Offline → ask → the server comes up → delivered exactly once.
func TestE2EOfflineAskDeliveredOnceWhenServerComesUp(t *testing.T) {
	srv := servertest.New(t)
	creds := enrolled(t, srv)
	srv.Close()

	a := startAgent(t, filepath.Join(t.TempDir(), "agent.db"), creds, store.Options{})
	ev := a.waitFor(t, "offline", isState(agentapi.ConnOffline))
	if ev.Connection.Detail != core.MsgOffline {
		t.Fatalf("offline detail = %q", ev.Connection.Detail)
	}
	r, err := a.RaiseRequest(context.Background(), agentapi.NewRequest{Text: "My printer says PC LOAD LETTER", Urgency: protocol.UrgencyBlocking})
	if err != nil || r.Sent {
		t.Fatalf("raise offline: %+v, %v", r, err)
	}
	if st := a.conn(); st.Pending != 1 {
		t.Fatalf("pending = %d", st.Pending)
	}

	srv.Restart(t)
	a.waitFor(t, "request sent", func(ev agentapi.Event) bool {
		return ev.Type == agentapi.EventRequest && ev.Request.ID == r.ID && ev.Request.Sent
	})
	tech := srv.Tech(t)
	if got := serverRequests(t, tech, r.Text); len(got) != 1 || got[0].RequestID != r.ID {
		t.Fatalf("server has %+v, want exactly one %s", got, r.ID)
	}
	// A restart of the server and a reconnect do not deliver it again.
	srv.Restart(t)
	a.waitFor(t, "online again", isState(agentapi.ConnOnline))
	if got := serverRequests(t, srv.Tech(t), r.Text); len(got) != 1 {
		t.Fatalf("after reconnect the server has %d copies", len(got))
	}
	if st := a.conn(); st.Pending != 0 {
		t.Fatalf("pending = %d after ack", st.Pending)
	}
}

// The agent stops abruptly right after the user pressed Send (the frame is
// saved and maybe on the wire, the ack not yet stored); a new agent on the
// same store delivers it exactly once. (cmd/agent's e2e test does the same
// with SIGKILL of a real process.)
func TestE2EAbruptStopMidSendDeliveredOnce(t *testing.T) {
	srv := servertest.New(t)
	creds := enrolled(t, srv)
	db := filepath.Join(t.TempDir(), "agent.db")
	a := startAgent(t, db, creds, store.Options{})
	a.waitFor(t, "online", isState(agentapi.ConnOnline))
	r, err := a.RaiseRequest(context.Background(), agentapi.NewRequest{Text: "VPN drops every hour"})
	if err != nil {
		t.Fatal(err)
	}
	a.stop()

	b := startAgent(t, db, creds, store.Options{})
	deadline := time.Now().Add(20 * time.Second)
	for b.conn().Pending != 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	got, err := b.Request(context.Background(), r.ID)
	if err != nil || !got.Sent {
		t.Fatalf("after restart: %+v, %v", got, err)
	}
	if got := serverRequests(t, srv.Tech(t), r.Text); len(got) != 1 {
		t.Fatalf("server has %d copies, want 1", len(got))
	}
}

// The technician's reply and status change reach the core as events, and
// the user's reply reaches the technician.
func TestE2ETechnicianReplyIsAnEvent(t *testing.T) {
	srv := servertest.New(t)
	a := startAgent(t, filepath.Join(t.TempDir(), "agent.db"), enrolled(t, srv), store.Options{})
	a.waitFor(t, "online", isState(agentapi.ConnOnline))
	r, err := a.RaiseRequest(context.Background(), agentapi.NewRequest{Text: "Outlook won't open", Category: protocol.CategorySoftware})
	if err != nil {
		t.Fatal(err)
	}
	a.waitFor(t, "sent", func(ev agentapi.Event) bool { return ev.Type == agentapi.EventRequest && ev.Request.Sent })
	tech := srv.Tech(t)
	if st := tech.Do(t, http.MethodPost, "/api/v1/requests/"+r.ID+"/messages", map[string]string{"text": "On it — can you restart it once?"}, nil); st != http.StatusCreated {
		t.Fatalf("tech message: %d", st)
	}
	ev := a.waitFor(t, "message", func(ev agentapi.Event) bool { return ev.Type == agentapi.EventMessage })
	if ev.Message.Text != "On it — can you restart it once?" || ev.Message.RequestID != r.ID || ev.Message.FromUser || ev.Message.Author.Name == "" {
		t.Fatalf("message event = %+v", ev.Message)
	}
	if st := tech.Do(t, http.MethodPatch, "/api/v1/requests/"+r.ID, map[string]string{"status": "in_progress", "assignee": "me"}, nil); st != http.StatusOK {
		t.Fatalf("patch: %d", st)
	}
	ev = a.waitFor(t, "status", func(ev agentapi.Event) bool {
		return ev.Type == agentapi.EventRequest && ev.Request.Status == protocol.StatusInProgress
	})
	if st := a.conn(); st.Unread == 0 {
		t.Fatal("no unread after a technician's message")
	}
	if _, err := a.Reply(context.Background(), r.ID, "Restarted, still broken"); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		var detail struct {
			Messages []protocol.Message `json:"messages"`
		}
		tech.Do(t, http.MethodGet, "/api/v1/requests/"+r.ID, nil, &detail)
		if n := len(detail.Messages); n > 0 && detail.Messages[n-1].Text == "Restarted, still broken" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("user reply never reached the server: %+v", detail.Messages)
		}
		time.Sleep(20 * time.Millisecond)
	}
	full, _ := a.Request(context.Background(), r.ID)
	if len(full.Messages) != 2 || len(full.History) == 0 {
		t.Fatalf("thread = %+v history = %+v", full.Messages, full.History)
	}
}

// "What IT can see" is exactly what the server stores.
func TestE2ESnapshotEqualsServer(t *testing.T) {
	srv := servertest.New(t)
	creds := enrolled(t, srv)
	a := startAgent(t, filepath.Join(t.TempDir(), "agent.db"), creds, store.Options{})
	a.waitFor(t, "online", isState(agentapi.ConnOnline))
	mine, err := a.Snapshot(context.Background(), true)
	if err != nil {
		t.Fatal(err)
	}
	var dev struct {
		Snapshot json.RawMessage `json:"snapshot"`
	}
	srv.Tech(t).Do(t, http.MethodGet, "/api/v1/devices/"+creds.DeviceID, nil, &dev)
	var theirs protocol.Snapshot
	if err := json.Unmarshal(dev.Snapshot, &theirs); err != nil {
		t.Fatalf("server snapshot %s: %v", dev.Snapshot, err)
	}
	if !reflect.DeepEqual(*mine, theirs) {
		a, _ := json.Marshal(mine)
		t.Fatalf("agent shows\n%s\nserver stores\n%s", a, dev.Snapshot)
	}
}

// Each fault has a warm sentence for the user.
func TestE2EFaultsHaveWarmWords(t *testing.T) {
	t.Run("expired token", func(t *testing.T) {
		srv := servertest.New(t)
		_, err := enroll.Enroll(context.Background(), srv.URL(), srv.TokenWith(t, "default", 0, -time.Hour), enroll.Options{})
		if !errors.Is(err, enroll.ErrBadToken) || core.Words(err) != core.MsgBadToken {
			t.Fatalf("err = %v, words %q", err, core.Words(err))
		}
	})
	t.Run("revoked device", func(t *testing.T) {
		srv := servertest.New(t)
		creds := enrolled(t, srv)
		a := startAgent(t, filepath.Join(t.TempDir(), "agent.db"), creds, store.Options{})
		a.waitFor(t, "online", isState(agentapi.ConnOnline))
		if st := srv.Tech(t).Do(t, http.MethodPost, "/api/v1/devices/"+creds.DeviceID+"/revoke", nil, nil); st != http.StatusNoContent {
			t.Fatalf("revoke: %d", st)
		}
		ev := a.waitFor(t, "offline", isState(agentapi.ConnOffline))
		if ev.Connection.Detail != core.MsgRevoked {
			t.Fatalf("detail = %q (%s)", ev.Connection.Detail, ev.Connection.LastError)
		}
	})
	t.Run("certificate pin", func(t *testing.T) {
		srv := servertest.New(t, servertest.WithSelfSignedTLS())
		creds, err := enroll.Enroll(context.Background(), srv.URL(), srv.Token(t), enroll.Options{})
		if err != nil {
			t.Fatalf("enrol with the pin in the token: %v", err)
		}
		good := startAgent(t, filepath.Join(t.TempDir(), "good.db"), creds, store.Options{})
		good.waitFor(t, "online with the right pin", isState(agentapi.ConnOnline))
		bad := *creds
		bad.Pin = strings.Repeat("ab", 32)
		a := startAgent(t, filepath.Join(t.TempDir(), "bad.db"), &bad, store.Options{})
		ev := a.waitFor(t, "offline", isState(agentapi.ConnOffline))
		if ev.Connection.Detail != core.MsgPinMismatch {
			t.Fatalf("detail = %q (%s)", ev.Connection.Detail, ev.Connection.LastError)
		}
		wrongPin := strings.Repeat("cd", 32)
		if _, err := enroll.Enroll(context.Background(), srv.URL(), srv.Token(t), enroll.Options{Pin: wrongPin}); core.Words(err) != core.MsgPinMismatch {
			t.Fatalf("enrol with a wrong pin: %v", err)
		}
	})
	t.Run("disk full", func(t *testing.T) {
		srv := servertest.New(t)
		creds := enrolled(t, srv)
		srv.Close()
		a := startAgent(t, filepath.Join(t.TempDir(), "agent.db"), creds, store.Options{MaxPages: 60})
		text := strings.Repeat("the screen flickers ", 400)
		var err error
		for i := 0; i < 500 && err == nil; i++ {
			_, err = a.RaiseRequest(context.Background(), agentapi.NewRequest{Text: text})
		}
		var ue *agentapi.Error
		if !errors.As(err, &ue) || ue.Code != agentapi.CodeDiskFull || ue.UserMessage() != core.MsgDiskFull {
			t.Fatalf("err = %v", err)
		}
	})
}
