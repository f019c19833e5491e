package windows

import (
	"context"
	"fmt"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/widget"

	"github.com/deskside/deskside/agent/agentapi"
	"github.com/deskside/deskside/shared/protocol"
)

// headsUp lists the heads-up checks: the ones that need the person first,
// each with Fix it for me (what it will do is shown first), Show me how,
// Remind me later and Ask IT; then the ones that are fine, one line each.
type headsUp struct {
	w      fyne.Window
	b      agentapi.Backend
	intro  *widget.Label
	list   *fyne.Container
	status *widget.Label
	items  []agentapi.CheckItem
	// confirm is the check whose fix is being confirmed ("" none), with
	// its plan.
	confirm protocol.CheckKind
	plan    *agentapi.FixPlan
}

func newHeadsUp(w fyne.Window, b agentapi.Backend) *headsUp {
	h := &headsUp{w: w, b: b, intro: wrapped("Looking…"), list: container.NewVBox(), status: wrapped("")}
	w.SetTitle("Heads-up — Deskside")
	h.reload()
	return h
}

func (h *headsUp) reload() { call(h.b.Checks, h.show) }

func (h *headsUp) show(items []agentapi.CheckItem, err error) {
	if err != nil {
		h.intro.SetText("We couldn't load your heads-up items: " + agentapi.UserMessage(err))
		return
	}
	h.items = items
	h.draw()
}

// HeadsUpIntro is the line above the list.
func HeadsUpIntro(items []agentapi.CheckItem) string {
	n := 0
	for _, it := range items {
		if it.Attention() {
			n++
		}
	}
	switch {
	case len(items) == 0:
		return "Nothing checked yet. Deskside checks your computer a moment after it starts."
	case n == 0:
		return "All good: nothing needs you right now. Deskside keeps an eye on these for you."
	case n == 1:
		return "One thing needs you. It only takes a moment, and IT is here if you'd rather they handle it."
	}
	return fmt.Sprintf("%d things need you. Each only takes a moment, and IT is here if you'd rather they handle it.", n)
}

// StateWords says where a check stands, for the line under its summary.
func StateWords(it agentapi.CheckItem, now time.Time) string {
	switch it.State {
	case protocol.CheckSnoozed:
		return "We'll remind you " + When(it.SnoozedUntil, now) + "."
	case protocol.CheckAskedIT:
		return "You asked IT about this; follow it in My requests."
	case protocol.CheckFixed:
		return "Fixed. Thank you!"
	case protocol.CheckUnknown:
		return "We'll try again later."
	}
	if !it.RestartAt.IsZero() {
		return "A restart is planned for " + it.RestartAt.Local().Format("15:04") + "."
	}
	if !it.Deadline.IsZero() && it.State == protocol.CheckWarn {
		return "Deadline: " + it.Deadline.Local().Format("Monday 2 January") + "."
	}
	return ""
}

func (h *headsUp) draw() {
	h.intro.SetText(HeadsUpIntro(h.items))
	h.list.Objects = nil
	var fine []agentapi.CheckItem
	for _, it := range h.items {
		if it.State == protocol.CheckOK || it.State == protocol.CheckUnknown || it.State == protocol.CheckFixed {
			fine = append(fine, it)
			continue
		}
		h.list.Add(h.card(it))
	}
	if len(fine) > 0 {
		h.list.Add(widget.NewLabelWithStyle("Checked and fine", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}))
		form := widget.NewForm()
		for _, it := range fine {
			form.Append(it.Title, wrapped(it.Summary))
		}
		h.list.Add(form)
	}
	h.list.Refresh()
}

