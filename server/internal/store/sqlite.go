package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// migrations run in order; each runs once, recorded in user_version.
// Append only: never edit a migration that has shipped.
var migrations = []string{
	`CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
	CREATE TABLE technicians (id TEXT PRIMARY KEY, email TEXT NOT NULL UNIQUE COLLATE NOCASE, name TEXT NOT NULL,
		greeting TEXT NOT NULL DEFAULT '', role TEXT NOT NULL, disabled INTEGER NOT NULL DEFAULT 0,
		password_hash TEXT NOT NULL, created_at INTEGER NOT NULL);
	CREATE TABLE sessions (hash BLOB PRIMARY KEY, technician_id TEXT NOT NULL, csrf TEXT NOT NULL, expires_at INTEGER NOT NULL);
	CREATE TABLE enroll_tokens (id TEXT PRIMARY KEY, secret_hash BLOB NOT NULL UNIQUE, grp TEXT NOT NULL DEFAULT '',
		expires_at INTEGER, max_uses INTEGER NOT NULL DEFAULT 0, uses INTEGER NOT NULL DEFAULT 0,
		revoked INTEGER NOT NULL DEFAULT 0, created_at INTEGER NOT NULL);
	CREATE TABLE devices (id TEXT PRIMARY KEY, secret_hash BLOB NOT NULL, hostname TEXT NOT NULL, usr TEXT NOT NULL DEFAULT '',
		os TEXT NOT NULL DEFAULT '', platform TEXT NOT NULL DEFAULT '', arch TEXT NOT NULL DEFAULT '', grp TEXT NOT NULL DEFAULT '',
		agent_version TEXT NOT NULL DEFAULT '', revoked INTEGER NOT NULL DEFAULT 0, enrolled_at INTEGER NOT NULL,
		last_seen INTEGER NOT NULL DEFAULT 0, snapshot BLOB, next_seq INTEGER NOT NULL DEFAULT 0);
	CREATE TABLE seen_frames (device_id TEXT NOT NULL, frame_id TEXT NOT NULL, ref TEXT NOT NULL DEFAULT '',
		at INTEGER NOT NULL, PRIMARY KEY (device_id, frame_id)) WITHOUT ROWID;
	CREATE TABLE outbox (device_id TEXT NOT NULL, seq INTEGER NOT NULL, frame BLOB NOT NULL, announcement_id TEXT,
		created_at INTEGER NOT NULL, PRIMARY KEY (device_id, seq)) WITHOUT ROWID;
	CREATE TABLE requests (id TEXT PRIMARY KEY, device_id TEXT NOT NULL REFERENCES devices(id), category TEXT NOT NULL,
		urgency TEXT NOT NULL, status TEXT NOT NULL, text TEXT NOT NULL, assignee TEXT NOT NULL DEFAULT '',
		rating INTEGER NOT NULL DEFAULT 0, rating_comment TEXT NOT NULL DEFAULT '', snapshot BLOB,
		screenshot BLOB, screenshot_type TEXT NOT NULL DEFAULT '', created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);
	CREATE INDEX requests_device ON requests(device_id);
	CREATE INDEX requests_created ON requests(created_at);
	CREATE TABLE messages (id TEXT PRIMARY KEY, request_id TEXT NOT NULL DEFAULT '', device_id TEXT NOT NULL,
		technician_id TEXT NOT NULL DEFAULT '', author_name TEXT NOT NULL, from_user INTEGER NOT NULL, text TEXT NOT NULL,
		created_at INTEGER NOT NULL);
	CREATE INDEX messages_request ON messages(request_id, created_at);
	CREATE TABLE notes (id TEXT PRIMARY KEY, request_id TEXT NOT NULL, technician_id TEXT NOT NULL, author_name TEXT NOT NULL,
		text TEXT NOT NULL, created_at INTEGER NOT NULL);
	CREATE TABLE announcements (id TEXT PRIMARY KEY, title TEXT NOT NULL, text TEXT NOT NULL, severity TEXT NOT NULL,
		target_kind TEXT NOT NULL, target_value TEXT NOT NULL, author_id TEXT NOT NULL, author_name TEXT NOT NULL,
		created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL DEFAULT 0, recipients INTEGER NOT NULL DEFAULT 0,
		delivered INTEGER NOT NULL DEFAULT 0);
	CREATE TABLE audit (id INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL,
		target TEXT NOT NULL, detail TEXT NOT NULL DEFAULT '');`,
	// 2: an announcement's frame is stored once, seq-less (protocol.SeqFrame);
	// its outbox rows carry an empty frame and only the device's seq.
	`ALTER TABLE announcements ADD COLUMN frame BLOB;`,
}

