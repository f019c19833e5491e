package tray

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"fyne.io/systray"
)

// ErrQuit is returned by Run when the user picked "Quit Deskside".
var ErrQuit = errors.New("the user quit Deskside from the tray")

// Options configure Run.
type Options struct {
	Brand    Branding
	Launch   Launcher // nil: an ExecLauncher over the window app
	Notifier Notifier // nil: the platform's
	Log      *slog.Logger
}

// Run shows the tray icon and menu and sends notifications until ctx ends
// (nil) or the user quits (ErrQuit). Where there is no tray host it still
// runs and notifies; the windows then open from the launcher entry.
func Run(ctx context.Context, src Source, o Options) error {
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

// runSystray runs fyne.io/systray's loop around the controller. systray can
// run once per process.
func runSystray(ctx context.Context, c *Controller, brand Branding) (err error) {
	done := make(chan error, 1)
	var once sync.Once
	finish := func(e error) { once.Do(func() { done <- e; systray.Quit() }) }
	onReady := func() {
		systray.SetTitle(appName(brand))
		c.Menu = NewMenu(systrayFactory{}, brand)
		go func() { finish(c.Run(ctx)) }()
	}
	defer func() {
		// systray's exit path dereferences its D-Bus connection, which is nil
		// when the session bus went away after our check: don't take the
		// agent down with it.
		if r := recover(); r != nil {
			c.Log.Warn("tray: systray stopped unexpectedly", "panic", fmt.Sprint(r))
		}
		select {
		case err = <-done:
		default:
		}
	}()
	systray.Run(onReady, func() {})
	return <-done
}

// systrayFactory is Factory over fyne.io/systray.
type systrayFactory struct{}

func (systrayFactory) AddItem(title, tip string) Item {
	return systrayItem{systray.AddMenuItem(title, tip)}
}
func (systrayFactory) AddSeparator()       { systray.AddSeparator() }
func (systrayFactory) SetIcon(b []byte)    { systray.SetIcon(b) }
func (systrayFactory) SetTooltip(s string) { systray.SetTooltip(s) }

type systrayItem struct{ *systray.MenuItem }

func (i systrayItem) Clicked() <-chan struct{} { return i.ClickedCh }

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
