package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
)

// SQL is the Store over database/sql, for both backends: SQLite (Open) and
// PostgreSQL (OpenPostgres). The queries are shared and written with ?
// placeholders; a dialect rebinds them and supplies the few statements that
// differ.
type SQL struct {
	wdb, rdb *sql.DB
	w        handle // writes (SQLite: the one writer connection)
	r        handle // reads
	d        *dialect
	vocab    *vocabCache // spelling fallback of SearchArticles
	resume   resumeHook  // moves due times when a wait on the employee ends (sla.go)
}

var _ Store = (*SQL)(nil)

func newSQL(w, r *sql.DB, d *dialect) *SQL {
	if r == nil {
		r = w
	}
	return &SQL{wdb: w, rdb: r, w: handle{w, d}, r: handle{r, d}, d: d, vocab: &vocabCache{}}
}

// dialect is what differs between the backends.
type dialect struct {
	name      string
	postgres  bool   // $n placeholders, FOR UPDATE, data-modifying CTEs
	like      string // case-insensitive LIKE
	rowOrder  string // column that breaks ties in insertion order
	emptyBlob string // literal empty BLOB/bytea
	isUnique  func(error) bool
	retry     func(error) bool // nil: never retry a transaction
	rebound   sync.Map         // query → rebound query
}

// Rebind rewrites ? and ?N placeholders for the backend: unchanged for
// SQLite, $1, $2… for PostgreSQL. Question marks inside quotes are kept.
func (d *dialect) Rebind(q string) string {
	if !d.postgres {
		return q
	}
	if v, ok := d.rebound.Load(q); ok {
		return v.(string)
	}
	v := rebindDollar(q)
	d.rebound.Store(q, v)
	return v
}

// rebindDollar turns ? into $1, $2… in order and ?N into $N.
func rebindDollar(q string) string {
	var b strings.Builder
	b.Grow(len(q) + 8)
	n, quoted := 0, false
	for i := 0; i < len(q); i++ {
		c := q[i]
		switch {
		case c == '\'':
			quoted = !quoted
		case c == '?' && !quoted:
			j := i + 1
			for j < len(q) && q[j] >= '0' && q[j] <= '9' {
				j++
			}
			b.WriteByte('$')
			if j > i+1 {
				b.WriteString(q[i+1 : j])
			} else {
				n++
				b.WriteString(strconv.Itoa(n))
			}
			i = j - 1
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// lock is FOR UPDATE (of the given table aliases) on PostgreSQL, where
// write transactions run side by side; nothing on SQLite, whose one writer
// connection already runs them one at a time.
func (d *dialect) lock(of string) string {
	switch {
	case !d.postgres:
		return ""
	case of == "":
		return " FOR UPDATE"
	}
	return " FOR UPDATE OF " + of
}

// querier is what *sql.DB and *sql.Tx have in common.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// handle is a pool or a transaction that rebinds every query it runs.
type handle struct {
	q querier
	d *dialect
}

func (h handle) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return h.q.ExecContext(ctx, h.d.Rebind(query), args...)
}

func (h handle) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return h.q.QueryContext(ctx, h.d.Rebind(query), args...)
}

func (h handle) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	return h.q.QueryRowContext(ctx, h.d.Rebind(query), args...)
}

// Dialect names the backend: "sqlite" or "postgres".
func (s *SQL) Dialect() string { return s.d.name }

// Rebind rewrites a query written with ? placeholders for this backend, for
// packages that keep their own tables in the same database (see DB).
func (s *SQL) Rebind(query string) string { return s.d.Rebind(query) }

// DB is the write pool, for packages that keep their own tables in the same
// database (SQLite: one writer connection, keep transactions short; write
// queries with ? and pass them through Rebind).
func (s *SQL) DB() *sql.DB { return s.wdb }

// Close closes the pools; safe to call twice.
func (s *SQL) Close() error {
	err := s.wdb.Close()
	if s.rdb != s.wdb {
		err = errors.Join(err, s.rdb.Close())
	}
	return err
}

// Ping checks the database answers.
func (s *SQL) Ping(ctx context.Context) error {
	var one int
	return s.r.QueryRowContext(ctx, "SELECT 1").Scan(&one)
}

// tx runs fn in a write transaction and commits. On PostgreSQL a
// transaction that lost a deadlock or a serialization race is run again
// (fn must be safe to repeat: it only reads and writes through tx).
func (s *SQL) tx(ctx context.Context, fn func(tx handle) error) error {
	for attempt := 1; ; attempt++ {
		err := s.tx1(ctx, fn)
		if err == nil || s.d.retry == nil || attempt == 4 || !s.d.retry(err) {
			return err
		}
	}
}

func (s *SQL) tx1(ctx context.Context, fn func(tx handle) error) error {
	tx, err := s.wdb.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if err := fn(handle{tx, s.d}); err != nil {
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

func (s *SQL) isUnique(err error) bool { return err != nil && s.d.isUnique(err) }

// GetMeta returns a setting ("" and nil when unset).
func (s *SQL) GetMeta(ctx context.Context, key string) (string, error) {
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
func (s *SQL) SetMeta(ctx context.Context, key, value string) error {
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
func (s *SQL) Audit(ctx context.Context, e AuditEntry) error {
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
func (s *SQL) ListAudit(ctx context.Context, limit int) ([]AuditEntry, error) {
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

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
