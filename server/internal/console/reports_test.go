package console_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/deskside/deskside/server/internal/console"
	"github.com/deskside/deskside/server/internal/store"
	"github.com/deskside/deskside/server/internal/store/reporttest"
	"github.com/deskside/deskside/server/servertest"
)

// TestReportsPage, in a real browser against the real server: October
// 2026 seeded with 420 requests, heads-up fixes, software and articles;
// the figures, the three charts the server draws, a CSV download, the
// month picker; axe checks the page, and the screenshot is
// docs/screenshots/console-reports.png.
func TestReportsPage(t *testing.T) {
	srv := servertest.New(t)
	tech := srv.Tech(t)
	var ids []string
	for _, title := range []string{"The printer on floor 2 says offline", "VPN says “certificate expired”", "Share your calendar with the team"} {
		var a struct{ ID string }
		if st := tech.Do(t, http.MethodPost, "/api/v1/articles", map[string]any{"title": title, "body": "Do this.", "published": true}, &a); st != http.StatusCreated {
			t.Fatalf("create article: %d", st)
		}
		ids = append(ids, a.ID)
	}
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
	from := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	if err := reporttest.Seed(context.Background(), st, reporttest.Options{Requests: 420, Devices: 60, From: from,
		To: from.AddDate(0, 1, 0), Seed: 3, Articles: ids, SelfService: true}); err != nil {
		t.Fatal(err)
	}

	b := console.NewBrowser(t)
	b.SignIn(srv.URL(), servertest.AdminEmail, servertest.AdminPassword)
	b.Do("reports", chromedp.Navigate(srv.URL()+"/#/reports/2026-10"), chromedp.WaitVisible(chromedp.CSS("#rep-figures")))
	b.WaitText("#fig-requests", "420")
	b.WaitText("#rep-by-kind", "Something isn’t working")
	b.WaitText("#rep-self", "The printer on floor 2 says offline")
	b.WaitText("#rep-self", "disk space")
	b.WaitTrue("charts drawn", `[...document.querySelectorAll('img.chart')].length === 3 &&
		[...document.querySelectorAll('img.chart')].every((i) => i.complete && i.naturalWidth > 0)`)
	if cur := console.Eval[string](b, `document.querySelector('[data-nav="reports"]').getAttribute('aria-current') || ''`); cur != "page" {
		t.Errorf("the sidebar does not mark Reports: %q", cur)
	}
	// Every table has its download, and one downloads.
	links := console.Eval[[]string](b, `[...document.querySelectorAll('a[data-table]')].map((a) => a.dataset.table)`)
	if len(links) != 8 {
		t.Errorf("CSV links for %v", links)
	}
	csv := console.Eval[string](b, `fetch(document.querySelector('a[data-table="by_kind"]').href).then((r) => r.text())`)
	if len(csv) < 20 || csv[:23] != "kind,urgency,requests\r\n" && csv[:22] != "kind,urgency,requests\n" {
		t.Errorf("by_kind CSV: %q", csv)
	}
	axe := console.LoadAxe(t)
	b.Axe(axe, "reports")
	// A tall window, so the screenshot shows the whole month.
	b.Do("tall", chromedp.EmulateViewport(1366, 2200))
	b.Screenshot("reports")
	b.Do("back to size", chromedp.EmulateViewport(1366, 768))

	// The month picker: September had nothing.
	console.Eval[any](b, `(() => { const m = document.getElementById('rep-month'); m.value = '2026-09'; m.dispatchEvent(new Event('change')); })()`)
	b.WaitText("#fig-requests", "0")
	b.WaitText("#rep-by-kind", "No requests this month.")
	b.WaitText("#rep-comments", "Nobody left a comment")
}
