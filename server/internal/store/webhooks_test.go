package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

func testWebhooks(t *testing.T, s Store) {
	ctx := context.Background()
	t0 := time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)
	e, err := s.CreateWebhook(ctx, WebhookEndpoint{ID: "wh_1", URL: "https://hooks.example.com/in", Kind: WebhookStandard,
		Events: []string{"request.created", "request.resolved"}, Secret: "whsec_c2VjcmV0", Description: "ticketing", CreatedAt: t0})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateWebhook(ctx, e); !errors.Is(err, ErrConflict) {
		t.Fatalf("second create with the same id: %v, want ErrConflict", err)
	}
	got, err := s.Webhook(ctx, "wh_1")
	if err != nil || got.Secret != "whsec_c2VjcmV0" || !got.Subscribed("request.resolved") || got.Subscribed("request.rated") || !got.CreatedAt.Equal(t0) {
		t.Fatalf("read back %+v %v", got, err)
	}
	e.URL, e.Events, e.AllowPrivate, e.Disabled = "https://hooks.example.com/v2", []string{"request.rated"}, true, true
	if got, err = s.UpdateWebhook(ctx, e); err != nil || got.URL != e.URL || !got.AllowPrivate || !got.Disabled || len(got.Events) != 1 {
		t.Fatalf("update gave %+v %v", got, err)
	}
	if _, err := s.UpdateWebhook(ctx, WebhookEndpoint{ID: "wh_none"}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("update of a missing endpoint: %v", err)
	}
	if _, err := s.CreateWebhook(ctx, WebhookEndpoint{ID: "wh_2", URL: "https://hooks.slack.com/services/x", Kind: WebhookSlack, CreatedAt: t0.Add(time.Second)}); err != nil {
		t.Fatal(err)
	}
	list, err := s.ListWebhooks(ctx)
	if err != nil || len(list) != 2 || list[0].ID != "wh_1" || list[1].ID != "wh_2" || len(list[1].Events) != 0 {
		t.Fatalf("list %+v %v", list, err)
	}

	// Queue: idempotent by id, claimed oldest due first, lease respected.
	ds := []WebhookDelivery{
		{ID: "msg_a", EndpointID: "wh_1", EventType: "request.created", Payload: []byte(`{"a":1}`), CreatedAt: t0},
		{ID: "msg_b", EndpointID: "wh_1", EventType: "request.created", Payload: []byte(`{"b":1}`), CreatedAt: t0.Add(time.Second)},
		{ID: "msg_c", EndpointID: "wh_2", EventType: "request.created", Payload: []byte(`{}`), CreatedAt: t0},
	}
	if err := s.EnqueueWebhookDeliveries(ctx, ds); err != nil {
		t.Fatal(err)
	}
	if err := s.EnqueueWebhookDeliveries(ctx, ds[:1]); err != nil {
		t.Fatalf("queueing an id again should be a no-op: %v", err)
	}
	if next, err := s.NextWebhookAttempt(ctx, "wh_1"); err != nil || !next.Equal(t0) {
		t.Fatalf("next attempt %v %v, want %v", next, err, t0)
	}
	now := t0.Add(time.Minute)
	cl, err := s.ClaimWebhookDeliveries(ctx, "wh_1", now, 30*time.Second, 10)
	if err != nil || len(cl) != 2 || cl[0].ID != "msg_a" || string(cl[0].Payload) != `{"a":1}` || !cl[0].LeaseUntil.Equal(now.Add(30*time.Second)) {
		t.Fatalf("claim %+v %v", cl, err)
	}
	if again, err := s.ClaimWebhookDeliveries(ctx, "wh_1", now, 30*time.Second, 10); err != nil || len(again) != 0 {
		t.Fatalf("leased deliveries claimed again: %+v %v", again, err)
	}
	// A failed attempt: retried later.
	a := cl[0]
	a.Attempts, a.FirstAttemptAt, a.NextAttemptAt, a.LastStatus, a.LastError = 1, now, now.Add(10*time.Second), 503, "HTTP 503"
	if ok, err := s.FinishWebhookAttempt(ctx, a); err != nil || !ok {
		t.Fatalf("finish: %v %v", ok, err)
	}
	if ok, err := s.FinishWebhookAttempt(ctx, a); err != nil || ok {
		t.Fatalf("finishing with a lost lease should report false: %v %v", ok, err)
	}
	// b's lease ran out: claimable again by another node.
	later := now.Add(31 * time.Second)
	cl2, err := s.ClaimWebhookDeliveries(ctx, "wh_1", later, 30*time.Second, 10)
	if err != nil || len(cl2) != 2 || cl2[0].ID != "msg_b" || cl2[1].ID != "msg_a" || cl2[1].Attempts != 1 {
		t.Fatalf("claim after lease expiry %+v %v", cl2, err)
	}
	if ok, _ := s.FinishWebhookAttempt(ctx, cl[1]); ok {
		t.Fatal("the first claim of msg_b lost its lease and must not record")
	}
	for _, d := range cl2 {
		d.Status, d.Attempts, d.DeliveredAt, d.LastStatus = DeliveryDelivered, d.Attempts+1, later, 200
		if ok, err := s.FinishWebhookAttempt(ctx, d); err != nil || !ok {
			t.Fatalf("finish %s: %v %v", d.ID, ok, err)
		}
	}
	if next, err := s.NextWebhookAttempt(ctx, "wh_1"); err != nil || !next.IsZero() {
		t.Fatalf("nothing pending, next attempt %v %v", next, err)
	}
	hist, err := s.ListWebhookDeliveries(ctx, "wh_1", 10)
	if err != nil || len(hist) != 2 || hist[0].ID != "msg_b" || hist[1].Status != DeliveryDelivered || hist[1].Attempts != 2 || hist[1].LastError != "HTTP 503" {
		t.Fatalf("history %+v %v", hist, err)
	}

	// Send again, pressed 40 times at once: queued once.
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins, conflicts := 0, 0
	for i := 0; i < 40; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := s.ResendWebhookDelivery(ctx, "wh_1", "msg_a", later, time.Minute)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				wins++
			case errors.Is(err, ErrConflict):
				conflicts++
			default:
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if wins != 1 || conflicts != 39 {
		t.Fatalf("40 presses: %d queued, %d conflicts; want 1 and 39", wins, conflicts)
	}
	if _, err := s.ResendWebhookDelivery(ctx, "wh_2", "msg_a", later, time.Minute); !errors.Is(err, ErrNotFound) {
		t.Fatalf("resend through another endpoint: %v, want ErrNotFound", err)
	}
	cl3, _ := s.ClaimWebhookDeliveries(ctx, "wh_1", later, time.Second, 10)
	if len(cl3) != 1 || cl3[0].ID != "msg_a" || !cl3[0].FirstAttemptAt.IsZero() {
		t.Fatalf("resent delivery claim %+v", cl3)
	}

	if n, err := s.PruneWebhookDeliveries(ctx, t0.Add(time.Hour)); err != nil || n != 1 {
		t.Fatalf("prune removed %d (%v), want the one delivered (msg_b)", n, err)
	}
	if err := s.DeleteWebhook(ctx, "wh_2"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteWebhook(ctx, "wh_2"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second delete: %v", err)
	}
	if hist, _ := s.ListWebhookDeliveries(ctx, "wh_2", 10); len(hist) != 0 {
		t.Fatalf("deliveries outlived their endpoint: %+v", hist)
	}
}

