package windows

import (
	"context"
	"slices"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/deskside/deskside/agent/agentapi"
	"github.com/deskside/deskside/shared/protocol"
)

// Self-help in the windows: suggestions under Get help's text box while
// the person types, an article window ("This solved it" / "I still need
// help"), the known-problem card ("Is it this?") and the "Help articles"
// browser.

// Texts of self-help, one voice.
const (
	suggestHeading        = "These might help right away:"
	suggestHeadingOffline = "From the help articles on this computer:"
	solvedIt              = "This solved it"
	stillNeedHelp         = "I still need help"
	meTooText             = "Me too"
	meTooSaid             = "You said me too"
	meTooThanks           = "Thanks — we'll tell you when it's fixed. You can still write to IT below."
	knownProblemOther     = "Something else? Just tell us below."
	browserEmpty          = "No help articles on this computer yet. They arrive from IT when you're online."
	browserNoMatch        = "Nothing matches that. Try other words, or ask IT from Get help."
)

// suggestPause is how long typing must pause before suggestions are asked
// for: each keystroke does not need an answer, the pause does.
var suggestPause = 300 * time.Millisecond

// maxShown caps the article ids a request records (the wire's limit).
const maxShown = 10

// latest runs a query off the UI goroutine after a pause in typing and
// hands only the newest query's answer to show: an answer that arrives
// after a newer query was typed is dropped. changed and show run on the UI
// goroutine.
type latest[T any] struct {
	pause time.Duration
	run   func(ctx context.Context, q string) (T, error)
	show  func(q string, v T, err error)
	timer *time.Timer
	gen   uint64
}

// changed notes a new query; "" clears at once (show gets the zero T).
func (l *latest[T]) changed(q string) {
	l.gen++
	gen := l.gen
	if l.timer != nil {
		l.timer.Stop()
	}
	if strings.TrimSpace(q) == "" {
		var zero T
		l.show(q, zero, nil)
		return
	}
	l.timer = time.AfterFunc(l.pause, func() {
		ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
		defer cancel()
		v, err := l.run(ctx, q)
		do(func() {
			if gen != l.gen {
				return // a newer query was typed: this answer is stale
			}
			l.show(q, v, err)
		})
	})
}

// stop drops any pending query (the window is closing or sent).
func (l *latest[T]) stop() {
	l.gen++
	if l.timer != nil {
		l.timer.Stop()
	}
}

// suggestions is the panel under Get help's text box: a heading and up to
// three articles, in a space reserved from the start so nothing below
// moves when they come and go.
type suggestions struct {
	b       agentapi.Backend
	heading *widget.Label
	rows    []*widget.Button
	shown   []agentapi.Article
	box     *fyne.Container
	q       latest[agentapi.Suggestions]
	// open opens an article (the Get help window's handler).
	open func(a agentapi.Article)
	// seen collects every article id shown, for the request's ShownArticles.
	seen []string
}

func newSuggestions(b agentapi.Backend, open func(agentapi.Article)) *suggestions {
	s := &suggestions{b: b, open: open}
	s.heading = widget.NewLabelWithStyle(suggestHeading, fyne.TextAlignLeading, fyne.TextStyle{Italic: true})
	var objs []fyne.CanvasObject
	objs = append(objs, s.heading)
	for i := range 3 {
		btn := widget.NewButtonWithIcon("", theme.DocumentIcon(), func() {
			if i < len(s.shown) && s.open != nil {
				s.open(s.shown[i])
			}
		})
		btn.Alignment = widget.ButtonAlignLeading
		btn.Importance = widget.LowImportance
		s.rows = append(s.rows, btn)
		objs = append(objs, btn)
	}
	list := container.NewVBox(objs...)
	// The reserved space: as tall as the heading and three rows.
	reserve := canvas.NewRectangle(nil)
	reserve.SetMinSize(fyne.NewSize(1, list.MinSize().Height))
	s.box = container.NewStack(reserve, list)
	s.q = latest[agentapi.Suggestions]{pause: suggestPause, run: b.SuggestArticles, show: s.set}
	s.set("", agentapi.Suggestions{}, nil)
	return s
}

// set shows an answer; an error or no articles shows nothing (suggestions
// are a help, never a worry).
func (s *suggestions) set(_ string, sg agentapi.Suggestions, err error) {
	if err != nil {
		sg = agentapi.Suggestions{}
	}
	s.shown = sg.Articles
	if len(s.shown) > len(s.rows) {
		s.shown = s.shown[:len(s.rows)]
	}
	if len(s.shown) == 0 {
		s.heading.Hide()
	} else {
		s.heading.SetText(suggestHeading)
		if sg.Source == agentapi.SourceOffline {
			s.heading.SetText(suggestHeadingOffline)
		}
		s.heading.Show()
	}
	for i, btn := range s.rows {
		if i >= len(s.shown) {
			btn.Hide()
			continue
		}
		a := s.shown[i]
		btn.SetText(a.Title)
		btn.Show()
		if !slices.Contains(s.seen, a.ID) && len(s.seen) < maxShown {
			s.seen = append(s.seen, a.ID)
		}
	}
}

