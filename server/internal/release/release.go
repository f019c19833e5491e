// Package release stores signed agent releases on the server and rolls them
// out: upload (binary + manifest + minisign signature, checked against the
// publisher's public key only to refuse garbage early — the server never
// holds the secret key), channels, a rollout percentage, pause and resume,
// the choice of release for a device, per-version progress, and update
// reports (a failure halts that release's rollout). Binaries live as files
// in a directory; metadata lives in SQL tables this package creates.
package release

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"time"

	"aead.dev/minisign"

	"github.com/deskside/deskside/shared/protocol"
	srel "github.com/deskside/deskside/shared/release"
)

// Device is what the rollout needs to know about a device.
type Device struct {
	ID      string
	OS      string // GOOS
	Arch    string // GOARCH
	Channel srel.Channel
	Version string // the agent version it runs now
}

// Config wires a Service. DB, Dir and PublisherKeys are required.
type Config struct {
	DB *sql.DB // SQLite or PostgreSQL; tables are created if missing
	// Rebind rewrites the service's ?-placeholder queries for DB's driver
	// (store.SQL.Rebind; $1… for PostgreSQL). Nil: queries run as written.
	Rebind        func(query string) string
	Dir           string // where binaries are kept, one file per release
	PublisherKeys string // minisign public key(s) of the publisher
	MaxBinary     int64  // upload limit; default shared/release.MaxBinaryBytes

	// Device authenticates a device request (manifest, signature, binary,
	// offer). Staff authenticates a technician; POST and PATCH need admin,
	// and Staff must check the CSRF token for them.
	Device func(r *http.Request) (deviceID string, ok bool)
	Staff  func(r *http.Request) (actor string, admin bool, ok bool)

	// Connected and Send, when set, let the service offer a release to the
	// connected devices at once after an upload, a higher percentage or a
	// resume (as update.available frames). Without them devices find the
	// release at their next check.
	Connected func() []Device
	Send      func(ctx context.Context, deviceID string, offer protocol.UpdateAvailable) error

	// Audit, when set, records admin actions.
	Audit func(ctx context.Context, actor, action, target, detail string)

	Logger *slog.Logger
	Now    func() time.Time
}

// Service is the release store and rollout logic.
type Service struct {
	cfg  Config
	db   sqlDB
	keys []minisign.PublicKey
	log  *slog.Logger
}

// Errors callers may test for.
var (
	ErrNotFound = errors.New("no such release")
	ErrExists   = errors.New("release already uploaded")
)

