//go:build !linux && !windows && !darwin

package tray

import "log/slog"

// NewNotifier returns the platform's notifier. Here (the BSDs) there is none
// yet: the tray icon's red dot and the unread count in "My requests" carry
// the news.
func NewNotifier(_ string, log *slog.Logger) Notifier {
	return logNotifier{log: log}
}
