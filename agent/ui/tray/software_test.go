package tray

import (
	"errors"
	"testing"

	"github.com/deskside/deskside/agent/agentapi"
	"github.com/deskside/deskside/shared/protocol"
)

var figma = agentapi.SoftwarePrompt{TitleID: "t_figma", Name: "Figma", Publisher: "Figma, Inc.", Version: "124.1.2",
	Text: "You use Figma. Is it for your work? Telling IT helps us keep it safe and supported — you're not in any trouble."}

// The software question surfaces as a heads-up does: a notification in the
// agent's warm words, and its click opens the question's window.
func TestSoftwarePromptNotifiesAndOpens(t *testing.T) {
	h := start(t, Branding{})
	h.fake.AskSoftware(figma)
	n := h.notification(t)
	if n.Title != "A quick question about Figma" || n.Body != figma.Text {
		t.Errorf("notification %+v", n)
	}
	n.OnClick()
	if got := h.opened(t); got != "software-prompt" {
		t.Errorf("click opened %q", got)
	}
}

type failingNotifier struct{}

func (failingNotifier) Notify(Notification) error { return errors.New("no notification service") }
func (failingNotifier) Close() error              { return nil }

// Where no notification can be shown, the question's window opens on its
// own, so the question is not lost.
func TestSoftwarePromptWithoutNotifications(t *testing.T) {
	h := startWith(t, Branding{}, func(c *Controller) { c.Notify = failingNotifier{} })
	h.fake.AskSoftware(figma)
	if got := h.opened(t); got != "software-prompt" {
		t.Errorf("opened %q", got)
	}
}

// IT's note (a thank-you) notifies with its title and text, and the click
// opens the Software window on "From IT".
func TestSoftwareNoteNotifies(t *testing.T) {
	h := start(t, Branding{})
	h.fake.SendSoftwareNote(agentapi.SoftwareNote{TitleID: "t_figma", Name: "Figma", Status: protocol.SoftwareApproved,
		Title: "Thank you for telling us about Figma", Text: "IT approved Figma for work. It's now supported."})
	n := h.notification(t)
	if n.Title != "Thank you for telling us about Figma" || n.Body != "IT approved Figma for work. It's now supported." {
		t.Errorf("notification %+v", n)
	}
	n.OnClick()
	if got := h.opened(t); got != "software --tab from-it" {
		t.Errorf("click opened %q", got)
	}
}
