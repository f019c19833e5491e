package httpjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/deskside/deskside/server/internal/store"
	"github.com/deskside/deskside/shared/protocol"
)

func answer(t *testing.T, rec *httptest.ResponseRecorder) protocol.APIError {
	t.Helper()
	if ct := rec.Header().Get("Content-Type"); ct != "application/json; charset=utf-8" {
		t.Errorf("Content-Type = %q", ct)
	}
	if cc := rec.Header().Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control = %q", cc)
	}
	var e protocol.APIError
	if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil {
		t.Fatalf("body %q: %v", rec.Body, err)
	}
	return e
}

func TestStoreErrorMapsAndHidesDetails(t *testing.T) {
	var logged bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logged, nil))
	r := httptest.NewRequest(http.MethodGet, "/api/v1/requests/x", nil)
	for _, c := range []struct {
		err    error
		status int
		code   string
	}{
		{fmt.Errorf("get: %w", store.ErrNotFound), http.StatusNotFound, "not_found"},
		{fmt.Errorf("put: %w", store.ErrConflict), http.StatusConflict, "conflict"},
		{errors.New("disk on fire at /var/lib/secret"), http.StatusInternalServerError, "internal"},
	} {
		rec := httptest.NewRecorder()
		StoreError(log, rec, r, c.err, "request")
		e := answer(t, rec)
		if rec.Code != c.status || e.Error != c.code {
			t.Errorf("%v: %d %q, want %d %q", c.err, rec.Code, e.Error, c.status, c.code)
		}
		if strings.Contains(e.Msg, "secret") {
			t.Errorf("%v: the answer leaks the cause: %q", c.err, e.Msg)
		}
	}
	if !strings.Contains(logged.String(), "disk on fire") {
		t.Errorf("the internal cause was not logged: %s", logged.String())
	}
}

func TestDecode(t *testing.T) {
	type form struct {
		Name string `json:"name"`
	}
	for _, c := range []struct {
		body string
		ok   bool
	}{
		{`{"name":"Ann"}`, true},
		{``, true}, // an empty body leaves the form as it is
		{`{"name":"Ann","admin":true}`, false},
		{`{"name":`, false},
		{`{"name":"` + strings.Repeat("a", 100) + `"}`, false}, // over the limit
	} {
		rec := httptest.NewRecorder()
		r := httptest.NewRequest(http.MethodPost, "/", io.NopCloser(strings.NewReader(c.body)))
		var f form
		if got := Decode(rec, r, &f, 64); got != c.ok {
			t.Errorf("%q: Decode = %v, want %v", c.body, got, c.ok)
			continue
		}
		if !c.ok {
			if e := answer(t, rec); rec.Code != http.StatusBadRequest || e.Error != "bad_body" {
				t.Errorf("%q: %d %q", c.body, rec.Code, e.Error)
			}
		}
	}
}
