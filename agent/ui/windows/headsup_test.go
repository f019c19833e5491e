package windows

import (
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/deskside/deskside/agent/agentapi"
	"github.com/deskside/deskside/agent/agentapi/agentapitest"
	"github.com/deskside/deskside/shared/protocol"
)

func headsUpItems() []agentapi.CheckItem {
	now := time.Now()
	return []agentapi.CheckItem{
		{Kind: protocol.CheckPasswordExpiry, State: protocol.CheckWarn, Title: "Password",
			Summary:  "Your password expires in 3 days (" + now.AddDate(0, 0, 3).Format("Monday 2 January") + "). Change it now so you're not locked out.",
			Deadline: now.AddDate(0, 0, 3), Fix: "open_password_page", HowToURL: "https://help.acme.test/password"},
		{Kind: protocol.CheckDiskSpace, State: protocol.CheckWarn, Title: "Disk space",
			Summary: "Your disk is almost full: 3.1 GB left on /home (3% free).", Fix: "clear_temp"},
		{Kind: protocol.CheckRestartNeeded, State: protocol.CheckSnoozed, Title: "Restart", Fix: "restart",
			Summary: "Your computer has been on for 23 days. A restart keeps it quick and safe.", SnoozedUntil: now.Add(20 * time.Hour)},
		{Kind: protocol.CheckOSUpdates, State: protocol.CheckOK, Title: "Updates", Summary: "Your computer is up to date."},
		{Kind: protocol.CheckBatteryHealth, State: protocol.CheckOK, Title: "Battery", Summary: "Your battery is healthy: it holds 91% of what it did when new."},
		{Kind: protocol.CheckDiskEncryption, State: protocol.CheckOK, Title: "Disk encryption", Summary: "Your disk is encrypted: your files are safe if the computer is lost."},
	}
}

// buttons finds the buttons under o (in reading order).
func buttons(o fyne.CanvasObject) []*widget.Button {
	var out []*widget.Button
	var walk func(fyne.CanvasObject)
	walk = func(o fyne.CanvasObject) {
		switch v := o.(type) {
		case *widget.Button:
			out = append(out, v)
		case *fyne.Container:
			for _, c := range v.Objects {
				walk(c)
			}
		case *widget.Card:
			walk(v.Content)
		case *container.Scroll:
			walk(v.Content)
		}
	}
	walk(o)
	return out
}

// button is the n-th button labelled text.
func button(t *testing.T, h *headsUp, text string, n int) *widget.Button {
	t.Helper()
	for _, b := range buttons(h.list) {
		if b.Text == text {
			if n == 0 {
				return b
			}
			n--
		}
	}
	t.Fatalf("no button %q", text)
	return nil
}

func newHeadsUpWin(t *testing.T, f *agentapitest.Fake) (*headsUp, fyne.Window) {
	a := test.NewTempApp(t)
	w := a.NewWindow("")
	h := newHeadsUp(w, f)
	w.SetContent(h.content())
	w.Resize(fyne.NewSize(640, 720))
	eventually(t, "items", func() bool { return len(h.items) == 6 })
	return h, w
}

func TestHeadsUpFixShowsSizeFirst(t *testing.T) {
	f := agentapitest.NewFake()
	f.SetChecks(headsUpItems(), false)
	h, _ := newHeadsUpWin(t, f)
	if h.intro.Text != "2 things need you. Each only takes a moment, and IT is here if you'd rather they handle it." {
		t.Errorf("intro %q", h.intro.Text)
	}
	// The disk card's "Fix it for me" (the second) first says what it
	// will clear, and does nothing until "Yes, do it".
	test.Tap(button(t, h, "Fix it for me", 1))
	eventually(t, "the plan", func() bool { return h.plan != nil })
	if calls := f.CheckCalls(); len(calls) != 1 || calls[0] != "disk_space plan_fix " {
		t.Fatalf("calls %q", calls)
	}
	if !strings.Contains(labels(h.list), "I can clear 2.4 GB") {
		t.Fatalf("the plan is not shown:\n%s", labels(h.list))
	}
	test.Tap(button(t, h, "Yes, do it", 0))
	eventually(t, "fixed", func() bool { return h.status.Text == "Done: I cleared 2.4 GB." })
	if calls := f.CheckCalls(); calls[1] != "disk_space fix " {
		t.Fatalf("calls %q", calls)
	}
	// Ask IT on the password: one click.
	test.Tap(button(t, h, "Ask IT", 0))
	eventually(t, "asked", func() bool { return strings.HasPrefix(h.status.Text, "Sent to IT") })
	if calls := f.CheckCalls(); calls[2] != "password_expiry ask_it " {
		t.Fatalf("calls %q", calls)
	}
	if !strings.Contains(labels(h.list), "You asked IT about this") {
		t.Errorf("the card does not say IT has it:\n%s", labels(h.list))
	}
}

func TestHeadsUpRemindAndRestartChoices(t *testing.T) {
	f := agentapitest.NewFake()
	f.SetChecks(headsUpItems(), false)
	h, _ := newHeadsUpWin(t, f)
	test.Tap(button(t, h, "Remind me later", 0))
	eventually(t, "snoozed", func() bool { return h.status.Text == "OK, I'll remind you tomorrow." })
	// The snoozed restart (the third card) offers tonight or in two
	// minutes.
	test.Tap(button(t, h, "Fix it for me", 2))
	eventually(t, "the plan", func() bool { return h.plan != nil })
	test.Tap(button(t, h, "Restart tonight", 0))
	eventually(t, "planned", func() bool { return len(f.CheckCalls()) == 3 })
	if calls := f.CheckCalls(); calls[2] != "restart_needed fix tonight" {
		t.Fatalf("calls %q", calls)
	}
}

func labels(o fyne.CanvasObject) string {
	var b strings.Builder
	var walk func(fyne.CanvasObject)
	walk = func(o fyne.CanvasObject) {
		switch v := o.(type) {
		case *widget.Label:
			b.WriteString(v.Text + "\n")
		case *fyne.Container:
			for _, c := range v.Objects {
				walk(c)
			}
		case *widget.Card:
			walk(v.Content)
		case *widget.Form:
			for _, it := range v.Items {
				b.WriteString(it.Text + ": ")
				walk(it.Widget)
			}
		}
	}
	walk(o)
	return b.String()
}
