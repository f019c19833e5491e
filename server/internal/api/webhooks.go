package api

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/deskside/deskside/server/internal/events"
	"github.com/deskside/deskside/server/internal/httpjson"
	"github.com/deskside/deskside/server/internal/store"
	"github.com/deskside/deskside/server/internal/webhooks"
)

// Outbound webhooks and chat alerts (docs/integrations.md). Admins only:
// an endpoint decides where the help desk's data goes.

const maxWebhookDescription = 200

func (a *API) listWebhooks(w http.ResponseWriter, r *http.Request, _ *actor) {
	eps, err := a.st.ListWebhooks(r.Context())
	if err != nil {
		httpjson.Internal(a.log, w, r, err)
		return
	}
	httpjson.Write(w, http.StatusOK, map[string]any{"webhooks": eps, "events": events.Types,
		"kinds": []string{store.WebhookStandard, store.WebhookSlack, store.WebhookTeams}, "chat_default_events": webhooks.ChatDefaultEvents})
}

type webhookIn struct {
	URL          *string   `json:"url"`
	Kind         *string   `json:"kind"`
	Events       *[]string `json:"events"`
	AllowPrivate *bool     `json:"allow_private"`
	Description  *string   `json:"description"`
	Disabled     *bool     `json:"disabled"`
}

// apply sets in's fields on e; "" when fine, else what to fix.
func (in webhookIn) apply(e *store.WebhookEndpoint) string {
	if in.URL != nil {
		e.URL = trimmed(*in.URL)
	}
	if in.AllowPrivate != nil {
		e.AllowPrivate = *in.AllowPrivate
	}
	if in.Description != nil {
		e.Description = trimmed(*in.Description)
	}
	if in.Disabled != nil {
		e.Disabled = *in.Disabled
	}
	if in.Events != nil {
		seen := map[string]bool{}
		e.Events = []string{}
		for _, t := range *in.Events {
			if !events.Type(t).Valid() {
				return "\"" + t + "\" is not an event Deskside sends; see docs/integrations.md for the list."
			}
			if !seen[t] {
				seen[t] = true
				e.Events = append(e.Events, t)
			}
		}
	}
	if len(e.Events) == 0 {
		if e.Kind == store.WebhookStandard {
			return "Pick at least one event to send."
		}
		e.Events = append([]string{}, webhooks.ChatDefaultEvents...)
	}
	if utf8.RuneCountInString(e.Description) > maxWebhookDescription {
		return "A description can be at most 200 characters."
	}
	if err := webhooks.ValidateURL(e.URL, e.AllowPrivate); err != nil {
		return capitalise(err.Error()) + "."
	}
	return ""
}

func (a *API) createWebhook(w http.ResponseWriter, r *http.Request, ac *actor) {
	var in webhookIn
	if !decode(w, r, &in) {
		return
	}
	e := store.WebhookEndpoint{ID: "wh_" + strings.ReplaceAll(uuid.NewString(), "-", "")[:16], Kind: store.WebhookStandard, CreatedAt: time.Now()}
	if in.Kind != nil && *in.Kind != "" {
		e.Kind = *in.Kind
	}
	switch e.Kind {
	case store.WebhookStandard:
		e.Secret = webhooks.NewSecret()
	case store.WebhookSlack, store.WebhookTeams:
	default:
		httpjson.Error(w, http.StatusBadRequest, "bad_body", "The kind is standard, slack or teams.")
		return
	}
	if msg := in.apply(&e); msg != "" {
		httpjson.Error(w, http.StatusBadRequest, "bad_body", msg)
		return
	}
	e, err := a.st.CreateWebhook(r.Context(), e)
	if err != nil {
		httpjson.Internal(a.log, w, r, err)
		return
	}
	a.audit(r.Context(), ac.Email, "webhook.create", e.ID, e.Kind+" "+redactURL(e.URL))
	a.reloadWebhooks()
	// The secret is shown this once; later reads leave it out.
	httpjson.Write(w, http.StatusCreated, struct {
		store.WebhookEndpoint
		Secret string `json:"secret,omitempty"`
	}{e, e.Secret})
}

