package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/deskside/deskside/shared/protocol"
)

// Article is a self-help article: Markdown IT writes once so people find
// the answer themselves.
type Article struct {
	ID         string    `json:"id"`
	Title      string    `json:"title"`
	Body       string    `json:"body"` // Markdown
	Tags       []string  `json:"tags"`
	OS         []string  `json:"os"` // GOOS values; empty: every OS
	Published  bool      `json:"published"`
	Pinned     bool      `json:"pinned"`
	AuthorID   string    `json:"author_id"`
	AuthorName string    `json:"author"`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
	// Views, Solved and RequestsAfter count what people did with it:
	// opened it, said "This solved it", raised a request after seeing it.
	Views         int `json:"views"`
	Solved        int `json:"solved"`
	RequestsAfter int `json:"requests_after"`
	// Snippet is plain text around the match (search results only).
	Snippet string `json:"snippet,omitempty"`
}

// ToWire is the article as a device sees it.
func (a Article) ToWire() protocol.Article {
	return protocol.Article{ArticleSummary: protocol.ArticleSummary{ID: a.ID, Title: a.Title, Snippet: a.Snippet, Tags: a.Tags,
		OS: a.OS, Pinned: a.Pinned, UpdatedAt: a.UpdatedAt}, Body: a.Body}
}

// ArticleSearch narrows SearchArticles.
type ArticleSearch struct {
	Query string
	OS    string // "" any OS; else articles for every OS or this one
	Limit int    // 1..20, default 3
	// Drafts includes unpublished articles (the console's search).
	Drafts bool
}

// OfflineLimit is how many of the most viewed published articles a device
// keeps offline, besides every pinned one.
const OfflineLimit = 100

const articleCols = `a.id, a.title, a.body, a.tags, a.os, a.published, a.pinned, a.author_id, a.author_name,
	a.created_at, a.updated_at, a.views, a.solved, a.requests_after`

func scanArticle(row interface{ Scan(...any) error }, extra ...any) (Article, error) {
	var a Article
	var tags, oses string
	var pub, pin int
	var created, updated int64
	err := row.Scan(append([]any{&a.ID, &a.Title, &a.Body, &tags, &oses, &pub, &pin, &a.AuthorID, &a.AuthorName,
		&created, &updated, &a.Views, &a.Solved, &a.RequestsAfter}, extra...)...)
	a.Tags, a.OS = splitList(tags, "\n"), splitList(oses, " ")
	a.Published, a.Pinned = pub == 1, pin == 1
	a.CreatedAt, a.UpdatedAt = fromMS(created), fromMS(updated)
	return a, err
}

// Lists are stored as delimited text: tags one a line, OSes between
// spaces (" linux windows ") so "os LIKE '% linux %'" finds one exactly.
func joinTags(tags []string) string { return strings.Join(tags, "\n") }

func joinOS(oses []string) string {
	if len(oses) == 0 {
		return ""
	}
	return " " + strings.Join(oses, " ") + " "
}

func splitList(s, sep string) []string {
	out := []string{}
	for _, x := range strings.Split(s, sep) {
		if x = strings.TrimSpace(x); x != "" {
			out = append(out, x)
		}
	}
	return out
}

// bumpRevision moves the published articles' revision on and returns it.
func bumpRevision(ctx context.Context, tx handle) (int64, error) {
	var rev int64
	err := tx.QueryRowContext(ctx, "UPDATE article_revision SET rev = rev + 1 RETURNING rev").Scan(&rev)
	return rev, err
}

// ArticlesRevision is the revision of the published articles.
func (s *SQL) ArticlesRevision(ctx context.Context) (int64, error) {
	var rev int64
	if err := s.r.QueryRowContext(ctx, "SELECT rev FROM article_revision").Scan(&rev); err != nil {
		return 0, fmt.Errorf("read articles revision: %w", err)
	}
	return rev, nil
}