// New creates the tables if needed and returns the service.
func New(ctx context.Context, cfg Config) (*Service, error) {
	if cfg.DB == nil || cfg.Dir == "" {
		return nil, errors.New("release service: DB and Dir are required")
	}
	keys, err := srel.ParsePublicKeys(cfg.PublisherKeys)
	if err != nil {
		return nil, fmt.Errorf("release service: publisher key: %w", err)
	}
	if cfg.MaxBinary <= 0 || cfg.MaxBinary > srel.MaxBinaryBytes {
		cfg.MaxBinary = srel.MaxBinaryBytes
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Audit == nil {
		cfg.Audit = func(context.Context, string, string, string, string) {}
	}
	if err := os.MkdirAll(cfg.Dir, 0o750); err != nil {
		return nil, fmt.Errorf("release service: %w", err)
	}
	if cfg.Rebind == nil {
		cfg.Rebind = sameQuery
	}
	if err := createTables(ctx, cfg.DB); err != nil {
		return nil, fmt.Errorf("release service: create tables: %w", err)
	}
	return &Service{cfg: cfg, db: sqlDB{cfg.DB, cfg.Rebind}, keys: keys, log: cfg.Logger.With("component", "release")}, nil
}

// createTables runs schema. Server nodes sharing a PostgreSQL database may
// start together, and PostgreSQL can refuse one of two concurrent CREATE
// TABLE IF NOT EXISTS of the same table: the loser tries again.
func createTables(ctx context.Context, db *sql.DB) error {
	var err error
	for attempt := range 3 {
		if attempt > 0 {
			time.Sleep(time.Duration(attempt) * 100 * time.Millisecond)
		}
		err = nil
		for _, stmt := range schema {
			if _, err = db.ExecContext(ctx, stmt); err != nil {
				break
			}
		}
		if err == nil {
			return nil
		}
	}
	return err
}

// schema is portable SQL (SQLite and PostgreSQL); times are unix milliseconds.
var schema = []string{
	`CREATE TABLE IF NOT EXISTS releases (
		id TEXT PRIMARY KEY,
		version TEXT NOT NULL,
		os TEXT NOT NULL,
		arch TEXT NOT NULL,
		channel TEXT NOT NULL,
		rollback INTEGER NOT NULL DEFAULT 0,
		sha256 TEXT NOT NULL,
		size INTEGER NOT NULL,
		manifest TEXT NOT NULL,
		signature TEXT NOT NULL,
		created_at BIGINT NOT NULL,
		uploaded_at BIGINT NOT NULL,
		uploaded_by TEXT NOT NULL DEFAULT '',
		percent INTEGER NOT NULL DEFAULT 0,
		paused INTEGER NOT NULL DEFAULT 0,
		halted_reason TEXT NOT NULL DEFAULT '',
		UNIQUE (version, os, arch, rollback))`,
	`CREATE TABLE IF NOT EXISTS release_devices (
		device_id TEXT PRIMARY KEY,
		os TEXT NOT NULL,
		arch TEXT NOT NULL,
		channel TEXT NOT NULL,
		version TEXT NOT NULL,
		seen_at BIGINT NOT NULL)`,
	`CREATE INDEX IF NOT EXISTS release_devices_version ON release_devices (version, os, arch)`,
	`CREATE TABLE IF NOT EXISTS release_reports (
		release_id TEXT NOT NULL DEFAULT '',
		device_id TEXT NOT NULL,
		from_version TEXT NOT NULL,
		to_version TEXT NOT NULL,
		ok INTEGER NOT NULL,
		rolled_back INTEGER NOT NULL,
		detail TEXT NOT NULL DEFAULT '',
		at BIGINT NOT NULL)`,
	`CREATE INDEX IF NOT EXISTS release_reports_release ON release_reports (release_id, at)`,
	// Envelope ids of update.report frames already stored, so a device
	// re-sending a report (no ack seen) changes nothing the second time.
	`CREATE TABLE IF NOT EXISTS release_report_frames (
		device_id TEXT NOT NULL,
		frame_id TEXT NOT NULL,
		at BIGINT NOT NULL,
		PRIMARY KEY (device_id, frame_id))`,
}

// Release is a stored release with its rollout settings and progress.
type Release struct {
	ID           string       `json:"id"`
	Version      string       `json:"version"`
	OS           string       `json:"os"`
	Arch         string       `json:"arch"`
	Channel      srel.Channel `json:"channel"`
	Rollback     bool         `json:"rollback"`
	SHA256       string       `json:"sha256"`
	Size         int64        `json:"size"`
	Created      time.Time    `json:"created"`
	Uploaded     time.Time    `json:"uploaded"`
	UploadedBy   string       `json:"uploaded_by"`
	Percent      int          `json:"percent"`
	Paused       bool         `json:"paused"`
	HaltedReason string       `json:"halted_reason,omitempty"` // set when a failure report paused it

	// Progress.
	Devices int `json:"devices"` // devices running this version on this platform now
	Updated int `json:"updated"` // successful update reports
	Failed  int `json:"failed"`  // failed or rolled-back update reports
}

// Report is a stored update report.
type Report struct {
	ReleaseID   string    `json:"release_id,omitempty"`
	DeviceID    string    `json:"device_id"`
	FromVersion string    `json:"from_version"`
	ToVersion   string    `json:"to_version"`
	OK          bool      `json:"ok"`
	RolledBack  bool      `json:"rolled_back"`
	Detail      string    `json:"detail,omitempty"`
	At          time.Time `json:"at"`
}

// VersionCount is how many devices run a version on a platform.
type VersionCount struct {
	Version string `json:"version"`
	OS      string `json:"os"`
	Arch    string `json:"arch"`
	Devices int    `json:"devices"`
}

func (s *Service) now() int64 { return s.cfg.Now().UnixMilli() }

func msTime(ms int64) time.Time { return time.UnixMilli(ms).UTC() }

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
