package localapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/deskside/deskside/agent/agentapi"
	"github.com/deskside/deskside/agent/internal/core"
	"github.com/deskside/deskside/agent/internal/localapi"
	"github.com/deskside/deskside/agent/internal/store"
	"github.com/deskside/deskside/shared/protocol"
)

type fakeSys struct{}

func (fakeSys) Snapshot(context.Context) protocol.Snapshot {
	return protocol.Snapshot{AgentVersion: "test", Host: protocol.Host{Hostname: "ana-laptop"}}
}
func (fakeSys) Telemetry(context.Context) protocol.Telemetry { return protocol.Telemetry{} }

// serve runs the local API over a real core (not enrolled: offline) on a
// real unix socket.
func serve(t *testing.T, opt store.Options) (*localapi.Client, string) {
	t.Helper()
	return serveWith(t, opt, nil)
}

// serveWith is serve with a seed that fills the store before the core starts.
func serveWith(t *testing.T, opt store.Options, seed func(*store.Store)) (*localapi.Client, string) {
	t.Helper()
	dir, err := os.MkdirTemp("", "lapi") // short: unix socket paths are limited
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	st, err := store.Open(filepath.Join(dir, "agent.db"), opt)
	if err != nil {
		t.Fatal(err)
	}
	if seed != nil {
		seed(st)
	}
	c, err := core.New(core.Config{Store: st, Collector: fakeSys{}})
	if err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "run", "agent.sock")
	l, err := localapi.Listen(sock)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = localapi.Serve(ctx, l, c, nil) }()
	t.Cleanup(func() { cancel(); <-done; c.Close(); st.Close() })
	return localapi.NewClient(sock), sock
}

func TestSocketIsPrivate(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("named pipe")
	}
	_, sock := serve(t, store.Options{})
	fi, err := os.Stat(sock)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("socket mode %v, %v", fi.Mode(), err)
	}
	di, _ := os.Stat(filepath.Dir(sock))
	if di.Mode().Perm() != 0o700 {
		t.Fatalf("socket dir mode %v", di.Mode())
	}
	if _, err := localapi.Listen(sock); err == nil || !strings.Contains(err.Error(), "already running") {
		t.Fatalf("second listener: %v", err)
	}
}

func TestClientRoundTrip(t *testing.T) {
	c, _ := serve(t, store.Options{})
	ctx := context.Background()
	events, err := c.Events(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if ev := <-events; ev.Type != agentapi.EventConnection || ev.Connection == nil {
		t.Fatalf("first event = %+v", ev)
	}
	st, err := c.Status(ctx)
	if err != nil || st.State != agentapi.ConnEnrolling || st.Detail != core.MsgNotEnrolled {
		t.Fatalf("status %+v, %v", st, err)
	}
	png := append([]byte("\x89PNG\r\n\x1a\n"), make([]byte, 64)...)
	r, err := c.RaiseRequest(ctx, agentapi.NewRequest{Text: "Teams has no sound", Screenshot: png})
	if err != nil || r.ID == "" || r.Sent || !r.HasScreenshot {
		t.Fatalf("raise: %+v, %v", r, err)
	}
	rs, err := c.Requests(ctx)
	if err != nil || len(rs) != 1 || rs[0].ID != r.ID {
		t.Fatalf("requests: %+v, %v", rs, err)
	}
	if _, err := c.Reply(ctx, r.ID, "It's the left speaker"); err != nil {
		t.Fatal(err)
	}
	got, err := c.Request(ctx, r.ID)
	if err != nil || len(got.Messages) != 1 {
		t.Fatalf("request: %+v, %v", got, err)
	}
	if err := c.MarkRead(ctx, r.ID); err != nil {
		t.Fatal(err)
	}
	if err := c.Rate(ctx, r.ID, 9, ""); !agentapi.IsCode(err, agentapi.CodeBadRequest) {
		t.Fatalf("rate 9: %v", err)
	}
	if err := c.Rate(ctx, r.ID, 5, "lovely"); err != nil {
		t.Fatal(err)
	}
	if err := c.Reopen(ctx, r.ID, "it's back"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Request(ctx, "nope"); !agentapi.IsCode(err, agentapi.CodeNotFound) {
		t.Fatalf("unknown request: %v", err)
	}
	if _, err := c.RaiseRequest(ctx, agentapi.NewRequest{Text: "  "}); !agentapi.IsCode(err, agentapi.CodeBadRequest) {
		t.Fatalf("empty text: %v", err)
	}
	if _, err := c.Snapshot(ctx, false); !agentapi.IsCode(err, agentapi.CodeNotFound) {
		t.Fatalf("snapshot before any was sent: %v", err)
	}
	as, err := c.Announcements(ctx)
	if err != nil || len(as) != 0 {
		t.Fatalf("announcements %v %v", as, err)
	}
	if st, _ := c.Status(ctx); st.Pending != 4 {
		t.Fatalf("pending %d, want 4 (request, reply, rating, reopen)", st.Pending)
	}
}

func TestDiskFullIsWarm(t *testing.T) {
	c, _ := serve(t, store.Options{MaxPages: 40})
	var err error
	for i := 0; i < 500 && err == nil; i++ {
		_, err = c.RaiseRequest(context.Background(), agentapi.NewRequest{Text: strings.Repeat("x", 4000)})
	}
	var e *agentapi.Error
	if !errors.As(err, &e) || e.Code != agentapi.CodeDiskFull || e.Message != core.MsgDiskFull || e.HTTPStatus != 507 {
		t.Fatalf("err = %#v", err)
	}
}

func TestAgentNotRunning(t *testing.T) {
	c := localapi.NewClient(filepath.Join(t.TempDir(), "nobody.sock"))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := c.Status(ctx); !agentapi.IsCode(err, agentapi.CodeUnavailable) {
		t.Fatalf("err = %v", err)
	}
}

// A body with more after its JSON value is refused, not half read: found
// by FuzzHandler (the seed raise-trailing). Before, the first value was
// saved and the rest ignored.
func TestBodyWithTrailingDataIsRefused(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("named pipe: the raw client below dials a unix socket")
	}
	c, sock := serve(t, store.Options{})
	hc := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "unix", sock)
	}}}
	for _, body := range []string{`{"text":"first"} {"text":"second"}`, `{"text":"first"} garbage`} {
		resp, err := hc.Post("http://local"+localapi.Prefix+"requests", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		var e agentapi.Error
		_ = json.NewDecoder(resp.Body).Decode(&e)
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest || e.Code != agentapi.CodeBadRequest || e.Message == "" {
			t.Errorf("%s: %d %+v, want 400 bad_request", body, resp.StatusCode, e)
		}
	}
	// Whitespace after the value is still one value.
	resp, err := hc.Post("http://local"+localapi.Prefix+"requests", "application/json", strings.NewReader("{\"text\":\"kept\"}\n \n"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Errorf("a body with trailing whitespace: %d, want 201", resp.StatusCode)
	}
	rs, err := c.Requests(context.Background())
	if err != nil || len(rs) != 1 || rs[0].Text != "kept" {
		t.Errorf("saved %+v (%v); want only the request with one body", rs, err)
	}
}
