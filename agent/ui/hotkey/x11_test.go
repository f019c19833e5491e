//go:build linux || freebsd || openbsd || netbsd

package hotkey

import (
	"bufio"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/jezek/xgb"
	"github.com/jezek/xgb/xproto"
	"github.com/jezek/xgb/xtest"
)

func TestWaylandPointsToDesktopSetting(t *testing.T) {
	_, err := registerX11(Default, "", "wayland-0")
	var ue *UnavailableError
	if !errors.As(err, &ue) {
		t.Fatalf("register on Wayland = %v, want *UnavailableError", err)
	}
	if !strings.Contains(ue.Reason, "Wayland") || !strings.Contains(ue.Advice, "deskside-ui get-help") {
		t.Errorf("reason %q, advice %q", ue.Reason, ue.Advice)
	}
}

// startXvfb starts a private X server on a free display (Xvfb picks it and
// writes it to -displayfd) and returns its name, ":N".
func startXvfb(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("Xvfb"); err != nil {
		if os.Getenv("CI") == "" {
			t.Skip("Xvfb is not installed (apt install xvfb); CI runs this test")
		}
		t.Fatal("Xvfb is not installed but CI is set: the X11 shortcut test must run in CI")
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("Xvfb", "-displayfd", "3", "-nolisten", "tcp", "-screen", "0", "640x480x24")
	cmd.ExtraFiles = []*os.File{w}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start Xvfb: %v", err)
	}
	w.Close()
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait(); r.Close() })
	got := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(r).ReadString('\n')
		got <- strings.TrimSpace(line)
	}()
	select {
	case n := <-got:
		if n == "" {
			t.Fatal("Xvfb did not say which display it took")
		}
		return ":" + n
	case <-time.After(10 * time.Second):
		t.Fatal("Xvfb did not start in 10 s")
		return ""
	}
}

// keyboard types on the X server through the XTEST extension, as a user would.
type keyboard struct {
	t    *testing.T
	conn *xgb.Conn
	root xproto.Window
	km   *keyMap
}

func newKeyboard(t *testing.T, display string) *keyboard {
	t.Helper()
	conn, err := xgb.NewConnDisplay(display)
	if err != nil {
		t.Fatalf("connect to %s: %v", display, err)
	}
	t.Cleanup(conn.Close)
	if err := xtest.Init(conn); err != nil {
		t.Fatalf("XTEST: %v", err)
	}
	setup := xproto.Setup(conn)
	km, err := keyboardMap(conn, setup)
	if err != nil {
		t.Fatal(err)
	}
	return &keyboard{t: t, conn: conn, root: setup.DefaultScreen(conn).Root, km: km}
}

// chord presses the keys in order and releases them in reverse.
func (k *keyboard) chord(syms ...xproto.Keysym) {
	k.t.Helper()
	var codes []xproto.Keycode
	for _, s := range syms {
		c, ok := k.km.keycode(s)
		if !ok {
			k.t.Fatalf("no key for keysym %#x", s)
		}
		codes = append(codes, c)
	}
	for _, c := range codes {
		k.fake(xproto.KeyPress, c)
	}
	for i := len(codes) - 1; i >= 0; i-- {
		k.fake(xproto.KeyRelease, codes[i])
	}
	// A round trip makes sure the server has handled the fake input.
	if _, err := xproto.GetInputFocus(k.conn).Reply(); err != nil {
		k.t.Fatal(err)
	}
}

func (k *keyboard) fake(typ byte, code xproto.Keycode) {
	k.t.Helper()
	if err := xtest.FakeInputChecked(k.conn, typ, byte(code), 0, k.root, 0, 0, 0).Check(); err != nil {
		k.t.Fatalf("XTEST fake input: %v", err)
	}
}

const (
	xkControlL = 0xffe3
	xkShiftL   = 0xffe1
	xkCapsLock = 0xffe5
)

func pressed(t *testing.T, g *Grab, want bool) {
	t.Helper()
	select {
	case _, ok := <-g.Presses():
		if !ok {
			t.Fatal("the grab ended")
		}
		if !want {
			t.Fatal("a press fired that should not have")
		}
	case <-time.After(map[bool]time.Duration{true: 5 * time.Second, false: 300 * time.Millisecond}[want]):
		if want {
			t.Fatal("the shortcut did not fire in 5 s")
		}
	}
}

func TestX11GrabUnderXvfb(t *testing.T) {
	display := startXvfb(t)
	g, err := registerX11(Default, display, "")
	if err != nil {
		t.Fatalf("register %s on %s: %v", Default, display, err)
	}
	kb := newKeyboard(t, display)

	kb.chord(xkControlL, xkAltL, 'h')
	pressed(t, g, true)

	kb.chord(xkControlL, 'h') // not the shortcut
	pressed(t, g, false)
	kb.chord(xkControlL, xkShiftL, xkAltL, 'h') // one modifier too many
	pressed(t, g, false)

	kb.chord(xkCapsLock) // CapsLock on: the shortcut still works
	kb.chord(xkControlL, xkAltL, 'h')
	pressed(t, g, true)
	kb.chord(xkCapsLock)

	kb.chord(xkNumLock) // NumLock on, too
	kb.chord(xkControlL, xkAltL, 'h')
	pressed(t, g, true)
	kb.chord(xkNumLock)

	// Another program holding it: ErrTaken, and the first grab lives on.
	if g2, err := registerX11(Default, display, ""); !errors.Is(err, ErrTaken) {
		if g2 != nil {
			g2.Close()
		}
		t.Fatalf("second register = %v, want ErrTaken", err)
	}
	kb.chord(xkControlL, xkAltL, 'h')
	pressed(t, g, true)

	// Close releases it for others, and is safe twice.
	g.Close()
	g.Close()
	if _, ok := <-g.Presses(); ok {
		t.Fatal("Presses still open after Close")
	}
	g3, err := registerX11(Hotkey{Ctrl | Shift, "f1"}, display, "")
	if err != nil {
		t.Fatalf("register Ctrl+Shift+F1: %v", err)
	}
	defer g3.Close()
	kb.chord(xkControlL, xkShiftL, xkF1)
	pressed(t, g3, true)
}
