package store

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"

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
	// 3: single sign-on. auth_method is how the account signs in
	// ("" password, or oidc); external_id is "issuer|subject" for OIDC accounts;
	// break_glass marks the local admin that may still use a password when
	// password sign-in is off. The first admin (made by setup) is it.
	`ALTER TABLE technicians ADD COLUMN auth_method TEXT NOT NULL DEFAULT '';
	ALTER TABLE technicians ADD COLUMN external_id TEXT NOT NULL DEFAULT '';
	ALTER TABLE technicians ADD COLUMN break_glass INTEGER NOT NULL DEFAULT 0;
	CREATE UNIQUE INDEX technicians_external ON technicians(external_id) WHERE external_id <> '';
	CREATE INDEX sessions_technician ON sessions(technician_id);
	UPDATE technicians SET break_glass = 1 WHERE id = (SELECT id FROM technicians WHERE role = 'admin' ORDER BY created_at LIMIT 1);`,
	// 4: heads-up checks (see checks.go). checks_policies holds one policy
	// per enrolment group ("" is the default); checks_policy_frames the
	// encoded frame of each revision, shared by the outbox rows that name it
	// in policy_rev (as announcements share theirs). devices.checks_cap says
	// the agent advertised "checks" at its last hello, checks_rev which
	// policy revision it was last queued. device_checks is each device's
	// current state per check; check_history its state changes (30 days).
	`CREATE TABLE checks_policies (grp TEXT PRIMARY KEY, revision INTEGER NOT NULL, policy BLOB NOT NULL,
		updated_at INTEGER NOT NULL, updated_by TEXT NOT NULL DEFAULT '');
	CREATE TABLE checks_policy_frames (revision INTEGER PRIMARY KEY, frame BLOB NOT NULL);
	ALTER TABLE outbox ADD COLUMN policy_rev INTEGER;
	ALTER TABLE devices ADD COLUMN checks_cap INTEGER NOT NULL DEFAULT 0;
	ALTER TABLE devices ADD COLUMN checks_rev INTEGER NOT NULL DEFAULT 0;
	CREATE INDEX devices_grp ON devices(grp);
	CREATE TABLE device_checks (device_id TEXT NOT NULL, check_kind TEXT NOT NULL, state TEXT NOT NULL,
		summary TEXT NOT NULL DEFAULT '', evidence BLOB, deadline INTEGER NOT NULL DEFAULT 0,
		snoozed_until INTEGER NOT NULL DEFAULT 0, request_id TEXT NOT NULL DEFAULT '', observed_at INTEGER NOT NULL,
		updated_at INTEGER NOT NULL, PRIMARY KEY (device_id, check_kind)) WITHOUT ROWID;
	CREATE INDEX device_checks_state ON device_checks(check_kind, state);
	CREATE TABLE check_history (device_id TEXT NOT NULL, check_kind TEXT NOT NULL, state TEXT NOT NULL, at INTEGER NOT NULL);
	CREATE INDEX check_history_at ON check_history(at, check_kind, state);`,
	// 5: self-help (issue 16). Articles with an FTS5 index kept in step by
	// triggers (porter stemming, bm25 ranking); tags and os are
	// newline- and space-delimited lists. article_revision is the one-row
	// counter of changes to the published set. Saved replies are
	// team-wide; announcements gain a kind, a resolved state and me-toos;
	// a request keeps the articles shown while it was typed.
	`CREATE TABLE articles (rid INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, title TEXT NOT NULL, body TEXT NOT NULL,
		tags TEXT NOT NULL DEFAULT '', os TEXT NOT NULL DEFAULT '', published INTEGER NOT NULL DEFAULT 0,
		pinned INTEGER NOT NULL DEFAULT 0, author_id TEXT NOT NULL DEFAULT '', author_name TEXT NOT NULL DEFAULT '',
		created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, views INTEGER NOT NULL DEFAULT 0,
		solved INTEGER NOT NULL DEFAULT 0, requests_after INTEGER NOT NULL DEFAULT 0);
	CREATE INDEX articles_views ON articles(published, views);
	CREATE VIRTUAL TABLE articles_fts USING fts5(title, tags, body, content='articles', content_rowid='rid',
		tokenize='porter unicode61 remove_diacritics 2');
	CREATE TRIGGER articles_ai AFTER INSERT ON articles BEGIN
		INSERT INTO articles_fts(rowid, title, tags, body) VALUES (new.rid, new.title, new.tags, new.body); END;
	CREATE TRIGGER articles_ad AFTER DELETE ON articles BEGIN
		INSERT INTO articles_fts(articles_fts, rowid, title, tags, body) VALUES ('delete', old.rid, old.title, old.tags, old.body); END;
	CREATE TRIGGER articles_au AFTER UPDATE OF title, tags, body ON articles BEGIN
		INSERT INTO articles_fts(articles_fts, rowid, title, tags, body) VALUES ('delete', old.rid, old.title, old.tags, old.body);
		INSERT INTO articles_fts(rowid, title, tags, body) VALUES (new.rid, new.title, new.tags, new.body); END;
	CREATE TABLE article_revision (rev INTEGER NOT NULL);
	INSERT INTO article_revision(rev) VALUES (0);
	CREATE TABLE article_feedback (device_id TEXT NOT NULL, article_id TEXT NOT NULL, event TEXT NOT NULL, at INTEGER NOT NULL);
	CREATE INDEX article_feedback_device ON article_feedback(device_id, article_id);
	CREATE TABLE saved_replies (id TEXT PRIMARY KEY, title TEXT NOT NULL, body TEXT NOT NULL, author_id TEXT NOT NULL DEFAULT '',
		author_name TEXT NOT NULL DEFAULT '', updated_at INTEGER NOT NULL);
	ALTER TABLE announcements ADD COLUMN kind TEXT NOT NULL DEFAULT 'news';
	ALTER TABLE announcements ADD COLUMN resolved_at INTEGER NOT NULL DEFAULT 0;
	ALTER TABLE announcements ADD COLUMN resolved_text TEXT NOT NULL DEFAULT '';
	CREATE TABLE announcement_metoo (announcement_id TEXT NOT NULL, device_id TEXT NOT NULL, at INTEGER NOT NULL,
		PRIMARY KEY (announcement_id, device_id)) WITHOUT ROWID;
	ALTER TABLE requests ADD COLUMN shown_articles TEXT NOT NULL DEFAULT '';` + seedReplies,
	// 6: software amnesty (see software.go): titles with maintained counts
	// and a device bitmap, versions, one compressed inventory per device,
	// status history, answers and asks; requests link to a title.
	`CREATE TABLE software_titles (id TEXT PRIMARY KEY, name TEXT NOT NULL, publisher TEXT NOT NULL DEFAULT '',
		source TEXT NOT NULL, status TEXT NOT NULL DEFAULT 'new', reason TEXT NOT NULL DEFAULT '',
		alternative TEXT NOT NULL DEFAULT '', catalogue INTEGER NOT NULL DEFAULT 0, catalogue_how TEXT NOT NULL DEFAULT '',
		catalogue_url TEXT NOT NULL DEFAULT '', catalogue_package TEXT NOT NULL DEFAULT '', catalogue_text TEXT NOT NULL DEFAULT '',
		description TEXT NOT NULL DEFAULT '', catalogue_os TEXT NOT NULL DEFAULT '',
		devices INTEGER NOT NULL DEFAULT 0, per_user_devices INTEGER NOT NULL DEFAULT 0, told INTEGER NOT NULL DEFAULT 0,
		first_seen INTEGER NOT NULL, last_seen INTEGER NOT NULL, status_at INTEGER NOT NULL DEFAULT 0,
		status_by TEXT NOT NULL DEFAULT '', came_in_at INTEGER NOT NULL DEFAULT 0, device_set BLOB NOT NULL DEFAULT X'');
	CREATE INDEX software_titles_devices ON software_titles(devices DESC, id);
	CREATE INDEX software_titles_status ON software_titles(status, devices DESC);
	CREATE INDEX software_titles_first ON software_titles(first_seen DESC);
	CREATE INDEX software_titles_per_user ON software_titles(per_user_devices DESC) WHERE per_user_devices > 0;
	CREATE TABLE software_versions (title_id TEXT NOT NULL, version TEXT NOT NULL, devices INTEGER NOT NULL DEFAULT 0,
		first_seen INTEGER NOT NULL, last_seen INTEGER NOT NULL, PRIMARY KEY (title_id, version)) WITHOUT ROWID;
	CREATE TABLE device_software (num INTEGER PRIMARY KEY, device_id TEXT NOT NULL UNIQUE, hash TEXT NOT NULL DEFAULT '',
		entries INTEGER NOT NULL DEFAULT 0, truncated INTEGER NOT NULL DEFAULT 0, blob BLOB NOT NULL DEFAULT X'',
		updated_at INTEGER NOT NULL);
	CREATE TABLE software_history (id INTEGER PRIMARY KEY AUTOINCREMENT, title_id TEXT NOT NULL, at INTEGER NOT NULL,
		by_id TEXT NOT NULL, by_name TEXT NOT NULL, from_status TEXT NOT NULL, to_status TEXT NOT NULL,
		reason TEXT NOT NULL DEFAULT '', alternative TEXT NOT NULL DEFAULT '');
	CREATE INDEX software_history_title ON software_history(title_id, id);
	CREATE TABLE software_answers (title_id TEXT NOT NULL, device_id TEXT NOT NULL, usr TEXT NOT NULL DEFAULT '',
		answer TEXT NOT NULL, request_id TEXT NOT NULL DEFAULT '', at INTEGER NOT NULL, thanked_at INTEGER NOT NULL DEFAULT 0,
		thanked_status TEXT NOT NULL DEFAULT '', PRIMARY KEY (title_id, device_id)) WITHOUT ROWID;
	CREATE INDEX software_answers_thanked ON software_answers(thanked_at);
	CREATE TABLE software_asks (title_id TEXT NOT NULL, device_id TEXT NOT NULL, at INTEGER NOT NULL,
		PRIMARY KEY (title_id, device_id)) WITHOUT ROWID;
	ALTER TABLE requests ADD COLUMN software_title TEXT NOT NULL DEFAULT '';
	CREATE INDEX requests_software_title ON requests(software_title) WHERE software_title <> '';
	CREATE INDEX software_titles_name ON software_titles(lower(name), id);
	CREATE INDEX software_titles_per_user_devices ON software_titles(devices DESC, id) WHERE per_user_devices > 0;`,
	// 7: response targets (issue 17). Due times are set by the SLA clock
	// (0: no target); first_response_at and resolved_at are stamped by the
	// writes that make them happen; waiting_since is set while the request
	// waits on the employee (its clock is paused). All in ms.
	`ALTER TABLE requests ADD COLUMN first_response_due INTEGER NOT NULL DEFAULT 0;
	ALTER TABLE requests ADD COLUMN resolution_due INTEGER NOT NULL DEFAULT 0;
	ALTER TABLE requests ADD COLUMN first_response_at INTEGER NOT NULL DEFAULT 0;
	ALTER TABLE requests ADD COLUMN resolved_at INTEGER NOT NULL DEFAULT 0;
	ALTER TABLE requests ADD COLUMN waiting_since INTEGER NOT NULL DEFAULT 0;`,
	// 8: response-target warnings, claimed once per level so two nodes
	// never both warn: 0 not warned, 1 warned it is slipping, 2 warned it
	// slipped (see store/sla.go). A due that moves resets its level.
	`ALTER TABLE requests ADD COLUMN first_response_warned INTEGER NOT NULL DEFAULT 0;
	ALTER TABLE requests ADD COLUMN resolution_warned INTEGER NOT NULL DEFAULT 0;
	CREATE INDEX requests_open_status ON requests(status) WHERE status <> 'resolved';`,
	// mail (issue 17): the SMTP settings (one row; the password is kept so
	// the server can sign in, and never returned by the API), each
	// account's notification preferences (no row: its role's defaults),
	// and the email outbox. An email is queued until sent or given up
	// (failed); next_attempt_at is its next try, lease_until the time
	// until which one node holds it (ms, 0: nobody). recipients is
	// newline-separated.
	`CREATE TABLE mail_settings (id INTEGER PRIMARY KEY CHECK (id = 1), host TEXT NOT NULL, port INTEGER NOT NULL,
		security TEXT NOT NULL, username TEXT NOT NULL DEFAULT '', password TEXT NOT NULL DEFAULT '',
		from_addr TEXT NOT NULL DEFAULT '', from_name TEXT NOT NULL DEFAULT '', updated_at INTEGER NOT NULL,
		updated_by TEXT NOT NULL DEFAULT '');
	CREATE TABLE mail_prefs (technician_id TEXT PRIMARY KEY, assigned INTEGER NOT NULL, slipping INTEGER NOT NULL,
		monthly_report INTEGER NOT NULL);
	CREATE TABLE mail_outbox (id TEXT PRIMARY KEY, recipients TEXT NOT NULL, subject TEXT NOT NULL, text TEXT NOT NULL,
		html TEXT NOT NULL DEFAULT '', status TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
		next_attempt_at INTEGER NOT NULL, lease_until INTEGER NOT NULL DEFAULT 0, last_error TEXT NOT NULL DEFAULT '',
		created_at INTEGER NOT NULL, sent_at INTEGER NOT NULL DEFAULT 0);
	CREATE INDEX mail_outbox_due ON mail_outbox(status, next_attempt_at);
	CREATE INDEX mail_outbox_created ON mail_outbox(created_at);`,
	// 8: IT's month (reports.go). requests_report holds each request's
	// kind, urgency, rating and standing against both targets (the
	// expressions frOutcome and resOutcome, word for word) and the columns
	// they read (SQLite counts an index as covering only then), so the
	// month's counts stream in index order without the table; the
	// two partial expression indexes give the percentiles their order (the
	// month's rows found by the second column, the third makes the index
	// cover the query); the last two find open requests past due.
	`CREATE INDEX requests_report ON requests(category, urgency, rating,
		(CASE WHEN first_response_at = 0 THEN (CASE WHEN first_response_due = 0 THEN 0 ELSE 1 END) WHEN first_response_due = 0 THEN 4 WHEN first_response_at <= first_response_due THEN 2 ELSE 3 END),
		(CASE WHEN resolved_at = 0 THEN (CASE WHEN resolution_due = 0 THEN 0 ELSE 1 END) WHEN resolution_due = 0 THEN 4 WHEN resolved_at <= resolution_due THEN 2 ELSE 3 END),
		created_at, first_response_at, first_response_due, resolved_at, resolution_due);
	CREATE INDEX requests_first_response ON requests(first_response_at - created_at, created_at, first_response_at)
		WHERE first_response_at > 0;
	CREATE INDEX requests_resolution ON requests(resolved_at - created_at, created_at, resolved_at) WHERE resolved_at > 0;
	CREATE INDEX requests_unanswered ON requests(created_at, first_response_due) WHERE first_response_at = 0 AND first_response_due > 0;
	CREATE INDEX requests_unresolved ON requests(created_at, resolution_due) WHERE resolved_at = 0 AND resolution_due > 0;`,
	// 8: outbound webhooks (issue 17, webhooks.go): endpoints, and the
	// durable delivery queue the dispatcher claims from (lease_until lets
	// several nodes share it). Times in ms, 0 for none.
	`CREATE TABLE webhooks (id TEXT PRIMARY KEY, url TEXT NOT NULL, kind TEXT NOT NULL, events TEXT NOT NULL DEFAULT '',
		secret TEXT NOT NULL DEFAULT '', allow_private INTEGER NOT NULL DEFAULT 0, description TEXT NOT NULL DEFAULT '',
		disabled INTEGER NOT NULL DEFAULT 0, created_at INTEGER NOT NULL);
	CREATE TABLE webhook_deliveries (id TEXT PRIMARY KEY, endpoint_id TEXT NOT NULL, event_type TEXT NOT NULL, payload BLOB NOT NULL,
		status TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, next_attempt_at INTEGER NOT NULL, first_attempt_at INTEGER NOT NULL DEFAULT 0,
		lease_until INTEGER NOT NULL DEFAULT 0, last_status INTEGER NOT NULL DEFAULT 0, last_error TEXT NOT NULL DEFAULT '',
		created_at INTEGER NOT NULL, delivered_at INTEGER NOT NULL DEFAULT 0, resent_at INTEGER NOT NULL DEFAULT 0);
	CREATE INDEX webhook_deliveries_due ON webhook_deliveries(endpoint_id, status, next_attempt_at);
	CREATE INDEX webhook_deliveries_recent ON webhook_deliveries(endpoint_id, created_at);`,
}

