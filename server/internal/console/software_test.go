package console_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/deskside/deskside/server/internal/console"
	"github.com/deskside/deskside/server/internal/store"
	"github.com/deskside/deskside/server/internal/store/softwaretest"
	"github.com/deskside/deskside/server/servertest"
	"github.com/deskside/deskside/shared/protocol"
)

// seedSoftware fills the registry as a fleet's inventories would have:
// a dozen real-world titles on six desks, two people who told IT about
// Figma, one who told IT about Obsidian (already approved: it came in from
// the cold this month).
func seedSoftware(t *testing.T, srv *servertest.Server, tech *servertest.Tech) (map[string]string, []*servertest.Device) {
	t.Helper()
	var st *store.SQL
	var err error
	if srv.Store() == "postgres" {
		st, err = store.OpenPostgres(context.Background(), srv.DatabaseURL())
	} else {
		st, err = store.Open(context.Background(), srv.DataDir())
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	var devs []*servertest.Device
	var ids []string
	for _, host := range []string{"ana-laptop", "ben-desktop", "chen-mbp", "dara-thinkpad", "eli-surface", "fay-imac"} {
		d := srv.Enroll(t, host)
		devs = append(devs, d)
		ids = append(ids, d.ID)
	}
	now := time.Now()
	day := 24 * time.Hour
	titles := []softwaretest.Title{
		{Name: "Figma", Publisher: "Figma, Inc.", Source: protocol.SourceRegistryUser, Devices: ids[:4], PerUser: 4,
			Versions: map[string]int{"124.5.4": 3, "124.4.0": 1}, FirstSeen: now.Add(-2 * day)},
		{Name: "Zoom Workplace", Publisher: "Zoom Video Communications, Inc.", Source: protocol.SourceRegistryMachine,
			Status: protocol.SoftwareApproved, Devices: ids, FirstSeen: now.Add(-80 * day)},
		{Name: "7-Zip 24.08 (x64)", Publisher: "Igor Pavlov", Source: protocol.SourceRegistryMachine, Status: protocol.SoftwareApproved,
			Devices: ids[:3], FirstSeen: now.Add(-60 * day)},
		{Name: "Obsidian", Publisher: "Dynalist Inc.", Source: protocol.SourceFlatpak, Devices: ids[2:4], PerUser: 2, FirstSeen: now.Add(-20 * day)},
		{Name: "Slack", Publisher: "Slack Technologies, LLC", Source: protocol.SourceRegistryUser, Status: protocol.SoftwareApproved,
			Devices: ids[:5], PerUser: 5, FirstSeen: now.Add(-90 * day)},
		{Name: "Spotify", Publisher: "Spotify AB", Source: protocol.SourceAppBundle, Devices: ids[2:3], PerUser: 1, FirstSeen: now.Add(-3 * day)},
		{Name: "Notion", Publisher: "Notion Labs, Inc.", Source: protocol.SourceRegistryUser, Status: protocol.SoftwareUnderReview,
			Devices: ids[1:4], PerUser: 3, FirstSeen: now.Add(-12 * day)},
		{Name: "Microsoft Visual Studio Code", Publisher: "Microsoft Corporation", Source: protocol.SourceRegistryMachine,
			Status: protocol.SoftwareApproved, Devices: ids[:5], FirstSeen: now.Add(-70 * day)},
		{Name: "Docker Desktop", Publisher: "Docker Inc.", Source: protocol.SourceRegistryMachine, Status: protocol.SoftwareUnderReview,
			Devices: ids[3:5], FirstSeen: now.Add(-9 * day)},
		{Name: "GIMP", Source: protocol.SourceFlatpak, Devices: ids[3:4], FirstSeen: now.Add(-1 * day)},
		{Name: "Steam", Publisher: "Valve Corporation", Source: protocol.SourceRegistryUser, Status: protocol.SoftwareNotForWork,
			Devices: ids[4:5], PerUser: 1, FirstSeen: now.Add(-30 * day)},
		{Name: "firefox-esr", Source: protocol.SourceDpkg, Status: protocol.SoftwareApproved, Devices: ids[3:4], FirstSeen: now.Add(-100 * day)},
	}
	tids, err := softwaretest.Seed(context.Background(), st, titles...)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for i, tt := range titles {
		out[tt.Name] = tids[i]
	}
	ctx := context.Background()
	for _, a := range []struct {
		title string
		dev   int
		user  string
	}{{"Figma", 0, "Ana Lopez"}, {"Figma", 1, "Ben Okafor"}, {"Obsidian", 2, "Chen Wei"}} {
		if err := softwaretest.Answer(ctx, st, out[a.title], devs[a.dev].ID, a.user, protocol.AnswerForWork, "", now.Add(-time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	if st := tech.Do(t, http.MethodPatch, "/api/v1/software/"+out["Obsidian"], map[string]any{"status": "approved"}, nil); st != http.StatusOK {
		t.Fatalf("approve Obsidian: %d", st)
	}
	if st := tech.Do(t, http.MethodPatch, "/api/v1/software/"+out["Steam"], map[string]any{"status": "not_for_work",
		"reason": "Games can't be kept patched on work laptops.", "alternative": "Your own computer at home"}, nil); st != http.StatusOK {
		t.Fatalf("Steam: %d", st)
	}
	return out, devs
}

// TestSoftwarePage, in a real browser against the real server: the
// figures, every filter, a live refresh when another technician decides,
// the title page (approve Figma, see the history row and the thanks), and
// a software request linked to its title from the request view.
func TestSoftwarePage(t *testing.T) {
	srv := servertest.New(t)
	tech := srv.Tech(t)
	ids, devs := seedSoftware(t, srv, tech)

	b := console.NewBrowser(t)
	b.SignIn(srv.URL(), servertest.AdminEmail, servertest.AdminPassword)
	b.Do("software", chromedp.Navigate(srv.URL()+"/#/software"), chromedp.WaitVisible(chromedp.CSS("#sw-body a.rowlink")))
	b.WaitText("#sw-shown", "Showing 12 of 12 titles")
	b.WaitText("#fig-came-in", "1")
	b.WaitText("#fig-thanked", "1")
	b.WaitText("#fig-new", "3")        // Figma, Spotify, GIMP
	b.WaitText("#fig-unreviewed", "3") // Figma, Spotify, GIMP
	rows := `document.querySelectorAll('#sw-body tr').length`
	first := `document.querySelector('#sw-body tr a.rowlink').textContent`
	if got := console.Eval[string](b, first); got != "Zoom Workplace" {
		t.Errorf("first row %q, want the title on most desks", got)
	}

	b.Click("per-user only", "#sw-peruser")
	b.WaitTrue("per-user only", rows+` === 6`)
	b.Click("per-user off", "#sw-peruser")
	b.Click("new this week", "#sw-new")
	b.WaitTrue("new this week", rows+` === 3`)
	b.Click("new this week off", "#sw-new")
	console.Eval[any](b, `(() => { const s = document.getElementById('sw-status'); s.value = 'under_review'; s.dispatchEvent(new Event('change')); })()`)
	b.WaitTrue("under review", rows+` === 2`)
	console.Eval[any](b, `(() => { const s = document.getElementById('sw-status'); s.value = ''; s.dispatchEvent(new Event('change')); })()`)
	console.Eval[any](b, `(() => { const s = document.getElementById('sw-source'); s.value = 'flatpak'; s.dispatchEvent(new Event('change')); })()`)
	b.WaitTrue("flatpak", rows+` === 2`)
	console.Eval[any](b, `(() => { const s = document.getElementById('sw-source'); s.value = ''; s.dispatchEvent(new Event('change')); })()`)
	b.Do("search", chromedp.SendKeys(chromedp.CSS("#sw-q"), "FIG"))
	b.WaitTrue("search", rows+` === 1 && `+first+` === 'Figma'`)
	if href := console.Eval[string](b, `document.getElementById('sw-csv').getAttribute('href')`); href != "/api/v1/software?q=FIG&format=csv" {
		t.Errorf("CSV link %q follows the filters?", href)
	}
	console.Eval[any](b, `(() => { const q = document.getElementById('sw-q'); q.value = ''; q.dispatchEvent(new Event('input')); })()`)
	b.WaitTrue("search cleared", rows+` === 12`)

	// Another technician decides: the list follows live.
	if st := tech.Do(t, http.MethodPatch, "/api/v1/software/"+ids["Docker Desktop"], map[string]any{"status": "approved"}, nil); st != http.StatusOK {
		t.Fatalf("approve Docker: %d", st)
	}
	b.WaitTrue("live refresh", `document.querySelector('#sw-body tr[data-title="`+ids["Docker Desktop"]+`"] .tag').textContent === 'Approved'`)
	axe := console.LoadAxe(t)
	b.Axe(axe, "software")
	b.Screenshot("software")

	// The title page: approve Figma; the two who told IT are thanked.
	devs[0].Connect(t, 0)
	b.Click("open Figma", `#sw-body tr[data-title="`+ids["Figma"]+`"] a.rowlink`)
	b.WaitText("#sw-name", "Figma")
	b.WaitText("#sw-answers", "Ana Lopez")
	b.WaitText("#sw-versions", "124.5.4")
	b.WaitText("#sw-devices", "ana-laptop")
	b.WaitText("#sw-history", "Nobody has decided")
	b.Click("approved", "#sw-st-approved")
	b.WaitTrue("catalogue fields shown", `!document.getElementById('sw-cat').hidden && document.getElementById('sw-nfw').hidden`)
	b.Do("message", chromedp.SendKeys(chromedp.CSS("#sw-message"), "Thanks for telling us — Figma is supported now."))
	b.Click("save", "#sw-save")
	b.WaitText("#sw-history", "Rob set it Approved")
	b.WaitText("#toasts", "2 people who told IT will hear from you")
	var th protocol.SoftwareThanks
	if err := devs[0].WaitFor(t, protocol.KindSoftwareThanks).Decode(&th); err != nil || th.TitleID != ids["Figma"] || !strings.Contains(th.Text, "supported now") {
		t.Errorf("Ana's thanks: %+v %v", th, err)
	}
	b.WaitText("#sw-answers", "ago") // thanked column filled
	// Not for work needs a reason, said in the form before the server.
	// (The toast sits over the button; a person would wait for it to go.)
	console.Eval[any](b, `document.getElementById('toasts').replaceChildren()`)
	b.Click("not for work", "#sw-st-not_for_work")
	b.Click("save without reason", "#sw-save")
	b.WaitText("#sw-form .error", "Say kindly why")
	b.Click("approved again", "#sw-st-approved")
	b.WaitTrue("the note goes with the choice", `document.querySelector('#sw-form .error').hidden`)
	b.Axe(axe, "software title")
	b.Do("reopen", chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("#sw-history")))
	b.WaitText("#sw-history", "Rob set it Approved")
	b.Screenshot("software-title")

	// A software request: link it to its title from the request view.
	devs[1].Connect(t, 0)
	reqID := protocol.NewID()
	fid := devs[1].Send(t, protocol.KindRequestNew, protocol.RequestNew{RequestID: reqID, Category: protocol.CategorySoftware,
		Urgency: protocol.UrgencyWhenYouCan, Text: "I use Notion for our team wiki. Can it be supported?", CreatedAt: time.Now().UTC()})
	for {
		var a protocol.Ack
		if err := devs[1].WaitFor(t, protocol.KindAck).Decode(&a); err == nil && a.ID == fid {
			break
		}
	}
	b.Do("open request", chromedp.Navigate(srv.URL()+"/#/requests/"+reqID), chromedp.WaitVisible(chromedp.CSS("#req-software")))
	b.WaitText("#req-software", "Not linked")
	b.Do("find", chromedp.SendKeys(chromedp.CSS("#req-sw-q"), "notion"))
	b.WaitTrue("found", `document.getElementById('req-sw-pick').value === '`+ids["Notion"]+`'`)
	b.Click("link", "#req-sw-link")
	b.WaitText("#req-software-title", "Notion")
	b.Click("open the title", "#req-software-title")
	b.WaitText("#sw-requests", "team wiki")
}
