package console_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/deskside/deskside/server/internal/console"
	"github.com/deskside/deskside/server/servertest"
	"github.com/deskside/deskside/shared/protocol"
)

// report sends a check.report and waits for its ack.
func report(t *testing.T, d *servertest.Device, r protocol.CheckReport) {
	t.Helper()
	id := d.Send(t, protocol.KindCheckReport, r)
	for {
		var a protocol.Ack
		if err := d.WaitFor(t, protocol.KindAck).Decode(&a); err == nil && a.ID == id {
			return
		}
	}
}

// fleetStory gives a small fleet four weeks of heads-up history: warnings
// on different days, most fixed by the people themselves, some sent to
// IT, some snoozed, some still open. It returns the connected devices.
func fleetStory(t *testing.T, srv *servertest.Server) []*servertest.Device {
	t.Helper()
	now := time.Now().UTC()
	hosts := []string{"ana-laptop", "ben-desktop", "chen-laptop", "dora-mac", "eli-laptop", "fay-desktop", "gus-laptop", "hana-laptop", "ivo-desktop", "jo-laptop"}
	type step struct {
		check protocol.CheckKind
		days  int // days ago it warned
		then  protocol.CheckState
		words string
	}
	story := [][]step{
		{{protocol.CheckDiskSpace, 2, protocol.CheckWarn, "Your disk is almost full: 3.1 GB left on /home."}, {protocol.CheckPasswordExpiry, 1, protocol.CheckAskedIT, "Your password expires in 2 days."}},
		{{protocol.CheckDiskSpace, 9, protocol.CheckFixed, "41 GB free now."}, {protocol.CheckRestartNeeded, 3, protocol.CheckSnoozed, "On for 19 days."}},
		{{protocol.CheckDiskSpace, 15, protocol.CheckFixed, "38 GB free now."}, {protocol.CheckOSUpdates, 4, protocol.CheckWarn, "4 updates waiting for 9 days."}},
		{{protocol.CheckRestartNeeded, 6, protocol.CheckFixed, "Restarted."}, {protocol.CheckPasswordExpiry, 12, protocol.CheckFixed, "Password changed."}},
		{{protocol.CheckDiskSpace, 0, protocol.CheckSnoozed, "Your disk is almost full: 4.0 GB left on C:."}, {protocol.CheckBatteryHealth, 20, protocol.CheckAskedIT, "The battery holds 54 % of its first charge."}},
		{{protocol.CheckOSUpdates, 1, protocol.CheckFixed, "Up to date."}, {protocol.CheckRestartNeeded, 24, protocol.CheckFixed, "Restarted."}},
		{{protocol.CheckDiskEncryption, 27, protocol.CheckAskedIT, "The disk is not encrypted."}, {protocol.CheckDiskSpace, 5, protocol.CheckFixed, "22 GB free now."}},
		{{protocol.CheckPasswordExpiry, 0, protocol.CheckWarn, "Your password expires in 6 days."}, {protocol.CheckOSUpdates, 18, protocol.CheckFixed, "Up to date."}},
		{{protocol.CheckRestartNeeded, 1, protocol.CheckWarn, "On for 15 days."}, {protocol.CheckDiskSpace, 11, protocol.CheckFixed, "30 GB free now."}},
		{{protocol.CheckOSUpdates, 7, protocol.CheckFixed, "Up to date."}, {protocol.CheckDiskSpace, 21, protocol.CheckFixed, "51 GB free now."}},
	}
	var devs []*servertest.Device
	for i, host := range hosts {
		d := srv.Enroll(t, host)
		d.ConnectWith(t, protocol.Hello{AgentVersion: "1.1.0", OS: "linux", Arch: "amd64", Revision: protocol.Revision,
			Capabilities: []string{protocol.CapChecks}})
		for _, s := range story[i] {
			at := now.Add(-time.Duration(s.days)*24*time.Hour - time.Hour)
			report(t, d, protocol.CheckReport{Check: s.check, State: protocol.CheckWarn, Summary: s.words, ObservedAt: at,
				Evidence: map[string]string{"observed": at.Format(time.RFC3339)}})
			if s.then != protocol.CheckWarn {
				r := protocol.CheckReport{Check: s.check, State: s.then, Summary: s.words, ObservedAt: at.Add(30 * time.Minute)}
				if s.then == protocol.CheckAskedIT {
					r.RequestID = d.RaiseRequest(t, "Heads-up: "+s.words)
				}
				report(t, d, r)
			}
		}
		devs = append(devs, d)
	}
	return devs
}

