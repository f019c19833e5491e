package store

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/deskside/deskside/shared/protocol"
)

// enrollGroups enrols devices into groups (device id → group).
func enrollGroups(t *testing.T, s Store, devs map[string]string) {
	t.Helper()
	ctx := context.Background()
	tokens := map[string]bool{}
	for id, grp := range devs {
		hash := []byte("h-" + grp)
		if !tokens[grp] {
			if err := s.CreateToken(ctx, EnrollToken{ID: "tok-" + grp, Group: grp, CreatedAt: time.Now()}, hash); err != nil {
				t.Fatal(err)
			}
			tokens[grp] = true
		}
		if _, err := s.Enroll(ctx, hash, Device{ID: id, SecretHash: []byte(id), Hostname: id + "-host", User: id, OS: "linux"}, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
}

func policyWith(days int) protocol.ChecksPolicy {
	p := protocol.DefaultChecksPolicy()
	p.Checks[0].PasswordDays = days
	return p
}

func policyOf(t *testing.T, d Delivery) protocol.ChecksPolicy {
	t.Helper()
	env, err := protocol.Parse(d.Bytes())
	if err != nil || env.Type != protocol.KindChecksPolicy || env.Seq != d.Seq {
		t.Fatalf("frame for %s: %+v %v", d.DeviceID, env, err)
	}
	var p protocol.ChecksPolicy
	if err := env.Decode(&p); err != nil {
		t.Fatal(err)
	}
	return p
}

// A group without a policy follows the default group's, then the built-in
// one; revisions come from one counter, so they only go up across groups.
// Saving a policy queues it once to every capable device of the group (and
// only them), byte for byte the same live and by replay; a device that says
// it runs checks at hello gets the newest revision it was not sent.
func testChecksPolicy(t *testing.T, s Store) {
	ctx := context.Background()
	now := time.Now()
	enrollGroups(t, s, map[string]string{"s1": "sales", "s2": "sales", "e1": "eng", "d1": "", "old": "sales"})
	p, err := s.ChecksPolicy(ctx, "sales")
	if err != nil || p.Revision != 0 || !p.Inherited || len(p.Policy.Checks) != len(protocol.CheckKinds) {
		t.Fatalf("built-in policy: %+v %v", p, err)
	}
	// Nobody said "checks" yet: nothing is queued.
	def, ds, err := s.PutChecksPolicy(ctx, "", policyWith(20), "admin@x", "env-1", now)
	if err != nil || def.Revision != 1 || len(ds) != 0 {
		t.Fatalf("default policy: rev %d, %d deliveries, %v", def.Revision, len(ds), err)
	}
	if p, err := s.ChecksPolicy(ctx, "sales"); err != nil || p.Revision != 1 || !p.Inherited || p.Policy.Checks[0].PasswordDays != 20 {
		t.Fatalf("sales follows the default: %+v %v", p, err)
	}
	for _, id := range []string{"s1", "s2", "e1", "d1"} {
		d, err := s.ChecksOnHello(ctx, id, true)
		if err != nil || d == nil || policyOf(t, *d).Revision != 1 {
			t.Fatalf("hello of %s: %+v %v", id, d, err)
		}
		if d, err := s.ChecksOnHello(ctx, id, true); err != nil || d != nil {
			t.Fatalf("second hello of %s queued again: %+v %v", id, d, err)
		}
	}
	if d, err := s.ChecksOnHello(ctx, "old", false); err != nil || d != nil {
		t.Fatalf("an agent without checks got a policy: %+v %v", d, err)
	}
	sales, ds, err := s.PutChecksPolicy(ctx, "sales", policyWith(5), "admin@x", "env-2", now)
	if err != nil || sales.Revision != 2 || sales.Inherited {
		t.Fatalf("sales policy: %+v %v", sales, err)
	}
	got := map[string]Delivery{}
	for _, d := range ds {
		got[d.DeviceID] = d
	}
	if len(ds) != 2 || got["s1"].Seq != 2 || got["s2"].Seq != 2 {
		t.Fatalf("sales deliveries %+v; want s1 and s2 at seq 2 (not the old agent)", ds)
	}
	for id, d := range got {
		pol := policyOf(t, d)
		if pol.Revision != 2 || pol.Group != "sales" || pol.Checks[0].PasswordDays != 5 {
			t.Fatalf("policy for %s: %+v", id, pol)
		}
		rep, err := s.Replay(ctx, id, 1)
		if err != nil || len(rep) != 1 || !bytes.Equal(rep[0].Frame, d.Bytes()) {
			t.Fatalf("replay for %s: %+v %v; want the live frame %s", id, rep, err, d.Bytes())
		}
	}
	// The default group's change reaches eng and "" but not sales, which
	// has its own now.
	_, ds, err = s.PutChecksPolicy(ctx, "", policyWith(30), "admin@x", "env-3", now)
	if err != nil || len(ds) != 2 {
		t.Fatalf("default again: %+v %v", ds, err)
	}
	for _, d := range ds {
		if d.DeviceID != "e1" && d.DeviceID != "d1" {
			t.Fatalf("default policy went to %s", d.DeviceID)
		}
	}
	// The old agent upgrades: at its next hello it gets sales' policy.
	d, err := s.ChecksOnHello(ctx, "old", true)
	if err != nil || d == nil || policyOf(t, *d).Revision != 2 || d.Seq != 1 {
		t.Fatalf("upgraded agent at hello: %+v %v", d, err)
	}
	rep, err := s.Replay(ctx, "old", 0)
	if err != nil || len(rep) != 1 || !bytes.Equal(rep[0].Frame, d.Bytes()) {
		t.Fatalf("replay for the upgraded agent: %+v %v", rep, err)
	}
	if _, err := s.ChecksOnHello(ctx, "nobody", true); err == nil {
		t.Fatal("hello of an unknown device: no error")
	}
}

func report(check protocol.CheckKind, state protocol.CheckState, at time.Time) protocol.CheckReport {
	return protocol.CheckReport{Check: check, State: state, Summary: "3.1 GB left on /home", ObservedAt: at,
		Evidence: map[string]string{"free_gb": "3.1"}}
}

// A report is stored once per frame id; the current state is the latest
// observed one; history keeps state changes only; the summary counts
// current states (revoked devices left out) and the trend per day.
func testCheckReports(t *testing.T, s Store) {
	ctx := context.Background()
	enrollGroups(t, s, map[string]string{"a": "", "b": "", "c": "", "gone": ""})
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	yesterday := now.Add(-24 * time.Hour)
	must := func(frame, dev string, r protocol.CheckReport) Result {
		t.Helper()
		res, dc, err := s.ReportCheck(ctx, frame, dev, r, now)
		if err != nil {
			t.Fatal(err)
		}
		if dc.Report.State != r.State || dc.DeviceID != dev {
			t.Fatalf("returned %+v", dc)
		}
		return res
	}
	must("f1", "a", report(protocol.CheckDiskSpace, protocol.CheckWarn, yesterday))
	if res := must("f1", "a", report(protocol.CheckDiskSpace, protocol.CheckWarn, yesterday)); !res.Duplicate {
		t.Fatal("a repeated frame id was not a duplicate")
	}
	must("f2", "a", report(protocol.CheckDiskSpace, protocol.CheckWarn, yesterday.Add(time.Hour))) // same state: no history row
	must("f3", "a", report(protocol.CheckDiskSpace, protocol.CheckFixed, now))
	must("f4", "a", report(protocol.CheckDiskSpace, protocol.CheckWarn, yesterday)) // late: ignored
	must("f1", "b", report(protocol.CheckDiskSpace, protocol.CheckWarn, now))
	r := report(protocol.CheckPasswordExpiry, protocol.CheckAskedIT, now)
	r.RequestID, r.Deadline = "req_1", now.Add(72*time.Hour)
	must("f2", "b", r)
	must("f1", "c", report(protocol.CheckDiskSpace, protocol.CheckSnoozed, now))
	must("f1", "gone", report(protocol.CheckDiskSpace, protocol.CheckWarn, now))
	must("f2", "c", report("future_check", protocol.CheckWarn, now)) // a newer agent's check
	if err := s.RevokeDevice(ctx, "gone"); err != nil {
		t.Fatal(err)
	}

	items, err := s.DeviceChecks(ctx, "b")
	if err != nil || len(items) != 2 || items[0].Report.Check != protocol.CheckPasswordExpiry {
		t.Fatalf("items of b: %+v %v", items, err)
	}
	got := items[0].Report
	if got.RequestID != "req_1" || !got.Deadline.Equal(r.Deadline.Truncate(time.Millisecond)) || got.Evidence["free_gb"] != "3.1" || got.Summary != r.Summary {
		t.Fatalf("stored report %+v, want %+v", got, r)
	}
	if items, err := s.DeviceChecks(ctx, "a"); err != nil || len(items) != 1 || items[0].Report.State != protocol.CheckFixed {
		t.Fatalf("a's disk: %+v %v (a late report must not win)", items, err)
	}

	sum, err := s.ChecksSummary(ctx, now)
	if err != nil {
		t.Fatal(err)
	}
	by := map[protocol.CheckKind]CheckSummary{}
	for _, c := range sum {
		by[c.Check] = c
		if len(c.Trend) != TrendDays || c.Trend[TrendDays-1].Day != "2026-12-03" {
			t.Fatalf("trend of %s: %d days ending %s", c.Check, len(c.Trend), c.Trend[len(c.Trend)-1].Day)
		}
	}
	if len(sum) != len(protocol.CheckKinds)+1 || sum[len(sum)-1].Check != "future_check" {
		t.Fatalf("summary lists %d checks; want every known one then future_check", len(sum))
	}
	disk := by[protocol.CheckDiskSpace]
	if disk.Affected != 2 || disk.Warning != 1 || disk.Snoozed != 1 || disk.FixedByUser != 1 || disk.AskedIT != 0 {
		t.Fatalf("disk summary %+v; want b warning, c snoozed, a fixed (gone is revoked)", disk)
	}
	if pw := by[protocol.CheckPasswordExpiry]; pw.Affected != 1 || pw.AskedIT != 1 {
		t.Fatalf("password summary %+v", pw)
	}
	// Trend: a warned yesterday (once, though reported twice); today a
	// fixed, b and gone warned, c snoozed (history keeps revoked devices'
	// past).
	y, d := disk.Trend[TrendDays-2], disk.Trend[TrendDays-1]
	if y.Warned != 1 || d.Warned != 2 || d.Fixed != 1 || d.Snoozed != 1 {
		t.Fatalf("disk trend yesterday %+v today %+v", y, d)
	}

	list, err := s.CheckDevices(ctx, protocol.CheckDiskSpace, AffectedStates(), 0)
	if err != nil || len(list) != 2 {
		t.Fatalf("affected by disk: %+v %v", list, err)
	}
	for _, c := range list {
		if c.Hostname != c.DeviceID+"-host" || (c.DeviceID != "b" && c.DeviceID != "c") {
			t.Fatalf("affected device %+v", c)
		}
	}
	if list, err := s.CheckDevices(ctx, protocol.CheckDiskSpace, []protocol.CheckState{protocol.CheckFixed}, 0); err != nil || len(list) != 1 || list[0].DeviceID != "a" {
		t.Fatalf("fixed disk: %+v %v", list, err)
	}

	if n, err := s.PruneCheckHistory(ctx, now.Add(-time.Hour)); err != nil || n != 1 {
		t.Fatalf("prune: %d %v; want yesterday's one change gone", n, err)
	}
	// A batch (group commit): in order, a repeated frame id inside it is a
	// duplicate, and a device's later report wins.
	later := now.Add(time.Minute)
	out, err := s.ReportChecks(ctx, []CheckItem{
		{FrameID: "g1", DeviceID: "c", Report: report(protocol.CheckOSUpdates, protocol.CheckWarn, later)},
		{FrameID: "g1", DeviceID: "c", Report: report(protocol.CheckOSUpdates, protocol.CheckWarn, later)},
		{FrameID: "g2", DeviceID: "c", Report: report(protocol.CheckOSUpdates, protocol.CheckFixed, later.Add(time.Second))},
		{FrameID: "g1", DeviceID: "b", Report: report(protocol.CheckOSUpdates, protocol.CheckSnoozed, later)},
	}, now)
	if err != nil || len(out) != 4 || out[0].Result.Duplicate || !out[1].Result.Duplicate || out[2].Result.Duplicate || out[3].Result.Duplicate {
		t.Fatalf("batch: %+v %v", out, err)
	}
	if list, err := s.CheckDevices(ctx, protocol.CheckOSUpdates, nil, 0); err != nil || len(list) != 2 {
		t.Fatalf("os updates after the batch: %+v %v", list, err)
	} else {
		for _, c := range list {
			if want := map[string]protocol.CheckState{"c": protocol.CheckFixed, "b": protocol.CheckSnoozed}[c.DeviceID]; c.Report.State != want {
				t.Fatalf("%s's os updates %s, want %s", c.DeviceID, c.Report.State, want)
			}
		}
	}
}
