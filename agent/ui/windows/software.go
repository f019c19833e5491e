package windows

import (
	"context"
	"net/url"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/deskside/deskside/agent/agentapi"
	"github.com/deskside/deskside/shared/protocol"
)

// The Software window's tabs (Options.Tab, deskside-ui --tab).
const (
	TabGetApp    = "get-app"   // IT's catalogue and "Request an app"
	TabInstalled = "installed" // the inventory exactly as IT sees it
	TabFromIT    = "from-it"   // IT's thank-yous and notes
)

// Texts of the Software window, one voice.
const (
	catalogueIntro = "Apps IT looks after for you. Need something that isn't here? Ask — " +
		"that's how IT keeps it safe and supported."
	catalogueEmpty = "IT hasn't put any apps here yet. If you need one, ask with \"Request an app\"."
	inSyncLine     = "This is exactly the list IT can see."
	notSyncedLine  = "Not sent to IT yet — it goes when you're online."
	inventoryEmpty = "Deskside hasn't looked at this computer's software yet. It does a moment after it starts."
	inventoryNone  = "Nothing matches that."
	notesEmpty     = "Nothing from IT yet. When you tell IT about an app, their answer shows up here."
	appNameMissing = "Which app do you need? Type its name."
	appRequested   = "Got it — IT will be in touch."
)

// openURL opens a catalogue link in the browser; tests replace it.
var openURL = func(u *url.URL) error { return fyne.CurrentApp().OpenURL(u) }

// software is the Software window: IT's catalogue with "Request an app",
// the software this computer reports, and what IT said about the apps the
// person told it about. It reloads on the agent's software events.
type software struct {
	w    fyne.Window
	b    agentapi.Backend
	tabs *container.AppTabs
	tab  map[string]*container.TabItem

	// Get an app.
	catalogue []protocol.CatalogueItem
	catList   *fyne.Container
	catStack  *fyne.Container // the list, or the request form in its place
	ask       *widget.Button  // "Request an app"
	form      *appForm

	// On this computer.
	inv      agentapi.SoftwareInventory
	shown    []protocol.SoftwareEntry
	search   *widget.Entry
	invList  *widget.List
	syncLine *widget.Label
	count    *widget.Label
	invNote  *widget.Label

	// From IT.
	notes *fyne.Container

	cancel context.CancelFunc
}

func newSoftware(w fyne.Window, b agentapi.Backend, tab string) *software {
	s := &software{w: w, b: b, tab: map[string]*container.TabItem{}}
	w.SetTitle("Software — Deskside")
	s.catList = container.NewVBox(wrapped("Loading…"))
	s.search = widget.NewEntry()
	s.search.SetPlaceHolder("Search this computer's software")
	s.search.OnChanged = func(string) { s.filter() }
	s.invList = widget.NewList(func() int { return len(s.shown) }, newInventoryRow,
		func(i widget.ListItemID, o fyne.CanvasObject) { setInventoryRow(o, s.shown[i]) })
	s.syncLine = widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	s.syncLine.Wrapping = fyne.TextWrapWord
	s.count = meta("")
	s.invNote = wrapped("")
	s.invNote.Hide()
	s.notes = container.NewVBox(wrapped("Loading…"))

	s.tab[TabGetApp] = container.NewTabItemWithIcon("Get an app", theme.DownloadIcon(), s.catalogueTab())
	s.tab[TabInstalled] = container.NewTabItemWithIcon("On this computer", theme.ComputerIcon(), s.inventoryTab())
	s.tab[TabFromIT] = container.NewTabItemWithIcon("From IT", theme.MailComposeIcon(), container.NewVScroll(container.NewPadded(s.notes)))
	s.tabs = container.NewAppTabs(s.tab[TabGetApp], s.tab[TabInstalled], s.tab[TabFromIT])
	if t, ok := s.tab[tab]; ok {
		s.tabs.Select(t)
	}
	s.tabs.OnSelected = func(*container.TabItem) { s.focus() }
	w.SetOnClosed(func() {
		if s.cancel != nil {
			s.cancel()
		}
	})
	s.loadCatalogue()
	s.loadInventory()
	s.loadNotes()
	s.follow()
	return s
}

func (s *software) content() fyne.CanvasObject {
	closeBtn := widget.NewButton("Close", func() { s.w.Close() })
	return container.NewBorder(nil, container.NewPadded(container.NewHBox(layout.NewSpacer(), closeBtn)), nil, nil,
		container.NewPadded(s.tabs))
}

// focus puts the cursor in the search box when the list is showing, so
// typing searches at once.
func (s *software) focus() {
	if s.tabs.Selected() == s.tab[TabInstalled] {
		s.w.Canvas().Focus(s.search)
	}
}

