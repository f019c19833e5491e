package identity

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/deskside/deskside/server/internal/store"
	"github.com/deskside/deskside/shared/protocol"
)

// Route is one HTTP route: a handler for a signed-in technician, checked
// against Access by Wrap, or a Public handler that checks its own
// credentials. The API registers its routes and these from one table,
// which the role matrix test walks.
type Route struct {
	Pattern string // "METHOD /path"
	Access  Access
	Handler Handler          // when Access is not Public
	Public  http.HandlerFunc // when Access is Public
}

// Routes are the sign-in and account routes.
func (s *Sessions) Routes() []Route {
	return []Route{
		{Pattern: "POST /api/v1/setup", Public: s.setup},
		{Pattern: "POST /api/v1/login", Public: s.login},
		{Pattern: "POST /api/v1/logout", Access: Reader, Handler: s.logout},
		{Pattern: "GET /api/v1/session", Access: Reader, Handler: s.session},
		// A viewer keeps their own name and password too: that is their
		// account, not the help desk's data.
		{Pattern: "PATCH /api/v1/me", Access: Reader, Handler: s.patchMe},
		{Pattern: "GET /api/v1/technicians", Access: Admin, Handler: s.listTechs},
		{Pattern: "POST /api/v1/technicians", Access: Admin, Handler: s.createTech},
		{Pattern: "PATCH /api/v1/technicians/{id}", Access: Admin, Handler: s.patchTech},
		{Pattern: "PUT /api/v1/technicians/{id}/break-glass", Access: Admin, Handler: s.putBreakGlass},
	}
}

// HandlerFunc is r's handler, wrapped with its access check.
func (s *Sessions) HandlerFunc(r Route) http.HandlerFunc {
	if r.Access == Public {
		return r.Public
	}
	return s.Wrap(r.Access, r.Handler)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	if v != nil {
		_ = json.NewEncoder(w).Encode(v)
	}
}

func writeErr(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, protocol.APIError{Error: code, Msg: msg})
}

// retryLater refuses an attempt for now, saying when to come back.
func retryLater(w http.ResponseWriter, status int, wait time.Duration, code, msg string) {
	secs := max(1, int((wait+time.Second-1)/time.Second))
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	writeErr(w, status, code, msg)
}

func (s *Sessions) internal(w http.ResponseWriter, r *http.Request, err error) {
	s.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	writeErr(w, http.StatusInternalServerError, "internal", "Something went wrong on the server; it has been logged. Please try again.")
}

func (s *Sessions) storeErr(w http.ResponseWriter, r *http.Request, err error, what string) {
	switch {
	case errors.Is(err, store.ErrNotFound):
		writeErr(w, http.StatusNotFound, "not_found", "There is no such "+what+".")
	case errors.Is(err, store.ErrConflict):
		writeErr(w, http.StatusConflict, "conflict", "That "+what+" already exists.")
	default:
		s.internal(w, r, err)
	}
}

// maxBody is far more than any account form needs.
const maxBody = 64 << 10

func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil && !errors.Is(err, io.EOF) {
		writeErr(w, http.StatusBadRequest, "bad_body", fmt.Sprintf("The request body is not what this endpoint expects: %v.", err))
		return false
	}
	return true
}

func capitalise(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func itoa(n int) string { return strconv.Itoa(n) }
