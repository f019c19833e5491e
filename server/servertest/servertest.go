// Package servertest runs a real Deskside server inside a test: real SQLite
// in t.TempDir() (or PostgreSQL in a fresh schema: WithPostgres, or
// DESKSIDE_TEST_STORE=postgres for every server; several nodes on one
// database with WithNATS), the real HTTP handlers on an httptest listener
// (no fixed ports), and helpers to get enrolment tokens, signed-in technicians and a
// console WebSocket. Agent and console tests use it; keep it small and stable.
//
//	s := servertest.New(t)
//	tok := s.Token(t)                   // "dsk1_…", unlimited uses
//	tech := s.Tech(t)                   // signed-in admin "Rob"
//	con := tech.Console(t)              // live console events
//	ev := con.WaitFor(t, protocol.KindRequestCreated)
//	tech.Do(t, "POST", "/api/v1/requests/"+id+"/messages", map[string]string{"text": "On it"}, nil)
//	s.Restart(t)                        // same data dir, same address when free
package servertest

import (
	"context"
	"crypto/tls"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/deskside/deskside/server/internal/api"
	"github.com/deskside/deskside/server/internal/app"
	"github.com/deskside/deskside/server/internal/sso"
	"github.com/deskside/deskside/server/internal/store/pgtest"
)

// Option changes how the test server runs.
type Option func(*app.Config)

// WithPingInterval sets how often the server pings links (default 120 s).
func WithPingInterval(d time.Duration) Option { return func(c *app.Config) { c.PingInterval = d } }

// WithDeviceRate sets the per-link frame rate limit (default 20/s, burst 50).
func WithDeviceRate(perSecond float64, burst int) Option {
	return func(c *app.Config) { c.DeviceRate, c.DeviceBurst = perSecond, burst }
}

// WithQueueLen sets how many frames may wait per link before the server
// closes it as a slow consumer (default 256).
func WithQueueLen(n int) Option { return func(c *app.Config) { c.QueueLen = n } }

// WithSelfSignedTLS serves HTTPS with a generated certificate; tokens then
// carry its pin, and URL() starts with https://.
func WithSelfSignedTLS() Option { return func(c *app.Config) { c.TLSSelfSigned = true } }

// WithAllowedOrigin lets a console page on another origin open the socket.
func WithAllowedOrigin(origin string) Option {
	return func(c *app.Config) { c.AllowedOrigins = append(c.AllowedOrigins, origin) }
}

// WithReleaseKey gives the server the publisher's minisign public key
// ("RWQ…"), which turns on the releases API and update offers.
func WithReleaseKey(pub string) Option { return func(c *app.Config) { c.ReleasePublicKeys = pub } }

// WithOIDC turns on single sign-on with the provider cfg names (the
// redirect URI is taken from each request unless cfg.PublicURL is set).
func WithOIDC(cfg sso.Config) Option { return func(c *app.Config) { c.OIDC = &cfg } }

// WithPostgres runs the server on PostgreSQL at url. With url "" the test
// gets a fresh schema of its own on $DESKSIDE_TEST_DATABASE_URL, dropped at
// the end (see store/pgtest: skipped without a server unless CI=true).
// DESKSIDE_TEST_STORE=postgres makes that the default for every server.
func WithPostgres(url string) Option {
	return func(c *app.Config) { c.Store, c.DatabaseURL = "postgres", url }
}

// WithMetricsToken makes GET /metrics ask for a bearer token.
func WithMetricsToken(tok string) Option { return func(c *app.Config) { c.MetricsToken = tok } }

// WithLogger sends the server's logs to l (default: discarded unless -v).
func WithLogger(l *slog.Logger) Option { return func(c *app.Config) { c.Log = l } }

// AdminEmail and AdminPassword sign in the technician Tech returns.
const (
	AdminEmail    = "rob@example.com"
	AdminName     = "Rob"
	AdminPassword = "correct horse battery staple"
)

// Server is a running test server.
type Server struct {
	cfg  app.Config
	mu   sync.Mutex
	app  *app.App
	srv  *httptest.Server
	addr string

	setupToken string
	adminReady bool
}

// New starts a server on a fresh data directory and stops it at the end of
// the test.
func New(t testing.TB, opts ...Option) *Server {
	t.Helper()
	cfg := app.Config{DataDir: t.TempDir(), Log: testLogger(t), Store: os.Getenv("DESKSIDE_TEST_STORE")}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.Store == "postgres" && cfg.DatabaseURL == "" {
		cfg.DatabaseURL = pgtest.URL(t) // before the server starts: dropped after it stops
	}
	natsConfig(t, &cfg)
	s := &Server{cfg: cfg}
	s.start(t, "")
	t.Cleanup(s.Close)
	return s
}

