package windows

import (
	"context"
	"errors"
	"net/url"
	"slices"
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

var figmaPrompt = agentapi.SoftwarePrompt{TitleID: "t_figma", Name: "Figma", Publisher: "Figma, Inc.", Version: "124.1.2",
	Text: "You use Figma. Is it for your work? Telling IT helps us keep it safe and supported — you're not in any trouble."}

// siblings records the windows a window asks to open (on the UI goroutine,
// which is the test's).
func siblings(t *testing.T) *[]string {
	t.Helper()
	var got []string
	old := openSibling
	openSibling = func(view string, args ...string) {
		got = append(got, strings.Join(append([]string{view}, args...), " "))
	}
	t.Cleanup(func() { openSibling = old })
	return &got
}

func newPrompt(t *testing.T, f *agentapitest.Fake) *softwarePrompt {
	t.Helper()
	a := test.NewTempApp(t)
	w := a.NewWindow("")
	sp := newSoftwarePrompt(w, f)
	w.SetContent(sp.content())
	w.Resize(fyne.NewSize(560, 300))
	eventually(t, "the question", func() bool { return sp.text.Text != "One moment…" })
	return sp
}

func TestSoftwarePromptForWork(t *testing.T) {
	opened := siblings(t)
	f := agentapitest.NewFake()
	f.AskSoftware(figmaPrompt)
	sp := newPrompt(t, f)
	if sp.text.Text != figmaPrompt.Text {
		t.Errorf("text %q", sp.text.Text)
	}
	if !sp.app.Visible() || sp.app.Text != "Figma · Figma, Inc. · version 124.1.2" {
		t.Errorf("app line %q visible=%v", sp.app.Text, sp.app.Visible())
	}
	var shown []string
	for _, b := range buttons(sp.answers) {
		shown = append(shown, b.Text)
	}
	if !slices.Equal(shown, []string{promptNever, promptPersonal, promptForWork}) || sp.work.Importance != widget.HighImportance {
		t.Errorf("answers %q (work importance %v)", shown, sp.work.Importance)
	}
	test.Tap(sp.work)
	eventually(t, "answered", func() bool { return sp.openReq != nil })
	if got := f.SoftwareAnswers(); !slices.Equal(got, []string{"t_figma work"}) {
		t.Errorf("answers %q", got)
	}
	raised := f.Recorded().Raised
	if len(raised) != 1 || raised[0].Category != protocol.CategorySoftware || raised[0].SoftwareTitle != "t_figma" {
		t.Fatalf("raised %+v", raised)
	}
	if sp.text.Text != "Thanks for telling us — IT will have a look." {
		t.Errorf("result %q", sp.text.Text)
	}
	if !slices.Contains(buttons(sp.answers), sp.openReq) {
		t.Error("the link to the request is not shown")
	}
	test.Tap(sp.openReq)
	if !slices.Equal(*opened, []string{"requests --request req-1"}) {
		t.Errorf("opened %q", *opened)
	}
}

func TestSoftwarePromptPersonalAndNever(t *testing.T) {
	for _, tc := range []struct {
		answer string
		pick   func(*softwarePrompt) *widget.Button
		words  string
	}{
		{"personal", func(sp *softwarePrompt) *widget.Button { return sp.personal }, "Thanks — we won't ask about Figma again."},
		{"never", func(sp *softwarePrompt) *widget.Button { return sp.never }, "Okay — we won't ask about Figma again."},
	} {
		t.Run(tc.answer, func(t *testing.T) {
			f := agentapitest.NewFake()
			f.AskSoftware(figmaPrompt)
			sp := newPrompt(t, f)
			test.Tap(tc.pick(sp))
			eventually(t, "answered", func() bool { return sp.text.Text == tc.words })
			if got := f.SoftwareAnswers(); !slices.Equal(got, []string{"t_figma " + tc.answer}) {
				t.Errorf("answers %q", got)
			}
			if n := len(f.Recorded().Raised); n != 0 || sp.openReq != nil {
				t.Errorf("raised %d requests, link %v", n, sp.openReq)
			}
			if slices.Contains(buttons(sp.answers), sp.work) {
				t.Error("the answers are still offered")
			}
		})
	}
}

func TestSoftwarePromptNothingAndRefused(t *testing.T) {
	sp := newPrompt(t, agentapitest.NewFake())
	if sp.text.Text != promptNone || len(buttons(sp.answers)) != 1 {
		t.Errorf("no question: %q, %d buttons", sp.text.Text, len(buttons(sp.answers)))
	}

	f := agentapitest.NewFake()
	f.AskSoftware(figmaPrompt)
	sp = newPrompt(t, f)
	f.FailWith(agentapi.NewError(agentapi.CodeDiskFull, "This computer's disk is full, so your answer couldn't be saved.", errors.New("ENOSPC")))
	test.Tap(sp.work)
	eventually(t, "the error", func() bool { return sp.errMsg.Visible() })
	if sp.errMsg.Text != "This computer's disk is full, so your answer couldn't be saved." || sp.work.Disabled() {
		t.Errorf("error %q, work disabled %v", sp.errMsg.Text, sp.work.Disabled())
	}
}

func newSoftwareWin(t *testing.T, f *agentapitest.Fake, tab string) *software {
	t.Helper()
	a := test.NewTempApp(t)
	w := a.NewWindow("")
	s := newSoftware(w, f, tab)
	w.SetContent(s.content())
	w.Resize(fyne.NewSize(760, 620))
	t.Cleanup(w.Close)
	return s
}

func TestRequestAnApp(t *testing.T) {
	opened := siblings(t)
	f := agentapitest.NewFake()
	s := newSoftwareWin(t, f, "")
	if s.tabs.Selected() != s.tab[TabGetApp] {
		t.Error("the window does not open on Get an app")
	}
	test.Tap(s.ask)
	if s.form == nil {
		t.Fatal("no form")
	}
	test.Tap(s.form.send)
	if !s.form.errMsg.Visible() || s.form.errMsg.Text != appNameMissing {
		t.Errorf("empty name: error %q visible=%v", s.form.errMsg.Text, s.form.errMsg.Visible())
	}
	if n := len(f.AppRequests()); n != 0 {
		t.Fatalf("%d apps requested without a name", n)
	}
	test.Type(s.form.name, "Penpot")
	test.Type(s.form.why, "Design reviews with the agency")
	test.Tap(s.form.send)
	eventually(t, "sent", func() bool { return s.form.done != nil })
	if got := f.AppRequests(); len(got) != 1 || got[0] != (agentapi.AppRequest{Name: "Penpot", Text: "Design reviews with the agency"}) {
		t.Errorf("requested %+v", got)
	}
	if s.form.done.Text != appRequested || s.form.errMsg.Visible() {
		t.Errorf("done %q", s.form.done.Text)
	}
	test.Tap(s.form.openReq)
	if !slices.Equal(*opened, []string{"requests --request req-1"}) {
		t.Errorf("opened %q", *opened)
	}
}

func sampleCatalogue() []protocol.CatalogueItem {
	return []protocol.CatalogueItem{
		{TitleID: "t_slack", Name: "Slack", Publisher: "Slack Technologies", Description: "Team chat.",
			How: protocol.CatalogueLink, URL: "https://slack.com/downloads"},
		{TitleID: "t_zoom", Name: "Zoom", Publisher: "Zoom Video Communications", How: protocol.CataloguePackage, Package: "zoom"},
		{TitleID: "t_7zip", Name: "7-Zip", How: protocol.CatalogueInstructions,
			Instructions: "1. Open **Software Center**\n2. Search for 7-Zip and click *Install*"},
	}
}

func richTexts(o fyne.CanvasObject) []*widget.RichText {
	var out []*widget.RichText
	var walk func(fyne.CanvasObject)
	walk = func(o fyne.CanvasObject) {
		switch v := o.(type) {
		case *widget.RichText:
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

// segmentsText is the text of rich text, lists and paragraphs included.
func segmentsText(segs []widget.RichTextSegment) string {
	var b strings.Builder
	for _, seg := range segs {
		switch v := seg.(type) {
		case *widget.ListSegment:
			b.WriteString(segmentsText(v.Items))
		case *widget.ParagraphSegment:
			b.WriteString(segmentsText(v.Texts))
		default:
			b.WriteString(seg.Textual())
		}
	}
	return b.String()
}

func TestCatalogueShowsEachHow(t *testing.T) {
	var urls []string
	old := openURL
	openURL = func(u *url.URL) error { urls = append(urls, u.String()); return nil }
	t.Cleanup(func() { openURL = old })
	f := agentapitest.NewFake()
	f.SetCatalogue(sampleCatalogue())
	s := newSoftwareWin(t, f, TabGetApp)
	eventually(t, "the catalogue", func() bool { return len(s.catList.Objects) == 3 })
	cards := s.catList.Objects
	if got := labels(cards[0]); !strings.HasPrefix(got, "Slack\nSlack Technologies\n") || !strings.Contains(got, "Team chat.") {
		t.Errorf("card:\n%s", got)
	}
	// A link: a button that opens it.
	var get *widget.Button
	for _, b := range buttons(cards[0]) {
		if b.Text == "Get Slack" {
			get = b
		}
	}
	if get == nil {
		t.Fatal("no Get Slack button")
	}
	test.Tap(get)
	if !slices.Equal(urls, []string{"https://slack.com/downloads"}) {
		t.Errorf("opened %q", urls)
	}
	// A package: its name, and a button that copies it.
	if !strings.Contains(labels(cards[1]), "zoom\n") {
		t.Errorf("the package name is not shown:\n%s", labels(cards[1]))
	}
	cp := buttons(cards[1])
	if len(cp) != 1 || cp[0].Text != "Copy" {
		t.Fatalf("package buttons %v", cp)
	}
	test.Tap(cp[0])
	if got := fyne.CurrentApp().Clipboard().Content(); got != "zoom" || cp[0].Text != "Copied" {
		t.Errorf("clipboard %q, button %q", got, cp[0].Text)
	}
	// Instructions: Markdown as rich text.
	rts := richTexts(cards[2])
	if len(rts) != 1 {
		t.Fatalf("%d rich texts for the instructions", len(rts))
	}
	if got := segmentsText(rts[0].Segments); !strings.Contains(got, "Software Center") || strings.Contains(got, "**") {
		t.Errorf("instructions %q", got)
	}
}

func TestInventoryFiltersAndSays(t *testing.T) {
	f := agentapitest.NewFake()
	inv := agentapitest.SampleSoftware()
	f.SetSoftware(inv)
	s := newSoftwareWin(t, f, TabInstalled)
	if s.tabs.Selected() != s.tab[TabInstalled] {
		t.Error("--tab installed did not pick On this computer")
	}
	eventually(t, "the list", func() bool { return len(s.shown) == 5 })
	if s.syncLine.Text != inSyncLine {
		t.Errorf("sync line %q", s.syncLine.Text)
	}
	test.Type(s.search, "FIG")
	if len(s.shown) != 1 || s.shown[0].Name != "Figma" || s.invList.Length() != 1 {
		t.Fatalf("search fig: %+v", s.shown)
	}
	if s.count.Text != "1 of 5 apps" {
		t.Errorf("count %q", s.count.Text)
	}
	// The row says where it came from and that it is the person's own.
	row := newInventoryRow()
	setInventoryRow(row, s.shown[0])
	if got := labels(row); !strings.Contains(got, "Figma\nversion 124.1.2 · Figma, Inc. · AppImage\n") || !row.(*fyne.Container).Objects[1].Visible() {
		t.Errorf("row:\n%s", got)
	}
	setInventoryRow(row, protocol.SoftwareEntry{Name: "firefox-esr", Source: protocol.SourceDpkg})
	if row.(*fyne.Container).Objects[1].Visible() {
		t.Error("just for you shown on a system package")
	}
	s.search.SetText("no such app")
	if len(s.shown) != 0 || s.count.Text != inventoryNone {
		t.Errorf("no match: %d, %q", len(s.shown), s.count.Text)
	}
	s.search.SetText("")

	// A new list the agent has not sent yet: the window follows the event.
	awaitSubscribed(t, f)
	inv.InSync = false
	f.SetSoftware(inv)
	eventually(t, "not in sync", func() bool { return s.syncLine.Text == notSyncedLine })
}

func awaitSubscribed(t *testing.T, f *agentapitest.Fake) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	if err := f.AwaitSubscribed(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestSoftwareNotesNewestFirst(t *testing.T) {
	f := agentapitest.NewFake()
	f.SendSoftwareNote(agentapi.SoftwareNote{TitleID: "t_dropbox", Name: "Dropbox", Status: protocol.SoftwareNotForWork,
		Title: "About Dropbox", Text: "Dropbox isn't set up for work files. OneDrive does the same job — IT can help you move.",
		At: time.Now().Add(-time.Hour)})
	f.SendSoftwareNote(agentapi.SoftwareNote{TitleID: "t_figma", Name: "Figma", Status: protocol.SoftwareApproved,
		Title: "Thank you for telling us about Figma", Text: "IT approved Figma for work.", RequestID: "req-7", At: time.Now()})
	s := newSoftwareWin(t, f, TabFromIT)
	eventually(t, "the notes", func() bool { return len(s.notes.Objects) == 2 })
	got := labels(s.notes)
	if i, j := strings.Index(got, "Thank you for telling us about Figma"), strings.Index(got, "About Dropbox"); i < 0 || j < i {
		t.Errorf("notes not newest first:\n%s", got)
	}
	if b := buttons(s.notes.Objects[0]); len(b) != 1 || b[0].Text != promptOpenReq {
		t.Errorf("the thank-you has no way to its request: %v", b)
	}
	awaitSubscribed(t, f)
	f.SendSoftwareNote(agentapi.SoftwareNote{TitleID: "t_zoom", Name: "Zoom", Title: "Thanks for Zoom", Text: "Approved.", At: time.Now()})
	eventually(t, "the new note", func() bool { return len(s.notes.Objects) == 3 })
}

func TestGetHelpSaysWhileTyping(t *testing.T) {
	f := agentapitest.NewFake()
	g, _ := newHelp(t, f)
	test.Type(g.text, "Zoom")
	eventually(t, "composing", f.IsComposing)
	g.text.SetText("  ")
	eventually(t, "stopped", func() bool { return !f.IsComposing() })
	test.Type(g.text, "My screen flickers")
	eventually(t, "composing again", f.IsComposing)
	test.Tap(g.send)
	eventually(t, "sent", func() bool { return g.done != nil && !f.IsComposing() })

	// Closing the window with text in it says so before the process ends.
	g, w := newHelp(t, f)
	test.Type(g.text, "Half a sentence")
	eventually(t, "composing", f.IsComposing)
	w.Close()
	if f.IsComposing() {
		t.Error("still composing after the window closed")
	}
}

func TestWhatITSeesSoftwareLine(t *testing.T) {
	opened := siblings(t)
	a := test.NewTempApp(t)
	w := a.NewWindow("")
	f := agentapitest.NewFake()
	f.SetSoftware(agentapitest.SampleSoftware())
	v := newWhatITSees(w, f, "Acme IT")
	w.SetContent(v.content())
	eventually(t, "the software line", func() bool { return v.softwareLink != nil })
	last := v.form.Items[len(v.form.Items)-1]
	if last.Text != "Installed software" || v.softwareLink.Text != "5 apps — see the list" {
		t.Errorf("line %q: %q", last.Text, v.softwareLink.Text)
	}
	// As a keyboard user follows it (a tap counts only over the drawn text).
	v.softwareLink.TypedKey(&fyne.KeyEvent{Name: fyne.KeySpace})
	if !slices.Equal(*opened, []string{"software --tab installed"}) {
		t.Errorf("opened %q", *opened)
	}
}
