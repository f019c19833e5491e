//go:build !linux

package tray

import "log/slog"

// NewNotifier returns the platform's notifier. Windows toasts and the macOS
// notification centre are not wired yet: the tray icon's red dot and the
// unread count in "My requests" carry the news there for now.
func NewNotifier(_ string, log *slog.Logger) Notifier {
	return logNotifier{log: log}
}
