package windows

import (
	"context"
	"image"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/widget"

	"github.com/deskside/deskside/agent/agentapi"
	"github.com/deskside/deskside/shared/protocol"
)

// Texts of the "Get help" window, kept together so they read as one voice.
const (
	textPlaceholder = "What's going on?"
	softwareHint    = "No judgement — it helps us keep you safe."
	sentWarm        = "Got it — we'll be in touch soon."
	sentOffline     = "Saved — we'll send it as soon as you're back online."
)

// getHelp is the "Get help" window: one sentence, a few taps, Send.
type getHelp struct {
	w        fyne.Window
	b        agentapi.Backend
	capture  func() (image.Image, error)
	helpDesk string

	text           *submitEntry
	category       protocol.Category
	catChips       map[protocol.Category]*widget.Button
	hint           *widget.Label
	urgency        protocol.Urgency
	urgChips       map[protocol.Urgency]*widget.Button
	expect         *widget.Label          // how soon IT usually answers, for the urgency picked
	expectations   []agentapi.Expectation // the help desk's promises (Status)
	shot           *widget.Check
	shotImg        *canvas.Image
	shotNote       *widget.Label
	shotPNG        []byte
	facts          *widget.Label
	send           *widget.Button
	errLabel       *widget.Label
	root           *fyne.Container
	done           *widget.Label // the confirmation, once sent
	sending        bool
	onOpenRequests func()

	// Self-help: the known problem first, suggestions while typing.
	known   *knownProblem
	sug     *suggestions
	article *articleWindow // the article opened last, if any

	// typing tells the agent while the text box holds text, so no
	// software question interrupts the person.
	typing *composing
}

func newGetHelp(w fyne.Window, b agentapi.Backend, capture func() (image.Image, error), helpDesk string) *getHelp {
	g := &getHelp{w: w, b: b, capture: capture, helpDesk: helpDesk,
		category: protocol.CategoryProblem, urgency: protocol.UrgencyWhenYouCan, typing: &composing{b: b}}
	w.SetTitle("Get help — Deskside")
	g.text = newSubmitEntry(textPlaceholder, g.submit)
	g.text.SetMinRowsVisible(5)
	g.sug = newSuggestions(b, g.openArticle)
	g.known = newKnownProblem(b)
	g.text.OnChanged = func(s string) {
		g.updateSend()
		g.sug.q.changed(s)
		g.typing.set(strings.TrimSpace(s) != "" && g.done == nil)
	}
	w.SetOnClosed(g.typing.stop)

	g.catChips = map[protocol.Category]*widget.Button{}
	for _, c := range []protocol.Category{protocol.CategoryProblem, protocol.CategoryQuestion,
		protocol.CategorySoftware, protocol.CategoryIdea} {
		g.catChips[c] = widget.NewButton(chipWords(c), func() { g.setCategory(c) })
	}
	g.hint = widget.NewLabelWithStyle(softwareHint, fyne.TextAlignLeading, fyne.TextStyle{Italic: true})
	g.urgChips = map[protocol.Urgency]*widget.Button{
		protocol.UrgencyBlocking:   widget.NewButton("Blocking my work", func() { g.setUrgency(protocol.UrgencyBlocking) }),
		protocol.UrgencyWhenYouCan: widget.NewButton("When you can", func() { g.setUrgency(protocol.UrgencyWhenYouCan) }),
	}
	// Its line is always there (empty until the agent answers, or when IT
	// never said), so nothing below it jumps when the words arrive.
	g.expect = meta("")
	g.expect.Wrapping = fyne.TextWrapWord
	g.shotImg = &canvas.Image{FillMode: canvas.ImageFillContain}
	g.shotImg.SetMinSize(fyne.NewSize(240, 135))
	g.shotImg.Hide()
	g.shotNote = widget.NewLabel("")
	g.shotNote.Hide()
	g.shot = widget.NewCheck("Attach a screenshot of my screen", g.toggleShot)
	g.facts = wrapped("Looking at this computer…")
	g.send = widget.NewButton("Send", g.submit)
	g.send.Importance = widget.HighImportance
	g.errLabel = wrapped("")
	g.errLabel.Importance = widget.DangerImportance
	g.errLabel.Hide()
	g.setCategory(g.category)
	g.setUrgency(g.urgency)
	g.updateSend()
	g.loadFacts()
	g.loadExpectations()
	w.Canvas().AddShortcut(sendShortcut, func(fyne.Shortcut) { g.submit() })
	return g
}

