package store

import (
	"context"
	"database/sql"
	"github.com/deskside/deskside/shared/textsearch"
	"slices"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// Limits on what MatchQuery takes from a person's text.
const (
	maxQueryTokens   = 12
	maxQueryTokenLen = 40 // runes; longer "words" are pasted noise
	maxCorrections   = 3  // nearest known words tried per unknown word
)

// stopwords are words too common to say what an article is about; they are
// dropped unless nothing else is left.
var stopwords = map[string]bool{
	"a": true, "an": true, "and": true, "are": true, "as": true, "at": true, "be": true, "but": true, "by": true,
	"can": true, "do": true, "does": true, "for": true, "from": true, "have": true, "how": true, "i": true,
	"i'm": true, "im": true, "in": true, "is": true, "it": true, "its": true, "me": true, "my": true, "of": true,
	"on": true, "or": true, "so": true, "the": true, "this": true, "to": true, "was": true, "what": true,
	"when": true, "why": true, "with": true, "you": true, "won't": true, "wont": true, "doesn't": true, "not": true,
	"cant": true, "can't": true, "get": true, "please": true, "help": true, "hi": true, "hello": true,
}

// queryTokens splits text into lower-case words (letters and digits); every
// other character — FTS5's `"`, `*`, `-`, `(`, `)`, `:`, `^`, `+` — only
// separates words.
func queryTokens(text string) []string {
	fields := strings.FieldsFunc(strings.ToLower(strings.ToValidUTF8(text, " ")), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
	var words, stops []string
	for _, f := range fields {
		if utf8.RuneCountInString(f) > maxQueryTokenLen || slices.Contains(words, f) || slices.Contains(stops, f) {
			continue
		}
		if stopwords[f] {
			stops = append(stops, f)
			continue
		}
		words = append(words, f)
	}
	if len(words) == 0 {
		words = stops
	}
	if len(words) > maxQueryTokens {
		words = words[:maxQueryTokens]
	}
	return words
}

// MatchQuery turns what a person typed into an FTS5 MATCH expression that
// can never be a syntax error or an injection: each word is a quoted
// string (so NEAR, AND, OR, NOT are plain words), words of three letters
// or more also match as a prefix (the person is still typing), and the
// words are OR-ed so bm25 ranks the articles matching most of them first.
// fix, when not nil, gives known words near an unknown one (a typo); they
// are OR-ed in for that word. It returns "" when text has no words.
func MatchQuery(text string, fix func(word string) []string) string {
	var groups []string
	for _, w := range queryTokens(text) {
		alts := []string{quoteTerm(w, utf8.RuneCountInString(w) >= 3)}
		if fix != nil {
			for _, c := range fix(w) {
				alts = append(alts, quoteTerm(c, false))
			}
		}
		if len(alts) == 1 {
			groups = append(groups, alts[0])
			continue
		}
		groups = append(groups, "("+strings.Join(alts, " OR ")+")")
	}
	return strings.Join(groups, " OR ")
}

// quoteTerm is w as an FTS5 string; a `"` inside is doubled, as FTS5's
// grammar asks (the tokens MatchQuery makes have none, fix's might).
func quoteTerm(w string, prefix bool) string {
	q := `"` + strings.ReplaceAll(w, `"`, `""`) + `"`
	if prefix {
		q += "*"
	}
	return q
}

// vocabCache holds the index's terms in memory for the typo fallback; a
// write to the articles drops it and the next search reloads it.
type vocabCache struct {
	mu    sync.Mutex
	terms *vocab
}

func (c *vocabCache) invalidate() {
	c.mu.Lock()
	c.terms = nil
	c.mu.Unlock()
}

func (c *vocabCache) get(ctx context.Context, db *sql.DB) (*vocab, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.terms != nil {
		return c.terms, nil
	}
	rows, err := db.QueryContext(ctx, `SELECT term FROM articles_vocab`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	v := &vocab{}
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			return nil, err
		}
		v.terms = append(v.terms, t)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	slices.Sort(v.terms) // fts5vocab returns them sorted; be sure, known() relies on it
	c.terms = v
	return v, nil
}

// vocab is the sorted list of terms in the index (Porter stems).
type vocab struct{ terms []string }

// known reports whether word can match as it is: some term starts with it
// (the prefix query finds that), or it is a term plus a short ending the
// stemmer strips ("printers" → "printer", "printing" → "print").
func (v *vocab) known(word string) bool {
	i, _ := slices.BinarySearch(v.terms, word)
	if i < len(v.terms) && strings.HasPrefix(v.terms[i], word) {
		return true
	}
	for n := len(word) - 1; n >= 3 && n >= len(word)-4; n-- {
		if _, ok := slices.BinarySearch(v.terms, word[:n]); ok {
			return true
		}
	}
	return false
}

// corrections returns up to maxCorrections terms within a small edit
// distance of an unknown word of four letters or more (one edit up to five
// letters, two beyond; a swap of neighbours counts as one edit), nearest
// first. Words the index knows get none.
func (v *vocab) corrections(word string) []string {
	n := utf8.RuneCountInString(word)
	if n < 4 || v.known(word) {
		return nil
	}
	limit := 1
	if n > 5 {
		limit = 2
	}
	type cand struct {
		term string
		d    int
	}
	var cands []cand
	w := []rune(word)
	for _, t := range v.terms {
		tr := []rune(t)
		if abs(len(tr)-len(w)) > limit {
			continue
		}
		if d := textsearch.Distance(w, tr, limit); d <= limit {
			cands = append(cands, cand{t, d})
		}
	}
	slices.SortStableFunc(cands, func(a, b cand) int { return a.d - b.d })
	var out []string
	for _, c := range cands {
		out = append(out, c.term)
		if len(out) == maxCorrections {
			break
		}
	}
	return out
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
