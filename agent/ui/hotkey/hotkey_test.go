package hotkey

import (
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Hotkey
		str  string
	}{
		{"ctrl+alt+h", Hotkey{Ctrl | Alt, "h"}, "Ctrl+Alt+H"},
		{"Ctrl+Alt+H", Hotkey{Ctrl | Alt, "h"}, "Ctrl+Alt+H"},
		{" alt + ctrl + h ", Hotkey{Ctrl | Alt, "h"}, "Ctrl+Alt+H"},
		{"control-alt-h", Hotkey{Ctrl | Alt, "h"}, "Ctrl+Alt+H"},
		{"ctrl+shift+f1", Hotkey{Ctrl | Shift, "f1"}, "Ctrl+Shift+F1"},
		{"F12", Hotkey{0, "f12"}, "F12"},
		{"shift+f24", Hotkey{Shift, "f24"}, "Shift+F24"},
		{"win+alt+9", Hotkey{Alt | Super, "9"}, "Alt+Super+9"},
		{"super+space", Hotkey{Super, "space"}, "Super+Space"},
		{"off", Hotkey{}, "off"},
		{"OFF", Hotkey{}, "off"},
		{"", Hotkey{}, "off"},
		{"none", Hotkey{}, "off"},
	} {
		got, err := Parse(tc.in)
		if err != nil {
			t.Errorf("Parse(%q): %v", tc.in, err)
			continue
		}
		if got != tc.want {
			t.Errorf("Parse(%q) = %+v, want %+v", tc.in, got, tc.want)
		}
		if s := got.String(); s != tc.str {
			t.Errorf("Parse(%q).String() = %q, want %q", tc.in, s, tc.str)
		}
		if again, err := Parse(got.String()); err != nil || again != got {
			t.Errorf("Parse(%q) does not round-trip: %+v, %v", got.String(), again, err)
		}
	}
}

func TestParseRejects(t *testing.T) {
	for in, want := range map[string]string{
		"h":              "needs ctrl, alt or super",
		"shift+h":        "needs ctrl, alt or super",
		"ctrl+alt":       "no key",
		"ctrl+alt+hh":    `unknown key "hh"`,
		"ctrl+alt+f0":    `unknown key "f0"`,
		"ctrl+alt+f25":   `unknown key "f25"`,
		"ctrl+alt+f01":   `unknown key "f01"`,
		"ctrl+alt+é":     "unknown key",
		"ctrl+h+alt":     `"h" is not a modifier`,
		"ctrl+ctrl+h":    "ctrl twice",
		"ctrl+control+h": "control twice",
		"hyper+h":        `"hyper" is not a modifier`,
		"+":              "write it like ctrl+alt+h",
	} {
		_, err := Parse(in)
		if err == nil {
			t.Errorf("Parse(%q) accepted it", in)
			continue
		}
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Parse(%q) = %v, want it to say %q", in, err, want)
		}
	}
}

func TestFlagValue(t *testing.T) {
	h := Default
	if err := h.Set("ctrl+shift+f1"); err != nil || h != (Hotkey{Ctrl | Shift, "f1"}) {
		t.Fatalf("Set = %v, %+v", err, h)
	}
	if err := h.Set("ctrl+"); err == nil {
		t.Fatal("Set accepted a shortcut with no key")
	}
	if h != (Hotkey{Ctrl | Shift, "f1"}) {
		t.Errorf("a failed Set changed the value to %+v", h)
	}
}

func TestRegisterOff(t *testing.T) {
	if _, err := Register(Hotkey{}); err == nil {
		t.Fatal("Register(off) succeeded")
	}
}
