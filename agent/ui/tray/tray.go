package tray

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/deskside/deskside/agent/agentapi"
	"github.com/deskside/deskside/shared/protocol"
)

// Launcher opens the window process and web pages.
type Launcher interface {
	// Open starts `deskside-agent ui <view> [args]`.
	Open(view string, args ...string) error
	OpenURL(url string) error
}

// Window views the tray opens (the `deskside-agent ui` subcommands).
const (
	ViewGetHelp   = "get-help"
	ViewRequests  = "requests"
	ViewWhatITSee = "what-it-sees"
	ViewAbout     = "about"
	ViewNews      = "news"
	ViewArticles  = "help-articles"
	ViewHeadsUp   = "heads-up"
	ViewSoftware  = "software"
	// ViewSoftwarePrompt is the "Is it for your work?" question.
	ViewSoftwarePrompt = "software-prompt"
)

// tabFromIT opens the Software window on IT's notes (deskside-ui --tab).
var tabFromIT = []string{"--tab", "from-it"}

// Controller keeps the menu in line with the agent's events, sends the
// notifications and answers clicks. It waits on events and clicks only: no
// timer runs while nothing happens.
type Controller struct {
	Src    agentapi.Backend // the agent core, in-process
	Menu   *Menu
	Launch Launcher
	Notify Notifier
	Brand  Branding
	Log    *slog.Logger
	// Hotkey receives a value for each press of the global shortcut; nil
	// when there is none. Shortcut names it for the menu ("Ctrl+Alt+H").
	Hotkey   <-chan struct{}
	Shortcut string

	now         func() time.Time // time.Now; tests set a clock
	lastGetHelp time.Time        // when "Get help" was last opened
	view        View
	reqStatus   map[string]protocol.Status // last known status of each request
}

