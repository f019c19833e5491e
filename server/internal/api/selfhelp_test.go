package api_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/deskside/deskside/server/servertest"
	"github.com/deskside/deskside/shared/protocol"
)

type articleOut struct {
	ID            string `json:"id"`
	Title         string `json:"title"`
	Published     bool   `json:"published"`
	HTML          string `json:"html"`
	Views         int    `json:"views"`
	Solved        int    `json:"solved"`
	RequestsAfter int    `json:"requests_after"`
}

func suggest(t *testing.T, dev *servertest.Device, q, os string) protocol.ArticleList {
	t.Helper()
	st, body := dev.Get(t, protocol.ArticleSuggestPath+"?q="+url.QueryEscape(q)+"&os="+os)
	if st != http.StatusOK {
		t.Fatalf("suggest %q: %d %s", q, st, body)
	}
	var l protocol.ArticleList
	if err := json.Unmarshal(body, &l); err != nil {
		t.Fatal(err)
	}
	return l
}

func listIDs(l protocol.ArticleList) []string {
	var out []string
	for _, a := range l.Articles {
		out = append(out, a.ID)
	}
	return out
}

// waitAck reads frames until the ack of frame id and returns it.
func waitFrameAck(t *testing.T, dev *servertest.Device, id string) protocol.Ack {
	t.Helper()
	for {
		env := dev.Next(t)
		if env.Type == protocol.KindError {
			t.Fatalf("frame %s refused: %s", id, env.Body)
		}
		var a protocol.Ack
		if env.Type == protocol.KindAck && env.Decode(&a) == nil && a.ID == id {
			return a
		}
	}
}

// The deflection flow end to end: IT publishes an article, a device types
// a matching question (with a typo), is suggested it with its own
// credentials, says "This solved it", and the article's solved count
// rises; a draft is never suggested; publishing tells connected devices.
func TestSelfHelpEndToEnd(t *testing.T) {
	s := servertest.New(t)
	tech := s.Tech(t)

	var pub, draft articleOut
	if st := tech.Do(t, "POST", "/api/v1/articles", map[string]any{"title": "Printer shows offline",
		"body": "Turn the **printer** off and on. <script>alert(1)</script> [help](javascript:alert(1))",
		"tags": []string{"printing"}, "published": true}, &pub); st != http.StatusCreated {
		t.Fatalf("create: %d", st)
	}
	if strings.Contains(pub.HTML, "<script") || strings.Contains(pub.HTML, "javascript:") || !strings.Contains(pub.HTML, "<strong>printer</strong>") {
		t.Fatalf("rendered body not sanitised: %s", pub.HTML)
	}
	if st := tech.Do(t, "POST", "/api/v1/articles", map[string]any{"title": "Printer secrets (draft)", "body": "printer admin password"}, &draft); st != http.StatusCreated {
		t.Fatalf("create draft: %d", st)
	}

	dev := s.Enroll(t, "ana-laptop")
	wel := dev.ConnectWith(t, protocol.Hello{AgentVersion: "1.1.0", OS: "linux", Arch: "amd64",
		Capabilities: []string{protocol.CapArticles, protocol.CapAnnouncement}})
	if wel.ArticlesRevision != 1 || wel.Revision != protocol.Revision || !slices.Contains(wel.Capabilities, protocol.CapArticles) {
		t.Fatalf("welcome: %+v", wel)
	}

	l := suggest(t, dev, "my pritner is offline", "linux")
	if !slices.Equal(listIDs(l), []string{pub.ID}) || l.Revision != 1 || l.Articles[0].Body == "" {
		t.Fatalf("suggest: %+v, want only the published article", l)
	}
	if l := suggest(t, dev, `"printer" NEAR( -admin* password)`, "linux"); slices.Contains(listIDs(l), draft.ID) {
		t.Fatalf("a draft was suggested: %v", listIDs(l))
	}
	if l := suggest(t, dev, "", "linux"); len(l.Articles) != 0 {
		t.Fatalf("empty query: %v", listIDs(l))
	}
	st, body := dev.Get(t, protocol.ArticleOfflinePath)
	var off protocol.ArticleList
	if st != http.StatusOK || json.Unmarshal(body, &off) != nil || !slices.Equal(listIDs(off), []string{pub.ID}) {
		t.Fatalf("offline: %d %s", st, body)
	}

	// Publishing the draft tells the connected device (a hint).
	if st := tech.Do(t, "PATCH", "/api/v1/articles/"+draft.ID, map[string]any{"published": true}, nil); st != http.StatusOK {
		t.Fatalf("publish: %d", st)
	}
	var ch protocol.ArticlesChanged
	if err := dev.WaitFor(t, protocol.KindArticlesChanged).Decode(&ch); err != nil || ch.Revision != 2 {
		t.Fatalf("articles.changed: %+v %v", ch, err)
	}

	// "This solved it": stored, acked, counted once.
	fb := protocol.ArticleFeedback{ArticleID: pub.ID, Event: protocol.ArticleSolved, At: time.Now().UTC()}
	env, _ := protocol.New(protocol.KindArticleFeedback, fb)
	dev.SendEnvelope(t, env)
	if a := waitFrameAck(t, dev, env.ID); a.Duplicate {
		t.Fatal("first feedback acked as a duplicate")
	}
	dev.SendEnvelope(t, env)
	if a := waitFrameAck(t, dev, env.ID); !a.Duplicate {
		t.Fatal("repeated feedback not acked as a duplicate")
	}
	var got articleOut
	if st := tech.Do(t, "GET", "/api/v1/articles/"+pub.ID, nil, &got); st != http.StatusOK || got.Solved != 1 {
		t.Fatalf("after solved: %d %+v, want solved 1", st, got)
	}
	bad := dev.Send(t, protocol.KindArticleFeedback, protocol.ArticleFeedback{ArticleID: pub.ID, Event: "liked"})
	if e := dev.WaitFor(t, protocol.KindError); !strings.Contains(string(e.Body), bad) {
		t.Fatalf("bad event: %s", e.Body)
	}

	// A request records what it was shown; the console sees it.
	fv := dev.Send(t, protocol.KindArticleFeedback, protocol.ArticleFeedback{ArticleID: pub.ID, Event: protocol.ArticleViewed})
	waitFrameAck(t, dev, fv)
	reqID := protocol.NewID()
	fr := dev.Send(t, protocol.KindRequestNew, protocol.RequestNew{RequestID: reqID, Category: protocol.CategoryProblem,
		Urgency: protocol.UrgencyWhenYouCan, Text: "Still offline", CreatedAt: time.Now().UTC(), ShownArticles: []string{pub.ID}})
	waitFrameAck(t, dev, fr)
	var detail struct {
		ShownArticles []struct{ ID, Title string } `json:"shown_articles"`
	}
	if st := tech.Do(t, "GET", "/api/v1/requests/"+reqID, nil, &detail); st != http.StatusOK || len(detail.ShownArticles) != 1 ||
		detail.ShownArticles[0].Title != "Printer shows offline" {
		t.Fatalf("request's shown articles: %d %+v", st, detail)
	}
	tech.Do(t, "GET", "/api/v1/articles/"+pub.ID, nil, &got)
	if got.Views != 1 || got.RequestsAfter != 1 {
		t.Fatalf("views %d, requests after viewing %d; want 1 and 1", got.Views, got.RequestsAfter)
	}
}

