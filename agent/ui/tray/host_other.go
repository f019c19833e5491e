//go:build !linux

package tray

// trayHostReachable: Windows and macOS always have a tray.
func trayHostReachable() bool { return true }
