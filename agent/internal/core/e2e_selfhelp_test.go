package core_test

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/deskside/deskside/agent/agentapi"
	"github.com/deskside/deskside/agent/internal/core"
	"github.com/deskside/deskside/agent/internal/store"
	"github.com/deskside/deskside/server/servertest"
	"github.com/deskside/deskside/shared/protocol"
)

// publish creates a published article on the server and returns its id.
func publish(t *testing.T, tech *servertest.Tech, title, body string, tags ...string) string {
	t.Helper()
	var out struct {
		ID string `json:"id"`
	}
	in := map[string]any{"title": title, "body": body, "tags": tags, "published": true}
	if st := tech.Do(t, http.MethodPost, "/api/v1/articles", in, &out); st != http.StatusCreated && st != http.StatusOK {
		t.Fatalf("publish %q: %d", title, st)
	}
	if out.ID == "" {
		t.Fatalf("publish %q: no id", title)
	}
	return out.ID
}

// eventually polls cond until it holds or 20 s pass.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func ids(as []agentapi.Article) []string {
	out := make([]string, len(as))
	for i, a := range as {
		out[i] = a.ID
	}
	return out
}

// The deflection flow with the real server: IT publishes an article; a
// person types a question with a typo and sees it; "This solved it" counts
// on the server; an article the person never searched for reaches the
// agent's offline copy; with the server gone, the agent still finds it.
func TestE2ESelfHelpDeflectionAndOffline(t *testing.T) {
	srv := servertest.New(t)
	tech := srv.Tech(t)
	printer := publish(t, tech, "The printer says PC LOAD LETTER", "Open tray 2 and add **letter** paper.", "printer")

	a := startAgent(t, filepath.Join(t.TempDir(), "agent.db"), enrolled(t, srv), store.Options{})
	a.waitFor(t, "online", isState(agentapi.ConnOnline))
	ctx := context.Background()

	sug, err := a.SuggestArticles(ctx, "my pritner will not print")
	if err != nil {
		t.Fatal(err)
	}
	if sug.Source != agentapi.SourceServer || !slices.Contains(ids(sug.Articles), printer) {
		t.Fatalf("suggestions for a typo = %+v, want the printer article from the server", sug)
	}

	if err := a.ArticleFeedback(ctx, printer, protocol.ArticleSolved); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the server to count the deflection", func() bool {
		var art struct {
			Solved int `json:"solved"`
		}
		return tech.Do(t, http.MethodGet, "/api/v1/articles/"+printer, nil, &art) == http.StatusOK && art.Solved == 1
	})

	// Published while the agent is online: articles.changed brings it into
	// the offline copy without anyone searching for it.
	vpn := publish(t, tech, "The VPN says the certificate expired", "Restart the VPN app; it fetches a new certificate.", "vpn")
	eventually(t, "the VPN article in the offline copy", func() bool {
		kept, err := a.Articles(ctx, "")
		return err == nil && slices.Contains(ids(kept), vpn)
	})

	srv.Close()
	a.waitFor(t, "offline", isState(agentapi.ConnOffline))
	sug, err = a.SuggestArticles(ctx, "vpn certificate expired")
	if err != nil {
		t.Fatalf("offline suggestions: %v", err)
	}
	if sug.Source != agentapi.SourceOffline || !slices.Contains(ids(sug.Articles), vpn) {
		t.Fatalf("offline suggestions = %+v, want the VPN article from the offline copy", sug)
	}
	art, err := a.Article(ctx, vpn)
	if err != nil || art.Body == "" {
		t.Fatalf("open the article offline: %+v, %v", art, err)
	}
}

// "Is it just me?" with the real server: IT announces a known problem, the
// person says "Me too" (counted once, however often they click), and gets
// the all-clear when IT resolves it.
func TestE2EKnownProblemMeTooAndAllClear(t *testing.T) {
	srv := servertest.New(t)
	tech := srv.Tech(t)
	a := startAgent(t, filepath.Join(t.TempDir(), "agent.db"), enrolled(t, srv), store.Options{})
	a.waitFor(t, "online", isState(agentapi.ConnOnline))
	ctx := context.Background()

	var ann struct {
		ID string `json:"id"`
	}
	in := map[string]any{"title": "Email is down", "text": "Until 23:00 — IT is on it.", "kind": protocol.AnnouncementKnownProblem,
		"target": map[string]string{"kind": "all"}}
	if st := tech.Do(t, http.MethodPost, "/api/v1/announcements", in, &ann); st != http.StatusCreated && st != http.StatusOK {
		t.Fatalf("announce: %d", st)
	}
	var problem agentapi.Announcement
	eventually(t, "the known problem on the desk", func() bool {
		ps, err := a.KnownProblems(ctx)
		if err == nil && len(ps) == 1 {
			problem = ps[0]
		}
		return err == nil && len(ps) == 1
	})
	for range 3 {
		if err := a.MeToo(ctx, problem.ID); err != nil {
			t.Fatal(err)
		}
	}
	meToo := func() int {
		var out struct {
			Announcements []struct {
				ID    string `json:"id"`
				MeToo int    `json:"me_too"`
			} `json:"announcements"`
		}
		if st := tech.Do(t, http.MethodGet, "/api/v1/announcements", nil, &out); st != http.StatusOK {
			t.Fatalf("list announcements: %d", st)
		}
		for _, x := range out.Announcements {
			if x.ID == problem.ID {
				return x.MeToo
			}
		}
		return -1
	}
	eventually(t, "one me-too on the server", func() bool { return meToo() == 1 })
	eventually(t, "the outbox to drain", func() bool { return a.conn().Pending == 0 })
	if n := meToo(); n != 1 {
		t.Fatalf("me-too count = %d after three clicks, want 1", n)
	}

	resolve := map[string]string{"text": "Email is back — thanks for your patience."}
	if st := tech.Do(t, http.MethodPost, fmt.Sprintf("/api/v1/announcements/%s/resolve", problem.ID), resolve, nil); st != http.StatusOK {
		t.Fatalf("resolve: %d", st)
	}
	a.waitFor(t, "the all-clear", func(ev agentapi.Event) bool {
		return ev.Type == agentapi.EventAnnouncement && ev.Announcement.Author == core.NoticeAuthor && ev.Announcement.Text == resolve["text"]
	})
	eventually(t, "no known problem left", func() bool {
		ps, err := a.KnownProblems(ctx)
		return err == nil && len(ps) == 0
	})
}
