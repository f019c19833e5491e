package store

import (
	"context"
	"testing"

	"github.com/deskside/deskside/server/internal/store/pgtest"
)

// testStore is the conformance suite: every backend runs the same tests.
// open returns a fresh, empty store that lives until the test ends.
func testStore(t *testing.T, open func(t *testing.T) Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s Store)
	}{
		{"Meta", testMeta},
		{"Technicians", testTechnicians},
		{"Sessions", testSessions},
		{"SingleSignOn", testSingleSignOn},
		{"EnrollTokens", testEnrollTokens},
		{"SingleUseTokenRace", testSingleUseTokenRace},
		{"Devices", testDevices},
		{"Requests", testRequests},
		{"RequestStamps", testRequestStamps},
		{"Webhooks", testWebhooks},
		{"DeviceFramesOnce", testDeviceFramesOnce},
		{"WritesReturnWhatTheyWrote", testWritesReturnWhatTheyWrote},
		{"ThreadOrder", testThreadOrder},
		{"OutboxAndReplay", testOutboxAndReplay},
		{"AnnounceOncePerDevice", testAnnounceOncePerDevice},
		{"PruneCursors", testPruneCursors},
		{"Audit", testAudit},
		{"ChecksPolicy", testChecksPolicy},
		{"CheckReports", testCheckReports},
		{"Articles", testArticles},
		{"ArticleSearch", testArticleSearch},
		{"ArticleFeedback", testArticleFeedback},
		{"SavedReplies", testSavedReplies},
		{"KnownProblems", testKnownProblems},
		{"SLAPolicy", testSLAPolicy},
		{"SLAWarnings", testSLAWarnings},
		{"SLAResume", testSLAResume},
		{"SLAFirstResponses", testSLAFirstResponses},
		{"MonthReport", testMonthReport},
		{"ClaimMeta", testClaimMeta},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, open(t))
		})
	}
}

func TestSQLite(t *testing.T) {
	open := func(t *testing.T) Store { return openSQLite(t, t.TempDir()) }
	testStore(t, open)
	t.Run("TwoNodes", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		testTwoNodes(t, openSQLite(t, dir), openSQLite(t, dir))
	})
	t.Run("SLAClaimTwoNodes", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		testSLAClaimTwoNodes(t, openSQLite(t, dir), openSQLite(t, dir))
	})
	t.Run("WebhookClaimsTwoNodes", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		testWebhookClaimsTwoNodes(t, openSQLite(t, dir), openSQLite(t, dir))
	})
}

func TestPostgres(t *testing.T) {
	pgtest.URL(t) // skip (or, with CI=true, fail) once when there is no server
	open := func(t *testing.T) Store { return openPostgres(t, pgtest.URL(t)) }
	testStore(t, open)
	t.Run("TwoNodes", func(t *testing.T) {
		t.Parallel()
		url := pgtest.URL(t)
		testTwoNodes(t, openPostgres(t, url), openPostgres(t, url))
	})
	t.Run("SLAClaimTwoNodes", func(t *testing.T) {
		t.Parallel()
		url := pgtest.URL(t)
		testSLAClaimTwoNodes(t, openPostgres(t, url), openPostgres(t, url))
	})
	t.Run("WebhookClaimsTwoNodes", func(t *testing.T) {
		t.Parallel()
		url := pgtest.URL(t)
		testWebhookClaimsTwoNodes(t, openPostgres(t, url), openPostgres(t, url))
	})
	t.Run("MigrateTwice", func(t *testing.T) {
		t.Parallel()
		url := pgtest.URL(t)
		s := openPostgres(t, url)
		enroll(t, s, map[string]string{"a": "linux"})
		s2 := openPostgres(t, url) // a second node: nothing to migrate, data kept
		if d, err := s2.Device(context.Background(), "a"); err != nil || d.OS != "linux" {
			t.Fatalf("device after second open: %+v %v", d, err)
		}
	})
}

func openSQLite(t *testing.T, dir string) *SQL {
	t.Helper()
	s, err := Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func openPostgres(t *testing.T, url string) *SQL {
	t.Helper()
	s, err := OpenPostgres(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// Both backends are at the same schema version, always.
func TestMigrationVersions(t *testing.T) {
	if len(migrations) != len(pgMigrations) {
		t.Fatalf("SQLite has %d migrations, PostgreSQL %d: add both together", len(migrations), len(pgMigrations))
	}
}

func TestRebind(t *testing.T) {
	for in, want := range map[string]string{
		"SELECT a FROM t WHERE b = ? AND c = ?": "SELECT a FROM t WHERE b = $1 AND c = $2",
		"x LIKE ?1 ESCAPE '\\' OR y LIKE ?1":    "x LIKE $1 ESCAPE '\\' OR y LIKE $1",
		"SELECT '?' , ? FROM t":                 "SELECT '?' , $1 FROM t",
		"json_each_text(?::json)":               "json_each_text($1::json)",
		"INSERT INTO t VALUES(?,?,'it''s ?',?)": "INSERT INTO t VALUES($1,$2,'it''s ?',$3)",
		"no placeholders":                       "no placeholders",
	} {
		if got := pgDialect.Rebind(in); got != want {
			t.Errorf("Rebind(%q) = %q, want %q", in, got, want)
		}
		if got := sqliteDialect.Rebind(in); got != in {
			t.Errorf("SQLite Rebind changed %q to %q", in, got)
		}
	}
}
