package tray

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/deskside/deskside/agent/agentapi"
	"github.com/deskside/deskside/agent/agentapi/agentapitest"
	"github.com/deskside/deskside/shared/protocol"
)

type harness struct {
	fake   *agentapitest.Fake
	f      *fakeFactory
	menu   *Menu
	launch *fakeLauncher
	notes  *fakeNotifier
	done   chan error
	cancel context.CancelFunc
}

func start(t *testing.T, brand Branding) *harness {
	t.Helper()
	return startWith(t, brand, nil)
}

// startWith is start with a last say on the controller before it runs.
func startWith(t *testing.T, brand Branding, configure func(*Controller)) *harness {
	t.Helper()
	h := &harness{fake: agentapitest.NewFake(), f: &fakeFactory{}, launch: newFakeLauncher(),
		notes: &fakeNotifier{ch: make(chan Notification, 8)}, done: make(chan error, 1)}
	h.fake.AddRequest(agentapi.Request{ID: "r1", Text: "Wi-Fi drops every hour", Status: protocol.StatusNew,
		CreatedAt: time.Now()})
	h.menu = NewMenu(h.f, brand)
	c := &Controller{Src: h.fake, Menu: h.menu, Launch: h.launch, Notify: h.notes, Brand: brand}
	if configure != nil {
		configure(c)
	}
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	go func() { h.done <- c.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-h.done })
	h.waitFor(t, func() bool { return h.f.items[0].Title() == "Connected to Example IT" })
	awaitListening(t, h.fake)
	return h
}

// awaitListening returns once the controller listens to the fake's events:
// the menu shows the state before the controller subscribes, so an event
// emitted earlier would be lost.
func awaitListening(t *testing.T, f *agentapitest.Fake) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := f.AwaitSubscribed(ctx); err != nil {
		t.Fatalf("the tray never listened to the agent's events: %v", err)
	}
}

func (h *harness) waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in 5 s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (h *harness) click(a Action) { h.menu.Item(a).(*fakeItem).clicks <- struct{}{} }

func (h *harness) opened(t *testing.T) string {
	t.Helper()
	select {
	case s := <-h.launch.ch:
		return s
	case <-time.After(5 * time.Second):
		t.Fatal("nothing opened")
		return ""
	}
}

func (h *harness) notification(t *testing.T) Notification {
	t.Helper()
	select {
	case n := <-h.notes.ch:
		return n
	case <-time.After(5 * time.Second):
		t.Fatal("no notification")
		return Notification{}
	}
}

func TestClicksOpenWindows(t *testing.T) {
	h := start(t, Branding{HelpURL: "https://help.acme.test"})
	for a, want := range map[Action]string{
		ActGetHelp:      "get-help",
		ActRequests:     "requests",
		ActWhatITSees:   "what-it-sees",
		ActAbout:        "about",
		ActHelpLink:     "url https://help.acme.test",
		ActHelpArticles: "help-articles",
		ActSoftware:     "software",
	} {
		h.click(a)
		if got := h.opened(t); got != want {
			t.Errorf("action %v opened %q, want %q", a, got, want)
		}
	}
}

func TestQuit(t *testing.T) {
	h := start(t, Branding{})
	h.click(ActQuit)
	select {
	case err := <-h.done:
		if !errors.Is(err, ErrQuit) {
			t.Fatalf("Run = %v, want ErrQuit", err)
		}
		h.done <- nil // for the cleanup
	case <-time.After(5 * time.Second):
		t.Fatal("Quit did not stop the tray")
	}
}

func TestMessageNotifiesAndOpensRequest(t *testing.T) {
	h := start(t, Branding{})
	h.fake.AddMessage(agentapi.Message{ID: "m1", RequestID: "r1", Author: protocol.Person{Name: "Rob"},
		Text: "I'll be at your desk in five minutes."})
	n := h.notification(t)
	if n.Title != "Rob replied to your request" || n.Body != "I'll be at your desk in five minutes." {
		t.Errorf("notification = %+v", n)
	}
	h.waitFor(t, func() bool { return h.menu.Item(ActRequests).(*fakeItem).Title() == "My requests (1 new)" })
	h.waitFor(t, func() bool { return h.f.IconCount() >= 2 }) // unread look
	n.OnClick()
	if got := h.opened(t); got != "requests --request r1" {
		t.Errorf("click opened %q", got)
	}
}

