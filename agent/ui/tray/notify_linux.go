//go:build linux

package tray

import (
	"fmt"
	"log/slog"
	"sync"

	"github.com/godbus/dbus/v5"
)

const (
	notifyDest  = "org.freedesktop.Notifications"
	notifyPath  = "/org/freedesktop/Notifications"
	notifyIface = "org.freedesktop.Notifications"
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
	done    chan struct{}
}

// NewNotifier returns the platform's notifier, or one that only logs when
// there is no notification service (no session bus).
func NewNotifier(app string, log *slog.Logger) Notifier {
	conn, err := dbus.ConnectSessionBus()
	if err != nil {
		log.Info("no D-Bus session bus: desktop notifications are off", "err", err)
		return logNotifier{log: log}
	}
	n := &dbusNotifier{conn: conn, app: app, log: log, pending: map[uint32]func(){}, done: make(chan struct{})}
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

func (n *dbusNotifier) signal(s *dbus.Signal) {
	if len(s.Body) < 1 {
		return
	}
	id, ok := s.Body[0].(uint32)
	if !ok {
		return
	}
	n.mu.Lock()
	f := n.pending[id]
	delete(n.pending, id)
	n.mu.Unlock()
	if s.Name == notifyIface+".ActionInvoked" && f != nil {
		go f()
	}
}

// Notify implements Notifier.
func (n *dbusNotifier) Notify(msg Notification) error {
	var actions []string
	if msg.OnClick != nil {
		actions = []string{"default", "Open"}
	}
	hints := map[string]dbus.Variant{"desktop-entry": dbus.MakeVariant("deskside-agent")}
	call := n.conn.Object(notifyDest, notifyPath).Call(notifyIface+".Notify", 0,
		n.app, uint32(0), "dialog-information", msg.Title, msg.Body, actions, hints, int32(-1))
	if call.Err != nil {
		return fmt.Errorf("desktop notification: %w", call.Err)
	}
	var id uint32
	if err := call.Store(&id); err != nil {
		return fmt.Errorf("desktop notification id: %w", err)
	}
	if msg.OnClick != nil {
		n.mu.Lock()
		n.pending[id] = msg.OnClick
		n.mu.Unlock()
	}
	return nil
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
