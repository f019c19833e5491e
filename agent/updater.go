package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/deskside/deskside/agent/internal/core"
	"github.com/deskside/deskside/agent/internal/enroll"
	"github.com/deskside/deskside/agent/internal/link"
	"github.com/deskside/deskside/agent/internal/update"
	"github.com/deskside/deskside/shared/protocol"
	"github.com/deskside/deskside/shared/release"
)

// updateFlags are `run`'s self-update settings (each also DESKSIDE_<FLAG>).
type updateFlags struct {
	key, channel                 *string
	interval, firstCheck, window *time.Duration
	off                          *bool
}

func addUpdateFlags(fs *flag.FlagSet) updateFlags {
	return updateFlags{
		key:        fs.String("update-key", "", "publisher public key(s) for self-updates (default: from enrolment, else built in)"),
		channel:    fs.String("update-channel", "", "self-update channel: stable or beta (default: from enrolment, else stable)"),
		interval:   fs.Duration("update-interval", 6*time.Hour, "time between update checks (±25 % jitter)"),
		firstCheck: fs.Duration("update-first-check", 5*time.Minute, "the first check comes at a random moment within this"),
		window:     fs.Duration("update-window", 5*time.Minute, "time a new version has to connect before it is rolled back"),
		off:        fs.Bool("no-update", false, "never update this agent (the installer does)"),
	}
}

// checkUpdateTrust refuses a malformed publisher key or channel early.
func checkUpdateTrust(keys, channel string) error {
	if strings.TrimSpace(keys) != "" {
		if _, err := release.ParsePublicKeys(keys); err != nil {
			return fmt.Errorf("update key: %w", err)
		}
	}
	if channel != "" && !release.Channel(channel).Valid() {
		return fmt.Errorf("update channel %q is not stable or beta", channel)
	}
	return nil
}

// selfUpdate connects the updater to the core through the core's hooks.
// The updater needs the credentials, so it is made once they are known:
// at start when enrolled (so a pending update's health window opens before
// the link even tries), else right after enrolment.
type selfUpdate struct {
	flags   updateFlags
	dataDir string
	log     *slog.Logger
	core    *core.Core // set before Run

	mu  sync.Mutex
	u   *update.Updater
	ctx context.Context // Run's context, for offers
}

// hook fills in the core's update hooks.
func (s *selfUpdate) hook(cfg *core.Config) {
	if *s.flags.off {
		return
	}
	cfg.Enrolled = s.enrolled
	cfg.Welcomed = s.welcomed
	cfg.UpdateAvailable = s.offered
}

func (s *selfUpdate) enrolled(ctx context.Context, creds *enroll.Credentials) {
	u, err := s.newUpdater(creds)
	if errors.Is(err, errNoKey) {
		s.log.Info("self-update off: no publisher key built in or given at enrolment")
		return
	}
	if err != nil {
		s.log.Error("self-update off", "err", err)
		return
	}
	s.mu.Lock()
	s.u, s.ctx = u, ctx
	s.mu.Unlock()
	go func() {
		if err := u.Run(ctx); err != nil && ctx.Err() == nil {
			s.log.Error("self-update stopped", "err", err)
		}
	}()
}

var errNoKey = errors.New("no publisher key")

func (s *selfUpdate) newUpdater(creds *enroll.Credentials) (*update.Updater, error) {
	keys := firstNonEmpty(*s.flags.key, creds.UpdateKeys)
	if strings.TrimSpace(firstNonEmpty(keys, update.TrustedKeys)) == "" {
		return nil, errNoKey
	}
	id, secret := creds.DeviceID, creds.Secret
	return update.New(update.Config{
		ServerURL: creds.Server,
		// The same trust as the link: the enrolment pin, else the system roots.
		HTTPClient: &http.Client{Timeout: 5 * time.Minute, Transport: &http.Transport{
			Proxy: http.ProxyFromEnvironment, TLSClientConfig: link.TLSConfig(creds.PinBytes(), nil),
			TLSHandshakeTimeout: 20 * time.Second, IdleConnTimeout: 30 * time.Second}},
		Authorize:  func(r *http.Request) { r.Header.Set("Authorization", protocol.DeviceAuthHeader(id, secret)) },
		PublicKeys: keys,
		Channel:    release.Channel(firstNonEmpty(*s.flags.channel, creds.UpdateChannel)),
		DataDir:    s.dataDir,
		Interval:   *s.flags.interval,
		FirstCheck: *s.flags.firstCheck,
		Window:     *s.flags.window,
		Busy:       s.core.Busy,
		Report:     s.core.SendUpdateReport,
		Notify:     s.core.Notify,
		Logger:     s.log,
	})
}

func (s *selfUpdate) updater() (*update.Updater, context.Context) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.u, s.ctx
}

// welcomed is the updater's health signal: connected and talking.
func (s *selfUpdate) welcomed() {
	if u, _ := s.updater(); u != nil {
		u.Healthy()
	}
}

// offered acts on update.available at once (the core must not block).
func (s *selfUpdate) offered(offer protocol.UpdateAvailable) {
	u, ctx := s.updater()
	if u == nil {
		s.log.Info("update offered, but self-update is off", "version", offer.Version)
		return
	}
	go func() {
		if err := u.Offer(ctx, offer); err != nil && ctx.Err() == nil {
			s.log.Warn("update not applied", "version", offer.Version, "err", err)
		}
	}()
}

func firstNonEmpty(a ...string) string {
	for _, s := range a {
		if strings.TrimSpace(s) != "" {
			return s
		}
	}
	return ""
}
