package core

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/deskside/deskside/agent/agentapi"
	"github.com/deskside/deskside/agent/internal/enroll"
	"github.com/deskside/deskside/agent/internal/store"
	"github.com/deskside/deskside/agent/internal/sysinfo"
	"github.com/deskside/deskside/shared/protocol"
)

// articleServer is a fake of the server's article paths as documented in
// shared/protocol/articles.go (the real ones are built beside this agent
// side): device credentials required, suggest answers at most three
// published articles for ?q= and ?os=, offline answers the set with its
// revision. mode makes it misbehave.
type articleServer struct {
	*httptest.Server
	mu       sync.Mutex
	revision int64
	articles []protocol.Article
	mode     string // "", "hang", "cut" (half an answer, then the connection closes), "500"
	osSeen   []string
	offline  atomic.Int32 // offline fetches
}

const testDevice, testSecret = "dev_1", "s3cret"

func newArticleServer(t *testing.T) *articleServer {
	s := &articleServer{revision: 3, articles: []protocol.Article{
		{ArticleSummary: protocol.ArticleSummary{ID: "art_printer", Title: "Printer says offline", Snippet: "turn it off and on"},
			Body: "Turn the **printer** off and on."},
		{ArticleSummary: protocol.ArticleSummary{ID: "art_vpn", Title: "VPN certificate expired"}, Body: "Renew it in the VPN app."},
	}}
	mux := http.NewServeMux()
	auth := func(h http.HandlerFunc) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("Authorization") != protocol.DeviceAuthHeader(testDevice, testSecret) {
				http.Error(w, "unauthorized", http.StatusUnauthorized)
				return
			}
			s.mu.Lock()
			mode := s.mode
			s.mu.Unlock()
			switch mode {
			case "hang":
				<-r.Context().Done()
				return
			case "cut":
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusOK)
				w.Write([]byte(`{"revision":3,"articles":[{"id":"art_x","title":"Half`))
				w.(http.Flusher).Flush()
				conn, _, err := w.(http.Hijacker).Hijack()
				if err == nil {
					conn.Close()
				}
				return
			case "500":
				http.Error(w, "boom", http.StatusInternalServerError)
				return
			}
			h(w, r)
		}
	}
	mux.HandleFunc("GET "+protocol.ArticleSuggestPath, auth(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.osSeen = append(s.osSeen, r.URL.Query().Get("os"))
		q := strings.ToLower(r.URL.Query().Get("q"))
		list := protocol.ArticleList{Revision: s.revision, Articles: []protocol.Article{}}
		for _, a := range s.articles {
			for _, w := range strings.Fields(q) {
				if len(w) >= 3 && strings.Contains(strings.ToLower(a.Title+" "+a.Body), w) {
					list.Articles = append(list.Articles, a)
					break
				}
			}
		}
		json.NewEncoder(w).Encode(list)
	}))
	mux.HandleFunc("GET "+protocol.ArticleOfflinePath, auth(func(w http.ResponseWriter, r *http.Request) {
		s.offline.Add(1)
		s.mu.Lock()
		defer s.mu.Unlock()
		json.NewEncoder(w).Encode(protocol.ArticleList{Revision: s.revision, Articles: s.articles})
	}))
	s.Server = httptest.NewTLSServer(mux)
	t.Cleanup(s.Close)
	return s
}

func (s *articleServer) set(mode string) { s.mu.Lock(); s.mode = mode; s.mu.Unlock() }

// newArticleCore is a Core with a real store, enrolled to srv, not running
// its link: the tests drive the link's side through handler.
func newArticleCore(t *testing.T, srv *articleServer) (*Core, *store.Store) {
	return newArticleCoreWait(t, srv, 30*time.Second) // a busy machine is not a slow server
}

