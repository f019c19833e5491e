// Package windows draws Deskside's windows with fyne — "Get help" (with
// self-help suggestions), "My requests", "What IT can see", "News", "About",
// "Help articles", "Heads-up", "Software" and the software question — in
// the short-lived
// window process (the deskside-ui program, agent/cmd/deskside-ui) that the
// tray and `deskside-agent ui <view>` start on a click. Each window talks
// to the agent process only through agentapi.Backend, does its calls off the
// UI goroutine and touches widgets only inside fyne.Do. Texts speak to the
// employee warmly and plainly, and never blame.
package windows

import (
	"context"
	"fmt"
	"image"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/app"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/widget"

	"github.com/deskside/deskside/agent/agentapi"
	"github.com/deskside/deskside/agent/ui/icon"
	"github.com/deskside/deskside/agent/ui/uiapp"
	"github.com/deskside/deskside/shared/protocol"
)

// Views names the windows `deskside-agent ui` (and deskside-ui) can open.
var Views = uiapp.Views

// Options tune Run.
type Options struct {
	// Request selects a request in "My requests" (a notification's click).
	Request string
	// Tab picks the Software window's tab: TabGetApp (the default),
	// TabInstalled or TabFromIT.
	Tab string
	// Capture takes a screenshot of the screen; nil means the platform's.
	Capture func() (image.Image, error)
	// HelpDesk overrides how the help desk is called (branding).
	HelpDesk string
}

// do runs f on the UI goroutine. Tests replace it to own that goroutine,
// since fyne's test driver runs fyne.Do at once on the caller's.
var do = fyne.Do

// callTimeout bounds one local API call; the agent answers from its store.
const callTimeout = 10 * time.Second

// Run shows the window for view and returns when the user closes it.
func Run(view string, b agentapi.Backend, o Options) error {
	a := app.NewWithID("dev.deskside.agent")
	a.SetIcon(fyne.NewStaticResource("deskside.png", icon.NewIcons(nil).PNG(icon.Online)))
	w, err := Open(a, view, b, o)
	if err != nil {
		return err
	}
	w.ShowAndRun()
	return nil
}

// Open builds the window for view in a without showing it.
func Open(a fyne.App, view string, b agentapi.Backend, o Options) (fyne.Window, error) {
	if o.Capture == nil {
		o.Capture = captureScreen
	}
	if o.HelpDesk == "" {
		o.HelpDesk = deskName(b)
	}
	w := a.NewWindow("Deskside")
	var ui interface{ content() fyne.CanvasObject }
	switch view {
	case "get-help":
		g := newGetHelp(w, b, o.Capture, o.HelpDesk)
		g.onOpenRequests = func() { openSibling("requests") }
		w.Resize(fyne.NewSize(620, 640))
		ui = g
	case "requests":
		ui = newRequests(w, b, o.Request)
		w.Resize(fyne.NewSize(860, 600))
	case "what-it-sees":
		ui = newWhatITSees(w, b, o.HelpDesk)
		w.Resize(fyne.NewSize(640, 620))
	case "news":
		ui = newNews(w, b)
		w.Resize(fyne.NewSize(560, 480))
	case "about":
		ui = newAbout(w, b, o.HelpDesk)
		w.Resize(fyne.NewSize(480, 420))
	case "help-articles":
		ui = newArticleBrowser(w, b)
		w.Resize(fyne.NewSize(820, 560))
	case "heads-up":
		ui = newHeadsUp(w, b)
		w.Resize(fyne.NewSize(640, 800))
	case "software":
		ui = newSoftware(w, b, o.Tab)
		w.Resize(fyne.NewSize(760, 660))
	case "software-prompt":
		ui = newSoftwarePrompt(w, b)
		w.Resize(fyne.NewSize(560, 250))
	default:
		return nil, fmt.Errorf("no window called %q; try one of %v", view, Views)
	}
	w.SetContent(ui.content())
	if f, ok := ui.(interface{ focus() }); ok {
		f.focus()
	}
	closeOnEscape(w)
	w.CenterOnScreen()
	return w, nil
}

