//go:build linux || freebsd || openbsd || netbsd

package hotkey

import (
	"errors"
	"fmt"
	"io"
	"log"
	"os"

	"github.com/jezek/xgb"
	"github.com/jezek/xgb/xproto"
)

// X11 keysyms of the keys we grab and of the modifiers we look up.
const (
	xkSpace   = 0x0020
	xkF1      = 0xffbe // F2… follow in order up to F35
	xkNumLock = 0xff7f
	xkAltL    = 0xffe9
	xkAltR    = 0xffea
	xkSuperL  = 0xffeb
	xkSuperR  = 0xffec
)

// xgb writes its own complaints to stderr (no ~/.Xauthority, the server
// went away); what matters reaches the agent's log as errors instead.
func init() { xgb.Logger = log.New(io.Discard, "", 0) }

func register(h Hotkey) (*Grab, error) {
	return registerX11(h, os.Getenv("DISPLAY"), os.Getenv("WAYLAND_DISPLAY"))
}

// registerX11 grabs h on the root window of display. A Wayland session
// without Xwayland has no X server to ask, and Wayland itself lets no app
// grab a key, so the user is pointed at the desktop's own setting.
func registerX11(h Hotkey, display, wayland string) (*Grab, error) {
	if display == "" {
		if wayland != "" {
			return nil, &UnavailableError{
				Reason: "Wayland lets no application grab a global shortcut",
				Advice: "add a custom shortcut in the desktop's keyboard settings that runs: " + Command,
			}
		}
		return nil, &UnavailableError{Reason: "no X display (DISPLAY is not set)",
			Advice: "add a custom shortcut in the desktop's keyboard settings that runs: " + Command}
	}
	conn, err := xgb.NewConnDisplay(display)
	if err != nil {
		return nil, fmt.Errorf("connect to X display %s: %w", display, err)
	}
	g, err := grabOn(conn, h)
	if err != nil {
		conn.Close()
		return nil, err
	}
	if wayland != "" {
		g.Note = "in a Wayland session the shortcut reaches Deskside only while an X11 app has the focus; " +
			"for every app, add a custom shortcut in the desktop's keyboard settings that runs: " + Command
	}
	return g, nil
}

func grabOn(conn *xgb.Conn, h Hotkey) (*Grab, error) {
	setup := xproto.Setup(conn)
	root := setup.DefaultScreen(conn).Root
	km, err := keyboardMap(conn, setup)
	if err != nil {
		return nil, err
	}
	code, ok := km.keycode(keysym(h.Key))
	if !ok {
		return nil, fmt.Errorf("the keyboard has no %s key", h.Key)
	}
	mods, err := km.modifiers(conn, h.Mods)
	if err != nil {
		return nil, err
	}
	numLock := km.numLockMask
	// The grab matches the exact modifier state, so it must also be taken
	// with CapsLock and NumLock on, or the shortcut dies when either is lit.
	variants := []uint16{0, xproto.ModMaskLock}
	if numLock != 0 {
		variants = append(variants, numLock, xproto.ModMaskLock|numLock)
	}
	var grabbed []uint16
	for _, v := range variants {
		err := xproto.GrabKeyChecked(conn, true, root, mods|v, code,
			xproto.GrabModeAsync, xproto.GrabModeAsync).Check()
		if err != nil {
			for _, u := range grabbed {
				xproto.UngrabKey(conn, code, root, mods|u)
			}
			if _, ok := err.(xproto.AccessError); ok {
				return nil, fmt.Errorf("%s: %w", h, ErrTaken)
			}
			return nil, fmt.Errorf("grab %s: %w", h, err)
		}
		grabbed = append(grabbed, v)
	}
	ignore := uint16(xproto.ModMaskLock) | numLock
	g := newGrab()
	g.stop = conn.Close
	go func() {
		defer close(g.presses)
		for {
			ev, xerr := conn.WaitForEvent()
			if ev == nil && xerr == nil {
				return // closed, or the X server went away
			}
			if kp, ok := ev.(xproto.KeyPressEvent); ok && kp.Detail == code && kp.State&^ignore == mods {
				g.press()
			}
		}
	}()
	return g, nil
}

// keysym is the X11 keysym of one of Parse's key names.
func keysym(key string) xproto.Keysym {
	if n, ok := functionKeyNumber(key); ok {
		return xproto.Keysym(xkF1 + n - 1)
	}
	if key == "space" {
		return xkSpace
	}
	return xproto.Keysym(key[0]) // a…z and 0…9 are their ASCII codes
}

type keyMap struct {
	min, max    xproto.Keycode
	perCode     int
	syms        []xproto.Keysym
	numLockMask uint16
}

func keyboardMap(conn *xgb.Conn, setup *xproto.SetupInfo) (*keyMap, error) {
	km := &keyMap{min: setup.MinKeycode, max: setup.MaxKeycode}
	r, err := xproto.GetKeyboardMapping(conn, km.min, byte(km.max-km.min+1)).Reply()
	if err != nil {
		return nil, fmt.Errorf("read the keyboard map: %w", err)
	}
	km.perCode, km.syms = int(r.KeysymsPerKeycode), r.Keysyms
	return km, nil
}

// keycode finds the key that carries sym, preferring its unshifted place.
func (km *keyMap) keycode(sym xproto.Keysym) (xproto.Keycode, bool) {
	if km.perCode == 0 {
		return 0, false
	}
	for col := 0; col < km.perCode; col++ {
		for i := 0; i*km.perCode+col < len(km.syms); i++ {
			if km.syms[i*km.perCode+col] == sym {
				return km.min + xproto.Keycode(i), true
			}
		}
	}
	return 0, false
}

// modifiers turns m into X11 modifier bits, looking up which ModN holds
// Alt, Super and NumLock on this keyboard (usually Mod1, Mod4 and Mod2).
func (km *keyMap) modifiers(conn *xgb.Conn, m Mod) (uint16, error) {
	r, err := xproto.GetModifierMapping(conn).Reply()
	if err != nil {
		return 0, fmt.Errorf("read the modifier map: %w", err)
	}
	alt, super := uint16(xproto.ModMask1), uint16(xproto.ModMask4)
	altFound, superFound := false, false
	km.numLockMask = xproto.ModMask2
	per := int(r.KeycodesPerModifier)
	for mod := 3; mod < 8 && per > 0; mod++ { // Mod1…Mod5
		for _, code := range r.Keycodes[mod*per : (mod+1)*per] {
			for _, sym := range km.symsOf(code) {
				bit := uint16(1) << mod
				switch sym {
				case xkNumLock:
					km.numLockMask = bit
				case xkAltL, xkAltR:
					if !altFound {
						alt, altFound = bit, true
					}
				case xkSuperL, xkSuperR:
					if !superFound {
						super, superFound = bit, true
					}
				}
			}
		}
	}
	var bits uint16
	if m&Ctrl != 0 {
		bits |= xproto.ModMaskControl
	}
	if m&Shift != 0 {
		bits |= xproto.ModMaskShift
	}
	if m&Alt != 0 {
		bits |= alt
	}
	if m&Super != 0 {
		bits |= super
	}
	if bits&km.numLockMask != 0 {
		return 0, errors.New("this keyboard puts NumLock on the same modifier as the shortcut")
	}
	return bits, nil
}

func (km *keyMap) symsOf(code xproto.Keycode) []xproto.Keysym {
	if code < km.min || code > km.max || km.perCode == 0 {
		return nil
	}
	i := int(code-km.min) * km.perCode
	if i+km.perCode > len(km.syms) {
		return nil
	}
	return km.syms[i : i+km.perCode]
}
