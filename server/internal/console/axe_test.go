package console

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"testing"

	"github.com/chromedp/chromedp"
)

// axeSHA256 is the vendored axe.min.js's checksum (testdata/axe-core/README.md).
const axeSHA256 = "29348999450cdf2849a8e70b7912fc2da85a849da39c0d0d5394f51d4a9ed95c"

// axeRun runs axe-core on the whole page with the WCAG 2.1 A/AA and
// best-practice rules and returns each violation as readable lines.
const axeRun = `axe.run(document, {
  runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] },
  resultTypes: ['violations'],
}).then((r) => r.violations.map((v) =>
  v.id + ' (' + v.impact + '): ' + v.help + '\n' +
  v.nodes.slice(0, 5).map((n) => '    ' + n.target.join(' ') + ' — ' + (n.failureSummary || '').replace(/\s+/g, ' ')).join('\n')))`

// loadAxe reads the vendored axe-core and checks it is the pinned one.
func loadAxe(t *testing.T) string {
	t.Helper()
	src, err := os.ReadFile("testdata/axe-core/axe.min.js")
	if err != nil {
		t.Fatalf("read axe-core: %v", err)
	}
	if sum := sha256.Sum256(src); hex.EncodeToString(sum[:]) != axeSHA256 {
		t.Fatalf("testdata/axe-core/axe.min.js is not the pinned axe-core (see its README)")
	}
	return string(src)
}

// Axe injects axe-core (once per document) and fails the test for each
// violation on the page as it is now.
func (b *Browser) Axe(axe, page string) {
	b.t.Helper()
	if !Eval[bool](b, `typeof window.axe === 'object'`) {
		// Through DevTools, so the console's strict CSP does not apply.
		Eval[any](b, axe+"\n;true")
	}
	for _, v := range Eval[[]string](b, axeRun) {
		b.t.Errorf("axe, %s: %s", page, v)
	}
}

// TestAxe: every console page, in light and dark, has no WCAG 2.1 AA or
// best-practice violation that axe-core finds.
func TestAxe(t *testing.T) {
	axe := loadAxe(t)
	f := newFakeAPI(t)
	b := NewBrowser(t)
	url := f.srv.URL

	type page struct{ name, hash, ready string }
	signedOut := []page{
		{"sign-in", "/", "#signin"},
		{"setup", "/#/setup?token=abc", "#setup"},
	}
	signedIn := []page{
		{"queue", "/#/queue", "#queue-body a.rowlink"},
		{"request", "/#/requests/req_1", "#composer"},
		{"devices", "/#/devices", "#devices-body a"},
		{"device", "/#/devices/dev_1", "#dm-form"},
		{"announcements", "/#/announcements", "#ann-body td"},
		{"profile", "/#/profile", "#profile-form"},
		{"technicians", "/#/admin/technicians", "#tech-form"},
		{"tokens", "/#/admin/tokens", "#token-form"},
		{"updates", "/#/admin/updates", "#releases-body form.rollout"},
		{"audit", "/#/admin/audit", "#audit-table tbody td"},
		{"response targets", "/#/admin/sla", "#sla-save"},
	}
	visit := func(pages []page) {
		for _, dark := range []bool{false, true} {
			b.DarkMode(dark)
			scheme := map[bool]string{false: "light", true: "dark"}[dark]
			for _, p := range pages {
				b.Do("open "+p.name, chromedp.Navigate(url+p.hash), chromedp.WaitVisible(chromedp.CSS(p.ready)))
				b.Axe(axe, p.name+", "+scheme)
			}
		}
	}
	visit(signedOut)
	// The sign-in page with an error showing (aria-invalid, describedby).
	b.Do("open sign-in", chromedp.Navigate(url+"/"), chromedp.WaitVisible(chromedp.CSS("#signin")))
	b.Do("empty sign-in", chromedp.Click(chromedp.CSS("#signin button[type=submit]")))
	b.WaitText("#signin-error", "Please fill in")
	b.Axe(axe, "sign-in with an error")

	b.SignIn(url, "rob@example.com", "correct horse")
	visit(signedIn)
	// The composer in note mode.
	b.Do("open request", chromedp.Navigate(url+"/#/requests/req_1"), chromedp.WaitVisible(chromedp.CSS("#composer")))
	b.Do("note mode", chromedp.Click(chromedp.CSS("#tab-note")))
	b.Axe(axe, "request, writing a note")
}

