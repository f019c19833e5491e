package windows

import (
	"context"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/deskside/deskside/agent/agentapi"
	"github.com/deskside/deskside/agent/agentapi/agentapitest"
	"github.com/deskside/deskside/shared/protocol"
)

const (
	expectBlocking = "Usually answered within 30 minutes."
	expectWhenever = "Usually answered within 2 working hours."
)

func TestGetHelpExpectationFollowsUrgency(t *testing.T) {
	f := agentapitest.NewFake()
	f.SetExpectations([]agentapi.Expectation{
		{Urgency: protocol.UrgencyBlocking, Text: expectBlocking},
		{Urgency: protocol.UrgencyWhenYouCan, Text: expectWhenever},
	})
	g, _ := newHelp(t, f)
	empty := g.expect.MinSize()
	// "When you can" is picked at first.
	eventually(t, "the promise for when you can", func() bool { return g.expect.Text == expectWhenever })
	if !g.expect.Visible() {
		t.Fatal("the promise is hidden")
	}
	if got := g.expect.MinSize(); got.Height != empty.Height {
		t.Errorf("the line's height moved from %v to %v: the form jumps", empty.Height, got.Height)
	}
	test.Tap(g.urgChips[protocol.UrgencyBlocking])
	if g.expect.Text != expectBlocking {
		t.Errorf("blocking: %q", g.expect.Text)
	}
	if got := g.expect.MinSize(); got.Height != empty.Height {
		t.Errorf("height %v after picking blocking, want %v", got.Height, empty.Height)
	}
	test.Tap(g.urgChips[protocol.UrgencyWhenYouCan])
	if g.expect.Text != expectWhenever {
		t.Errorf("back to when you can: %q", g.expect.Text)
	}

	// Sent: the confirmation repeats the promise for what was picked.
	test.Tap(g.urgChips[protocol.UrgencyBlocking])
	test.Type(g.text, "I can't log in to the payroll app")
	test.Tap(g.send)
	eventually(t, "confirmation", func() bool { return g.done != nil })
	if !canvasHasText(g, expectBlocking) {
		t.Error("the confirmation does not say how soon IT usually answers")
	}
}

// canvasHasText reports whether a label in Get help's page shows s.
func canvasHasText(g *getHelp, s string) bool {
	for _, o := range test.LaidOutObjects(g.root) {
		if l, ok := o.(*widget.Label); ok && strings.Contains(l.Text, s) {
			return true
		}
	}
	return false
}

// No promise for an urgency (or none ever): the line stays empty, its
// space kept.
func TestGetHelpNoExpectationNoLine(t *testing.T) {
	f := agentapitest.NewFake()
	f.SetExpectations([]agentapi.Expectation{{Urgency: protocol.UrgencyBlocking, Text: expectBlocking}})
	g, _ := newHelp(t, f)
	test.Tap(g.urgChips[protocol.UrgencyBlocking])
	eventually(t, "the promise for blocking", func() bool { return g.expect.Text == expectBlocking })
	test.Tap(g.urgChips[protocol.UrgencyWhenYouCan])
	if g.expect.Text != "" || !g.expect.Visible() {
		t.Errorf("when you can, with no promise: %q visible=%v", g.expect.Text, g.expect.Visible())
	}
}

func TestRequestsShowExpectationUntilAnswered(t *testing.T) {
	f := agentapitest.NewFake()
	now := time.Now()
	const onIt = "Usually answered within 2 working hours — Rob is on it."
	f.AddRequest(agentapi.Request{ID: "r2", Text: "The printer jams on every page", Status: protocol.StatusInProgress,
		Urgency: protocol.UrgencyWhenYouCan, Category: protocol.CategoryProblem, Sent: true, CreatedAt: now.Add(-20 * time.Minute),
		Assignee: &protocol.Person{Name: "Rob"}, Expectation: onIt})
	f.AddRequest(agentapi.Request{ID: "r0", Text: "Need Inkscape for a poster", Status: protocol.StatusResolved,
		Category: protocol.CategorySoftware, Sent: true, CreatedAt: now.Add(-48 * time.Hour), Assignee: &protocol.Person{Name: "Mia"}})
	r := newReqs(t, f, "r2")
	eventually(t, "r2 shown", func() bool { return r.current.ID == "r2" })
	if !r.expect.Visible() || r.expect.Text != onIt {
		t.Errorf("detail: %q visible=%v", r.expect.Text, r.expect.Visible())
	}
	if got := listLine(r.items[0]); got != onIt {
		t.Errorf("list line of the open request: %q", got)
	}
	if got := listLine(r.items[1]); got != "Resolved · Mia" {
		t.Errorf("list line of the resolved one: %q", got)
	}

	// The resolved one has no promise.
	r.show("r0")
	eventually(t, "r0 shown", func() bool { return r.current.ID == "r0" })
	if r.expect.Visible() {
		t.Errorf("a promise on a resolved request: %q", r.expect.Text)
	}

	// IT's first answer ends the promise, live.
	r.show("r2")
	eventually(t, "r2 again", func() bool { return r.current.ID == "r2" && r.expect.Visible() })
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	if err := f.AwaitSubscribed(ctx); err != nil {
		t.Fatal(err)
	}
	f.AddMessage(agentapi.Message{ID: "m9", RequestID: "r2", Author: protocol.Person{Name: "Rob"}, Text: "Which floor?"})
	eventually(t, "the promise gone", func() bool { return !r.expect.Visible() && len(r.thread.Objects) == 2 })
	if got := listLine(r.items[0]); got != "Being worked on · Rob" {
		t.Errorf("list line once answered: %q", got)
	}
}

// New promises from the help desk (a welcome) redraw the open window.
func TestRequestsFollowNewPromises(t *testing.T) {
	f := agentapitest.NewFake()
	f.AddRequest(agentapi.Request{ID: "r3", Text: "Teams has no sound", Status: protocol.StatusNew,
		Urgency: protocol.UrgencyBlocking, Sent: true, CreatedAt: time.Now()})
	r := newReqs(t, f, "r3")
	eventually(t, "r3 shown", func() bool { return r.current.ID == "r3" })
	if r.expect.Visible() {
		t.Fatalf("a promise before IT made one: %q", r.expect.Text)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	if err := f.AwaitSubscribed(ctx); err != nil {
		t.Fatal(err)
	}
	f.SetExpectations([]agentapi.Expectation{{Urgency: protocol.UrgencyBlocking, Text: expectBlocking}})
	eventually(t, "the new promise shown", func() bool {
		return r.expect.Visible() && r.expect.Text == expectBlocking && listLine(r.items[0]) == expectBlocking
	})
}
