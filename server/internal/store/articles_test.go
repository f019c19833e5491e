package store

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/deskside/deskside/shared/protocol"
)

// seedArticles stores a few articles (published unless the id starts
// with "draft") and returns the revision after them.
func seedArticles(t *testing.T, s Store) int64 {
	t.Helper()
	ctx := context.Background()
	var rev int64
	for _, a := range []Article{
		{ID: "printer", Title: "Printer shows offline", Body: "If the **printer** on floor 2 shows *offline*, turn it off and on.", Tags: []string{"printing", "floor 2"}},
		{ID: "vpn", Title: "VPN says certificate expired", Body: "Open the VPN app and choose Renew certificate.", Tags: []string{"vpn"}, OS: []string{"windows", "darwin"}},
		{ID: "calendar", Title: "Share your calendar", Body: "In Outlook, right-click the calendar and choose Share.", Tags: []string{"outlook"}},
		{ID: "macprint", Title: "Add a printer on a Mac", Body: "System Settings → Printers & Scanners → Add.", OS: []string{"darwin"}},
		{ID: "draft-wifi", Title: "Wi-Fi password for guests (draft)", Body: "The guest wifi password printer secret."},
	} {
		a.Published = !strings.HasPrefix(a.ID, "draft")
		a.CreatedAt, a.UpdatedAt = time.Now(), time.Now()
		_, r, err := s.CreateArticle(ctx, a)
		if err != nil {
			t.Fatal(err)
		}
		rev = r
	}
	return rev
}

func ids(as []Article) []string {
	out := []string{}
	for _, a := range as {
		out = append(out, a.ID)
	}
	return out
}

// Articles are stored and read back whole; the published revision moves
// only when a published article (or one being published) changes.
func testArticles(t *testing.T, s Store) {
	ctx := context.Background()
	rev := seedArticles(t, s)
	if rev != 4 {
		t.Fatalf("revision after four published and one draft: %d, want 4", rev)
	}
	a, err := s.Article(ctx, "vpn")
	if err != nil || a.Title != "VPN says certificate expired" || !slices.Equal(a.OS, []string{"windows", "darwin"}) ||
		!slices.Equal(a.Tags, []string{"vpn"}) || !a.Published {
		t.Fatalf("article: %+v %v", a, err)
	}
	// A draft edited: nothing devices see changed.
	_, r, changed, err := s.UpdateArticle(ctx, "draft-wifi", func(a *Article) error { a.Body = "new"; return nil })
	if err != nil || changed || r != rev {
		t.Fatalf("edit draft: rev %d changed %v err %v, want rev %d unchanged", r, changed, err, rev)
	}
	// Pinning a published article changes the offline set.
	got, r, changed, err := s.UpdateArticle(ctx, "calendar", func(a *Article) error { a.Pinned = true; return nil })
	if err != nil || !changed || r != rev+1 || !got.Pinned {
		t.Fatalf("pin: %+v rev %d changed %v err %v", got, r, changed, err)
	}
	if _, _, _, err := s.UpdateArticle(ctx, "nope", func(*Article) error { return nil }); !errors.Is(err, ErrNotFound) {
		t.Fatalf("update missing: %v", err)
	}
	if _, _, err := s.CreateArticle(ctx, Article{ID: "vpn", Title: "x", CreatedAt: time.Now(), UpdatedAt: time.Now()}); !errors.Is(err, ErrConflict) {
		t.Fatalf("create twice: %v", err)
	}
	list, err := s.ListArticles(ctx)
	if err != nil || len(list) != 5 || list[0].ID != "calendar" {
		t.Fatalf("list (pinned first): %v %v", ids(list), err)
	}
	off, orev, err := s.OfflineArticles(ctx)
	if err != nil || orev != rev+1 || len(off) != 4 || off[0].ID != "calendar" || slices.Contains(ids(off), "draft-wifi") {
		t.Fatalf("offline: %v rev %d %v", ids(off), orev, err)
	}
	// Unpublishing takes it out of what devices see.
	if _, _, _, err := s.UpdateArticle(ctx, "printer", func(a *Article) error { a.Published = false; return nil }); err != nil {
		t.Fatal(err)
	}
	if as, _ := s.SearchArticles(ctx, ArticleSearch{Query: "printer offline"}); slices.Contains(ids(as), "printer") {
		t.Fatalf("an unpublished article is still found: %v", ids(as))
	}
	r, changed, err = s.DeleteArticle(ctx, "vpn")
	if err != nil || !changed || r != rev+3 {
		t.Fatalf("delete published: rev %d changed %v %v", r, changed, err)
	}
	if _, err := s.Article(ctx, "vpn"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("deleted article: %v", err)
	}
	if _, _, err := s.DeleteArticle(ctx, "vpn"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("delete twice: %v", err)
	}
	if as, _ := s.SearchArticles(ctx, ArticleSearch{Query: "certificate"}); len(as) != 0 {
		t.Fatalf("a deleted article is still in the index: %v", ids(as))
	}
}

