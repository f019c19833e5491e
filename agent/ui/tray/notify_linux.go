//go:build linux

package tray

import (
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"

	"github.com/godbus/dbus/v5"
)

const (
	notifyDest  = "org.freedesktop.Notifications"
	notifyPath  = "/org/freedesktop/Notifications"
	notifyIface = "org.freedesktop.Notifications"
	// notifyDesktopEntry is the launcher entry the installers put in
	// applications/ (deskside.desktop): desktops take the app's name and
	// icon, and the user's notification settings, from it.
	notifyDesktopEntry = "deskside"
)

// dbusNotifier sends notifications through org.freedesktop.Notifications on
// the session bus and runs OnClick when the user clicks one ("default"
// action). It has its own connection, so closing it never disturbs systray's.
type dbusNotifier struct {
	conn    *dbus.Conn
	app     string
	log     *slog.Logger
	mu      sync.Mutex
	pending map[uint32]func()
	// early holds clicks that came in before Notify's reply was read: the
	// click signal and the reply race between two goroutines.
	early  map[uint32]bool
	markup *bool // the server reads the body as markup; nil: not asked yet
	done   chan struct{}
}

// NewNotifier returns the platform's notifier, or one that only logs when
// there is no notification service (no session bus).
func NewNotifier(app string, log *slog.Logger) Notifier {
	conn, err := dbus.ConnectSessionBus()
	if err != nil {
		log.Info("no D-Bus session bus: desktop notifications are off", "err", err)
		return logNotifier{log: log}
	}
	return newDBusNotifier(conn, app, log)
}

// newDBusNotifier sends notifications over conn, which it then owns.
func newDBusNotifier(conn *dbus.Conn, app string, log *slog.Logger) *dbusNotifier {
	n := &dbusNotifier{conn: conn, app: app, log: log, pending: map[uint32]func(){}, early: map[uint32]bool{}, done: make(chan struct{})}
	if err := conn.AddMatchSignal(dbus.WithMatchObjectPath(notifyPath), dbus.WithMatchInterface(notifyIface)); err != nil {
		log.Info("notification clicks will not open anything", "err", err)
	}
	sigs := make(chan *dbus.Signal, 16)
	conn.Signal(sigs)
	go n.listen(sigs)
	return n
}

func (n *dbusNotifier) listen(sigs chan *dbus.Signal) {
	for {
		select {
		case <-n.done:
			return
		case s, ok := <-sigs:
			if !ok || s == nil {
				return
			}
			n.signal(s)
		}
	}
}

// signal handles ActionInvoked (a click: run what the notification opens)
// and NotificationClosed (forget it).
func (n *dbusNotifier) signal(s *dbus.Signal) {
	if len(s.Body) < 1 {
		return
	}
	id, ok := s.Body[0].(uint32)
	if !ok {
		return
	}
	clicked := s.Name == notifyIface+".ActionInvoked"
	n.mu.Lock()
	f, known := n.pending[id]
	delete(n.pending, id)
	if clicked && !known {
		if len(n.early) >= maxPendingClicks {
			clear(n.early)
		}
		n.early[id] = true
	}
	n.mu.Unlock()
	if clicked && f != nil {
		go f()
	}
}

// Notify implements Notifier.
func (n *dbusNotifier) Notify(msg Notification) error {
	var actions []string
	if msg.OnClick != nil {
		actions = []string{"default", "Open"}
	}
	body := strings.TrimSpace(printable(msg.Body))
	if n.readsMarkup() {
		// A "<" or "&" in a message is text, not a tag to draw.
		body = markupEscaper.Replace(body)
	}
	hints := map[string]dbus.Variant{"desktop-entry": dbus.MakeVariant(notifyDesktopEntry)}
	call := n.conn.Object(notifyDest, notifyPath).Call(notifyIface+".Notify", 0,
		oneLine(n.app), uint32(0), "dialog-information", oneLine(msg.Title), body, actions, hints, int32(-1))
	if call.Err != nil {
		return fmt.Errorf("desktop notification: %w", call.Err)
	}
	var id uint32
	if err := call.Store(&id); err != nil {
		return fmt.Errorf("desktop notification id: %w", err)
	}
	if msg.OnClick != nil {
		n.mu.Lock()
		clicked := n.early[id]
		delete(n.early, id)
		if !clicked {
			n.pending[id] = msg.OnClick
		}
		n.mu.Unlock()
		if clicked {
			go msg.OnClick()
		}
	}
	return nil
}

var markupEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

// readsMarkup asks the server once whether it reads bodies as markup
// ("body-markup"); until it answers, the body is sent as it is.
func (n *dbusNotifier) readsMarkup() bool {
	n.mu.Lock()
	known := n.markup
	n.mu.Unlock()
	if known != nil {
		return *known
	}
	var caps []string
	if err := n.conn.Object(notifyDest, notifyPath).Call(notifyIface+".GetCapabilities", 0).Store(&caps); err != nil {
		return false
	}
	m := slices.Contains(caps, "body-markup")
	n.mu.Lock()
	n.markup = &m
	n.mu.Unlock()
	return m
}

// Close implements Notifier; safe to call twice.
func (n *dbusNotifier) Close() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	select {
	case <-n.done:
		return nil
	default:
	}
	close(n.done)
	return n.conn.Close()
}