// SQLite is the embedded store: one file in WAL mode, one writer connection
// (SQLite allows one writer at a time anyway) and a small pool of readers.
type SQLite struct {
	w *sql.DB // writes; one connection, transactions BEGIN IMMEDIATE
	r *sql.DB // reads
}

var _ Store = (*SQLite)(nil)

// Open opens (creating if needed) the database in dir/deskside.db and runs
// migrations. synchronous=FULL makes every commit durable before it returns,
// so an ack that follows a commit survives kill -9 and power loss.
func Open(ctx context.Context, dir string) (*SQLite, error) {
	path := filepath.Join(dir, "deskside.db")
	q := url.Values{}
	for _, p := range []string{"journal_mode(WAL)", "synchronous(FULL)", "busy_timeout(10000)", "foreign_keys(1)"} {
		q.Add("_pragma", p)
	}
	wq := url.Values{}
	for k, v := range q {
		wq[k] = v
	}
	wq.Set("_txlock", "immediate")
	w, err := sql.Open("sqlite", "file:"+path+"?"+wq.Encode())
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	s := &SQLite{w: w}
	if err := s.migrate(ctx); err != nil {
		w.Close()
		return nil, err
	}
	r, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("open %s for reading: %w", path, err)
	}
	r.SetMaxOpenConns(4)
	s.r = r
	return s, nil
}

func (s *SQLite) migrate(ctx context.Context) error {
	var v int
	if err := s.w.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	for i := v; i < len(migrations); i++ {
		err := s.tx(ctx, func(tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, migrations[i]); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", i+1))
			return err
		})
		if err != nil {
			return fmt.Errorf("migrate schema to version %d: %w", i+1, err)
		}
	}
	return nil
}

// DB is the write pool, for packages that keep their own tables in the same
// database file (one writer connection: keep transactions short).
func (s *SQLite) DB() *sql.DB { return s.w }

// Close closes both pools; safe to call twice.
func (s *SQLite) Close() error {
	err := s.w.Close()
	if s.r != nil {
		err = errors.Join(err, s.r.Close())
	}
	return err
}

// Ping checks the database answers.
func (s *SQLite) Ping(ctx context.Context) error {
	var one int
	return s.r.QueryRowContext(ctx, "SELECT 1").Scan(&one)
}

// tx runs fn in a write transaction and commits.
func (s *SQLite) tx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

func ms(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

func fromMS(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMilli(v).UTC()
}

func notFound(err error, what string) error {
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%s: %w", what, ErrNotFound)
	}
	return fmt.Errorf("%s: %w", what, err)
}

func isUnique(err error) bool {
	return err != nil && strings.Contains(err.Error(), "UNIQUE constraint failed")
}

// GetMeta returns a setting ("" and nil when unset).
func (s *SQLite) GetMeta(ctx context.Context, key string) (string, error) {
	var v string
	err := s.r.QueryRowContext(ctx, "SELECT value FROM meta WHERE key = ?", key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read setting %s: %w", key, err)
	}
	return v, nil
}

// SetMeta stores a setting; "" deletes it.
func (s *SQLite) SetMeta(ctx context.Context, key, value string) error {
	var err error
	if value == "" {
		_, err = s.w.ExecContext(ctx, "DELETE FROM meta WHERE key = ?", key)
	} else {
		_, err = s.w.ExecContext(ctx, "INSERT INTO meta(key, value) VALUES(?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value", key, value)
	}
	if err != nil {
		return fmt.Errorf("store setting %s: %w", key, err)
	}
	return nil
}

// Audit appends an entry to the audit log.
func (s *SQLite) Audit(ctx context.Context, e AuditEntry) error {
	if e.At.IsZero() {
		e.At = time.Now()
	}
	_, err := s.w.ExecContext(ctx, "INSERT INTO audit(at, actor, action, target, detail) VALUES(?,?,?,?,?)",
		ms(e.At), e.Actor, e.Action, e.Target, e.Detail)
	if err != nil {
		return fmt.Errorf("append audit entry: %w", err)
	}
	return nil
}

// ListAudit returns the newest entries first.
func (s *SQLite) ListAudit(ctx context.Context, limit int) ([]AuditEntry, error) {
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	rows, err := s.r.QueryContext(ctx, "SELECT at, actor, action, target, detail FROM audit ORDER BY id DESC LIMIT ?", limit)
	if err != nil {
		return nil, fmt.Errorf("list audit: %w", err)
	}
	defer rows.Close()
	var out []AuditEntry
	for rows.Next() {
		var e AuditEntry
		var at int64
		if err := rows.Scan(&at, &e.Actor, &e.Action, &e.Target, &e.Detail); err != nil {
			return nil, fmt.Errorf("list audit: %w", err)
		}
		e.At = fromMS(at)
		out = append(out, e)
	}
	return out, rows.Err()
}
