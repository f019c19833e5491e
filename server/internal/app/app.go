// Package app wires the server together from its configuration: the data
// directory, the store, the hub, the HTTP API and console, TLS, and the
// first-start bootstrap (setup token, first enrolment token). Both
// server/main.go and server/servertest build the server through it, so
// tests run exactly what production runs.
package app

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/time/rate"

	"github.com/deskside/deskside/server/internal/api"
	"github.com/deskside/deskside/server/internal/auth"
	"github.com/deskside/deskside/server/internal/bus"
	"github.com/deskside/deskside/server/internal/console"
	"github.com/deskside/deskside/server/internal/events"
	"github.com/deskside/deskside/server/internal/hub"
	"github.com/deskside/deskside/server/internal/identity"
	"github.com/deskside/deskside/server/internal/mail"
	"github.com/deskside/deskside/server/internal/release"
	"github.com/deskside/deskside/server/internal/reports"
	"github.com/deskside/deskside/server/internal/sso"
	"github.com/deskside/deskside/server/internal/store"
	"github.com/deskside/deskside/server/internal/targets"
	"github.com/deskside/deskside/server/internal/webhooks"
)

// Config is everything the server can be told. Zero values are defaults.
type Config struct {
	DataDir string // default ./data
	// Store is "sqlite" (default: embedded, in DataDir) or "postgres"
	// (DatabaseURL; several server nodes may share it).
	Store       string
	DatabaseURL string // postgres://… when Store is "postgres"
	// Bus is "local" (default: one node, in-process) or "nats" (NATSURL;
	// live routing between nodes that share one PostgreSQL database).
	Bus     string
	NATSURL string // nats://host:4222 when Bus is "nats"
	// Cluster namespaces the bus subjects of one help desk (default
	// "default"); NodeID names this node on it (default host name + random).
	Cluster        string
	NodeID         string
	TLSCert        string // PEM certificate file
	TLSKey         string // PEM key file
	TLSSelfSigned  bool   // generate (once) and use a self-signed certificate
	AllowedOrigins []string
	ServerName     string
	PingInterval   time.Duration // default 120 s
	DeviceRate     float64       // frames per second per device link; default 20
	DeviceBurst    int           // default 50
	QueueLen       int           // frames queued per link before "slow consumer"; default 256
	// ReleasePublicKeys are the publisher's minisign public key(s) for
	// agent updates. Empty: the server runs, and the releases API answers
	// 503 saying how to configure it.
	ReleasePublicKeys string
	// MetricsToken, when set, is the bearer token GET /metrics asks for.
	MetricsToken string
	// OIDC turns on single sign-on for technicians (nil: off; docs/sso.md).
	OIDC *sso.Config
	// PublicURL is the server's base URL as people reach it, for links in
	// webhooks, chat messages and emails ("" leaves links out).
	PublicURL string
	// Mail tunes connections to the mail server (tests trust their own
	// certificate authority here); the settings are in Admin → Email.
	Mail mail.SMTPOptions
	// MailSender sends the monthly report (nil: the app's durable email
	// queue). ReportRecipients picks who gets it (nil: every enabled
	// account whose preferences ask for IT's monthly report).
	MailSender       mail.Sender
	ReportRecipients func(ctx context.Context) ([]string, error)
	Log              *slog.Logger
}

// App is a wired server. Handler serves everything; Close releases it.
type App struct {
	Config Config
	Store  store.Store
	Bus    bus.Bus
	Hub    *hub.Hub
	API    *api.API // Mount, DeviceAuth and StaffAuth for other services
	// Webhooks sends events to registered endpoints (and Slack, Teams).
	Webhooks *webhooks.Service
	// Releases is the agent update service; nil without a publisher key.
	Releases *release.Service
	Handler  http.Handler
	// TLS is non-nil when the server serves HTTPS.
	TLS *tls.Config
	// Pin is the SHA-256 of the self-signed certificate (nil otherwise).
	Pin []byte
	// Targets is the response-target clock (SLAs).
	Targets *targets.Service
	// Mail queues email durably (the mail.Sender for the rest of the
	// server); mailWorker delivers it.
	Mail       *mail.Queue
	mailWorker *mail.Worker

	stopJobs context.CancelFunc // ends the background jobs (the monthly report email)
	jobs     sync.WaitGroup
}