// card is one item that needs (or needed) the person.
func (h *headsUp) card(it agentapi.CheckItem) fyne.CanvasObject {
	title := widget.NewLabelWithStyle(it.Title, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	if it.State == protocol.CheckWarn {
		title.Importance = widget.WarningImportance
	}
	box := container.NewVBox(title, wrapped(it.Summary))
	if s := StateWords(it, time.Now()); s != "" {
		box.Add(meta(s))
	}
	if h.confirm == it.Kind && h.plan != nil {
		box.Add(h.confirmRow(it))
	} else {
		box.Add(h.actions(it))
	}
	return container.NewVBox(widget.NewCard("", "", container.NewPadded(box)))
}

func (h *headsUp) actions(it agentapi.CheckItem) fyne.CanvasObject {
	row := container.NewHBox()
	if it.Fix != "" {
		fix := widget.NewButton("Fix it for me", func() { h.planFix(it.Kind) })
		fix.Importance = widget.HighImportance
		row.Add(fix)
	}
	if it.HowToURL != "" || it.ArticleID != "" {
		row.Add(widget.NewButton("Show me how", func() { h.act(it.Kind, agentapi.CheckShowHow, "") }))
	}
	if it.State == protocol.CheckWarn {
		row.Add(widget.NewButton("Remind me later", func() { h.act(it.Kind, agentapi.CheckSnooze, "") }))
	}
	if it.State != protocol.CheckAskedIT {
		row.Add(widget.NewButton("Ask IT", func() { h.act(it.Kind, agentapi.CheckAskIT, "") }))
	}
	return row
}

// confirmRow says what the fix will do (how much it frees, which site it
// opens) and asks before doing it.
func (h *headsUp) confirmRow(it agentapi.CheckItem) fyne.CanvasObject {
	desc := wrapped(h.plan.Description)
	desc.TextStyle = fyne.TextStyle{Bold: true}
	row := container.NewHBox()
	notNow := widget.NewButton("Not now", func() { h.confirm, h.plan = "", nil; h.draw() })
	if h.plan.Fix == "restart" {
		tonight := widget.NewButton("Restart tonight", func() { h.act(it.Kind, agentapi.CheckFix, "tonight") })
		tonight.Importance = widget.HighImportance
		row.Add(tonight)
		row.Add(widget.NewButton("Restart in 2 minutes", func() { h.act(it.Kind, agentapi.CheckFix, "now") }))
		if !h.plan.RestartAt.IsZero() {
			row.Add(widget.NewButton("Cancel the restart", func() { h.act(it.Kind, agentapi.CheckFix, "cancel") }))
		}
	} else {
		yes := widget.NewButton("Yes, do it", func() { h.act(it.Kind, agentapi.CheckFix, "") })
		yes.Importance = widget.HighImportance
		row.Add(yes)
	}
	row.Add(notNow)
	return container.NewVBox(desc, row)
}

func (h *headsUp) planFix(k protocol.CheckKind) {
	h.status.SetText("Looking at what I can do…")
	call(func(ctx context.Context) (agentapi.CheckActionResult, error) {
		return h.b.CheckAction(ctx, k, agentapi.CheckPlanFix, "")
	}, func(res agentapi.CheckActionResult, err error) {
		if err != nil {
			h.status.SetText(agentapi.UserMessage(err))
			return
		}
		h.status.SetText("")
		h.confirm, h.plan = k, res.Plan
		h.draw()
	})
}

func (h *headsUp) act(k protocol.CheckKind, a agentapi.CheckAction, option string) {
	h.status.SetText("One moment…")
	call(func(ctx context.Context) (agentapi.CheckActionResult, error) {
		return h.b.CheckAction(ctx, k, a, option)
	}, func(res agentapi.CheckActionResult, err error) {
		h.confirm, h.plan = "", nil
		if err != nil {
			h.status.SetText(agentapi.UserMessage(err))
			h.draw()
			return
		}
		h.status.SetText(res.Message)
		for i := range h.items {
			if h.items[i].Kind == k && res.Item.Kind == k {
				h.items[i] = res.Item
			}
		}
		h.draw()
	})
}

func (h *headsUp) content() fyne.CanvasObject {
	closeBtn := widget.NewButton("Close", func() { h.w.Close() })
	h.status.TextStyle = fyne.TextStyle{Italic: true}
	return container.NewBorder(container.NewPadded(container.NewVBox(heading("Heads-up"), h.intro)),
		container.NewPadded(container.NewVBox(widget.NewSeparator(), h.status, container.NewHBox(layout.NewSpacer(), closeBtn))),
		nil, nil, container.NewVScroll(container.NewPadded(h.list)))
}
