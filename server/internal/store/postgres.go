package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
)

// pgMigrations are migrations for PostgreSQL: the same schema versions as
// migrations (SQLite), in PostgreSQL's types. Append only, and append to
// both lists together (TestMigrationVersions checks they line up).
//
// Differences from SQLite: BYTEA for BLOB, BIGINT for unix milliseconds,
// a unique index on lower(email) for COLLATE NOCASE, and an ord column on
// messages and notes where SQLite breaks created_at ties by rowid.
var pgMigrations = []string{
	`CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
	CREATE TABLE technicians (id TEXT PRIMARY KEY, email TEXT NOT NULL, name TEXT NOT NULL,
		greeting TEXT NOT NULL DEFAULT '', role TEXT NOT NULL, disabled INTEGER NOT NULL DEFAULT 0,
		password_hash TEXT NOT NULL, created_at BIGINT NOT NULL);
	CREATE UNIQUE INDEX technicians_email ON technicians (lower(email));
	CREATE TABLE sessions (hash BYTEA PRIMARY KEY, technician_id TEXT NOT NULL, csrf TEXT NOT NULL, expires_at BIGINT NOT NULL);
	CREATE TABLE enroll_tokens (id TEXT PRIMARY KEY, secret_hash BYTEA NOT NULL UNIQUE, grp TEXT NOT NULL DEFAULT '',
		expires_at BIGINT, max_uses INTEGER NOT NULL DEFAULT 0, uses INTEGER NOT NULL DEFAULT 0,
		revoked INTEGER NOT NULL DEFAULT 0, created_at BIGINT NOT NULL);
	CREATE TABLE devices (id TEXT PRIMARY KEY, secret_hash BYTEA NOT NULL, hostname TEXT NOT NULL, usr TEXT NOT NULL DEFAULT '',
		os TEXT NOT NULL DEFAULT '', platform TEXT NOT NULL DEFAULT '', arch TEXT NOT NULL DEFAULT '', grp TEXT NOT NULL DEFAULT '',
		agent_version TEXT NOT NULL DEFAULT '', revoked INTEGER NOT NULL DEFAULT 0, enrolled_at BIGINT NOT NULL,
		last_seen BIGINT NOT NULL DEFAULT 0, snapshot BYTEA, next_seq BIGINT NOT NULL DEFAULT 0);
	CREATE TABLE seen_frames (device_id TEXT NOT NULL, frame_id TEXT NOT NULL, ref TEXT NOT NULL DEFAULT '',
		at BIGINT NOT NULL, PRIMARY KEY (device_id, frame_id));
	CREATE TABLE outbox (device_id TEXT NOT NULL, seq BIGINT NOT NULL, frame BYTEA NOT NULL, announcement_id TEXT,
		created_at BIGINT NOT NULL, PRIMARY KEY (device_id, seq));
	CREATE TABLE requests (id TEXT PRIMARY KEY, device_id TEXT NOT NULL REFERENCES devices(id), category TEXT NOT NULL,
		urgency TEXT NOT NULL, status TEXT NOT NULL, text TEXT NOT NULL, assignee TEXT NOT NULL DEFAULT '',
		rating INTEGER NOT NULL DEFAULT 0, rating_comment TEXT NOT NULL DEFAULT '', snapshot BYTEA,
		screenshot BYTEA, screenshot_type TEXT NOT NULL DEFAULT '', created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL);
	CREATE INDEX requests_device ON requests(device_id);
	CREATE INDEX requests_created ON requests(created_at);
	CREATE TABLE messages (ord BIGSERIAL, id TEXT PRIMARY KEY, request_id TEXT NOT NULL DEFAULT '', device_id TEXT NOT NULL,
		technician_id TEXT NOT NULL DEFAULT '', author_name TEXT NOT NULL, from_user INTEGER NOT NULL, text TEXT NOT NULL,
		created_at BIGINT NOT NULL);
	CREATE INDEX messages_request ON messages(request_id, created_at);
	CREATE TABLE notes (ord BIGSERIAL, id TEXT PRIMARY KEY, request_id TEXT NOT NULL, technician_id TEXT NOT NULL, author_name TEXT NOT NULL,
		text TEXT NOT NULL, created_at BIGINT NOT NULL);
	CREATE TABLE announcements (id TEXT PRIMARY KEY, title TEXT NOT NULL, text TEXT NOT NULL, severity TEXT NOT NULL,
		target_kind TEXT NOT NULL, target_value TEXT NOT NULL, author_id TEXT NOT NULL, author_name TEXT NOT NULL,
		created_at BIGINT NOT NULL, expires_at BIGINT NOT NULL DEFAULT 0, recipients INTEGER NOT NULL DEFAULT 0,
		delivered INTEGER NOT NULL DEFAULT 0);
	CREATE TABLE audit (id BIGSERIAL PRIMARY KEY, at BIGINT NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL,
		target TEXT NOT NULL, detail TEXT NOT NULL DEFAULT '');`,
	// 2: an announcement's frame is stored once, seq-less.
	`ALTER TABLE announcements ADD COLUMN frame BYTEA;`,
	// 3: single sign-on (see migrations).
	`ALTER TABLE technicians ADD COLUMN auth_method TEXT NOT NULL DEFAULT '';
	ALTER TABLE technicians ADD COLUMN external_id TEXT NOT NULL DEFAULT '';
	ALTER TABLE technicians ADD COLUMN break_glass INTEGER NOT NULL DEFAULT 0;
	CREATE UNIQUE INDEX technicians_external ON technicians(external_id) WHERE external_id <> '';
	CREATE INDEX sessions_technician ON sessions(technician_id);
	UPDATE technicians SET break_glass = 1 WHERE id = (SELECT id FROM technicians WHERE role = 'admin' ORDER BY created_at LIMIT 1);`,
	// 4: heads-up checks (see migrations and checks.go).
	`CREATE TABLE checks_policies (grp TEXT PRIMARY KEY, revision BIGINT NOT NULL, policy BYTEA NOT NULL,
		updated_at BIGINT NOT NULL, updated_by TEXT NOT NULL DEFAULT '');
	CREATE TABLE checks_policy_frames (revision BIGINT PRIMARY KEY, frame BYTEA NOT NULL);
	ALTER TABLE outbox ADD COLUMN policy_rev BIGINT;
	ALTER TABLE devices ADD COLUMN checks_cap INTEGER NOT NULL DEFAULT 0;
	ALTER TABLE devices ADD COLUMN checks_rev BIGINT NOT NULL DEFAULT 0;
	CREATE INDEX devices_grp ON devices(grp);
	CREATE TABLE device_checks (device_id TEXT NOT NULL, check_kind TEXT NOT NULL, state TEXT NOT NULL,
		summary TEXT NOT NULL DEFAULT '', evidence BYTEA, deadline BIGINT NOT NULL DEFAULT 0,
		snoozed_until BIGINT NOT NULL DEFAULT 0, request_id TEXT NOT NULL DEFAULT '', observed_at BIGINT NOT NULL,
		updated_at BIGINT NOT NULL, PRIMARY KEY (device_id, check_kind));
	CREATE INDEX device_checks_state ON device_checks(check_kind, state);
	CREATE TABLE check_history (device_id TEXT NOT NULL, check_kind TEXT NOT NULL, state TEXT NOT NULL, at BIGINT NOT NULL);
	CREATE INDEX check_history_at ON check_history(at, check_kind, state);`,
	// 5: self-help (see migrations): a stored tsvector (title A, tags B,
	// body C, english stemming) with a GIN index, ranked by ts_rank.
	`CREATE TABLE articles (id TEXT PRIMARY KEY, title TEXT NOT NULL, body TEXT NOT NULL,
		tags TEXT NOT NULL DEFAULT '', os TEXT NOT NULL DEFAULT '', published INTEGER NOT NULL DEFAULT 0,
		pinned INTEGER NOT NULL DEFAULT 0, author_id TEXT NOT NULL DEFAULT '', author_name TEXT NOT NULL DEFAULT '',
		created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL, views INTEGER NOT NULL DEFAULT 0,
		solved INTEGER NOT NULL DEFAULT 0, requests_after INTEGER NOT NULL DEFAULT 0,
		tsv tsvector GENERATED ALWAYS AS (setweight(to_tsvector('english', title), 'A') ||
			setweight(to_tsvector('english', tags), 'B') || setweight(to_tsvector('english', body), 'C')) STORED);
	CREATE INDEX articles_tsv ON articles USING GIN (tsv);
	CREATE INDEX articles_views ON articles(published, views);
	CREATE TABLE article_revision (rev BIGINT NOT NULL);
	INSERT INTO article_revision(rev) VALUES (0);
	CREATE TABLE article_feedback (device_id TEXT NOT NULL, article_id TEXT NOT NULL, event TEXT NOT NULL, at BIGINT NOT NULL);
	CREATE INDEX article_feedback_device ON article_feedback(device_id, article_id);
	CREATE TABLE saved_replies (id TEXT PRIMARY KEY, title TEXT NOT NULL, body TEXT NOT NULL, author_id TEXT NOT NULL DEFAULT '',
		author_name TEXT NOT NULL DEFAULT '', updated_at BIGINT NOT NULL);
	ALTER TABLE announcements ADD COLUMN kind TEXT NOT NULL DEFAULT 'news';
	ALTER TABLE announcements ADD COLUMN resolved_at BIGINT NOT NULL DEFAULT 0;
	ALTER TABLE announcements ADD COLUMN resolved_text TEXT NOT NULL DEFAULT '';
	CREATE TABLE announcement_metoo (announcement_id TEXT NOT NULL, device_id TEXT NOT NULL, at BIGINT NOT NULL,
		PRIMARY KEY (announcement_id, device_id));
	ALTER TABLE requests ADD COLUMN shown_articles TEXT NOT NULL DEFAULT '';` + seedReplies,
	// 6: software amnesty (see migrations): titles with maintained counts
	// and a device bitmap, versions, one compressed inventory per device,
	// status history, answers and asks; requests link to a title.
	`CREATE TABLE software_titles (id TEXT PRIMARY KEY, name TEXT NOT NULL, publisher TEXT NOT NULL DEFAULT '',
		source TEXT NOT NULL, status TEXT NOT NULL DEFAULT 'new', reason TEXT NOT NULL DEFAULT '',
		alternative TEXT NOT NULL DEFAULT '', catalogue BIGINT NOT NULL DEFAULT 0, catalogue_how TEXT NOT NULL DEFAULT '',
		catalogue_url TEXT NOT NULL DEFAULT '', catalogue_package TEXT NOT NULL DEFAULT '', catalogue_text TEXT NOT NULL DEFAULT '',
		description TEXT NOT NULL DEFAULT '', catalogue_os TEXT NOT NULL DEFAULT '',
		devices BIGINT NOT NULL DEFAULT 0, per_user_devices BIGINT NOT NULL DEFAULT 0, told BIGINT NOT NULL DEFAULT 0,
		first_seen BIGINT NOT NULL, last_seen BIGINT NOT NULL, status_at BIGINT NOT NULL DEFAULT 0,
		status_by TEXT NOT NULL DEFAULT '', came_in_at BIGINT NOT NULL DEFAULT 0, device_set BYTEA NOT NULL DEFAULT ''::bytea);
	CREATE INDEX software_titles_devices ON software_titles(devices DESC, id);
	CREATE INDEX software_titles_status ON software_titles(status, devices DESC);
	CREATE INDEX software_titles_first ON software_titles(first_seen DESC);
	CREATE INDEX software_titles_per_user ON software_titles(per_user_devices DESC) WHERE per_user_devices > 0;
	CREATE TABLE software_versions (title_id TEXT NOT NULL, version TEXT NOT NULL, devices BIGINT NOT NULL DEFAULT 0,
		first_seen BIGINT NOT NULL, last_seen BIGINT NOT NULL, PRIMARY KEY (title_id, version));
	CREATE TABLE device_software (num BIGSERIAL PRIMARY KEY, device_id TEXT NOT NULL UNIQUE, hash TEXT NOT NULL DEFAULT '',
		entries BIGINT NOT NULL DEFAULT 0, truncated BIGINT NOT NULL DEFAULT 0, blob BYTEA NOT NULL DEFAULT ''::bytea,
		updated_at BIGINT NOT NULL);
	CREATE TABLE software_history (id BIGSERIAL PRIMARY KEY, title_id TEXT NOT NULL, at BIGINT NOT NULL,
		by_id TEXT NOT NULL, by_name TEXT NOT NULL, from_status TEXT NOT NULL, to_status TEXT NOT NULL,
		reason TEXT NOT NULL DEFAULT '', alternative TEXT NOT NULL DEFAULT '');
	CREATE INDEX software_history_title ON software_history(title_id, id);
	CREATE TABLE software_answers (title_id TEXT NOT NULL, device_id TEXT NOT NULL, usr TEXT NOT NULL DEFAULT '',
		answer TEXT NOT NULL, request_id TEXT NOT NULL DEFAULT '', at BIGINT NOT NULL, thanked_at BIGINT NOT NULL DEFAULT 0,
		thanked_status TEXT NOT NULL DEFAULT '', PRIMARY KEY (title_id, device_id));
	CREATE INDEX software_answers_thanked ON software_answers(thanked_at);
	CREATE TABLE software_asks (title_id TEXT NOT NULL, device_id TEXT NOT NULL, at BIGINT NOT NULL,
		PRIMARY KEY (title_id, device_id));
	ALTER TABLE requests ADD COLUMN software_title TEXT NOT NULL DEFAULT '';
	CREATE INDEX requests_software_title ON requests(software_title) WHERE software_title <> '';
	CREATE INDEX software_titles_name ON software_titles(lower(name), id);
	CREATE INDEX software_titles_per_user_devices ON software_titles(devices DESC, id) WHERE per_user_devices > 0;`,
	// 7: response targets (see migrations).
	`ALTER TABLE requests ADD COLUMN first_response_due BIGINT NOT NULL DEFAULT 0;
	ALTER TABLE requests ADD COLUMN resolution_due BIGINT NOT NULL DEFAULT 0;
	ALTER TABLE requests ADD COLUMN first_response_at BIGINT NOT NULL DEFAULT 0;
	ALTER TABLE requests ADD COLUMN resolved_at BIGINT NOT NULL DEFAULT 0;
	ALTER TABLE requests ADD COLUMN waiting_since BIGINT NOT NULL DEFAULT 0;`,
	// 8: response-target warnings (see migrations).
	`ALTER TABLE requests ADD COLUMN first_response_warned SMALLINT NOT NULL DEFAULT 0;
	ALTER TABLE requests ADD COLUMN resolution_warned SMALLINT NOT NULL DEFAULT 0;
	CREATE INDEX requests_open_status ON requests(status) WHERE status <> 'resolved';`,
	// mail (see migrations).
	`CREATE TABLE mail_settings (id INTEGER PRIMARY KEY CHECK (id = 1), host TEXT NOT NULL, port INTEGER NOT NULL,
		security TEXT NOT NULL, username TEXT NOT NULL DEFAULT '', password TEXT NOT NULL DEFAULT '',
		from_addr TEXT NOT NULL DEFAULT '', from_name TEXT NOT NULL DEFAULT '', updated_at BIGINT NOT NULL,
		updated_by TEXT NOT NULL DEFAULT '');
	CREATE TABLE mail_prefs (technician_id TEXT PRIMARY KEY, assigned INTEGER NOT NULL, slipping INTEGER NOT NULL,
		monthly_report INTEGER NOT NULL);
	CREATE TABLE mail_outbox (id TEXT PRIMARY KEY, recipients TEXT NOT NULL, subject TEXT NOT NULL, text TEXT NOT NULL,
		html TEXT NOT NULL DEFAULT '', status TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
		next_attempt_at BIGINT NOT NULL, lease_until BIGINT NOT NULL DEFAULT 0, last_error TEXT NOT NULL DEFAULT '',
		created_at BIGINT NOT NULL, sent_at BIGINT NOT NULL DEFAULT 0);
	CREATE INDEX mail_outbox_due ON mail_outbox(status, next_attempt_at);
	CREATE INDEX mail_outbox_created ON mail_outbox(created_at);`,
	// 8: IT's month (see migrations): PostgreSQL hashes the month's
	// groups, read from requests_report by an index-only scan (narrower
	// than the table's rows); the percentiles walk the expression indexes as on SQLite
	// (percentile_cont sorted a million rows in about a second each; the
	// INCLUDE lets it be an index-only scan).
	`CREATE INDEX requests_first_response ON requests((first_response_at - created_at), created_at) INCLUDE (first_response_at)
		WHERE first_response_at > 0;
	CREATE INDEX requests_resolution ON requests((resolved_at - created_at), created_at) INCLUDE (resolved_at) WHERE resolved_at > 0;
	CREATE INDEX requests_report ON requests(created_at) INCLUDE (category, urgency, rating, first_response_at, first_response_due,
		resolved_at, resolution_due);
	CREATE INDEX requests_unanswered ON requests(created_at, first_response_due) WHERE first_response_at = 0 AND first_response_due > 0;
	CREATE INDEX requests_unresolved ON requests(created_at, resolution_due) WHERE resolved_at = 0 AND resolution_due > 0;`,
	// 8: outbound webhooks (issue 17, webhooks.go): endpoints, and the
	// durable delivery queue the dispatcher claims from (lease_until lets
	// several nodes share it). Times in ms, 0 for none.
	`CREATE TABLE webhooks (id TEXT PRIMARY KEY, url TEXT NOT NULL, kind TEXT NOT NULL, events TEXT NOT NULL DEFAULT '',
		secret TEXT NOT NULL DEFAULT '', allow_private INTEGER NOT NULL DEFAULT 0, description TEXT NOT NULL DEFAULT '',
		disabled INTEGER NOT NULL DEFAULT 0, created_at BIGINT NOT NULL);
	CREATE TABLE webhook_deliveries (id TEXT PRIMARY KEY, endpoint_id TEXT NOT NULL, event_type TEXT NOT NULL, payload BYTEA NOT NULL,
		status TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, next_attempt_at BIGINT NOT NULL, first_attempt_at BIGINT NOT NULL DEFAULT 0,
		lease_until BIGINT NOT NULL DEFAULT 0, last_status INTEGER NOT NULL DEFAULT 0, last_error TEXT NOT NULL DEFAULT '',
		created_at BIGINT NOT NULL, delivered_at BIGINT NOT NULL DEFAULT 0, resent_at BIGINT NOT NULL DEFAULT 0);
	CREATE INDEX webhook_deliveries_due ON webhook_deliveries(endpoint_id, status, next_attempt_at);
	CREATE INDEX webhook_deliveries_recent ON webhook_deliveries(endpoint_id, created_at);`,
}

