package localapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"testing"

	"github.com/deskside/deskside/agent/agentapi"
	"github.com/deskside/deskside/agent/agentapi/agentapitest"
	"github.com/deskside/deskside/agent/internal/localapi"
)

// decodingRoute matches the routes that read a JSON body.
var decodingRoute = regexp.MustCompile(`^` + regexp.QuoteMeta(localapi.Prefix) + `(requests(/[^/]+/(reply|rate|reopen))?|checks/[^/]+/[^/]+)$`)

// FuzzHandler sends the local API any method, path and body, as a confused
// or hostile local program might. It must never panic or fail inside (5xx:
// the fake backend has no failures of its own), must accept a body only
// when it is one JSON value, and must refuse in its own error form.
func FuzzHandler(f *testing.F) {
	log := slog.New(slog.DiscardHandler)
	f.Fuzz(func(t *testing.T, method, path string, body []byte) {
		// A stream ends when its request does: the handler is called with
		// its context already done, so events answers and returns.
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		req, err := http.NewRequestWithContext(ctx, method, "http://local"+path, bytes.NewReader(body))
		if err != nil {
			return // not a request an HTTP client could send
		}
		rec := httptest.NewRecorder()
		localapi.Handler(agentapitest.NewFake(), log).ServeHTTP(rec, req)

		if rec.Code >= 500 {
			t.Fatalf("%s %q %q: %d %s", method, path, body, rec.Code, rec.Body)
		}
		trimmed := bytes.TrimSpace(body)
		if rec.Code/100 == 2 && method == http.MethodPost && decodingRoute.MatchString(req.URL.Path) &&
			len(trimmed) > 0 && !json.Valid(trimmed) {
			t.Fatalf("%s %q accepted a body that is not one JSON value: %q → %d", method, path, body, rec.Code)
		}
		if rec.Code == http.StatusBadRequest && rec.Header().Get("Content-Type") == "application/json" {
			var e agentapi.Error
			if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || e.Code == "" || e.Message == "" {
				t.Fatalf("%s %q: error answer %q is not {error, message} (%v)", method, path, rec.Body, err)
			}
		}
	})
}
