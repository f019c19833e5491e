package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/deskside/deskside/agent/agentapi"
	"github.com/deskside/deskside/shared/protocol"
)

// The self-help articles cache: the published articles IT wants every
// device to keep (the most viewed and the pinned ones), plus the ones the
// server suggested lately, searched locally with SQLite FTS5 when the
// server cannot be reached.

// Caps on what the cache keeps of an article from the server: an article is
// read on a small window, and a 5 MB body must not fill the disk or slow
// every search down.
const (
	MaxArticleBody   = 256 << 10 // bytes of Markdown kept per article
	MaxArticleTitle  = 200       // runes
	MaxArticles      = 1000      // articles kept per sync
	maxArticleTags   = 20
	maxArticleTagLen = 64
	maxArticleIDLen  = 64
)

// truncatedNote ends a body cut at MaxArticleBody.
const truncatedNote = "\n\n*(This article is longer than this computer keeps; the rest is on the help desk.)*"

// articlesSchema is the cache. articles_fts is a standalone FTS5 table kept
// in step by the same transactions (simpler than external-content
// triggers, and the cache is small); articles_vocab lists its terms for
// the typo fallback. Porter stemming lets "printers" find "printer". The
// index row has the article row's rowid, so replacing one is a lookup, not
// a scan; body is the last column, so reading the others for a search
// result never walks a long body's overflow pages.
const articlesSchema = `
CREATE TABLE IF NOT EXISTS articles(
	id TEXT PRIMARY KEY, title TEXT NOT NULL,
	tags TEXT NOT NULL DEFAULT '', os TEXT NOT NULL DEFAULT '',
	pinned INTEGER NOT NULL DEFAULT 0, updated_at INTEGER NOT NULL DEFAULT 0,
	revision INTEGER NOT NULL DEFAULT 0, offline INTEGER NOT NULL DEFAULT 0,
	body TEXT NOT NULL
);
CREATE VIRTUAL TABLE IF NOT EXISTS articles_fts USING fts5(
	id UNINDEXED, title, tags, body, tokenize='porter unicode61 remove_diacritics 2'
);
CREATE VIRTUAL TABLE IF NOT EXISTS articles_vocab USING fts5vocab(articles_fts, 'row');
CREATE TABLE IF NOT EXISTS announcement_state(
	id TEXT PRIMARY KEY, kind TEXT NOT NULL DEFAULT '',
	resolved_at INTEGER NOT NULL DEFAULT 0, resolved_text TEXT NOT NULL DEFAULT '',
	metoo_at INTEGER NOT NULL DEFAULT 0
);
`

// ArticlesRevision is the revision of the offline set the cache holds (0:
// never synced).
func (s *Store) ArticlesRevision(ctx context.Context) (int64, error) {
	v, err := getMeta(s.db, ctx, "articles_revision")
	if err != nil || v == "" {
		return 0, wrap("articles revision", err)
	}
	n, err := strconv.ParseInt(v, 10, 64)
	return n, wrap("articles revision", err)
}

// ReplaceArticles makes list the offline set at revision, in one
// transaction: articles no longer in it are dropped, except ones cached
// from suggestions, which go too (a sync is the fresh truth). At most
// MaxArticles are kept; each is capped (see MaxArticleBody).
func (s *Store) ReplaceArticles(ctx context.Context, revision int64, list []protocol.Article) error {
	if len(list) > MaxArticles {
		list = list[:MaxArticles]
	}
	err := s.tx(ctx, "replace articles", func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM articles`); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM articles_fts`); err != nil {
			return err
		}
		for _, a := range list {
			if err := putArticle(ctx, tx, a, revision, true); err != nil {
				return err
			}
		}
		return setMeta(tx, ctx, "articles_revision", strconv.FormatInt(revision, 10))
	})
	s.vocab.invalidate()
	return err
}

// PutArticles adds or refreshes articles the server just suggested, so they
// open offline too; they leave at the next ReplaceArticles.
func (s *Store) PutArticles(ctx context.Context, list []protocol.Article) error {
	if len(list) == 0 {
		return nil
	}
	err := s.tx(ctx, "cache articles", func(tx *sql.Tx) error {
		for _, a := range list {
			if err := putArticle(ctx, tx, a, 0, false); err != nil {
				return err
			}
		}
		return nil
	})
	s.vocab.invalidate()
	return err
}