// Search uses the store's full-text engine: words, prefixes while typing,
// typos, OS, drafts; and what a person types is never query syntax.
func testArticleSearch(t *testing.T, s Store) {
	ctx := context.Background()
	seedArticles(t, s)
	for _, tc := range []struct {
		q, os string
		want  []string // in this order (first ones), or nil: none
	}{
		{"my printer is offline", "linux", []string{"printer"}},
		{"printer", "linux", []string{"printer"}},
		{"add printer mac", "darwin", []string{"macprint"}},
		{"printer mac", "linux", []string{"printer"}},    // no article has both for Linux: any word
		{"printers ", "windows", []string{"printer"}},    // stemming
		{"pritner", "linux", []string{"printer"}},        // a swap
		{"printr offline", "linux", []string{"printer"}}, // a letter missing
		{"certifcate expired", "windows", []string{"vpn"}},
		{"certificate", "linux", nil},     // the VPN article is for Windows and macOS
		{"vp", "darwin", []string{"vpn"}}, // still typing: a prefix
		{"shar calend", "", []string{"calendar"}},
		{"guest wifi password", "", nil}, // a draft
		{"", "", nil},
		{"   ", "", nil},
		{"how do I", "", nil}, // stop words only
	} {
		as, err := s.SearchArticles(ctx, ArticleSearch{Query: tc.q, OS: tc.os})
		if err != nil {
			t.Fatalf("search %q: %v", tc.q, err)
		}
		got := ids(as)
		if len(tc.want) == 0 {
			if len(got) != 0 {
				t.Errorf("search %q (%s): %v, want nothing", tc.q, tc.os, got)
			}
			continue
		}
		if len(got) < len(tc.want) || !slices.Equal(got[:len(tc.want)], tc.want) {
			t.Errorf("search %q (%s): %v, want %v first", tc.q, tc.os, got, tc.want)
		}
	}
	// Drafts are found only when asked for (the console).
	if as, err := s.SearchArticles(ctx, ArticleSearch{Query: "guest", Drafts: true}); err != nil || !slices.Equal(ids(as), []string{"draft-wifi"}) {
		t.Errorf("draft search: %v %v", ids(as), err)
	}
	as, _ := s.SearchArticles(ctx, ArticleSearch{Query: "printer offline"})
	if len(as) == 0 || !strings.Contains(as[0].Snippet, "printer") || strings.Contains(as[0].Snippet, "**") {
		t.Errorf("snippet: %+v", as)
	}
	// Query syntax of both engines, typed by a person: never an error.
	for _, q := range syntaxQueries {
		if _, err := s.SearchArticles(ctx, ArticleSearch{Query: q, OS: "linux"}); err != nil {
			t.Errorf("search %q: %v", q, err)
		}
	}
	if as, err := s.SearchArticles(ctx, ArticleSearch{Query: `"printer" NEAR(offline) -floor* (OR) AND`}); err != nil || len(as) == 0 || as[0].ID != "printer" {
		t.Errorf("syntax around real words: %v %v", ids(as), err)
	}
}

