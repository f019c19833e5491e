package localapi

import (
	"context"
	"net/http"
	"net/url"

	"github.com/deskside/deskside/agent/agentapi"
	"github.com/deskside/deskside/shared/protocol"
)

// Heads-up checks: GET checks lists them; POST checks/{kind}/{action}
// (plan_fix, fix, snooze, ask_it, show_how) with an optional
// {"option": "tonight"} acts on one.

func (h *handler) checks(w http.ResponseWriter, r *http.Request) {
	cs, err := h.b.Checks(r.Context())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if cs == nil {
		cs = []agentapi.CheckItem{}
	}
	writeJSON(w, map[string]any{"checks": cs})
}

func (h *handler) checkAction(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Option string `json:"option"`
	}
	if r.ContentLength != 0 && !h.decode(w, r, &in) {
		return
	}
	res, err := h.b.CheckAction(r.Context(), protocol.CheckKind(r.PathValue("kind")), agentapi.CheckAction(r.PathValue("action")), in.Option)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, res)
}

// Checks lists the heads-up checks' current results.
func (c *Client) Checks(ctx context.Context) ([]agentapi.CheckItem, error) {
	var out struct {
		Checks []agentapi.CheckItem `json:"checks"`
	}
	err := c.do(ctx, http.MethodGet, "checks", nil, &out)
	return out.Checks, err
}

// CheckAction does what the person chose about a check.
func (c *Client) CheckAction(ctx context.Context, kind protocol.CheckKind, action agentapi.CheckAction, option string) (agentapi.CheckActionResult, error) {
	var out agentapi.CheckActionResult
	err := c.do(ctx, http.MethodPost, "checks/"+url.PathEscape(string(kind))+"/"+url.PathEscape(string(action)),
		map[string]string{"option": option}, &out)
	return out, err
}