func chipWords(c protocol.Category) string {
	switch c {
	case protocol.CategoryProblem:
		return "Problem"
	case protocol.CategoryQuestion:
		return "Question"
	case protocol.CategorySoftware:
		return "Software I use or need"
	case protocol.CategoryIdea:
		return "Idea"
	}
	return string(c)
}

func (g *getHelp) content() fyne.CanvasObject {
	intro := wrapped("Tell us in a sentence or two. A person at " + g.deskName() + " reads every request.")
	cats := container.NewHBox(g.catChips[protocol.CategoryProblem], g.catChips[protocol.CategoryQuestion],
		g.catChips[protocol.CategorySoftware], g.catChips[protocol.CategoryIdea])
	urg := container.NewHBox(g.urgChips[protocol.UrgencyBlocking], g.urgChips[protocol.UrgencyWhenYouCan])
	sent := widget.NewAccordion(widget.NewAccordionItem("What will be sent", container.NewVBox(g.facts)))
	cancel := widget.NewButton("Cancel", func() { g.w.Close() })
	keys := widget.NewLabelWithStyle("Ctrl+Enter sends", fyne.TextAlignTrailing, fyne.TextStyle{Italic: true})
	keys.Importance = widget.LowImportance
	buttons := container.NewHBox(layout.NewSpacer(), keys, cancel, g.send)
	form := container.NewVBox(
		heading("Get help"), g.known.box, intro,
		g.text, g.sug.box,
		widget.NewLabel("What kind of thing is it?"), cats, g.hint,
		widget.NewLabel("How much is it in your way?"), urg, g.expect,
		g.shot, container.NewHBox(g.shotImg, g.shotNote),
		sent,
		g.errLabel,
	)
	g.root = container.NewBorder(nil, container.NewPadded(buttons), nil, nil, container.NewVScroll(container.NewPadded(form)))
	return g.root
}

// focus puts the cursor in the text box, once the content is on the canvas.
func (g *getHelp) focus() { g.w.Canvas().Focus(g.text) }

func (g *getHelp) deskName() string {
	if g.helpDesk != "" {
		return g.helpDesk
	}
	return "IT"
}

func (g *getHelp) setCategory(c protocol.Category) {
	g.category = c
	for k, b := range g.catChips {
		b.Importance = widget.MediumImportance
		if k == c {
			b.Importance = widget.HighImportance
		}
		b.Refresh()
	}
	if c == protocol.CategorySoftware {
		g.hint.Show()
	} else {
		g.hint.Hide()
	}
}

func (g *getHelp) setUrgency(u protocol.Urgency) {
	g.urgency = u
	for k, b := range g.urgChips {
		b.Importance = widget.MediumImportance
		if k == u {
			b.Importance = widget.HighImportance
		}
		b.Refresh()
	}
	g.showExpectation()
}

// loadExpectations asks the agent how soon IT usually answers (the last
// promise the help desk made, kept offline too).
func (g *getHelp) loadExpectations() {
	call(g.b.Status, func(s agentapi.Connection, err error) {
		if err != nil {
			return // no promise rather than a guess
		}
		g.expectations = s.Expectations
		g.showExpectation()
	})
}

// showExpectation shows the promise for the urgency picked ("" when IT
// never made one: nothing is invented).
func (g *getHelp) showExpectation() {
	if g.expect == nil {
		return
	}
	g.expect.SetText(agentapi.ExpectationFor(g.expectations, g.urgency))
}

func (g *getHelp) updateSend() {
	if strings.TrimSpace(g.text.Text) == "" || g.sending {
		g.send.Disable()
	} else {
		g.send.Enable()
	}
}

// loadFacts fills "what will be sent" from the snapshot IT already has; the
// agent attaches a fresh one of the same kind when the request is saved.
func (g *getHelp) loadFacts() {
	call(func(ctx context.Context) (*protocol.Snapshot, error) { return g.b.Snapshot(ctx, false) },
		func(s *protocol.Snapshot, err error) {
			if err != nil || s == nil {
				g.facts.SetText("Your message, the kind and urgency you chose, and basic facts about this " +
					"computer: its name, system, memory, disk space and network.\n\n" + NeverCollected)
				return
			}
			var b strings.Builder
			b.WriteString("Your message, the kind and urgency you chose, the screenshot if you attach one, and these facts about this computer:\n")
			for _, f := range Facts(s) {
				b.WriteString("• " + f.Label + ": " + f.Value + "\n")
			}
			b.WriteString("\n" + NeverCollected)
			g.facts.SetText(b.String())
		})
}