// CreateArticle stores a new article and returns it with the published
// revision (moved on when the article is published).
func (s *SQL) CreateArticle(ctx context.Context, a Article) (Article, int64, error) {
	a.CreatedAt, a.UpdatedAt = stamp(a.CreatedAt), stamp(a.UpdatedAt)
	var rev int64
	err := s.tx(ctx, func(tx handle) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO articles(id, title, body, tags, os, published, pinned, author_id, author_name,
			created_at, updated_at) VALUES(?,?,?,?,?,?,?,?,?,?,?)`, a.ID, a.Title, a.Body, joinTags(a.Tags), joinOS(a.OS),
			b2i(a.Published), b2i(a.Pinned), a.AuthorID, a.AuthorName, ms(a.CreatedAt), ms(a.UpdatedAt))
		if err != nil {
			if s.isUnique(err) {
				return ErrConflict
			}
			return err
		}
		if a.Published {
			rev, err = bumpRevision(ctx, tx)
			return err
		}
		return tx.QueryRowContext(ctx, "SELECT rev FROM article_revision").Scan(&rev)
	})
	if err != nil {
		return a, 0, fmt.Errorf("create article %s: %w", a.ID, err)
	}
	return a, rev, nil
}

// UpdateArticle runs change on the article inside a transaction and
// stores what it left. The revision moves on when the article was or is
// published; changed says whether it did.
func (s *SQL) UpdateArticle(ctx context.Context, id string, change func(a *Article) error) (a Article, rev int64, changed bool, err error) {
	err = s.tx(ctx, func(tx handle) error {
		changed = false
		cur, err := scanArticle(tx.QueryRowContext(ctx, "SELECT "+articleCols+" FROM articles a WHERE a.id = ?"+tx.d.lock(""), id))
		if err != nil {
			return notFound(err, "article "+id)
		}
		a = cur
		if err := change(&a); err != nil {
			return err
		}
		a.ID, a.UpdatedAt = id, stamp(a.UpdatedAt)
		_, err = tx.ExecContext(ctx, `UPDATE articles SET title = ?, body = ?, tags = ?, os = ?, published = ?, pinned = ?,
			updated_at = ? WHERE id = ?`, a.Title, a.Body, joinTags(a.Tags), joinOS(a.OS), b2i(a.Published), b2i(a.Pinned),
			ms(a.UpdatedAt), id)
		if err != nil {
			return err
		}
		if cur.Published || a.Published {
			changed = true
			rev, err = bumpRevision(ctx, tx)
			return err
		}
		return tx.QueryRowContext(ctx, "SELECT rev FROM article_revision").Scan(&rev)
	})
	if err != nil {
		return a, 0, false, fmt.Errorf("update article %s: %w", id, err)
	}
	return a, rev, changed, nil
}

// DeleteArticle removes an article; changed says whether it was published
// (and the revision moved on).
func (s *SQL) DeleteArticle(ctx context.Context, id string) (rev int64, changed bool, err error) {
	err = s.tx(ctx, func(tx handle) error {
		var pub int
		if err := tx.QueryRowContext(ctx, "DELETE FROM articles WHERE id = ? RETURNING published", id).Scan(&pub); err != nil {
			return notFound(err, "article "+id)
		}
		changed = pub == 1
		if changed {
			rev, err = bumpRevision(ctx, tx)
			return err
		}
		return tx.QueryRowContext(ctx, "SELECT rev FROM article_revision").Scan(&rev)
	})
	if err != nil {
		return 0, false, fmt.Errorf("delete article %s: %w", id, err)
	}
	return rev, changed, nil
}

// Article returns one article, draft or published.
func (s *SQL) Article(ctx context.Context, id string) (Article, error) {
	a, err := scanArticle(s.r.QueryRowContext(ctx, "SELECT "+articleCols+" FROM articles a WHERE a.id = ?", id))
	if err != nil {
		return a, notFound(err, "article "+id)
	}
	return a, nil
}

// ListArticles returns every article (drafts too), pinned first, then the
// most recently updated.
func (s *SQL) ListArticles(ctx context.Context) ([]Article, error) {
	return s.queryArticles(ctx, "list articles", "SELECT "+articleCols+" FROM articles a ORDER BY a.pinned DESC, a.updated_at DESC, a.id LIMIT 2000")
}

// OfflineArticles returns what a device keeps for offline search: every
// pinned published article and the OfflineLimit most viewed, with the
// revision they are at.
func (s *SQL) OfflineArticles(ctx context.Context) ([]Article, int64, error) {
	rev, err := s.ArticlesRevision(ctx)
	if err != nil {
		return nil, 0, err
	}
	as, err := s.queryArticles(ctx, "offline articles", "SELECT "+articleCols+` FROM articles a WHERE a.published = 1 AND
		(a.pinned = 1 OR a.id IN (SELECT id FROM articles WHERE published = 1 ORDER BY views DESC, updated_at DESC, id LIMIT ?))
		ORDER BY a.pinned DESC, a.views DESC, a.id`, OfflineLimit)
	return as, rev, err
}

func (s *SQL) queryArticles(ctx context.Context, what, q string, args ...any) ([]Article, error) {
	rows, err := s.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	defer rows.Close()
	out := []Article{}
	for rows.Next() {
		a, err := scanArticle(rows)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// SearchArticles finds articles matching the words of f.Query, best first,
// with the store's own full-text engine: FTS5 ranked by bm25 (title
// weighted 10, tags 5, body 1) on SQLite, the stored tsvector ranked by
// ts_rank on PostgreSQL. Words no article has are corrected against the
// articles' vocabulary first (see vocabulary), so "pritner" finds printer
// articles. An empty query, or one of only stop words and punctuation,
// finds nothing and is not an error.
func (s *SQL) SearchArticles(ctx context.Context, f ArticleSearch) ([]Article, error) {
	if f.Limit <= 0 || f.Limit > 20 {
		f.Limit = 3
	}
	terms := searchTerms(f.Query)
	if len(terms) == 0 {
		return []Article{}, nil
	}
	terms, err := s.correctTerms(ctx, terms)
	if err != nil {
		return nil, err
	}
	// Every word first: few matches, the best ones, and cheap (posting
	// lists are intersected). Only when no article has them all, any word:
	// ranking every article with any common word is the costly query, and
	// a weaker match under a strong one is noise in a three-line list.
	as, err := s.searchFTS(ctx, f, terms, true)
	if err != nil {
		return nil, err
	}
	if len(as) == 0 && len(terms) > 1 {
		if as, err = s.searchFTS(ctx, f, terms, false); err != nil {
			return nil, err
		}
	}
	for i := range as {
		as[i].Snippet = snippet(as[i].Body, terms)
	}
	return as, nil
}

func (s *SQL) searchFTS(ctx context.Context, f ArticleSearch, terms []searchTerm, all bool) ([]Article, error) {
	where := ""
	var args []any
	if !f.Drafts {
		where += " AND a.published = 1"
	}
	if f.OS != "" {
		where += " AND (a.os = '' OR a.os LIKE ?)"
		args = append(args, "% "+f.OS+" %")
	}
	var q string
	if s.d.postgres {
		q = "SELECT " + articleCols + ` FROM articles a, to_tsquery('english', ?) q WHERE a.tsv @@ q` + where +
			` ORDER BY ts_rank(a.tsv, q) DESC, a.views DESC, a.id LIMIT ?`
		args = append([]any{tsQuery(terms, all)}, args...)
	} else {
		q = "SELECT " + articleCols + ` FROM articles_fts f JOIN articles a ON a.rid = f.rowid WHERE articles_fts MATCH ?` + where +
			` ORDER BY bm25(articles_fts, 10.0, 5.0, 1.0), a.views DESC, a.id LIMIT ?`
		args = append([]any{ftsQuery(terms, all)}, args...)
	}
	return s.queryArticles(ctx, "search articles", q, append(args, f.Limit)...)
}

// correctTerms sets, for each word no published article has, its nearest
// vocabulary word as Alt (the original stays: it may still match as a prefix).
func (s *SQL) correctTerms(ctx context.Context, terms []searchTerm) ([]searchTerm, error) {
	rev, err := s.ArticlesRevision(ctx)
	if err != nil {
		return nil, err
	}
	v, err := s.vocab.get(rev, func() (*vocabulary, error) { return s.buildVocabulary(ctx) })
	if err != nil {
		return nil, err
	}
	for i, t := range terms {
		terms[i].Alt = v.correct(t.Word, t.Prefix)
	}
	return terms, nil
}

func (s *SQL) buildVocabulary(ctx context.Context) (*vocabulary, error) {
	rows, err := s.r.QueryContext(ctx, "SELECT title, tags, body FROM articles WHERE published = 1")
	if err != nil {
		return nil, fmt.Errorf("read article vocabulary: %w", err)
	}
	defer rows.Close()
	var scanErr error
	v := newVocabulary(func(yield func(string) bool) {
		for rows.Next() {
			var title, tags, body string
			if scanErr = rows.Scan(&title, &tags, &body); scanErr != nil {
				return
			}
			yield(title)
			yield(tags)
			yield(body)
		}
	})
	if err := errors.Join(scanErr, rows.Err()); err != nil {
		return nil, fmt.Errorf("read article vocabulary: %w", err)
	}
	return v, nil
}

// snippet is about 160 characters of the body's plain text around the
// first word of the query it contains (the start when none).
func snippet(body string, terms []searchTerm) string {
	plain := strings.Join(strings.FieldsFunc(body, func(r rune) bool {
		return unicode.IsSpace(r) || strings.ContainsRune("#*_`>[]()|", r)
	}), " ")
	lower := strings.ToLower(plain)
	at := -1
	for _, t := range terms {
		for _, w := range []string{t.Word, t.Alt} {
			if i := strings.Index(lower, w); w != "" && i >= 0 && (at < 0 || i < at) {
				at = i
			}
		}
	}
	start := 0
	if at > 60 {
		start = at - 60
		for start < len(plain) && plain[start] != ' ' { // start on a word
			start++
		}
	}
	r := []rune(plain[min(start, len(plain)):])
	out := string(r[:min(len(r), 160)])
	if start > 0 {
		out = "…" + strings.TrimSpace(out)
	}
	if len(r) > 160 {
		out += "…"
	}
	return out
}

