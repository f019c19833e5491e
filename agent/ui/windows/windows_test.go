package windows

import (
	"context"
	"errors"
	"image"
	"image/color"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/deskside/deskside/agent/agentapi"
	"github.com/deskside/deskside/agent/agentapi/agentapitest"
	"github.com/deskside/deskside/shared/protocol"
)

// The test goroutine is the UI goroutine: closures the windows hand to do
// wait in uiQueue until eventually runs them, so widgets are touched from
// one goroutine only, as under the real driver.
var uiQueue = make(chan func(), 256)

func init() { do = func(f func()) { uiQueue <- f } }

func pump() {
	for {
		select {
		case f := <-uiQueue:
			f()
		default:
			return
		}
	}
}

// eventually runs pending UI work until cond holds.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		pump()
		if cond() {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 5 s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func grey(w, h int) image.Image {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = 0x80
	}
	img.Set(0, 0, color.Black)
	return img
}

func newHelp(t *testing.T, f *agentapitest.Fake) (*getHelp, fyne.Window) {
	t.Helper()
	a := test.NewTempApp(t)
	w := a.NewWindow("")
	g := newGetHelp(w, f, func() (image.Image, error) { return grey(64, 40), nil }, "Acme IT")
	w.SetContent(g.content())
	g.focus()
	w.Resize(fyne.NewSize(620, 640))
	return g, w
}

func TestGetHelpSends(t *testing.T) {
	f := agentapitest.NewFake()
	g, _ := newHelp(t, f)
	if !g.send.Disabled() {
		t.Error("Send is enabled before anything is typed")
	}
	test.Type(g.text, "The printer on floor 2 jams on every page")
	test.Tap(g.catChips[protocol.CategorySoftware])
	if !g.hint.Visible() || g.hint.Text != softwareHint {
		t.Errorf("software hint visible=%v text=%q", g.hint.Visible(), g.hint.Text)
	}
	test.Tap(g.catChips[protocol.CategoryQuestion])
	if g.hint.Visible() {
		t.Error("software hint still shown for a question")
	}
	test.Tap(g.urgChips[protocol.UrgencyBlocking])
	test.Tap(g.send)
	eventually(t, "confirmation", func() bool { return g.done != nil })
	if g.done.Text != sentWarm {
		t.Errorf("confirmation = %q", g.done.Text)
	}
	got := f.Recorded().Raised
	if len(got) != 1 {
		t.Fatalf("raised %d requests", len(got))
	}
	want := agentapi.NewRequest{Category: protocol.CategoryQuestion, Urgency: protocol.UrgencyBlocking,
		Text: "The printer on floor 2 jams on every page"}
	if got[0].Text != want.Text || got[0].Category != want.Category || got[0].Urgency != want.Urgency || got[0].Screenshot != nil {
		t.Errorf("raised %+v, want %+v", got[0], want)
	}
}

func TestGetHelpCtrlEnterAndOffline(t *testing.T) {
	f := agentapitest.NewFake()
	f.SetStatus(agentapi.Connection{State: agentapi.ConnOffline})
	g, w := newHelp(t, f)
	if w.Canvas().Focused() != g.text {
		t.Error("the text box does not have the focus")
	}
	test.Type(g.text, "VPN won't connect")
	g.text.TypedShortcut(sendShortcut)
	eventually(t, "confirmation", func() bool { return g.done != nil })
	if g.done.Text != sentOffline {
		t.Errorf("offline confirmation = %q", g.done.Text)
	}
	if n := len(f.Recorded().Raised); n != 1 {
		t.Errorf("raised %d requests", n)
	}
	// A second Ctrl+Enter after sending sends nothing more.
	g.submit()
	if n := len(f.Recorded().Raised); n != 1 {
		t.Errorf("raised %d requests after a repeat", n)
	}
}

func TestGetHelpEmptyTextSendsNothing(t *testing.T) {
	f := agentapitest.NewFake()
	g, _ := newHelp(t, f)
	test.Type(g.text, "   ")
	g.text.TypedShortcut(sendShortcut)
	if g.sending || g.done != nil {
		t.Fatal("blank text started a send")
	}
	// Anything the blank text set off would reach the agent before what
	// real text sends next: once that arrives, nothing came first.
	test.Type(g.text, "Printer")
	g.text.TypedShortcut(sendShortcut)
	eventually(t, "the real request", func() bool { return g.done != nil })
	got := f.Recorded().Raised
	if len(got) != 1 || got[0].Text != "Printer" {
		t.Errorf("raised %+v; want only the request with text", got)
	}
}

