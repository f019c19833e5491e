package webhooks

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/deskside/deskside/server/internal/store"
	"github.com/deskside/deskside/server/internal/store/pgtest"
	"github.com/deskside/deskside/shared/protocol"
)

// Two server nodes on one PostgreSQL database share the queue: every
// delivery arrives, and none twice.
func TestTwoNodesOnPostgres(t *testing.T) {
	url := pgtest.URL(t)
	open := func() *store.SQL {
		s, err := store.OpenPostgres(context.Background(), url)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	a, b := open(), open()
	secret := NewSecret()
	rcv, srv := newReceiver(t, secret, 0)
	ep := addEndpoint(t, a, store.WebhookEndpoint{ID: "wh_pg", URL: srv.URL, Secret: secret, AllowPrivate: true})
	na := start(t, Options{Store: a, Poll: 50 * time.Millisecond})
	nb := start(t, Options{Store: b, Poll: 50 * time.Millisecond})
	const n = 40
	for i := range n {
		node := na
		if i%2 == 1 {
			node = nb
		}
		node.Publish(context.Background(), requestEvent(fmt.Sprint("pg", i), protocol.UrgencyBlocking))
	}
	for i := range n {
		select {
		case <-rcv.got:
		case <-time.After(20 * time.Second):
			t.Fatalf("%d of %d deliveries arrived", i, n)
		}
	}
	waitFor(t, "all recorded delivered", func() bool {
		ds, err := a.ListWebhookDeliveries(context.Background(), ep.ID, 100)
		if err != nil || len(ds) != n {
			return false
		}
		for _, d := range ds {
			if d.Status != store.DeliveryDelivered {
				return false
			}
		}
		return true
	})
	rcv.mu.Lock()
	defer rcv.mu.Unlock()
	if len(rcv.arrived) != n || len(rcv.ids) != n {
		t.Fatalf("%d requests for %d ids; want %d each (nothing sent twice)", len(rcv.arrived), len(rcv.ids), n)
	}
}
