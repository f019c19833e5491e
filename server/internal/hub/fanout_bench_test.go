package hub

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/deskside/deskside/server/internal/store"
)

// BenchmarkDeliverAnnouncement delivers one shared frame to 2,000 device
// links (real loopback sockets, clients in this process) and waits until
// every client has read it: "goroutine-per-link" is the per-link writer
// path used before the sender workers, "workers" is fanOut.
// DESKSIDE_BENCH_LINKS sets another count (two sockets each: mind ulimit -n).
func BenchmarkDeliverAnnouncement(b *testing.B) {
	links := 2000
	if n, err := strconv.Atoi(os.Getenv("DESKSIDE_BENCH_LINKS")); err == nil && n > 0 {
		links = n
	}
	for _, mode := range []string{"goroutine-per-link", "workers"} {
		b.Run(mode, func(b *testing.B) {
			if mode == "goroutine-per-link" {
				old := fanOutMin
				fanOutMin = 1 << 30
				defer func() { fanOutMin = old }()
			}
			h := New(Config{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
			defer h.Close()
			up := websocket.Upgrader{WriteBufferPool: &sync.Pool{}}
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				ws, err := up.Upgrade(w, r, nil)
				if err != nil {
					return
				}
				p := h.AddDevice(ws, r.URL.Query().Get("id"))
				_ = h.Resume(p, func([]store.Delivery) []byte { return []byte(`{}`) }, func() ([]store.Delivery, error) { return nil, nil })
			}))
			defer srv.Close()
			conns := make([]*websocket.Conn, links)
			for i := range conns {
				ws, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http")+"/?id="+fmt.Sprint(i), nil)
				if err != nil {
					b.Fatal(err)
				}
				defer ws.Close()
				if _, _, err := ws.ReadMessage(); err != nil { // welcome
					b.Fatal(err)
				}
				conns[i] = ws
			}
			f := announcementFrame(b)
			frames := make(chan struct{}, links)
			for _, ws := range conns {
				go func() {
					for {
						if _, _, err := ws.ReadMessage(); err != nil {
							return
						}
						frames <- struct{}{}
					}
				}()
			}
			ds := make([]store.Delivery, links)
			b.ResetTimer()
			var total time.Duration
			for n := range b.N {
				for i := range ds {
					ds[i] = store.Delivery{DeviceID: fmt.Sprint(i), Seq: uint64(n + 1), Shared: f}
				}
				t0 := time.Now()
				h.Deliver(ds...)
				for range links {
					<-frames
				}
				total += time.Since(t0)
			}
			b.ReportMetric(float64(total.Microseconds())/1000/float64(b.N), "ms/broadcast")
		})
	}
}
