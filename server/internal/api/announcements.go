package api

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/google/uuid"

	"github.com/deskside/deskside/server/internal/httpjson"
	"github.com/deskside/deskside/server/internal/store"
	"github.com/deskside/deskside/shared/protocol"
)

func (a *API) listAnnouncements(w http.ResponseWriter, r *http.Request, _ *actor) {
	// Delivered counts come from applied cursors: apply the pending ones.
	if err := a.devices.FlushCursors(r.Context()); err != nil {
		a.log.Warn("apply delivery cursors", "err", err)
	}
	as, err := a.st.ListAnnouncements(r.Context())
	if err != nil {
		httpjson.Internal(a.log, w, r, err)
		return
	}
	type view struct {
		store.Announcement
		Target target `json:"target"`
		// MeTooBy is who said "me too" on a known problem (newest first).
		MeTooBy []store.MeTooEntry `json:"me_too_by,omitempty"`
	}
	out := make([]view, 0, len(as))
	for _, x := range as {
		v := view{Announcement: x, Target: target{x.TargetKind, x.TargetValue}}
		if x.MeToo > 0 {
			if v.MeTooBy, err = a.st.MeToos(r.Context(), x.ID); err != nil {
				httpjson.Internal(a.log, w, r, err)
				return
			}
		}
		out = append(out, v)
	}
	httpjson.Write(w, http.StatusOK, map[string]any{"announcements": out})
}

type target struct {
	Kind  string `json:"kind"`
	Value string `json:"value"`
}

func (a *API) announce(w http.ResponseWriter, r *http.Request, ac *actor) {
	var in struct {
		Title     string    `json:"title"`
		Text      string    `json:"text"`
		Severity  string    `json:"severity"`
		Target    target    `json:"target"`
		ExpiresAt time.Time `json:"expires_at"`
		Kind      string    `json:"kind"` // news (default) or known_problem
	}
	if !decode(w, r, &in) {
		return
	}
	if in.Severity == "" {
		in.Severity = "info"
	}
	if in.Target.Kind == "" {
		in.Target.Kind = "all"
	}
	switch {
	case trimmed(in.Title) == "" || trimmed(in.Text) == "":
		httpjson.Error(w, http.StatusBadRequest, "bad_body", "An announcement needs a title and a text.")
		return
	case in.Severity != "info" && in.Severity != "warning" && in.Severity != "outage":
		httpjson.Error(w, http.StatusBadRequest, "bad_body", "Severity must be info, warning or outage.")
		return
	case in.Target.Kind != "all" && in.Target.Kind != "group" && in.Target.Kind != "os":
		httpjson.Error(w, http.StatusBadRequest, "bad_body", "Target kind must be all, group or os.")
		return
	case in.Kind != "" && in.Kind != protocol.AnnouncementNews && in.Kind != protocol.AnnouncementKnownProblem:
		httpjson.Error(w, http.StatusBadRequest, "bad_body", "Kind must be news or known_problem.")
		return
	}
	if in.Kind == "" {
		in.Kind = protocol.AnnouncementNews
	}
	now := time.Now().UTC().Truncate(time.Millisecond)
	an := store.Announcement{ID: "ann_" + uuid.NewString(), Title: trimmed(in.Title), Text: trimmed(in.Text), Severity: in.Severity,
		TargetKind: in.Target.Kind, TargetValue: in.Target.Value, AuthorID: ac.ID, AuthorName: ac.Name, CreatedAt: now, ExpiresAt: in.ExpiresAt, Kind: in.Kind}
	wire := protocol.Announcement{AnnouncementID: an.ID, Title: an.Title, Text: an.Text, Severity: an.Severity,
		Author: protocol.Person{Name: ac.Name, Greeting: ac.Greeting}, CreatedAt: now, ExpiresAt: in.ExpiresAt, Kind: in.Kind}
	envID := protocol.NewID() // one id for all devices: it names the announcement
	unlock := a.hub.LockAll()
	an, ds, err := a.st.Announce(r.Context(), an, store.Outgoing{Kind: protocol.KindAnnouncement, ID: envID, Body: wire})
	live := 0
	if err == nil {
		live = a.hub.Deliver(ds...)
	}
	unlock()
	if err != nil {
		httpjson.Internal(a.log, w, r, err)
		return
	}
	a.audit(r.Context(), ac.Email, "announcement.create", an.ID, in.Target.Kind+":"+in.Target.Value+" recipients="+strconv.Itoa(an.Recipients))
	httpjson.Write(w, http.StatusCreated, map[string]any{"id": an.ID, "title": an.Title, "text": an.Text, "severity": an.Severity,
		"target": in.Target, "kind": an.Kind, "recipients": an.Recipients, "sent_live": live, "delivered": 0, "created_at": an.CreatedAt})
}

// resolveAnnouncement marks a known problem resolved and sends the
// all-clear: the announcement again, with resolved_at and the text, to
// every device it targets (sequenced, so offline desks get it at their
// next hello), and the new state to the consoles.
func (a *API) resolveAnnouncement(w http.ResponseWriter, r *http.Request, ac *actor) {
	var in struct {
		Text string `json:"text"`
	}
	if !decode(w, r, &in) {
		return
	}
	text := trimmed(in.Text)
	if text == "" {
		text = "This is fixed now. Thanks for your patience!"
	}
	if len(text) > 2000 {
		httpjson.Error(w, http.StatusBadRequest, "bad_body", "The all-clear can be at most 2,000 characters.")
		return
	}
	now := time.Now().UTC().Truncate(time.Millisecond)
	unlock := a.hub.LockAll()
	an, ds, err := a.st.ResolveAnnouncement(r.Context(), r.PathValue("id"), text, now, func(x store.Announcement) store.Outgoing {
		return store.Outgoing{Kind: protocol.KindAnnouncement, ID: protocol.NewID(), Body: protocol.Announcement{AnnouncementID: x.ID,
			Title: x.Title, Text: x.Text, Severity: x.Severity, Author: protocol.Person{Name: x.AuthorName}, CreatedAt: x.CreatedAt,
			ExpiresAt: x.ExpiresAt, Kind: x.Kind, ResolvedAt: x.ResolvedAt, ResolvedText: x.ResolvedText}}
	})
	live := 0
	if err == nil {
		live = a.hub.Deliver(ds...)
	}
	unlock()
	if errors.Is(err, store.ErrConflict) {
		httpjson.Error(w, http.StatusConflict, "already_resolved", "This announcement is already resolved.")
		return
	}
	if err != nil {
		httpjson.StoreError(a.log, w, r, err, "announcement")
		return
	}
	a.hub.Broadcast(protocol.KindAnnouncementUpdated, protocol.AnnouncementUpdated{AnnouncementID: an.ID, MeToo: an.MeToo, ResolvedAt: an.ResolvedAt})
	a.audit(r.Context(), ac.Email, "announcement.resolve", an.ID, "recipients="+strconv.Itoa(len(ds)))
	httpjson.Write(w, http.StatusOK, map[string]any{"announcement": an, "recipients": len(ds), "sent_live": live})
}
