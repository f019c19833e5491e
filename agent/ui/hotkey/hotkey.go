// Package hotkey grabs one system-wide keyboard shortcut for the agent
// process (Ctrl+Alt+H opens "Get help" by default), in pure Go so the agent
// still builds without cgo: RegisterHotKey on Windows, XGrabKey through
// github.com/jezek/xgb on X11. Wayland gives applications no global grab
// and macOS needs cgo for one; there Register returns an *UnavailableError
// that says what the user can do instead.
package hotkey

import (
	"errors"
	"fmt"
	"strings"
	"sync"
)

// Mod is a set of modifier keys.
type Mod uint8

// The modifiers a shortcut can hold.
const (
	Ctrl Mod = 1 << iota
	Alt
	Shift
	Super // the Windows key; Mod4 on X11
)

// Hotkey is a key with its modifiers. The zero Hotkey is "off".
type Hotkey struct {
	Mods Mod
	// Key is the key's canonical name: "a"…"z", "0"…"9", "f1"…"f24", "space".
	Key string
}

// Default is the shortcut when none is configured.
var Default = Hotkey{Mods: Ctrl | Alt, Key: "h"}

// Off reports whether h is no shortcut at all.
func (h Hotkey) Off() bool { return h.Key == "" }

// String is how people write h: "Ctrl+Alt+H", or "off".
func (h Hotkey) String() string {
	if h.Off() {
		return "off"
	}
	var parts []string
	for _, m := range modNames {
		if h.Mods&m.mod != 0 {
			parts = append(parts, m.label)
		}
	}
	k := strings.ToUpper(h.Key)
	if h.Key == "space" {
		k = "Space"
	}
	return strings.Join(append(parts, k), "+")
}

// Set implements flag.Value, so a flag and its environment variable are
// checked when the agent starts.
func (h *Hotkey) Set(s string) error {
	p, err := Parse(s)
	if err != nil {
		return err
	}
	*h = p
	return nil
}

var modNames = []struct {
	mod   Mod
	label string
	names []string
}{
	{Ctrl, "Ctrl", []string{"ctrl", "control", "ctl"}},
	{Alt, "Alt", []string{"alt", "option", "opt"}},
	{Shift, "Shift", []string{"shift"}},
	{Super, "Super", []string{"super", "win", "windows", "meta", "cmd", "command"}},
}

// Parse reads a shortcut such as "ctrl+alt+h", "Ctrl+Shift+F1" or
// "alt-space"; "off" (or "none", or nothing) is the zero Hotkey. A letter,
// digit or space needs Ctrl, Alt or Super with it, or typing that key
// anywhere on the desk would open the window.
func Parse(s string) (Hotkey, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	switch s {
	case "", "off", "none", "disabled", "false", "no":
		return Hotkey{}, nil
	}
	parts := strings.FieldsFunc(s, func(r rune) bool { return r == '+' || r == '-' || r == ' ' })
	if len(parts) == 0 {
		return Hotkey{}, fmt.Errorf("shortcut %q: write it like ctrl+alt+h, or off", s)
	}
	var h Hotkey
	for i, p := range parts {
		if m, ok := modByName(p); ok {
			if h.Mods&m != 0 {
				return Hotkey{}, fmt.Errorf("shortcut %q: %s twice", s, p)
			}
			h.Mods |= m
			continue
		}
		if i != len(parts)-1 {
			return Hotkey{}, fmt.Errorf("shortcut %q: %q is not a modifier (ctrl, alt, shift, super) and only the last part is the key", s, p)
		}
		if !validKey(p) {
			return Hotkey{}, fmt.Errorf("shortcut %q: unknown key %q (use a letter, a digit, f1…f24 or space)", s, p)
		}
		h.Key = p
	}
	if h.Key == "" {
		return Hotkey{}, fmt.Errorf("shortcut %q has no key, only modifiers: add one, as in ctrl+alt+h", s)
	}
	if !isFunctionKey(h.Key) && h.Mods&(Ctrl|Alt|Super) == 0 {
		return Hotkey{}, fmt.Errorf("shortcut %q needs ctrl, alt or super, or it would fire whenever someone types %s", s, h.Key)
	}
	return h, nil
}

func modByName(p string) (Mod, bool) {
	for _, m := range modNames {
		for _, n := range m.names {
			if p == n {
				return m.mod, true
			}
		}
	}
	return 0, false
}

func validKey(k string) bool {
	if len(k) == 1 {
		c := k[0]
		return c >= 'a' && c <= 'z' || c >= '0' && c <= '9'
	}
	return k == "space" || isFunctionKey(k)
}

// isFunctionKey reports whether k is "f1"…"f24".
func isFunctionKey(k string) bool {
	_, ok := functionKeyNumber(k)
	return ok
}

func functionKeyNumber(k string) (int, bool) {
	if len(k) < 2 || len(k) > 3 || k[0] != 'f' {
		return 0, false
	}
	n := 0
	for _, c := range k[1:] {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	if k[1] == '0' || n < 1 || n > 24 {
		return 0, false
	}
	return n, true
}

// ErrTaken means another program already holds the shortcut.
var ErrTaken = errors.New("the shortcut is already taken by another program")

// UnavailableError means this desktop lets no application grab a global
// shortcut; Advice says what the user can do instead.
type UnavailableError struct {
	Reason string
	Advice string
}

func (e *UnavailableError) Error() string { return "no global shortcut here: " + e.Reason }

// Command is what a desktop's own custom-shortcut setting should run to open
// "Get help" where Register cannot grab a key.
const Command = "deskside-ui get-help"

// Grab is a held shortcut. Close releases it; it is safe to call twice.
type Grab struct {
	// Note, when set, tells a limit of this grab worth logging (Xwayland).
	Note string

	presses chan struct{}
	once    sync.Once
	stop    func()
}

// Presses receives a value for each press; it is closed when the grab ends
// (Close, or the display went away). A press while the last one is still
// unread is dropped.
func (g *Grab) Presses() <-chan struct{} { return g.presses }

// Close releases the shortcut.
func (g *Grab) Close() error {
	g.once.Do(func() {
		if g.stop != nil {
			g.stop()
		}
	})
	return nil
}

// Register grabs h system-wide. Errors: ErrTaken (wrapped) when another
// program holds it, *UnavailableError where the platform allows no grab.
func Register(h Hotkey) (*Grab, error) {
	if h.Off() {
		return nil, errors.New("no shortcut to register: it is off")
	}
	return register(h)
}
