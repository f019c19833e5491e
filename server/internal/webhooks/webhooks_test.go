package webhooks

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/deskside/deskside/server/internal/events"
	"github.com/deskside/deskside/server/internal/store"
	"github.com/deskside/deskside/shared/protocol"
)

func openStore(t *testing.T, dir string) *store.SQL {
	t.Helper()
	s, err := store.Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func start(t *testing.T, opt Options) *Service {
	t.Helper()
	if opt.Log == nil {
		opt.Log = quietLog()
	}
	if opt.Poll == 0 {
		opt.Poll = 100 * time.Millisecond
	}
	s := New(opt)
	s.Start()
	t.Cleanup(func() { s.Close() })
	return s
}

func addEndpoint(t *testing.T, st store.Store, e store.WebhookEndpoint) store.WebhookEndpoint {
	t.Helper()
	if e.Kind == "" {
		e.Kind = store.WebhookStandard
	}
	if e.Secret == "" && e.Kind == store.WebhookStandard {
		e.Secret = NewSecret()
	}
	if e.Events == nil {
		e.Events = []string{string(events.RequestCreated)}
	}
	e, err := st.CreateWebhook(context.Background(), e)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func requestEvent(text string, u protocol.Urgency) events.Event {
	now := time.Now().UTC()
	return events.New(events.RequestCreated, events.Data{Request: &protocol.RequestSummary{RequestID: "req_" + text, DeviceID: "dev_1",
		Hostname: "ana-laptop", Category: protocol.CategoryProblem, Urgency: u, Status: protocol.StatusNew, Text: text,
		CreatedAt: now, UpdatedAt: now}, URL: "https://help.example.com/#/requests/req_" + text})
}

// receiver verifies each delivery with the Standard Webhooks library's
// own verifier and keeps each webhook-id once, as a receiver should.
type receiver struct {
	t       *testing.T
	wh      *standardwebhooks.Webhook
	mu      sync.Mutex
	fail    int // answer 503 this many times first
	arrived []time.Time
	ids     map[string]int // webhook-id → accepted count (stays 1 on a duplicate)
	bodies  [][]byte
	got     chan string
}

func newReceiver(t *testing.T, secret string, fail int) (*receiver, *httptest.Server) {
	wh, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		t.Fatal(err)
	}
	r := &receiver{t: t, wh: wh, fail: fail, ids: map[string]int{}, got: make(chan string, 100)}
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	return r, srv
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	if err := r.wh.Verify(body, req.Header); err != nil {
		r.t.Errorf("signature does not verify: %v", err)
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	r.mu.Lock()
	r.arrived = append(r.arrived, time.Now())
	if r.fail > 0 {
		r.fail--
		r.mu.Unlock()
		http.Error(w, "busy", http.StatusServiceUnavailable)
		return
	}
	id := req.Header.Get("webhook-id")
	if r.ids[id] == 0 {
		r.bodies = append(r.bodies, body)
	}
	r.ids[id] = 1
	r.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
	r.got <- id
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func delivery(t *testing.T, st store.Store, endpointID, id string) store.WebhookDelivery {
	t.Helper()
	ds, err := st.ListWebhookDeliveries(context.Background(), endpointID, 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range ds {
		if d.ID == id {
			return d
		}
	}
	return store.WebhookDelivery{}
}

func TestSignedDelivery(t *testing.T) {
	st := openStore(t, t.TempDir())
	secret := NewSecret()
	rcv, srv := newReceiver(t, secret, 0)
	ep := addEndpoint(t, st, store.WebhookEndpoint{ID: "wh_a", URL: srv.URL + "/hook", Secret: secret, AllowPrivate: true})
	addEndpoint(t, st, store.WebhookEndpoint{ID: "wh_other", URL: srv.URL + "/other", Events: []string{string(events.RequestRated)}, AllowPrivate: true})
	svc := start(t, Options{Store: st})
	ev := requestEvent("wifi", protocol.UrgencyWhenYouCan)
	svc.Publish(context.Background(), ev)
	select {
	case id := <-rcv.got:
		if id != DeliveryID(ev.ID, ep.ID) {
			t.Fatalf("webhook-id %q", id)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("no delivery")
	}
	rcv.mu.Lock()
	body := string(rcv.bodies[0])
	rcv.mu.Unlock()
	if !strings.Contains(body, `"type":"request.created"`) || !strings.Contains(body, `"request_id":"req_wifi"`) {
		t.Fatalf("payload %s", body)
	}
	waitFor(t, "delivered status", func() bool { return delivery(t, st, ep.ID, DeliveryID(ev.ID, ep.ID)).Status == store.DeliveryDelivered })
	if ds, _ := st.ListWebhookDeliveries(context.Background(), "wh_other", 10); len(ds) != 0 {
		t.Fatalf("an endpoint not subscribed to request.created got %d deliveries", len(ds))
	}
}

// A receiver that fails five times, then succeeds: retried with growing
// waits, across a server restart, and accepted exactly once.
func TestRetriesAcrossRestart(t *testing.T) {
	dir := t.TempDir()
	st := openStore(t, dir)
	secret := NewSecret()
	rcv, srv := newReceiver(t, secret, 5)
	ep := addEndpoint(t, st, store.WebhookEndpoint{ID: "wh_r", URL: srv.URL, Secret: secret, AllowPrivate: true})
	backoff := []time.Duration{40 * time.Millisecond, 80 * time.Millisecond, 120 * time.Millisecond, 160 * time.Millisecond, 200 * time.Millisecond}
	svc := New(Options{Store: st, Backoff: backoff, Poll: 50 * time.Millisecond, Log: quietLog()})
	svc.Start()
	ev := requestEvent("printer", protocol.UrgencyBlocking)
	svc.Publish(context.Background(), ev)
	id := DeliveryID(ev.ID, ep.ID)
	waitFor(t, "three failed attempts", func() bool { return delivery(t, st, ep.ID, id).Attempts >= 3 })
	// The server stops and starts again on the same data.
	svc.Close()
	st.Close()
	st2 := openStore(t, dir)
	if d := delivery(t, st2, ep.ID, id); d.Status != store.DeliveryPending || d.LastStatus != 503 {
		t.Fatalf("after restart the delivery is %+v", d)
	}
	start(t, Options{Store: st2, Backoff: backoff, Poll: 50 * time.Millisecond})
	waitFor(t, "delivered", func() bool { return delivery(t, st2, ep.ID, id).Status == store.DeliveryDelivered })
	d := delivery(t, st2, ep.ID, id)
	rcv.mu.Lock()
	defer rcv.mu.Unlock()
	if d.Attempts != 6 || len(rcv.arrived) != 6 || len(rcv.ids) != 1 || len(rcv.bodies) != 1 {
		t.Fatalf("attempts %d, arrivals %d, accepted ids %v", d.Attempts, len(rcv.arrived), rcv.ids)
	}
	// Never sooner than the backoff (a lower bound only: later is fine).
	for i := 1; i < len(rcv.arrived); i++ {
		if gap := rcv.arrived[i].Sub(rcv.arrived[i-1]); gap < backoff[i-1] {
			t.Errorf("attempt %d came %v after the previous one, before its backoff of %v", i+1, gap, backoff[i-1])
		}
	}
}

// After the window (24 h by default) a delivery is marked failed; the
// clock is the test's.
func TestFailsAfterWindow(t *testing.T) {
	st := openStore(t, t.TempDir())
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		http.Error(w, "down for maintenance", http.StatusInternalServerError)
	}))
	defer srv.Close()
	ep := addEndpoint(t, st, store.WebhookEndpoint{ID: "wh_w", URL: srv.URL, AllowPrivate: true})
	base := time.Now()
	var offset atomic.Int64
	clock := func() time.Time { return base.Add(time.Duration(offset.Load())) }
	svc := start(t, Options{Store: st, Now: clock})
	ev := requestEvent("vpn", protocol.UrgencyBlocking)
	svc.Publish(context.Background(), ev)
	id := DeliveryID(ev.ID, ep.ID)
	waitFor(t, "first attempt", func() bool { return delivery(t, st, ep.ID, id).Attempts == 1 })
	d := delivery(t, st, ep.ID, id)
	if d.Status != store.DeliveryPending || d.NextAttemptAt.Sub(d.FirstAttemptAt) < 10*time.Second || !strings.Contains(d.LastError, "HTTP 500: down for maintenance") {
		t.Fatalf("after one failure: %+v", d)
	}
	offset.Store(int64(25 * time.Hour))
	svc.Wake(ep.ID)
	waitFor(t, "failed status", func() bool { return delivery(t, st, ep.ID, id).Status == store.DeliveryFailed })
	if d := delivery(t, st, ep.ID, id); d.Attempts != 2 {
		t.Fatalf("failed after %d attempts, want 2", d.Attempts)
	}
}

// A stuck endpoint holds up only itself.
func TestStuckEndpointDelaysNoOther(t *testing.T) {
	st := openStore(t, t.TempDir())
	release := make(chan struct{})
	entered := make(chan struct{}, 10)
	stuck := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		entered <- struct{}{}
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer stuck.Close()
	defer close(release)
	secret := NewSecret()
	rcv, healthy := newReceiver(t, secret, 0)
	addEndpoint(t, st, store.WebhookEndpoint{ID: "wh_stuck", URL: stuck.URL, AllowPrivate: true})
	addEndpoint(t, st, store.WebhookEndpoint{ID: "wh_ok", URL: healthy.URL, Secret: secret, AllowPrivate: true})
	svc := start(t, Options{Store: st, Timeout: time.Hour})
	for i := 0; i < 5; i++ {
		svc.Publish(context.Background(), requestEvent("n"+string(rune('a'+i)), protocol.UrgencyBlocking))
	}
	<-entered // the stuck endpoint holds its first delivery for an hour
	for i := 0; i < 5; i++ {
		select {
		case <-rcv.got:
		case <-time.After(20 * time.Second):
			t.Fatalf("the healthy endpoint got %d of 5 while the other one hangs", i)
		}
	}
}

// Each bad endpoint gives a clear error and keeps its delivery.
func TestBadEndpoints(t *testing.T) {
	st := openStore(t, t.TempDir())
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body) // then the server notices the client leave
		<-r.Context().Done()
	}))
	defer hang.Close()
	huge := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		chunk := strings.Repeat("x", 64<<10)
		for i := 0; i < 80; i++ { // 5 MB
			if _, err := io.WriteString(w, chunk); err != nil {
				return
			}
		}
	}))
	defer huge.Close()
	redirect := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://10.0.0.7/steal", http.StatusTemporaryRedirect)
	}))
	defer redirect.Close()
	var reachedPrivate atomic.Bool
	private := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { reachedPrivate.Store(true) }))
	defer private.Close()
	badCert := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer badCert.Close()

	cases := []struct{ id, url, want string }{
		{"wh_hang", hang.URL, "no answer within 2s (timed out)"},
		{"wh_huge", huge.URL, "answer over 64 KB"},
		{"wh_redirect", redirect.URL, "the endpoint redirected to http://10.0.0.7/steal, and webhooks follow no redirects"},
		{"wh_cert", badCert.URL, "TLS certificate is not valid"},
		// Stored past the API's check (as if DNS had said otherwise at
		// registration): the dial-time guard still refuses it.
		{"wh_private", private.URL, "refused to connect to 127.0.0.1: private network address"},
	}
	for _, c := range cases {
		addEndpoint(t, st, store.WebhookEndpoint{ID: c.id, URL: c.url, AllowPrivate: c.id != "wh_private"})
	}
	svc := start(t, Options{Store: st, Timeout: 2 * time.Second})
	ev := requestEvent("bad", protocol.UrgencyBlocking)
	svc.Publish(context.Background(), ev)
	for _, c := range cases {
		t.Run(c.id, func(t *testing.T) {
			id := DeliveryID(ev.ID, c.id)
			waitFor(t, c.id+" attempt", func() bool { return delivery(t, st, c.id, id).Attempts >= 1 })
			d := delivery(t, st, c.id, id)
			if d.Status != store.DeliveryPending || !strings.Contains(d.LastError, c.want) {
				t.Fatalf("status %s, error %q; want pending and %q", d.Status, d.LastError, c.want)
			}
		})
	}
	if reachedPrivate.Load() {
		t.Fatal("a request reached the private endpoint without opt-in")
	}
}

