package tray

import "log/slog"

// Notification is one desktop notification.
type Notification struct {
	Title string
	Body  string
	// OnClick runs when the user clicks the notification, where the
	// platform tells us; nil means nothing to open.
	OnClick func()
}

// Notifier shows desktop notifications.
type Notifier interface {
	Notify(n Notification) error
	Close() error
}

// logNotifier is the fallback where the platform offers nothing: the
// message still waits in "My requests", and the tray shows the unread count.
type logNotifier struct{ log *slog.Logger }

func (l logNotifier) Notify(n Notification) error {
	l.log.Info("notification (no notification service here)", "title", n.Title)
	return nil
}

func (logNotifier) Close() error { return nil }
