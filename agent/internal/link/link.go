// Package link keeps the agent's WebSocket to the server: dial with the
// device credentials, hello/welcome, exponential backoff with full jitter,
// ping/pong keepalive with read deadlines, reconnect after sleep or a network
// change, certificate pinning, resending the outbox after each (re)connect,
// and the delivery cursor for server messages. It stores nothing itself:
// the Handler (the core) does.
package link

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/deskside/deskside/agent/agentapi"
	"github.com/deskside/deskside/shared/protocol"
)

// Errors a Handler can tell apart to choose the user's words.
var (
	// ErrInsecure: plain ws:// (http://) to a host that is not this machine.
	ErrInsecure = errors.New("refusing an unencrypted connection to a remote server")
	// ErrPinMismatch: the server's certificate is not the one enrolment pinned.
	ErrPinMismatch = errors.New("server certificate does not match the enrolment pin")
	// ErrUnauthorized: the server refused the device credentials (revoked or unknown).
	ErrUnauthorized = errors.New("server refused the device credentials")
	// ErrRevoked: the server closed the link because the device was revoked.
	ErrRevoked = errors.New("device was revoked")
	// ErrGarbage: the server sent frames the agent cannot read.
	ErrGarbage = errors.New("server sent unreadable frames")
	// ErrOffline: a volatile frame could not be sent because the link is down.
	ErrOffline = errors.New("not connected")
)

// Frame is one outbox entry to (re)send: the envelope id and its wire form.
type Frame struct {
	ID   string
	Data []byte
}

// Handler receives what the link hears. Methods are called from the link's
// goroutines, one at a time per connection.
type Handler interface {
	// Hello returns the hello to send (with the last stored seq).
	Hello(ctx context.Context) (protocol.Hello, error)
	// Pending returns the outbox, oldest first.
	Pending(ctx context.Context) ([]Frame, error)
	// State reports a change of connection state; err explains offline.
	State(s agentapi.ConnState, err error, nextRetry time.Time)
	// Welcome is called when the server accepted the hello.
	Welcome(ctx context.Context, w protocol.Welcome)
	// Ack settles an outbox frame.
	Ack(ctx context.Context, a protocol.Ack)
	// Refused reports an error frame from the server.
	Refused(ctx context.Context, e protocol.Error)
	// Store durably stores a server frame that carries a seq. Only after it
	// returns nil does the link count the seq as delivered.
	Store(ctx context.Context, env protocol.Envelope) error
	// Control handles unsequenced requests: snapshot.want,
	// telemetry.start/stop, update.available.
	Control(ctx context.Context, env protocol.Envelope)
}

// Config configures a Link. Server, DeviceID, Secret and Handler are required.
type Config struct {
	Server   string // https://help.example.com, or http://127.0.0.1:port for a local server
	DeviceID string
	Secret   string
	Pin      []byte         // SHA-256 of the server certificate (DER); nil: normal TLS verification
	RootCAs  *x509.CertPool // for tests; nil: the system roots
	Handler  Handler
	Log      *slog.Logger

	// Backoff between attempts: full jitter over min(Cap, Base·2^n).
	BackoffBase time.Duration // default 1 s
	BackoffCap  time.Duration // default 60 s
	// Rand returns a float in [0,1); injectable for tests.
	Rand func() float64
	// Sleep waits d or until ctx is done; injectable for tests.
	Sleep func(ctx context.Context, d time.Duration) error

	// PingInterval is used until the welcome says otherwise (default 60 s).
	PingInterval time.Duration
	// CursorDelay batches delivery.cursor frames (default 2 s).
	CursorDelay time.Duration
	// WatchInterval is how often sleep and network changes are checked (default 15 s).
	WatchInterval time.Duration
	// HandshakeTimeout caps dial + TLS + upgrade + welcome (default 20 s).
	HandshakeTimeout time.Duration
}

// Link is a reconnecting device link.
type Link struct {
	cfg   Config
	wsURL string
	log   *slog.Logger
	tls   *tls.Config

	kick chan struct{} // wake: drain the outbox or retry now

	mu   sync.Mutex
	conn *session // nil when offline
}