func TestGetHelpScreenshotAndFacts(t *testing.T) {
	f := agentapitest.NewFake()
	g, _ := newHelp(t, f)
	eventually(t, "facts", func() bool { return strings.Contains(g.facts.Text, "laptop-anna") })
	if !strings.Contains(g.facts.Text, NeverCollected) {
		t.Error("what will be sent does not say what is never collected")
	}
	test.Tap(g.shot)
	eventually(t, "preview", func() bool { return g.shotImg.Visible() && g.shotPNG != nil })
	test.Type(g.text, "Look at this error")
	test.Tap(g.send)
	eventually(t, "sent", func() bool { return g.done != nil })
	r := f.Recorded().Raised[0]
	if len(r.Screenshot) == 0 || r.ScreenshotName != "screenshot.png" {
		t.Errorf("screenshot not attached: %d bytes, name %q", len(r.Screenshot), r.ScreenshotName)
	}
}

func TestGetHelpErrorKeepsText(t *testing.T) {
	f := agentapitest.NewFake()
	f.FailWith(&agentapi.Error{Code: agentapi.CodeDiskFull, Message: "This computer's disk is full."})
	g, _ := newHelp(t, f)
	test.Type(g.text, "Help")
	test.Tap(g.send)
	eventually(t, "error shown", func() bool { return g.errLabel.Visible() })
	if !strings.Contains(g.errLabel.Text, "disk is full") || g.text.Text != "Help" || g.done != nil {
		t.Errorf("error=%q text=%q", g.errLabel.Text, g.text.Text)
	}
}

func seeded() *agentapitest.Fake {
	f := agentapitest.NewFake()
	now := time.Now()
	f.AddRequest(agentapi.Request{ID: "r1", Text: "Outlook keeps asking for my password", Status: protocol.StatusInProgress,
		Category: protocol.CategoryProblem, Sent: true, CreatedAt: now.Add(-2 * time.Hour),
		Assignee: &protocol.Person{Name: "Rob", Greeting: "Hi, I'm Rob — I'll take care of this"},
		Unread:   true,
		Messages: []agentapi.Message{{ID: "m1", RequestID: "r1", Author: protocol.Person{Name: "Rob"},
			Text: "Could you try signing out and in again?", CreatedAt: now.Add(-time.Hour)}}})
	f.AddRequest(agentapi.Request{ID: "r0", Text: "Need Inkscape for a poster", Status: protocol.StatusResolved,
		Category: protocol.CategorySoftware, Sent: true, CreatedAt: now.Add(-48 * time.Hour),
		Assignee: &protocol.Person{Name: "Mia"}})
	return f
}

func newReqs(t *testing.T, f *agentapitest.Fake, sel string) *requests {
	t.Helper()
	a := test.NewTempApp(t)
	w := a.NewWindow("")
	r := newRequests(w, f, sel)
	w.SetContent(r.content())
	w.Resize(fyne.NewSize(860, 600))
	t.Cleanup(w.Close)
	return r
}

func TestRequestsThreadAndReply(t *testing.T) {
	f := seeded()
	r := newReqs(t, f, "")
	eventually(t, "first request shown", func() bool { return r.current.ID == "r1" })
	if r.handler.Text != "Rob is looking after this — “Hi, I'm Rob — I'll take care of this”" {
		t.Errorf("handler = %q", r.handler.Text)
	}
	if len(r.thread.Objects) != 2 {
		t.Errorf("thread has %d entries, want 2", len(r.thread.Objects))
	}
	if r.rateBox.Visible() || r.reopen.Visible() {
		t.Error("rating or reopen shown on an open request")
	}
	if got := f.Recorded().Read; len(got) != 1 || got[0] != "r1" {
		t.Errorf("marked read: %v", got)
	}
	test.Type(r.reply, "Done, it works now. Thanks!")
	test.Tap(r.send)
	eventually(t, "reply sent", func() bool { return len(f.Recorded().Replies) == 1 && r.reply.Text == "" })
	if got := f.Recorded().Replies[0]; got != "r1: Done, it works now. Thanks!" {
		t.Errorf("reply = %q", got)
	}
	eventually(t, "reply in thread", func() bool { return len(r.thread.Objects) == 3 })
}