// TestHeadsUpPage: the Heads-up page counts what the fleet reported, draws
// the 30-day trend, updates live, clicks through to the devices and to a
// device's own items; an admin edits the policy with a live preview that
// fills in the placeholders, saves it, and a connected desk receives it;
// a bad link is refused with the server's words. No axe-core violations,
// light or dark.
func TestHeadsUpPage(t *testing.T) {
	srv := servertest.New(t, servertest.WithDeviceRate(1e9, 1e9))
	srv.Tech(t)
	devs := fleetStory(t, srv)
	axe := console.AxeSource(t)

	b := console.NewBrowser(t)
	b.SignIn(srv.URL(), servertest.AdminEmail, servertest.AdminPassword)
	b.Do("open heads-up", chromedp.Navigate(srv.URL()+"/#/heads-up"), chromedp.WaitVisible(chromedp.CSS("#checks-body a.rowlink")))
	cell := func(check string, col int) string {
		return console.Eval[string](b, fmt.Sprintf(`document.querySelector('#checks-body tr[data-check=%s]').children[%d].innerText.trim()`, check, col))
	}
	// disk_space: ana warns, eli snoozed → affected 2; ben, chen, gus, ivo, jo fixed.
	if a, f, s := cell("disk_space", 1), cell("disk_space", 2), cell("disk_space", 4); a != "2" || f != "5" || s != "1" {
		t.Errorf("disk space row: affected %s, fixed %s, snoozed %s; want 2, 5, 1", a, f, s)
	}
	if a, q := cell("password_expiry", 1), cell("password_expiry", 3); a != "2" || q != "1" {
		t.Errorf("password row: affected %s, asked IT %s; want 2, 1", a, q)
	}
	if n := console.Eval[int](b, `document.querySelectorAll('#checks-body tr[data-check=disk_space] svg.bars rect:not(.zero)').length`); n < 5 {
		t.Errorf("disk space trend draws %d days with warnings; want at least 5", n)
	}
	// Live: a new warning raises the count without a reload.
	report(t, devs[5], protocol.CheckReport{Check: protocol.CheckDiskSpace, State: protocol.CheckWarn, Summary: "2.2 GB left.", ObservedAt: time.Now().UTC()})
	b.WaitTrue("affected 3", `document.querySelector('#checks-body tr[data-check=disk_space]').children[1].innerText.trim() === '3'`)

	// The policy editor: pick disk space, write words with placeholders.
	b.Do("wait for the editor", chromedp.WaitVisible(chromedp.CSS("#pf-text")))
	b.WaitText("#policy-status", "built-in policy")
	console.Eval[any](b, `(() => { const s = document.getElementById('policy-check'); s.value = 'disk_space'; s.dispatchEvent(new Event('change')); return true })()`)
	b.Do("disk threshold", chromedp.WaitVisible(chromedp.CSS("#pf-disk_free_pct")))
	b.Do("words",
		chromedp.SendKeys(chromedp.CSS("#pf-text"), "Only {free_gb} GB left on {mount}. Shall I tidy up for you?"),
		chromedp.SendKeys(chromedp.CSS("#pf-title"), "Running out of room"))
	b.WaitText("#policy-preview", "Only 3.1 GB left on C:. Shall I tidy up for you?")
	// A placeholder without a value stays as written, so a typo shows.
	if got := console.Eval[string](b, `import('/js/headsup.js').then((m) => m.fill('{free_gb} GB, {typo}', { free_gb: '3.1' }))`); got != "3.1 GB, {typo}" {
		t.Errorf("fill = %q", got)
	}
	b.WaitText("#policy-preview", "Running out of room")
	b.WaitText("#policy-preview", "Fix it for me")

	// A plain-http link is refused with the server's words.
	b.Do("bad link", chromedp.SendKeys(chromedp.CSS("#pf-howto"), "http://intranet.example.com/disk"))
	b.Click("save", "#policy-save")
	b.WaitText("#policy-form .error", "must start with https://")

	console.Eval[any](b, `(() => { const i = document.getElementById('pf-howto'); i.select(); return true })()`)
	b.Do("good link", chromedp.SendKeys(chromedp.CSS("#pf-howto"), "https://intranet.example.com/disk"))
	b.WaitText("#policy-preview", "Show me how")
	b.Click("save", "#policy-save")
	b.WaitText("#policy-status", "revision 1")
	env := devs[0].WaitFor(t, protocol.KindChecksPolicy)
	var p protocol.ChecksPolicy
	if err := env.Decode(&p); err != nil {
		t.Fatal(err)
	}
	var disk protocol.CheckPolicy
	for _, c := range p.Checks {
		if c.Kind == protocol.CheckDiskSpace {
			disk = c
		}
	}
	if p.Revision != 1 || disk.Title != "Running out of room" || disk.HowToURL != "https://intranet.example.com/disk" || !disk.Enabled {
		t.Errorf("the desk got %+v; disk item %+v", p, disk)
	}
	console.Eval[any](b, `(() => { const s = document.getElementById('policy-check'); s.value = 'disk_space'; s.dispatchEvent(new Event('change')); return true })()`)
	b.WaitText("#policy-preview", "Only 3.1 GB left on C:")
	b.Axe(axe, "heads-up, light")
	// A taller window, so the picture shows the numbers and the editor.
	b.Do("tall", chromedp.EmulateViewport(1366, 1240), chromedp.Evaluate[chromedp.Void](`document.getElementById('main').scrollTo(0, 0); window.scrollTo(0, 0)`))
	b.Screenshot("heads-up")
	b.Do("normal", chromedp.EmulateViewport(1366, 768))
	b.DarkMode(true)
	b.Axe(axe, "heads-up, dark")
	b.DarkMode(false)

	// Click through: the disk space devices affected now.
	b.Click("affected disk", `#checks-body tr[data-check=disk_space] th a`)
	b.WaitText("#check-devices-body", "ana-laptop")
	b.WaitText("#check-devices-body", "fay-desktop")
	b.WaitText("#check-devices-body", "eli-laptop")
	if n := console.Eval[int](b, `document.querySelectorAll('#check-devices-body tr').length`); n != 3 {
		t.Errorf("%d devices affected by disk space; want 3", n)
	}
	b.Axe(axe, "heads-up devices")
	b.Do("fixed", chromedp.Navigate(srv.URL()+"/#/heads-up/disk_space?state=fixed"))
	b.WaitText("#check-devices-body", "jo-laptop")

	// The device's page shows its items, with the request it raised.
	b.Do("device", chromedp.Navigate(srv.URL()+"/#/devices/"+devs[0].ID), chromedp.WaitVisible(chromedp.CSS("#device-checks")))
	b.WaitText("#device-checks", "Password expiry")
	b.WaitText("#device-checks", "Asked IT")
	b.WaitText("#device-checks", "3.1 GB left on /home")
	report(t, devs[0], protocol.CheckReport{Check: protocol.CheckDiskSpace, State: protocol.CheckFixed, Summary: "Cleared 2.4 GB: 5.5 GB free now.", ObservedAt: time.Now().UTC()})
	b.WaitText("#device-checks", "Fixed it themselves")
	b.Axe(axe, "device with heads-up items")
	b.Screenshot("device-heads-up")

	var view struct{ Revision int64 }
	if st := srv.Tech(t).Do(t, http.MethodGet, "/api/v1/checks/policy", nil, &view); st != http.StatusOK || view.Revision != 1 {
		t.Errorf("policy after save: %d %+v", st, view)
	}
}
