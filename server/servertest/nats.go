package servertest

import (
	"net"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/deskside/deskside/server/internal/app"
	"github.com/deskside/deskside/server/internal/auth"
)

// DefaultNATSURL is where tests look for NATS unless
// $DESKSIDE_TEST_NATS_URL says otherwise.
const DefaultNATSURL = "nats://127.0.0.1:4222"

// WithNATS routes live frames between server nodes through NATS at
// $DESKSIDE_TEST_NATS_URL (default DefaultNATSURL), in the bus namespace
// cluster: "" makes a fresh one for this test; pass s.Cluster() to the next
// node. Use it with WithPostgres. Without a reachable NATS the test is
// skipped, or fails when CI=true.
func WithNATS(cluster string) Option {
	return func(c *app.Config) { c.Bus, c.Cluster = "nats", cluster }
}

// Cluster is the server's bus namespace (for WithNATS on another node).
func (s *Server) Cluster() string { return s.cfg.Cluster }

// NATSURL returns the test NATS server's URL, skipping the test when it is
// unreachable (failing it when CI=true).
func NATSURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv("DESKSIDE_TEST_NATS_URL")
	if u == "" {
		u = DefaultNATSURL
	}
	host := u
	if p, err := url.Parse(strings.Split(u, ",")[0]); err == nil && p.Host != "" {
		host = p.Host
	}
	c, err := net.DialTimeout("tcp", host, 2*time.Second)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("servertest: NATS at %s is unreachable and CI=true: %v", u, err)
		}
		t.Skipf("servertest: no NATS at %s (set DESKSIDE_TEST_NATS_URL, or run nats-server -js): %v", u, err)
	}
	c.Close()
	return u
}

// natsConfig fills in the URL and a fresh cluster for WithNATS.
func natsConfig(t testing.TB, c *app.Config) {
	if c.Bus != "nats" {
		return
	}
	if c.NATSURL == "" {
		c.NATSURL = NATSURL(t)
	}
	if c.Cluster == "" {
		c.Cluster = "test-" + strings.NewReplacer("-", "", "_", "").Replace(auth.RandomToken(9))
	}
}
