package localapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/deskside/deskside/agent/agentapi"
	"github.com/deskside/deskside/shared/protocol"
)

// maxBody caps a request body: a screenshot in base64 plus the text.
const maxBody = protocol.MaxScreenshotBytes*4/3 + protocol.MaxTextRunes*4 + 64<<10

// Handler serves the local API over b.
func Handler(b agentapi.Backend, log *slog.Logger) http.Handler {
	if log == nil {
		log = slog.Default()
	}
	h := &handler{b: b, log: log}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+Prefix+"status", h.status)
	mux.HandleFunc("GET "+Prefix+"snapshot", h.snapshot)
	mux.HandleFunc("GET "+Prefix+"requests", h.requests)
	mux.HandleFunc("POST "+Prefix+"requests", h.raise)
	mux.HandleFunc("GET "+Prefix+"requests/{id}", h.request)
	mux.HandleFunc("POST "+Prefix+"requests/{id}/reply", h.reply)
	mux.HandleFunc("POST "+Prefix+"requests/{id}/rate", h.rate)
	mux.HandleFunc("POST "+Prefix+"requests/{id}/reopen", h.reopen)
	mux.HandleFunc("POST "+Prefix+"requests/{id}/read", h.read)
	mux.HandleFunc("GET "+Prefix+"announcements", h.announcements)
	mux.HandleFunc("POST "+Prefix+"announcements/{id}/read", h.announcementRead)
	mux.HandleFunc("GET "+Prefix+"events", h.events)
	mux.HandleFunc("GET "+Prefix+"articles/suggest", h.suggestArticles)
	mux.HandleFunc("GET "+Prefix+"articles", h.articles)
	mux.HandleFunc("GET "+Prefix+"articles/{id}", h.article)
	mux.HandleFunc("POST "+Prefix+"articles/{id}/feedback", h.articleFeedback)
	mux.HandleFunc("GET "+Prefix+"known-problems", h.knownProblems)
	mux.HandleFunc("POST "+Prefix+"announcements/{id}/metoo", h.meToo)
	mux.HandleFunc("GET "+Prefix+"checks", h.checks)
	mux.HandleFunc("POST "+Prefix+"checks/{kind}/{action}", h.checkAction)
	mux.HandleFunc("GET "+Prefix+"software", h.software)
	mux.HandleFunc("GET "+Prefix+"software/prompt", h.softwarePrompt)
	mux.HandleFunc("POST "+Prefix+"software/{title}/answer", h.answerSoftware)
	mux.HandleFunc("GET "+Prefix+"software/notes", h.softwareNotes)
	mux.HandleFunc("GET "+Prefix+"software/catalogue", h.catalogue)
	mux.HandleFunc("POST "+Prefix+"software/request-app", h.requestApp)
	mux.HandleFunc("POST "+Prefix+"composing", h.composing)
	return mux
}

// Serve serves the local API on l until ctx is done.
func Serve(ctx context.Context, l net.Listener, b agentapi.Backend, log *slog.Logger) error {
	srv := &http.Server{Handler: Handler(b, log), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
		_ = srv.Close()
	}()
	if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve local api: %w", err)
	}
	return nil
}

type handler struct {
	b   agentapi.Backend
	log *slog.Logger
}

func (h *handler) status(w http.ResponseWriter, r *http.Request) {
	c, err := h.b.Status(r.Context())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, c)
}

func (h *handler) snapshot(w http.ResponseWriter, r *http.Request) {
	s, err := h.b.Snapshot(r.Context(), r.URL.Query().Get("fresh") == "1")
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, s)
}

func (h *handler) requests(w http.ResponseWriter, r *http.Request) {
	rs, err := h.b.Requests(r.Context())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if rs == nil {
		rs = []agentapi.Request{}
	}
	writeJSON(w, map[string]any{"requests": rs})
}

func (h *handler) request(w http.ResponseWriter, r *http.Request) {
	req, err := h.b.Request(r.Context(), r.PathValue("id"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, req)
}

func (h *handler) raise(w http.ResponseWriter, r *http.Request) {
	var in agentapi.NewRequest
	if !h.decode(w, r, &in) {
		return
	}
	req, err := h.b.RaiseRequest(r.Context(), in)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSONCode(w, http.StatusCreated, req)
}

func (h *handler) reply(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Text string `json:"text"`
	}
	if !h.decode(w, r, &in) {
		return
	}
	m, err := h.b.Reply(r.Context(), r.PathValue("id"), in.Text)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSONCode(w, http.StatusCreated, m)
}