// TestSignInErrorsAreTiedToFields: a sign-in error marks the fields it is
// about (aria-invalid) and is read with them (aria-describedby).
func TestSignInErrorsAreTiedToFields(t *testing.T) {
	f := newFakeAPI(t)
	b := NewBrowser(t)
	b.Do("open", chromedp.Navigate(f.srv.URL+"/"), chromedp.WaitVisible(chromedp.CSS("#signin")))
	b.Do("email only",
		chromedp.SendKeys(chromedp.CSS("input[name=email]"), "rob@example.com"),
		chromedp.Click(chromedp.CSS("#signin button[type=submit]")))
	b.WaitText("#signin-error", "Please fill in")
	state := func() string {
		return Eval[string](b, `['email', 'password'].map((n) => { const el = document.querySelector('input[name=' + n + ']');
			return n + ':' + el.getAttribute('aria-invalid') + ':' + el.getAttribute('aria-describedby'); }).join(' ')`)
	}
	if got := state(); got != "email:null:null password:true:signin-error" {
		t.Errorf("after an empty password: %s", got)
	}
	b.Do("wrong password",
		chromedp.SendKeys(chromedp.CSS("input[name=password]"), "not the password"),
		chromedp.Click(chromedp.CSS("#signin button[type=submit]")))
	b.WaitText("#signin-error", "don’t match")
	if got := state(); got != "email:true:signin-error password:true:signin-error" {
		t.Errorf("after a wrong password: %s", got)
	}
	if got := Eval[string](b, `document.activeElement.name`); got != "password" {
		t.Errorf("focus after a wrong password on %q, want the password field", got)
	}
}

// TestReflowAt320: at 320 px wide (WCAG 1.4.10) no page scrolls sideways,
// and the navigation and Sign out are on screen.
func TestReflowAt320(t *testing.T) {
	f := newFakeAPI(t)
	b := NewBrowser(t)
	b.SignIn(f.srv.URL, "rob@example.com", "correct horse")
	b.Do("narrow", chromedp.EmulateViewport(320, 640))
	for _, p := range []struct{ name, hash, ready string }{
		{"queue", "/#/queue", "#queue-body a.rowlink"},
		{"request", "/#/requests/req_1", "#composer"},
		{"devices", "/#/devices", "#devices-body a"},
		{"device", "/#/devices/dev_1", "#dm-form"},
		{"announcements", "/#/announcements", "#ann-form"},
		{"updates", "/#/admin/updates", "#releases-body form.rollout"},
	} {
		b.Do("open "+p.name, chromedp.Navigate(f.srv.URL+p.hash), chromedp.WaitVisible(chromedp.CSS(p.ready)))
		if w := Eval[int](b, `document.documentElement.scrollWidth`); w > 320 {
			wide := Eval[[]string](b, `[...document.querySelectorAll('body *')].filter((el) => el.getBoundingClientRect().right > 321).slice(0, 5).map((el) => el.tagName + '.' + el.className + '#' + el.id + ' ' + Math.round(el.getBoundingClientRect().right))`)
			t.Errorf("%s at 320 px: the page is %d px wide: %q", p.name, w, wide)
		}
		for _, sel := range []string{"#signout", `a[data-nav=queue]`, `a[data-nav=audit]`} {
			js := fmt.Sprintf(`(() => { const r = document.querySelector(%q).getBoundingClientRect(); return r.width > 0 && r.left >= 0 && r.right <= 320; })()`, sel)
			if !Eval[bool](b, js) {
				t.Errorf("%s at 320 px: %s is not fully on screen", p.name, sel)
			}
		}
	}
	b.Do("open request", chromedp.Navigate(f.srv.URL+"/#/requests/req_1"), chromedp.WaitVisible(chromedp.CSS("#composer")))
	b.Screenshot("request-320")
	b.DarkMode(true)
	b.Screenshot("request-320-dark")
}

