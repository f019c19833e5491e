//go:build windows

package hotkey

import (
	"errors"
	"fmt"
	"runtime"
	"unsafe"

	"golang.org/x/sys/windows"
)

var (
	user32               = windows.NewLazySystemDLL("user32.dll")
	procRegisterHotKey   = user32.NewProc("RegisterHotKey")
	procUnregisterHotKey = user32.NewProc("UnregisterHotKey")
	procGetMessageW      = user32.NewProc("GetMessageW")
	procPeekMessageW     = user32.NewProc("PeekMessageW")
	procPostThreadMsgW   = user32.NewProc("PostThreadMessageW")
)

const (
	modAlt      = 0x0001
	modControl  = 0x0002
	modShift    = 0x0004
	modWin      = 0x0008
	modNoRepeat = 0x4000 // holding the keys down sends one press

	wmQuit     = 0x0012
	wmHotkey   = 0x0312
	wmUser     = 0x0400
	pmNoRemove = 0x0000

	errHotkeyAlreadyRegistered = windows.Errno(1409)

	hotkeyID = 1
)

// msg is the Win32 MSG structure.
type msg struct {
	hwnd    uintptr
	message uint32
	wParam  uintptr
	lParam  uintptr
	time    uint32
	pt      struct{ x, y int32 }
	private uint32
}

// register holds h with RegisterHotKey on a thread of its own: WM_HOTKEY
// goes to the message queue of the thread that registered, so that thread
// stays locked and waits in GetMessage until Close posts WM_QUIT to it.
func register(h Hotkey) (*Grab, error) {
	vk, ok := virtualKey(h.Key)
	if !ok {
		return nil, fmt.Errorf("no Windows key code for %q", h.Key)
	}
	mods := uintptr(modNoRepeat)
	for m, bit := range map[Mod]uintptr{Ctrl: modControl, Alt: modAlt, Shift: modShift, Super: modWin} {
		if h.Mods&m != 0 {
			mods |= bit
		}
	}
	g := newGrab()
	ready := make(chan error, 1)
	go func() {
		// Never unlocked: the thread ends with this goroutine, and with it
		// its message queue.
		runtime.LockOSThread()
		var m msg
		// Make sure the thread has a message queue before anyone posts to it.
		procPeekMessageW.Call(uintptr(unsafe.Pointer(&m)), 0, wmUser, wmUser, pmNoRemove)
		tid := windows.GetCurrentThreadId()
		if r, _, e := procRegisterHotKey.Call(0, hotkeyID, mods, uintptr(vk)); r == 0 {
			if errors.Is(e, errHotkeyAlreadyRegistered) {
				ready <- fmt.Errorf("%s: %w", h, ErrTaken)
			} else {
				ready <- fmt.Errorf("register %s: %w", h, e)
			}
			close(g.presses)
			return
		}
		defer procUnregisterHotKey.Call(0, hotkeyID)
		defer close(g.presses)
		g.stop = func() { procPostThreadMsgW.Call(uintptr(tid), wmQuit, 0, 0) }
		ready <- nil
		for {
			r, _, _ := procGetMessageW.Call(uintptr(unsafe.Pointer(&m)), 0, 0, 0)
			if int32(r) <= 0 { // WM_QUIT, or an error
				return
			}
			if m.message == wmHotkey && m.wParam == hotkeyID {
				g.press()
			}
		}
	}()
	if err := <-ready; err != nil {
		return nil, err
	}
	return g, nil
}

// virtualKey is the Windows virtual-key code of one of Parse's key names.
func virtualKey(key string) (uint16, bool) {
	if n, ok := functionKeyNumber(key); ok {
		return uint16(0x70 + n - 1), true // VK_F1…VK_F24
	}
	if key == "space" {
		return 0x20, true
	}
	if len(key) == 1 {
		c := key[0]
		switch {
		case c >= 'a' && c <= 'z':
			return uint16(c - 'a' + 'A'), true
		case c >= '0' && c <= '9':
			return uint16(c), true
		}
	}
	return 0, false
}
