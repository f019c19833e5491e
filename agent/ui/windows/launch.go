package windows

import "github.com/deskside/deskside/agent/ui/uiapp"

// openSibling starts another window process (e.g. "My requests" after a
// request is sent) with its arguments. It is a variable so tests can see
// the call.
var openSibling = func(view string, args ...string) {
	cmd, err := uiapp.Command(view, args...)
	if err != nil {
		return
	}
	if cmd.Start() == nil {
		go func() { _ = cmd.Wait() }()
	}
}
