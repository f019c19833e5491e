package console_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/deskside/deskside/server/internal/console"
	"github.com/deskside/deskside/server/servertest"
	"github.com/deskside/deskside/shared/protocol"
)

// TestArticlesPage, against the real server: the list shows what each
// article did (opened, solved it, asked anyway); the editor previews the
// employee's view live, sanitised; publishing makes it suggestable; a
// technician's reply becomes a pre-filled article; saved replies fill
// their placeholders and are found with "/" in the reply box. axe checks
// the page, and the screenshot is docs/screenshots/console-articles.png.
func TestArticlesPage(t *testing.T) {
	srv := servertest.New(t)
	tech := srv.Tech(t)
	for _, a := range []map[string]any{
		{"title": "The printer on floor 2 says offline", "body": "1. Turn it off and on.\n2. Wait for the green light.", "tags": []string{"printing"}, "published": true, "pinned": true},
		{"title": "VPN says “certificate expired”", "body": "Open the VPN app and choose **Renew certificate**.", "os": []string{"windows", "darwin"}, "published": true},
		{"title": "Share your calendar with the team", "body": "In Outlook: right-click the calendar → Share.", "published": true},
		{"title": "Guest Wi-Fi for visitors", "body": "Ask reception for today's code."},
	} {
		if st := tech.Do(t, http.MethodPost, "/api/v1/articles", a, nil); st != http.StatusCreated {
			t.Fatalf("create article: %d", st)
		}
	}
	// People used them: a device opens the printer article and says it
	// solved it.
	dev := srv.Enroll(t, "ana-laptop")
	dev.Connect(t, 0)
	var list protocol.ArticleList
	_, body := dev.Get(t, protocol.ArticleSuggestPath+"?q=printer+offline&os=linux")
	if err := json.Unmarshal(body, &list); err != nil || len(list.Articles) == 0 {
		t.Fatalf("suggest: %s %v", body, err)
	}
	for _, ev := range []string{protocol.ArticleViewed, protocol.ArticleSolved} {
		id := dev.Send(t, protocol.KindArticleFeedback, protocol.ArticleFeedback{ArticleID: list.Articles[0].ID, Event: ev, At: time.Now().UTC()})
		for {
			var a protocol.Ack
			if err := dev.WaitFor(t, protocol.KindAck).Decode(&a); err == nil && a.ID == id {
				break
			}
		}
	}

	b := console.NewBrowser(t)
	b.SignIn(srv.URL(), servertest.AdminEmail, servertest.AdminPassword)
	b.Do("articles", chromedp.Navigate(srv.URL()+"/#/articles"), chromedp.WaitVisible(chromedp.CSS("#articles-body a.rowlink")))
	b.WaitText("#articles-body", "Pinned")
	row := console.Eval[string](b, `[...document.querySelectorAll('#articles-body tr')].find(r => r.textContent.includes('floor 2')).textContent`)
	if !strings.Contains(row, "Published") || !strings.Contains(row, "11") { // opened 1, solved it 1
		t.Errorf("printer row %q: want Published with 1 opened and 1 solved", row)
	}
	b.WaitText("#articles-body", "Draft")

	// Search in the list tolerates a typo.
	b.Do("search", chromedp.SendKeys(chromedp.CSS("#articles-q"), "calender"))
	b.WaitTrue("search narrows", `document.querySelectorAll('#articles-body tr').length === 1 && document.querySelector('#articles-body').textContent.includes('Share your calendar')`)
	console.Eval[any](b, `(() => { const q = document.getElementById('articles-q'); q.value = ''; q.dispatchEvent(new Event('input')); })()`)
	b.WaitTrue("search cleared", `document.querySelectorAll('#articles-body tr').length === 4`)

	// A new article: the preview follows the Markdown, sanitised.
	b.Do("new", chromedp.Navigate(srv.URL()+"/#/articles/new"), chromedp.WaitVisible(chromedp.CSS("#article-form")))
	b.Do("write",
		chromedp.SendKeys(chromedp.CSS("#article-title"), "Teams has no sound"),
		chromedp.SendKeys(chromedp.CSS("#article-body"), "Check the **speaker** in Teams → Settings → Devices.\n\n<script>window.pwned=1</script>[x](javascript:alert(1))"),
		chromedp.SendKeys(chromedp.CSS("#article-tags"), "teams, audio"))
	b.WaitTrue("preview renders", `!!document.querySelector('#article-preview strong') && document.querySelector('#article-preview strong').textContent === 'speaker'`)
	if bad := console.Eval[bool](b, `!!document.querySelector('#article-preview script') || !!document.querySelector('#article-preview a[href^="javascript"]') || window.pwned === 1`); bad {
		t.Error("the preview kept a script or a javascript: link")
	}
	b.WaitText(".article-view-title", "Teams has no sound")
	b.Do("save", chromedp.Click(chromedp.CSS("#article-save")))
	b.WaitTrue("saved as a draft", `location.hash.startsWith('#/articles/art_') && document.getElementById('article-status')?.textContent === 'Draft'`)
	b.Do("publish", chromedp.Click(chromedp.CSS("#article-publish")))
	b.WaitText("#article-status", "Published")
	_, body = dev.Get(t, protocol.ArticleSuggestPath+"?q=teams+sound&os=linux")
	if !strings.Contains(string(body), "Teams has no sound") {
		t.Errorf("the published article is not suggested: %s", body)
	}
	axe := console.LoadAxe(t)
	b.Axe(axe, "articles, editing")
	b.Do("open the printer article", chromedp.Navigate(srv.URL()+"/#/articles"), chromedp.WaitVisible(chromedp.CSS("#articles-body a.rowlink")))
	b.Click("open printer", `#articles-body a.rowlink`)
	b.WaitText(".article-view-title", "printer on floor 2")
	b.WaitTrue("preview shown", `document.querySelectorAll('#article-preview li').length === 2`)
	b.Screenshot("articles")
	b.DarkMode(true)
	b.Axe(axe, "articles, dark")
	b.DarkMode(false)

	// A reply becomes an article, pre-filled from the thread.
	reqID := dev.RaiseRequest(t, "Outlook keeps asking for my password since this morning")
	if st := tech.Do(t, http.MethodPost, "/api/v1/requests/"+reqID+"/messages", map[string]string{
		"text": "Hi Ana, open Credential Manager, remove the entries that start with MicrosoftOffice, then restart Outlook."}, nil); st != http.StatusCreated {
		t.Fatalf("reply: %d", st)
	}
	b.Do("open request", chromedp.Navigate(srv.URL()+"/#/requests/"+reqID), chromedp.WaitVisible(chromedp.CSS("#composer")))
	b.WaitText("#thread", "Credential Manager")
	if head := b.Text(".req-head"); strings.Contains(head, "null") {
		t.Errorf("the request head shows %q", head)
	}
	// Saved replies: "/" searches them, and the placeholders are filled.
	b.WaitText("#saved-replies", "Looking into it")
	b.Do("slash", chromedp.SendKeys(chromedp.CSS("#reply-text"), "/restart"))
	b.WaitText("#replies-pick", "Try a restart")
	// Enter as the keydown a person's key makes (chromedp's "\r" also types a
	// separate character event, which a browser's own Enter does not).
	console.Eval[any](b, `document.getElementById('reply-text').dispatchEvent(new KeyboardEvent('keydown', {key: 'Enter', bubbles: true, cancelable: true}))`)
	if v := console.Eval[string](b, `document.getElementById('reply-text').value`); !strings.HasPrefix(v, "Hi Ana, could you try closing the app") || strings.HasSuffix(v, "\n") || strings.Contains(v, "{{") {
		t.Errorf("saved reply not filled in: %q", v)
	}
	b.Axe(axe, "request with saved replies")
	b.Click("turn into article", `#thread button.to-article`)
	b.WaitTrue("editor pre-filled", `document.getElementById('article-title')?.value === 'Outlook keeps asking for my password since this morning'`)
	if v := console.Eval[string](b, `document.getElementById('article-body').value`); !strings.HasPrefix(v, "Open Credential Manager") {
		t.Errorf("article body from the reply: %q", v)
	}
	// A request that was shown articles lists them.
	shownID := protocol.NewID()
	fid := dev.Send(t, protocol.KindRequestNew, protocol.RequestNew{RequestID: shownID, Category: protocol.CategoryProblem,
		Urgency: protocol.UrgencyWhenYouCan, Text: "The printer is still offline", CreatedAt: time.Now().UTC(), ShownArticles: []string{list.Articles[0].ID}})
	for {
		var a protocol.Ack
		if err := dev.WaitFor(t, protocol.KindAck).Decode(&a); err == nil && a.ID == fid {
			break
		}
	}
	b.Do("open the shown request", chromedp.Navigate(srv.URL()+"/#/requests/"+shownID), chromedp.WaitVisible(chromedp.CSS("#composer")))
	b.WaitText("#req-shown", "Suggested before they asked: The printer on floor 2 says offline")
}

