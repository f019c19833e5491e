package store

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/deskside/deskside/server/internal/store/pgtest"
)

// BenchmarkSuggest10k: the store's share of one suggestion (what
// GET /api/v1/articles/suggest runs: the revision, the spelling fallback
// and the full-text query, three results for one OS) over 10,000
// published articles, with the queries people type: whole words, a word
// still being typed, typos, stop words and query syntax. It reports p50
// and p99 of the single calls besides the mean.
func BenchmarkSuggest10k(b *testing.B) {
	b.Run("sqlite", func(b *testing.B) {
		s, err := Open(context.Background(), b.TempDir())
		if err != nil {
			b.Fatal(err)
		}
		defer s.Close()
		benchSuggest(b, s)
	})
	b.Run("postgres", func(b *testing.B) {
		s, err := OpenPostgres(context.Background(), pgtest.URL(b))
		if err != nil {
			b.Fatal(err)
		}
		defer s.Close()
		benchSuggest(b, s)
	})
}

// benchWords make up the generated articles: help-desk nouns and verbs,
// so queries hit many articles as they would in a real knowledge base.
var benchWords = strings.Fields(`printer scanner vpn certificate password outlook calendar teams sound microphone camera wifi
	network drive share folder onedrive sharepoint excel word powerpoint laptop monitor dock keyboard mouse battery charger
	update restart install licence adobe zoom slack browser chrome firefox edge bookmark email signature mailbox quota
	phone mobile authenticator mfa token account locked expired reset badge door meeting room projector hdmi usb bluetooth
	headset audio video slow frozen crash error offline connect sync backup restore file deleted recycle permission access
	admin group policy encryption bitlocker filevault disk space cleanup cache cookie popup virus phishing spam report`)

// seedBenchArticles stores n published articles shaped like a real
// knowledge base: each is about two or three help-desk topics (in its
// title, tags and steps), in prose drawn from a 20,000-word vocabulary
// with a Zipf distribution (a few words everywhere, most words rare).
func seedBenchArticles(b *testing.B, s *SQL, n int) {
	ctx := context.Background()
	r := rand.New(rand.NewPCG(1, 2))
	filler := make([]string, 20000)
	for i := range filler {
		w := make([]byte, 4+r.IntN(7))
		for j := range w {
			w[j] = byte('a' + r.IntN(26))
		}
		filler[i] = string(w)
	}
	zipf := rand.NewZipf(r, 1.1, 2, uint64(len(filler)-1))
	prose := func(k int) string {
		w := make([]string, k)
		for i := range w {
			w[i] = filler[zipf.Uint64()]
		}
		return strings.Join(w, " ")
	}
	topic := func() string { return benchWords[r.IntN(len(benchWords))] }
	oses := []string{"", "", " windows ", " darwin ", " linux ", " windows darwin "}
	err := s.tx(ctx, func(tx handle) error {
		for i := range n {
			now := time.Now().UnixMilli()
			t1, t2, t3 := topic(), topic(), topic()
			title := fmt.Sprintf("%s %s %s %s", strings.ToUpper(t1[:1])+t1[1:], prose(2), t2, prose(1))
			body := fmt.Sprintf("## %s\n\n1. %s %s %s.\n2. %s %s.\n3. %s %s %s.\n\n%s", title, prose(8), t1, prose(6), prose(10), t2,
				prose(5), t3, prose(9), prose(80))
			if _, err := tx.ExecContext(ctx, `INSERT INTO articles(id, title, body, tags, os, published, pinned, created_at, updated_at, views)
				VALUES(?,?,?,?,?,1,0,?,?,?)`, fmt.Sprintf("art_%05d", i), title, body, t1+"\n"+t3, oses[i%len(oses)], now, now, r.IntN(500)); err != nil {
				return err
			}
		}
		_, err := tx.ExecContext(ctx, "UPDATE article_revision SET rev = rev + 1")
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	if s.d.postgres {
		if _, err := s.w.ExecContext(ctx, "ANALYZE articles"); err != nil {
			b.Fatal(err)
		}
	}
}

var benchQueries = []string{"printer offline", "my vpn certificate expired", "outlook password", "pritner", "certifcate expird",
	"teams microphone not working", "how do I share my calendar", "wifi", "prin", "laptop battery charger ",
	`"monitor" NEAR dock -hdmi (usb)`, "onedrive sync error", "bitlocker recovery", "zoom camera", "the", ""}

func benchSuggest(b *testing.B, s *SQL) {
	seedBenchArticles(b, s, 10000)
	ctx := context.Background()
	oses := []string{"windows", "darwin", "linux"}
	// The first search after a change builds the spelling vocabulary.
	if _, err := s.SearchArticles(ctx, ArticleSearch{Query: "warm up", OS: "linux"}); err != nil {
		b.Fatal(err)
	}
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := range b.N {
		t0 := time.Now()
		if _, err := s.SearchArticles(ctx, ArticleSearch{Query: benchQueries[i%len(benchQueries)], OS: oses[i%len(oses)], Limit: 3}); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(t0))
	}
	b.StopTimer()
	slices.Sort(lat)
	pct := func(p float64) float64 {
		return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))].Microseconds()) / 1000
	}
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
}
