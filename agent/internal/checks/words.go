package checks

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/deskside/deskside/shared/protocol"
)

// Fix is one of the fixes compiled into the agent. The server can only
// choose words and links; it can never name a command to run.
type Fix string

const (
	FixNone             Fix = ""
	FixClearTemp        Fix = "clear_temp"         // clear the person's temp, cache and trash folders
	FixRestart          Fix = "restart"            // restart tonight or now, with a countdown
	FixOpenUpdates      Fix = "open_updates"       // open the OS's update settings
	FixOpenPasswordPage Fix = "open_password_page" // open IT's password-change page (https)
)

// Title is a check's heading when IT has not written one.
func Title(k protocol.CheckKind) string {
	switch k {
	case protocol.CheckDiskSpace:
		return "Disk space"
	case protocol.CheckRestartNeeded:
		return "Restart"
	case protocol.CheckOSUpdates:
		return "Updates"
	case protocol.CheckPasswordExpiry:
		return "Password"
	case protocol.CheckBatteryHealth:
		return "Battery"
	case protocol.CheckDiskEncryption:
		return "Disk encryption"
	}
	return string(k)
}

func couldntCheck(k protocol.CheckKind) string {
	switch k {
	case protocol.CheckDiskSpace:
		return "We couldn't check your disk space this time. We'll try again later."
	case protocol.CheckRestartNeeded:
		return "We couldn't check whether your computer needs a restart. We'll try again later."
	case protocol.CheckOSUpdates:
		return "We couldn't check for updates this time. We'll try again later."
	case protocol.CheckPasswordExpiry:
		return "We couldn't check when your password expires. We'll try again later."
	case protocol.CheckBatteryHealth:
		return "We couldn't check your battery this time. We'll try again later."
	case protocol.CheckDiskEncryption:
		return "We couldn't check whether your disk is encrypted. We'll try again later."
	}
	return "We couldn't check this time. We'll try again later."
}

// gb formats bytes as GB with one decimal ("3.1 GB").
func gb(b uint64) string { return fmt.Sprintf("%.1f GB", float64(b)/1e9) }

// size formats bytes for a person: MB below a GB.
func size(b uint64) string {
	if b < 1e9 {
		return fmt.Sprintf("%.0f MB", float64(b)/1e6)
	}
	return gb(b)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// daysUntil counts whole days from now to t, rounding up ("in 1 day" until
// the last 24 hours).
func daysUntil(now, t time.Time) int {
	d := t.Sub(now)
	if d <= 0 {
		return 0
	}
	return int((d + 24*time.Hour - 1) / (24 * time.Hour))
}

var placeholder = regexp.MustCompile(`\{([a-z0-9_]+)\}`)

// placeholderAliases are the names the console's policy editor offers
// (docs/heads-up.md) for evidence the probes name more precisely; each
// alias takes the first evidence key present.
var placeholderAliases = map[string][]string{
	"mount": {"path"},
	"days":  {"days_left", "uptime_days", "waiting_days"},
	"count": {"updates"},
	"date":  {"expires"},
}

// expand fills IT's words with the evidence: "{free_gb} GB left on
// {mount}". A placeholder with no value is left out rather than shown raw.
func expand(text string, ev map[string]string) string {
	return strings.TrimSpace(placeholder.ReplaceAllStringFunc(text, func(m string) string {
		name := m[1 : len(m)-1]
		if v, ok := ev[name]; ok {
			return v
		}
		for _, k := range placeholderAliases[name] {
			if v, ok := ev[k]; ok {
				return v
			}
		}
		return ""
	}))
}
