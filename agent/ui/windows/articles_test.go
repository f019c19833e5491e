package windows

import (
	"context"
	"errors"
	"slices"
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

func articleFake() *agentapitest.Fake {
	f := agentapitest.NewFake()
	f.SetArticles(agentapitest.SampleArticles())
	return f
}

func absPos(o fyne.CanvasObject) fyne.Position {
	return fyne.CurrentApp().Driver().AbsolutePositionForObject(o)
}

// TestGetHelpSuggestsWhileTyping: after a pause in typing, up to three
// articles appear under the text box, and nothing on the form moves.
func TestGetHelpSuggestsWhileTyping(t *testing.T) {
	f := articleFake()
	g, _ := newHelp(t, f)
	textAt, chipsAt := absPos(g.text), absPos(g.catChips[protocol.CategoryProblem])
	if g.sug.heading.Visible() || len(g.sug.titles()) != 0 {
		t.Fatal("suggestions shown before anything was typed")
	}
	test.Type(g.text, "printer offline")
	eventually(t, "suggestions", func() bool { return len(g.sug.titles()) == 2 })
	if got := g.sug.titles(); got[0] != "Printer says offline" || g.sug.heading.Text != suggestHeading {
		t.Errorf("suggestions %v under %q", got, g.sug.heading.Text)
	}
	if absPos(g.text) != textAt || absPos(g.catChips[protocol.CategoryProblem]) != chipsAt {
		t.Errorf("the form moved: text %v → %v, chips %v → %v", textAt, absPos(g.text), chipsAt, absPos(g.catChips[protocol.CategoryProblem]))
	}
	// One query for the whole sentence typed at once, not one per key.
	if q := f.Recorded().Suggested; !slices.Equal(q, []string{"printer offline"}) {
		t.Errorf("queries asked: %q", q)
	}
	// Offline: the heading says where they came from.
	f.SetStatus(agentapi.Connection{State: agentapi.ConnOffline})
	test.Type(g.text, " vpn")
	eventually(t, "offline suggestions", func() bool { return g.sug.heading.Text == suggestHeadingOffline })
	if n := len(g.sug.titles()); n != 3 {
		t.Errorf("%d suggestions, want at most three", n)
	}
	// Clearing the text clears them at once.
	g.text.SetText("")
	pump()
	if len(g.sug.titles()) != 0 || g.sug.heading.Visible() {
		t.Errorf("suggestions after clearing: %v", g.sug.titles())
	}
}

// TestGetHelpDropsStaleSuggestions: an answer to an older query that comes
// after a newer query's is never shown.
func TestGetHelpDropsStaleSuggestions(t *testing.T) {
	f := articleFake()
	release := f.HoldSuggestions("printer")
	defer release()
	g, _ := newHelp(t, f)
	test.Type(g.text, "printer")
	eventually(t, "the first query asked", func() bool { return slices.Contains(f.Recorded().Suggested, "printer") })
	test.Type(g.text, " vpn")
	eventually(t, "the second answer", func() bool { return slices.Contains(g.sug.titles(), "VPN says certificate expired") })
	want := g.sug.titles()
	release()
	// The old answer arrives now; pump until its turn has surely come.
	deadline := time.Now().Add(time.Second)
	for time.Now().Before(deadline) {
		pump()
		time.Sleep(10 * time.Millisecond)
	}
	if got := g.sug.titles(); !slices.Equal(got, want) {
		t.Fatalf("after the stale answer: %v, want %v", got, want)
	}
}

// TestGetHelpThisSolvedIt: opening a suggestion shows the article;
// "This solved it" closes Get help without a request and says solved.
func TestGetHelpThisSolvedIt(t *testing.T) {
	f := articleFake()
	g, w := newHelp(t, f)
	closed := false
	w.SetOnClosed(func() { closed = true })
	test.Type(g.text, "printer offline")
	eventually(t, "suggestions", func() bool { return len(g.sug.titles()) > 0 })
	test.Tap(g.sug.rows[0])
	eventually(t, "the article", func() bool { return g.article != nil && g.article.yes != nil })
	if rt := findRichText(g.article.w.Content()); rt == nil || !containsText(rt, "Turn it off and on again") {
		t.Fatal("the article's Markdown is not shown as rich text")
	}
	test.Tap(g.article.yes)
	eventually(t, "Get help closed", func() bool { return closed })
	eventually(t, "feedback", func() bool {
		fb := f.Recorded().Feedback
		return slices.Contains(fb, "art_printer: viewed") && slices.Contains(fb, "art_printer: solved")
	})
	if n := len(f.Recorded().Raised); n != 0 {
		t.Fatalf("%d requests raised after 'This solved it'", n)
	}
}

// TestGetHelpStillNeedHelp: back to the form with the text intact; the
// request, when sent, says which articles were shown.
func TestGetHelpStillNeedHelp(t *testing.T) {
	f := articleFake()
	g, _ := newHelp(t, f)
	const text = "My printer says offline since this morning"
	test.Type(g.text, text)
	eventually(t, "suggestions", func() bool { return len(g.sug.titles()) > 0 })
	test.Tap(g.sug.rows[0])
	eventually(t, "the article", func() bool { return g.article != nil && g.article.no != nil })
	test.Tap(g.article.no)
	eventually(t, "feedback", func() bool { return slices.Contains(f.Recorded().Feedback, "art_printer: still_need_help") })
	if g.text.Text != text {
		t.Fatalf("text after 'I still need help' = %q", g.text.Text)
	}
	test.Tap(g.send)
	eventually(t, "sent", func() bool { return g.done != nil })
	raised := f.Recorded().Raised
	if len(raised) != 1 || !slices.Contains(raised[0].ShownArticles, "art_printer") {
		t.Fatalf("raised %+v, want shown_articles with art_printer", raised)
	}
}

// TestGetHelpKnownProblemFirst: an active known problem is at the top
// before anything is typed, "Me too" is one tap and stays said, and the
// request path is still there.
func TestGetHelpKnownProblemFirst(t *testing.T) {
	f := articleFake()
	f.AddAnnouncement(agentapi.Announcement{ID: "ann_mail", Title: "Email is down", Text: "Until 23:00 — IT is on it",
		Kind: protocol.AnnouncementKnownProblem, CreatedAt: time.Now()})
	f.AddAnnouncement(agentapi.Announcement{ID: "ann_news", Title: "New coffee machine", CreatedAt: time.Now()})
	g, _ := newHelp(t, f)
	eventually(t, "the known problem", func() bool { return g.known.box.Visible() })
	if g.known.title.Text != "Is it this? Email is down" || g.known.text.Text != "Until 23:00 — IT is on it" {
		t.Errorf("card: %q / %q", g.known.title.Text, g.known.text.Text)
	}
	if absPos(g.known.box).Y >= absPos(g.text).Y {
		t.Error("the known problem is not above the text box")
	}
	test.Tap(g.known.meToo)
	eventually(t, "me too said", func() bool { return g.known.meToo.Text == meTooSaid })
	if !g.known.meToo.Disabled() || !slices.Equal(f.Recorded().MeToo, []string{"ann_mail"}) {
		t.Errorf("me too: disabled=%v recorded=%v", g.known.meToo.Disabled(), f.Recorded().MeToo)
	}
	test.Type(g.text, "Email is down for me too, and I have a meeting")
	test.Tap(g.send)
	eventually(t, "sent", func() bool { return g.done != nil })

	// Said before (a window opened again): shown as said.
	g2, _ := newHelp(t, f)
	eventually(t, "the known problem again", func() bool { return g2.known.box.Visible() })
	if g2.known.meToo.Text != meTooSaid || !g2.known.meToo.Disabled() {
		t.Errorf("second window: %q disabled=%v", g2.known.meToo.Text, g2.known.meToo.Disabled())
	}
}

// failingSuggest is an agent whose suggestions fail (the agent went away).
type failingSuggest struct{ *agentapitest.Fake }

func (failingSuggest) SuggestArticles(context.Context, string) (agentapi.Suggestions, error) {
	return agentapi.Suggestions{}, errors.New("connection refused")
}

// TestGetHelpSuggestionTroubleIsQuiet: syntax characters, an empty query
// and a failing agent show no error and no suggestions; the form works.
func TestGetHelpSuggestionTroubleIsQuiet(t *testing.T) {
	f := articleFake()
	a := test.NewTempApp(t)
	w := a.NewWindow("")
	g := newGetHelp(w, failingSuggest{f}, nil, "Acme IT")
	w.SetContent(g.content())
	test.Type(g.text, `printer "NEAR(*) -x`)
	time.Sleep(2 * suggestPause)
	pump()
	if len(g.sug.titles()) != 0 || g.sug.heading.Visible() || g.errLabel.Visible() {
		t.Errorf("failing suggestions showed %v, error %v", g.sug.titles(), g.errLabel.Visible())
	}

	g2, _ := newHelp(t, f)
	for _, q := range []string{"   ", `"`, `*`, `(`, `-`, `"NEAR(`} {
		g2.text.SetText(q)
	}
	eventually(t, "answers to the syntax", func() bool { return len(f.Recorded().Suggested) > 0 })
	pump()
	if g2.errLabel.Visible() {
		t.Error("an error shown for syntax characters")
	}
}

// TestArticleBrowser: the "Help articles" window lists the articles on
// this computer, searches them and shows one.
func TestArticleBrowser(t *testing.T) {
	f := articleFake()
	a := test.NewTempApp(t)
	if w, err := Open(a, "help-articles", f, Options{HelpDesk: "Acme IT"}); err != nil || w.Title() != "Help articles — Deskside" {
		t.Fatalf("Open(help-articles) = %v", err)
	}
	browser := func(b agentapi.Backend) *articleBrowser {
		w := a.NewWindow("")
		ab := newArticleBrowser(w, b)
		w.SetContent(ab.content())
		w.Resize(fyne.NewSize(820, 560))
		return ab
	}
	ab := browser(f)
	eventually(t, "the list", func() bool { return len(ab.items) == 4 })
	test.Type(ab.search, "vpn")
	eventually(t, "the search", func() bool { return len(ab.items) == 1 && ab.items[0].ID == "art_vpn" })
	ab.list.Select(0)
	eventually(t, "the article", func() bool {
		rt := findRichText(ab.view)
		return rt != nil && containsText(rt, "Renew certificate")
	})
	eventually(t, "viewed", func() bool { return slices.Contains(f.Recorded().Feedback, "art_vpn: viewed") })
	ab.search.SetText("zzzz nothing")
	eventually(t, "no match", func() bool { return ab.empty.Visible() && ab.empty.Text == browserNoMatch })

	// No articles at all: a sentence, not an empty box.
	ab2 := browser(agentapitest.NewFake())
	eventually(t, "the empty note", func() bool { return ab2.empty.Visible() && ab2.empty.Text == browserEmpty })
}

func walk(o fyne.CanvasObject, f func(fyne.CanvasObject)) {
	f(o)
	switch v := o.(type) {
	case *fyne.Container:
		for _, c := range v.Objects {
			walk(c, f)
		}
	case fyne.Widget:
		r := test.WidgetRenderer(v)
		if r == nil {
			return
		}
		for _, c := range r.Objects() {
			walk(c, f)
		}
	}
}

func findRichText(o fyne.CanvasObject) *widget.RichText {
	var rt *widget.RichText
	walk(o, func(c fyne.CanvasObject) {
		if r, ok := c.(*widget.RichText); ok && rt == nil {
			rt = r
		}
	})
	return rt
}

func containsText(rt *widget.RichText, s string) bool {
	for _, seg := range rt.Segments {
		if containsSeg(seg, s) {
			return true
		}
	}
	return false
}

func containsSeg(seg widget.RichTextSegment, s string) bool {
	switch v := seg.(type) {
	case *widget.TextSegment:
		return strings.Contains(v.Text, s)
	case *widget.ListSegment:
		for _, it := range v.Items {
			if containsSeg(it, s) {
				return true
			}
		}
	case *widget.ParagraphSegment:
		for _, it := range v.Texts {
			if containsSeg(it, s) {
				return true
			}
		}
	}
	return false
}

func TestWithoutTitle(t *testing.T) {
	for body, want := range map[string]string{
		"# Printer says offline\n\nTurn it off.": "\nTurn it off.",
		"\n## printer says offline \nText":       "Text",
		"# Something else\nText":                 "# Something else\nText",
		"Printer says offline":                   "Printer says offline",
		"":                                       "",
	} {
		if got := withoutTitle(body, "Printer says offline"); got != want {
			t.Errorf("withoutTitle(%q) = %q, want %q", body, got, want)
		}
	}
}
