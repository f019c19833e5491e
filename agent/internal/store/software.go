package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/deskside/deskside/shared/protocol"
)

// Software amnesty keeps: the inventory the agent found last ("current",
// with the sources it could not read) and the one the server last
// acknowledged ("acked": the base of the next change list, which must
// survive a restart); IT's "Is it for your work?" questions with what
// became of each; the titles the person said never to ask about; IT's
// thank-yous and notes; and the catalogue for offline use.

// softwareSchema is created by Open. An inventory is one JSON blob per
// set: it is read and written whole (a diff needs both sets in memory
// anyway), twice a day.
const softwareSchema = `
CREATE TABLE IF NOT EXISTS software_sets(
	name TEXT PRIMARY KEY, hash TEXT NOT NULL, entries BLOB NOT NULL,
	collected_at INTEGER NOT NULL DEFAULT 0, truncated INTEGER NOT NULL DEFAULT 0,
	unreadable TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS software_asks(
	title_id TEXT PRIMARY KEY, name TEXT NOT NULL, publisher TEXT NOT NULL DEFAULT '',
	version TEXT NOT NULL DEFAULT '', text TEXT NOT NULL DEFAULT '',
	asked_at INTEGER NOT NULL, shown_at INTEGER NOT NULL DEFAULT 0,
	outcome TEXT NOT NULL DEFAULT '', outcome_at INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS software_never(title_id TEXT PRIMARY KEY, at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS software_notes(
	id INTEGER PRIMARY KEY AUTOINCREMENT, title_id TEXT NOT NULL, name TEXT NOT NULL, status TEXT NOT NULL,
	reason TEXT NOT NULL DEFAULT '', alternative TEXT NOT NULL DEFAULT '', text TEXT NOT NULL DEFAULT '',
	request_id TEXT NOT NULL DEFAULT '', at INTEGER NOT NULL
);
`

const (
	setCurrent = "current"
	setAcked   = "acked"

	metaPromptShown = "software_prompt_shown" // unix ms of the last prompt shown
	metaCatalogue   = "software_catalogue"    // the catalogue as fetched (JSON)
)

// Outcomes of a software question besides the person's answers
// (protocol.AnswerForWork, AnswerPersonal, AnswerNever).
const (
	OutcomeGone       = "gone"       // the title was no longer installed
	OutcomeNeverList  = "never-list" // the person had said "don't ask again"
	OutcomeUnanswered = "unanswered" // shown, not answered, and a week went by
)

// SoftwareSet is one inventory as the agent keeps it.
type SoftwareSet struct {
	Entries     []protocol.SoftwareEntry
	Hash        string
	CollectedAt time.Time
	Truncated   bool
	// Unreadable lists the sources that could not be read (their entries
	// from before are kept in Entries).
	Unreadable []protocol.SoftwareSource
}

// SoftwareCurrent is the inventory found last (nil: none yet).
func (s *Store) SoftwareCurrent(ctx context.Context) (*SoftwareSet, error) {
	return s.softwareSet(ctx, setCurrent)
}

// SoftwareAcked is the inventory the server last acknowledged (nil: none).
func (s *Store) SoftwareAcked(ctx context.Context) (*SoftwareSet, error) {
	return s.softwareSet(ctx, setAcked)
}

// SaveSoftwareCurrent makes set the inventory found last.
func (s *Store) SaveSoftwareCurrent(ctx context.Context, set SoftwareSet) error {
	return s.saveSoftwareSet(ctx, setCurrent, set)
}

// SaveSoftwareAcked makes set the one the server acknowledged.
func (s *Store) SaveSoftwareAcked(ctx context.Context, set SoftwareSet) error {
	return s.saveSoftwareSet(ctx, setAcked, set)
}

func (s *Store) softwareSet(ctx context.Context, name string) (*SoftwareSet, error) {
	var (
		set        SoftwareSet
		entries    []byte
		collected  int64
		truncated  int
		unreadable string
	)
	err := s.db.QueryRowContext(ctx, `SELECT hash,entries,collected_at,truncated,unreadable FROM software_sets WHERE name=?`, name).
		Scan(&set.Hash, &entries, &collected, &truncated, &unreadable)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, wrap("read "+name+" software", err)
	}
	if err := json.Unmarshal(entries, &set.Entries); err != nil {
		return nil, fmt.Errorf("read %s software: %w", name, err)
	}
	if unreadable != "" {
		if err := json.Unmarshal([]byte(unreadable), &set.Unreadable); err != nil {
			return nil, fmt.Errorf("read %s software: %w", name, err)
		}
	}
	set.CollectedAt, set.Truncated = fromUnixMS(collected), truncated == 1
	return &set, nil
}

