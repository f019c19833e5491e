package console_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/deskside/deskside/server/internal/console"
	"github.com/deskside/deskside/server/servertest"
	"github.com/deskside/deskside/shared/protocol"
)

// TestTwoTechniciansSeeEachOtherLive: technicians A and B (two browsers,
// two sessions) have one request open against the real server. Whatever B
// does — reply, internal note, status, assignment — and whatever arrives
// through REST or from the device (the user's reply, rating, reopening)
// shows in A's open view without a reload. A's thread only grows: the
// items already shown are never rebuilt, and each arrival is announced
// once in a status region.
func TestTwoTechniciansSeeEachOtherLive(t *testing.T) {
	srv := servertest.New(t)
	admin := srv.Tech(t)
	var bob struct {
		ID string `json:"id"`
	}
	if st := admin.Do(t, http.MethodPost, "/api/v1/technicians", map[string]string{"email": "bob@example.com", "name": "Bob Builder",
		"password": "bob's long password", "role": "technician"}, &bob); st != http.StatusCreated || bob.ID == "" {
		t.Fatalf("create technician B: %d %+v", st, bob)
	}
	dev := srv.Enroll(t, "ana-laptop")
	dev.Connect(t, 0)
	id := dev.RaiseRequest(t, "The printer on floor 2 jams")

	a := console.NewBrowser(t)
	a.SignIn(srv.URL(), servertest.AdminEmail, servertest.AdminPassword)
	b := console.NewBrowser(t)
	b.SignIn(srv.URL(), "bob@example.com", "bob's long password")
	view := srv.URL() + "/#/requests/" + id
	for _, x := range []*console.Browser{a, b} {
		x.Do("open the request", chromedp.Navigate(view), chromedp.WaitVisible(chromedp.CSS("#composer")))
		x.WaitText("#thread", "The printer on floor 2 jams")
	}
	// Mark what A shows now: a rebuilt thread would lose the mark.
	console.Eval[any](a, `document.querySelector('#thread li').dataset.mark = 'kept'`)
	kept := func(after string) {
		t.Helper()
		if !console.Eval[bool](a, `document.querySelector('#thread li[data-mark=kept]') !== null`) {
			t.Errorf("A's thread was rebuilt after %s", after)
		}
	}

	// B replies in the console.
	b.Do("B replies", chromedp.SendKeys(chromedp.CSS("#reply-text"), "Hi Ana, I'm coming over with a new roller."),
		chromedp.Click(chromedp.CSS("#send")))
	a.WaitText("#thread", "coming over with a new roller")
	a.WaitText("#thread-status", "New message from Bob Builder")
	kept("B's reply")
	// The Send button disabled itself while focused; the focus is back in
	// the text box, not on <body>.
	b.WaitTrue("B's reply box empty again", `document.getElementById('reply-text').value === ''`)
	if got := console.Eval[string](b, `document.activeElement.id`); got != "reply-text" {
		t.Errorf("after Send reply the focus is on %q, want reply-text", got)
	}

	// B adds an internal note.
	b.Do("B writes a note", chromedp.Click(chromedp.CSS("#tab-note")),
		chromedp.SendKeys(chromedp.CSS("#reply-text"), "Roller part no. 4411 is in the cupboard."),
		chromedp.Click(chromedp.CSS("#send")))
	a.WaitText("#thread", "Roller part no. 4411")
	a.WaitText("#thread-status", "New internal note from Bob Builder")
	kept("B's note")

	// B takes it and sets the status.
	b.Do("B takes it", chromedp.Click(chromedp.CSS("#assign-me")))
	a.WaitTrue("A sees B assigned", fmt.Sprintf(`document.getElementById('req-assignee').value === %q`, bob.ID))
	console.Eval[any](b, `(() => { const s = document.getElementById('req-status'); s.value = 'waiting_on_user'; s.dispatchEvent(new Event('change')); })()`)
	a.WaitTrue("A sees the status", `document.getElementById('req-status').value === 'waiting_on_user'`)
	a.WaitText(".req-head .meta", "Waiting on them")

	// A reply posted through REST (a script, another tool).
	if st := admin.Do(t, http.MethodPost, "/api/v1/requests/"+id+"/messages", map[string]string{"text": "Sent from the API"}, nil); st != http.StatusCreated {
		t.Fatalf("REST reply: %d", st)
	}
	a.WaitText("#thread", "Sent from the API")
	b.WaitText("#thread", "Sent from the API")
	kept("the REST reply")

	// The user answers, is helped, rates and reopens, from the device.
	dev.Send(t, protocol.KindRequestReply, protocol.RequestReply{RequestID: id, MessageID: "msg_" + protocol.NewID(), Text: "Thanks, I'll wait by the printer"})
	a.WaitText("#thread", "wait by the printer")
	a.WaitText("#thread-status", "New message from ana")
	console.Eval[any](b, `(() => { const s = document.getElementById('req-status'); s.value = 'resolved'; s.dispatchEvent(new Event('change')); })()`)
	a.WaitTrue("A sees it resolved", `document.getElementById('req-status').value === 'resolved'`)
	dev.Send(t, protocol.KindRequestRate, protocol.RequestRate{RequestID: id, Rating: 5, Comment: "Quick and kind"})
	a.WaitText("#req-rating", "rated 5/5 — “Quick and kind”")
	dev.Send(t, protocol.KindRequestReopen, protocol.RequestReopen{RequestID: id, Text: "It jams again after lunch"})
	a.WaitText("#thread", "It jams again after lunch")
	a.WaitTrue("A sees it reopened", `document.getElementById('req-status').value === 'reopened'`)
	b.WaitText("#thread", "It jams again after lunch")
	kept("the device's changes")

	// Nothing shown twice: B's own reply came back live and from its POST.
	if n := console.Eval[int](b, `[...document.querySelectorAll('#thread li')].filter((li) => li.textContent.includes('new roller')).length`); n != 1 {
		t.Errorf("B's reply shows %d times in B's view", n)
	}
	a.Screenshot("request-live")
}

// TestSignInPointsToSetupFirst: on a server with no account yet, the
// sign-in page says where the setup link is; once the admin exists, it
// does not.
func TestSignInPointsToSetupFirst(t *testing.T) {
	srv := servertest.New(t)
	b := console.NewBrowser(t)
	b.Do("open", chromedp.Navigate(srv.URL()+"/"), chromedp.WaitVisible(chromedp.CSS("#signin")))
	b.WaitText("#setup-hint", "First time here? Open the setup link")
	b.WaitText("#setup-hint", "setup-token")
	b.Screenshot("signin-before-setup")

	srv.Tech(t)
	b.Do("reload", chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("#signin")))
	// The hint stays hidden once the page has asked /healthz (which no
	// longer says setup_pending); wait for that answer, not for a clock.
	b.WaitTrue("the setup check", `document.getElementById('setup-hint').dataset.checked === 'yes'`)
	if console.Eval[bool](b, `!document.getElementById('setup-hint').hidden`) {
		t.Error("the setup hint shows after setup")
	}
}