// Suggest answers a device's credentials and a technician's session, and
// nobody else; bodies over the cap are refused with a clear message.
func TestSelfHelpAuthAndLimits(t *testing.T) {
	s := servertest.New(t)
	tech := s.Tech(t)
	resp, err := http.Get(s.URL() + protocol.ArticleSuggestPath + "?q=printer")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("suggest without credentials: %d", resp.StatusCode)
	}
	var l protocol.ArticleList
	if st := tech.Do(t, "GET", protocol.ArticleSuggestPath+"?q=printer", nil, &l); st != http.StatusOK {
		t.Fatalf("suggest as staff: %d", st)
	}
	dev := s.Enroll(t, "bo-desktop")
	if st, _ := dev.Get(t, protocol.ArticleSuggestPath+"?q=printer"); st != http.StatusOK {
		t.Fatalf("suggest as device: %d", st)
	}
	dev.Secret = "wrong"
	if st, _ := dev.Get(t, protocol.ArticleOfflinePath); st != http.StatusUnauthorized {
		t.Fatalf("offline with a wrong secret: %d", st)
	}
	big := strings.Repeat("a", 5<<20)
	if st := tech.Do(t, "POST", "/api/v1/articles", map[string]any{"title": "Huge", "body": big}, nil); st != http.StatusRequestEntityTooLarge {
		t.Fatalf("5 MB body: %d, want 413", st)
	}
	justOver := strings.Repeat("a", 256<<10+1)
	if st := tech.Do(t, "POST", "/api/v1/articles", map[string]any{"title": "Over", "body": justOver}, nil); st != http.StatusRequestEntityTooLarge {
		t.Fatalf("256 KB + 1 body: %d, want 413", st)
	}
	for _, in := range []map[string]any{{"title": ""}, {"title": "x", "os": []string{"plan9"}}, {"title": strings.Repeat("t", 201)}} {
		if st := tech.Do(t, "POST", "/api/v1/articles", in, nil); st != http.StatusBadRequest {
			t.Fatalf("bad article %v: %d", in, st)
		}
	}
	var prev struct{ HTML string }
	if st := tech.Do(t, "POST", "/api/v1/articles/preview", map[string]any{"body": "# Hi\n<script>x()</script>"}, &prev); st != http.StatusOK ||
		!strings.Contains(prev.HTML, "<h1>Hi</h1>") || strings.Contains(prev.HTML, "script") {
		t.Fatalf("preview: %d %q", st, prev.HTML)
	}
}

