//go:build !windows && !linux && !freebsd && !openbsd && !netbsd

package hotkey

import "runtime"

// register: on macOS a global shortcut needs the Carbon or AppKit APIs
// through cgo, and this package stays pure Go so the agent also builds
// without it. The user can bind a shortcut to the window app instead.
func register(Hotkey) (*Grab, error) {
	if runtime.GOOS == "darwin" {
		return nil, &UnavailableError{
			Reason: "on macOS Deskside has none (it would need cgo and the Carbon API)",
			Advice: "give a Shortcuts action a key that runs: /Applications/Deskside.app/Contents/MacOS/deskside-ui get-help",
		}
	}
	return nil, &UnavailableError{Reason: "not supported on " + runtime.GOOS,
		Advice: "bind a key to the command " + Command + " in the desktop's settings"}
}