func (s *Store) saveSoftwareSet(ctx context.Context, name string, set SoftwareSet) error {
	if set.Entries == nil {
		set.Entries = []protocol.SoftwareEntry{}
	}
	entries, err := json.Marshal(set.Entries)
	if err != nil {
		return fmt.Errorf("save %s software: %w", name, err)
	}
	var unreadable []byte
	if len(set.Unreadable) > 0 {
		unreadable, _ = json.Marshal(set.Unreadable)
	}
	return s.tx(ctx, "save "+name+" software", func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO software_sets(name,hash,entries,collected_at,truncated,unreadable) VALUES(?,?,?,?,?,?)
			ON CONFLICT(name) DO UPDATE SET hash=excluded.hash, entries=excluded.entries, collected_at=excluded.collected_at,
			truncated=excluded.truncated, unreadable=excluded.unreadable`,
			name, set.Hash, entries, unixMS(set.CollectedAt), sqlBool(set.Truncated), string(unreadable))
		return err
	})
}

// SoftwareAsk is one of IT's "Is it for your work?" questions as kept.
type SoftwareAsk struct {
	protocol.SoftwareAsk
	AskedAt time.Time // when it arrived
	ShownAt time.Time // when it was shown (zero: not yet)
	Outcome string    // "" while pending; the answer, or Outcome*
}

// applySoftwareAsk keeps a question: once per title, so a title asked
// about before (answered or not) is not asked again. A malformed one is
// skipped (false): refusing it would stop the sequence for good.
func applySoftwareAsk(ctx context.Context, tx *sql.Tx, env protocol.Envelope) (*SoftwareAsk, error) {
	var a protocol.SoftwareAsk
	if env.Decode(&a) != nil || a.Validate() != nil {
		return nil, nil
	}
	now := time.Now().UTC().Truncate(time.Millisecond)
	res, err := tx.ExecContext(ctx, `INSERT INTO software_asks(title_id,name,publisher,version,text,asked_at) VALUES(?,?,?,?,?,?)
		ON CONFLICT(title_id) DO NOTHING`, a.TitleID, a.Name, a.Publisher, a.Version, a.Text, unixMS(now))
	if err != nil {
		return nil, err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil, nil
	}
	return &SoftwareAsk{SoftwareAsk: a, AskedAt: now}, nil
}

const askCols = `title_id,name,publisher,version,text,asked_at,shown_at,outcome`

func scanAsk(sc interface{ Scan(...any) error }) (SoftwareAsk, error) {
	var a SoftwareAsk
	var asked, shown int64
	err := sc.Scan(&a.TitleID, &a.Name, &a.Publisher, &a.Version, &a.Text, &asked, &shown, &a.Outcome)
	a.AskedAt, a.ShownAt = fromUnixMS(asked), fromUnixMS(shown)
	return a, err
}

// SoftwareAsksPending lists the questions nobody has settled yet, oldest
// first.
func (s *Store) SoftwareAsksPending(ctx context.Context) ([]SoftwareAsk, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+askCols+` FROM software_asks WHERE outcome='' ORDER BY asked_at, title_id`)
	if err != nil {
		return nil, wrap("list software questions", err)
	}
	defer rows.Close()
	var out []SoftwareAsk
	for rows.Next() {
		a, err := scanAsk(rows)
		if err != nil {
			return nil, wrap("list software questions", err)
		}
		out = append(out, a)
	}
	return out, wrap("list software questions", rows.Err())
}

// SoftwareAskFor returns the question about titleID (ErrNotFound: none).
func (s *Store) SoftwareAskFor(ctx context.Context, titleID string) (SoftwareAsk, error) {
	a, err := scanAsk(s.db.QueryRowContext(ctx, `SELECT `+askCols+` FROM software_asks WHERE title_id=?`, titleID))
	if errors.Is(err, sql.ErrNoRows) {
		return a, fmt.Errorf("software question %s: %w", titleID, ErrNotFound)
	}
	return a, wrap("read software question", err)
}

// ShowSoftwareAsk records that the question about titleID is shown now:
// it becomes the one prompt, any other shown and unanswered one is closed
// as unanswered, and the week's throttle starts again.
func (s *Store) ShowSoftwareAsk(ctx context.Context, titleID string, at time.Time) error {
	return s.tx(ctx, "show software question", func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE software_asks SET outcome=?, outcome_at=? WHERE outcome='' AND shown_at<>0 AND title_id<>?`,
			OutcomeUnanswered, unixMS(at), titleID); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `UPDATE software_asks SET shown_at=? WHERE title_id=? AND outcome='' AND shown_at=0`, unixMS(at), titleID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("software question %s: %w", titleID, ErrNotFound)
		}
		return setMeta(tx, ctx, metaPromptShown, fmt.Sprint(unixMS(at)))
	})
}

// LastSoftwarePromptShown is when a prompt was last shown (zero: never).
func (s *Store) LastSoftwarePromptShown(ctx context.Context) (time.Time, error) {
	v, err := getMeta(s.db, ctx, metaPromptShown)
	if err != nil || v == "" {
		return time.Time{}, wrap("last software prompt", err)
	}
	var ms int64
	if _, err := fmt.Sscan(v, &ms); err != nil {
		return time.Time{}, fmt.Errorf("last software prompt: %w", err)
	}
	return fromUnixMS(ms), nil
}