// pgDialect: $n placeholders, ILIKE, and transactions that run side by
// side (read committed), so reads that decide a write lock their rows.
var pgDialect = &dialect{name: "postgres", postgres: true, like: "ILIKE", rowOrder: "ord", emptyBlob: "''::bytea",
	isUnique: func(err error) bool { return pgCode(err) == "23505" }, // unique_violation
	retry: func(err error) bool {
		c := pgCode(err)
		return c == "40001" || c == "40P01" // serialization_failure, deadlock_detected
	},
}

func pgCode(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

// PostgresMaxConns is the connection pool size of one server node. Several
// nodes share the database: keep nodes × PostgresMaxConns under the
// server's max_connections (100 by default).
const PostgresMaxConns = 16

// OpenPostgres connects to the PostgreSQL database at url (postgres://… or
// key=value form; any parameter pgx does not know, such as search_path, is
// sent to the server as a setting) and runs migrations. Several server
// nodes may share the database: migrations run under an advisory lock, and
// per-device seqs are taken by UPDATE … RETURNING on the device row.
//
// It goes through pgx's database/sql driver rather than pgxpool so that
// both backends share one implementation (and the release service keeps
// its *sql.DB); the cost is a little per-row overhead we have not measured
// to matter next to a durable commit.
func OpenPostgres(ctx context.Context, url string) (*SQL, error) {
	db, err := sql.Open("pgx", url)
	if err != nil {
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	db.SetMaxOpenConns(PostgresMaxConns)
	db.SetMaxIdleConns(PostgresMaxConns)
	db.SetConnMaxIdleTime(5 * time.Minute)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("connect to postgres: %w", err)
	}
	s := newSQL(db, nil, pgDialect)
	if err := s.migratePostgres(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// pgMigrationLock is the advisory lock key migrations hold, so that nodes
// starting together migrate one at a time ("dsk" + 1).
const pgMigrationLock = 0x64736b01

// migratePostgres applies the missing migrations in one transaction under
// an advisory lock; the version lives in schema_version.
func (s *SQL) migratePostgres(ctx context.Context) error {
	err := s.tx(ctx, func(tx handle) error {
		if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock(?)", pgMigrationLock); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)"); err != nil {
			return err
		}
		var v int
		err := tx.QueryRowContext(ctx, "SELECT version FROM schema_version").Scan(&v)
		if errors.Is(err, sql.ErrNoRows) {
			_, err = tx.ExecContext(ctx, "INSERT INTO schema_version(version) VALUES(0)")
		}
		if err != nil {
			return fmt.Errorf("read schema version: %w", err)
		}
		if v > len(pgMigrations) {
			return fmt.Errorf("schema version %d is newer than this server knows (%d): upgrade the server", v, len(pgMigrations))
		}
		for i := v; i < len(pgMigrations); i++ {
			if _, err := tx.ExecContext(ctx, pgMigrations[i]); err != nil {
				return fmt.Errorf("migrate schema to version %d: %w", i+1, err)
			}
		}
		_, err = tx.ExecContext(ctx, "UPDATE schema_version SET version = ?", len(pgMigrations))
		return err
	})
	if err != nil {
		return fmt.Errorf("migrate postgres: %w", err)
	}
	return nil
}

// pgPruneCursors deletes the acknowledged outbox rows and counts the
// announcement rows among them, in one statement: rows another node
// deleted first are not counted twice (DELETE … RETURNING only returns
// what this statement deleted).
const pgPruneCursors = `WITH c AS (SELECT key AS device_id, value::bigint AS seq FROM json_each_text(?::json)),
	d AS (DELETE FROM outbox o USING c WHERE o.device_id = c.device_id AND o.seq <= c.seq RETURNING o.announcement_id),
	n AS (SELECT announcement_id, count(*) AS n FROM d WHERE announcement_id IS NOT NULL GROUP BY announcement_id)
	UPDATE announcements a SET delivered = a.delivered + n.n FROM n WHERE a.id = n.announcement_id`

// pgAnnounceSeqs takes the next seq of every device matching where and
// stores a frameless outbox row for each, in one statement. Its arguments
// are where's, then the announcement id and the time.
func pgAnnounceSeqs(where string) string {
	return `WITH s AS (UPDATE devices SET next_seq = next_seq + 1` + where + ` RETURNING id, next_seq),
	o AS (INSERT INTO outbox(device_id, seq, frame, announcement_id, created_at) SELECT id, next_seq, ''::bytea, ?, ? FROM s)
	SELECT id, next_seq FROM s`
}