func (h *handler) rate(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Rating  int    `json:"rating"`
		Comment string `json:"comment"`
	}
	if !h.decode(w, r, &in) {
		return
	}
	h.done(w, r, h.b.Rate(r.Context(), r.PathValue("id"), in.Rating, in.Comment))
}

func (h *handler) reopen(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Text string `json:"text"`
	}
	if !h.decode(w, r, &in) {
		return
	}
	h.done(w, r, h.b.Reopen(r.Context(), r.PathValue("id"), in.Text))
}

func (h *handler) read(w http.ResponseWriter, r *http.Request) {
	h.done(w, r, h.b.MarkRead(r.Context(), r.PathValue("id")))
}

func (h *handler) announcements(w http.ResponseWriter, r *http.Request) {
	as, err := h.b.Announcements(r.Context())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if as == nil {
		as = []agentapi.Announcement{}
	}
	writeJSON(w, map[string]any{"announcements": as})
}

func (h *handler) announcementRead(w http.ResponseWriter, r *http.Request) {
	h.done(w, r, h.b.MarkAnnouncementRead(r.Context(), r.PathValue("id")))
}

// events streams server-sent events: the backend's events (the current
// connection first), with a comment line every 25 s so a dead reader is
// noticed.
func (h *handler) events(w http.ResponseWriter, r *http.Request) {
	fl, ok := w.(http.Flusher)
	if !ok {
		h.fail(w, r, errors.New("streaming unsupported"))
		return
	}
	ch, err := h.b.Events(r.Context())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	fl.Flush()
	keep := time.NewTicker(25 * time.Second)
	defer keep.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-keep.C:
			if _, err := io.WriteString(w, ": keepalive\n\n"); err != nil {
				return
			}
			fl.Flush()
		case ev, ok := <-ch:
			if !ok {
				return
			}
			b, err := json.Marshal(ev)
			if err != nil {
				continue
			}
			if _, err := fmt.Fprintf(w, "event: %s\ndata: %s\n\n", ev.Type, b); err != nil {
				return
			}
			fl.Flush()
		}
	}
}

// decode reads the body, one JSON value (or nothing), into v; anything
// else is refused with 400.
func (h *handler) decode(w http.ResponseWriter, r *http.Request, v any) bool {
	r.Body = http.MaxBytesReader(w, r.Body, maxBody)
	dec := json.NewDecoder(r.Body)
	err := dec.Decode(v)
	if err == nil {
		// Something after the value is not part of any request we know.
		if dec.Decode(&json.RawMessage{}) != io.EOF {
			err = errors.New("more after the JSON body")
		}
	}
	if err != nil && !errors.Is(err, io.EOF) {
		writeError(w, errorf(http.StatusBadRequest, agentapi.CodeBadRequest, "That didn't look right to the agent: %v", err))
		return false
	}
	return true
}

func (h *handler) done(w http.ResponseWriter, r *http.Request, err error) {
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (h *handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	var ae *agentapi.Error
	if errors.As(err, &ae) {
		writeError(w, &agentapi.Error{HTTPStatus: httpStatus(ae.Code), Code: ae.Code, Message: ae.Message})
		return
	}
	h.log.Error("local api", "path", r.URL.Path, "err", err)
	writeError(w, errorf(http.StatusInternalServerError, agentapi.CodeInternal,
		"Something went wrong inside the Deskside agent. Please try again; if it keeps happening, tell IT."))
}

// httpStatus is the local API's answer for a refusal with code.
func httpStatus(code agentapi.Code) int {
	switch code {
	case agentapi.CodeNotFound:
		return http.StatusNotFound
	case agentapi.CodeDiskFull:
		return http.StatusInsufficientStorage
	case agentapi.CodeNotEnrolled, agentapi.CodeUnavailable:
		return http.StatusServiceUnavailable
	case agentapi.CodeInternal:
		return http.StatusInternalServerError
	}
	return http.StatusBadRequest
}

func writeJSON(w http.ResponseWriter, v any) { writeJSONCode(w, http.StatusOK, v) }

func writeJSONCode(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, e *agentapi.Error) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(e.HTTPStatus)
	_ = json.NewEncoder(w).Encode(e)
}