// sqliteDialect: SQLite takes ? as is; LIKE ignores ASCII case; one writer
// connection serialises write transactions (BEGIN IMMEDIATE), so nothing
// needs FOR UPDATE.
var sqliteDialect = &dialect{name: "sqlite", like: "LIKE", rowOrder: "rowid", emptyBlob: "X''",
	isUnique: func(err error) bool { return strings.Contains(err.Error(), "UNIQUE constraint failed") }}

// SQLiteFile is the database's file name in the data directory; its
// presence is how the admin commands know a server has run there.
const SQLiteFile = "deskside.db"

// Open opens (creating if needed) the embedded SQLite database in
// dir/deskside.db and runs migrations: one file in WAL mode, one writer
// connection (SQLite allows one writer at a time anyway) and a small pool of
// readers. synchronous=FULL makes every commit durable before it returns, so
// an ack that follows a commit survives kill -9 and power loss.
func Open(ctx context.Context, dir string) (*SQL, error) {
	path := filepath.Join(dir, SQLiteFile)
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
	s := newSQL(w, nil, sqliteDialect)
	if err := s.migrateSQLite(ctx); err != nil {
		w.Close()
		return nil, err
	}
	r, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("open %s for reading: %w", path, err)
	}
	r.SetMaxOpenConns(4)
	return newSQL(w, r, sqliteDialect), nil
}

func (s *SQL) migrateSQLite(ctx context.Context) error {
	var v int
	if err := s.w.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	for i := v; i < len(migrations); i++ {
		err := s.tx(ctx, func(tx handle) error {
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
