// Package httpjson answers the server's JSON endpoints the one way they all
// answer: a JSON body that is never cached, and errors as protocol.APIError
// with a code for scripts and a sentence for people.
package httpjson

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"

	"github.com/deskside/deskside/server/internal/store"
	"github.com/deskside/deskside/shared/protocol"
)

// Write answers status with v as JSON (no body when v is nil).
func Write(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	if v != nil {
		_ = json.NewEncoder(w).Encode(v)
	}
}

// Error answers status with an error code and a sentence a person can act on.
func Error(w http.ResponseWriter, status int, code, msg string) {
	Write(w, status, protocol.APIError{Error: code, Msg: msg})
}

// Internal reports an unexpected failure: the details go to the log, never
// to the caller.
func Internal(log *slog.Logger, w http.ResponseWriter, r *http.Request, err error) {
	log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	Error(w, http.StatusInternalServerError, "internal", "Something went wrong on the server; it has been logged. Please try again.")
}

// StoreError maps the store's not-found and conflict errors to 404 and 409
// about what ("request", "technician", …); anything else is Internal.
func StoreError(log *slog.Logger, w http.ResponseWriter, r *http.Request, err error, what string) {
	switch {
	case errors.Is(err, store.ErrNotFound):
		Error(w, http.StatusNotFound, "not_found", "There is no such "+what+".")
	case errors.Is(err, store.ErrConflict):
		Error(w, http.StatusConflict, "conflict", "That "+what+" already exists.")
	default:
		Internal(log, w, r, err)
	}
}

// Decode reads a JSON body of at most limit bytes into v, refusing unknown
// fields; an empty body leaves v as it is. On false the answer is written.
func Decode(w http.ResponseWriter, r *http.Request, v any, limit int64) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, limit))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil && !errors.Is(err, io.EOF) {
		Error(w, http.StatusBadRequest, "bad_body", fmt.Sprintf("The request body is not what this endpoint expects: %v.", err))
		return false
	}
	return true
}