func newArticleCoreWait(t *testing.T, srv *articleServer, wait time.Duration) (*Core, *store.Store) {
	t.Helper()
	st, err := store.Open(filepath.Join(t.TempDir(), "agent.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	roots := x509.NewCertPool()
	roots.AddCert(srv.Certificate())
	c, err := New(Config{Store: st, Collector: sysinfo.New(sysinfo.Options{AgentVersion: "1.0.0-test"}), RootCAs: roots,
		Creds: &enroll.Credentials{Server: srv.URL, DeviceID: testDevice, Secret: testSecret}, SuggestWait: wait})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c, st
}

func (c *Core) goOnline() { (*handler)(c).State(agentapi.ConnOnline, nil, time.Time{}) }

// waitUntil polls cond until it holds or 20 s pass.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func suggestIDs(s agentapi.Suggestions) []string {
	var out []string
	for _, a := range s.Articles {
		out = append(out, a.ID)
	}
	return out
}

func TestSuggestArticlesOnlineThenFromTheCache(t *testing.T) {
	ctx := context.Background()
	srv := newArticleServer(t)
	c, _ := newArticleCore(t, srv)

	// Offline and never synced: nothing, and no error.
	s, err := c.SuggestArticles(ctx, "printer")
	if err != nil || s.Source != agentapi.SourceOffline || len(s.Articles) != 0 {
		t.Fatalf("offline, empty cache: %+v, %v", s, err)
	}

	c.goOnline()
	s, err = c.SuggestArticles(ctx, "my printer is offline")
	if err != nil || s.Source != agentapi.SourceServer || !slices.Equal(suggestIDs(s), []string{"art_printer"}) {
		t.Fatalf("online: %+v, %v", s, err)
	}
	srv.mu.Lock()
	seen := slices.Clone(srv.osSeen)
	srv.mu.Unlock()
	if !slices.Equal(seen, []string{runtime.GOOS}) {
		t.Fatalf("server saw os=%v, want %s", seen, runtime.GOOS)
	}
	// The suggestion opens even after the server is gone.
	srv.Close()
	a, err := c.Article(ctx, "art_printer")
	if err != nil || !strings.Contains(a.Body, "**printer**") {
		t.Fatalf("article from the cache: %+v, %v", a, err)
	}
	// The server is gone while the link still says online: the cache answers.
	s, err = c.SuggestArticles(ctx, "printer")
	if err != nil || s.Source != agentapi.SourceOffline || !slices.Equal(suggestIDs(s), []string{"art_printer"}) {
		t.Fatalf("server gone: %+v, %v", s, err)
	}
	// Syntax and emptiness are not errors and do not reach the server.
	for _, q := range []string{"", "  ", `"`, `NEAR(`, `-*()`} {
		if s, err := c.SuggestArticles(ctx, q); err != nil || len(s.Articles) != 0 {
			t.Errorf("query %q: %+v, %v", q, s, err)
		}
	}
	if _, err := c.Article(ctx, "art_nope"); !agentapi.IsCode(err, agentapi.CodeNotFound) {
		t.Fatalf("unknown article: %v", err)
	}
}

// TestSuggestArticlesServerMisbehaves: a server that hangs, cuts the
// answer half way or fails answers from the cache, never with an error.
func TestSuggestArticlesServerMisbehaves(t *testing.T) {
	ctx := context.Background()
	srv := newArticleServer(t)
	c, _ := newArticleCoreWait(t, srv, 300*time.Millisecond) // the hanging server's wait
	if err := c.SyncArticles(ctx); err != nil {
		t.Fatal(err)
	}
	c.goOnline()
	for _, mode := range []string{"cut", "500", "hang"} {
		srv.set(mode)
		s, err := c.SuggestArticles(ctx, "vpn certificate")
		if err != nil || s.Source != agentapi.SourceOffline || !slices.Equal(suggestIDs(s), []string{"art_vpn"}) {
			t.Errorf("server %s: %+v, %v", mode, s, err)
		}
	}
	// A sync that fails keeps the cache as it was.
	srv.set("cut")
	if err := c.SyncArticles(ctx); err == nil {
		t.Fatal("sync of a cut answer succeeded")
	}
	if list, _ := c.Articles(ctx, ""); len(list) != 2 {
		t.Fatalf("cache after a failed sync: %d articles", len(list))
	}
}

func TestSuggestArticlesHugeArticleIsCapped(t *testing.T) {
	ctx := context.Background()
	srv := newArticleServer(t)
	srv.articles = append(srv.articles, protocol.Article{ArticleSummary: protocol.ArticleSummary{ID: "art_huge", Title: "Huge manual"},
		Body: strings.Repeat("manual line\n", 5<<20/12)})
	c, _ := newArticleCore(t, srv)
	// The offline set brings it (with a sync's patience: 5 MB under -race
	// on a busy machine may take longer than a suggestion may wait) …
	if err := c.SyncArticles(ctx); err != nil {
		t.Fatal(err)
	}
	// … and a suggestion finds it, from the server or, if that is slow,
	// from the copy: either way capped.
	c.goOnline()
	s, err := c.SuggestArticles(ctx, "huge manual")
	if err != nil || !slices.Contains(suggestIDs(s), "art_huge") {
		t.Fatalf("huge: %+v, %v", s, err)
	}
	a, err := c.Article(ctx, "art_huge")
	if err != nil || len(a.Body) > store.MaxArticleBody {
		t.Fatalf("huge article kept %d bytes (cap %d), %v", len(a.Body), store.MaxArticleBody, err)
	}
}

// TestArticlesSyncAtWelcomeAndOnChange: the offline set is fetched when
// welcome's revision is ahead of the cache and on articles.changed, and
// not when the cache is current.
func TestArticlesSyncAtWelcomeAndOnChange(t *testing.T) {
	ctx := context.Background()
	srv := newArticleServer(t)
	c, st := newArticleCore(t, srv)
	h := (*handler)(c)

	hello, err := h.Hello(ctx)
	if err != nil || !slices.Contains(hello.Capabilities, protocol.CapArticles) || hello.Revision != protocol.Revision {
		t.Fatalf("hello = %+v, %v", hello, err)
	}

	h.Welcome(ctx, protocol.Welcome{ArticlesRevision: 3})
	waitUntil(t, "revision 3 in the cache", func() bool { r, _ := st.ArticlesRevision(ctx); return r == 3 })
	if s, _ := c.SuggestArticles(ctx, "printer"); !slices.Equal(suggestIDs(s), []string{"art_printer"}) {
		t.Fatalf("offline after sync: %+v", s)
	}

	// Current: no fetch. (A fetch, if any, would have started before
	// Welcome returned: articlesBehind decides synchronously.)
	before := srv.offline.Load()
	h.Welcome(ctx, protocol.Welcome{ArticlesRevision: 3})
	h.Welcome(ctx, protocol.Welcome{})
	c.syncMu.Lock() // waits for any sync in flight
	n := srv.offline.Load()
	c.syncMu.Unlock()
	if n != before {
		t.Fatalf("%d fetches for a current cache", n-before)
	}

	srv.mu.Lock()
	srv.revision = 4
	srv.articles = append(srv.articles, protocol.Article{ArticleSummary: protocol.ArticleSummary{ID: "art_wifi", Title: "Wi-Fi keeps dropping"}, Body: "Forget the network and join again."})
	srv.mu.Unlock()
	env, _ := protocol.New(protocol.KindArticlesChanged, protocol.ArticlesChanged{Revision: 4})
	h.Control(ctx, env)
	waitUntil(t, "the new article offline", func() bool {
		s, _ := c.SuggestArticles(ctx, "wifi dropping")
		return slices.Contains(suggestIDs(s), "art_wifi")
	})
}

func pendingKinds(t *testing.T, st *store.Store) map[protocol.Kind][]protocol.Envelope {
	t.Helper()
	items, err := st.Pending(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	out := map[protocol.Kind][]protocol.Envelope{}
	for _, it := range items {
		var env protocol.Envelope
		if err := json.Unmarshal(it.Frame, &env); err != nil {
			t.Fatal(err)
		}
		out[env.Type] = append(out[env.Type], env)
	}
	return out
}

// TestKnownProblemMeTooAndAllClear: "Me too" is remembered and queued
// once; when the same announcement comes back resolved, the person who
// said it hears the all-clear.
func TestKnownProblemMeTooAndAllClear(t *testing.T) {
	ctx := context.Background()
	srv := newArticleServer(t)
	c, st := newArticleCore(t, srv)
	h := (*handler)(c)
	events, cancel := c.subscribe()
	defer cancel()

	an := protocol.Announcement{AnnouncementID: "ann_mail", Title: "Email is down", Text: "Until 23:00 — IT is on it",
		Kind: protocol.AnnouncementKnownProblem, CreatedAt: time.Now().UTC()}
	env, _ := protocol.New(protocol.KindAnnouncement, an)
	env.Seq = 1
	if err := h.Store(ctx, env); err != nil {
		t.Fatal(err)
	}
	kp, err := c.KnownProblems(ctx)
	if err != nil || len(kp) != 1 || kp[0].ID != "ann_mail" || kp[0].MeToo {
		t.Fatalf("known problems: %+v, %v", kp, err)
	}
	if err := c.MeToo(ctx, "ann_mail"); err != nil {
		t.Fatal(err)
	}
	if err := c.MeToo(ctx, "ann_mail"); err != nil {
		t.Fatalf("second me too: %v", err)
	}
	if err := c.MeToo(ctx, "ann_gone"); !agentapi.IsCode(err, agentapi.CodeNotFound) {
		t.Fatalf("me too on nothing: %v", err)
	}
	if kp, _ := c.KnownProblems(ctx); len(kp) != 1 || !kp[0].MeToo {
		t.Fatalf("after me too: %+v", kp)
	}
	if err := c.ArticleFeedback(ctx, "art_printer", protocol.ArticleSolved); err != nil {
		t.Fatal(err)
	}
	if err := c.ArticleFeedback(ctx, "art_printer", "loved_it"); !agentapi.IsCode(err, agentapi.CodeBadRequest) {
		t.Fatalf("bad event: %v", err)
	}
	pend := pendingKinds(t, st)
	if len(pend[protocol.KindAnnouncementMeToo]) != 1 || len(pend[protocol.KindArticleFeedback]) != 1 {
		t.Fatalf("outbox: %d metoo, %d feedback; want 1 and 1", len(pend[protocol.KindAnnouncementMeToo]), len(pend[protocol.KindArticleFeedback]))
	}
	var fb protocol.ArticleFeedback
	if err := pend[protocol.KindArticleFeedback][0].Decode(&fb); err != nil || fb.Validate() != nil || fb.Event != protocol.ArticleSolved {
		t.Fatalf("feedback frame %+v, %v", fb, err)
	}

	an.ResolvedAt, an.ResolvedText = time.Now().UTC(), "Email is back — thanks for your patience"
	env, _ = protocol.New(protocol.KindAnnouncement, an)
	env.Seq = 2
	if err := h.Store(ctx, env); err != nil {
		t.Fatal(err)
	}
	deadline := time.After(10 * time.Second)
	for found := false; !found; {
		select {
		case ev := <-events:
			if ev.Type == agentapi.EventAnnouncement && ev.Announcement.ID == "ann_mail" && !ev.Announcement.ResolvedAt.IsZero() {
				t.Fatal("the resolved problem was announced again as news")
			}
			found = ev.Type == agentapi.EventAnnouncement && ev.Announcement.Author == NoticeAuthor && ev.Announcement.Text == an.ResolvedText
		case <-deadline:
			t.Fatal("no all-clear notice")
		}
	}
	if kp, _ := c.KnownProblems(ctx); len(kp) != 0 {
		t.Fatalf("resolved problem still listed: %+v", kp)
	}
}

// TestNoAllClearWithoutMeToo: the all-clear is for those who said it.
func TestNoAllClearWithoutMeToo(t *testing.T) {
	ctx := context.Background()
	c, st := newArticleCore(t, newArticleServer(t))
	h := (*handler)(c)
	an := protocol.Announcement{AnnouncementID: "ann_vpn", Title: "VPN is down", Kind: protocol.AnnouncementKnownProblem,
		CreatedAt: time.Now().UTC()}
	env, _ := protocol.New(protocol.KindAnnouncement, an)
	env.Seq = 1
	h.Store(ctx, env)
	an.ResolvedAt = time.Now().UTC()
	env, _ = protocol.New(protocol.KindAnnouncement, an)
	env.Seq = 2
	h.Store(ctx, env)
	all, _ := st.Announcements(ctx)
	for _, a := range all {
		if a.Author == NoticeAuthor {
			t.Fatalf("all-clear notice without me too: %+v", a)
		}
	}
}

func TestRaiseRequestRecordsShownArticles(t *testing.T) {
	ctx := context.Background()
	c, st := newArticleCore(t, newArticleServer(t))
	long := strings.Repeat("x", 65)
	shown := []string{"art_printer", "", long, "art_printer", "art_vpn", "a3", "a4", "a5", "a6", "a7", "a8", "a9", "a10", "a11"}
	if _, err := c.RaiseRequest(ctx, agentapi.NewRequest{Text: "The printer still says offline", ShownArticles: shown}); err != nil {
		t.Fatal(err)
	}
	envs := pendingKinds(t, st)[protocol.KindRequestNew]
	if len(envs) != 1 {
		t.Fatalf("%d request.new frames", len(envs))
	}
	var rn protocol.RequestNew
	if err := envs[0].Decode(&rn); err != nil {
		t.Fatal(err)
	}
	if err := rn.Validate(); err != nil {
		t.Fatalf("frame does not validate: %v", err)
	}
	if len(rn.ShownArticles) != 10 || rn.ShownArticles[0] != "art_printer" || rn.ShownArticles[1] != "art_vpn" {
		t.Fatalf("shown_articles = %v", rn.ShownArticles)
	}
}

// FuzzArticleList feeds anything as the server's answer to the decoder
// and the real store (as a suggestion and as the offline set): never a
// panic, and whatever is stored can be searched and read back.
func FuzzArticleList(f *testing.F) {
	for _, seed := range []string{
		`{"revision":1,"articles":[{"id":"art_1","title":"Printer","body":"x"}]}`,
		`{"revision":1,"articles":[{"id":"","title":"no id"},{"id":"a","os":["linux"],"tags":["a","a",""]}]}`,
		`{"articles":null}`, `[]`, `{`, ``, `{"articles":[{"id":"x","updated_at":"not a time"}]}`,
		`{"articles":[{"id":"` + strings.Repeat("x", 100) + `"}]}`,
		`{"revision":-5,"articles":[{"id":"a\u0000b","title":"\ud800","body":"\"NEAR(*"}]}`,
	} {
		f.Add([]byte(seed))
	}
	st, err := store.Open(filepath.Join(f.TempDir(), "agent.db"), store.Options{})
	if err != nil {
		f.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, data []byte) {
		list, err := decodeArticleList(bytes.NewReader(data), 1<<20)
		if err != nil {
			return
		}
		if err := st.PutArticles(ctx, list.Articles); err != nil {
			t.Fatalf("cache suggestions: %v", err)
		}
		if err := st.ReplaceArticles(ctx, list.Revision, list.Articles); err != nil {
			t.Fatalf("replace: %v", err)
		}
		for _, a := range list.Articles {
			if _, err := st.SearchArticles(ctx, a.Title, "linux", 3); err != nil {
				t.Fatalf("search %q: %v", a.Title, err)
			}
		}
		kept, err := st.ListArticles(ctx, "", 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range kept {
			if _, err := st.Article(ctx, a.ID); err != nil {
				t.Fatalf("read back %q: %v", a.ID, err)
			}
		}
	})
}

func TestDecodeArticleListCap(t *testing.T) {
	big := `{"articles":[{"id":"a","body":"` + strings.Repeat("x", 2000) + `"}]}`
	if _, err := decodeArticleList(strings.NewReader(big), 1000); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Fatalf("over the cap: %v", err)
	}
	if l, err := decodeArticleList(strings.NewReader(big), 1<<20); err != nil || len(l.Articles) != 1 {
		t.Fatalf("under the cap: %+v %v", l, err)
	}
}
