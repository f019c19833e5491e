package console_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/deskside/deskside/server/internal/console"
	"github.com/deskside/deskside/server/internal/store"
	"github.com/deskside/deskside/server/servertest"
	"github.com/deskside/deskside/shared/protocol"
)

// slaClock lets the test move the page's clock and fire its intervals
// (the queue's 30-second refresh) without waiting.
const slaClock = `(() => {
  const real = Date.now.bind(Date);
  window.__skew = 0;
  Date.now = () => real() + window.__skew;
  const si = window.setInterval.bind(window);
  window.__intervals = [];
  window.setInterval = (f, ms, ...a) => { const id = si(f, ms, ...a); window.__intervals.push({ id, f, ms }); return id; };
  const ci = window.clearInterval.bind(window);
  window.clearInterval = (id) => { window.__intervals = window.__intervals.filter((x) => x.id !== id); ci(id); };
})();`

// allWeekPolicy: the clock always runs, so the times the test expects do
// not depend on when it runs.
var allWeekPolicy = map[string]any{
	"teams": []map[string]any{{"name": "Help desk", "time_zone": "UTC",
		"hours": []map[string]any{{"days": []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}, "start": "00:00", "end": "24:00"}}}},
	"targets": map[string]any{"blocking": map[string]int{"first_response_minutes": 120, "resolution_minutes": 480},
		"when_you_can": map[string]int{"first_response_minutes": 480, "resolution_minutes": 2400}},
	"warn_before_minutes": 30,
}

func raise(t *testing.T, d *servertest.Device, u protocol.Urgency, text string) string {
	t.Helper()
	id := protocol.NewID()
	fid := d.Send(t, protocol.KindRequestNew, protocol.RequestNew{RequestID: id, Category: protocol.CategoryProblem, Urgency: u,
		Text: text, CreatedAt: time.Now().UTC()})
	for {
		var a protocol.Ack
		if err := d.WaitFor(t, protocol.KindAck).Decode(&a); err == nil && a.ID == fid {
			return id
		}
	}
}