// TestKnownProblemLiveMeToo: a known problem's "me too" count rises live
// on the Announcements page, with who said it, as devices say it.
func TestKnownProblemLiveMeToo(t *testing.T) {
	srv := servertest.New(t)
	tech := srv.Tech(t)
	var ann struct{ ID string }
	if st := tech.Do(t, http.MethodPost, "/api/v1/announcements", map[string]any{"title": "Email is down", "text": "Until 23:00 — IT is on it",
		"severity": "outage", "kind": "known_problem"}, &ann); st != http.StatusCreated {
		t.Fatalf("announce: %d", st)
	}
	b := console.NewBrowser(t)
	b.SignIn(srv.URL(), servertest.AdminEmail, servertest.AdminPassword)
	b.Do("announcements", chromedp.Navigate(srv.URL()+"/#/announcements"), chromedp.WaitVisible(chromedp.CSS("#metoo-"+ann.ID)))
	b.WaitText("#ann-body", "Known problem")
	for i, host := range []string{"ana-laptop", "ben-desktop"} {
		dev := srv.Enroll(t, host)
		dev.Connect(t, 0)
		id := dev.Send(t, protocol.KindAnnouncementMeToo, protocol.AnnouncementMeToo{AnnouncementID: ann.ID, At: time.Now().UTC()})
		for {
			var a protocol.Ack
			if err := dev.WaitFor(t, protocol.KindAck).Decode(&a); err == nil && a.ID == id {
				break
			}
		}
		b.WaitText("#metoo-"+ann.ID, string(rune('1'+i)))
		b.WaitText("#metoo-who-"+ann.ID, host)
	}
	axe := console.LoadAxe(t)
	b.Axe(axe, "announcements with a known problem")
	// Resolve: the all-clear is sent (TestKnownProblemMeTooAndResolve in api
	// checks the desks get it) and the row says resolved.
	b.Click("resolve", "#ann-body button.resolve")
	b.Do("the dialog", chromedp.WaitVisible(chromedp.CSS("#resolve-dialog")))
	console.Eval[any](b, `document.getElementById('resolve-text').value = ''`)
	b.Do("write the all-clear", chromedp.SendKeys(chromedp.CSS("#resolve-text"), "Email is back. Thanks for bearing with us!"))
	b.Axe(axe, "the all-clear dialog")
	b.Click("send the all-clear", "#resolve-send")
	b.WaitText("#ann-body", "All-clear: Email is back.")
	if console.Eval[bool](b, `!!document.querySelector('#ann-body button.resolve')`) {
		t.Error("a resolved problem still offers Resolve")
	}
	var list struct {
		Announcements []struct {
			ResolvedText string `json:"resolved_text"`
		}
	}
	if code := tech.Do(t, http.MethodGet, "/api/v1/announcements", nil, &list); code != http.StatusOK || len(list.Announcements) != 1 ||
		list.Announcements[0].ResolvedText != "Email is back. Thanks for bearing with us!" {
		t.Errorf("after resolve: %d %+v", code, list)
	}
}

