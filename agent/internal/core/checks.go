package core

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/deskside/deskside/agent/agentapi"
	"github.com/deskside/deskside/agent/internal/checks"
	"github.com/deskside/deskside/shared/protocol"
)

// Heads-up checks: the core owns a checks.Runner (when Config.Checks is
// set), keeps IT's newest policy in the store, queues each change of state
// in the outbox, and turns the person's clicks into the runner's actions.

// newChecks wires the runner to the core: reports go to the outbox, new
// warnings and changes become events, the runner's memory lives in the
// store, and a restart waits while the person is typing.
func (c *Core) newChecks(cc checks.Config) *checks.Runner {
	cc.Report = c.queueCheckReport
	cc.Notify = func(r checks.Result) {
		it := c.checkItem(r)
		c.publish(agentapi.Event{Type: agentapi.EventCheck, Check: &it, Notify: true})
	}
	cc.Changed = func() { c.publish(agentapi.Event{Type: agentapi.EventCheck}) }
	cc.State = checksState{c}
	if cc.Log == nil {
		cc.Log = c.cfg.Log
	}
	if cc.Restarter == nil {
		cc.Env.Defaults()
		cc.Restarter = &checks.Restarter{Rebooter: checks.OSRebooter{Cmd: cc.Env.Cmd, GOOS: cc.Env.GOOS}}
	}
	if cc.Restarter.Busy == nil {
		cc.Restarter.Busy = c.Busy
	}
	return checks.NewRunner(cc)
}

type checksState struct{ c *Core }

func (s checksState) Load(ctx context.Context) ([]byte, error) { return s.c.st.ChecksState(ctx) }
func (s checksState) Save(ctx context.Context, b []byte) error { return s.c.st.SetChecksState(ctx, b) }

// runChecks applies the kept policy (offline too) and runs the rounds
// until ctx ends.
func (c *Core) runChecks(ctx context.Context) {
	if p, err := c.st.ChecksPolicy(ctx); err != nil {
		c.log.Warn("read the kept checks policy: using the defaults", "err", err)
	} else if p != nil {
		c.checks.SetPolicy(*p)
	}
	if err := c.checks.Run(ctx); err != nil {
		c.log.Warn("checks stopped", "err", err)
	}
}

// applyChecksPolicy takes a newer policy from IT and runs a round with it
// (its reports spread over the jitter: the whole group got it at once).
func (c *Core) applyChecksPolicy(p protocol.ChecksPolicy) {
	if c.checks == nil {
		return
	}
	use := c.checks.SetPolicy(p)
	c.log.Info("checks policy applied", "revision", p.Revision, "checks", len(use))
	c.checks.Kick()
}

// queueCheckReport saves a check.report in the outbox (durable, resent
// until acked) and kicks the link.
func (c *Core) queueCheckReport(ctx context.Context, r protocol.CheckReport) error {
	env, err := protocol.New(protocol.KindCheckReport, r)
	if err != nil {
		return err
	}
	if err := c.st.AddCheckReport(ctx, r.Check, env); err != nil {
		return err
	}
	c.kickLink()
	return nil
}

func (c *Core) checkItem(r checks.Result) agentapi.CheckItem {
	it := agentapi.CheckItem{Kind: r.Kind, State: r.State, Title: r.Title, Summary: r.Summary, Evidence: r.Evidence,
		Deadline: r.Deadline, Fix: string(r.Fix), SnoozedUntil: r.SnoozedUntil, RequestID: r.RequestID,
		HowToURL: r.HowToURL, ArticleID: r.ArticleID, ObservedAt: r.ObservedAt}
	if r.Fix == checks.FixRestart {
		it.RestartAt = c.checks.Restarter().Planned()
	}
	return it
}

// Checks implements agentapi.Backend.
func (c *Core) Checks(context.Context) ([]agentapi.CheckItem, error) {
	if c.checks == nil {
		return []agentapi.CheckItem{}, nil
	}
	out := []agentapi.CheckItem{}
	for _, r := range c.checks.Results() {
		out = append(out, c.checkItem(r))
	}
	return out, nil
}