// Run serves until ctx ends (nil) or the user picks Quit (ErrQuit).
func (c *Controller) Run(ctx context.Context) error {
	if c.Log == nil {
		c.Log = slog.Default()
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.Shortcut != "" {
		c.Menu.SetShortcut(c.Shortcut)
	}
	presses := c.Hotkey
	clicks := make(chan Action, 8)
	for _, a := range c.Menu.Actions() {
		go forward(ctx, c.Menu.Item(a).Clicked(), a, clicks)
	}
	c.refresh(ctx)
	c.seedRequests(ctx)

	events, backoff := c.subscribe(ctx), time.Second
	var retry <-chan time.Time
	for {
		select {
		case <-ctx.Done():
			return nil
		case a := <-clicks:
			if a == ActQuit {
				return ErrQuit
			}
			c.click(a)
		case _, ok := <-presses:
			if !ok {
				presses = nil // the grab ended (the X server went away)
				continue
			}
			c.shortcutPressed()
		case ev, ok := <-events:
			if !ok {
				// The event stream ended (the local API restarted): try again
				// later, backing off, and say so in the menu meanwhile.
				events = nil
				retry = time.After(backoff)
				backoff = min(backoff*2, 30*time.Second)
				continue
			}
			backoff = time.Second
			c.event(ctx, ev)
		case <-retry:
			retry = nil
			events = c.subscribe(ctx)
			c.refresh(ctx)
		}
	}
}

func forward(ctx context.Context, in <-chan struct{}, a Action, out chan<- Action) {
	for {
		select {
		case <-ctx.Done():
			return
		case _, ok := <-in:
			if !ok {
				return
			}
			select {
			case out <- a:
			case <-ctx.Done():
				return
			}
		}
	}
}

func (c *Controller) subscribe(ctx context.Context) <-chan agentapi.Event {
	ch, err := c.Src.Events(ctx)
	if err != nil {
		c.Log.Debug("tray: event stream", "err", err)
		closed := make(chan agentapi.Event)
		close(closed)
		return closed
	}
	return ch
}

// refresh reads the status and the latest announcement and shows them.
func (c *Controller) refresh(ctx context.Context) {
	if st, err := c.Src.Status(ctx); err == nil {
		c.view.Connection = st
	}
	if anns, err := c.Src.Announcements(ctx); err == nil {
		c.view.Latest = latest(anns)
	}
	if cs, err := c.Src.Checks(ctx); err == nil {
		c.view.HeadsUp = 0
		for _, it := range cs {
			if it.Attention() {
				c.view.HeadsUp++
			}
		}
	}
	c.Menu.Show(c.view)
}

func latest(anns []agentapi.Announcement) *agentapi.Announcement {
	var best *agentapi.Announcement
	for i := range anns {
		a := &anns[i]
		if best == nil || a.CreatedAt.After(best.CreatedAt) {
			best = a
		}
	}
	if best == nil {
		return nil
	}
	cp := *best
	return &cp
}

func (c *Controller) seedRequests(ctx context.Context) {
	c.reqStatus = map[string]protocol.Status{}
	reqs, err := c.Src.Requests(ctx)
	if err != nil {
		return
	}
	for _, r := range reqs {
		c.reqStatus[r.ID] = r.Status
	}
}

func (c *Controller) event(ctx context.Context, ev agentapi.Event) {
	switch ev.Type {
	case agentapi.EventConnection:
		if ev.Connection != nil {
			c.view.Connection = *ev.Connection
			c.Menu.Show(c.view)
		}
		return
	case agentapi.EventMessage:
		if m := ev.Message; m != nil && !m.FromUser {
			c.notify(MessageNotification(*m, c.Brand), ViewRequests, "--request", m.RequestID)
		}
	case agentapi.EventAnnouncement:
		if a := ev.Announcement; a != nil {
			c.notify(AnnouncementNotification(*a, c.Brand), ViewNews)
		}
	case agentapi.EventCheck:
		if ev.Notify && ev.Check != nil {
			c.notify(HeadsUpNotification(*ev.Check), ViewHeadsUp)
		}
	case agentapi.EventSoftwarePrompt:
		// The agent sends it only when the throttle allows: at most once a
		// week, never while the person types a request.
		if p := ev.Prompt; p != nil {
			c.askSoftware(*p)
		}
		return
	case agentapi.EventSoftwareNote:
		if n := ev.Note; n != nil {
			c.notify(SoftwareNoteNotification(*n), ViewSoftware, tabFromIT...)
		}
		return
	case agentapi.EventSoftware:
		return // the Software window follows it; nothing in the menu moves
	case agentapi.EventRequest:
		if r := ev.Request; r != nil {
			old, known := c.reqStatus[r.ID]
			c.reqStatus[r.ID] = r.Status
			if known && old != r.Status {
				if n, ok := StatusNotification(*r); ok {
					c.notify(n, ViewRequests, "--request", r.ID)
				}
			}
		}
	}
	// Unread counts and the latest announcement moved: one read, on the event.
	c.refresh(ctx)
}

func (c *Controller) notify(n Notification, view string, args ...string) {
	n.OnClick = func() {
		if err := c.Launch.Open(view, args...); err != nil {
			c.Log.Warn("tray: open window from notification", "view", view, "err", err)
		}
	}
	if err := c.Notify.Notify(n); err != nil {
		c.Log.Info("tray: notification not shown", "err", err)
	}
}

// askSoftware shows the software question as a notification whose click
// opens the question's window. Where no notification can be shown, the
// window opens on its own: otherwise the question would never reach them.
func (c *Controller) askSoftware(p agentapi.SoftwarePrompt) {
	n := SoftwarePromptNotification(p)
	open := func() {
		if err := c.Launch.Open(ViewSoftwarePrompt); err != nil {
			c.Log.Warn("tray: open the software question", "err", err)
		}
	}
	n.OnClick = open
	if err := c.Notify.Notify(n); err != nil {
		c.Log.Info("tray: notification not shown; opening the software question", "err", err)
		open()
	}
}

// shortcutPressed opens "Get help", unless it was opened a moment ago.
func (c *Controller) shortcutPressed() {
	now := c.now()
	if since := now.Sub(c.lastGetHelp); since >= 0 && since < hotkeyQuiet {
		c.Log.Debug("tray: shortcut pressed again right after opening Get help; ignored")
		return
	}
	c.lastGetHelp = now
	c.open(ActGetHelp)
}

// click answers a menu click.
func (c *Controller) click(a Action) {
	if a == ActGetHelp {
		c.lastGetHelp = c.now()
	}
	c.open(a)
}

// open does what a's menu item says.
func (c *Controller) open(a Action) {
	var err error
	switch a {
	case ActGetHelp:
		err = c.Launch.Open(ViewGetHelp)
	case ActRequests:
		err = c.Launch.Open(ViewRequests)
	case ActAnnouncement:
		err = c.Launch.Open(ViewNews)
	case ActWhatITSees:
		err = c.Launch.Open(ViewWhatITSee)
	case ActAbout:
		err = c.Launch.Open(ViewAbout)
	case ActHelpArticles:
		err = c.Launch.Open(ViewArticles)
	case ActHeadsUp:
		err = c.Launch.Open(ViewHeadsUp)
	case ActSoftware:
		err = c.Launch.Open(ViewSoftware)
	case ActHelpLink:
		if c.Brand.HelpURL != "" {
			err = c.Launch.OpenURL(c.Brand.HelpURL)
		}
	}
	if err != nil {
		c.Log.Warn("tray: open window", "action", a, "err", err)
		c.tellUser(err)
	}
}

// tellUser shows a click's failure where the user looks, when it is one
// they should pass on (the window app missing).
func (c *Controller) tellUser(err error) {
	var ue interface{ UserMessage() string }
	if !errors.As(err, &ue) {
		return
	}
	if e := c.Notify.Notify(Notification{Title: appName(c.Brand), Body: ue.UserMessage()}); e != nil {
		c.Log.Info("tray: notification not shown", "err", e)
	}
}