// "Send again" pressed 40 times at once sends once.
func TestResendOnce(t *testing.T) {
	st := openStore(t, t.TempDir())
	secret := NewSecret()
	rcv, srv := newReceiver(t, secret, 0)
	ep := addEndpoint(t, st, store.WebhookEndpoint{ID: "wh_s", URL: srv.URL, Secret: secret, AllowPrivate: true})
	svc := start(t, Options{Store: st})
	ev := requestEvent("mail", protocol.UrgencyBlocking)
	svc.Publish(context.Background(), ev)
	id := DeliveryID(ev.ID, ep.ID)
	<-rcv.got
	waitFor(t, "delivered", func() bool { return delivery(t, st, ep.ID, id).Status == store.DeliveryDelivered })
	var wg sync.WaitGroup
	var ok, conflict atomic.Int32
	for i := 0; i < 40; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := svc.Resend(context.Background(), ep.ID, id)
			switch {
			case err == nil:
				ok.Add(1)
			case errors.Is(err, store.ErrConflict):
				conflict.Add(1)
			default:
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if ok.Load() != 1 || conflict.Load() != 39 {
		t.Fatalf("%d sent again, %d refused", ok.Load(), conflict.Load())
	}
	<-rcv.got
	waitFor(t, "delivered again", func() bool {
		d := delivery(t, st, ep.ID, id)
		return d.Status == store.DeliveryDelivered && d.Attempts == 2
	})
	rcv.mu.Lock()
	defer rcv.mu.Unlock()
	if len(rcv.arrived) != 2 {
		t.Fatalf("the receiver saw %d requests, want 2 (the first and one resend)", len(rcv.arrived))
	}
}

// flakyStore refuses the first n queue writes, as a database that is
// briefly away would.
type flakyStore struct {
	store.Store
	fails atomic.Int32
}

func (f *flakyStore) EnqueueWebhookDeliveries(ctx context.Context, ds []store.WebhookDelivery) error {
	if f.fails.Add(-1) >= 0 {
		return errors.New("database is restarting")
	}
	return f.Store.EnqueueWebhookDeliveries(ctx, ds)
}

func TestStoreBrieflyAway(t *testing.T) {
	st := openStore(t, t.TempDir())
	fs := &flakyStore{Store: st}
	fs.fails.Store(2)
	secret := NewSecret()
	rcv, srv := newReceiver(t, secret, 0)
	addEndpoint(t, st, store.WebhookEndpoint{ID: "wh_f", URL: srv.URL, Secret: secret, AllowPrivate: true})
	svc := start(t, Options{Store: fs, Poll: 20 * time.Millisecond})
	svc.Publish(context.Background(), requestEvent("disk", protocol.UrgencyBlocking))
	select {
	case <-rcv.got:
	case <-time.After(20 * time.Second):
		t.Fatal("the event was lost while the store was away")
	}
}

func TestChatFilter(t *testing.T) {
	slack := store.WebhookEndpoint{Kind: store.WebhookSlack, Events: ChatDefaultEvents}
	std := store.WebhookEndpoint{Kind: store.WebhookStandard, Events: ChatDefaultEvents}
	if wants(slack, requestEvent("x", protocol.UrgencyWhenYouCan)) || !wants(slack, requestEvent("x", protocol.UrgencyBlocking)) {
		t.Fatal("chat endpoints hear new requests only when they block work")
	}
	if !wants(std, requestEvent("x", protocol.UrgencyWhenYouCan)) {
		t.Fatal("standard endpoints hear every new request")
	}
	slack.Disabled = true
	if wants(slack, requestEvent("x", protocol.UrgencyBlocking)) {
		t.Fatal("a disabled endpoint heard an event")
	}
}
