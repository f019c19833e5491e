package servertest_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/deskside/deskside/server/servertest"
	"github.com/deskside/deskside/shared/protocol"
)

// Heads-up checks end to end (issue 14): real server, real WebSockets.

func connectChecks(t *testing.T, d *servertest.Device, lastSeq uint64) protocol.Welcome {
	t.Helper()
	return d.ConnectWith(t, protocol.Hello{AgentVersion: "1.1.0", OS: "linux", Arch: "amd64", Revision: protocol.Revision,
		Capabilities: []string{protocol.CapTelemetry, protocol.CapChecks}, LastSeq: lastSeq})
}

// sendReport sends a check.report and waits for its ack.
func sendReport(t *testing.T, d *servertest.Device, r protocol.CheckReport) protocol.Ack {
	t.Helper()
	id := d.Send(t, protocol.KindCheckReport, r)
	for {
		env := d.WaitFor(t, protocol.KindAck)
		var ack protocol.Ack
		if err := env.Decode(&ack); err != nil {
			t.Fatal(err)
		}
		if ack.ID == id {
			return ack
		}
	}
}

type summary struct {
	Checks []struct {
		Check       protocol.CheckKind `json:"check"`
		Affected    int                `json:"affected"`
		FixedByUser int                `json:"fixed_by_user"`
		AskedIT     int                `json:"asked_it"`
		Snoozed     int                `json:"snoozed"`
		Trend       []struct {
			Day    string `json:"day"`
			Warned int    `json:"warned"`
			Fixed  int    `json:"fixed"`
		} `json:"trend"`
	} `json:"checks"`
}

func checkSummary(t *testing.T, tech *servertest.Tech, k protocol.CheckKind) (affected, fixed, asked, snoozed, warnedToday int) {
	t.Helper()
	var s summary
	if st := tech.Do(t, http.MethodGet, "/api/v1/checks/summary", nil, &s); st != http.StatusOK {
		t.Fatalf("summary: status %d", st)
	}
	for _, c := range s.Checks {
		if c.Check == k {
			return c.Affected, c.FixedByUser, c.AskedIT, c.Snoozed, c.Trend[len(c.Trend)-1].Warned
		}
	}
	t.Fatalf("summary has no %s", k)
	return
}

