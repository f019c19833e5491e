package checks

// What each probe found, in words. The OS files gather the facts; these
// turn them into a Finding the same way on every OS.

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/deskside/deskside/shared/protocol"
)

// restartFinding warns when the OS says a restart is pending or the
// computer has been up longer than the policy's days.
func restartFinding(reasons []string, uptime time.Duration, p protocol.CheckPolicy) Finding {
	days := int(uptime / (24 * time.Hour))
	ev := map[string]string{"uptime_days": strconv.Itoa(days)}
	if len(reasons) > 0 {
		ev["pending"] = strings.Join(reasons, ", ")
	}
	f := Finding{State: protocol.CheckOK, Evidence: ev, Summary: "No restart needed."}
	switch {
	case len(reasons) > 0:
		f.State, f.Fix = protocol.CheckWarn, FixRestart
		f.Summary = "Your computer needs a restart to finish installing updates. It only takes a few minutes."
	case p.UptimeDays > 0 && uptime >= time.Duration(p.UptimeDays)*24*time.Hour:
		f.State, f.Fix = protocol.CheckWarn, FixRestart
		f.Summary = fmt.Sprintf("Your computer has been on for %d days. A restart keeps it quick and safe.", days)
	}
	return f
}

// updatesFinding says how many updates wait; the Runner decides when that
// is a warning (after the policy's days).
func updatesFinding(count int, needRestart bool) Finding {
	ev := map[string]string{"updates": strconv.Itoa(count)}
	if needRestart {
		ev["needs_restart"] = "yes"
	}
	f := Finding{State: protocol.CheckOK, Evidence: ev, Summary: "Your computer is up to date."}
	if count > 0 {
		f.Pending, f.Fix = true, FixOpenUpdates
		f.Summary = fmt.Sprintf("%s waiting to be installed. Installing them keeps your computer safe.",
			plural(count, "update is", "updates are"))
	}
	return f
}

// passwordFinding warns from the policy's days before the expiry, with
// the expiry as the deadline (no snooze goes past it).
func passwordFinding(now, expires time.Time, never bool, p protocol.CheckPolicy) Finding {
	if never {
		return Finding{State: protocol.CheckOK, Evidence: map[string]string{"expires": "never"},
			Summary: "Your password doesn't expire."}
	}
	days := daysUntil(now, expires)
	ev := map[string]string{"expires": expires.Format("2006-01-02"), "days_left": strconv.Itoa(days)}
	f := Finding{State: protocol.CheckOK, Evidence: ev, Deadline: expires,
		Summary: fmt.Sprintf("Your password is good until %s.", expires.Format("Monday 2 January"))}
	if p.FixURL != "" {
		f.Fix = FixOpenPasswordPage
	}
	switch {
	case !expires.After(now):
		f.State = protocol.CheckWarn
		f.Summary = "Your password has expired. Change it now to keep signing in."
	case days <= p.PasswordDays:
		f.State = protocol.CheckWarn
		when := "in " + plural(days, "day", "days")
		if days == 1 && expires.Sub(now) < 24*time.Hour {
			when = "within a day"
		}
		f.Summary = fmt.Sprintf("Your password expires %s (%s). Change it now so you're not locked out.",
			when, expires.Format("Monday 2 January"))
	}
	if f.State != protocol.CheckWarn {
		f.Fix = FixNone
	}
	return f
}

// batteryFinding compares full-charge with design capacity.
func batteryFinding(full, design int, p protocol.CheckPolicy) Finding {
	pct := 100 * full / design
	pct = min(pct, 100)
	ev := map[string]string{"health_pct": strconv.Itoa(pct), "full": strconv.Itoa(full), "design": strconv.Itoa(design)}
	f := Finding{State: protocol.CheckOK, Evidence: ev,
		Summary: fmt.Sprintf("Your battery is healthy: it holds %d%% of what it did when new.", pct)}
	if pct < p.BatteryHealthPct {
		f.State = protocol.CheckWarn
		f.Summary = fmt.Sprintf("Your battery holds only %d%% of what it did when new, so it may not last the day. IT can help with a new one.", pct)
	}
	return f
}

func noBattery() Finding {
	return Finding{State: protocol.CheckOK, Evidence: map[string]string{"battery": "none"},
		Summary: "This computer has no battery to check."}
}

// encryptionFinding warns when the system disk is not encrypted.
func encryptionFinding(on bool, how string) Finding {
	ev := map[string]string{"encrypted": "no"}
	if how != "" {
		ev["detail"] = how
	}
	if on {
		ev["encrypted"] = "yes"
		return Finding{State: protocol.CheckOK, Evidence: ev, Summary: "Your disk is encrypted: your files are safe if the computer is lost."}
	}
	return Finding{State: protocol.CheckWarn, Evidence: ev,
		Summary: "This computer's disk isn't encrypted, so someone who found it could read your files. IT can turn encryption on with you."}
}
