package windows

import (
	"context"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/deskside/deskside/agent/agentapi"
	"github.com/deskside/deskside/shared/protocol"
)

// Texts of the software question, one voice: asking, never accusing.
const (
	promptTitle    = "A quick question — Deskside"
	promptHeading  = "A quick question"
	promptForWork  = "Yes, for work"
	promptPersonal = "It's personal"
	promptNever    = "Don't ask again"
	promptNone     = "Nothing to answer right now. Thanks for looking!"
	promptOpenReq  = "See it in My requests"
)

// softwarePrompt is the "Is it for your work?" window the tray opens from
// its notification: the agent's warm words, the app in small print, and
// three answers. "Yes, for work" raises the pre-filled software request in
// one click and links to it.
type softwarePrompt struct {
	w      fyne.Window
	b      agentapi.Backend
	p      *agentapi.SoftwarePrompt
	text   *widget.Label
	app    *widget.Label
	errMsg *widget.Label
	// answers holds the three buttons until an answer is given, then the
	// result's words and what to do next.
	answers  *fyne.Container
	work     *widget.Button
	personal *widget.Button
	never    *widget.Button
	openReq  *widget.Button
	busy     bool
}

func newSoftwarePrompt(w fyne.Window, b agentapi.Backend) *softwarePrompt {
	sp := &softwarePrompt{w: w, b: b, text: wrapped("One moment…"), app: meta(""), errMsg: wrapped("")}
	w.SetTitle(promptTitle)
	sp.text.SizeName = theme.SizeNameSubHeadingText
	sp.app.Hide()
	sp.errMsg.Importance = widget.DangerImportance
	sp.errMsg.Hide()
	sp.work = widget.NewButtonWithIcon(promptForWork, theme.ConfirmIcon(), func() { sp.answer(protocol.AnswerForWork) })
	sp.work.Importance = widget.HighImportance
	sp.personal = widget.NewButton(promptPersonal, func() { sp.answer(protocol.AnswerPersonal) })
	sp.never = widget.NewButton(promptNever, func() { sp.answer(protocol.AnswerNever) })
	sp.never.Importance = widget.LowImportance
	sp.answers = container.NewHBox()
	call(b.SoftwarePrompt, sp.show)
	return sp
}

func (sp *softwarePrompt) show(p *agentapi.SoftwarePrompt, err error) {
	closeBtn := widget.NewButton("Close", func() { sp.w.Close() })
	switch {
	case err != nil:
		sp.text.SetText("We couldn't load the question: " + agentapi.UserMessage(err))
		sp.setAnswers(layout.NewSpacer(), closeBtn)
		return
	case p == nil:
		// Answered already (in another window), or the agent thinks now is
		// not the time.
		sp.text.SetText(promptNone)
		sp.setAnswers(layout.NewSpacer(), closeBtn)
		return
	}
	sp.p = p
	sp.text.SetText(p.Text)
	sp.app.SetText(AppLine(p.Name, p.Publisher, p.Version))
	sp.app.Show()
	sp.setAnswers(sp.never, layout.NewSpacer(), sp.personal, sp.work)
	sp.w.Canvas().Focus(sp.work)
}

// AppLine is an app's name, publisher and version in one short line.
func AppLine(name, publisher, version string) string {
	if version != "" {
		version = "version " + version
	}
	return joinNonEmpty(" · ", name, publisher, version)
}

func (sp *softwarePrompt) setAnswers(objs ...fyne.CanvasObject) {
	sp.answers.Objects = objs
	sp.answers.Refresh()
}

func (sp *softwarePrompt) answer(a protocol.SoftwareAnswerKind) {
	if sp.p == nil || sp.busy {
		return
	}
	sp.busy = true
	for _, b := range []*widget.Button{sp.work, sp.personal, sp.never} {
		b.Disable()
	}
	sp.errMsg.Hide()
	id := sp.p.TitleID
	call(func(ctx context.Context) (agentapi.SoftwareAnswerResult, error) {
		return sp.b.AnswerSoftware(ctx, id, a)
	}, func(res agentapi.SoftwareAnswerResult, err error) {
		sp.busy = false
		if err != nil {
			for _, b := range []*widget.Button{sp.work, sp.personal, sp.never} {
				b.Enable()
			}
			sp.errMsg.SetText(agentapi.UserMessage(err))
			sp.errMsg.Show()
			return
		}
		sp.answered(res)
	})
}

// answered shows what the answer did: the agent's words and, for work, a
// way to the request it raised.
func (sp *softwarePrompt) answered(res agentapi.SoftwareAnswerResult) {
	sp.text.SetText(res.Text)
	closeBtn := widget.NewButton("Close", func() { sp.w.Close() })
	closeBtn.Importance = widget.HighImportance
	objs := []fyne.CanvasObject{layout.NewSpacer()}
	if res.Request != nil {
		id := res.Request.ID
		sp.openReq = widget.NewButtonWithIcon(promptOpenReq, theme.MailForwardIcon(), func() {
			openSibling("requests", "--request", id)
			sp.w.Close()
		})
		objs = append(objs, sp.openReq)
	}
	sp.setAnswers(append(objs, closeBtn)...)
	sp.w.Canvas().Focus(closeBtn)
}

func (sp *softwarePrompt) content() fyne.CanvasObject {
	top := container.NewBorder(nil, nil, container.NewVBox(logo(48)), nil,
		container.NewVBox(heading(promptHeading), sp.text, sp.app))
	return container.NewBorder(nil, container.NewPadded(container.NewVBox(sp.errMsg, sp.answers)), nil, nil,
		container.NewPadded(top))
}
