// Package update keeps the agent up to date on its own, safely: it asks the
// server for a release on a jittered timer or when nudged, downloads manifest,
// signature and binary with size caps, verifies the signature with the
// publisher's public key (never the server's word), the SHA-256, size,
// platform and that the version is newer (or a signed rollback), stages the
// file and smoke-runs `<new> version`, swaps it in with minio/selfupdate
// keeping the old binary, restarts when the user is not busy, and rolls back
// on its own if the new version does not report healthy within a window.
//
// Wiring (agent core):
//
//	u, err := update.New(update.Config{ServerURL: …, Authorize: …, DataDir: …,
//		Busy: core.Busy, Report: core.SendUpdateReport, Notify: core.Notify})
//	go u.Run(ctx)                // at startup, before or while the link connects
//	u.Healthy()                  // each time the link is welcomed by the server
//	go u.Offer(ctx, body)        // on an update.available frame (or u.Nudge())
//
// agent/updater.go does this through core.Config's Enrolled, Welcomed and
// UpdateAvailable hooks.
package update

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"aead.dev/minisign"

	"github.com/deskside/deskside/shared/protocol"
	"github.com/deskside/deskside/shared/release"
	"github.com/deskside/deskside/shared/version"
)

// TrustedKeys is the publisher's minisign public key (or keys, comma
// separated, to rotate), fixed at build time:
//
//	-ldflags "-X github.com/deskside/deskside/agent/internal/update.TrustedKeys=RWQ…"
//
// Config.PublicKeys (from enrolment) takes precedence when set.
var TrustedKeys string

// ErrUnsupported is returned where this OS cannot replace its own binary.
var ErrUnsupported = errors.New("self-update is not supported on " + runtime.GOOS + "/" + runtime.GOARCH +
	": install the new version with the Deskside installer")

// OfferPath is where the agent asks the server which release it should run.
const OfferPath = "/api/v1/releases/offer"

// Config wires an Updater. DataDir, ServerURL and a trusted key are required.
type Config struct {
	ServerURL  string                                                   // base URL; offer URLs are resolved against it
	HTTPClient *http.Client                                             // carries the pinned TLS config; default: 5-minute timeout
	Authorize  func(r *http.Request)                                    // adds device credentials (only to ServerURL's host)
	PublicKeys string                                                   // minisign public key(s); default TrustedKeys
	Channel    release.Channel                                          // default stable
	Version    string                                                   // running version; default version.Version
	Executable string                                                   // binary to replace; default os.Executable()
	Args       []string                                                 // arguments for the restart; default os.Args[1:]
	DataDir    string                                                   // the agent's data dir; state lives in DataDir/update
	Interval   time.Duration                                            // between checks, ±25 % jitter; default 6h
	FirstCheck time.Duration                                            // upper bound of the random first delay; default 5m
	Window     time.Duration                                            // health window after a restart; default 5m
	MaxStarts  int                                                      // starts of a new version without health before rollback; default 3
	Smoke      time.Duration                                            // timeout of `<new> version`; default 15s
	BusyPoll   time.Duration                                            // how often to look again while busy; default 2s
	Busy       func() bool                                              // true while the user types or a send is in flight
	Restart    func(exe string, args []string) error                    // default: exec the new binary in place
	Report     func(ctx context.Context, r protocol.UpdateReport) error // durable send (outbox)
	Notify     func(message string)                                     // a friendly line for the user (tray notification)
	Logger     *slog.Logger
}

// Updater checks for, applies and, when needed, undoes updates.
type Updater struct {
	cfg    Config
	keys   []minisign.PublicKey
	base   *url.URL
	client *http.Client
	log    *slog.Logger
	dir    string

	applyMu sync.Mutex    // one update at a time
	mu      sync.Mutex    // guards the state file and healthy
	healthy chan struct{} // closed by Healthy
	nudge   chan struct{}
}

// New checks cfg and fills in defaults.
func New(cfg Config) (*Updater, error) {
	if cfg.DataDir == "" {
		return nil, errors.New("update: DataDir is required")
	}
	base, err := url.Parse(cfg.ServerURL)
	if err != nil || base.Scheme == "" || base.Host == "" {
		return nil, fmt.Errorf("update: server URL %q is not absolute", cfg.ServerURL)
	}
	keyText := cfg.PublicKeys
	if keyText == "" {
		keyText = TrustedKeys
	}
	keys, err := release.ParsePublicKeys(keyText)
	if err != nil {
		return nil, fmt.Errorf("update: trusted key: %w", err)
	}
	if cfg.Channel == "" {
		cfg.Channel = release.ChannelStable
	}
	if !cfg.Channel.Valid() {
		return nil, fmt.Errorf("update: channel %q is not stable or beta", cfg.Channel)
	}
	if cfg.Version == "" {
		cfg.Version = version.Version
	}
	if cfg.Executable == "" {
		exe, err := os.Executable()
		if err != nil {
			return nil, fmt.Errorf("update: find own binary: %w", err)
		}
		if exe, err = filepath.EvalSymlinks(exe); err != nil {
			return nil, fmt.Errorf("update: find own binary: %w", err)
		}
		cfg.Executable = exe
	}
	if cfg.Args == nil && len(os.Args) > 1 {
		cfg.Args = os.Args[1:]
	}
	setDefault(&cfg.Interval, 6*time.Hour)
	setDefault(&cfg.FirstCheck, 5*time.Minute)
	setDefault(&cfg.Window, 5*time.Minute)
	setDefault(&cfg.Smoke, 15*time.Second)
	setDefault(&cfg.BusyPoll, 2*time.Second)
	if cfg.MaxStarts <= 0 {
		cfg.MaxStarts = 3
	}
	if cfg.Busy == nil {
		cfg.Busy = func() bool { return false }
	}
	if cfg.Restart == nil {
		cfg.Restart = restartSelf
	}
	if cfg.Report == nil {
		cfg.Report = func(context.Context, protocol.UpdateReport) error { return nil }
	}
	if cfg.Notify == nil {
		cfg.Notify = func(string) {}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	client := cfg.HTTPClient
	if client == nil {
		client = &http.Client{Timeout: 5 * time.Minute}
	}
	dir := filepath.Join(cfg.DataDir, "update")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("update: %w", err)
	}
	return &Updater{
		cfg: cfg, keys: keys, base: base, client: client, dir: dir,
		log:     cfg.Logger.With("component", "update"),
		healthy: make(chan struct{}),
		nudge:   make(chan struct{}, 1),
	}, nil
}

