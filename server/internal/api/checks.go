package api

import (
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/deskside/deskside/server/internal/httpjson"
	"github.com/deskside/deskside/server/internal/store"
	"github.com/deskside/deskside/shared/protocol"
)

// Heads-up checks (issue 14; docs/heads-up.md): the fleet summary,
// IT's policy per enrolment group, and the devices a check affects.

// maxGroupName bounds the ?group= of the policy routes (tokens' groups are
// free text; this only keeps a typo from becoming a megabyte).
const maxGroupName = 100

// checksSummary answers GET /api/v1/checks/summary.
func (a *API) checksSummary(w http.ResponseWriter, r *http.Request, _ *actor) {
	sum, err := a.st.ChecksSummary(r.Context(), time.Now())
	if err != nil {
		httpjson.Internal(a.log, w, r, err)
		return
	}
	httpjson.Write(w, http.StatusOK, map[string]any{"checks": sum, "trend_days": store.TrendDays})
}

// policyView is a group's policy as GET shows it and PUT takes it back: a
// script may GET, edit and PUT the same document (the read-only fields are
// ignored on PUT).
type policyView struct {
	Group     string                 `json:"group"`
	Revision  int64                  `json:"revision"`
	Inherited bool                   `json:"inherited"`
	UpdatedAt time.Time              `json:"updated_at,omitzero"`
	UpdatedBy string                 `json:"updated_by,omitempty"`
	Checks    []protocol.CheckPolicy `json:"checks"`
}

func viewOf(p store.ChecksPolicy) policyView {
	checks := p.Policy.Checks
	if checks == nil {
		checks = []protocol.CheckPolicy{}
	}
	return policyView{Group: p.Group, Revision: p.Revision, Inherited: p.Inherited, UpdatedAt: p.UpdatedAt, UpdatedBy: p.UpdatedBy, Checks: checks}
}

func policyGroup(w http.ResponseWriter, r *http.Request) (string, bool) {
	g := strings.TrimSpace(r.URL.Query().Get("group"))
	if utf8.RuneCountInString(g) > maxGroupName || !utf8.ValidString(g) {
		httpjson.Error(w, http.StatusBadRequest, "bad_group", "The group name is longer than "+strconv.Itoa(maxGroupName)+" characters.")
		return "", false
	}
	return g, true
}

// getChecksPolicy answers GET /api/v1/checks/policy?group=NAME: the policy
// the group's devices follow (its own, else the default group's, else the
// built-in one; inherited says which).
func (a *API) getChecksPolicy(w http.ResponseWriter, r *http.Request, _ *actor) {
	g, ok := policyGroup(w, r)
	if !ok {
		return
	}
	p, err := a.st.ChecksPolicy(r.Context(), g)
	if err != nil {
		httpjson.Internal(a.log, w, r, err)
		return
	}
	httpjson.Write(w, http.StatusOK, viewOf(p))
}

// putChecksPolicy answers PUT /api/v1/checks/policy?group=NAME (admins):
// validate strictly, store under the next revision, send to the group's
// devices, audit.
func (a *API) putChecksPolicy(w http.ResponseWriter, r *http.Request, ac *actor) {
	g, ok := policyGroup(w, r)
	if !ok {
		return
	}
	var in policyView
	if !decode(w, r, &in) {
		return
	}
	p, msg := policyFromView(in)
	if msg != "" {
		httpjson.Error(w, http.StatusBadRequest, "bad_policy", msg)
		return
	}
	pol, queued, live, err := a.devices.PutChecksPolicy(r.Context(), g, p, ac.Email)
	if err != nil {
		httpjson.Internal(a.log, w, r, err)
		return
	}
	target := g
	if target == "" {
		target = "(default)"
	}
	a.audit(r.Context(), ac.Email, "checks.policy", target, "revision="+strconv.FormatInt(pol.Revision, 10)+
		" checks="+enabledKinds(p)+" queued="+strconv.Itoa(queued))
	httpjson.Write(w, http.StatusOK, struct {
		policyView
		Queued   int `json:"queued"`
		SentLive int `json:"sent_live"`
	}{viewOf(pol), queued, live})
}

// policyFromView is the policy a PUT body asks for, or the sentence that
// says why it is refused (ChecksPolicy.ValidateStrict).
func policyFromView(in policyView) (protocol.ChecksPolicy, string) {
	if in.Checks == nil {
		return protocol.ChecksPolicy{}, `The policy was not saved: it needs a "checks" list (an empty list turns every check off).`
	}
	p := protocol.ChecksPolicy{Checks: in.Checks}
	if err := p.ValidateStrict(); err != nil {
		return protocol.ChecksPolicy{}, "The policy was not saved: " + err.Error() + "."
	}
	return p, ""
}

// enabledKinds names the enabled checks, for the audit log.
func enabledKinds(p protocol.ChecksPolicy) string {
	var on []string
	for _, c := range p.Checks {
		if c.Enabled {
			on = append(on, string(c.Kind))
		}
	}
	if len(on) == 0 {
		return "none"
	}
	return strings.Join(on, ",")
}

// checkDevices answers GET /api/v1/checks/{check}/devices: the devices the
// check affects now (state warn, snoozed or asked_it), or those in the
// states ?state= lists (comma-separated; "all" for every state).
func (a *API) checkDevices(w http.ResponseWriter, r *http.Request, _ *actor) {
	check := protocol.CheckKind(r.PathValue("check"))
	probe := protocol.CheckReport{Check: check, State: protocol.CheckOK} // a newer agent's check is a valid name too
	if probe.Validate() != nil {
		httpjson.Error(w, http.StatusNotFound, "not_found", "There is no check called "+strconv.Quote(string(check))+".")
		return
	}
	states := store.AffectedStates()
	if q := r.URL.Query().Get("state"); q == "all" {
		states = nil
	} else if q != "" {
		states = nil
		for _, s := range strings.Split(q, ",") {
			st := protocol.CheckState(strings.TrimSpace(s))
			if !st.Valid() {
				httpjson.Error(w, http.StatusBadRequest, "bad_state", "state "+strconv.Quote(string(st))+" is not one of ok, warn, unknown, fixed, snoozed, asked_it, all.")
				return
			}
			states = append(states, st)
		}
	}
	limit, _ := strconv.Atoi(r.URL.Query().Get("limit"))
	list, err := a.st.CheckDevices(r.Context(), check, states, limit)
	if err != nil {
		httpjson.Internal(a.log, w, r, err)
		return
	}
	out := make([]protocol.DeviceCheck, len(list))
	for i, c := range list {
		out[i] = c.ToWire()
	}
	httpjson.Write(w, http.StatusOK, map[string]any{"check": check, "devices": out})
}

// deviceChecks is a device's current heads-up items for its page.
func (a *API) deviceChecks(r *http.Request, d store.Device) ([]protocol.DeviceCheck, error) {
	list, err := a.st.DeviceChecks(r.Context(), d.ID)
	if err != nil {
		return nil, err
	}
	out := make([]protocol.DeviceCheck, len(list))
	for i, c := range list {
		c.Hostname, c.User = d.Hostname, d.User
		out[i] = c.ToWire()
	}
	return out, nil
}
