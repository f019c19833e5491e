package servertest_test

import (
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/deskside/deskside/server/servertest"
	"github.com/deskside/deskside/shared/protocol"
)

// BenchmarkReplyAcrossNodes times a technician's reply from the REST call
// on one node to the frame read by the device, linked to node A: "same"
// with the reply posted on A, "cross" with it posted on B (through NATS).
// The difference is the routing; both include the PostgreSQL commit.
//
//	go test -run '^$' -bench ReplyAcrossNodes -benchtime 1000x ./server/servertest/
//
// On the 2-core dev box (local PostgreSQL and NATS, 1000 replies, two runs)
// both were p50 ~1.8 ms and p99 ~10-12 ms: the hop through NATS is lost in
// the commit and the scheduling noise.
func BenchmarkReplyAcrossNodes(b *testing.B) {
	nodeA := servertest.New(b, servertest.WithPostgres(""), servertest.WithNATS(""))
	techA := nodeA.Tech(b)
	nodeB := servertest.New(b, servertest.WithPostgres(nodeA.DatabaseURL()), servertest.WithNATS(nodeA.Cluster()))
	techB := nodeB.Login(b, servertest.AdminEmail, servertest.AdminPassword)
	d := nodeA.Enroll(b, "bench-pc")
	d.Connect(b, 0)
	id := d.RaiseRequest(b, "bench")
	for _, c := range []struct {
		name string
		tech *servertest.Tech
	}{{"same", techA}, {"cross", techB}} {
		b.Run(c.name, func(b *testing.B) {
			lat := make([]time.Duration, 0, b.N)
			for b.Loop() {
				start := time.Now()
				if st := c.tech.Do(b, http.MethodPost, "/api/v1/requests/"+id+"/messages", map[string]string{"text": "hi"}, nil); st != http.StatusCreated {
					b.Fatalf("reply: %d", st)
				}
				d.WaitFor(b, protocol.KindMessage)
				lat = append(lat, time.Since(start))
			}
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
		})
	}
}
