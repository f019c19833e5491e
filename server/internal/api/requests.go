package api

import (
	"cmp"
	"context"
	"encoding/json"
	"github.com/deskside/deskside/server/internal/events"
	"net/http"
	"strconv"
	"time"

	"github.com/google/uuid"

	"github.com/deskside/deskside/server/internal/httpjson"
	"github.com/deskside/deskside/server/internal/store"
	"github.com/deskside/deskside/shared/protocol"
)

func (a *API) listRequests(w http.ResponseWriter, r *http.Request, ac *actor) {
	q := r.URL.Query()
	f := store.RequestFilter{Status: protocol.Status(q.Get("status")), Category: protocol.Category(q.Get("category")),
		Urgency: protocol.Urgency(q.Get("urgency")), Assignee: q.Get("assignee"), DeviceID: q.Get("device")}
	if f.Assignee == "me" {
		f.Assignee = ac.ID
	}
	rs, err := a.st.ListRequests(r.Context(), f)
	if err != nil {
		httpjson.Internal(a.log, w, r, err)
		return
	}
	counts, err := a.st.CountRequestsByStatus(r.Context())
	if err != nil {
		httpjson.Internal(a.log, w, r, err)
		return
	}
	out := make([]protocol.RequestSummary, 0, len(rs))
	for _, x := range rs {
		out = append(out, x.ToWire())
	}
	httpjson.Write(w, http.StatusOK, map[string]any{"requests": out, "counts": counts})
}

func (a *API) getRequest(w http.ResponseWriter, r *http.Request, _ *actor) {
	id := r.PathValue("id")
	req, err := a.st.Request(r.Context(), id)
	if err != nil {
		httpjson.StoreError(a.log, w, r, err, "request")
		return
	}
	ms, err := a.st.Messages(r.Context(), id)
	if err != nil {
		httpjson.Internal(a.log, w, r, err)
		return
	}
	notes, err := a.st.Notes(r.Context(), id)
	if err != nil {
		httpjson.Internal(a.log, w, r, err)
		return
	}
	msgs := make([]protocol.Message, 0, len(ms))
	for _, m := range ms {
		msgs = append(msgs, m.ToWire())
	}
	snap := req.Snapshot
	if len(snap) == 0 {
		snap = json.RawMessage("null")
	}
	var assignee any
	if req.Assignee != "" {
		if t, err := a.st.Technician(r.Context(), req.Assignee); err == nil {
			assignee = map[string]string{"id": t.ID, "name": t.Name}
		}
	}
	// software is the title a software request is linked to (null when
	// none); a failure only leaves it out.
	sw, err := a.st.RequestSoftware(r.Context(), id)
	if err != nil {
		a.log.Warn("read linked software", "request", id, "err", err)
	}
	httpjson.Write(w, http.StatusOK, map[string]any{"request": req.ToWire(), "snapshot": snap, "messages": msgs, "notes": notes,
		"screenshot": req.ScreenshotType != "", "assignee": assignee, "rating_comment": req.RatingComment,
		"shown_articles": a.shownArticles(r, id), "software": sw})
}

