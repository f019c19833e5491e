package api_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/deskside/deskside/server/servertest"
)

type hookOut struct {
	ID           string   `json:"id"`
	URL          string   `json:"url"`
	Kind         string   `json:"kind"`
	Events       []string `json:"events"`
	Secret       string   `json:"secret"`
	AllowPrivate bool     `json:"allow_private"`
}

type deliveryOut struct {
	ID, Status, EventType string
	Attempts              int
	LastError             string `json:"last_error"`
}

// An admin registers an endpoint, a blocking request reaches it signed
// (verified by the Standard Webhooks library), the console lists the
// delivery, and "send again" sends it once more.
func TestWebhooksAPI(t *testing.T) {
	srv := servertest.New(t)
	admin := srv.Tech(t)
	got := make(chan []byte, 10)
	slack := make(chan []byte, 10)
	var wh *standardwebhooks.Webhook
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if r.URL.Path == "/slack" {
			slack <- body
			_, _ = io.WriteString(w, "ok")
			return
		}
		if err := wh.Verify(body, r.Header); err != nil {
			t.Errorf("signature: %v", err)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		got <- body
	}))
	defer rcv.Close()

	// Loopback without the opt-in is refused, with what to do.
	refused := func(body map[string]any, want string) {
		t.Helper()
		b, _ := json.Marshal(body)
		st, raw := admin.DoRaw(t, "POST", "/api/v1/webhooks", "application/json", strings.NewReader(string(b)))
		if st != http.StatusBadRequest || !strings.Contains(string(raw), want) {
			t.Fatalf("%v: %d %s; want 400 saying %q", body, st, raw, want)
		}
	}
	refused(map[string]any{"url": rcv.URL, "events": []string{"request.created"}}, "Allow private network")
	refused(map[string]any{"url": "http://hooks.example.com/x", "events": []string{"request.created"}}, "https://")
	refused(map[string]any{"url": "https://169.254.169.254/latest/meta-data", "events": []string{"request.created"}}, "private network")
	refused(map[string]any{"url": "https://hooks.example.com/x", "events": []string{"request.deleted"}}, "not an event")
	refused(map[string]any{"url": "https://hooks.example.com/x"}, "at least one event")
	var made hookOut
	if st := admin.Do(t, "POST", "/api/v1/webhooks", map[string]any{"url": rcv.URL + "/hook", "events": []string{"request.created", "request.updated"},
		"allow_private": true, "description": "ticketing"}, &made); st != http.StatusCreated || !strings.HasPrefix(made.Secret, "whsec_") {
		t.Fatalf("create: %d %+v", st, made)
	}
	var err error
	if wh, err = standardwebhooks.NewWebhook(made.Secret); err != nil {
		t.Fatal(err)
	}
	var slackHook hookOut
	if st := admin.Do(t, "POST", "/api/v1/webhooks", map[string]any{"url": rcv.URL + "/slack", "kind": "slack", "allow_private": true}, &slackHook); st != http.StatusCreated ||
		slackHook.Secret != "" || len(slackHook.Events) != 2 {
		t.Fatalf("create slack: %d %+v", st, slackHook)
	}
	// The secret is never shown again.
	status, raw := admin.DoRaw(t, "GET", "/api/v1/webhooks", "", nil)
	if status != http.StatusOK || strings.Contains(string(raw), made.Secret) || strings.Contains(string(raw), "whsec_") {
		t.Fatalf("list: %d, and it must not carry the secret: %s", status, raw)
	}

	dev := srv.Enroll(t, "ana-laptop")
	dev.Connect(t, 0)
	reqID := dev.RaiseRequest(t, "My screen stays black")
	var ev struct {
		Type string `json:"type"`
		Data struct {
			Request struct {
				RequestID string `json:"request_id"`
			} `json:"request"`
		} `json:"data"`
	}
	select {
	case b := <-got:
		if err := json.Unmarshal(b, &ev); err != nil || ev.Type != "request.created" || ev.Data.Request.RequestID != reqID {
			t.Fatalf("delivery %s (%v)", b, err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("no webhook delivery for the new request")
	}
	select {
	case b := <-slack:
		if !strings.Contains(string(b), `"blocks"`) || !strings.Contains(string(b), "My screen stays black") {
			t.Fatalf("slack message %s", b)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("no Slack alert for a blocking request")
	}

	var list struct{ Deliveries []deliveryOut }
	deadline := time.Now().Add(20 * time.Second)
	for {
		if st := admin.Do(t, "GET", "/api/v1/webhooks/"+made.ID+"/deliveries", nil, &list); st != http.StatusOK {
			t.Fatalf("deliveries: %d", st)
		}
		if len(list.Deliveries) == 1 && list.Deliveries[0].Status == "delivered" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("deliveries %+v", list)
		}
		time.Sleep(20 * time.Millisecond)
	}
	d := list.Deliveries[0]
	if st := admin.Do(t, "POST", "/api/v1/webhooks/"+made.ID+"/deliveries/"+d.ID+"/retry", nil, nil); st != http.StatusAccepted {
		t.Fatalf("send again: %d", st)
	}
	if st := admin.Do(t, "POST", "/api/v1/webhooks/"+made.ID+"/deliveries/"+d.ID+"/retry", nil, nil); st != http.StatusConflict {
		t.Fatalf("send again twice at once: %d", st)
	}
	if st := admin.Do(t, "POST", "/api/v1/webhooks/"+made.ID+"/deliveries/nope/retry", nil, nil); st != http.StatusNotFound {
		t.Fatalf("send again an unknown delivery: %d", st)
	}
	select {
	case <-got:
	case <-time.After(20 * time.Second):
		t.Fatal("send again sent nothing")
	}

	var patched hookOut
	if st := admin.Do(t, "PATCH", "/api/v1/webhooks/"+made.ID, map[string]any{"allow_private": false}, nil); st != http.StatusBadRequest {
		t.Fatalf("dropping the opt-in of a loopback endpoint: %d", st)
	}
	if st := admin.Do(t, "PATCH", "/api/v1/webhooks/"+made.ID, map[string]any{"disabled": true, "events": []string{"request.rated"}}, &patched); st != http.StatusOK ||
		len(patched.Events) != 1 || patched.Secret != "" {
		t.Fatalf("patch: %d %+v", st, patched)
	}
	if st := admin.Do(t, "DELETE", "/api/v1/webhooks/"+made.ID, nil, nil); st != http.StatusNoContent {
		t.Fatalf("delete: %d", st)
	}
	if st := admin.Do(t, "GET", "/api/v1/webhooks/"+made.ID+"/deliveries", nil, nil); st != http.StatusNotFound {
		t.Fatalf("deliveries of a deleted endpoint: %d", st)
	}
}