// follow reloads on the agent's software events while the window is open.
func (s *software) follow() {
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	go func() {
		ch, err := s.b.Events(ctx)
		if err != nil {
			return
		}
		for ev := range ch {
			switch ev.Type {
			case agentapi.EventSoftware:
				do(func() { s.loadCatalogue(); s.loadInventory() })
			case agentapi.EventSoftwareNote:
				do(s.loadNotes)
			}
		}
	}()
}

// --- Get an app ---

func (s *software) catalogueTab() fyne.CanvasObject {
	s.ask = widget.NewButtonWithIcon("Request an app", theme.ContentAddIcon(), s.openForm)
	s.ask.Importance = widget.HighImportance
	top := container.NewBorder(nil, nil, nil, container.NewVBox(s.ask), wrapped(catalogueIntro))
	s.catStack = container.NewStack(container.NewBorder(container.NewPadded(top), nil, nil, nil,
		container.NewVScroll(container.NewPadded(s.catList))))
	return s.catStack
}

func (s *software) loadCatalogue() {
	call(s.b.Catalogue, func(items []protocol.CatalogueItem, err error) {
		s.catList.Objects = nil
		if err != nil {
			s.catList.Add(wrapped("We couldn't load the apps: " + agentapi.UserMessage(err)))
			s.catList.Refresh()
			return
		}
		s.catalogue = s.catalogue[:0]
		for _, it := range items {
			// An app IT offers for another system only would confuse here.
			if len(it.OS) == 0 || slices.Contains(it.OS, runtime.GOOS) {
				s.catalogue = append(s.catalogue, it)
			}
		}
		if len(s.catalogue) == 0 {
			s.catList.Add(wrapped(catalogueEmpty))
		}
		for _, it := range s.catalogue {
			s.catList.Add(s.catalogueCard(it))
		}
		s.catList.Refresh()
	})
}

