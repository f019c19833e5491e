package main

import (
	"strings"
	"testing"
)

// Without a display the window app says so in one line, with the command
// that does the same in a terminal, before fyne starts (which would fail
// with a GLFW stack trace).
func TestNoDisplayIsOneFriendlyLine(t *testing.T) {
	t.Setenv("DISPLAY", "")
	t.Setenv("WAYLAND_DISPLAY", "")
	var stderr strings.Builder
	err := run([]string{"requests"}, &stderr)
	if err == nil {
		t.Fatal("no error without a display")
	}
	msg := err.Error()
	if !strings.Contains(msg, "no screen") || !strings.Contains(msg, "deskside-agent requests") || strings.Contains(msg, "\n") {
		t.Errorf("message: %q", msg)
	}
}
