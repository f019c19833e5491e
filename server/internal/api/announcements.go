package api

import (
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
	}
	out := make([]view, 0, len(as))
	for _, x := range as {
		out = append(out, view{x, target{x.TargetKind, x.TargetValue}})
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
	}
	now := time.Now().UTC().Truncate(time.Millisecond)
	an := store.Announcement{ID: "ann_" + uuid.NewString(), Title: trimmed(in.Title), Text: trimmed(in.Text), Severity: in.Severity,
		TargetKind: in.Target.Kind, TargetValue: in.Target.Value, AuthorID: ac.ID, AuthorName: ac.Name, CreatedAt: now, ExpiresAt: in.ExpiresAt}
	wire := protocol.Announcement{AnnouncementID: an.ID, Title: an.Title, Text: an.Text, Severity: an.Severity,
		Author: protocol.Person{Name: ac.Name, Greeting: ac.Greeting}, CreatedAt: now, ExpiresAt: in.ExpiresAt}
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
		"target": in.Target, "recipients": an.Recipients, "sent_live": live, "delivered": 0, "created_at": an.CreatedAt})
}