// Reports from devices change the summary, reach an open console live,
// show on the device's page and in the check's device list.
func TestCheckReportsChangeSummary(t *testing.T) {
	srv := servertest.New(t)
	tech := srv.Tech(t)
	con := tech.Console(t)
	ana, bo := srv.Enroll(t, "ana-laptop"), srv.Enroll(t, "bo-desktop")
	if w := connectChecks(t, ana, 0); w.Revision != protocol.Revision || !strings.Contains(strings.Join(w.Capabilities, ","), protocol.CapChecks) {
		t.Fatalf("welcome %+v: want revision %d and the checks capability", w, protocol.Revision)
	}
	connectChecks(t, bo, 0)
	if a, _, _, _, _ := checkSummary(t, tech, protocol.CheckDiskSpace); a != 0 {
		t.Fatalf("affected before any report: %d", a)
	}
	now := time.Now().UTC()
	warn := protocol.CheckReport{Check: protocol.CheckDiskSpace, State: protocol.CheckWarn, Summary: "Your disk is almost full: 3.1 GB left.",
		Evidence: map[string]string{"free_gb": "3.1", "mount": "/home"}, ObservedAt: now}
	if ack := sendReport(t, ana, warn); ack.Duplicate {
		t.Fatal("first report acked as a duplicate")
	}
	var evs protocol.DeviceChecks
	if err := con.WaitFor(t, protocol.KindDeviceChecks).Decode(&evs); err != nil {
		t.Fatal(err)
	}
	if len(evs.Checks) != 1 {
		t.Fatalf("console event %+v; want one check", evs)
	}
	if ev := evs.Checks[0]; ev.DeviceID != ana.ID || ev.Hostname != "ana-laptop" || ev.State != protocol.CheckWarn || ev.Evidence["free_gb"] != "3.1" {
		t.Fatalf("console event %+v", evs)
	}
	sendReport(t, bo, warn)
	if a, f, _, _, w := checkSummary(t, tech, protocol.CheckDiskSpace); a != 2 || f != 0 || w != 2 {
		t.Fatalf("after two warnings: affected %d fixed %d warned today %d", a, f, w)
	}
	fixed := warn
	fixed.State, fixed.Summary, fixed.ObservedAt = protocol.CheckFixed, "41 GB free now.", now.Add(time.Minute)
	sendReport(t, ana, fixed)
	asked := protocol.CheckReport{Check: protocol.CheckPasswordExpiry, State: protocol.CheckAskedIT, RequestID: "req_x",
		Deadline: now.Add(48 * time.Hour), ObservedAt: now}
	sendReport(t, bo, asked)
	if a, f, _, _, _ := checkSummary(t, tech, protocol.CheckDiskSpace); a != 1 || f != 1 {
		t.Fatalf("after ana fixed it: affected %d fixed_by_user %d", a, f)
	}
	if a, _, q, _, _ := checkSummary(t, tech, protocol.CheckPasswordExpiry); a != 1 || q != 1 {
		t.Fatalf("password: affected %d asked_it %d", a, q)
	}

	var dev struct {
		Checks []protocol.DeviceCheck `json:"checks"`
	}
	if st := tech.Do(t, http.MethodGet, "/api/v1/devices/"+bo.ID, nil, &dev); st != http.StatusOK || len(dev.Checks) != 2 {
		t.Fatalf("device page: status %d, items %+v", st, dev.Checks)
	}
	if c := dev.Checks[0]; c.Check != protocol.CheckPasswordExpiry || c.RequestID != "req_x" || c.Deadline.IsZero() {
		t.Fatalf("first item %+v: want the password check, in the order people see them", c)
	}
	var list struct {
		Devices []protocol.DeviceCheck `json:"devices"`
	}
	if st := tech.Do(t, http.MethodGet, "/api/v1/checks/disk_space/devices", nil, &list); st != http.StatusOK || len(list.Devices) != 1 || list.Devices[0].DeviceID != bo.ID {
		t.Fatalf("affected by disk: status %d %+v", st, list.Devices)
	}
	if st := tech.Do(t, http.MethodGet, "/api/v1/checks/disk_space/devices?state=fixed", nil, &list); st != http.StatusOK || len(list.Devices) != 1 || list.Devices[0].DeviceID != ana.ID {
		t.Fatalf("fixed disk: status %d %+v", st, list.Devices)
	}
	if st, _ := tech.DoRaw(t, http.MethodGet, "/api/v1/checks/Not-A-Check/devices", "", nil); st != http.StatusNotFound {
		t.Fatalf("unknown check: status %d", st)
	}
}

// A bad report is refused with an error frame naming it, and the link
// stays: the next good one is acked.
func TestBadCheckReportRefused(t *testing.T) {
	srv := servertest.New(t)
	d := srv.Enroll(t, "ana-laptop")
	connectChecks(t, d, 0)
	id := d.Send(t, protocol.KindCheckReport, protocol.CheckReport{Check: "Disk Space!", State: protocol.CheckWarn})
	var e protocol.Error
	if err := d.WaitFor(t, protocol.KindError).Decode(&e); err != nil {
		t.Fatal(err)
	}
	if e.Code != protocol.ErrBadBody || e.Ref != id || !strings.Contains(e.Message, "is not a check name") {
		t.Fatalf("error %+v", e)
	}
	sendReport(t, d, protocol.CheckReport{Check: protocol.CheckDiskSpace, State: protocol.CheckOK, ObservedAt: time.Now()})
}

// The same report sent 40 times at once is stored once: one ack says new,
// 39 say duplicate, and the fleet counts it once.
func TestSameReportFortyTimesStoredOnce(t *testing.T) {
	sameReportFortyTimes(t, servertest.New(t, servertest.WithDeviceRate(1e9, 1e9)))
}