func setDefault(d *time.Duration, v time.Duration) {
	if *d <= 0 {
		*d = v
	}
}

// Run finishes an update in progress (health window, rollback report) and
// then checks for updates on a jittered timer and whenever nudged, until
// ctx ends. Call it once, at startup.
func (u *Updater) Run(ctx context.Context) error {
	if err := u.resume(ctx); err != nil {
		u.log.Warn("finish previous update", "err", err)
	}
	wait := time.Duration(rand.Int64N(int64(u.cfg.FirstCheck)) + 1)
	for {
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		case <-u.nudge:
			t.Stop()
		}
		if err := u.Check(ctx); err != nil && ctx.Err() == nil {
			u.log.Warn("update check", "err", err)
		}
		wait = jitter(u.cfg.Interval)
	}
}

// jitter spreads checks over ±25 % of d so a fleet does not ask at once.
func jitter(d time.Duration) time.Duration {
	return d*3/4 + time.Duration(rand.Int64N(int64(d)/2+1))
}

// Nudge asks Run to check now; it never blocks.
func (u *Updater) Nudge() {
	select {
	case u.nudge <- struct{}{}:
	default:
	}
}

// Check asks the server which release this device should run and applies it.
// No release for us is not an error.
func (u *Updater) Check(ctx context.Context) error {
	q := url.Values{
		"os": {runtime.GOOS}, "arch": {runtime.GOARCH},
		"channel": {string(u.cfg.Channel)}, "version": {u.cfg.Version},
	}
	offer, err := u.fetchOffer(ctx, OfferPath+"?"+q.Encode())
	if err != nil || offer == nil {
		return err
	}
	return u.Offer(ctx, *offer)
}

// Offer applies a release the server offered (an update.available body).
// Everything in it is checked against the signed manifest; it may only
// point the agent at files.
func (u *Updater) Offer(ctx context.Context, offer protocol.UpdateAvailable) error {
	if !u.applyMu.TryLock() {
		return nil // an update is already under way
	}
	defer u.applyMu.Unlock()
	return u.apply(ctx, offer)
}

// Healthy tells the updater the agent is connected and talking to the
// server. After an update this commits it: the report goes out and the user
// hears about it. Safe to call any number of times.
func (u *Updater) Healthy() {
	u.mu.Lock()
	defer u.mu.Unlock()
	select {
	case <-u.healthy:
		return
	default:
	}
	close(u.healthy)
}

// displayVersion shortens 1.4.0 to 1.4 for people.
func displayVersion(v string) string {
	if s, err := version.Parse(v); err == nil && s.Patch == 0 && s.Pre == "" {
		return fmt.Sprintf("%d.%d", s.Major, s.Minor)
	}
	return v
}

// UpdatedMessage is what the user is told after a successful update.
func UpdatedMessage(v string) string {
	return "Deskside updated itself to " + displayVersion(v) + " — nothing for you to do."
}

// resolve turns an offer URL into an absolute one and reports whether the
// device's credentials may go with it (same origin as the server only).
func (u *Updater) resolve(ref string) (*url.URL, bool, error) {
	r, err := url.Parse(ref)
	if err != nil {
		return nil, false, fmt.Errorf("offer URL %q: %w", ref, err)
	}
	abs := u.base.ResolveReference(r)
	if abs.Scheme != "https" && abs.Scheme != "http" {
		return nil, false, fmt.Errorf("offer URL %q is not http(s)", ref)
	}
	return abs, abs.Scheme == u.base.Scheme && abs.Host == u.base.Host, nil
}

// signatureURL derives the signature's URL from the manifest's:
// …/manifest → …/signature, anything else → <manifest URL>.minisig.
func signatureURL(manifestURL string) string {
	if p, ok := strings.CutSuffix(manifestURL, "/manifest"); ok {
		return p + "/signature"
	}
	return manifestURL + ".minisig"
}
