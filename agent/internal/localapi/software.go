package localapi

import (
	"context"
	"net/http"
	"net/url"

	"github.com/deskside/deskside/agent/agentapi"
	"github.com/deskside/deskside/shared/protocol"
)

// Software amnesty: GET software (what this computer reports), GET
// software/prompt (the prompt to show now, or {"prompt": null}), POST
// software/{title}/answer {"answer": "work"|"personal"|"never"}, GET
// software/notes, GET software/catalogue, POST software/request-app
// (AppRequest), POST composing {"on": true|false}.

func (h *handler) software(w http.ResponseWriter, r *http.Request) {
	inv, err := h.b.Software(r.Context())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if inv.Entries == nil {
		inv.Entries = []protocol.SoftwareEntry{}
	}
	writeJSON(w, inv)
}

func (h *handler) softwarePrompt(w http.ResponseWriter, r *http.Request) {
	p, err := h.b.SoftwarePrompt(r.Context())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, map[string]any{"prompt": p})
}

func (h *handler) answerSoftware(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Answer protocol.SoftwareAnswerKind `json:"answer"`
	}
	if !h.decode(w, r, &in) {
		return
	}
	res, err := h.b.AnswerSoftware(r.Context(), r.PathValue("title"), in.Answer)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, res)
}

func (h *handler) softwareNotes(w http.ResponseWriter, r *http.Request) {
	ns, err := h.b.SoftwareNotes(r.Context())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if ns == nil {
		ns = []agentapi.SoftwareNote{}
	}
	writeJSON(w, map[string]any{"notes": ns})
}

func (h *handler) catalogue(w http.ResponseWriter, r *http.Request) {
	items, err := h.b.Catalogue(r.Context())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if items == nil {
		items = []protocol.CatalogueItem{}
	}
	writeJSON(w, map[string]any{"items": items})
}

func (h *handler) requestApp(w http.ResponseWriter, r *http.Request) {
	var in agentapi.AppRequest
	if !h.decode(w, r, &in) {
		return
	}
	req, err := h.b.RequestApp(r.Context(), in)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, req)
}

func (h *handler) composing(w http.ResponseWriter, r *http.Request) {
	var in struct {
		On bool `json:"on"`
	}
	if !h.decode(w, r, &in) {
		return
	}
	if err := h.b.Composing(r.Context(), in.On); err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, map[string]bool{"on": in.On})
}

// Software returns the installed software this computer reports.
func (c *Client) Software(ctx context.Context) (agentapi.SoftwareInventory, error) {
	var out agentapi.SoftwareInventory
	err := c.do(ctx, http.MethodGet, "software", nil, &out)
	return out, err
}

// SoftwarePrompt returns the prompt to show now, if any.
func (c *Client) SoftwarePrompt(ctx context.Context) (*agentapi.SoftwarePrompt, error) {
	var out struct {
		Prompt *agentapi.SoftwarePrompt `json:"prompt"`
	}
	err := c.do(ctx, http.MethodGet, "software/prompt", nil, &out)
	return out.Prompt, err
}

// AnswerSoftware records the person's answer to a prompt.
func (c *Client) AnswerSoftware(ctx context.Context, titleID string, answer protocol.SoftwareAnswerKind) (agentapi.SoftwareAnswerResult, error) {
	var out agentapi.SoftwareAnswerResult
	err := c.do(ctx, http.MethodPost, "software/"+url.PathEscape(titleID)+"/answer", map[string]any{"answer": answer}, &out)
	return out, err
}

// SoftwareNotes lists IT's thank-yous and notes.
func (c *Client) SoftwareNotes(ctx context.Context) ([]agentapi.SoftwareNote, error) {
	var out struct {
		Notes []agentapi.SoftwareNote `json:"notes"`
	}
	err := c.do(ctx, http.MethodGet, "software/notes", nil, &out)
	return out.Notes, err
}

// Catalogue lists the apps IT offers.
func (c *Client) Catalogue(ctx context.Context) ([]protocol.CatalogueItem, error) {
	var out struct {
		Items []protocol.CatalogueItem `json:"items"`
	}
	err := c.do(ctx, http.MethodGet, "software/catalogue", nil, &out)
	return out.Items, err
}

// RequestApp raises a software request for an app.
func (c *Client) RequestApp(ctx context.Context, r agentapi.AppRequest) (agentapi.Request, error) {
	var out agentapi.Request
	err := c.do(ctx, http.MethodPost, "software/request-app", r, &out)
	return out, err
}

// Composing says the person is (or stopped) typing a request.
func (c *Client) Composing(ctx context.Context, on bool) error {
	return c.do(ctx, http.MethodPost, "composing", map[string]bool{"on": on}, nil)
}
