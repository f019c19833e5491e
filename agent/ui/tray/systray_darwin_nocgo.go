//go:build darwin && !cgo

package tray

import "context"

// runSystray: fyne.io/systray needs cgo on macOS, so an agent built without
// it has no menu-bar icon. The menu's state machine still runs and the
// notifications still show; the windows open from the Deskside app.
func runSystray(ctx context.Context, c *Controller, brand Branding) error {
	c.Log.Warn("no menu-bar icon: this agent was built without cgo; notifications still show")
	c.Menu = NewMenu(nullFactory{}, brand)
	return c.Run(ctx)
}
