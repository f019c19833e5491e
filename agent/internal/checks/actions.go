package checks

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/deskside/deskside/shared/protocol"
)

// Plan is what "Fix it for me" will do, shown before it does it.
type Plan struct {
	Kind protocol.CheckKind `json:"kind"`
	Fix  Fix                `json:"fix"`
	// Description is the sentence the person reads before agreeing.
	Description string `json:"description"`
	// Bytes is what clearing the folders frees (clear_temp).
	Bytes   uint64   `json:"bytes,omitempty"`
	Folders []string `json:"folders,omitempty"`
	// Host is where the password page opens (open_password_page).
	Host string `json:"host,omitempty"`
	// RestartAt is a restart already planned (restart).
	RestartAt time.Time `json:"restart_at,omitzero"`
}

// Restart options.
const (
	RestartTonight = "tonight"
	RestartNow     = "now"
	RestartCancel  = "cancel"
	// RestartNowDelay is the countdown of "restart now": time to save.
	RestartNowDelay = 2 * time.Minute
)

// Outcome is what a fix did.
type Outcome struct {
	Message   string    `json:"message"`
	Freed     uint64    `json:"freed,omitempty"`
	RestartAt time.Time `json:"restart_at,omitzero"`
	Result    Result    `json:"result"`
}

// ErrNoFix says the check has no fix the agent can run.
var ErrNoFix = errors.New("there's no automatic fix for this one; IT can help")

// PlanFix says what the check's fix would do (measuring the folders for
// clear_temp) without doing it.
func (r *Runner) PlanFix(ctx context.Context, k protocol.CheckKind) (Plan, error) {
	res, ok := r.Result(k)
	if !ok || res.Fix == FixNone {
		return Plan{}, ErrNoFix
	}
	p := Plan{Kind: k, Fix: res.Fix}
	switch res.Fix {
	case FixClearTemp:
		c := MeasureCleanup(ctx, r.cfg.CleanFolders)
		p.Description, p.Bytes, p.Folders = c.Describe(), c.Bytes, c.Folders
	case FixRestart:
		p.RestartAt = r.cfg.Restarter.Planned()
		p.Description = "I can restart your computer tonight, or now after a two-minute countdown. Save your work first; you can cancel until then."
		if !p.RestartAt.IsZero() {
			p.Description = fmt.Sprintf("A restart is planned for %s. You can cancel it.", p.RestartAt.Format("15:04"))
		}
	case FixOpenUpdates:
		p.Description = "I'll open your computer's update settings so you can install the updates."
	case FixOpenPasswordPage:
		host, err := PasswordPage(res.FixURL)
		if err != nil {
			return Plan{}, fmt.Errorf("password page: %w", err)
		}
		p.Host = host
		p.Description = fmt.Sprintf("I'll open IT's password page at %s in your browser.", host)
	}
	return p, nil
}

// ApplyFix runs the check's fix. option picks when to restart (tonight,
// now, cancel); the other fixes take none. Only the fixes compiled here
// exist: nothing the server sends can name another.
func (r *Runner) ApplyFix(ctx context.Context, k protocol.CheckKind, option string) (Outcome, error) {
	res, ok := r.Result(k)
	if !ok || res.Fix == FixNone {
		return Outcome{}, ErrNoFix
	}
	switch res.Fix {
	case FixClearTemp:
		freed, err := Clean(ctx, r.cfg.CleanFolders)
		if err != nil {
			return Outcome{}, err
		}
		after := r.recheck(ctx, k)
		msg := fmt.Sprintf("Done: I cleared %s.", size(freed))
		if after.State == protocol.CheckFixed {
			msg += " " + after.Summary
		} else if after.State == protocol.CheckWarn {
			msg += " Your disk is still quite full; IT can help find what takes the space."
		}
		return Outcome{Message: msg, Freed: freed, Result: after}, nil
	case FixRestart:
		rs := r.cfg.Restarter
		now := r.env.Now()
		switch option {
		case RestartCancel:
			if !rs.Cancel() {
				return Outcome{Message: "No restart was planned.", Result: res}, nil
			}
			return Outcome{Message: "The restart is cancelled.", Result: res}, nil
		case RestartNow:
			at := now.Add(RestartNowDelay)
			rs.Schedule(at)
			return Outcome{Message: "Your computer restarts in two minutes. Save your work now; you can still cancel.", RestartAt: at, Result: res}, nil
		case RestartTonight, "":
			at := Tonight(now)
			rs.Schedule(at)
			return Outcome{Message: fmt.Sprintf("Your computer will restart at %s. You can cancel until then.", at.Format("15:04")), RestartAt: at, Result: res}, nil
		}
		return Outcome{}, fmt.Errorf("restart %q: choose tonight, now or cancel", option)
	case FixOpenUpdates:
		if err := r.cfg.Opener.Open(ctx, UpdateSettings); err != nil {
			return Outcome{}, err
		}
		return Outcome{Message: "The update settings are open. Install the updates, then restart if asked.", Result: res}, nil
	case FixOpenPasswordPage:
		host, err := PasswordPage(res.FixURL)
		if err != nil {
			return Outcome{}, err
		}
		if err := r.cfg.Opener.Open(ctx, res.FixURL); err != nil {
			return Outcome{}, err
		}
		return Outcome{Message: fmt.Sprintf("IT's password page (%s) is open in your browser.", host), Result: res}, nil
	}
	return Outcome{}, ErrNoFix
}

// ShowHow opens the policy's how-to page (https only). A check with only
// an article id leaves it to the window, which shows the article.
func (r *Runner) ShowHow(ctx context.Context, k protocol.CheckKind) (string, error) {
	res, ok := r.Result(k)
	if !ok {
		return "", ErrNotWarning
	}
	if res.HowToURL == "" {
		if res.ArticleID != "" {
			return "article:" + res.ArticleID, nil
		}
		return "", errors.New("IT hasn't written a how-to for this one yet; Ask IT and they'll help")
	}
	if err := protocol.CheckHTTPSURL(res.HowToURL); err != nil {
		return "", err
	}
	if err := r.cfg.Opener.Open(ctx, res.HowToURL); err != nil {
		return "", err
	}
	return res.HowToURL, nil
}