// TestQueueTimeLeft: the queue shows the time left on each open request
// in words (overdue and paused said, not only coloured), sorts by it, and
// moves on every 30 seconds without a reload; a slipping target is a
// toast. The screenshot is docs/screenshots/console-queue-sla.png.
func TestQueueTimeLeft(t *testing.T) {
	srv := servertest.New(t)
	admin := srv.Tech(t)
	if st := admin.Do(t, "PUT", "/api/v1/sla", allWeekPolicy, nil); st != http.StatusOK {
		t.Fatalf("PUT /api/v1/sla: %d", st)
	}
	ana, ben, chen := srv.Enroll(t, "ana-laptop"), srv.Enroll(t, "ben-desktop"), srv.Enroll(t, "chen-mbp")
	for _, d := range []*servertest.Device{ana, ben, chen} {
		d.Connect(t, 0)
	}
	late := raise(t, chen, protocol.UrgencyWhenYouCan, "The shared drive asks for my password every hour")
	fresh := raise(t, ana, protocol.UrgencyBlocking, "Outlook will not start since this morning")
	calm := raise(t, ben, protocol.UrgencyWhenYouCan, "Could I get a second monitor?")
	waiting := raise(t, ana, protocol.UrgencyWhenYouCan, "VPN drops on the train")
	if st := admin.Do(t, "PATCH", "/api/v1/requests/"+waiting, map[string]string{"status": "waiting_on_user"}, nil); st != http.StatusOK {
		t.Fatalf("set waiting: %d", st)
	}
	// "late" slipped 25 minutes ago (as if raised yesterday).
	st, err := store.Open(context.Background(), srv.DataDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, _, err := st.UpdateRequest(context.Background(), late, func(r *store.Request) (*store.Outgoing, error) {
		r.FirstResponseDue = time.Now().Add(-25 * time.Minute).UTC().Truncate(time.Millisecond)
		return nil, nil
	}); err != nil {
		t.Fatal(err)
	}

	b := console.NewBrowser(t)
	b.OnNewDocument(slaClock)
	b.SignIn(srv.URL(), servertest.AdminEmail, servertest.AdminPassword)
	b.WaitTrue("four rows", `document.querySelectorAll('#queue-body tr[data-id]').length === 4`)
	cell := func(id string) string {
		return console.Eval[string](b, fmt.Sprintf(`document.querySelector('#queue-body tr[data-id=%q] td.time-left').innerText`, id))
	}
	for id, want := range map[string]string{late: "Overdue by 25 min", fresh: "left", calm: "left", waiting: "Paused\nwaiting on the employee"} {
		if got := cell(id); !strings.Contains(got, want) {
			t.Errorf("time left of %s: %q, want …%s…", id, got, want)
		}
	}
	if got := cell(fresh); !strings.Contains(got, "1 h 59 min left") && !strings.Contains(got, "2 h left") {
		t.Errorf("a fresh blocking request: %q, want about 2 h left", got)
	}
	if got := cell(late); !strings.Contains(got, "⚠") || !strings.Contains(got, "to first answer") {
		t.Errorf("overdue is not marked beyond colour: %q", got)
	}
	order := func() string {
		return console.Eval[string](b, `[...document.querySelectorAll('#queue-body tr[data-id]')].map((tr) => tr.dataset.id).join(' ')`)
	}
	// The usual order: blocking first, then newest.
	if got, want := order(), strings.Join([]string{fresh, waiting, calm, late}, " "); got != want {
		t.Errorf("usual order %s, want %s", got, want)
	}
	b.Click("sort by time left", "#sort-time-left")
	if got, want := order(), strings.Join([]string{late, fresh, calm, waiting}, " "); got != want {
		t.Errorf("by time left %s, want %s (overdue, least left, more left, paused)", got, want)
	}
	if s := console.Eval[string](b, `document.getElementById('th-time-left').getAttribute('aria-sort')`); s != "ascending" {
		t.Errorf("aria-sort %q", s)
	}
	b.Screenshot("queue-sla")

	// Half an hour on, without a reload: the 30-second refresh rewrites the cells.
	console.Eval[bool](b, `(() => { window.__skew = 30 * 60000; for (const i of window.__intervals) if (i.ms === 30000) i.f(); return true; })()`)
	if got := cell(late); !strings.Contains(got, "Overdue by 55 min") {
		t.Errorf("after 30 min: %q, want overdue by 55 min", got)
	}
	if got := cell(fresh); !strings.Contains(got, "1 h 29 min left") && !strings.Contains(got, "1 h 30 min left") {
		t.Errorf("after 30 min the fresh request says %q", got)
	}
	console.Eval[bool](b, `(() => { window.__skew = 0; return true; })()`)

	// A warning for an unassigned request reaches everyone as a toast.
	b.Click("usual order again", "#sort-time-left")
	console.Eval[bool](b, `(() => { document.getElementById('toasts').replaceChildren(); return true; })()`)
	if _, _, err := st.UpdateRequest(context.Background(), fresh, func(r *store.Request) (*store.Outgoing, error) {
		r.FirstResponseDue = time.Now().Add(10 * time.Minute).UTC().Truncate(time.Millisecond)
		return nil, nil
	}); err != nil {
		t.Fatal(err)
	}
	srv.App().Targets.Tick(context.Background(), false)
	b.WaitText("#toasts", "Unassigned request from")
	b.WaitText("#toasts", "first answer is due in")

	// The request's own page says it too.
	b.Do("open the overdue request", chromedp.Navigate(srv.URL()+"/#/requests/"+late), chromedp.WaitVisible(chromedp.CSS("#req-sla")))
	b.WaitText("#req-sla", "first answer: overdue by")
}

// TestResponseTargetsPage: the admin edits targets and hours; a span that
// overlaps another and a holiday in the wrong format are refused with the
// error beside each field; a good policy saves.
func TestResponseTargetsPage(t *testing.T) {
	srv := servertest.New(t)
	srv.Tech(t)
	b := console.NewBrowser(t)
	b.SignIn(srv.URL(), servertest.AdminEmail, servertest.AdminPassword)
	b.Do("open the page", chromedp.Navigate(srv.URL()+"/#/admin/sla"), chromedp.WaitVisible(chromedp.CSS("#sla-save")))
	b.Click("add working hours", "#sla-add-hours-0")
	console.Eval[bool](b, `(() => {
	  const spans = document.querySelectorAll('.sla-span');
	  const second = spans[1];
	  second.querySelector('input[data-day=mon]').checked = true;
	  second.querySelector('[data-part=start]').value = '12:00';
	  second.querySelector('[data-part=end]').value = '18:00';
	  document.querySelector('[data-part=holidays]').value = '2026-12-25, 24.12.2026';
	  document.getElementById('sla-targets-blocking-first_response_minutes').value = '120';
	  return true; })()`)
	b.Click("save", "#sla-save")
	b.WaitText("#sla-errors", "teams[0].hours[1]")
	b.WaitText("#sla-errors", "teams[0].holidays[1]")
	if n := console.Eval[int](b, `document.querySelectorAll('.sla-span .field-error, .sla-span[data-field] > .field-error').length`); n == 0 {
		t.Error("the overlap is not shown beside the hours")
	}
	if got := console.Eval[string](b, `document.querySelector('[data-part=holidays]').closest('.field').innerText`); !strings.Contains(got, "YYYY-MM-DD") ||
		!strings.Contains(got, "24.12.2026") {
		t.Errorf("holiday field says %q", got)
	}
	if inv := console.Eval[string](b, `document.querySelector('[data-part=holidays]').getAttribute('aria-invalid') || ''`); inv != "true" {
		t.Error("the holidays box is not marked invalid")
	}
	b.Axe(console.LoadAxe(t), "response targets with errors")
	b.Screenshot("sla-errors")
	console.Eval[bool](b, `(() => {
	  document.querySelectorAll('.sla-span')[1].querySelector('[data-part=start]').value = '17:00';
	  document.querySelector('[data-part=holidays]').value = '2026-12-25, 2026-12-24';
	  return true; })()`)
	b.Click("save again", "#sla-save")
	b.WaitTrue("saved", `document.getElementById('sla-errors').hidden && !document.querySelector('.field-error')`)
	var p struct {
		Teams []struct {
			Holidays []string
			Hours    []struct{ Start, End string }
		}
		Targets struct {
			Blocking struct {
				FirstResponseMinutes int `json:"first_response_minutes"`
			}
		}
	}
	admin := srv.Login(t, servertest.AdminEmail, servertest.AdminPassword)
	admin.Do(t, "GET", "/api/v1/sla", nil, &p)
	if len(p.Teams) != 1 || len(p.Teams[0].Hours) != 2 || p.Teams[0].Hours[1].Start != "17:00" || len(p.Teams[0].Holidays) != 2 ||
		p.Targets.Blocking.FirstResponseMinutes != 120 {
		t.Fatalf("saved policy %+v", p)
	}
}
