package store

import (
	"github.com/deskside/deskside/shared/textsearch"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// What a person types is never handed to FTS5's MATCH or PostgreSQL's
// to_tsquery as it is: both have a query syntax ("", *, NEAR, -, AND, OR,
// NOT, parentheses, :*, &, |, !) in which a stray character is an error or
// an injection. searchTerms splits the text into words of letters and
// digits only, and the queries are built from those words, each quoted
// (FTS5) or a bare lexeme (tsquery), joined with OR, so every word helps
// and none is an operator.

const (
	maxSearchTerms = 12 // a pasted essay still makes a small query
	maxTermLen     = 40
)

// searchTerm is one word of a query; Prefix marks the word still being
// typed; Alt is the spelling fallback's correction ("" when none), which
// matches in its place.
type searchTerm struct {
	Word   string
	Prefix bool
	Alt    string
}

// stopWords carry no meaning in a question ("how do I…"); dropping them
// keeps OR queries from matching every article.
var stopWords = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(`a an and are as at be but by can cant could do does dont for from get got has have
		how i im is it its me my no not of on or our please so that the then there this to too was we what when where which
		who why will with wont would you your`) {
		m[w] = true
	}
	return m
}()

// searchTerms returns the words of q, lower-cased, stop words dropped,
// at most maxSearchTerms. The last word is a prefix when q does not end
// in a space (the person is still typing it).
func searchTerms(q string) []searchTerm {
	var out []searchTerm
	seen := map[string]bool{}
	words := strings.FieldsFunc(strings.ToLower(q), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
	typing := q != "" && !unicode.IsSpace(rune(q[len(q)-1]))
	for i, w := range words {
		if utf8.RuneCountInString(w) > maxTermLen {
			w = string([]rune(w)[:maxTermLen])
		}
		last := i == len(words)-1
		if seen[w] || (stopWords[w] && !(last && typing)) {
			continue
		}
		seen[w] = true
		out = append(out, searchTerm{Word: w, Prefix: last && typing && utf8.RuneCountInString(w) >= 2})
		if len(out) == maxSearchTerms {
			break
		}
	}
	return out
}

// ftsQuery is an FTS5 MATCH expression: each word a quoted string (it has
// only letters and digits, so no quote to escape), a prefix one with *,
// OR its correction; the words joined with AND (all must match) or OR.
func ftsQuery(terms []searchTerm, all bool) string {
	parts := make([]string, 0, len(terms))
	for _, t := range terms {
		p := `"` + t.Word + `"`
		if t.Prefix {
			p += "*"
		}
		if t.Alt != "" {
			p = "(" + p + ` OR "` + t.Alt + `")`
		}
		parts = append(parts, p)
	}
	return strings.Join(parts, map[bool]string{true: " AND ", false: " OR "}[all])
}

// tsQuery is a to_tsquery expression: bare lexemes (letters and digits
// only), a prefix one with :*, OR its correction; joined with & or |.
func tsQuery(terms []searchTerm, all bool) string {
	parts := make([]string, 0, len(terms))
	for _, t := range terms {
		p := t.Word
		if t.Prefix {
			p += ":*"
		}
		if t.Alt != "" {
			p = "(" + p + " | " + t.Alt + ")"
		}
		parts = append(parts, p)
	}
	return strings.Join(parts, map[bool]string{true: " & ", false: " | "}[all])
}

// vocabulary is the set of words in the published articles, for the
// spelling fallback: a word of the query that no article has is replaced
// by its nearest neighbour here. Words are bucketed by their first letter,
// since people rarely mistype the first letter, which keeps a lookup to a
// few hundred comparisons even over 10,000 articles.
type vocabulary struct {
	words   map[string]bool
	byFirst map[rune][]string
}

func newVocabulary(texts func(yield func(string) bool)) *vocabulary {
	v := &vocabulary{words: map[string]bool{}, byFirst: map[rune][]string{}}
	texts(func(text string) bool {
		for _, w := range strings.FieldsFunc(strings.ToLower(text), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
			n := utf8.RuneCountInString(w)
			if n < 3 || n > maxTermLen || v.words[w] {
				continue
			}
			v.words[w] = true
			first, _ := utf8.DecodeRuneInString(w)
			v.byFirst[first] = append(v.byFirst[first], w)
		}
		return true
	})
	return v
}

// correct returns the vocabulary word nearest to w within the edit
// distance its length allows (1 for 4–5 letters, 2 for longer; shorter
// words are not corrected), or "" when w is known or nothing is near.
func (v *vocabulary) correct(w string, prefix bool) string {
	n := utf8.RuneCountInString(w)
	if n < 4 || v.words[w] {
		return ""
	}
	limit := 1
	if n >= 6 {
		limit = 2
	}
	first, _ := utf8.DecodeRuneInString(w)
	best, bestD := "", limit+1
	rw := []rune(w)
	for _, c := range v.byFirst[first] {
		rc := []rune(c)
		if prefix && len(rc) > len(rw) {
			rc = rc[:len(rw)] // still typing: compare with the word's start
		}
		if d := len(rc) - len(rw); d > limit || -d > limit {
			continue
		}
		if d := textsearch.Distance(rw, rc, min(bestD, limit)); d < bestD || (d == bestD && d <= limit && c < best) {
			best, bestD = c, d
		}
	}
	if bestD > limit || bestD == 0 && prefix {
		return ""
	}
	return best
}

// vocabCache keeps one vocabulary per published revision: built on the
// first search after a change, shared by every search until the next.
type vocabCache struct {
	mu  sync.Mutex
	rev int64
	v   *vocabulary
}

func (c *vocabCache) get(rev int64, build func() (*vocabulary, error)) (*vocabulary, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.v != nil && c.rev == rev {
		return c.v, nil
	}
	v, err := build()
	if err != nil {
		return nil, err
	}
	c.v, c.rev = v, rev
	return v, nil
}