// New opens the data directory and builds the server.
func New(ctx context.Context, cfg Config) (*App, error) {
	if cfg.DataDir == "" {
		cfg.DataDir = "data"
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.OIDC != nil {
		if err := cfg.OIDC.Check(); err != nil {
			return nil, err
		}
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}
	a := &App{Config: cfg}
	var err error
	switch {
	case cfg.TLSCert != "" || cfg.TLSKey != "":
		cert, err := tls.LoadX509KeyPair(cfg.TLSCert, cfg.TLSKey)
		if err != nil {
			return nil, fmt.Errorf("load TLS certificate: %w", err)
		}
		a.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	case cfg.TLSSelfSigned:
		cert, pin, err := SelfSigned(filepath.Join(cfg.DataDir, "tls"))
		if err != nil {
			return nil, err
		}
		a.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		a.Pin = pin
	}
	if a.Store, err = OpenStore(ctx, cfg); err != nil {
		return nil, err
	}
	a.Hub = hub.New(hub.Config{PingInterval: cfg.PingInterval, QueueLen: cfg.QueueLen}, cfg.Log)
	if a.Bus, err = OpenBus(cfg); err != nil {
		a.Close()
		return nil, err
	}
	if err := a.Hub.Attach(a.Bus, a.Store.Replay); err != nil {
		a.Close()
		return nil, fmt.Errorf("attach the bus: %w", err)
	}
	reg := prometheus.NewRegistry()
	// sinks hear what happened after it is stored; each integration
	// (webhooks, chat, email) adds its own.
	var sinks events.Multi
	// The response-target clock: due times, the pause, warnings (every
	// 30 s on each node; the store hands each warning to one node) and
	// the expectations devices hear. It lives as long as the app.
	// &sinks: it hears every sink added to sinks, before or after this line.
	a.Targets = targets.New(targets.Options{Store: a.Store, Hub: a.Hub, Log: cfg.Log, Events: &sinks, PublicURL: cfg.PublicURL})
	a.Targets.Start(context.WithoutCancel(ctx))
	a.Mail = mail.NewQueue(a.Store)
	sinks = append(sinks, mail.NewNotifier(a.Store, a.Mail, cfg.Log))
	a.Webhooks = webhooks.New(webhooks.Options{Store: a.Store, Log: cfg.Log, ServerName: cfg.ServerName})
	a.Webhooks.Start()
	sinks = append(sinks, a.Webhooks)
	a.API = api.New(api.Options{
		Store: a.Store, Hub: a.Hub, Log: cfg.Log, Console: console.Handler(), ServerName: cfg.ServerName,
		AllowedOrigins: cfg.AllowedOrigins, Pin: a.Pin, SecureCookies: a.TLS != nil,
		DeviceRate: rate.Limit(cfg.DeviceRate), DeviceBurst: cfg.DeviceBurst, SSO: cfg.OIDC,
		SetupTokenFile: filepath.Join(cfg.DataDir, SetupTokenFile), MetricsToken: cfg.MetricsToken,
		Events: &sinks, PublicURL: cfg.PublicURL, Targets: a.Targets, SMTP: cfg.Mail, Webhooks: a.Webhooks,
	}, reg)
	a.mailWorker = mail.StartWorker(mail.WorkerOptions{Store: a.Store, Queue: a.Mail, Log: cfg.Log, SMTP: cfg.Mail})
	if err := a.wireReleases(ctx); err != nil {
		a.Close()
		return nil, err
	}
	a.Handler = a.API
	a.startJobs(cfg)
	return a, nil
}

// startJobs starts what each node runs in the background until Close:
// the monthly report email, when there is a way to send email (every node
// runs it; a claim in the store lets one send).
func (a *App) startJobs(cfg Config) {
	ctx, cancel := context.WithCancel(context.Background())
	a.stopJobs = cancel
	if cfg.MailSender == nil && a.Mail != nil {
		cfg.MailSender = a.Mail
	}
	if cfg.ReportRecipients == nil {
		cfg.ReportRecipients = func(ctx context.Context) ([]string, error) {
			ts, err := a.Store.MailRecipients(ctx, store.PrefMonthlyReport)
			out := make([]string, 0, len(ts))
			for _, t := range ts {
				out = append(out, t.Email)
			}
			return out, err
		}
	}
	if cfg.MailSender != nil {
		m := &reports.Mailer{Store: a.Store, Sender: cfg.MailSender, Recipients: cfg.ReportRecipients, PublicURL: cfg.PublicURL,
			ServerName: cfg.ServerName, Node: cfg.NodeID, Log: cfg.Log.With("job", "report-mail")}
		a.jobs.Go(func() { m.Run(ctx) })
	}
}

// OpenStore opens the store cfg names: embedded SQLite in cfg.DataDir, or
// PostgreSQL at cfg.DatabaseURL. Migrations run either way.
func OpenStore(ctx context.Context, cfg Config) (*store.SQL, error) {
	switch cfg.Store {
	case "", "sqlite":
		if cfg.DatabaseURL != "" {
			return nil, errors.New("a database URL is only for --store postgres")
		}
		return store.Open(ctx, cfg.DataDir)
	case "postgres", "postgresql":
		if cfg.DatabaseURL == "" {
			return nil, errors.New("--store postgres needs --database-url (or $DESKSIDE_DATABASE_URL)")
		}
		return store.OpenPostgres(ctx, cfg.DatabaseURL)
	}
	return nil, fmt.Errorf("unknown store %q: sqlite or postgres", cfg.Store)
}

// OpenBus connects to the bus cfg names: in-process (one node) or NATS.
func OpenBus(cfg Config) (bus.Bus, error) {
	switch cfg.Bus {
	case "", "local":
		if cfg.NATSURL != "" {
			return nil, errors.New("a NATS URL is only for --bus nats")
		}
		return bus.NewMem().Node(), nil
	case "nats":
		if cfg.NATSURL == "" {
			return nil, errors.New("--bus nats needs --nats-url (or $DESKSIDE_NATS_URL)")
		}
		if cfg.Store != "postgres" && cfg.Store != "postgresql" {
			return nil, errors.New("--bus nats is for several nodes on one database: use it with --store postgres")
		}
		node := cfg.NodeID
		if node == "" {
			node = NodeID()
		}
		return bus.DialNATS(bus.NATSOptions{URL: cfg.NATSURL, Cluster: cfg.Cluster, Node: node, Log: cfg.Log})
	}
	return nil, fmt.Errorf("unknown bus %q: local or nats", cfg.Bus)
}

// NodeID is a fresh node id: the host name and a random suffix.
func NodeID() string {
	host, _ := os.Hostname()
	if host == "" {
		host = "node"
	}
	return host + "-" + auth.RandomToken(4)
}

// Close drops every link, applies the delivery cursors still in memory
// and closes the bus and the store, in that order. Shut the listener first (see
// server/main.go). Safe to call twice.
func (a *App) Close() error {
	if a.mailWorker != nil {
		a.mailWorker.Close() // finishes the email in hand; the rest stays queued
	}
	if a.stopJobs != nil {
		a.stopJobs()
		a.jobs.Wait()
	}
	if a.Hub != nil {
		a.Hub.Close()
	}
	var err error
	if a.Targets != nil {
		a.Targets.Close()
	}
	if a.API != nil {
		err = a.API.Close()
	}
	if a.Webhooks != nil {
		// Before the store: an attempt in flight gives its delivery back.
		err = errors.Join(err, a.Webhooks.Close())
	}
	if a.Bus != nil {
		err = errors.Join(err, a.Bus.Close())
	}
	if a.Store != nil {
		err = errors.Join(err, a.Store.Close())
	}
	return err
}

// Bootstrap is what a first start hands the person running the server.
type Bootstrap struct {
	// SetupToken is the one-time token for POST /api/v1/setup; "" once an
	// account exists.
	SetupToken string
	// EnrollToken is the first enrolment token; "" unless made just now.
	EnrollToken string
	// EnrollTokenExpires is when EnrollToken stops enrolling (FirstTokenTTL).
	EnrollTokenExpires time.Time
}

// FirstTokenTTL is how long the first enrolment token works: long enough
// to roll the agent out, short enough that a token printed in a log or
// pasted in a chat stops mattering. Make more with `deskside-server token create`.
const FirstTokenTTL = 7 * 24 * time.Hour

// File names in the data directory that scripts read (see docs/api.md).
const (
	SetupTokenFile  = "setup-token"
	EnrollTokenFile = "enroll-token"
)

// Bootstrap prepares a fresh server: while no technician exists it makes a
// new one-time setup token (only its hash is stored); when no enrolment
// token exists it makes one for the "default" group that expires after
// FirstTokenTTL. Both
// are written to files in the data directory (0600) for scripts.
func (a *App) Bootstrap(ctx context.Context) (Bootstrap, error) {
	var b Bootstrap
	n, err := a.Store.CountTechnicians(ctx)
	if err != nil {
		return b, err
	}
	setupFile := filepath.Join(a.Config.DataDir, SetupTokenFile)
	if n == 0 {
		b.SetupToken = auth.RandomToken(24)
		if err := a.Store.SetMeta(ctx, identity.MetaSetupTokenHash, hashHex(b.SetupToken)); err != nil {
			return b, err
		}
		if err := os.WriteFile(setupFile, []byte(b.SetupToken+"\n"), 0o600); err != nil {
			return b, fmt.Errorf("write setup token file: %w", err)
		}
	} else if err := os.Remove(setupFile); err != nil && !errors.Is(err, os.ErrNotExist) {
		return b, fmt.Errorf("remove used setup token file: %w", err)
	}
	toks, err := a.Store.ListTokens(ctx)
	if err != nil {
		return b, err
	}
	if len(toks) == 0 {
		t, tok, err := api.CreateToken(ctx, a.Store, "default", 0, FirstTokenTTL, a.Pin)
		if err != nil {
			return b, err
		}
		b.EnrollToken, b.EnrollTokenExpires = tok, *t.ExpiresAt
		if err := os.WriteFile(filepath.Join(a.Config.DataDir, EnrollTokenFile), []byte(tok+"\n"), 0o600); err != nil {
			return b, fmt.Errorf("write enrolment token file: %w", err)
		}
	}
	return b, nil
}
