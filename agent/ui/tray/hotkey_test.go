package tray

import (
	"runtime"
	"sync"
	"testing"
	"time"
)

// steppedClock returns its times in order, one per call, then the last one
// again: each Get help the controller considers reads the clock once, so a
// test says exactly when each press happened, whatever the scheduler does.
type steppedClock struct {
	mu    sync.Mutex
	times []time.Time
}

func (c *steppedClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := c.times[0]
	if len(c.times) > 1 {
		c.times = c.times[1:]
	}
	return t
}

func at(offsets ...time.Duration) *steppedClock {
	t0 := time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)
	c := &steppedClock{}
	for _, d := range offsets {
		c.times = append(c.times, t0.Add(d))
	}
	return c
}

// startHotkey runs the controller with a fake shortcut: send on the
// returned channel to press it.
func startHotkey(t *testing.T, clock *steppedClock) (*harness, chan struct{}) {
	t.Helper()
	keys := make(chan struct{}) // unbuffered: a send returns once the controller took the press
	h := startWith(t, Branding{}, func(c *Controller) {
		c.Hotkey, c.Shortcut, c.now = keys, "Ctrl+Alt+H", clock.now
	})
	return h, keys
}

// openedUntilAbout clicks "About" after what the test did and returns every
// window opened before it: the controller handles its inputs one by one, so
// "about" comes after whatever the earlier presses opened.
func (h *harness) openedUntilAbout(t *testing.T) []string {
	t.Helper()
	h.click(ActAbout)
	var got []string
	for {
		s := h.opened(t)
		if s == "about" {
			return got
		}
		got = append(got, s)
	}
}

func TestShortcutOpensGetHelpOncePerPress(t *testing.T) {
	h, keys := startHotkey(t, at(0, 2*time.Second, 4*time.Second))
	for range 3 {
		keys <- struct{}{}
	}
	got := h.openedUntilAbout(t)
	if len(got) != 3 || got[0] != "get-help" || got[1] != "get-help" || got[2] != "get-help" {
		t.Errorf("three presses two seconds apart opened %q, want get-help three times", got)
	}
}

func TestShortcutIgnoredRightAfterGetHelpOpened(t *testing.T) {
	// Pressed at 0 s (opens), 0.4 s and 0.9 s (the window was just started:
	// ignored), then 1.5 s (opens again).
	h, keys := startHotkey(t, at(0, 400*time.Millisecond, 900*time.Millisecond, 1500*time.Millisecond))
	for range 4 {
		keys <- struct{}{}
	}
	if got := h.openedUntilAbout(t); len(got) != 2 {
		t.Errorf("presses at 0, 0.4, 0.9 and 1.5 s opened %q, want get-help twice", got)
	}
}

func TestShortcutIgnoredRightAfterMenuClick(t *testing.T) {
	h, keys := startHotkey(t, at(0, 300*time.Millisecond, 1200*time.Millisecond))
	h.click(ActGetHelp) // 0 s, from the menu
	if got := h.opened(t); got != "get-help" {
		t.Fatalf("click opened %q", got)
	}
	keys <- struct{}{} // 0.3 s: ignored
	keys <- struct{}{} // 1.2 s: opens
	if got := h.openedUntilAbout(t); len(got) != 1 || got[0] != "get-help" {
		t.Errorf("presses after a menu click opened %q, want get-help once", got)
	}
}

func TestShortcutEndedKeepsMenuWorking(t *testing.T) {
	h, keys := startHotkey(t, at(0))
	close(keys) // the X server went away
	h.click(ActGetHelp)
	if got := h.opened(t); got != "get-help" {
		t.Errorf("click after the shortcut ended opened %q", got)
	}
}

func TestMenuShowsShortcut(t *testing.T) {
	h, _ := startHotkey(t, at(0))
	it := h.menu.Item(ActGetHelp).(*fakeItem)
	h.waitFor(t, func() bool { return it.Title() != "Get help…" })
	if want := GetHelpTitle("Ctrl+Alt+H", runtime.GOOS); it.Title() != want {
		t.Errorf("title %q, want %q", it.Title(), want)
	}
	it.mu.Lock()
	tip := it.tip
	it.mu.Unlock()
	if tip != "Tell IT what's going on, in a sentence — or press Ctrl+Alt+H anywhere" {
		t.Errorf("tooltip %q", tip)
	}
}

func TestGetHelpTitle(t *testing.T) {
	for _, tc := range []struct{ shortcut, goos, want string }{
		{"", "windows", "Get help…"},
		{"", "linux", "Get help…"},
		{"Ctrl+Alt+H", "windows", "Get help…\tCtrl+Alt+H"},
		{"Ctrl+Alt+H", "linux", "Get help… (Ctrl+Alt+H)"},
	} {
		if got := GetHelpTitle(tc.shortcut, tc.goos); got != tc.want {
			t.Errorf("GetHelpTitle(%q, %s) = %q, want %q", tc.shortcut, tc.goos, got, tc.want)
		}
	}
}

func TestNoShortcutKeepsPlainTitle(t *testing.T) {
	h := start(t, Branding{})
	if got := h.menu.Item(ActGetHelp).(*fakeItem).Title(); got != "Get help…" {
		t.Errorf("title without a shortcut = %q", got)
	}
}