// testWebhookClaimsTwoNodes: two stores on one database claim the same
// queue side by side; every delivery is claimed exactly once.
func testWebhookClaimsTwoNodes(t *testing.T, a, b Store) {
	ctx := context.Background()
	if _, err := a.CreateWebhook(ctx, WebhookEndpoint{ID: "wh_n", URL: "https://x.example.com", Kind: WebhookStandard}); err != nil {
		t.Fatal(err)
	}
	const n = 200
	var ds []WebhookDelivery
	t0 := time.Now().Add(-time.Minute)
	for i := 0; i < n; i++ {
		ds = append(ds, WebhookDelivery{ID: fmt.Sprintf("msg_%03d", i), EndpointID: "wh_n", EventType: "request.created", Payload: []byte("{}"), CreatedAt: t0})
	}
	if err := a.EnqueueWebhookDeliveries(ctx, ds); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	seen := map[string]int{}
	var wg sync.WaitGroup
	for w := 0; w < 6; w++ {
		s := a
		if w%2 == 1 {
			s = b
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				cl, err := s.ClaimWebhookDeliveries(ctx, "wh_n", time.Now(), time.Hour, 7)
				if err != nil {
					t.Error(err)
					return
				}
				if len(cl) == 0 {
					return
				}
				mu.Lock()
				for _, d := range cl {
					seen[d.ID]++
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(seen) != n {
		t.Fatalf("%d of %d deliveries claimed", len(seen), n)
	}
	for id, c := range seen {
		if c != 1 {
			t.Errorf("%s claimed %d times", id, c)
		}
	}
}