// CheckAction implements agentapi.Backend.
func (c *Core) CheckAction(ctx context.Context, kind protocol.CheckKind, action agentapi.CheckAction, option string) (agentapi.CheckActionResult, error) {
	if action != agentapi.CheckFix {
		// Not for a fix: the planned restart asks Busy, and the click
		// that planned it must not hold it back.
		c.touch()
	}
	if c.checks == nil {
		return agentapi.CheckActionResult{}, userErr(agentapi.CodeUnavailable, "Heads-up checks are off on this computer.", nil)
	}
	res, ok := c.checks.Result(kind)
	if !ok {
		return agentapi.CheckActionResult{}, userErr(agentapi.CodeNotFound, "That check isn't running on this computer.", nil)
	}
	var out agentapi.CheckActionResult
	switch action {
	case agentapi.CheckPlanFix:
		p, err := c.checks.PlanFix(ctx, kind)
		if err != nil {
			return out, checkErr(err)
		}
		out.Message = p.Description
		out.Plan = &agentapi.FixPlan{Fix: string(p.Fix), Description: p.Description, Bytes: p.Bytes, Folders: p.Folders, Host: p.Host, RestartAt: p.RestartAt}
	case agentapi.CheckFix:
		o, err := c.checks.ApplyFix(ctx, kind, option)
		if err != nil {
			return out, checkErr(err)
		}
		c.log.Info("heads-up fix", "check", kind, "option", option, "freed", o.Freed)
		out.Message, out.Freed = o.Message, o.Freed
	case agentapi.CheckSnooze:
		until, err := c.checks.Snooze(ctx, kind)
		if err != nil {
			return out, checkErr(err)
		}
		out.Message = "OK, I'll remind you " + whenWords(until) + "."
	case agentapi.CheckAskIT:
		if res.State == protocol.CheckAskedIT {
			return out, userErr(agentapi.CodeBadRequest, "You've already asked IT about this; they'll be in touch in My requests.", nil)
		}
		r, err := c.RaiseRequest(ctx, agentapi.NewRequest{Category: protocol.CategoryProblem, Urgency: protocol.UrgencyWhenYouCan,
			Text: AskITText(res), Check: kind})
		if err != nil {
			return out, err
		}
		if err := c.checks.AskedIT(ctx, kind, r.ID); err != nil {
			c.log.Warn("mark check asked_it", "check", kind, "err", err)
		}
		out.Message, out.RequestID = "Sent to IT, with what your computer measured. You can follow it in My requests.", r.ID
	case agentapi.CheckShowHow:
		u, err := c.checks.ShowHow(ctx, kind)
		if err != nil {
			return out, checkErr(err)
		}
		out.URL, out.Message = u, "The how-to is open."
	default:
		return out, badInput(fmt.Sprintf("%q is not something you can do with a check (plan_fix, fix, snooze, ask_it, show_how).", action))
	}
	if r, ok := c.checks.Result(kind); ok {
		out.Item = c.checkItem(r)
	}
	return out, nil
}

// AskITText is the request "Ask IT" raises: the sentence the person saw
// and what the probe measured, for the technician.
func AskITText(r checks.Result) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Heads-up (%s): %s\n\nWhat my computer measured:", r.Title, r.Summary)
	for _, k := range slices.Sorted(maps.Keys(r.Evidence)) {
		fmt.Fprintf(&b, "\n- %s: %s", k, r.Evidence[k])
	}
	if !r.Deadline.IsZero() {
		fmt.Fprintf(&b, "\n- deadline: %s", r.Deadline.Format("2006-01-02 15:04"))
	}
	return truncateRunes(b.String(), protocol.MaxTextRunes)
}

func truncateRunes(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n])
}

// checkErr turns a checks error into the person's sentence.
func checkErr(err error) error {
	switch {
	case errors.Is(err, checks.ErrPastDeadline):
		return userErr(agentapi.CodeBadRequest, "This can't wait any longer: the deadline has come. Please deal with it now, or Ask IT.", err)
	case errors.Is(err, checks.ErrNotWarning):
		return userErr(agentapi.CodeBadRequest, "There's nothing to do about this one right now.", err)
	case errors.Is(err, checks.ErrNoFix):
		return userErr(agentapi.CodeBadRequest, "There's no automatic fix for this one. Ask IT and they'll help.", err)
	}
	return userErr(agentapi.CodeInternal, "That didn't work: "+err.Error()+". You can Ask IT instead.", err)
}

// whenWords says when a reminder comes back: "at 15:00", "tomorrow at
// 10:00", or a date.
func whenWords(t time.Time) string {
	now := time.Now()
	t = t.In(now.Location())
	y1, m1, d1 := now.Date()
	y2, m2, d2 := t.Date()
	switch {
	case y1 == y2 && m1 == m2 && d1 == d2:
		return "at " + t.Format("15:04")
	case now.AddDate(0, 0, 1).Day() == d2 && t.Sub(now) < 48*time.Hour:
		return "tomorrow at " + t.Format("15:04")
	}
	return "on " + t.Format("Monday 2 January at 15:04")
}