func TestUserOwnMessageDoesNotNotify(t *testing.T) {
	h := start(t, Branding{})
	h.fake.Emit(agentapi.Event{Type: agentapi.EventMessage, Message: &agentapi.Message{RequestID: "r1", FromUser: true, Text: "hi"}})
	h.fake.AddAnnouncement(agentapi.Announcement{ID: "a1", Title: "Maintenance tonight", Text: "Email is down 22:00–23:00."})
	if n := h.notification(t); n.Title != "Maintenance tonight" {
		t.Errorf("first notification is %q; the user's own message must not notify", n.Title)
	}
	h.waitFor(t, func() bool { return !h.menu.Item(ActAnnouncement).(*fakeItem).Hidden() })
	h.click(ActAnnouncement)
	if got := h.opened(t); got != "news" {
		t.Errorf("announcement opened %q", got)
	}
}

func TestStatusChangeNotifies(t *testing.T) {
	h := start(t, Branding{})
	r := agentapi.Request{ID: "r1", Text: "Wi-Fi drops every hour", Status: protocol.StatusInProgress,
		Assignee: &protocol.Person{Name: "Rob"}}
	h.fake.Emit(agentapi.Event{Type: agentapi.EventRequest, Request: &r})
	if n := h.notification(t); n.Title != "Rob is on it" {
		t.Errorf("notification = %+v", n)
	}
	// The same status again says nothing new.
	again := r
	h.fake.Emit(agentapi.Event{Type: agentapi.EventRequest, Request: &again})
	resolved := r
	resolved.Status = protocol.StatusResolved
	h.fake.Emit(agentapi.Event{Type: agentapi.EventRequest, Request: &resolved})
	if n := h.notification(t); n.Title != "Your request is resolved" {
		t.Errorf("notification = %+v", n)
	}
}

func TestStateEventUpdatesMenu(t *testing.T) {
	h := start(t, Branding{})
	h.fake.SetStatus(agentapi.Connection{State: agentapi.ConnOffline})
	h.waitFor(t, func() bool { return h.f.items[0].Title() == "Offline — what you send is saved" })
}

// TestGetHelpWithoutWindowApp: before the window app is there (`make run`
// still compiling it, or a broken install), "Get help…" tells the employee
// in a notification and the tray keeps running; once the app appears, the
// next click finds it.
func TestGetHelpWithoutWindowApp(t *testing.T) {
	bin := t.TempDir()
	t.Setenv("PATH", bin) // deskside-ui is neither next to the test binary nor on $PATH
	h := startWith(t, Branding{}, func(c *Controller) { c.Launch = NewExecLauncher(nil) })
	for range 2 {
		h.click(ActGetHelp)
		n := h.notification(t)
		if want := "The Deskside window app isn't installed next to the agent — please tell IT."; n.Body != want {
			t.Fatalf("notification %q, want %q", n.Body, want)
		}
		select {
		case err := <-h.done:
			h.done <- err // for the cleanup
			t.Fatalf("the tray stopped after a click without the window app: %v", err)
		default:
		}
	}
	if runtime.GOOS == "windows" {
		return // the stand-in window app below is a shell script
	}
	opened := filepath.Join(bin, "opened")
	app := "#!/bin/sh\necho \"$@\" > " + opened + ".tmp && /bin/mv " + opened + ".tmp " + opened + "\n"
	if err := os.WriteFile(filepath.Join(bin, "deskside-ui"), []byte(app), 0o755); err != nil {
		t.Fatal(err)
	}
	h.click(ActGetHelp)
	h.waitFor(t, func() bool { b, _ := os.ReadFile(opened); return string(b) == "get-help\n" })
}

// A check that starts warning: a notification in its plain words, the
// menu counts it, and both open the Heads-up window.
func TestHeadsUpNotifiesAndCounts(t *testing.T) {
	h := start(t, Branding{})
	h.fake.SetChecks([]agentapi.CheckItem{
		{Kind: protocol.CheckDiskSpace, State: protocol.CheckWarn, Title: "Disk space", Fix: "clear_temp",
			Summary: "Your disk is almost full: 3.1 GB left on /home (3% free)."},
		{Kind: protocol.CheckOSUpdates, State: protocol.CheckOK, Title: "Updates", Summary: "Your computer is up to date."},
	}, true)
	n := h.notification(t)
	if n.Title != "Heads-up: disk space" || n.Body != "Your disk is almost full: 3.1 GB left on /home (3% free). Open Heads-up to fix it in one click." {
		t.Errorf("notification %+v", n)
	}
	h.waitFor(t, func() bool { return h.menu.Item(ActHeadsUp).(*fakeItem).Title() == "Heads-up (1)" })
	n.OnClick()
	if got := h.opened(t); got != "heads-up" {
		t.Errorf("notification click opened %q", got)
	}
	h.click(ActHeadsUp)
	if got := h.opened(t); got != "heads-up" {
		t.Errorf("menu click opened %q", got)
	}
}
