// Package store is the agent's local durable store (SQLite, pure Go): the
// outbox of frames awaiting the server's ack, the user's requests and their
// threads, received messages, status history and announcements, the last
// server sequence number and unread flags. Every write is committed (WAL,
// synchronous=FULL) before it returns, so the UI may say "saved" and a
// kill -9 loses nothing; a full disk returns ErrDiskFull with nothing
// half-written.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// ErrDiskFull means the disk (or the store's size limit) is full; the write
// was rolled back as a whole.
var ErrDiskFull = errors.New("disk full")

// ErrNotFound means no row has that id.
var ErrNotFound = errors.New("not found")

// Options tunes Open; the zero value is what the agent uses.
type Options struct {
	// MaxPages caps the database size in pages (tests use it to fill the
	// "disk"); 0 means no cap.
	MaxPages int
}

// Store is the agent's database. Safe for concurrent use.
type Store struct {
	db    *sql.DB
	vocab vocabCache // the articles index's terms, for the typo fallback
}

const schema = `
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS outbox(
	seq INTEGER PRIMARY KEY AUTOINCREMENT,
	id TEXT NOT NULL UNIQUE,
	kind TEXT NOT NULL,
	ref TEXT NOT NULL DEFAULT '',
	frame BLOB NOT NULL,
	created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS requests(
	id TEXT PRIMARY KEY,
	category TEXT NOT NULL, urgency TEXT NOT NULL, text TEXT NOT NULL,
	status TEXT NOT NULL, assignee TEXT NOT NULL DEFAULT '',
	rating INTEGER NOT NULL DEFAULT 0,
	created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,
	sent INTEGER NOT NULL DEFAULT 0, unread INTEGER NOT NULL DEFAULT 0,
	has_screenshot INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS messages(
	id TEXT PRIMARY KEY, request_id TEXT NOT NULL, author TEXT NOT NULL DEFAULT '',
	from_user INTEGER NOT NULL, text TEXT NOT NULL, created_at INTEGER NOT NULL,
	sent INTEGER NOT NULL DEFAULT 0, read INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS messages_request ON messages(request_id, created_at);
CREATE TABLE IF NOT EXISTS history(
	request_id TEXT NOT NULL, status TEXT NOT NULL, assignee TEXT NOT NULL DEFAULT '',
	text TEXT NOT NULL, at INTEGER NOT NULL, seq INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS history_request ON history(request_id, at);
CREATE TABLE IF NOT EXISTS announcements(
	id TEXT PRIMARY KEY, title TEXT NOT NULL, text TEXT NOT NULL, severity TEXT NOT NULL,
	author TEXT NOT NULL DEFAULT '', created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL DEFAULT 0,
	read INTEGER NOT NULL DEFAULT 0
);
`

// Open opens (creating when needed) the store at path, in a 0700 directory.
func Open(path string, opt Options) (*Store, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	// Create the file 0600 first: SQLite gives the -wal and -shm files the
	// database file's mode.
	if f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600); err == nil {
		f.Close()
	}
	q := url.Values{}
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(FULL)")
	q.Add("_pragma", "busy_timeout(5000)")
	q.Add("_pragma", "foreign_keys(ON)")
	// The agent's data is small: a 512 KiB page cache instead of 2 MiB keeps
	// the all-day process lean.
	q.Add("_pragma", "cache_size(-512)")
	if opt.MaxPages > 0 {
		q.Add("_pragma", "max_page_count("+strconv.Itoa(opt.MaxPages)+")")
	}
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	// One connection: the agent's writes are few and small, and one writer
	// keeps SQLite free of busy errors.
	db.SetMaxOpenConns(1)
	if _, err := db.Exec(schema); err != nil {
		db.Close()
		return nil, fmt.Errorf("open store: schema: %w", classify(err))
	}
	if _, err := db.Exec(articlesSchema); err != nil {
		db.Close()
		return nil, fmt.Errorf("open store: articles schema: %w", classify(err))
	}
	if _, err := db.Exec(softwareSchema); err != nil {
		db.Close()
		return nil, fmt.Errorf("open store: software schema: %w", classify(err))
	}
	return &Store{db: db}, nil
}

// Close closes the database; safe to call twice.
func (s *Store) Close() error {
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("close store: %w", err)
	}
	return nil
}

// classify maps SQLite's "database or disk is full" to ErrDiskFull.
func classify(err error) error {
	if err == nil {
		return nil
	}
	var se *sqlite.Error
	if errors.As(err, &se) && se.Code()&0xff == sqlite3.SQLITE_FULL {
		return fmt.Errorf("%w: %v", ErrDiskFull, err)
	}
	return err
}

// tx runs fn in a transaction and commits it; any error rolls back all of it.
func (s *Store) tx(ctx context.Context, what string, fn func(*sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("%s: %w", what, classify(err))
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return fmt.Errorf("%s: %w", what, classify(err))
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("%s: commit: %w", what, classify(err))
	}
	return nil
}

func getMeta(q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, ctx context.Context, key string) (string, error) {
	var v string
	err := q.QueryRowContext(ctx, `SELECT value FROM meta WHERE key=?`, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return v, err
}

func setMeta(tx *sql.Tx, ctx context.Context, key, value string) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO meta(key,value) VALUES(?,?) ON CONFLICT(key) DO UPDATE SET value=excluded.value`, key, value)
	return err
}

// LastSeq is the highest server → device seq stored.
func (s *Store) LastSeq(ctx context.Context) (uint64, error) {
	v, err := getMeta(s.db, ctx, "last_seq")
	if err != nil || v == "" {
		return 0, wrap("last seq", err)
	}
	n, err := strconv.ParseUint(v, 10, 64)
	return n, wrap("last seq", err)
}

// Meta reads a free-form setting ("" when unset).
func (s *Store) Meta(ctx context.Context, key string) (string, error) {
	v, err := getMeta(s.db, ctx, key)
	return v, wrap("read "+key, err)
}

// SetMeta writes a free-form setting.
func (s *Store) SetMeta(ctx context.Context, key, value string) error {
	return s.tx(ctx, "write "+key, func(tx *sql.Tx) error { return setMeta(tx, ctx, key, value) })
}

func wrap(what string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", what, classify(err))
}

// unixMS is how the store keeps a time: Unix milliseconds, 0 for none.
func unixMS(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// fromUnixMS reads a time unixMS stored, in UTC.
func fromUnixMS(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMilli(v).UTC()
}

// sqlBool is a bool as SQLite keeps it: 1 or 0.
func sqlBool(b bool) int {
	if b {
		return 1
	}
	return 0
}