// New checks cfg and returns a Link; call Run to start it.
func New(cfg Config) (*Link, error) {
	u, err := deviceURL(cfg.Server)
	if err != nil {
		return nil, err
	}
	if cfg.Handler == nil {
		return nil, errors.New("link: no handler")
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.BackoffBase <= 0 {
		cfg.BackoffBase = time.Second
	}
	if cfg.BackoffCap <= 0 {
		cfg.BackoffCap = 60 * time.Second
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Float64
	}
	if cfg.Sleep == nil {
		cfg.Sleep = sleep
	}
	if cfg.PingInterval <= 0 {
		cfg.PingInterval = 60 * time.Second
	}
	if cfg.CursorDelay <= 0 {
		cfg.CursorDelay = 2 * time.Second
	}
	if cfg.WatchInterval <= 0 {
		cfg.WatchInterval = 15 * time.Second
	}
	if cfg.HandshakeTimeout <= 0 {
		cfg.HandshakeTimeout = 20 * time.Second
	}
	l := &Link{cfg: cfg, wsURL: u, log: cfg.Log.With("component", "link"), kick: make(chan struct{}, 1)}
	l.tls = TLSConfig(cfg.Pin, cfg.RootCAs)
	return l, nil
}

// deviceURL turns the server URL into the device WebSocket URL, refusing
// plain text to anything but this machine.
func deviceURL(server string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(server))
	if err != nil || u.Host == "" {
		return "", fmt.Errorf("server URL %q is not a URL like https://help.example.com", server)
	}
	switch u.Scheme {
	case "https", "wss":
		u.Scheme = "wss"
	case "http", "ws":
		if !isLoopback(u.Hostname()) {
			return "", fmt.Errorf("%w (%s)", ErrInsecure, u.Host)
		}
		u.Scheme = "ws"
	default:
		return "", fmt.Errorf("server URL %q: scheme must be https", server)
	}
	u.Path = strings.TrimRight(u.Path, "/") + protocol.DevicePath
	return u.String(), nil
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// TLSConfig verifies the server normally, or — when a pin is set — checks
// that the leaf certificate's SHA-256 equals the pin (self-signed servers,
// as kubeadm's discovery hash). The pin also accepts the SHA-256 of the
// certificate's public key (SPKI), so a renewed certificate with the same
// key keeps working.
func TLSConfig(pin []byte, roots *x509.CertPool) *tls.Config {
	c := &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: roots}
	if len(pin) == 0 {
		return c
	}
	c.InsecureSkipVerify = true // replaced by the pin check below, never skipped
	c.VerifyConnection = func(cs tls.ConnectionState) error {
		if len(cs.PeerCertificates) == 0 {
			return ErrPinMismatch
		}
		leaf := cs.PeerCertificates[0]
		full, spki := sha256.Sum256(leaf.Raw), sha256.Sum256(leaf.RawSubjectPublicKeyInfo)
		if subtle.ConstantTimeCompare(full[:], pin) == 1 || subtle.ConstantTimeCompare(spki[:], pin) == 1 {
			return nil
		}
		return fmt.Errorf("%w (server presented %s)", ErrPinMismatch, hex.EncodeToString(full[:]))
	}
	return c
}

// Backoff returns the wait before attempt n (0-based): full jitter over
// min(cap, base·2^n).
func Backoff(n int, base, cap time.Duration, r float64) time.Duration {
	d := cap
	if n < 32 {
		if e := base << uint(n); e > 0 && e < cap {
			d = e
		}
	}
	return time.Duration(r * float64(d))
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Kick wakes the link: drain the outbox now, or end the current backoff
// wait and try to connect (the user just pressed Send).
func (l *Link) Kick() {
	select {
	case l.kick <- struct{}{}:
	default:
	}
}

// Online reports whether a welcomed connection is up.
func (l *Link) Online() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.conn != nil
}

// Send writes a volatile frame (telemetry, snapshot) if online.
func (l *Link) Send(env protocol.Envelope) error {
	l.mu.Lock()
	s := l.conn
	l.mu.Unlock()
	if s == nil {
		return ErrOffline
	}
	b, err := env.Marshal()
	if err != nil {
		return fmt.Errorf("encode %s: %w", env.Type, err)
	}
	return s.enqueue(b)
}

// Run connects and reconnects until ctx is done.
func (l *Link) Run(ctx context.Context) error {
	attempt := 0
	for {
		l.cfg.Handler.State(agentapi.ConnConnecting, nil, time.Time{})
		welcomed, err := l.session(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if welcomed {
			attempt = 0
		}
		wait := Backoff(attempt, l.cfg.BackoffBase, l.cfg.BackoffCap, l.cfg.Rand())
		if errors.Is(err, ErrRevoked) || errors.Is(err, ErrUnauthorized) || errors.Is(err, ErrPinMismatch) {
			// Retrying soon cannot help; retry rarely in case IT fixes it.
			wait = l.cfg.BackoffCap
		}
		attempt++
		next := time.Now().Add(wait)
		l.cfg.Handler.State(agentapi.ConnOffline, err, next)
		l.log.Info("link down", "err", err, "retry_in", wait.Round(time.Millisecond), "attempt", attempt)
		sctx, cancel := context.WithCancel(ctx)
		go func() {
			select {
			case <-l.kick:
				cancel()
			case <-sctx.Done():
			}
		}()
		err = l.cfg.Sleep(sctx, wait)
		kicked := sctx.Err() != nil && ctx.Err() == nil
		cancel()
		if ctx.Err() != nil {
			return nil
		}
		if kicked {
			attempt = 0
		}
		_ = err
	}
}
