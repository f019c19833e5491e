//go:build windows || linux || freebsd || openbsd || netbsd

package hotkey

// Helpers for the platforms that can grab a key.

func newGrab() *Grab { return &Grab{presses: make(chan struct{}, 1)} }

// press records one press without ever blocking the platform's loop.
func (g *Grab) press() {
	select {
	case g.presses <- struct{}{}:
	default:
	}
}