// TestFieldBordersContrast: every text field's and select's edge is at
// least 3:1 against what it sits on, in light and dark (WCAG 1.4.11; axe
// does not check non-text contrast).
func TestFieldBordersContrast(t *testing.T) {
	f := newFakeAPI(t)
	b := NewBrowser(t)
	b.SignIn(f.srv.URL, "rob@example.com", "correct horse")
	const check = `(() => {
	  const rgb = (s) => (s.match(/[\d.]+/g) || []).map(Number);
	  const lum = ([r, g, b]) => { const f = (c) => { c /= 255; return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; };
	    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b); };
	  const ratio = (a, b) => { const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p); return (x + 0.05) / (y + 0.05); };
	  const behind = (el) => { for (let p = el.parentElement; p; p = p.parentElement) {
	    const c = rgb(getComputedStyle(p).backgroundColor); if (c.length === 3 || c[3] > 0) return c.slice(0, 3); }
	    return rgb(getComputedStyle(document.body).backgroundColor).slice(0, 3); };
	  return [...document.querySelectorAll('input[type=text], input[type=email], input[type=password], input[type=search], input[type=number], select, textarea')]
	    .filter((el) => el.offsetParent !== null)
	    .map((el) => [el.id || el.name, ratio(rgb(getComputedStyle(el).borderTopColor).slice(0, 3), behind(el))])
	    .filter(([, r]) => r < 3).map(([n, r]) => n + ' ' + r.toFixed(2) + ':1');
	})()`
	for _, dark := range []bool{false, true} {
		b.DarkMode(dark)
		for _, p := range []struct{ name, hash, ready string }{
			{"queue", "/#/queue", "#queue-body a.rowlink"},
			{"request", "/#/requests/req_1", "#composer"},
			{"announcements", "/#/announcements", "#ann-form"},
			{"profile", "/#/profile", "#profile-form"},
		} {
			b.Do("open "+p.name, chromedp.Navigate(f.srv.URL+p.hash), chromedp.WaitVisible(chromedp.CSS(p.ready)))
			for _, bad := range Eval[[]string](b, check) {
				t.Errorf("%s (dark %v): field edge %s, want 3:1", p.name, dark, bad)
			}
		}
	}
}

// TestSendKeepsFocus: "Send the message" and "Send announcement" disable
// themselves while focused; afterwards the focus is back in the form's
// text box, not on <body>.
func TestSendKeepsFocus(t *testing.T) {
	f := newFakeAPI(t)
	b := NewBrowser(t)
	b.SignIn(f.srv.URL, "rob@example.com", "correct horse")

	b.Do("device", chromedp.Navigate(f.srv.URL+"/#/devices/dev_1"), chromedp.WaitVisible(chromedp.CSS("#dm-form")))
	b.Do("send a message", chromedp.SendKeys(chromedp.CSS("#dm-text"), "Restarting the printer at noon."),
		chromedp.Click(chromedp.CSS("#dm-form button[type=submit]")))
	b.WaitText("#toasts", "Message sent.")
	if got := Eval[string](b, `document.activeElement.id`); got != "dm-text" {
		t.Errorf("after Send the message the focus is on %q, want dm-text", got)
	}

	b.Do("announcements", chromedp.Navigate(f.srv.URL+"/#/announcements"), chromedp.WaitVisible(chromedp.CSS("#ann-form")))
	b.Do("announce", chromedp.SendKeys(chromedp.CSS("#ann-title"), "Printer back"),
		chromedp.SendKeys(chromedp.CSS("#ann-text"), "Floor 2 prints again."),
		chromedp.Click(chromedp.CSS("#ann-form button[type=submit]")))
	b.WaitText("#toasts", "Announcement sent.")
	if got := Eval[string](b, `document.activeElement.id`); got != "ann-title" {
		t.Errorf("after Send announcement the focus is on %q, want ann-title", got)
	}
}

// TestTimesRewrittenOnlyWhenChanged: the 30 s refresh of "5 min ago" leaves
// a time alone when its words are the same, so the conversation does not
// churn under a screen reader.
func TestTimesRewrittenOnlyWhenChanged(t *testing.T) {
	f := newFakeAPI(t)
	b := NewBrowser(t)
	b.SignIn(f.srv.URL, "rob@example.com", "correct horse")
	b.Do("open request", chromedp.Navigate(f.srv.URL+"/#/requests/req_1"), chromedp.WaitVisible(chromedp.CSS("#thread time")))
	got := Eval[[]int](b, `import('/js/util.js').then((u) => {
	  const main = document.getElementById('main');
	  let n = 0;
	  const mo = new MutationObserver((ms) => { n += ms.length; });
	  mo.observe(main, { subtree: true, childList: true, characterData: true });
	  u.refreshTimes(main);
	  const same = n + mo.takeRecords().length;
	  // A time whose words are stale is rewritten.
	  const t = document.querySelector('#thread time');
	  t.textContent = 'stale';
	  mo.takeRecords();
	  u.refreshTimes(main);
	  const changed = mo.takeRecords().length;
	  mo.disconnect();
	  return [same, changed];
	})`)
	if len(got) != 2 || got[0] != 0 || got[1] == 0 {
		t.Errorf("mutations: %v; want none when nothing changed and some for a stale time", got)
	}
}

// LoadAxe is loadAxe for the tests against the real server (package
// console_test).
func LoadAxe(t *testing.T) string { return loadAxe(t) }
