package webhooks

import (
	"context"
	"fmt"
	"testing"

	"github.com/deskside/deskside/server/internal/store"
	"github.com/deskside/deskside/shared/protocol"
)

// BenchmarkPublish is what the sink adds to the request path: one
// durable insert per subscribed endpoint (SQLite, dispatcher not running),
// and nothing but a cached list read when no endpoint listens.
func BenchmarkPublish(b *testing.B) {
	for _, n := range []int{0, 1, 4} {
		b.Run(fmt.Sprintf("endpoints=%d", n), func(b *testing.B) {
			st, err := store.Open(context.Background(), b.TempDir())
			if err != nil {
				b.Fatal(err)
			}
			defer st.Close()
			for i := range n {
				if _, err := st.CreateWebhook(context.Background(), store.WebhookEndpoint{ID: fmt.Sprintf("wh_%d", i), URL: "https://hooks.example.com/x",
					Kind: store.WebhookStandard, Secret: NewSecret(), Events: []string{"request.created"}}); err != nil {
					b.Fatal(err)
				}
			}
			svc := New(Options{Store: st, Log: quietLog()})
			ev := requestEvent("bench", protocol.UrgencyBlocking)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				ev.ID = fmt.Sprintf("evt_%d", i)
				svc.Publish(context.Background(), ev)
			}
		})
	}
}