// putArticle writes one article and its index row. An article with an
// empty or too long id is skipped: it could never be opened again.
func putArticle(ctx context.Context, tx *sql.Tx, a protocol.Article, revision int64, offline bool) error {
	if a.ID == "" || len(a.ID) > maxArticleIDLen {
		return nil
	}
	title := capRunes(strings.TrimSpace(a.Title), MaxArticleTitle)
	body := capBody(a.Body)
	tags := cleanTags(a.Tags)
	osList := ""
	if len(a.OS) > 0 {
		osList = "," + strings.Join(cleanTags(a.OS), ",") + ","
	}
	var was int
	_ = tx.QueryRowContext(ctx, `SELECT offline FROM articles WHERE id=?`, a.ID).Scan(&was)
	if _, err := tx.ExecContext(ctx, `INSERT INTO articles(id,title,body,tags,os,pinned,updated_at,revision,offline) VALUES(?,?,?,?,?,?,?,?,?)
		ON CONFLICT(id) DO UPDATE SET title=excluded.title, body=excluded.body, tags=excluded.tags, os=excluded.os,
		pinned=excluded.pinned, updated_at=excluded.updated_at, revision=max(revision,excluded.revision), offline=max(offline,excluded.offline)`,
		a.ID, title, body, strings.Join(tags, ","), osList, sqlBool(a.Pinned), unixMS(a.UpdatedAt), revision, sqlBool(offline || was == 1)); err != nil {
		return fmt.Errorf("article %s: %w", a.ID, err)
	}
	var rowid int64
	if err := tx.QueryRowContext(ctx, `SELECT rowid FROM articles WHERE id=?`, a.ID).Scan(&rowid); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM articles_fts WHERE rowid=?`, rowid); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO articles_fts(rowid,id,title,tags,body) VALUES(?,?,?,?,?)`, rowid, a.ID, title, strings.Join(tags, " "), body)
	return err
}

// capBody keeps at most MaxArticleBody bytes of body, cut at a line (or
// at least a rune) boundary, with a note that the rest is on the server.
func capBody(body string) string {
	if len(body) <= MaxArticleBody {
		return strings.ToValidUTF8(body, "")
	}
	cut := MaxArticleBody - len(truncatedNote)
	for cut > 0 && !utf8.RuneStart(body[cut]) {
		cut--
	}
	b := body[:cut]
	if i := strings.LastIndexByte(b, '\n'); i > cut/2 {
		b = b[:i]
	}
	return strings.ToValidUTF8(b, "") + truncatedNote
}

func capRunes(s string, n int) string {
	s = strings.ToValidUTF8(s, "")
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n])
}

func cleanTags(in []string) []string {
	var out []string
	for _, t := range in {
		t = strings.ToLower(strings.TrimSpace(strings.Map(func(r rune) rune {
			if r == ',' {
				return -1
			}
			return r
		}, t)))
		if t == "" || len(t) > maxArticleTagLen || slices.Contains(out, t) {
			continue
		}
		out = append(out, capRunes(t, maxArticleTagLen))
		if len(out) == maxArticleTags {
			break
		}
	}
	return out
}

const articleCols = `a.id,a.title,a.tags,a.os,a.pinned,a.updated_at`

func scanArticle(sc interface{ Scan(...any) error }, extra ...any) (agentapi.Article, error) {
	var a agentapi.Article
	var tags, osList string
	var pinned int
	var updated int64
	if err := sc.Scan(append([]any{&a.ID, &a.Title, &tags, &osList, &pinned, &updated}, extra...)...); err != nil {
		return a, err
	}
	if tags != "" {
		a.Tags = strings.Split(tags, ",")
	}
	if o := strings.Trim(osList, ","); o != "" {
		a.OS = strings.Split(o, ",")
	}
	a.Pinned, a.UpdatedAt = pinned == 1, fromUnixMS(updated)
	return a, nil
}

