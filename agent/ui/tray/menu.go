// Package tray is Deskside's tray icon and menu in the always-running agent
// process, and the desktop notifications it sends. The menu is a plain Go
// state machine behind the small Factory and Item interfaces (as Fleet's
// orbit/cmd/desktop/menu), so it is tested with fakes and no display;
// fyne.io/systray is only one Factory. Clicks start the short-lived window
// process through a Launcher; nothing here draws a window or holds a GL
// context, so the agent stays small while idle.
package tray

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/deskside/deskside/agent/agentapi"
	"github.com/deskside/deskside/agent/ui/icon"
)

// Item is one menu entry.
type Item interface {
	SetTitle(string)
	SetTooltip(string)
	Enable()
	Disable()
	Show()
	Hide()
	// Clicked receives a value each time the user picks the item.
	Clicked() <-chan struct{}
}

// Factory makes the tray's icon and menu (fyne.io/systray, or a fake).
type Factory interface {
	AddItem(title, tooltip string) Item
	AddSeparator()
	SetIcon(png []byte)
	SetTooltip(string)
}

// Action names what a menu item does.
type Action int

// The menu's actions, in menu order.
const (
	ActStatus       Action = iota // the first line, telling the state; not clickable
	ActGetHelp                    // "Get help…"
	ActRequests                   // "My requests"
	ActAnnouncement               // the latest announcement, when there is one
	ActWhatITSees                 // "What IT can see"
	ActHelpLink                   // the company's help-desk site, when branded
	ActAbout                      // "About Deskside"
	ActQuit                       // "Quit Deskside"
	ActHelpArticles               // "Help articles": the self-help articles kept on this computer
	ActHeadsUp                    // "Heads-up (N)": the checks that need the person
	ActSoftware                   // "Software…": IT's catalogue, this computer's software, IT's notes
)

// Branding is the optional company look from the agent's config.
type Branding struct {
	// CompanyName is how the help desk calls itself ("Acme IT"); empty means
	// the server's name, or simply "IT".
	CompanyName string
	// HelpURL is a help-desk website shown as a menu entry.
	HelpURL string
	// Icon is a PNG used as the tray icon in place of Deskside's.
	Icon []byte
}

// View is everything the menu shows.
type View struct {
	Connection agentapi.Connection
	// Latest is the newest announcement, or nil.
	Latest *agentapi.Announcement
	// HeadsUp counts the heads-up checks that need the person.
	HeadsUp int
}

// Menu is the tray menu's state machine: Show(View) brings the icon, the
// tooltip and every item in line with the agent's state, and does nothing
// when nothing changed.
type Menu struct {
	f         Factory
	brand     Branding
	items     map[Action]Item
	icons     *icon.Icons
	shown     View
	inited    bool
	shownIcon icon.State
}

// NewMenu builds the items through f in menu order.
func NewMenu(f Factory, brand Branding) *Menu {
	m := &Menu{f: f, brand: brand, items: map[Action]Item{}, icons: icon.NewIcons(brand.Icon)}
	add := func(a Action, title, tip string) { m.items[a] = f.AddItem(title, tip) }
	add(ActStatus, "Connecting…", "")
	m.items[ActStatus].Disable()
	f.AddSeparator()
	add(ActGetHelp, "Get help…", "Tell IT what's going on, in a sentence")
	add(ActRequests, "My requests", "Your requests and IT's replies")
	add(ActHeadsUp, "Heads-up", "Small things to keep your computer healthy, with one-click fixes")
	add(ActAnnouncement, "", "The latest news from IT")
	m.items[ActAnnouncement].Hide()
	add(ActWhatITSees, "What IT can see", "The exact facts this computer shares with IT")
	add(ActHelpArticles, "Help articles", "Answers to common questions, offline too")
	add(ActSoftware, "Software…", "Get an app, and see the software IT can see on this computer")
	add(ActHelpLink, "Help desk website", brand.HelpURL)
	if brand.HelpURL == "" {
		m.items[ActHelpLink].Hide()
	}
	f.AddSeparator()
	add(ActAbout, "About Deskside", "Version, server and connection")
	add(ActQuit, "Quit Deskside", "Stop Deskside until you next sign in")
	return m
}

// Item returns the item for a, for wiring clicks.
func (m *Menu) Item(a Action) Item { return m.items[a] }