// titles is what the panel shows now, for tests.
func (s *suggestions) titles() []string {
	var out []string
	for i, btn := range s.rows {
		if i < len(s.shown) && btn.Visible() {
			out = append(out, btn.Text)
		}
	}
	return out
}

// articleView is an article as a person reads it: title, Markdown body as
// fyne rich text, scrolled.
func articleView(a agentapi.Article) fyne.CanvasObject {
	body := widget.NewRichTextFromMarkdown(withoutTitle(a.Body, a.Title))
	body.Wrapping = fyne.TextWrapWord
	title := heading(a.Title)
	title.Wrapping = fyne.TextWrapWord
	return container.NewBorder(title, nil, nil, nil, container.NewVScroll(body))
}

// articleWindow is an article in its own window with "This solved it" and
// "I still need help" (nil until the article has loaded).
type articleWindow struct {
	w       fyne.Window
	yes, no *widget.Button
}

// openArticle shows article id in its own window; solved and stillNeed are
// called once the feedback is handed to the agent and the window closed.
func openArticle(b agentapi.Backend, id string, solved, stillNeed func()) *articleWindow {
	aw := &articleWindow{w: fyne.CurrentApp().NewWindow("Help article — Deskside")}
	w := aw.w
	w.Resize(fyne.NewSize(560, 520))
	loading := wrapped("Opening the article…")
	root := container.NewStack(container.NewPadded(loading))
	w.SetContent(root)
	feedback := func(event string) {
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
			defer cancel()
			_ = b.ArticleFeedback(ctx, id, event) // counted when it can be; never in the person's way
		}()
	}
	call(func(ctx context.Context) (agentapi.Article, error) { return b.Article(ctx, id) },
		func(a agentapi.Article, err error) {
			if err != nil {
				loading.SetText(agentapi.UserMessage(err))
				return
			}
			feedback(protocol.ArticleViewed)
			aw.yes = widget.NewButtonWithIcon(solvedIt, theme.ConfirmIcon(), func() {
				feedback(protocol.ArticleSolved)
				w.Close()
				if solved != nil {
					solved()
				}
			})
			aw.yes.Importance = widget.HighImportance
			aw.no = widget.NewButton(stillNeedHelp, func() {
				feedback(protocol.ArticleStillNeedHelp)
				w.Close()
				if stillNeed != nil {
					stillNeed()
				}
			})
			buttons := container.NewHBox(layout.NewSpacer(), aw.no, aw.yes)
			root.Objects = []fyne.CanvasObject{container.NewBorder(nil, container.NewPadded(buttons), nil, nil,
				container.NewPadded(articleView(a)))}
			root.Refresh()
		})
	closeOnEscape(w)
	w.Show()
	return aw
}

// knownProblem is the "Is it this?" card at the top of Get help.
type knownProblem struct {
	b     agentapi.Backend
	box   *fyne.Container
	title *widget.Label
	text  *widget.Label
	meToo *widget.Button
	note  *widget.Label
	id    string
}

func newKnownProblem(b agentapi.Backend) *knownProblem {
	k := &knownProblem{b: b}
	k.title = widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	k.title.Wrapping = fyne.TextWrapWord
	k.text = wrapped("")
	k.meToo = widget.NewButtonWithIcon(meTooText, theme.AccountIcon(), k.sayMeToo)
	k.note = wrapped(knownProblemOther)
	bg := canvas.NewRectangle(theme.Color(theme.ColorNameHover))
	bg.CornerRadius = theme.Size(theme.SizeNameInputRadius)
	card := container.NewVBox(k.title, k.text, container.NewBorder(nil, nil, k.meToo, nil, k.note))
	k.box = container.NewStack(bg, container.NewPadded(card))
	k.box.Hide()
	call(b.KnownProblems, func(kp []agentapi.Announcement, err error) {
		if err != nil || len(kp) == 0 {
			return
		}
		k.show(kp[0])
	})
	return k
}

func (k *knownProblem) show(a agentapi.Announcement) {
	k.id = a.ID
	k.title.SetText("Is it this? " + a.Title)
	k.text.SetText(strings.TrimSpace(a.Text))
	if k.text.Text == "" {
		k.text.Hide()
	}
	if a.MeToo {
		k.said()
	}
	k.box.Show()
}

