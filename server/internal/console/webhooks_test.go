package console_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/deskside/deskside/server/internal/console"
	"github.com/deskside/deskside/server/servertest"
)

// TestIntegrationsPage, against the real server: an admin adds a signed
// endpoint (the private-network opt-in shows its warning; the secret is
// shown once), a blocking request is delivered to it, a failing Teams
// endpoint shows its error, and "Send again" sends the delivery once more.
// The screenshot is docs/screenshots/console-webhooks.png.
func TestIntegrationsPage(t *testing.T) {
	srv := servertest.New(t)
	srv.Tech(t)
	var hits atomic.Int32
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		if r.URL.Path == "/teams" {
			http.Error(w, "flow is turned off", http.StatusNotFound)
			return
		}
		hits.Add(1)
	}))
	defer rcv.Close()

	b := console.NewBrowser(t)
	b.SignIn(srv.URL(), servertest.AdminEmail, servertest.AdminPassword)
	b.Do("integrations", chromedp.Navigate(srv.URL()+"/#/admin/webhooks"), chromedp.WaitVisible(chromedp.CSS("#wh-form")))
	b.WaitText("#webhooks-body", "No endpoints yet")

	// Without the opt-in, a loopback address is refused with what to do.
	b.Do("loopback refused", chromedp.SendKeys(chromedp.CSS("#wh-url"), rcv.URL+"/hook"), chromedp.Click(chromedp.CSS("#wh-save")))
	b.WaitText("#wh-form .error", "Allow private network")
	b.Do("opt in", chromedp.Click(chromedp.CSS("#wh-private")), chromedp.WaitVisible(chromedp.CSS("#wh-private-warning")),
		chromedp.SendKeys(chromedp.CSS("#wh-desc"), "Ticket system"),
		chromedp.Click(chromedp.CSS("#ev-request\\.resolved")),
		chromedp.Click(chromedp.CSS("#wh-save")))
	b.WaitText("#wh-secret-value", "whsec_")
	b.WaitText("#webhooks-body", "Ticket system")

	b.Do("teams", chromedp.SetValue(chromedp.CSS("#wh-kind"), "teams"),
		chromedp.Evaluate[chromedp.Void](`document.getElementById('wh-kind').dispatchEvent(new Event('change'))`),
		chromedp.SendKeys(chromedp.CSS("#wh-url"), rcv.URL+"/teams"), chromedp.Click(chromedp.CSS("#wh-private")),
		chromedp.SendKeys(chromedp.CSS("#wh-desc"), "IT channel in Teams"), chromedp.Click(chromedp.CSS("#wh-save")))
	b.WaitText("#webhooks-body", "IT channel in Teams")
	if console.Eval[bool](b, `document.body.innerText.includes('whsec_')`) {
		t.Error("the secret of the first endpoint is still on screen after adding another")
	}

	dev := srv.Enroll(t, "ana-laptop")
	dev.Connect(t, 0)
	dev.RaiseRequest(t, "Outlook will not open and I have a client call at 10")

	// Teams: the failed try and its error.
	b.WaitTrue("teams delivery tried", `(async () => {
		const row = [...document.querySelectorAll('#webhooks-body tr')].find((r) => r.textContent.includes('Teams'));
		row.querySelector('button').click();
		await new Promise((r) => setTimeout(r, 100));
		return (document.getElementById('deliveries-body')?.textContent || '').includes('HTTP 404');
	})()`)
	b.WaitText("#deliveries-body", "flow is turned off")

	// The signed endpoint: delivered, then sent again.
	b.WaitTrue("delivered", `(async () => {
		const row = [...document.querySelectorAll('#webhooks-body tr')].find((r) => r.textContent.includes('Ticket system'));
		row.querySelector('button').click();
		await new Promise((r) => setTimeout(r, 100));
		return (document.getElementById('deliveries-body')?.textContent || '').includes('Delivered');
	})()`)
	if n := hits.Load(); n != 1 {
		t.Fatalf("receiver hit %d times before send again", n)
	}
	console.Eval[any](b, `window.scrollTo(0, 0); for (const e of document.querySelectorAll("*")) if (e.scrollTop) e.scrollTop = 0`)
	b.Screenshot("webhooks")
	b.Axe(console.LoadAxe(t), "integrations")
	b.Click("send again", "#deliveries-body button")
	b.WaitTrue("sent again", `(async () => {
		document.getElementById('deliveries-refresh').click();
		await new Promise((r) => setTimeout(r, 100));
		const tds = document.querySelectorAll('#deliveries-body td');
		return tds.length > 2 && tds[2].textContent === '2';
	})()`)
	if n := hits.Load(); n != 2 {
		t.Fatalf("receiver hit %d times after send again, want 2", n)
	}
}