// deskName asks the agent how the help desk calls itself ("Acme IT"); the
// answer comes from the agent's memory, so waiting for it is short.
func deskName(b agentapi.Backend) string {
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	if s, err := b.Status(ctx); err == nil && s.ServerName != "" {
		return s.ServerName
	}
	return ""
}

// meta is a small line under a heading (who, when): italic, still readable
// in both themes.
func meta(s string) *widget.Label {
	return widget.NewLabelWithStyle(s, fyne.TextAlignLeading, fyne.TextStyle{Italic: true})
}

// closeOnEscape lets keyboard users leave any window with Esc.
func closeOnEscape(w fyne.Window) {
	w.Canvas().SetOnTypedKey(func(k *fyne.KeyEvent) {
		if k.Name == fyne.KeyEscape {
			w.Close()
		}
	})
}

// call runs f off the UI goroutine and hands its result to done inside fyne.Do.
func call[T any](f func(ctx context.Context) (T, error), done func(T, error)) {
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
		defer cancel()
		v, err := f(ctx)
		do(func() { done(v, err) })
	}()
}

// heading is a window's title line.
func heading(s string) *widget.Label {
	l := widget.NewLabelWithStyle(s, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	l.SizeName = "headingText"
	return l
}

// wrapped is a label that wraps at the window's width.
func wrapped(s string) *widget.Label {
	l := widget.NewLabel(s)
	l.Wrapping = fyne.TextWrapWord
	return l
}

// logo is Deskside's mark (or nothing, in tests without a driver).
func logo(size float32) fyne.CanvasObject {
	img := canvas.NewImageFromResource(fyne.NewStaticResource("deskside.png", icon.NewIcons(nil).PNG(icon.Online)))
	img.FillMode = canvas.ImageFillContain
	img.SetMinSize(fyne.NewSize(size, size))
	return img
}

// sendShortcut is Ctrl+Enter.
var sendShortcut = &desktop.CustomShortcut{KeyName: fyne.KeyReturn, Modifier: fyne.KeyModifierShortcutDefault}

// submitEntry is a multi-line entry that sends on Ctrl+Enter, even though a
// focused entry gets shortcuts before the window does.
type submitEntry struct {
	widget.Entry
	onSubmit func()
}

func newSubmitEntry(placeholder string, onSubmit func()) *submitEntry {
	e := &submitEntry{onSubmit: onSubmit}
	e.MultiLine = true
	e.Wrapping = fyne.TextWrapWord
	e.PlaceHolder = placeholder
	e.ExtendBaseWidget(e)
	return e
}

// TypedShortcut implements fyne.Shortcutable.
func (e *submitEntry) TypedShortcut(s fyne.Shortcut) {
	if isSend(s) {
		if e.onSubmit != nil {
			e.onSubmit()
		}
		return
	}
	e.Entry.TypedShortcut(s)
}

func isSend(s fyne.Shortcut) bool {
	cs, ok := s.(*desktop.CustomShortcut)
	return ok && (cs.KeyName == fyne.KeyReturn || cs.KeyName == fyne.KeyEnter) &&
		(cs.Modifier == fyne.KeyModifierControl || cs.Modifier == fyne.KeyModifierSuper)
}

// CategoryWords is how each category reads to the user.
func CategoryWords(c protocol.Category) string {
	switch c {
	case protocol.CategoryProblem:
		return "Something's not working"
	case protocol.CategoryQuestion:
		return "A question"
	case protocol.CategorySoftware:
		return "Software I use or need"
	case protocol.CategoryIdea:
		return "An idea"
	}
	return string(c)
}

// StatusWords is how each request status reads to the user.
func StatusWords(r agentapi.Request) string {
	if !r.Sent {
		return "Saved — waiting to be sent"
	}
	switch r.Status {
	case protocol.StatusNew:
		return "Sent — waiting for someone to pick it up"
	case protocol.StatusInProgress:
		return "Being worked on"
	case protocol.StatusWaitingOnUser:
		return "Waiting for your answer"
	case protocol.StatusResolved:
		return "Resolved"
	case protocol.StatusReopened:
		return "Reopened"
	}
	return string(r.Status)
}

// Handler says who is looking after a request.
func Handler(r agentapi.Request) string {
	if r.Assignee == nil || r.Assignee.Name == "" {
		return ""
	}
	return r.Assignee.Name + " is looking after this"
}