func testLogger(t testing.TB) *slog.Logger {
	if testing.Verbose() && os.Getenv("DESKSIDE_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

func (s *Server) start(t testing.TB, addr string) {
	t.Helper()
	a, err := app.New(context.Background(), s.cfg)
	if err != nil {
		t.Fatalf("servertest: start server: %v", err)
	}
	b, err := a.Bootstrap(context.Background())
	if err != nil {
		a.Close()
		t.Fatalf("servertest: bootstrap: %v", err)
	}
	if b.SetupToken != "" {
		s.setupToken = b.SetupToken
	}
	srv := httptest.NewUnstartedServer(a.Handler)
	if addr != "" {
		if ln, err := net.Listen("tcp", addr); err == nil {
			srv.Listener.Close()
			srv.Listener = ln
		}
	}
	if a.TLS != nil {
		srv.TLS = a.TLS.Clone()
		srv.StartTLS()
	} else {
		srv.Start()
	}
	s.mu.Lock()
	s.app, s.srv, s.addr = a, srv, srv.Listener.Addr().String()
	s.mu.Unlock()
}

// SetupToken is the one-time setup token printed at first start.
func (s *Server) SetupToken() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.setupToken
}

// Handler is the server's HTTP handler, for requests made in-process
// (e.g. from chosen client addresses).
func (s *Server) Handler() http.Handler {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.app.Handler
}

// URL is the server's base URL, e.g. http://127.0.0.1:41234.
func (s *Server) URL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.srv.URL
}

// WSURL is the WebSocket URL of path (ws:// or wss://).
func (s *Server) WSURL(path string) string {
	u := s.URL()
	return "ws" + strings.TrimPrefix(u, "http") + path
}

// Store is the server's store ("sqlite" or "postgres").
func (s *Server) Store() string {
	if s.cfg.Store == "" {
		return "sqlite"
	}
	return s.cfg.Store
}

// DatabaseURL is the PostgreSQL URL the server uses ("" on SQLite): pass
// it to WithPostgres to start a second node on the same database.
func (s *Server) DatabaseURL() string { return s.cfg.DatabaseURL }

// DataDir is the server's data directory.
func (s *Server) DataDir() string { return s.cfg.DataDir }

// App is the wired server, for tests that drive a part directly (the
// response-target clock's Tick, say) instead of waiting for its timer.
func (s *Server) App() *app.App { return s.app }

// Pin is the SHA-256 pin of the server's certificate under
// WithSelfSignedTLS, nil otherwise.
func (s *Server) Pin() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.app.Pin
}

// TLSConfig trusts exactly the test server's certificate (nil without TLS).
func (s *Server) TLSConfig() *tls.Config {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.app.TLS == nil {
		return nil
	}
	return s.srv.Client().Transport.(*http.Transport).TLSClientConfig.Clone()
}

// Token returns a fresh enrolment token: group "default", unlimited uses,
// no expiry (with the certificate pin under WithSelfSignedTLS).
func (s *Server) Token(t testing.TB) string {
	t.Helper()
	return s.TokenWith(t, "default", 0, 0)
}

// TokenWith returns a fresh enrolment token for group, limited to maxUses
// (0: unlimited) and expiring after expiresIn (0: never; negative: already
// expired, for tests).
func (s *Server) TokenWith(t testing.TB, group string, maxUses int, expiresIn time.Duration) string {
	t.Helper()
	s.mu.Lock()
	a := s.app
	s.mu.Unlock()
	_, tok, err := api.CreateToken(context.Background(), a.Store, group, maxUses, expiresIn, a.Pin)
	if err != nil {
		t.Fatalf("servertest: create token: %v", err)
	}
	return tok
}

// Restart stops the server and starts it again on the same data directory
// and, when the port is still free, the same address. Live links drop as
// they would on a real restart.
func (s *Server) Restart(t testing.TB) {
	t.Helper()
	s.stop()
	s.start(t, s.addr)
}

func (s *Server) stop() {
	s.mu.Lock()
	a, srv := s.app, s.srv
	s.app, s.srv = nil, nil
	s.mu.Unlock()
	if a == nil {
		return
	}
	// As server/main.go: stop accepting first, then drop the hijacked
	// links (which srv.Close does not track), flush, close the store.
	srv.Listener.Close()
	srv.CloseClientConnections()
	srv.Close()
	a.Close()
}

// Close stops the server. Safe to call twice.
func (s *Server) Close() { s.stop() }