func (a *API) screenshot(w http.ResponseWriter, r *http.Request, _ *actor) {
	data, ct, err := a.st.Screenshot(r.Context(), r.PathValue("id"))
	if err != nil {
		httpjson.StoreError(a.log, w, r, err, "screenshot")
		return
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Content-Security-Policy", "default-src 'none'")
	w.Header().Set("Cache-Control", "private, max-age=3600")
	_, _ = w.Write(data)
}

// statusText is the friendly sentence the user sees when a request moves.
func statusText(status protocol.Status, actorName, assigneeName string) string {
	if assigneeName == "" {
		assigneeName = actorName
	}
	switch status {
	case protocol.StatusInProgress:
		return assigneeName + " picked up your request"
	case protocol.StatusWaitingOnUser:
		return actorName + " has a question for you — have a look and reply when you can."
	case protocol.StatusResolved:
		return actorName + " marked this as solved — if it's not, just reply."
	case protocol.StatusReopened:
		return "Your request is open again — " + actorName + " is on it."
	default:
		return "Your request is back in the queue; someone will pick it up soon."
	}
}

func (a *API) patchRequest(w http.ResponseWriter, r *http.Request, ac *actor) {
	var in struct {
		Status   *protocol.Status `json:"status"`
		Assignee *string          `json:"assignee"`
	}
	if !decode(w, r, &in) {
		return
	}
	if in.Status != nil && !in.Status.Valid() {
		httpjson.Error(w, http.StatusBadRequest, "bad_body", "Status must be new, in_progress, waiting_on_user, resolved or reopened.")
		return
	}
	var assignee *store.Technician
	if in.Assignee != nil && *in.Assignee != "" {
		id := *in.Assignee
		if id == "me" {
			id = ac.ID
		}
		t, err := a.st.Technician(r.Context(), id)
		if err != nil || t.Disabled {
			httpjson.Error(w, http.StatusBadRequest, "bad_body", "There is no such technician to assign.")
			return
		}
		assignee = &t
	}
	id := r.PathValue("id")
	old, err := a.st.Request(r.Context(), id)
	if err != nil {
		httpjson.StoreError(a.log, w, r, err, "request")
		return
	}
	unlock := a.hub.Lock(old.DeviceID)
	defer unlock()
	var detail string
	var prev events.Previous
	var assigneeName string
	req, d, err := a.st.UpdateRequest(r.Context(), id, func(q *store.Request) (*store.Outgoing, error) {
		before := *q
		prev = events.Previous{Status: before.Status, Assignee: before.Assignee}
		if in.Assignee != nil {
			q.Assignee = ""
			if assignee != nil {
				q.Assignee = assignee.ID
				if q.Status == protocol.StatusNew && in.Status == nil {
					q.Status = protocol.StatusInProgress
				}
			}
		}
		if in.Status != nil {
			q.Status = *in.Status
		}
		if q.Status == before.Status && q.Assignee == before.Assignee {
			return nil, nil
		}
		detail = string(before.Status) + "→" + string(q.Status) + " assignee=" + q.Assignee
		st := protocol.RequestStatus{RequestID: q.ID, Status: q.Status, ChangedAt: time.Now().UTC()}
		name := ""
		if assignee != nil {
			name = assignee.Name
			st.Assignee = &protocol.Person{Name: assignee.Name, Greeting: assignee.Greeting}
		} else if q.Assignee != "" && q.Assignee == ac.ID {
			st.Assignee = &protocol.Person{Name: ac.Name, Greeting: ac.Greeting}
		}
		status := q.Status
		if q.Status == before.Status && q.Assignee == "" {
			status = protocol.StatusNew // unassigned: back in the queue
		}
		st.Text = statusText(status, ac.Name, name)
		if st.Assignee != nil {
			assigneeName = st.Assignee.Name
		}
		return &store.Outgoing{Kind: protocol.KindRequestStatus, ID: protocol.NewID(), Body: st}, nil
	})
	if err != nil {
		httpjson.StoreError(a.log, w, r, err, "request")
		return
	}
	if d != nil {
		a.hub.Deliver(*d)
		a.audit(r.Context(), ac.Email, "request.update", id, detail)
		a.hub.Broadcast(protocol.KindRequestUpdated, req.ToWire())
		typ := events.RequestUpdated
		if req.Status == protocol.StatusResolved && prev.Status != protocol.StatusResolved {
			typ = events.RequestResolved
		}
		a.publish(r.Context(), typ, req, events.Data{Previous: &prev, Actor: ac.Name, ActorID: ac.ID, AssigneeName: assigneeName})
	}
	httpjson.Write(w, http.StatusOK, req.ToWire())
}

func (a *API) techMessage(w http.ResponseWriter, r *http.Request, ac *actor) {
	req, err := a.st.Request(r.Context(), r.PathValue("id"))
	if err != nil {
		httpjson.StoreError(a.log, w, r, err, "request")
		return
	}
	a.sendMessage(w, r, ac, req.DeviceID, req.ID)
}

// sendMessage stores a technician's message with its outbox frame and
// delivers it now if the device is online (else on reconnect).
func (a *API) sendMessage(w http.ResponseWriter, r *http.Request, ac *actor, deviceID, requestID string) {
	var in struct {
		Text string `json:"text"`
	}
	if !decode(w, r, &in) {
		return
	}
	now := time.Now().UTC().Truncate(time.Millisecond)
	wire := protocol.Message{RequestID: requestID, MessageID: "msg_" + uuid.NewString(),
		Author: protocol.Person{Name: ac.Name, Greeting: ac.Greeting}, Text: trimmed(in.Text), CreatedAt: now}
	if err := protocol.CheckText("text", wire.Text, true); err != nil {
		httpjson.Error(w, http.StatusBadRequest, "bad_body", "The message "+err.Error()+".")
		return
	}
	m := store.Message{ID: wire.MessageID, RequestID: requestID, DeviceID: deviceID, TechnicianID: ac.ID,
		AuthorName: ac.Name, Text: wire.Text, CreatedAt: now}
	unlock := a.hub.Lock(deviceID)
	req, d, err := a.st.AddTechMessage(r.Context(), m, store.Outgoing{Kind: protocol.KindMessage, ID: protocol.NewID(), Body: wire})
	if err == nil {
		a.hub.Deliver(d)
	}
	unlock()
	if err != nil {
		httpjson.StoreError(a.log, w, r, err, "request")
		return
	}
	a.metrics.techMessages.Inc()
	a.audit(r.Context(), ac.Email, "message.send", cmp.Or(requestID, deviceID), "")
	wire.DeviceID = deviceID
	if requestID != "" {
		// Every console showing the thread (another technician's, on any
		// node) fetches the reply.
		a.hub.Broadcast(protocol.KindRequestThread, protocol.ThreadItem{RequestID: requestID, Item: protocol.ThreadMessage,
			ID: wire.MessageID, Author: ac.Name, At: now})
		a.hub.Broadcast(protocol.KindRequestUpdated, req.ToWire())
		a.publish(r.Context(), events.RequestUpdated, req, events.Data{Actor: ac.Name, ActorID: ac.ID})
	}
	httpjson.Write(w, http.StatusCreated, wire)
}

// publish tells the event sinks about a request a technician changed; d
// carries the type's extra fields.
func (a *API) publish(ctx context.Context, t events.Type, req store.Request, d events.Data) {
	wire := req.ToWire()
	d.Request = &wire
	d.URL = a.consoleURL("/requests/" + req.ID)
	a.opt.Events.Publish(ctx, events.New(t, d))
}

// consoleURL links to a console page ("" without a public URL).
func (a *API) consoleURL(page string) string {
	if a.opt.PublicURL == "" {
		return ""
	}
	return a.opt.PublicURL + "/#" + page
}

func (a *API) addNote(w http.ResponseWriter, r *http.Request, ac *actor) {
	var in struct {
		Text string `json:"text"`
	}
	if !decode(w, r, &in) {
		return
	}
	id := r.PathValue("id")
	if _, err := a.st.Request(r.Context(), id); err != nil {
		httpjson.StoreError(a.log, w, r, err, "request")
		return
	}
	if trimmed(in.Text) == "" {
		httpjson.Error(w, http.StatusBadRequest, "bad_body", "The note is empty.")
		return
	}
	n := store.Note{ID: "note_" + uuid.NewString(), RequestID: id, TechnicianID: ac.ID, Author: ac.Name, Text: trimmed(in.Text),
		CreatedAt: time.Now().UTC().Truncate(time.Millisecond)}
	if err := a.st.AddNote(r.Context(), n); err != nil {
		httpjson.Internal(a.log, w, r, err)
		return
	}
	a.hub.Broadcast(protocol.KindRequestThread, protocol.ThreadItem{RequestID: id, Item: protocol.ThreadNote, ID: n.ID, Author: n.Author, At: n.CreatedAt})
	httpjson.Write(w, http.StatusCreated, n)
}

func (a *API) listAudit(w http.ResponseWriter, r *http.Request, _ *actor) {
	limit, _ := strconv.Atoi(r.URL.Query().Get("limit"))
	es, err := a.st.ListAudit(r.Context(), limit)
	if err != nil {
		httpjson.Internal(a.log, w, r, err)
		return
	}
	if es == nil {
		es = []store.AuditEntry{}
	}
	httpjson.Write(w, http.StatusOK, map[string]any{"entries": es})
}
