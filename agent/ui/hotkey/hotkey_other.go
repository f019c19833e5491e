//go:build !windows && !linux && !freebsd && !openbsd && !netbsd

package hotkey

import "runtime"

// register: on macOS a global shortcut needs the Carbon or AppKit APIs,
// which means cgo, and the agent is built without it. The user can bind a
// shortcut to the window app in System Settings instead.
func register(Hotkey) (*Grab, error) {
	if runtime.GOOS == "darwin" {
		return nil, &UnavailableError{
			Reason: "on macOS it needs cgo, and this agent is built without it",
			Advice: "add a shortcut in System Settings › Keyboard › Keyboard Shortcuts (for example through a Shortcuts action) that runs: " + Command,
		}
	}
	return nil, &UnavailableError{Reason: "not supported on " + runtime.GOOS,
		Advice: "bind a key to the command " + Command + " in the desktop's settings"}
}