// Article returns one cached article with its body; ErrNotFound when the
// cache does not have it.
func (s *Store) Article(ctx context.Context, id string) (agentapi.Article, error) {
	var body string
	a, err := scanArticle(s.db.QueryRowContext(ctx, `SELECT `+articleCols+`,a.body FROM articles a WHERE a.id=?`, id), &body)
	if errors.Is(err, sql.ErrNoRows) {
		return a, fmt.Errorf("article %s: %w", id, ErrNotFound)
	}
	a.Body = body
	return a, wrap("read article", err)
}

// osFilter keeps the articles for every OS and those for goos ("" keeps all).
const osFilter = `(?1='' OR a.os='' OR instr(a.os, ','||?1||',')>0)`

// ListArticles lists the cached articles for goos without bodies: pinned
// first, then the most recently updated, at most limit (0: all).
func (s *Store) ListArticles(ctx context.Context, goos string, limit int) ([]agentapi.Article, error) {
	if limit <= 0 {
		limit = MaxArticles * 2
	}
	rows, err := s.db.QueryContext(ctx, `SELECT `+articleCols+` FROM articles a WHERE `+osFilter+`
		ORDER BY a.pinned DESC, a.updated_at DESC, a.title LIMIT ?2`, goos, limit)
	if err != nil {
		return nil, wrap("list articles", err)
	}
	defer rows.Close()
	var out []agentapi.Article
	for rows.Next() {
		a, err := scanArticle(rows)
		if err != nil {
			return nil, wrap("list articles", err)
		}
		out = append(out, a)
	}
	return out, wrap("list articles", rows.Err())
}

// SearchArticles searches the cache for what a person typed, best first
// (bm25: title over tags over body), for goos, at most limit. Anything a
// person types is safe: the words are quoted (see MatchQuery), so FTS5
// syntax is never interpreted; words the cache does not know are matched
// to the nearest ones it does ("pritner" finds "printer"). Text with no
// words returns nothing, not an error.
func (s *Store) SearchArticles(ctx context.Context, text, goos string, limit int) ([]agentapi.Article, error) {
	if limit <= 0 {
		limit = 3
	}
	var fix func(string) []string
	if v, err := s.vocab.get(ctx, s.db); err == nil {
		fix = v.corrections
	}
	q := MatchQuery(text, fix)
	if q == "" {
		return nil, nil
	}
	// Rank first, then make snippets for the few rows kept, in Go: FTS5's
	// snippet() re-tokenises the whole body of every match (it was half
	// the search time in the benchmark).
	rows, err := s.db.QueryContext(ctx, `SELECT `+articleCols+`, f.rowid
		FROM articles_fts f JOIN articles a ON a.rowid=f.rowid
		WHERE articles_fts MATCH ?3 AND `+osFilter+`
		ORDER BY bm25(articles_fts, 0, 10, 4, 1), a.pinned DESC LIMIT ?2`, goos, limit, q)
	if err != nil {
		return nil, wrap("search articles", err)
	}
	var out []agentapi.Article
	var rowids []int64
	for rows.Next() {
		var rowid int64
		a, err := scanArticle(rows, &rowid)
		if err != nil {
			rows.Close()
			return nil, wrap("search articles", err)
		}
		out = append(out, a)
		rowids = append(rowids, rowid)
	}
	rows.Close() // one connection: it must be free for the snippets
	if err := rows.Err(); err != nil {
		return nil, wrap("search articles", err)
	}
	words := queryTokens(text)
	for i, id := range rowids {
		var body string
		if err := s.db.QueryRowContext(ctx, `SELECT substr(body, 1, 65536) FROM articles WHERE rowid=?`, id).Scan(&body); err != nil {
			return nil, wrap("search articles: snippet", err)
		}
		out[i].Snippet = snippet(body, words)
	}
	return out, nil
}

// snippet is the plain text around the first of words in body (its start
// when none is there), about 160 characters, cut at spaces.
func snippet(body string, words []string) string {
	const before, after = 50, 110
	lower := strings.ToLower(body)
	at := -1
	if len(lower) == len(body) { // byte offsets line up (no case change altered a length)
		for _, w := range words {
			if i := strings.Index(lower, w); i >= 0 && (at < 0 || i < at) {
				at = i
			}
		}
	}
	start, prefix := 0, ""
	if at > before {
		start = at - before
		if sp := strings.IndexByte(body[start:at], ' '); sp >= 0 {
			start += sp + 1
		}
		prefix = "…"
	}
	end, suffix := len(body), ""
	if end-start > before+after {
		end = start + before + after
		if sp := strings.LastIndexByte(body[start:end], ' '); sp > 0 {
			end = start + sp
		}
		suffix = "…"
	}
	return prefix + plainSnippet(strings.ToValidUTF8(body[start:end], "")) + suffix
}