func (k *knownProblem) said() {
	k.meToo.SetText(meTooSaid)
	k.meToo.Disable()
	k.note.SetText(meTooThanks)
}

func (k *knownProblem) sayMeToo() {
	k.meToo.Disable()
	id := k.id
	call(func(ctx context.Context) (struct{}, error) { return struct{}{}, k.b.MeToo(ctx, id) },
		func(_ struct{}, err error) {
			if err != nil {
				k.meToo.Enable()
				k.note.SetText(agentapi.UserMessage(err))
				return
			}
			k.said()
		})
}

// articleBrowser is the "Help articles" window: a search box, the list of
// articles kept on this computer, and the one picked.
type articleBrowser struct {
	w      fyne.Window
	b      agentapi.Backend
	search *widget.Entry
	list   *widget.List
	items  []agentapi.Article
	empty  *widget.Label
	view   *fyne.Container
	q      latest[[]agentapi.Article]
}

func newArticleBrowser(w fyne.Window, b agentapi.Backend) *articleBrowser {
	w.SetTitle("Help articles — Deskside")
	ab := &articleBrowser{w: w, b: b}
	ab.search = widget.NewEntry()
	ab.search.SetPlaceHolder("Search the help articles")
	ab.list = widget.NewList(func() int { return len(ab.items) },
		func() fyne.CanvasObject {
			l := widget.NewLabel("")
			l.Truncation = fyne.TextTruncateEllipsis
			return l
		},
		func(i widget.ListItemID, o fyne.CanvasObject) { o.(*widget.Label).SetText(ab.items[i].Title) })
	ab.list.OnSelected = func(i widget.ListItemID) { ab.openItem(i) }
	ab.empty = wrapped("")
	ab.empty.Hide()
	ab.view = container.NewStack(container.NewCenter(wrapped("Pick an article on the left.")))
	ab.q = latest[[]agentapi.Article]{pause: suggestPause, run: b.Articles, show: ab.set}
	ab.search.OnChanged = func(s string) {
		if strings.TrimSpace(s) == "" {
			ab.load()
			return
		}
		ab.q.changed(s)
	}
	ab.load()
	return ab
}

// load lists every article kept here.
func (ab *articleBrowser) load() {
	ab.q.stop()
	call(func(ctx context.Context) ([]agentapi.Article, error) { return ab.b.Articles(ctx, "") },
		func(as []agentapi.Article, err error) { ab.set("", as, err) })
}

func (ab *articleBrowser) set(q string, as []agentapi.Article, err error) {
	ab.items = as
	ab.list.UnselectAll()
	ab.list.Refresh()
	switch {
	case err != nil:
		ab.empty.SetText(agentapi.UserMessage(err))
		ab.empty.Show()
	case len(as) == 0 && strings.TrimSpace(q) == "":
		ab.empty.SetText(browserEmpty)
		ab.empty.Show()
	case len(as) == 0:
		ab.empty.SetText(browserNoMatch)
		ab.empty.Show()
	default:
		ab.empty.Hide()
	}
}

func (ab *articleBrowser) openItem(i int) {
	if i < 0 || i >= len(ab.items) {
		return
	}
	id := ab.items[i].ID
	call(func(ctx context.Context) (agentapi.Article, error) { return ab.b.Article(ctx, id) },
		func(a agentapi.Article, err error) {
			var obj fyne.CanvasObject
			if err != nil {
				obj = wrapped(agentapi.UserMessage(err))
			} else {
				obj = articleView(a)
				go func() {
					ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
					defer cancel()
					_ = ab.b.ArticleFeedback(ctx, id, protocol.ArticleViewed)
				}()
			}
			ab.view.Objects = []fyne.CanvasObject{container.NewPadded(obj)}
			ab.view.Refresh()
		})
}

func (ab *articleBrowser) content() fyne.CanvasObject {
	left := container.NewBorder(container.NewVBox(ab.search, ab.empty), nil, nil, nil, ab.list)
	split := container.NewHSplit(left, ab.view)
	split.Offset = 0.36
	return container.NewPadded(split)
}

func (ab *articleBrowser) focus() { ab.w.Canvas().Focus(ab.search) }

// withoutTitle drops a first-line heading that repeats the title: the
// window shows the title already, and articles often start with it.
func withoutTitle(body, title string) string {
	trimmed := strings.TrimLeft(body, " \t\r\n")
	first, rest, _ := strings.Cut(trimmed, "\n")
	if h, ok := strings.CutPrefix(first, "#"); ok && strings.EqualFold(strings.TrimSpace(strings.TrimLeft(h, "#")), strings.TrimSpace(title)) {
		return rest
	}
	return body
}