func TestRequestsRateAndReopen(t *testing.T) {
	f := seeded()
	r := newReqs(t, f, "r0")
	eventually(t, "resolved request shown", func() bool { return r.current.ID == "r0" })
	if !r.rateBox.Visible() || !r.reopen.Visible() {
		t.Fatal("rating and reopen hidden on a resolved request")
	}
	test.Tap(r.rateBtns[4])
	eventually(t, "rated", func() bool { return len(f.Recorded().Ratings) == 1 })
	if got := f.Recorded().Ratings[0]; got != "r0: 5" {
		t.Errorf("rating = %q", got)
	}
	eventually(t, "thanks", func() bool { return strings.HasPrefix(r.note.Text, "Thank you") })
	test.Tap(r.reopen)
	eventually(t, "reopened", func() bool { return len(f.Recorded().Reopened) == 1 })
}

func TestRequestsFollowsEvents(t *testing.T) {
	f := seeded()
	r := newReqs(t, f, "r1")
	eventually(t, "shown", func() bool { return len(r.thread.Objects) == 2 })
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	if err := f.AwaitSubscribed(ctx); err != nil {
		t.Fatal(err)
	}
	f.AddMessage(agentapi.Message{ID: "m2", RequestID: "r1", Author: protocol.Person{Name: "Rob"}, Text: "Great!"})
	eventually(t, "new message shown", func() bool { return len(r.thread.Objects) == 3 })
}

func TestRequestsEmpty(t *testing.T) {
	r := newReqs(t, agentapitest.NewFake(), "")
	eventually(t, "loaded", func() bool { return r.empty.Visible() && r.list.Length() == 0 })
}

func TestWhatITSees(t *testing.T) {
	a := test.NewTempApp(t)
	w := a.NewWindow("")
	v := newWhatITSees(w, agentapitest.NewFake(), "Acme IT")
	w.SetContent(v.content())
	eventually(t, "facts", func() bool { return len(v.form.Items) > 5 })
	if !strings.HasPrefix(v.intro.Text, "This is exactly what Acme IT received") {
		t.Errorf("intro = %q", v.intro.Text)
	}
	labels := map[string]string{}
	for _, it := range v.form.Items {
		labels[it.Text] = it.Widget.(*widget.Label).Text
	}
	if labels["Computer name"] != "laptop-anna" || labels["Memory"] != "9.0 GB of 16 GB in use" {
		t.Errorf("facts = %v", labels)
	}
}

func TestWhatITSeesNothingYet(t *testing.T) {
	a := test.NewTempApp(t)
	w := a.NewWindow("")
	f := agentapitest.NewFake()
	f.SetSnapshot(nil)
	v := newWhatITSees(w, f, "")
	w.SetContent(v.content())
	eventually(t, "intro", func() bool { return strings.Contains(v.intro.Text, "hasn't received anything") })
}

func TestAboutAndNews(t *testing.T) {
	a := test.NewTempApp(t)
	f := agentapitest.NewFake()
	f.AddAnnouncement(agentapi.Announcement{ID: "a1", Title: "Maintenance tonight", Text: "Email is down 22:00–23:00."})
	w := a.NewWindow("")
	ab := newAbout(w, f, "")
	w.SetContent(ab.content())
	eventually(t, "about", func() bool { return len(ab.form.Items) >= 4 })
	if ab.form.Items[1].Text != "Help desk" || ab.form.Items[1].Widget.(*widget.Label).Text != "Example IT" {
		t.Errorf("help desk row = %q", ab.form.Items[1].Text)
	}
	w2 := a.NewWindow("")
	n := newNews(w2, f)
	w2.SetContent(n.content())
	eventually(t, "news", func() bool { return len(n.list.Objects) == 1 })
	eventually(t, "marked read", func() bool {
		anns, _ := f.Announcements(t.Context())
		return anns[0].Read
	})
}

func TestOpenUnknownView(t *testing.T) {
	a := test.NewTempApp(t)
	if _, err := Open(a, "nope", agentapitest.NewFake(), Options{}); err == nil {
		t.Error("unknown view opened")
	}
	for _, v := range Views {
		w, err := Open(a, v, agentapitest.NewFake(), Options{Capture: func() (image.Image, error) { return nil, errors.New("x") }})
		if err != nil {
			t.Errorf("%s: %v", v, err)
			continue
		}
		w.Close()
	}
}

func TestFactsWords(t *testing.T) {
	if got := Bytes(900 << 20); got != "900 MB" {
		t.Errorf("Bytes = %q", got)
	}
	if got := Duration(26*time.Hour + 3*time.Minute); got != "1 day 2 hours" {
		t.Errorf("Duration = %q", got)
	}
	if got := Facts(agentapitest.SampleSnapshot())[2].Value; got != "Debian 13 (64-bit)" {
		t.Errorf("System = %q", got)
	}
}
