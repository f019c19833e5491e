package tray

import (
	"errors"
	"log/slog"
	"runtime"
	"time"

	"github.com/deskside/deskside/agent/ui/hotkey"
)

// hotkeyQuiet is how long after "Get help" was opened a shortcut press is
// ignored: a key held down, or pressed twice in impatience, opens one window.
const hotkeyQuiet = time.Second

// grabHotkey holds the global shortcut, or logs in plain words why there is
// none; the agent runs on either way, with "Get help…" in the menu.
func grabHotkey(h hotkey.Hotkey, log *slog.Logger) *hotkey.Grab {
	if h.Off() {
		log.Debug("keyboard shortcut: off")
		return nil
	}
	g, err := hotkey.Register(h)
	var ue *hotkey.UnavailableError
	switch {
	case err == nil:
		log.Info("keyboard shortcut ready: press it anywhere to ask IT for help", "shortcut", h.String())
		if g.Note != "" {
			log.Info("keyboard shortcut: " + g.Note)
		}
		return g
	case errors.Is(err, hotkey.ErrTaken):
		log.Warn("another program already uses "+h.String()+", so Deskside leaves it to them; "+
			"Get help is still in the menu, and --hotkey or DESKSIDE_HOTKEY picks another shortcut",
			"shortcut", h.String())
	case errors.As(err, &ue):
		log.Info("keyboard shortcut unavailable: "+ue.Reason+"; "+ue.Advice, "shortcut", h.String())
	default:
		log.Warn("keyboard shortcut not set; Get help is still in the menu", "shortcut", h.String(), "err", err)
	}
	return nil
}

// GetHelpTitle is the "Get help…" menu line, with the shortcut where the
// menu can show one: Windows menus right-align what follows a tab, as
// they do for their own accelerators.
func GetHelpTitle(shortcut, goos string) string {
	switch {
	case shortcut == "":
		return "Get help…"
	case goos == "windows":
		return "Get help…\t" + shortcut
	}
	return "Get help… (" + shortcut + ")"
}

// GetHelpTooltip is the "Get help…" item's hover text.
func GetHelpTooltip(shortcut string) string {
	const tip = "Tell IT what's going on, in a sentence"
	if shortcut == "" {
		return tip
	}
	return tip + " — or press " + shortcut + " anywhere"
}

// SetShortcut shows the global shortcut next to "Get help…"; empty removes it.
func (m *Menu) SetShortcut(s string) {
	it := m.items[ActGetHelp]
	it.SetTitle(GetHelpTitle(s, runtime.GOOS))
	it.SetTooltip(GetHelpTooltip(s))
}
