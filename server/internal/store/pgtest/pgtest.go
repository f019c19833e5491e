// Package pgtest gives a test its own empty PostgreSQL schema: CREATE
// SCHEMA t_<random> on the server named by $DESKSIDE_TEST_DATABASE_URL
// (default postgres://root@127.0.0.1:5432/test), a URL whose search_path
// points at it, and DROP SCHEMA … CASCADE at cleanup. Tests can run in
// parallel and leave nothing behind.
//
// When PostgreSQL is unreachable the test is skipped, with the reason,
// unless $CI is "true": then it fails, because CI machines run PostgreSQL.
package pgtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
)

// DefaultURL is the server tests use when $DESKSIDE_TEST_DATABASE_URL is unset.
const DefaultURL = "postgres://root@127.0.0.1:5432/test?sslmode=disable"

// BaseURL is the database tests create their schemas in.
func BaseURL() string {
	if u := os.Getenv("DESKSIDE_TEST_DATABASE_URL"); u != "" {
		return u
	}
	return DefaultURL
}

var (
	once    sync.Once
	admin   *sql.DB
	openErr error
)

func adminDB() (*sql.DB, error) {
	once.Do(func() {
		admin, openErr = sql.Open("pgx", BaseURL())
		if openErr != nil {
			return
		}
		admin.SetMaxOpenConns(4)
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		openErr = admin.PingContext(ctx)
	})
	return admin, openErr
}

// URL creates a fresh schema for this test and returns a URL that uses it.
func URL(t testing.TB) string {
	t.Helper()
	db, err := adminDB()
	if err != nil {
		msg := "PostgreSQL is not reachable at " + redact(BaseURL()) + ": " + err.Error() +
			" (set DESKSIDE_TEST_DATABASE_URL; with CI=true this fails instead of skipping)"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	schema := "t_" + hex.EncodeToString(b)
	ctx := context.Background()
	if _, err := db.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("pgtest: create schema: %v", err)
	}
	t.Cleanup(func() {
		if _, err := db.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("pgtest: drop schema %s: %v", schema, err)
		}
	})
	u, err := url.Parse(BaseURL())
	if err != nil {
		t.Fatalf("pgtest: DESKSIDE_TEST_DATABASE_URL must be a postgres:// URL: %v", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}
