package windows

import (
	"context"
	"strconv"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/widget"

	"github.com/deskside/deskside/agent/agentapi"
	"github.com/deskside/deskside/shared/protocol"
)

// whatITSees shows the exact snapshot IT has, in plain words.
type whatITSees struct {
	w        fyne.Window
	b        agentapi.Backend
	helpDesk string
	intro    *widget.Label
	form     *widget.Form
	// softwareLink is the "Installed software" line, once loaded.
	softwareLink *widget.Hyperlink
}

func newWhatITSees(w fyne.Window, b agentapi.Backend, helpDesk string) *whatITSees {
	v := &whatITSees{w: w, b: b, helpDesk: helpDesk, intro: wrapped("Looking…"), form: widget.NewForm()}
	w.SetTitle("What IT can see — Deskside")
	call(func(ctx context.Context) (*protocol.Snapshot, error) { return b.Snapshot(ctx, false) }, v.show)
	return v
}

func (v *whatITSees) show(s *protocol.Snapshot, err error) {
	desk := v.helpDesk
	if desk == "" {
		desk = "IT"
	}
	if err != nil || s == nil {
		v.intro.SetText(desk + " hasn't received anything from this computer yet. " +
			"When it does, you'll see every fact here, exactly as it was sent.")
		return
	}
	v.intro.SetText("This is exactly what " + desk + " received from this computer, " +
		When(s.TakenAt, time.Now()) + ". Nothing else is shared.")
	for _, f := range Facts(s) {
		l := wrapped(f.Value)
		v.form.Append(f.Label, l)
	}
	v.form.Refresh()
	call(v.b.Software, v.showSoftware)
}

// showSoftware adds the installed software as one line that opens the
// Software window's "On this computer" tab, where the whole list is.
func (v *whatITSees) showSoftware(inv agentapi.SoftwareInventory, err error) {
	if err != nil || (len(inv.Entries) == 0 && inv.CollectedAt.IsZero()) {
		return
	}
	v.softwareLink = widget.NewHyperlink(SoftwareFactWords(inv), nil)
	v.softwareLink.OnTapped = func() { openSibling("software", "--tab", TabInstalled) }
	v.form.Append("Installed software", v.softwareLink)
	v.form.Refresh()
}

// SoftwareFactWords is the "Installed software" line of What IT can see.
func SoftwareFactWords(inv agentapi.SoftwareInventory) string {
	if !inv.InSync {
		return apps(len(inv.Entries)) + ", not sent to IT yet — see the list"
	}
	return apps(len(inv.Entries)) + " — see the list"
}

func (v *whatITSees) content() fyne.CanvasObject {
	never := wrapped(NeverCollected)
	never.TextStyle = fyne.TextStyle{Bold: true}
	closeBtn := widget.NewButton("Close", func() { v.w.Close() })
	return container.NewBorder(container.NewPadded(container.NewVBox(heading("What IT can see"), v.intro)),
		container.NewPadded(container.NewVBox(widget.NewSeparator(), never, container.NewHBox(layout.NewSpacer(), closeBtn))),
		nil, nil, container.NewVScroll(container.NewPadded(v.form)))
}

// news lists IT's announcements and marks them read.
type news struct {
	w    fyne.Window
	b    agentapi.Backend
	list *fyne.Container
}

func newNews(w fyne.Window, b agentapi.Backend) *news {
	n := &news{w: w, b: b, list: container.NewVBox(wrapped("Loading…"))}
	w.SetTitle("News from IT — Deskside")
	call(b.Announcements, n.show)
	return n
}

func (n *news) show(anns []agentapi.Announcement, err error) {
	n.list.Objects = nil
	switch {
	case err != nil:
		n.list.Add(wrapped("We couldn't load the news: " + agentapi.UserMessage(err)))
	case len(anns) == 0:
		n.list.Add(wrapped("No news from IT. All quiet."))
	}
	for _, a := range anns {
		by := When(a.CreatedAt, time.Now())
		if a.Author.Name != "" {
			by = a.Author.Name + " · " + by
		}
		title := widget.NewLabelWithStyle(a.Title, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
		if a.Severity == "outage" || a.Severity == "warning" {
			title.Importance = widget.WarningImportance
		}
		n.list.Add(container.NewVBox(title, meta(by), wrapped(a.Text), widget.NewSeparator()))
		if !a.Read {
			id := a.ID
			go func() {
				ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
				defer cancel()
				_ = n.b.MarkAnnouncementRead(ctx, id) // unread only keeps its dot
			}()
		}
	}
	n.list.Refresh()
}

func (n *news) content() fyne.CanvasObject {
	closeBtn := widget.NewButton("Close", func() { n.w.Close() })
	return container.NewBorder(container.NewPadded(heading("News from IT")),
		container.NewPadded(container.NewHBox(layout.NewSpacer(), closeBtn)), nil, nil,
		container.NewVScroll(container.NewPadded(n.list)))
}

// about tells the version, the server and how the link is.
type about struct {
	w        fyne.Window
	b        agentapi.Backend
	helpDesk string
	form     *widget.Form
}

func newAbout(w fyne.Window, b agentapi.Backend, helpDesk string) *about {
	a := &about{w: w, b: b, helpDesk: helpDesk, form: widget.NewForm()}
	w.SetTitle("About Deskside")
	call(b.Status, a.show)
	return a
}

func (a *about) show(s agentapi.Connection, err error) {
	if err != nil {
		a.form.Append("Agent", wrapped(agentapi.UserMessage(err)))
		return
	}
	desk := a.helpDesk
	if desk == "" {
		desk = s.ServerName
	}
	rows := []struct{ k, v string }{
		{"Version", s.AgentVersion},
		{"Help desk", desk},
		{"Server", s.Server},
		{"Connection", ConnectionWords(s)},
		{"Waiting to send", pendingWords(s.Pending)},
		{"Device ID", s.DeviceID},
		{"Updates", "Deskside updates itself; nothing to do on your side"},
	}
	for _, r := range rows {
		if r.v != "" {
			a.form.Append(r.k, wrapped(r.v))
		}
	}
	a.form.Refresh()
}

// ConnectionWords says how the agent is linked to the help desk.
func ConnectionWords(s agentapi.Connection) string {
	since := ""
	if !s.Since.IsZero() {
		since = " since " + When(s.Since, time.Now())
	}
	switch s.State {
	case agentapi.ConnOnline:
		return "Connected" + since
	case agentapi.ConnOffline:
		return "Offline" + since + " — what you send is saved and goes out when we're back"
	case agentapi.ConnEnrolling:
		return "Setting up"
	}
	return "Connecting…"
}

func pendingWords(n int) string {
	switch n {
	case 0:
		return "nothing"
	case 1:
		return "1 item, saved on this computer"
	}
	return strconv.Itoa(n) + " items, saved on this computer"
}

func (a *about) content() fyne.CanvasObject {
	closeBtn := widget.NewButton("Close", func() { a.w.Close() })
	top := container.NewHBox(logo(48), container.NewVBox(heading("Deskside"),
		widget.NewLabel("IT help, one click away.")))
	return container.NewBorder(container.NewPadded(top),
		container.NewPadded(container.NewHBox(layout.NewSpacer(), closeBtn)), nil, nil,
		container.NewPadded(a.form))
}
