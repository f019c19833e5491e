package localapi_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/deskside/deskside/agent/agentapi"
	"github.com/deskside/deskside/agent/internal/core"
	"github.com/deskside/deskside/agent/internal/localapi"
	"github.com/deskside/deskside/agent/internal/store"
	"github.com/deskside/deskside/shared/protocol"
)

// TestSelfHelpOverTheSocket runs every self-help call through the real
// local API to a real (offline) core and store: suggestions from the
// offline copy, the browser's list and search, one article, feedback,
// known problems and "Me too".
func TestSelfHelpOverTheSocket(t *testing.T) {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "lapi")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	st, err := store.Open(filepath.Join(dir, "agent.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.ReplaceArticles(ctx, 2, []protocol.Article{
		{ArticleSummary: protocol.ArticleSummary{ID: "art_printer", Title: "Printer says offline"}, Body: "Turn it **off** and on."},
		{ArticleSummary: protocol.ArticleSummary{ID: "art_vpn", Title: "VPN certificate expired"}, Body: "Renew it."},
	}); err != nil {
		t.Fatal(err)
	}
	an, _ := protocol.New(protocol.KindAnnouncement, protocol.Announcement{AnnouncementID: "ann_mail", Title: "Email is down",
		Kind: protocol.AnnouncementKnownProblem, CreatedAt: time.Now().UTC()})
	an.Seq = 1
	if _, err := st.ApplyServerFrame(ctx, an); err != nil {
		t.Fatal(err)
	}
	c, err := core.New(core.Config{Store: st, Collector: fakeSys{}})
	if err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "run", "agent.sock")
	l, err := localapi.Listen(sock)
	if err != nil {
		t.Fatal(err)
	}
	sctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); _ = localapi.Serve(sctx, l, c, nil) }()
	t.Cleanup(func() { cancel(); <-done; c.Close(); st.Close() })
	cl := localapi.NewClient(sock)

	s, err := cl.SuggestArticles(ctx, `pritner "offline" -(`)
	if err != nil || s.Source != agentapi.SourceOffline || len(s.Articles) == 0 || s.Articles[0].ID != "art_printer" {
		t.Fatalf("suggest: %+v, %v", s, err)
	}
	if s, err := cl.SuggestArticles(ctx, ""); err != nil || s.Articles == nil || len(s.Articles) != 0 {
		t.Fatalf("empty suggest: %+v, %v", s, err)
	}
	if list, err := cl.Articles(ctx, ""); err != nil || len(list) != 2 {
		t.Fatalf("list: %+v, %v", list, err)
	}
	if list, err := cl.Articles(ctx, "vpn"); err != nil || len(list) != 1 || list[0].ID != "art_vpn" {
		t.Fatalf("search: %+v, %v", list, err)
	}
	if a, err := cl.Article(ctx, "art_printer"); err != nil || a.Body != "Turn it **off** and on." {
		t.Fatalf("article: %+v, %v", a, err)
	}
	if _, err := cl.Article(ctx, "art/../x"); !agentapi.IsCode(err, agentapi.CodeNotFound) {
		t.Fatalf("unknown article: %v", err)
	}
	if err := cl.ArticleFeedback(ctx, "art_printer", protocol.ArticleViewed); err != nil {
		t.Fatal(err)
	}
	if err := cl.ArticleFeedback(ctx, "art_printer", "meh"); !agentapi.IsCode(err, agentapi.CodeBadRequest) {
		t.Fatalf("bad feedback: %v", err)
	}
	kp, err := cl.KnownProblems(ctx)
	if err != nil || len(kp) != 1 || kp[0].MeToo {
		t.Fatalf("known problems: %+v, %v", kp, err)
	}
	if err := cl.MeToo(ctx, "ann_mail"); err != nil {
		t.Fatal(err)
	}
	if kp, _ := cl.KnownProblems(ctx); len(kp) != 1 || !kp[0].MeToo {
		t.Fatalf("after me too: %+v", kp)
	}
}