// Saved replies start as the console's five and are edited by the team.
func TestSavedRepliesAPI(t *testing.T) {
	s := servertest.New(t)
	tech := s.Tech(t)
	var list struct {
		Replies []struct{ ID, Title, Body string }
	}
	if st := tech.Do(t, "GET", "/api/v1/replies", nil, &list); st != http.StatusOK || len(list.Replies) != 5 {
		t.Fatalf("replies: %d %+v", st, list)
	}
	var made struct{ ID, Title string }
	if st := tech.Do(t, "POST", "/api/v1/replies", map[string]string{"title": "VPN fixed", "body": "Hi {{first_name}}, the VPN works on {{device}} again."}, &made); st != http.StatusCreated {
		t.Fatalf("create: %d", st)
	}
	if st := tech.Do(t, "PATCH", "/api/v1/replies/"+made.ID, map[string]string{"title": "VPN fixed!"}, &made); st != http.StatusOK || made.Title != "VPN fixed!" {
		t.Fatalf("patch: %d %+v", st, made)
	}
	if st := tech.Do(t, "POST", "/api/v1/replies", map[string]string{"title": "no body"}, nil); st != http.StatusBadRequest {
		t.Fatalf("no body: %d", st)
	}
	if st := tech.Do(t, "DELETE", "/api/v1/replies/"+made.ID, nil, nil); st != http.StatusNoContent {
		t.Fatalf("delete: %d", st)
	}
	if st := tech.Do(t, "DELETE", "/api/v1/replies/"+made.ID, nil, nil); st != http.StatusNotFound {
		t.Fatalf("delete twice: %d", st)
	}
}

// Known problems: "me too" counts once per device, consoles see the count
// live with who said it, and resolving sends the all-clear to the desk.
func TestKnownProblemMeTooAndResolve(t *testing.T) {
	s := servertest.New(t)
	tech := s.Tech(t)
	con := tech.Console(t)
	dev := s.Enroll(t, "ana-laptop")
	dev.ConnectWith(t, protocol.Hello{AgentVersion: "1.1.0", OS: "linux", Arch: "amd64", Capabilities: []string{protocol.CapArticles, protocol.CapAnnouncement}})

	var ann struct{ ID, Kind string }
	if st := tech.Do(t, "POST", "/api/v1/announcements", map[string]any{"title": "Email is down", "text": "Until 23:00 — IT is on it",
		"severity": "outage", "kind": "known_problem"}, &ann); st != http.StatusCreated || ann.Kind != protocol.AnnouncementKnownProblem {
		t.Fatalf("announce: %d %+v", st, ann)
	}
	var wire protocol.Announcement
	if err := dev.WaitFor(t, protocol.KindAnnouncement).Decode(&wire); err != nil || wire.Kind != protocol.AnnouncementKnownProblem {
		t.Fatalf("device got %+v %v", wire, err)
	}
	id := dev.Send(t, protocol.KindAnnouncementMeToo, protocol.AnnouncementMeToo{AnnouncementID: ann.ID, At: time.Now().UTC()})
	waitFrameAck(t, dev, id)
	var up protocol.AnnouncementUpdated
	if err := con.WaitFor(t, protocol.KindAnnouncementUpdated).Decode(&up); err != nil || up.MeToo != 1 || up.Who == nil || up.Who.Hostname != "ana-laptop" {
		t.Fatalf("console: %+v %v", up, err)
	}
	again := dev.Send(t, protocol.KindAnnouncementMeToo, protocol.AnnouncementMeToo{AnnouncementID: ann.ID})
	if a := waitFrameAck(t, dev, again); !a.Duplicate {
		t.Fatal("a second me too from the same device counted")
	}
	if st := tech.Do(t, "POST", "/api/v1/announcements/"+ann.ID+"/resolve", map[string]string{"text": "Email is back."}, nil); st != http.StatusOK {
		t.Fatalf("resolve: %d", st)
	}
	if err := dev.WaitFor(t, protocol.KindAnnouncement).Decode(&wire); err != nil || wire.ResolvedAt.IsZero() || wire.ResolvedText != "Email is back." ||
		wire.AnnouncementID != ann.ID {
		t.Fatalf("all-clear: %+v %v", wire, err)
	}
	if st := tech.Do(t, "POST", "/api/v1/announcements/"+ann.ID+"/resolve", nil, nil); st != http.StatusConflict {
		t.Fatalf("resolve twice: %d", st)
	}
	var list struct {
		Announcements []struct {
			ID      string `json:"id"`
			MeToo   int    `json:"me_too"`
			MeTooBy []struct {
				Hostname string `json:"hostname"`
			} `json:"me_too_by"`
			ResolvedAt time.Time `json:"resolved_at"`
		}
	}
	if st := tech.Do(t, "GET", "/api/v1/announcements", nil, &list); st != http.StatusOK || len(list.Announcements) != 1 ||
		list.Announcements[0].MeToo != 1 || len(list.Announcements[0].MeTooBy) != 1 || list.Announcements[0].ResolvedAt.IsZero() {
		t.Fatalf("list: %d %+v", st, list)
	}
}