// plainSnippet drops the Markdown marks a snippet cut out of a body may
// carry, so the suggestion reads as text.
func plainSnippet(s string) string {
	s = strings.Map(func(r rune) rune {
		switch r {
		case '#', '*', '_', '`', '>', '[', ']':
			return -1
		case '\n', '\r', '\t':
			return ' '
		}
		return r
	}, s)
	return strings.Join(strings.Fields(s), " ")
}

// Known problems ("is it just me?"): the kind and resolved state of an
// announcement, and whether this person said "Me too", kept beside the
// announcement itself.

// annState is what applyAnnouncementState learned.
type annState struct {
	newlyResolved bool
	meToo         bool
}

// applyAnnouncementState records an announcement's kind and resolved state
// (the all-clear arrives as the same announcement with ResolvedAt set).
func applyAnnouncementState(ctx context.Context, tx *sql.Tx, an protocol.Announcement) (annState, error) {
	var st annState
	var resolved, metoo int64
	err := tx.QueryRowContext(ctx, `SELECT resolved_at, metoo_at FROM announcement_state WHERE id=?`, an.AnnouncementID).Scan(&resolved, &metoo)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return st, err
	}
	st.meToo = metoo != 0
	st.newlyResolved = resolved == 0 && !an.ResolvedAt.IsZero()
	_, err = tx.ExecContext(ctx, `INSERT INTO announcement_state(id,kind,resolved_at,resolved_text) VALUES(?,?,?,?)
		ON CONFLICT(id) DO UPDATE SET kind=excluded.kind,
		resolved_at=CASE WHEN excluded.resolved_at=0 THEN resolved_at ELSE excluded.resolved_at END,
		resolved_text=CASE WHEN excluded.resolved_text='' THEN resolved_text ELSE excluded.resolved_text END`,
		an.AnnouncementID, an.Kind, unixMS(an.ResolvedAt), an.ResolvedText)
	return st, err
}

// AddMeToo records that this person said "Me too" on announcement id and
// queues env (announcement.metoo) in the same transaction. It returns
// false, queuing nothing, when they had said it already; ErrNotFound when
// there is no such announcement.
func (s *Store) AddMeToo(ctx context.Context, id string, env protocol.Envelope) (bool, error) {
	var added bool
	err := s.tx(ctx, "save me too", func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM announcements WHERE id=?`, id).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return fmt.Errorf("announcement %s: %w", id, ErrNotFound)
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO announcement_state(id,metoo_at) VALUES(?,?)
			ON CONFLICT(id) DO UPDATE SET metoo_at=excluded.metoo_at WHERE metoo_at=0`, id, unixMS(time.Now()))
		if err != nil {
			return err
		}
		if k, _ := res.RowsAffected(); k == 0 {
			return nil
		}
		added = true
		return enqueue(ctx, tx, env, id)
	})
	return added, err
}

// AddArticleFeedback queues an article.feedback frame; it is on disk when
// this returns.
func (s *Store) AddArticleFeedback(ctx context.Context, env protocol.Envelope) error {
	if env.Type != protocol.KindArticleFeedback {
		return fmt.Errorf("queue article feedback: frame is %s", env.Type)
	}
	return s.tx(ctx, "queue article feedback", func(tx *sql.Tx) error {
		return enqueue(ctx, tx, env, "")
	})
}

// KnownProblems lists the known problems IT has not resolved yet and that
// have not expired, newest first.
func (s *Store) KnownProblems(ctx context.Context) ([]agentapi.Announcement, error) {
	all, err := s.Announcements(ctx)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	var out []agentapi.Announcement
	for _, a := range all {
		if a.Kind == protocol.AnnouncementKnownProblem && a.ResolvedAt.IsZero() && (a.ExpiresAt.IsZero() || a.ExpiresAt.After(now)) {
			out = append(out, a)
		}
	}
	return out, nil
}