// CloseSoftwareAsk settles a pending question without an answer (gone,
// never-list, unanswered); false when it was not pending.
func (s *Store) CloseSoftwareAsk(ctx context.Context, titleID, outcome string) (bool, error) {
	var closed bool
	err := s.tx(ctx, "close software question", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE software_asks SET outcome=?, outcome_at=? WHERE title_id=? AND outcome=''`,
			outcome, unixMS(time.Now()), titleID)
		if err != nil {
			return err
		}
		n, _ := res.RowsAffected()
		closed = n == 1
		return nil
	})
	return closed, err
}

// AnswerSoftwareAsk records the person's answer to the pending question
// about titleID and queues env (software.answer) in the same transaction;
// "never" also puts the title on the never-ask list. ErrNotFound when no
// question about it is pending.
func (s *Store) AnswerSoftwareAsk(ctx context.Context, titleID string, answer protocol.SoftwareAnswerKind, env protocol.Envelope) error {
	if env.Type != protocol.KindSoftwareAnswer {
		return fmt.Errorf("answer software question: frame is %s", env.Type)
	}
	return s.tx(ctx, "answer software question", func(tx *sql.Tx) error {
		now := unixMS(time.Now())
		res, err := tx.ExecContext(ctx, `UPDATE software_asks SET outcome=?, outcome_at=? WHERE title_id=? AND outcome=''`,
			string(answer), now, titleID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("software question %s: %w", titleID, ErrNotFound)
		}
		if answer == protocol.AnswerNever {
			if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO software_never(title_id,at) VALUES(?,?)`, titleID, now); err != nil {
				return err
			}
		}
		return enqueue(ctx, tx, env, titleID)
	})
}

// SoftwareNever reports whether the person said never to ask about titleID.
func (s *Store) SoftwareNever(ctx context.Context, titleID string) (bool, error) {
	var one int
	err := s.db.QueryRowContext(ctx, `SELECT 1 FROM software_never WHERE title_id=?`, titleID).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, wrap("read never-ask list", err)
}

// SoftwareThanks is IT's word on a title the person told it about, as
// kept (the core words it).
type SoftwareThanks struct {
	protocol.SoftwareThanks
	At time.Time
}

// applySoftwareThanks keeps a thank-you or note; a malformed one is
// skipped (nil), as applySoftwareAsk does.
func applySoftwareThanks(ctx context.Context, tx *sql.Tx, env protocol.Envelope) (*SoftwareThanks, error) {
	var t protocol.SoftwareThanks
	if env.Decode(&t) != nil || t.Validate() != nil {
		return nil, nil
	}
	at := env.TS.UTC()
	if at.IsZero() {
		at = time.Now().UTC().Truncate(time.Millisecond)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO software_notes(title_id,name,status,reason,alternative,text,request_id,at) VALUES(?,?,?,?,?,?,?,?)`,
		t.TitleID, t.Name, string(t.Status), t.Reason, t.Alternative, t.Text, t.RequestID, unixMS(at)); err != nil {
		return nil, err
	}
	return &SoftwareThanks{SoftwareThanks: t, At: at}, nil
}

// SoftwareNotes lists IT's thank-yous and notes, newest first.
func (s *Store) SoftwareNotes(ctx context.Context) ([]SoftwareThanks, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT title_id,name,status,reason,alternative,text,request_id,at FROM software_notes ORDER BY at DESC, id DESC`)
	if err != nil {
		return nil, wrap("list software notes", err)
	}
	defer rows.Close()
	var out []SoftwareThanks
	for rows.Next() {
		var t SoftwareThanks
		var at int64
		if err := rows.Scan(&t.TitleID, &t.Name, &t.Status, &t.Reason, &t.Alternative, &t.Text, &t.RequestID, &at); err != nil {
			return nil, wrap("list software notes", err)
		}
		t.At = fromUnixMS(at)
		out = append(out, t)
	}
	return out, wrap("list software notes", rows.Err())
}

// storedCatalogue is the catalogue as kept.
type storedCatalogue struct {
	Items     []protocol.CatalogueItem `json:"items"`
	FetchedAt time.Time                `json:"fetched_at"`
}

// SaveSoftwareCatalogue keeps the catalogue for offline use.
func (s *Store) SaveSoftwareCatalogue(ctx context.Context, items []protocol.CatalogueItem, at time.Time) error {
	if items == nil {
		items = []protocol.CatalogueItem{}
	}
	b, err := json.Marshal(storedCatalogue{Items: items, FetchedAt: at.UTC()})
	if err != nil {
		return fmt.Errorf("save catalogue: %w", err)
	}
	return s.SetMeta(ctx, metaCatalogue, string(b))
}

// SoftwareCatalogue is the kept catalogue and when it was fetched (zero:
// never).
func (s *Store) SoftwareCatalogue(ctx context.Context) ([]protocol.CatalogueItem, time.Time, error) {
	v, err := s.Meta(ctx, metaCatalogue)
	if err != nil || v == "" {
		return nil, time.Time{}, err
	}
	var c storedCatalogue
	if err := json.Unmarshal([]byte(v), &c); err != nil {
		return nil, time.Time{}, fmt.Errorf("read catalogue: %w", err)
	}
	return c.Items, c.FetchedAt, nil
}
