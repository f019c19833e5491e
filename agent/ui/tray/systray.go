//go:build !darwin || cgo

package tray

import (
	"context"
	"fmt"
	"sync"

	"fyne.io/systray"
)

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