// The same on PostgreSQL, whose write transactions run side by side.
func TestSameReportFortyTimesStoredOnceOnPostgres(t *testing.T) {
	sameReportFortyTimes(t, servertest.New(t, servertest.WithDeviceRate(1e9, 1e9), servertest.WithPostgres("")))
}

func sameReportFortyTimes(t *testing.T, srv *servertest.Server) {
	tech := srv.Tech(t)
	d := srv.Enroll(t, "ana-laptop")
	connectChecks(t, d, 0)
	env, err := protocol.New(protocol.KindCheckReport, protocol.CheckReport{Check: protocol.CheckRestartNeeded, State: protocol.CheckWarn,
		Summary: "Your computer has not restarted in 21 days.", ObservedAt: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex // one writer at a time on a WebSocket
	var wg sync.WaitGroup
	for range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			mu.Lock()
			defer mu.Unlock()
			d.SendEnvelope(t, env)
		}()
	}
	wg.Wait()
	fresh, dup := 0, 0
	for fresh+dup < 40 {
		var ack protocol.Ack
		if err := d.WaitFor(t, protocol.KindAck).Decode(&ack); err != nil {
			t.Fatal(err)
		}
		if ack.ID != env.ID {
			continue
		}
		if ack.Duplicate {
			dup++
		} else {
			fresh++
		}
	}
	if fresh != 1 || dup != 39 {
		t.Fatalf("%d new and %d duplicate acks; want 1 and 39", fresh, dup)
	}
	if a, _, _, _, w := checkSummary(t, tech, protocol.CheckRestartNeeded); a != 1 || w != 1 {
		t.Fatalf("affected %d, warned today %d; want 1 and 1", a, w)
	}
}

func policyFrame(t *testing.T, env protocol.Envelope) protocol.ChecksPolicy {
	t.Helper()
	var p protocol.ChecksPolicy
	if err := env.Decode(&p); err != nil {
		t.Fatal(err)
	}
	if env.Seq == 0 {
		t.Fatal("checks.policy arrived without a seq")
	}
	return p
}

// A saved policy reaches a connected capable device at once as a sequenced
// frame; one that was offline gets it by replay; one whose agent did not
// run checks before gets it at its first hello that says it does; and an
// agent without checks gets nothing.
func TestPolicyReachesDevicesOnlineAndOffline(t *testing.T) {
	policyReaches(t, servertest.New(t))
}

// The same on PostgreSQL (one statement queues the policy to the group).
func TestPolicyReachesDevicesOnPostgres(t *testing.T) {
	policyReaches(t, servertest.New(t, servertest.WithPostgres("")))
}