// Actions lists the clickable actions.
func (m *Menu) Actions() []Action {
	return []Action{ActGetHelp, ActRequests, ActAnnouncement, ActWhatITSees, ActHelpLink, ActAbout, ActQuit, ActHelpArticles, ActHeadsUp, ActSoftware}
}

// Show applies v.
func (m *Menu) Show(v View) {
	first := !m.inited
	m.inited = true
	old := m.shown
	m.shown = v
	if st := IconFor(v.Connection); first || st != m.shownIcon {
		m.shownIcon = st
		m.f.SetIcon(encodeForTray(m.icons.PNG(st)))
	}
	if first || old.Connection.State != v.Connection.State || old.Connection.ServerName != v.Connection.ServerName ||
		old.Connection.Unread != v.Connection.Unread {
		m.f.SetTooltip(Tooltip(v.Connection, m.brand))
		m.items[ActStatus].SetTitle(StatusLine(v.Connection, m.brand))
		m.items[ActRequests].SetTitle(RequestsTitle(v.Connection.Unread))
	}
	if first || old.HeadsUp != v.HeadsUp {
		m.items[ActHeadsUp].SetTitle(HeadsUpTitle(v.HeadsUp))
	}
	if first || announcementID(old.Latest) != announcementID(v.Latest) ||
		(v.Latest != nil && old.Latest != nil && old.Latest.Read != v.Latest.Read) {
		if v.Latest == nil {
			m.items[ActAnnouncement].Hide()
		} else {
			m.items[ActAnnouncement].SetTitle(AnnouncementTitle(*v.Latest))
			m.items[ActAnnouncement].Show()
		}
	}
}

func announcementID(a *agentapi.Announcement) string {
	if a == nil {
		return ""
	}
	return a.ID
}

// Shown returns the view last applied.
func (m *Menu) Shown() View { return m.shown }

// IconFor picks the icon for a state: unread wins, then online or offline.
func IconFor(s agentapi.Connection) icon.State {
	online := s.State == agentapi.ConnOnline
	switch {
	case s.Unread > 0 && online:
		return icon.OnlineUnread
	case s.Unread > 0:
		return icon.OfflineUnread
	case online:
		return icon.Online
	}
	return icon.Offline
}

// DeskName is how the help desk is called: the brand, the server's own name, or "IT".
func DeskName(s agentapi.Connection, b Branding) string {
	switch {
	case b.CompanyName != "":
		return b.CompanyName
	case s.ServerName != "":
		return s.ServerName
	}
	return "IT"
}

// StatusLine is the first, unclickable line of the menu.
func StatusLine(s agentapi.Connection, b Branding) string {
	switch s.State {
	case agentapi.ConnOnline:
		return "Connected to " + DeskName(s, b)
	case agentapi.ConnOffline:
		return "Offline — what you send is saved"
	case agentapi.ConnEnrolling:
		return "Setting up…"
	}
	return "Connecting…"
}

// RequestsTitle is "My requests", with the unread count when there is one.
func RequestsTitle(unread int) string {
	switch {
	case unread <= 0:
		return "My requests"
	case unread == 1:
		return "My requests (1 new)"
	}
	return fmt.Sprintf("My requests (%d new)", unread)
}

// AnnouncementTitle is the menu line for an announcement, kept short.
func AnnouncementTitle(a agentapi.Announcement) string {
	t := strings.TrimSpace(a.Title)
	if t == "" {
		t = strings.TrimSpace(a.Text)
	}
	t = strings.Join(strings.Fields(t), " ")
	const limit = 40
	if utf8.RuneCountInString(t) > limit {
		t = string([]rune(t)[:limit-1]) + "…"
	}
	prefix := "News: "
	if !a.Read {
		prefix = "New: "
	}
	return prefix + t
}

// Tooltip is the icon's hover text.
func Tooltip(s agentapi.Connection, b Branding) string {
	t := "Deskside — " + StatusLine(s, b)
	if s.Unread > 0 {
		t += fmt.Sprintf(" · %d new", s.Unread)
	}
	return t
}

// HeadsUpTitle is "Heads-up", with how many checks need the person.
func HeadsUpTitle(n int) string {
	if n <= 0 {
		return "Heads-up"
	}
	return fmt.Sprintf("Heads-up (%d)", n)
}
