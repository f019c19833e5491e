package console

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/deskside/deskside/shared/protocol"
)

// SignIn signs in through the form and waits for the live link.
func (b *Browser) SignIn(url, email, password string) {
	b.t.Helper()
	b.Do("open sign-in", chromedp.Navigate(url+"/"), chromedp.WaitVisible(chromedp.CSS("#signin")))
	b.Do("sign in",
		chromedp.SendKeys(chromedp.CSS("input[name=email]"), email),
		chromedp.SendKeys(chromedp.CSS("input[name=password]"), password),
		chromedp.Click(chromedp.CSS("#signin button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("#queue-body")))
	b.WaitText("#live", "Live")
}

// TestConsolePages walks every page against the contract fake, checks what
// a technician relies on, and takes the screenshots for docs/.
func TestConsolePages(t *testing.T) {
	f := newFakeAPI(t)
	b := NewBrowser(t)

	b.Do("open", chromedp.Navigate(f.srv.URL+"/"), chromedp.WaitVisible(chromedp.CSS("#signin")))
	b.Screenshot("signin")
	b.SignIn(f.srv.URL, "rob@example.com", "correct horse")
	b.WaitText("#queue-body", "Wi-Fi keeps dropping")
	if got := b.Text("#queue-body"); !contains(got, "Software they use or need") {
		t.Errorf("software category label missing from the queue: %q", got)
	}
	// The resolved request is hidden under "All open".
	if got := b.Text("#queue-body"); contains(got, "printer on floor 2") {
		t.Errorf("resolved request shown under All open")
	}
	b.WaitText("#counts", "Resolved 1")

	// A new "blocking my work" request arrives live and alerts.
	Eval[any](b, `document.body.dispatchEvent(new PointerEvent('pointerdown', {bubbles: true}))`)
	f.send(protocol.KindRequestCreated, protocol.RequestSummary{RequestID: "req_9", DeviceID: "dev_2", Hostname: "ben-desktop", User: "ben",
		Category: protocol.CategoryProblem, Urgency: protocol.UrgencyBlocking, Status: protocol.StatusNew, Text: "The shared drive is gone and I need the contract now",
		CreatedAt: time.Now().UTC(), UpdatedAt: time.Now().UTC()})
	b.WaitText("#queue-body", "The shared drive is gone")
	b.WaitText("#nav-open", "4")
	if id := Eval[string](b, `import('/js/store.js').then(m => m.lastAlert && m.lastAlert.id)`); id != "req_9" {
		t.Errorf("no alert for the new blocking request (lastAlert id %q)", id)
	}
	// Filters: assigned to me narrows to req_2.
	b.Do("filter mine", chromedp.Click(chromedp.CSS("#f-mine")))
	b.WaitText("#queue-shown", "Showing 1 of 5")
	b.Do("unfilter", chromedp.Click(chromedp.CSS("#f-mine")))
	b.WaitText("#queue-shown", "Showing 4 of 5")
	b.Screenshot("queue")

	// Request view: then/now with changes highlighted, note, reply.
	b.Do("open request", chromedp.Navigate(f.srv.URL+"/#/requests/req_1"), chromedp.WaitVisible(chromedp.CSS("#compare")))
	if n := Eval[int](b, `document.querySelectorAll('#compare td.changed').length`); n < 2 {
		t.Errorf("expected CPU and memory highlighted as changed, got %d cells", n)
	}
	b.WaitText("#thread", "Only technicians see this")
	b.Do("canned reply", chromedp.Click(chromedp.Search(`//button[text()="Looking into it"]`)))
	if v := Eval[string](b, `document.getElementById('reply-text').value`); !contains(v, "Hi Ana") {
		t.Errorf("canned reply not inserted for editing: %q", v)
	}
	b.Do("send", chromedp.Click(chromedp.CSS("#send")))
	b.WaitText("#thread", "I'm looking into it now")
	f.send(protocol.KindDeviceTelem, protocol.Telemetry{DeviceID: "dev_1", At: time.Now().UTC(), CPUPct: 93, MemPct: 84, DiskPct: 72})
	b.WaitText("#device-panel", "live figures")
	b.Do("write a draft", chromedp.SendKeys(chromedp.CSS("#reply-text"), "Checking the access point logs now."))
	b.Screenshot("request")
	b.DarkMode(true)
	b.Screenshot("request-dark")
	b.DarkMode(false)

	b.Do("devices", chromedp.Navigate(f.srv.URL+"/#/devices"), chromedp.WaitVisible(chromedp.CSS("#devices-body a")))
	b.WaitText("#devices-body", "chloe-mac")
	b.Screenshot("devices")
	// A reconnect storm's presence arrives in batches: each device's state applies.
	b.WaitText("#devices-summary", "3 devices, 2 online")
	f.send(protocol.KindPresenceBatch, protocol.PresenceBatch{Devices: []protocol.Presence{
		{DeviceID: "dev_1", Hostname: "ana-laptop", Online: false, At: time.Now().UTC()},
		{DeviceID: "dev_2", Hostname: "ben-desktop", Online: false, At: time.Now().UTC()},
		{DeviceID: "dev_3", Hostname: "chloe-mac", Online: true, At: time.Now().UTC()}}})
	b.WaitText("#devices-summary", "3 devices, 1 online")
	if on := Eval[[]string](b, `[...document.querySelectorAll('#devices-body tr')].filter(r => r.querySelector('.dot.online')).map(r => r.textContent)`); len(on) != 1 || !contains(on[0], "chloe-mac") {
		t.Errorf("online after the presence batch: %q, want only chloe-mac", on)
	}
	b.Do("device", chromedp.Navigate(f.srv.URL+"/#/devices/dev_1"), chromedp.WaitVisible(chromedp.CSS("#dm-form")))
	for i, v := range []float64{40, 55, 62, 80, 91} {
		f.send(protocol.KindDeviceTelem, protocol.Telemetry{DeviceID: "dev_1", At: time.Now().UTC(), CPUPct: v, MemPct: 80 + float64(i), DiskPct: 72})
	}
	b.WaitText("#live-cpu", "91")
	b.Screenshot("device")

	b.Do("announcements", chromedp.Navigate(f.srv.URL+"/#/announcements"), chromedp.WaitVisible(chromedp.CSS("#ann-form")))
	b.WaitText("#ann-body", "39 of 42")
	b.Do("compose",
		chromedp.SendKeys(chromedp.CSS("#ann-title"), "Printer on floor 2 is back"),
		chromedp.SendKeys(chromedp.CSS("#ann-text"), "Thanks for your patience!"))
	b.Screenshot("announcements")
	b.Do("send announcement", chromedp.Click(chromedp.CSS("#ann-form button[type=submit]")))
	b.WaitText("#ann-body", "Printer on floor 2 is back")
}

// AssertLabelled fails for any form control a screen reader could not name.
func (b *Browser) AssertLabelled(page string) {
	b.t.Helper()
	bad := Eval[[]string](b, `[...document.querySelectorAll('input, select, textarea')]
		.filter(el => el.type !== 'hidden' && !(el.labels && el.labels.length) && !el.getAttribute('aria-label'))
		.map(el => el.outerHTML.slice(0, 80))`)
	for _, el := range bad {
		b.t.Errorf("%s: control without a label: %s", page, el)
	}
}

// TestAdminAndProfilePages: tokens are shown once and can be copied; the
// greeting users see is previewed and saved; every control is labelled.
func TestAdminAndProfilePages(t *testing.T) {
	f := newFakeAPI(t)
	b := NewBrowser(t)
	b.SignIn(f.srv.URL, "rob@example.com", "correct horse")
	b.AssertLabelled("queue")

	b.Do("tokens", chromedp.Navigate(f.srv.URL+"/#/admin/tokens"), chromedp.WaitVisible(chromedp.CSS("#token-form")))
	b.AssertLabelled("tokens")
	b.Do("make token", chromedp.Click(chromedp.CSS("#token-form button[type=submit]")))
	b.WaitText("#token-shown", "dsk1_abcdefghijklmnopqrstuvwx")
	b.WaitText("#token-shown", "shown only once")

	b.Do("technicians", chromedp.Navigate(f.srv.URL+"/#/admin/technicians"), chromedp.WaitVisible(chromedp.CSS("#tech-form")))
	b.WaitText("main", "Sam")
	b.AssertLabelled("technicians")

	b.Do("profile", chromedp.Navigate(f.srv.URL+"/#/profile"), chromedp.WaitVisible(chromedp.CSS("#profile-form")))
	b.AssertLabelled("profile")
	Eval[any](b, `document.getElementById('p-greeting').value = ''`)
	b.Do("greeting",
		chromedp.SendKeys(chromedp.CSS("#p-greeting"), "Hi, I'm Robert — I'll sort this out"))
	b.WaitText("#greeting-preview", "Hi, I'm Robert — I'll sort this out")
	b.Do("save", chromedp.Click(chromedp.CSS("#profile-form button[type=submit]")))
	b.WaitText("#toasts", "Saved")
	f.mu.Lock()
	got := f.tech["greeting"]
	f.mu.Unlock()
	if got != "Hi, I'm Robert — I'll sort this out" {
		t.Errorf("greeting saved as %q", got)
	}

	b.Do("devices", chromedp.Navigate(f.srv.URL+"/#/devices"), chromedp.WaitVisible(chromedp.CSS("#devices-body a")))
	b.AssertLabelled("devices")
	b.Do("device", chromedp.Navigate(f.srv.URL+"/#/devices/dev_1"), chromedp.WaitVisible(chromedp.CSS("#dm-form")))
	b.AssertLabelled("device")
	b.Do("announcements", chromedp.Navigate(f.srv.URL+"/#/announcements"), chromedp.WaitVisible(chromedp.CSS("#ann-form")))
	b.AssertLabelled("announcements")
	b.Do("request", chromedp.Navigate(f.srv.URL+"/#/requests/req_1"), chromedp.WaitVisible(chromedp.CSS("#composer")))
	b.AssertLabelled("request")

	// Keyboard: the first Tab from the top reaches the skip link.
	b.Do("reload", chromedp.Navigate(f.srv.URL+"/#/queue"), chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("#queue-body")))
	b.Do("tab", chromedp.KeyEvent("\t"))
	if cls := Eval[string](b, `document.activeElement.className`); cls != "skip" {
		t.Errorf("first Tab focused %q, want the skip link", cls)
	}
}

// TestSessionEnded: when the server forgets the session, the next call
// returns the technician to sign-in with a friendly word.
func TestSessionEndedReturnsToSignIn(t *testing.T) {
	f := newFakeAPI(t)
	b := NewBrowser(t)
	b.SignIn(f.srv.URL, "rob@example.com", "correct horse")
	f.mu.Lock()
	f.signedIn = false
	f.mu.Unlock()
	b.Do("navigate", chromedp.Navigate(f.srv.URL+"/#/devices"))
	b.WaitText("#signin-message", "Your session ended — please sign in again.")
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }

// TestUpdatesPage: an admin sees each release's rollout and progress,
// widens one, opens the failures of a halted one and resumes it.
func TestUpdatesPage(t *testing.T) {
	f := newFakeAPI(t)
	b := NewBrowser(t)
	b.SignIn(f.srv.URL, "rob@example.com", "correct horse")
	b.Do("nav", chromedp.Click(chromedp.CSS(`a[data-nav=updates]`)), chromedp.WaitVisible(chromedp.CSS("#releases-body form.rollout")))
	b.AssertLabelled("updates")
	b.WaitText("#releases-body", "Halted")
	b.WaitText("#releases-body", "did not report healthy")
	b.WaitText("#releases-body", "Rollback")
	b.WaitText("#versions-body", "310")

	// Widen the Windows release from 25 % to 50 %.
	Eval[any](b, `document.querySelector('form[data-id=rel_win140] input').value = ''`)
	b.Do("set percent",
		chromedp.SendKeys(chromedp.CSS(`form[data-id=rel_win140] input`), "50"),
		chromedp.Click(chromedp.CSS(`form[data-id=rel_win140] button`)))
	b.WaitText("#toasts", "50 % of devices")
	f.mu.Lock()
	got := f.releases[0]["percent"]
	f.mu.Unlock()
	if got != 50 {
		t.Errorf("percent saved as %v, want 50", got)
	}

	// Which devices failed, by name, and why.
	b.Click("show failures", `button[aria-controls=fail-rel_mac140]`)
	b.WaitText("#fail-rel_mac140", "chloe-mac")
	b.WaitText("#fail-rel_mac140", "Rolled back")
	if exp := Eval[string](b, `document.querySelector('button[aria-controls=fail-rel_mac140]').getAttribute('aria-expanded')`); exp != "true" {
		t.Errorf("failures toggle aria-expanded = %q", exp)
	}
	b.Screenshot("updates")

	b.Click("resume", `button[aria-label="Resume 1.4.0 macOS arm64"]`)
	b.WaitText("#toasts", "rolling out again")
	f.mu.Lock()
	paused := f.releases[1]["paused"]
	f.mu.Unlock()
	if paused != false {
		t.Errorf("resume left paused = %v", paused)
	}
	b.Click("pause", `button[aria-label="Pause 1.4.0 Windows amd64"]`)
	b.WaitText("#toasts", "is paused")
}