// toggleShot takes the screenshot when the box is ticked: the window steps
// aside for a moment so that it is not in the picture.
func (g *getHelp) toggleShot(on bool) {
	if !on {
		g.shotPNG = nil
		g.shotImg.Hide()
		g.shotNote.Hide()
		return
	}
	g.w.Hide()
	go func() {
		time.Sleep(350 * time.Millisecond) // let the compositor redraw without us
		img, err := g.capture()
		var data []byte
		if err == nil {
			data, err = encodeScreenshot(img)
		}
		do(func() {
			g.w.Show()
			if err != nil {
				g.shot.SetChecked(false)
				g.shotNote.SetText("We couldn't take a screenshot here. Describing what you see works just as well.")
				g.shotNote.Show()
				return
			}
			g.shotPNG = data
			g.shotImg.Image = img
			g.shotImg.Show()
			g.shotImg.Refresh()
			g.shotNote.SetText("This picture will be attached.\nUntick the box to leave it out.")
			g.shotNote.Show()
		})
	}()
}

// submit saves the request through the agent; the agent sends it now or as
// soon as it is back online.
func (g *getHelp) submit() {
	text := strings.TrimSpace(g.text.Text)
	if text == "" || g.sending || g.done != nil {
		if text == "" {
			g.w.Canvas().Focus(g.text)
		}
		return
	}
	g.sending = true
	g.send.SetText("Sending…")
	g.updateSend()
	g.errLabel.Hide()
	nr := agentapi.NewRequest{Category: g.category, Urgency: g.urgency, Text: text, ShownArticles: g.sug.seen}
	if g.shotPNG != nil {
		nr.Screenshot = g.shotPNG
		nr.ScreenshotName = "screenshot" + screenshotExt(g.shotPNG)
	}
	call(func(ctx context.Context) (agentapi.Request, error) { return g.b.RaiseRequest(ctx, nr) },
		func(r agentapi.Request, err error) {
			g.sending = false
			g.send.SetText("Send")
			g.updateSend()
			if err != nil {
				g.errLabel.SetText("We couldn't save your request: " + agentapi.UserMessage(err) +
					" What you wrote is still here.")
				g.errLabel.Show()
				return
			}
			if r.Sent {
				g.confirm(true, r.Expectation)
				return
			}
			// Saved; the agent sends it within moments when it is online.
			call(g.b.Status, func(s agentapi.Connection, err error) {
				g.confirm(err == nil && s.State == agentapi.ConnOnline, r.Expectation)
			})
		})
}

// openArticle opens a suggested article. "This solved it" closes Get help
// with no request; "I still need help" comes back to the text as it was.
func (g *getHelp) openArticle(a agentapi.Article) {
	if g.article != nil {
		g.article.w.Close()
	}
	g.article = openArticle(g.b, a.ID, func() {
		g.sug.q.stop()
		g.w.Close()
	}, func() {
		g.w.RequestFocus()
		g.focus()
	})
}

// confirm replaces the form with a warm word, and how soon IT usually
// answers when the help desk said.
func (g *getHelp) confirm(online bool, expectation string) {
	g.sug.q.stop()
	g.typing.set(false)
	msg, more := sentWarm, "You'll get a notification when someone picks it up, and you can follow it in My requests."
	if !online {
		msg, more = sentOffline, "It's safe on this computer. You can follow it in My requests."
	}
	if expectation != "" {
		more = expectation + "\n" + more
	}
	g.done = heading(msg)
	open := widget.NewButton("Open My requests", func() {
		if g.onOpenRequests != nil {
			g.onOpenRequests()
		}
		g.w.Close()
	})
	closeBtn := widget.NewButton("Close", func() { g.w.Close() })
	closeBtn.Importance = widget.HighImportance
	g.done.Alignment = fyne.TextAlignCenter
	g.done.Wrapping = fyne.TextWrapWord
	moreLabel := wrapped(more)
	moreLabel.Alignment = fyne.TextAlignCenter
	page := container.NewVBox(layout.NewSpacer(), container.NewCenter(logo(64)),
		g.done, moreLabel,
		container.NewCenter(container.NewHBox(open, closeBtn)), layout.NewSpacer())
	g.root.Objects = []fyne.CanvasObject{container.NewPadded(page)}
	g.root.Layout = layout.NewStackLayout()
	g.root.Refresh()
	g.w.Canvas().Focus(closeBtn)
}
