package tray

import (
	"log/slog"
	"strings"
	"unicode"
)

// Notification is one desktop notification. Its texts come from
// MessageNotification and friends: what the employee may read, never a
// technician's internal note.
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

// printable drops what a notification service cannot carry: control
// characters (a NUL cuts a command line; most C0 codes are not even legal in
// XML), U+FFFE and U+FFFF, and broken UTF-8. Line breaks and tabs stay.
func printable(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\n' || r == '\t':
			return r
		case unicode.IsControl(r), r == 0xFFFE, r == 0xFFFF:
			return -1
		}
		return r
	}, strings.ToValidUTF8(s, "\uFFFD"))
}
