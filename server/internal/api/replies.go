package api

import (
	"net/http"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/deskside/deskside/server/internal/httpjson"
	"github.com/deskside/deskside/server/internal/store"
)

// Saved replies: team-wide replies technicians start from, with the
// placeholders {{first_name}}, {{technician}} and {{device}} the console
// fills in. The five the console used to hard-code are seeded.

const (
	maxReplyTitle = 100
	maxReplyBody  = 8 << 10
)

func (a *API) listReplies(w http.ResponseWriter, r *http.Request, _ *actor) {
	rs, err := a.st.ListSavedReplies(r.Context())
	if err != nil {
		httpjson.Internal(a.log, w, r, err)
		return
	}
	httpjson.Write(w, http.StatusOK, map[string]any{"replies": rs})
}

type replyIn struct {
	Title *string `json:"title"`
	Body  *string `json:"body"`
}

// apply sets in's fields on x; "" when it is fine, else what to fix.
func (in replyIn) apply(x *store.SavedReply, ac *actor) string {
	if in.Title != nil {
		x.Title = trimmed(*in.Title)
	}
	if in.Body != nil {
		x.Body = trimmed(*in.Body)
	}
	x.AuthorID, x.AuthorName, x.UpdatedAt = ac.ID, ac.Name, time.Now()
	switch {
	case x.Title == "" || x.Body == "":
		return "A saved reply needs a title and a text."
	case utf8.RuneCountInString(x.Title) > maxReplyTitle || len(x.Body) > maxReplyBody:
		return "A saved reply's title can be at most 100 characters and its text 8 KB."
	}
	return ""
}

func (a *API) createReply(w http.ResponseWriter, r *http.Request, ac *actor) {
	var in replyIn
	if !decode(w, r, &in) {
		return
	}
	x := store.SavedReply{ID: "rep_" + uuid.NewString()}
	if msg := in.apply(&x, ac); msg != "" {
		httpjson.Error(w, http.StatusBadRequest, "bad_body", msg)
		return
	}
	x, err := a.st.SaveReply(r.Context(), x)
	if err != nil {
		httpjson.Internal(a.log, w, r, err)
		return
	}
	a.audit(r.Context(), ac.Email, "reply.create", x.ID, x.Title)
	httpjson.Write(w, http.StatusCreated, x)
}

func (a *API) patchReply(w http.ResponseWriter, r *http.Request, ac *actor) {
	var in replyIn
	if !decode(w, r, &in) {
		return
	}
	x, err := a.st.SavedReply(r.Context(), r.PathValue("id"))
	if err != nil {
		httpjson.StoreError(a.log, w, r, err, "saved reply")
		return
	}
	if msg := in.apply(&x, ac); msg != "" {
		httpjson.Error(w, http.StatusBadRequest, "bad_body", msg)
		return
	}
	if x, err = a.st.SaveReply(r.Context(), x); err != nil {
		httpjson.Internal(a.log, w, r, err)
		return
	}
	a.audit(r.Context(), ac.Email, "reply.update", x.ID, x.Title)
	httpjson.Write(w, http.StatusOK, x)
}

func (a *API) deleteReply(w http.ResponseWriter, r *http.Request, ac *actor) {
	id := r.PathValue("id")
	if err := a.st.DeleteSavedReply(r.Context(), id); err != nil {
		httpjson.StoreError(a.log, w, r, err, "saved reply")
		return
	}
	a.audit(r.Context(), ac.Email, "reply.delete", id, "")
	w.WriteHeader(http.StatusNoContent)
}
