package api

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/deskside/deskside/server/internal/httpjson"
	"github.com/deskside/deskside/server/internal/sla"
)

// slaError is a refused policy: the usual error and message, and each
// problem by field so the console can show it beside the field.
type slaError struct {
	Error  string            `json:"error"`
	Msg    string            `json:"message"`
	Fields []*sla.FieldError `json:"fields"`
}

// getSLA answers GET /api/v1/sla: the policy in force (the default until
// an admin saves one).
func (a *API) getSLA(w http.ResponseWriter, r *http.Request, _ *actor) {
	p, _ := a.targets.Policy()
	httpjson.Write(w, http.StatusOK, p)
}

// putSLA answers PUT /api/v1/sla: replace the policy. Every problem is
// named by its field; nothing is saved unless all is well.
func (a *API) putSLA(w http.ResponseWriter, r *http.Request, ac *actor) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, sla.MaxPolicyBytes+1))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) || len(body) > sla.MaxPolicyBytes {
		httpjson.Error(w, http.StatusRequestEntityTooLarge, "too_large", "That policy is too large; keep it under 64 KB.")
		return
	}
	if err != nil {
		httpjson.Error(w, http.StatusBadRequest, "bad_body", "The policy could not be read; please send it again.")
		return
	}
	p, err := sla.Decode(body)
	var es sla.Errors
	if errors.As(err, &es) {
		msgs := make([]string, 0, len(es))
		for _, e := range es {
			msgs = append(msgs, e.Error())
		}
		httpjson.Write(w, http.StatusBadRequest, slaError{Error: "bad_policy", Fields: es,
			Msg: "The response targets need a fix before they can be saved: " + strings.Join(msgs, "; ") + "."})
		return
	}
	if err != nil {
		httpjson.Internal(a.log, w, r, err)
		return
	}
	if err := a.targets.SetPolicy(r.Context(), p); err != nil {
		httpjson.Internal(a.log, w, r, err)
		return
	}
	a.audit(r.Context(), ac.Email, "sla.policy", "", policySummary(p))
	httpjson.Write(w, http.StatusOK, p)
}

// policySummary is the audit line of a saved policy.
func policySummary(p sla.Policy) string {
	names := make([]string, len(p.Teams))
	for i, t := range p.Teams {
		names[i] = t.Name + " (" + t.TimeZone + ")"
	}
	t := p.Targets
	return fmt.Sprintf("teams %s; blocking %d/%d min; when you can %d/%d min", strings.Join(names, ", "),
		t.Blocking.FirstResponseMinutes, t.Blocking.ResolutionMinutes, t.WhenYouCan.FirstResponseMinutes, t.WhenYouCan.ResolutionMinutes)
}
