//go:build linux

package tray

import "github.com/godbus/dbus/v5"

// trayHostReachable reports whether systray can work here: it needs the
// D-Bus session bus (without one, quitting panics inside systray). A bus
// without a StatusNotifierWatcher is fine: systray waits for one to appear.
func trayHostReachable() bool {
	conn, err := dbus.ConnectSessionBus()
	if err != nil {
		return false
	}
	conn.Close()
	return true
}
