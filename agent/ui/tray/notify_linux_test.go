//go:build linux

package tray

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"

	"github.com/deskside/deskside/agent/agentapi"
	"github.com/deskside/deskside/agent/agentapi/agentapitest"
	"github.com/deskside/deskside/shared/protocol"
)

// privateBus starts a D-Bus session daemon of the test's own and returns its
// address; it stops with the test.
func privateBus(t *testing.T) string {
	t.Helper()
	exe, err := exec.LookPath("dbus-daemon")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("dbus-daemon is missing; CI must install dbus (apt-get install dbus)")
		}
		t.Skip("dbus-daemon is not installed: the D-Bus notification tests need it (apt-get install dbus)")
	}
	cmd := exec.Command(exe, "--session", "--nofork", "--nopidfile", "--print-address=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	// Its stderr only says it may not raise its file limit here.
	if err := cmd.Start(); err != nil {
		t.Fatalf("start dbus-daemon: %v", err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	addr, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("dbus-daemon address: %v", err)
	}
	go func() { _, _ = io.Copy(io.Discard, out) }()
	return strings.TrimSpace(addr)
}

func dial(t *testing.T, addr string) *dbus.Conn {
	t.Helper()
	conn, err := dbus.Connect(addr)
	if err != nil {
		t.Fatalf("connect to the test bus: %v", err)
	}
	return conn
}

// notifyCall is one Notify call as the server received it.
type notifyCall struct {
	ID      uint32
	App     string
	Icon    string
	Summary string
	Body    string
	Actions []string
	Hints   map[string]dbus.Variant
}

// fakeNotifyServer is an org.freedesktop.Notifications server, as a desktop
// runs one: it records Notify calls and clicks on demand.
type fakeNotifyServer struct {
	conn  *dbus.Conn
	caps  []string
	calls chan notifyCall
	mu    sync.Mutex
	next  uint32
	// clickAtOnce: the user clicks before Notify has even returned.
	clickAtOnce bool
}

func startNotifyServer(t *testing.T, addr string, caps ...string) *fakeNotifyServer {
	t.Helper()
	s := &fakeNotifyServer{conn: dial(t, addr), caps: caps, calls: make(chan notifyCall, 16), next: 41}
	t.Cleanup(func() { s.conn.Close() })
	if err := s.conn.Export(s, notifyPath, notifyIface); err != nil {
		t.Fatal(err)
	}
	reply, err := s.conn.RequestName(notifyDest, dbus.NameFlagDoNotQueue)
	if err != nil || reply != dbus.RequestNameReplyPrimaryOwner {
		t.Fatalf("own %s: %v %v", notifyDest, reply, err)
	}
	return s
}

func (s *fakeNotifyServer) Notify(app string, _ uint32, icon, summary, body string, actions []string,
	hints map[string]dbus.Variant, _ int32) (uint32, *dbus.Error) {
	s.mu.Lock()
	s.next++
	id, now := s.next, s.clickAtOnce
	s.mu.Unlock()
	if now {
		_ = s.conn.Emit(notifyPath, notifyIface+".ActionInvoked", id, "default")
	}
	s.calls <- notifyCall{ID: id, App: app, Icon: icon, Summary: summary, Body: body, Actions: actions, Hints: hints}
	return id, nil
}

func (s *fakeNotifyServer) GetCapabilities() ([]string, *dbus.Error) { return s.caps, nil }

func (s *fakeNotifyServer) CloseNotification(uint32) *dbus.Error { return nil }

func (s *fakeNotifyServer) GetServerInformation() (string, string, string, string, *dbus.Error) {
	return "fake", "deskside tests", "1", "1.2", nil
}

// click is the user clicking the notification's body.
func (s *fakeNotifyServer) click(t *testing.T, id uint32) {
	t.Helper()
	if err := s.conn.Emit(notifyPath, notifyIface+".ActionInvoked", id, "default"); err != nil {
		t.Fatal(err)
	}
}

// dismiss is the user closing the notification (reason 2).
func (s *fakeNotifyServer) dismiss(t *testing.T, id uint32) {
	t.Helper()
	if err := s.conn.Emit(notifyPath, notifyIface+".NotificationClosed", id, uint32(2)); err != nil {
		t.Fatal(err)
	}
}

func (s *fakeNotifyServer) received(t *testing.T) notifyCall {
	t.Helper()
	select {
	case c := <-s.calls:
		return c
	case <-time.After(20 * time.Second):
		t.Fatal("the notification server received nothing")
		return notifyCall{}
	}
}

// dbusRig is the tray's controller over a fake agent, with the real D-Bus
// notifier talking to a fake notification server on a private bus.
type dbusRig struct {
	fake   *agentapitest.Fake
	server *fakeNotifyServer
	launch *fakeLauncher
	notes  *dbusNotifier
}

func startDBusRig(t *testing.T, brand Branding, caps ...string) *dbusRig {
	t.Helper()
	addr := privateBus(t)
	r := &dbusRig{fake: agentapitest.NewFake(), server: startNotifyServer(t, addr, caps...), launch: newFakeLauncher()}
	r.fake.AddRequest(agentapi.Request{ID: "r1", Text: "Wi-Fi drops every hour", Status: protocol.StatusNew, CreatedAt: time.Now()})
	r.fake.AddRequest(agentapi.Request{ID: "r2", Text: "Printer on floor 3", Status: protocol.StatusNew, CreatedAt: time.Now()})
	r.notes = newDBusNotifier(dial(t, addr), appName(brand), slog.New(slog.DiscardHandler))
	t.Cleanup(func() { _ = r.notes.Close() })

	f := &fakeFactory{}
	c := &Controller{Src: r.fake, Menu: NewMenu(f, brand), Launch: r.launch, Notify: r.notes, Brand: brand}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	deadline := time.Now().Add(5 * time.Second)
	for !strings.HasPrefix(f.items[0].Title(), "Connected to ") {
		if time.Now().After(deadline) {
			t.Fatal("the tray did not start")
		}
		time.Sleep(5 * time.Millisecond)
	}
	awaitListening(t, r.fake)
	return r
}

func (r *dbusRig) opened(t *testing.T) string {
	t.Helper()
	select {
	case s := <-r.launch.ch:
		return s
	case <-time.After(5 * time.Second):
		t.Fatal("nothing opened")
		return ""
	}
}

func (r *dbusRig) openedNothing(t *testing.T) {
	t.Helper()
	select {
	case s := <-r.launch.ch:
		t.Fatalf("opened %q", s)
	case <-time.After(200 * time.Millisecond):
	}
}

func TestDBusMessageNotificationOpensItsRequest(t *testing.T) {
	r := startDBusRig(t, Branding{})
	r.fake.AddMessage(agentapi.Message{ID: "m1", RequestID: "r1", Author: protocol.Person{Name: "Rob"},
		Text: "I'll be at your desk in five minutes."})
	got := r.server.received(t)
	if got.App != "Deskside" || got.Summary != "Rob replied to your request" ||
		got.Body != "I'll be at your desk in five minutes." {
		t.Errorf("Notify(app %q, summary %q, body %q)", got.App, got.Summary, got.Body)
	}
	if len(got.Actions) != 2 || got.Actions[0] != "default" {
		t.Errorf("actions = %q, want the default action so a click reaches us", got.Actions)
	}
	if e, _ := got.Hints["desktop-entry"].Value().(string); e != "deskside" {
		t.Errorf("desktop-entry hint = %v, want the launcher entry deskside", got.Hints["desktop-entry"])
	}
	r.server.click(t, got.ID)
	if s := r.opened(t); s != "requests --request r1" {
		t.Errorf("click opened %q, want the request", s)
	}
	// A notification opens once; a second click on the same id is stale.
	r.server.click(t, got.ID)
	r.openedNothing(t)
}

func TestDBusClickOpensTheRightRequest(t *testing.T) {
	r := startDBusRig(t, Branding{CompanyName: "Acme IT"})
	r.fake.AddMessage(agentapi.Message{ID: "m1", RequestID: "r1", Author: protocol.Person{Name: "Rob"}, Text: "First"})
	first := r.server.received(t)
	r.fake.AddMessage(agentapi.Message{ID: "m2", RequestID: "r2", Author: protocol.Person{Name: "Ana"}, Text: "Second"})
	second := r.server.received(t)
	if first.App != "Acme IT" || second.Summary != "Ana replied to your request" {
		t.Errorf("app %q, second summary %q", first.App, second.Summary)
	}
	// The user dismisses the first: it is forgotten, a late click on it is not
	// acted on. The click on the second opens the second request.
	r.server.dismiss(t, first.ID)
	r.server.click(t, first.ID)
	r.server.click(t, second.ID)
	if s := r.opened(t); s != "requests --request r2" {
		t.Errorf("click on the second notification opened %q", s)
	}
	r.openedNothing(t)
}

func TestDBusAnnouncementOpensNews(t *testing.T) {
	r := startDBusRig(t, Branding{})
	r.fake.AddAnnouncement(agentapi.Announcement{ID: "a1", Title: "Maintenance tonight", Text: "Email is down 22:00–23:00."})
	got := r.server.received(t)
	if got.Summary != "Maintenance tonight" || got.Body != "Email is down 22:00–23:00." {
		t.Errorf("summary %q, body %q", got.Summary, got.Body)
	}
	r.server.click(t, got.ID)
	if s := r.opened(t); s != "news" {
		t.Errorf("click opened %q", s)
	}
}

func TestDBusClickBeforeNotifyReturns(t *testing.T) {
	r := startDBusRig(t, Branding{})
	r.server.mu.Lock()
	r.server.clickAtOnce = true
	r.server.mu.Unlock()
	r.fake.AddMessage(agentapi.Message{ID: "m1", RequestID: "r2", Author: protocol.Person{Name: "Rob"}, Text: "Done"})
	r.server.received(t)
	if s := r.opened(t); s != "requests --request r2" {
		t.Errorf("an early click opened %q", s)
	}
	r.openedNothing(t)
}

func TestDBusHostileText(t *testing.T) {
	hostile := `<b>bold</b> & <a href="https://evil.test">x</a>` + "\x00\x07 end"
	for _, tc := range []struct {
		caps []string
		want string
	}{
		{nil, `<b>bold</b> & <a href="https://evil.test">x</a> end`},
		{[]string{"body", "body-markup", "actions"}, `&lt;b&gt;bold&lt;/b&gt; &amp; &lt;a href="https://evil.test"&gt;x&lt;/a&gt; end`},
	} {
		r := startDBusRig(t, Branding{}, tc.caps...)
		r.fake.AddAnnouncement(agentapi.Announcement{ID: "a1", Title: "Line one\nline two\x00", Text: hostile})
		got := r.server.received(t)
		if got.Body != tc.want {
			t.Errorf("caps %q: body = %q, want %q", tc.caps, got.Body, tc.want)
		}
		if got.Summary != "Line one line two" {
			t.Errorf("summary = %q, want one line without control characters", got.Summary)
		}
	}
}

func TestDBusNotifierCloseTwice(t *testing.T) {
	addr := privateBus(t)
	startNotifyServer(t, addr)
	n := newDBusNotifier(dial(t, addr), "Deskside", slog.New(slog.DiscardHandler))
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	if err := n.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if err := n.Notify(Notification{Title: "after close"}); err == nil {
		t.Error("Notify after Close succeeded")
	}
}