// ArticleFeedback stores what a person did with an article, once per frame
// id, and counts it on the article: viewed → views, solved → solved. An
// unknown article id is stored and counted nowhere (it may have been
// deleted while the frame waited in the device's outbox).
func (s *SQL) ArticleFeedback(ctx context.Context, frameID, deviceID string, f protocol.ArticleFeedback) (Result, error) {
	res, err := s.deviceOp(ctx, deviceID, frameID, func(tx handle) (string, error) {
		at := f.At
		if at.IsZero() {
			at = time.Now()
		}
		if _, err := tx.ExecContext(ctx, "INSERT INTO article_feedback(device_id, article_id, event, at) VALUES(?,?,?,?)",
			deviceID, f.ArticleID, f.Event, ms(at)); err != nil {
			return "", err
		}
		col := map[string]string{protocol.ArticleViewed: "views", protocol.ArticleSolved: "solved"}[f.Event]
		if col != "" {
			if _, err := tx.ExecContext(ctx, "UPDATE articles SET "+col+" = "+col+" + 1 WHERE id = ?", f.ArticleID); err != nil {
				return "", err
			}
		}
		return f.ArticleID, nil
	})
	if err != nil {
		return res, fmt.Errorf("article feedback from %s: %w", deviceID, err)
	}
	return res, nil
}

