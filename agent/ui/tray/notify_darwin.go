//go:build darwin

package tray

import (
	"context"
	"fmt"
	"log/slog"
	"os/exec"
	"strings"
	"sync/atomic"
	"time"
)

// osascriptNotifier shows notifications in the macOS notification centre
// through osascript's `display notification`, the one way there without
// cgo. Its limits: a click cannot open the request (macOS tells only the
// sending app, here osascript, which has exited — a click may even open
// Script Editor), and the notification carries osascript's icon. The
// request still waits, unread, in "My requests", and the tray shows the
// red dot.
type osascriptNotifier struct {
	app    string
	closed atomic.Bool
}

// NewNotifier returns the platform's notifier.
func NewNotifier(app string, log *slog.Logger) Notifier {
	if _, err := exec.LookPath("osascript"); err != nil {
		log.Info("no osascript: desktop notifications are off", "err", err)
		return logNotifier{log: log}
	}
	return &osascriptNotifier{app: app}
}

// Notify implements Notifier. OnClick is not called (see the type).
func (n *osascriptNotifier) Notify(msg Notification) error {
	if n.closed.Load() {
		return fmt.Errorf("desktop notification: notifier closed")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "osascript", osascriptArgs(n.app, msg)...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("desktop notification: osascript: %w: %s", err, strings.TrimSpace(string(out)))
	}
	return nil
}

// Close implements Notifier; safe to call twice.
func (n *osascriptNotifier) Close() error {
	n.closed.Store(true)
	return nil
}