// TestSavedRepliesPage: a technician adds a saved reply for the team; in
// a request, "/" finds it and its placeholders are filled for that request.
func TestSavedRepliesPage(t *testing.T) {
	srv := servertest.New(t)
	srv.Tech(t)
	dev := srv.Enroll(t, "ana-laptop")
	dev.Connect(t, 0)
	reqID := dev.RaiseRequest(t, "The printer on floor 2 jams")

	b := console.NewBrowser(t)
	b.SignIn(srv.URL(), servertest.AdminEmail, servertest.AdminPassword)
	b.Do("replies", chromedp.Navigate(srv.URL()+"/#/replies"), chromedp.WaitVisible(chromedp.CSS("#reply-form")))
	b.WaitText("#replies-body", "Looking into it")
	b.Do("add",
		chromedp.SendKeys(chromedp.CSS("#reply-title"), "Printer fixed"),
		chromedp.SendKeys(chromedp.CSS("#reply-body"), "Hi {{first_name}}, {{device}} prints again. — {{technician}}"),
		chromedp.Click(chromedp.CSS("#reply-save")))
	b.WaitText("#replies-body", "Printer fixed")
	b.Axe(console.LoadAxe(t), "saved replies")

	b.Do("open request", chromedp.Navigate(srv.URL()+"/#/requests/"+reqID), chromedp.WaitVisible(chromedp.CSS("#composer")))
	b.Do("slash", chromedp.SendKeys(chromedp.CSS("#reply-text"), "/printer"))
	b.WaitText("#replies-pick", "Printer fixed")
	// Enter as the keydown a person's key makes (chromedp's "\r" also types a
	// separate character event, which a browser's own Enter does not).
	console.Eval[any](b, `document.getElementById('reply-text').dispatchEvent(new KeyboardEvent('keydown', {key: 'Enter', bubbles: true, cancelable: true}))`)
	want := "Hi Ana, ana-laptop prints again. — " + servertest.AdminName
	if v := console.Eval[string](b, `document.getElementById('reply-text').value`); v != want {
		t.Errorf("reply box %q, want %q", v, want)
	}
}