// countRequestAfter counts a request on each article shown while it was
// typed that the device had opened ("requests raised after viewing").
func countRequestAfter(ctx context.Context, tx handle, deviceID string, shown []string) error {
	for _, id := range shown {
		_, err := tx.ExecContext(ctx, `UPDATE articles SET requests_after = requests_after + 1 WHERE id = ? AND EXISTS
			(SELECT 1 FROM article_feedback WHERE device_id = ? AND article_id = ? AND event <> ?)`, id, deviceID, id, protocol.ArticleSolved)
		if err != nil {
			return err
		}
	}
	return nil
}

// ShownArticles are the articles suggested while the request was typed.
func (s *SQL) ShownArticles(ctx context.Context, requestID string) ([]string, error) {
	var v string
	if err := s.r.QueryRowContext(ctx, "SELECT shown_articles FROM requests WHERE id = ?", requestID).Scan(&v); err != nil {
		return nil, notFound(err, "shown articles of "+requestID)
	}
	return splitList(v, " "), nil
}

// cleanShown keeps at most 10 plausible article ids.
func cleanShown(ids []string) string {
	var out []string
	for _, id := range ids {
		if id != "" && len(id) <= 64 && !strings.ContainsAny(id, " \n") && !slices.Contains(out, id) && len(out) < 10 {
			out = append(out, id)
		}
	}
	return strings.Join(out, " ")
}