func (a *API) patchWebhook(w http.ResponseWriter, r *http.Request, ac *actor) {
	var in webhookIn
	if !decode(w, r, &in) {
		return
	}
	e, err := a.st.Webhook(r.Context(), r.PathValue("id"))
	if err != nil {
		httpjson.StoreError(a.log, w, r, err, "webhook")
		return
	}
	if in.Kind != nil && *in.Kind != e.Kind {
		httpjson.Error(w, http.StatusBadRequest, "bad_body", "An endpoint's kind cannot change; add a new endpoint instead.")
		return
	}
	if msg := in.apply(&e); msg != "" {
		httpjson.Error(w, http.StatusBadRequest, "bad_body", msg)
		return
	}
	if e, err = a.st.UpdateWebhook(r.Context(), e); err != nil {
		httpjson.StoreError(a.log, w, r, err, "webhook")
		return
	}
	a.audit(r.Context(), ac.Email, "webhook.update", e.ID, redactURL(e.URL))
	a.reloadWebhooks()
	httpjson.Write(w, http.StatusOK, e)
}

func (a *API) deleteWebhook(w http.ResponseWriter, r *http.Request, ac *actor) {
	id := r.PathValue("id")
	if err := a.st.DeleteWebhook(r.Context(), id); err != nil {
		httpjson.StoreError(a.log, w, r, err, "webhook")
		return
	}
	a.audit(r.Context(), ac.Email, "webhook.delete", id, "")
	a.reloadWebhooks()
	w.WriteHeader(http.StatusNoContent)
}

func (a *API) listWebhookDeliveries(w http.ResponseWriter, r *http.Request, _ *actor) {
	id := r.PathValue("id")
	if _, err := a.st.Webhook(r.Context(), id); err != nil {
		httpjson.StoreError(a.log, w, r, err, "webhook")
		return
	}
	limit, _ := strconv.Atoi(r.URL.Query().Get("limit"))
	ds, err := a.st.ListWebhookDeliveries(r.Context(), id, limit)
	if err != nil {
		httpjson.Internal(a.log, w, r, err)
		return
	}
	httpjson.Write(w, http.StatusOK, map[string]any{"deliveries": ds})
}

func (a *API) retryWebhookDelivery(w http.ResponseWriter, r *http.Request, ac *actor) {
	id, did := r.PathValue("id"), r.PathValue("delivery")
	var d store.WebhookDelivery
	var err error
	if a.opt.Webhooks != nil {
		d, err = a.opt.Webhooks.Resend(r.Context(), id, did)
	} else {
		d, err = a.st.ResendWebhookDelivery(r.Context(), id, did, time.Now(), time.Minute)
	}
	switch {
	case errors.Is(err, store.ErrConflict):
		httpjson.Error(w, http.StatusConflict, "already_queued",
			"That delivery is already on its way (or was sent again a moment ago). Its status updates here shortly.")
		return
	case err != nil:
		httpjson.StoreError(a.log, w, r, err, "delivery")
		return
	}
	a.audit(r.Context(), ac.Email, "webhook.resend", did, id)
	httpjson.Write(w, http.StatusAccepted, d)
}

func (a *API) reloadWebhooks() {
	if a.opt.Webhooks != nil {
		a.opt.Webhooks.Reload()
	}
}

// redactURL keeps an endpoint's scheme, host and path for the audit log,
// not its query (Slack and Teams put their secret in the path, so only
// the host is kept for them).
func redactURL(raw string) string {
	if i := strings.IndexAny(raw, "?"); i >= 0 {
		raw = raw[:i]
	}
	if i := strings.Index(raw, "://"); i >= 0 {
		if j := strings.Index(raw[i+3:], "/"); j >= 0 {
			return raw[:i+3+j] + "/…"
		}
	}
	return raw
}
