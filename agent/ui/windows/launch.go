package windows

import (
	"os"
	"os/exec"
)

// openSibling starts another window process (e.g. "My requests" after a
// request is sent). It is a variable so tests can see the call.
var openSibling = func(view string) {
	exe, err := os.Executable()
	if err != nil {
		return
	}
	cmd := exec.Command(exe, "ui", view)
	if cmd.Start() == nil {
		go func() { _ = cmd.Wait() }()
	}
}
