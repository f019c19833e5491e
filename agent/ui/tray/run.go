package tray

import (
	"context"
	"errors"
	"log/slog"

	"github.com/deskside/deskside/agent/agentapi"
	"github.com/deskside/deskside/agent/ui/hotkey"
)

// ErrQuit is returned by Run when the user picked "Quit Deskside".
var ErrQuit = errors.New("the user quit Deskside from the tray")

// Options configure Run.
type Options struct {
	Brand    Branding
	Launch   Launcher // nil: an ExecLauncher over the window app
	Notifier Notifier // nil: the platform's
	Log      *slog.Logger
	// Hotkey is the global shortcut that opens "Get help"; the zero Hotkey
	// is none.
	Hotkey hotkey.Hotkey
}

// Run shows the tray icon and menu and sends notifications until ctx ends
// (nil) or the user quits (ErrQuit). Where there is no tray host it still
// runs and notifies; the windows then open from the launcher entry.
func Run(ctx context.Context, src agentapi.Backend, o Options) error {
	if o.Log == nil {
		o.Log = slog.Default()
	}
	if o.Launch == nil {
		o.Launch = NewExecLauncher(o.Log)
	}
	if o.Notifier == nil {
		o.Notifier = NewNotifier(appName(o.Brand), o.Log)
	}
	defer o.Notifier.Close()
	c := &Controller{Src: src, Launch: o.Launch, Notify: o.Notifier, Brand: o.Brand, Log: o.Log}
	if g := grabHotkey(o.Hotkey, o.Log); g != nil {
		defer g.Close()
		c.Hotkey, c.Shortcut = g.Presses(), o.Hotkey.String()
	}

	if !trayHostReachable() {
		o.Log.Info("no tray host here: Deskside runs without an icon; open it from the applications menu")
		c.Menu = NewMenu(nullFactory{}, o.Brand)
		return c.Run(ctx)
	}
	return runSystray(ctx, c, o.Brand)
}

func appName(b Branding) string {
	if b.CompanyName != "" {
		return b.CompanyName
	}
	return "Deskside"
}

// nullFactory is the menu where there is no tray host: the state machine
// still runs, nothing is drawn.
type nullFactory struct{}

func (nullFactory) AddItem(string, string) Item { return nullItem{} }
func (nullFactory) AddSeparator()               {}
func (nullFactory) SetIcon([]byte)              {}
func (nullFactory) SetTooltip(string)           {}

type nullItem struct{}

func (nullItem) SetTitle(string)          {}
func (nullItem) SetTooltip(string)        {}
func (nullItem) Enable()                  {}
func (nullItem) Disable()                 {}
func (nullItem) Show()                    {}
func (nullItem) Hide()                    {}
func (nullItem) Clicked() <-chan struct{} { return nil }