// syntaxQueries are FTS5 and tsquery syntax a person might type.
var syntaxQueries = []string{`"`, `""`, `*`, `printer*`, `"printer`, `NEAR`, `NEAR(printer offline, 2)`, `-printer`, `printer -offline`,
	`(`, `)`, `(printer`, `printer OR`, `AND`, `NOT printer`, `printer:*`, `a & b`, `!printer`, `printer | vpn`, `'`, `''`, `\`,
	`title:printer`, `{title}: printer`, `^printer`, `printer + vpn`, `<->`, `printer <-> offline`, "\x00", "ÿ", "日本語 プリンタ",
	strings.Repeat("printer ", 500), strings.Repeat("(", 1000), `%`, `_`, `?`, `$1`, `;DROP TABLE articles;--`}

// Feedback is stored once per frame and counted on the article; a request
// raised after viewing counts there too.
func testArticleFeedback(t *testing.T, s Store) {
	ctx := context.Background()
	enroll(t, s, map[string]string{"d1": "linux"})
	seedArticles(t, s)
	for i, ev := range []string{protocol.ArticleViewed, protocol.ArticleSolved, protocol.ArticleSolved} {
		res, err := s.ArticleFeedback(ctx, "f"+string(rune('0'+i)), "d1", protocol.ArticleFeedback{ArticleID: "printer", Event: ev, At: time.Now()})
		if err != nil || res.Duplicate {
			t.Fatalf("feedback %d: %+v %v", i, res, err)
		}
	}
	res, err := s.ArticleFeedback(ctx, "f1", "d1", protocol.ArticleFeedback{ArticleID: "printer", Event: protocol.ArticleSolved})
	if err != nil || !res.Duplicate {
		t.Fatalf("same frame again: %+v %v, want a duplicate", res, err)
	}
	if _, err := s.ArticleFeedback(ctx, "f9", "d1", protocol.ArticleFeedback{ArticleID: "gone", Event: protocol.ArticleViewed}); err != nil {
		t.Fatalf("feedback on a deleted article: %v", err)
	}
	a, _ := s.Article(ctx, "printer")
	if a.Views != 1 || a.Solved != 2 {
		t.Fatalf("views %d solved %d, want 1 and 2", a.Views, a.Solved)
	}
	r := Request{ID: "r1", DeviceID: "d1", Category: "hardware", Urgency: "normal", Status: protocol.StatusNew, Text: "still broken",
		CreatedAt: time.Now(), UpdatedAt: time.Now(), ShownArticles: []string{"printer", "vpn", "printer"}}
	if _, err := s.CreateRequest(ctx, "fr", r, nil); err != nil {
		t.Fatal(err)
	}
	shown, err := s.ShownArticles(ctx, "r1")
	if err != nil || !slices.Equal(shown, []string{"printer", "vpn"}) {
		t.Fatalf("shown articles: %v %v", shown, err)
	}
	a, _ = s.Article(ctx, "printer")
	v, _ := s.Article(ctx, "vpn")
	if a.RequestsAfter != 1 || v.RequestsAfter != 0 {
		t.Fatalf("requests after viewing: printer %d (viewed), vpn %d (only shown); want 1 and 0", a.RequestsAfter, v.RequestsAfter)
	}
}

// The five replies the console used to hard-code are there from the
// start; technicians add, change and remove them.
func testSavedReplies(t *testing.T, s Store) {
	ctx := context.Background()
	rs, err := s.ListSavedReplies(ctx)
	if err != nil || len(rs) != 5 || !strings.Contains(rs[0].Body, "{{first_name}}") {
		t.Fatalf("seeded replies: %+v %v", rs, err)
	}
	r, err := s.SaveReply(ctx, SavedReply{ID: "rep_x", Title: "Printer fixed", Body: "Hi {{first_name}}, {{device}} prints again. — {{technician}}", UpdatedAt: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	r.Title = "Printer fixed!"
	if _, err := s.SaveReply(ctx, r); err != nil {
		t.Fatal(err)
	}
	got, err := s.SavedReply(ctx, "rep_x")
	if err != nil || got != r {
		t.Fatalf("saved reply: %+v %v, want %+v", got, err, r)
	}
	if err := s.DeleteSavedReply(ctx, "rep_x"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteSavedReply(ctx, "rep_x"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("delete twice: %v", err)
	}
}

// A known problem counts each device's "me too" once, and resolving it
// sends the all-clear to every target device, sequenced and replayable.
func testKnownProblems(t *testing.T, s Store) {
	ctx := context.Background()
	enroll(t, s, map[string]string{"a": "linux", "b": "windows"})
	an, out := announcement("ann_k")
	an.Kind = protocol.AnnouncementKnownProblem
	if _, _, err := s.Announce(ctx, an, out); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		frame, dev string
		dup        bool
	}{{"m1", "a", false}, {"m1", "a", true}, {"m2", "a", true}, {"m3", "b", false}} {
		res, err := s.MeToo(ctx, c.frame, c.dev, "ann_k", time.Now())
		if err != nil || res.Duplicate != c.dup {
			t.Fatalf("me too %+v: %+v %v", c, res, err)
		}
	}
	if _, err := s.MeToo(ctx, "m4", "a", "ann_none", time.Now()); !errors.Is(err, ErrNotFound) {
		t.Fatalf("me too on no announcement: %v", err)
	}
	who, err := s.MeToos(ctx, "ann_k")
	if err != nil || len(who) != 2 || who[0].Hostname == "" {
		t.Fatalf("me toos: %+v %v", who, err)
	}
	at := time.Now()
	got, ds, err := s.ResolveAnnouncement(ctx, "ann_k", "Email works again.", at, func(a Announcement) Outgoing {
		return Outgoing{Kind: protocol.KindAnnouncement, ID: "env-ann_k-resolved", Body: protocol.Announcement{AnnouncementID: a.ID,
			Title: a.Title, Kind: a.Kind, ResolvedAt: a.ResolvedAt, ResolvedText: a.ResolvedText}}
	})
	if err != nil || got.ResolvedAt.IsZero() || got.ResolvedText != "Email works again." || len(ds) != 2 {
		t.Fatalf("resolve: %+v %d deliveries %v", got, len(ds), err)
	}
	rep, err := s.Replay(ctx, "a", 0)
	if err != nil || len(rep) != 2 {
		t.Fatalf("replay: %d frames %v, want the announcement and its all-clear", len(rep), err)
	}
	env, _ := protocol.Parse(rep[1].Bytes())
	var b protocol.Announcement
	if err := env.Decode(&b); err != nil || b.AnnouncementID != "ann_k" || b.ResolvedAt.IsZero() || env.Seq != 2 {
		t.Fatalf("all-clear frame: %+v seq %d %v", b, env.Seq, err)
	}
	if _, _, err := s.ResolveAnnouncement(ctx, "ann_k", "", at, nil); !errors.Is(err, ErrConflict) {
		t.Fatalf("resolve twice: %v", err)
	}
	list, err := s.ListAnnouncements(ctx)
	if err != nil || len(list) != 1 || list[0].MeToo != 2 || list[0].Kind != protocol.AnnouncementKnownProblem || list[0].ResolvedAt.IsZero() {
		t.Fatalf("list: %+v %v", list, err)
	}
}

// FuzzSearchTerms: whatever a person types becomes a query both engines
// parse, and SQLite runs it without an error.
func FuzzSearchTerms(f *testing.F) {
	for _, q := range syntaxQueries {
		f.Add(q)
	}
	s, err := Open(context.Background(), f.TempDir())
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { s.Close() })
	if _, _, err := s.CreateArticle(context.Background(), Article{ID: "p", Title: "Printer", Body: "printer offline", Published: true,
		CreatedAt: time.Now(), UpdatedAt: time.Now()}); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, q string) {
		for _, term := range searchTerms(q) {
			if term.Word == "" || strings.ContainsAny(term.Word, "\"*:&|!()'-^ ") {
				t.Fatalf("term %q of %q", term.Word, q)
			}
		}
		if _, err := s.SearchArticles(context.Background(), ArticleSearch{Query: q, OS: "linux"}); err != nil {
			t.Fatalf("search %q: %v", q, err)
		}
	})
}