// catalogueCard is one app: its name, what it is and how to get it (a
// link or a package beside the name, instructions below).
func (s *software) catalogueCard(it protocol.CatalogueItem) fyne.CanvasObject {
	name := widget.NewLabelWithStyle(it.Name, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	name.SizeName = theme.SizeNameSubHeadingText
	title := container.NewHBox(name)
	if it.Publisher != "" {
		title.Add(container.NewCenter(meta(it.Publisher)))
	}
	beside, below := s.how(it)
	box := container.NewVBox(container.NewBorder(nil, nil, nil, beside, title))
	if d := strings.TrimSpace(it.Description); d != "" {
		box.Add(wrapped(d))
	}
	if below != nil {
		box.Add(below)
	}
	return widget.NewCard("", "", box)
}

// how shows how an app is got: beside its name, a button for a link or the
// package name with a copy button; below, IT's instructions as rich text.
func (s *software) how(it protocol.CatalogueItem) (beside, below fyne.CanvasObject) {
	switch it.How {
	case protocol.CatalogueLink:
		u, err := url.Parse(it.URL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") {
			return nil, meta("Ask IT for the link.")
		}
		get := widget.NewButtonWithIcon("Get "+it.Name, theme.DownloadIcon(), func() { _ = openURL(u) })
		get.Importance = widget.HighImportance
		return container.NewHBox(container.NewCenter(meta("from "+strings.TrimPrefix(u.Host, "www."))), get), nil
	case protocol.CataloguePackage:
		pkg := widget.NewLabelWithStyle(it.Package, fyne.TextAlignLeading, fyne.TextStyle{Monospace: true})
		var copyBtn *widget.Button
		copyBtn = widget.NewButtonWithIcon("Copy", theme.ContentCopyIcon(), func() {
			fyne.CurrentApp().Clipboard().SetContent(it.Package)
			copyBtn.SetText("Copied")
			copyBtn.SetIcon(theme.ConfirmIcon())
		})
		return container.NewHBox(container.NewCenter(widget.NewLabel("Install the package")), container.NewCenter(pkg), copyBtn), nil
	case protocol.CatalogueInstructions:
		rt := widget.NewRichTextFromMarkdown(it.Instructions)
		rt.Wrapping = fyne.TextWrapWord
		return nil, rt
	}
	return nil, meta("Ask IT how to get it.")
}

// appForm is "Request an app": the app's name and what it is for.
type appForm struct {
	name, why *widget.Entry
	errMsg    *widget.Label
	send      *widget.Button
	done      *widget.Label // the confirmation, once sent
	openReq   *widget.Button
}

func (s *software) openForm() {
	f := &appForm{name: widget.NewEntry(), why: widget.NewMultiLineEntry(), errMsg: wrapped("")}
	s.form = f
	f.name.SetPlaceHolder("For example: Figma")
	f.why.SetPlaceHolder("A sentence is plenty, like \"design reviews with our agency\". You can leave it empty.")
	f.why.Wrapping = fyne.TextWrapWord
	f.why.SetMinRowsVisible(4)
	f.errMsg.Importance = widget.DangerImportance
	f.errMsg.Hide()
	f.send = widget.NewButton("Send request", s.sendForm)
	f.send.Importance = widget.HighImportance
	f.name.OnSubmitted = func(string) { s.sendForm() }
	back := widget.NewButton("Back to the apps", s.closeForm)
	page := container.NewVBox(heading("Request an app"),
		wrapped("Tell IT which app you need. No judgement — asking is how IT keeps it safe and supported."),
		widget.NewLabel("App name"), f.name,
		widget.NewLabel("What do you need it for?"), f.why,
		f.errMsg, container.NewHBox(layout.NewSpacer(), back, f.send))
	s.catStack.Add(container.NewVScroll(container.NewPadded(page)))
	s.catStack.Objects[0].Hide()
	s.catStack.Refresh()
	s.w.Canvas().Focus(f.name)
}

func (s *software) closeForm() {
	s.form = nil
	s.catStack.Objects = s.catStack.Objects[:1]
	s.catStack.Objects[0].Show()
	s.catStack.Refresh()
}

func (s *software) sendForm() {
	f := s.form
	if f == nil || f.send.Disabled() || f.done != nil {
		return
	}
	name := strings.TrimSpace(f.name.Text)
	if name == "" {
		f.errMsg.SetText(appNameMissing)
		f.errMsg.Show()
		s.w.Canvas().Focus(f.name)
		return
	}
	f.errMsg.Hide()
	f.send.Disable()
	f.send.SetText("Sending…")
	ar := agentapi.AppRequest{Name: name, Text: strings.TrimSpace(f.why.Text)}
	call(func(ctx context.Context) (agentapi.Request, error) { return s.b.RequestApp(ctx, ar) },
		func(r agentapi.Request, err error) {
			if err != nil {
				f.send.Enable()
				f.send.SetText("Send request")
				f.errMsg.SetText("We couldn't send it: " + agentapi.UserMessage(err) + " What you wrote is still here.")
				f.errMsg.Show()
				return
			}
			s.formSent(f, r)
		})
}

// formSent puts the warm word and a way to the request in the form's place.
func (s *software) formSent(f *appForm, r agentapi.Request) {
	f.done = heading(appRequested)
	f.done.Wrapping = fyne.TextWrapWord
	more := "You can follow it in My requests."
	if !r.Sent {
		more = "It's saved on this computer and goes to IT as soon as you're online. You can follow it in My requests."
	}
	id := r.ID
	f.openReq = widget.NewButtonWithIcon(promptOpenReq, theme.MailForwardIcon(), func() {
		openSibling("requests", "--request", id)
	})
	f.openReq.Importance = widget.HighImportance
	back := widget.NewButton("Back to the apps", s.closeForm)
	page := container.NewVBox(f.done, wrapped(more), container.NewHBox(f.openReq, back))
	s.catStack.Objects[len(s.catStack.Objects)-1] = container.NewPadded(page)
	s.catStack.Refresh()
}

// --- On this computer ---

func (s *software) inventoryTab() fyne.CanvasObject {
	top := container.NewVBox(s.syncLine, s.count, s.invNote, s.search)
	return container.NewBorder(container.NewPadded(top), nil, nil, nil, s.invList)
}

func (s *software) loadInventory() {
	call(s.b.Software, func(inv agentapi.SoftwareInventory, err error) {
		if err != nil {
			s.syncLine.SetText("We couldn't load the list: " + agentapi.UserMessage(err))
			return
		}
		s.inv = inv
		switch {
		case len(inv.Entries) == 0 && inv.CollectedAt.IsZero():
			s.syncLine.SetText(inventoryEmpty)
		case inv.InSync:
			s.syncLine.SetText(inSyncLine)
		default:
			s.syncLine.SetText(notSyncedLine)
		}
		var notes []string
		if inv.Truncated {
			notes = append(notes, "The list is very long, so only its first "+strconv.Itoa(len(inv.Entries))+" entries are sent.")
		}
		if len(inv.Unreadable) > 0 {
			var srcs []string
			for _, u := range inv.Unreadable {
				srcs = append(srcs, SourceWords(u))
			}
			notes = append(notes, "Some places couldn't be read this time ("+strings.Join(srcs, ", ")+
				"); what was found there before is still listed.")
		}
		s.invNote.SetText(strings.Join(notes, " "))
		s.invNote.Hidden = len(notes) == 0
		s.filter()
	})
}

// filter shows the entries matching the search box.
func (s *software) filter() {
	q := strings.ToLower(strings.TrimSpace(s.search.Text))
	s.shown = s.shown[:0]
	for _, e := range s.inv.Entries {
		if q == "" || strings.Contains(strings.ToLower(e.Name+" "+e.Publisher+" "+e.Version+" "+SourceWords(e.Source)), q) {
			s.shown = append(s.shown, e)
		}
	}
	s.invList.UnselectAll()
	s.invList.Refresh()
	switch {
	case q != "" && len(s.shown) == 0:
		s.count.SetText(inventoryNone)
	case q != "":
		s.count.SetText(strconv.Itoa(len(s.shown)) + " of " + apps(len(s.inv.Entries)))
	case !s.inv.CollectedAt.IsZero():
		s.count.SetText(apps(len(s.inv.Entries)) + ", as found " + When(s.inv.CollectedAt, time.Now()))
	default:
		s.count.SetText(apps(len(s.inv.Entries)))
	}
}

func apps(n int) string {
	if n == 1 {
		return "1 app"
	}
	return strconv.Itoa(n) + " apps"
}

func newInventoryRow() fyne.CanvasObject {
	name := widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	name.Truncation = fyne.TextTruncateEllipsis
	sub := meta("")
	sub.Truncation = fyne.TextTruncateEllipsis
	mine := widget.NewLabelWithStyle("just for you", fyne.TextAlignTrailing, fyne.TextStyle{Italic: true})
	mine.Importance = widget.SuccessImportance
	return container.NewBorder(nil, nil, nil, mine, container.NewVBox(name, sub))
}

func setInventoryRow(o fyne.CanvasObject, e protocol.SoftwareEntry) {
	row := o.(*fyne.Container)
	var text *fyne.Container
	var mine *widget.Label
	for _, c := range row.Objects {
		switch v := c.(type) {
		case *fyne.Container:
			text = v
		case *widget.Label:
			mine = v
		}
	}
	text.Objects[0].(*widget.Label).SetText(e.Name)
	text.Objects[1].(*widget.Label).SetText(InventoryLine(e))
	mine.Hidden = !e.PerUser
	mine.Refresh()
}

// InventoryLine is the small line under an installed app's name.
func InventoryLine(e protocol.SoftwareEntry) string {
	v := ""
	if e.Version != "" {
		v = "version " + e.Version
	}
	return joinNonEmpty(" · ", v, e.Publisher, SourceWords(e.Source))
}

// SourceWords says where an app was found, in plain words.
func SourceWords(s protocol.SoftwareSource) string {
	switch s {
	case protocol.SourceDpkg:
		return "Debian package"
	case protocol.SourceRPM:
		return "RPM package"
	case protocol.SourceFlatpak:
		return "Flatpak"
	case protocol.SourceSnap:
		return "Snap"
	case protocol.SourceDesktop:
		return "your app menu"
	case protocol.SourceAppImage:
		return "AppImage"
	case protocol.SourceRegistryMachine:
		return "installed for everyone"
	case protocol.SourceRegistryUser:
		return "installed for you"
	case protocol.SourceWinPrograms:
		return "your Programs folder"
	case protocol.SourceAppBundle:
		return "Applications folder"
	}
	return string(s)
}

// --- From IT ---

func (s *software) loadNotes() {
	call(s.b.SoftwareNotes, func(notes []agentapi.SoftwareNote, err error) {
		s.notes.Objects = nil
		switch {
		case err != nil:
			s.notes.Add(wrapped("We couldn't load IT's notes: " + agentapi.UserMessage(err)))
		case len(notes) == 0:
			s.notes.Add(wrapped(notesEmpty))
		}
		for _, n := range notes {
			s.notes.Add(noteCard(n))
		}
		s.notes.Refresh()
	})
}

// noteCard is one of IT's notes: a thank-you, or the reason with a
// supported alternative.
func noteCard(n agentapi.SoftwareNote) fyne.CanvasObject {
	title := widget.NewLabelWithStyle(n.Title, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	title.Wrapping = fyne.TextWrapWord
	box := container.NewVBox(title, meta(joinNonEmpty(" · ", n.Name, When(n.At, time.Now()))), wrapped(n.Text))
	if n.RequestID != "" {
		id := n.RequestID
		box.Add(container.NewHBox(widget.NewButtonWithIcon(promptOpenReq, theme.MailForwardIcon(), func() {
			openSibling("requests", "--request", id)
		})))
	}
	box.Add(widget.NewSeparator())
	return box
}
