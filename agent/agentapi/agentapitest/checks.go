package agentapitest

import (
	"context"
	"fmt"
	"time"

	"github.com/deskside/deskside/agent/agentapi"
	"github.com/deskside/deskside/shared/protocol"
)

// SetChecks sets the heads-up items and tells subscribers (notify: as a
// new warning would).
func (f *Fake) SetChecks(items []agentapi.CheckItem, notify bool) {
	f.mu.Lock()
	f.checks = append([]agentapi.CheckItem(nil), items...)
	f.mu.Unlock()
	for i := range items {
		if notify && items[i].Attention() {
			it := items[i]
			f.Emit(agentapi.Event{Type: agentapi.EventCheck, Check: &it, Notify: true})
		}
	}
	f.Emit(agentapi.Event{Type: agentapi.EventCheck})
}

// CheckCalls returns the check actions asked so far ("kind action option").
func (f *Fake) CheckCalls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.checkCalls...)
}

// Checks implements agentapi.Backend.
func (f *Fake) Checks(context.Context) ([]agentapi.CheckItem, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]agentapi.CheckItem{}, f.checks...), nil
}

// CheckAction implements agentapi.Backend: it records the call and acts
// like the agent on the item (snooze, ask_it, fix → fixed).
func (f *Fake) CheckAction(_ context.Context, kind protocol.CheckKind, action agentapi.CheckAction, option string) (agentapi.CheckActionResult, error) {
	f.mu.Lock()
	f.checkCalls = append(f.checkCalls, fmt.Sprintf("%s %s %s", kind, action, option))
	if f.err != nil {
		err := f.err
		f.mu.Unlock()
		return agentapi.CheckActionResult{}, err
	}
	idx := -1
	for i := range f.checks {
		if f.checks[i].Kind == kind {
			idx = i
		}
	}
	if idx < 0 {
		f.mu.Unlock()
		return agentapi.CheckActionResult{}, agentapi.NewError(agentapi.CodeNotFound, "That check isn't running on this computer.", nil)
	}
	it := &f.checks[idx]
	res := agentapi.CheckActionResult{}
	switch action {
	case agentapi.CheckPlanFix:
		res.Plan = &agentapi.FixPlan{Fix: it.Fix, Description: "I can clear 2.4 GB of temporary files, caches and the trash for you (1,204 files). Nothing else is touched.", Bytes: 2_400_000_000}
		res.Message = res.Plan.Description
	case agentapi.CheckFix:
		it.State, res.Message, res.Freed = protocol.CheckFixed, "Done: I cleared 2.4 GB.", 2_400_000_000
	case agentapi.CheckSnooze:
		it.State, it.SnoozedUntil, res.Message = protocol.CheckSnoozed, time.Now().Add(24*time.Hour), "OK, I'll remind you tomorrow."
	case agentapi.CheckAskIT:
		f.seq++
		it.State, it.RequestID = protocol.CheckAskedIT, fmt.Sprintf("req-%d", f.seq)
		res.RequestID, res.Message = it.RequestID, "Sent to IT, with what your computer measured."
	case agentapi.CheckShowHow:
		res.URL, res.Message = it.HowToURL, "The how-to is open."
	}
	res.Item = *it
	f.mu.Unlock()
	f.Emit(agentapi.Event{Type: agentapi.EventCheck})
	return res, nil
}
