//go:build windows

package tray

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"sync/atomic"

	"git.sr.ht/~jackmordaunt/go-toast/wintoast"

	"github.com/deskside/deskside/agent/ui/icon"
)

const (
	// toastAppID is who the toasts come from, as Windows groups them in the
	// notification centre. It stays "Deskside" whatever the branding, so
	// the registry holds one entry per desk; the company's name goes on the
	// toast itself.
	toastAppID = "Deskside"
	// toastActivator is Deskside's COM class for toast clicks, generated
	// once for Deskside (go-toast's default is shared by every program that
	// uses it, so a click could land in another one).
	toastActivator = "{78E0AE3F-828E-43F0-A6AB-FAA63F474584}"
)

// toastNotifier shows Windows toasts through the Windows Runtime's COM API
// (go-toast, pure Go) and runs OnClick when one is clicked while the agent
// runs. It never uses go-toast's PowerShell fallback, which would pass the
// texts through a PowerShell string that expands $(…).
//
// A click on a toast left in the notification centre after the agent
// stopped opens nothing: Windows starts no program for it, as none is
// registered to (the agent starts with the session anyway).
type toastNotifier struct {
	attribution string
	log         *slog.Logger
	clicks      clickTable
	closed      atomic.Bool
	pushes      chan toastPush
}

// toastPush is one toast for the COM thread.
type toastPush struct {
	xml  string
	done chan error
}

// NewNotifier returns the platform's notifier, or one that only logs when
// Windows refuses to register Deskside for toasts.
func NewNotifier(app string, log *slog.Logger) Notifier {
	data := wintoast.AppData{AppID: toastAppID, GUID: toastActivator, IconPath: toastIcon(log)}
	if err := wintoast.SetAppData(data); err != nil {
		log.Info("Windows notifications are off: cannot register Deskside for them", "err", err)
		return logNotifier{log: log}
	}
	n := &toastNotifier{log: log, pushes: make(chan toastPush)}
	if app != toastAppID {
		n.attribution = app
	}
	wintoast.SetActivationCallback(n.activated)
	go n.comThread()
	return n
}

// comThread pushes every toast from one OS thread, which go-toast
// initialises for the Windows Runtime on the first push and which
// registers the click handler: both then stay on a thread that lives as
// long as the agent. One per process, like the notifier.
func (n *toastNotifier) comThread() {
	runtime.LockOSThread()
	for p := range n.pushes {
		// No option: the COM API only, never the PowerShell fallback.
		p.done <- wintoast.Push(p.xml)
	}
}

// activated runs on a COM thread when a toast (or its body) is clicked.
func (n *toastNotifier) activated(_, args string, _ []wintoast.UserData) {
	if n.closed.Load() {
		return
	}
	if f := n.clicks.take(args); f != nil {
		go f()
	}
}

// Notify implements Notifier.
func (n *toastNotifier) Notify(msg Notification) error {
	if n.closed.Load() {
		return fmt.Errorf("toast notification: notifier closed")
	}
	launch := ""
	if msg.OnClick != nil {
		launch = n.clicks.add(msg.OnClick)
	}
	p := toastPush{xml: toastXML(msg, launch, n.attribution), done: make(chan error, 1)}
	n.pushes <- p
	if err := <-p.done; err != nil {
		n.clicks.take(launch)
		return fmt.Errorf("toast notification: %w", err)
	}
	return nil
}

// Close implements Notifier; safe to call twice. Windows keeps the toasts
// already shown; clicking them now opens nothing.
func (n *toastNotifier) Close() error {
	n.closed.Store(true)
	n.clicks.clear()
	return nil
}

// toastIcon writes Deskside's mark where Windows can read it for the toasts
// and returns its path; "" (Windows' blank square) when it cannot.
func toastIcon(log *slog.Logger) string {
	dir, err := os.UserCacheDir()
	if err != nil {
		return ""
	}
	p := filepath.Join(dir, "Deskside", "notification-icon.png")
	err = os.MkdirAll(filepath.Dir(p), 0o755)
	if err == nil {
		err = os.WriteFile(p, icon.NewIcons(nil).PNG(icon.Online), 0o644)
	}
	if err != nil {
		log.Debug("toast icon", "err", err)
		return ""
	}
	return p
}