func policyReaches(t *testing.T, srv *servertest.Server) {
	tech := srv.Tech(t)
	online, offline, upgraded, old := srv.Enroll(t, "online"), srv.Enroll(t, "offline"), srv.Enroll(t, "upgraded"), srv.Enroll(t, "old")
	connectChecks(t, online, 0)
	connectChecks(t, offline, 0)
	offline.Close()
	upgraded.Connect(t, 0) // an agent before checks
	upgraded.Close()
	old.Connect(t, 0)

	p := protocol.DefaultChecksPolicy()
	p.Checks[0].PasswordDays, p.Checks[0].FixURL = 10, "https://id.example.com/password"
	p.Checks[0].Text = "Your password expires in {days} days."
	var put struct {
		Revision int64 `json:"revision"`
		Queued   int   `json:"queued"`
		SentLive int   `json:"sent_live"`
	}
	if st := tech.Do(t, http.MethodPut, "/api/v1/checks/policy?group=default", map[string]any{"checks": p.Checks}, &put); st != http.StatusOK {
		t.Fatalf("put policy: status %d", st)
	}
	if put.Revision != 1 || put.Queued != 2 || put.SentLive != 1 {
		t.Fatalf("put answered %+v; want revision 1 queued to 2 (online, offline), 1 live", put)
	}
	env := online.WaitFor(t, protocol.KindChecksPolicy)
	got := policyFrame(t, env)
	if got.Revision != 1 || got.Group != "default" || got.Checks[0].FixURL != p.Checks[0].FixURL {
		t.Fatalf("online device got %+v", got)
	}

	w := connectChecks(t, offline, 0)
	if w.ReplayTo == 0 {
		t.Fatalf("offline device: welcome %+v replays nothing", w)
	}
	if again := policyFrame(t, offline.WaitFor(t, protocol.KindChecksPolicy)); again.Revision != 1 {
		t.Fatalf("replayed policy %+v", again)
	}
	connectChecks(t, upgraded, 0)
	if up := policyFrame(t, upgraded.WaitFor(t, protocol.KindChecksPolicy)); up.Revision != 1 || up.Checks[0].PasswordDays != 10 {
		t.Fatalf("upgraded agent got %+v", up)
	}
	// The old agent: a probe frame's ack comes with no policy before it.
	id := old.Send(t, protocol.KindDeliveryCursor, protocol.DeliveryCursor{})
	for {
		env := old.Next(t)
		if env.Type == protocol.KindChecksPolicy {
			t.Fatal("an agent without the checks capability got checks.policy")
		}
		var ack protocol.Ack
		if env.Type == protocol.KindAck && env.Decode(&ack) == nil && ack.ID == id {
			break
		}
	}

	var view struct {
		Revision  int64                  `json:"revision"`
		Inherited bool                   `json:"inherited"`
		UpdatedBy string                 `json:"updated_by"`
		Checks    []protocol.CheckPolicy `json:"checks"`
	}
	if st := tech.Do(t, http.MethodGet, "/api/v1/checks/policy?group=default", nil, &view); st != http.StatusOK || view.Revision != 1 || view.Inherited || view.UpdatedBy != servertest.AdminEmail {
		t.Fatalf("get policy: status %d %+v", st, view)
	}
	if st := tech.Do(t, http.MethodGet, "/api/v1/checks/policy?group=sales", nil, &view); st != http.StatusOK || view.Revision != 0 || !view.Inherited || len(view.Checks) != len(protocol.CheckKinds) {
		t.Fatalf("a group without a policy: status %d %+v; want the built-in one", st, view)
	}
	st, body := tech.DoRaw(t, http.MethodGet, "/api/v1/audit", "", nil)
	if st != http.StatusOK || !bytes.Contains(body, []byte(`"checks.policy"`)) || !bytes.Contains(body, []byte("revision=1")) {
		t.Fatalf("audit: status %d %s", st, body)
	}
}

// A policy the server should not store is refused with a message that
// says which item and why; nothing is stored.
func TestBadPolicyRefused(t *testing.T) {
	srv := servertest.New(t)
	tech := srv.Tech(t)
	for _, tc := range []struct {
		name string
		body string
		want string
	}{
		{"unknown kind", `{"checks":[{"kind":"coffee_level","enabled":true}]}`, `"coffee_level" is not a check Deskside knows`},
		{"absurd threshold", `{"checks":[{"kind":"disk_space","enabled":true,"disk_free_pct":150}]}`, "disk_free_pct 150 is not between 0 and 90"},
		{"plain http", `{"checks":[{"kind":"password_expiry","enabled":true,"fix_url":"http://id.example.com"}]}`, "must start with https://"},
		{"twice", `{"checks":[{"kind":"os_updates","enabled":true},{"kind":"os_updates","enabled":false}]}`, "os_updates appears twice"},
		{"no list", `{}`, `needs a "checks" list`},
		{"unknown field", `{"checks":[],"colour":"red"}`, "colour"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, body := tech.DoRaw(t, http.MethodPut, "/api/v1/checks/policy", "application/json", strings.NewReader(tc.body))
			var e struct{ Error, Message string }
			_ = json.Unmarshal(body, &e)
			if st != http.StatusBadRequest || !strings.Contains(e.Message, tc.want) {
				t.Fatalf("status %d %s; want 400 saying %q", st, body, tc.want)
			}
		})
	}
	var view struct {
		Revision int64 `json:"revision"`
	}
	if st := tech.Do(t, http.MethodGet, "/api/v1/checks/policy", nil, &view); st != http.StatusOK || view.Revision != 0 {
		t.Fatalf("after refusals: status %d revision %d; want nothing stored", st, view.Revision)
	}
}
