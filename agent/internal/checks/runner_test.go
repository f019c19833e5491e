package checks

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/deskside/deskside/shared/protocol"
)

type reports struct {
	mu  sync.Mutex
	got []protocol.CheckReport
}

func (r *reports) add(_ context.Context, c protocol.CheckReport) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := c.Validate(); err != nil {
		return err
	}
	r.got = append(r.got, c)
	return nil
}

func (r *reports) states(k protocol.CheckKind) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var s []string
	for _, c := range r.got {
		if c.Check == k {
			s = append(s, string(c.State))
		}
	}
	return s
}

type memState struct{ b []byte }

func (m *memState) Load(context.Context) ([]byte, error)   { return m.b, nil }
func (m *memState) Save(_ context.Context, b []byte) error { m.b = b; return nil }

// diskRunner runs only disk_space over a settable free space.
func diskRunner(t *testing.T, free *uint64) (*Runner, *reports, *[]Result, *clock) {
	env, _, clk := testEnv(t)
	env.Mounts = func(context.Context) ([]Mount, error) {
		return []Mount{{Path: "/home", TotalBytes: 100e9, FreeBytes: *free}}, nil
	}
	rep := &reports{}
	var notified []Result
	r := NewRunner(Config{Env: *env, Report: rep.add, Notify: func(res Result) { notified = append(notified, res) }})
	r.SetPolicy(protocol.ChecksPolicy{Revision: 3, Checks: []protocol.CheckPolicy{{Kind: protocol.CheckDiskSpace, Enabled: true}}})
	return r, rep, &notified, clk
}

func TestRunnerReportsOnlyOnChange(t *testing.T) {
	free := uint64(50e9)
	r, rep, notified, clk := diskRunner(t, &free)
	ctx := context.Background()
	r.Round(ctx)
	r.Flush(ctx)
	r.Round(ctx)
	r.Flush(ctx)
	if got := rep.states(protocol.CheckDiskSpace); strings.Join(got, ",") != "ok" {
		t.Fatalf("two ok rounds reported %v; want one ok", got)
	}
	free = 3.1e9
	res := r.Round(ctx)
	r.Flush(ctx)
	if res[0].State != protocol.CheckWarn || res[0].Summary != "Your disk is almost full: 3.1 GB left on /home (3% free)." {
		t.Fatalf("warn: %+v", res[0])
	}
	if len(*notified) != 1 {
		t.Fatalf("notified %d times; want once", len(*notified))
	}
	r.Round(ctx)
	r.Flush(ctx)
	if len(*notified) != 1 || len(rep.states(protocol.CheckDiskSpace)) != 2 {
		t.Fatalf("a second warn round notified or reported again: %d, %v", len(*notified), rep.states(protocol.CheckDiskSpace))
	}
	// Remind me later: snoozed now, back to warn (and notified) after
	// RemindHours.
	until, err := r.Snooze(ctx, protocol.CheckDiskSpace)
	if err != nil || !until.Equal(clk.Now().Add(24*time.Hour)) {
		t.Fatalf("snooze: %v %v", until, err)
	}
	clk.Add(23 * time.Hour)
	r.Round(ctx)
	r.Flush(ctx)
	clk.Add(2 * time.Hour)
	r.Round(ctx)
	r.Flush(ctx)
	if got := strings.Join(rep.states(protocol.CheckDiskSpace), ","); got != "ok,warn,snoozed,warn" {
		t.Fatalf("states %s", got)
	}
	if len(*notified) != 2 {
		t.Fatalf("notified %d times; want 2 (the warning came back)", len(*notified))
	}
	// Ask IT, then space comes back: asked_it then ok.
	if err := r.AskedIT(ctx, protocol.CheckDiskSpace, "req-1"); err != nil {
		t.Fatal(err)
	}
	free = 40e9
	r.Round(ctx)
	r.Flush(ctx)
	if got := strings.Join(rep.states(protocol.CheckDiskSpace), ","); got != "ok,warn,snoozed,warn,asked_it,ok" {
		t.Fatalf("states %s", got)
	}
	rep.mu.Lock()
	asked := rep.got[4]
	rep.mu.Unlock()
	if asked.RequestID != "req-1" || asked.Evidence["free_gb"] != "3.1" {
		t.Errorf("asked_it report %+v", asked)
	}
}

func TestRunnerRemembersWhatItReported(t *testing.T) {
	free := uint64(3e9)
	env, _, _ := testEnv(t)
	env.Mounts = func(context.Context) ([]Mount, error) {
		return []Mount{{Path: "/", TotalBytes: 100e9, FreeBytes: free}}, nil
	}
	st := &memState{}
	rep := &reports{}
	pol := protocol.ChecksPolicy{Checks: []protocol.CheckPolicy{{Kind: protocol.CheckDiskSpace, Enabled: true}}}
	r1 := NewRunner(Config{Env: *env, Report: rep.add, State: st})
	r1.SetPolicy(pol)
	r1.Round(context.Background())
	r1.Flush(context.Background())
	r2 := NewRunner(Config{Env: *env, Report: rep.add, State: st})
	r2.SetPolicy(pol)
	if err := r2.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	r2.Round(context.Background())
	r2.Flush(context.Background())
	if got := rep.states(protocol.CheckDiskSpace); len(got) != 1 {
		t.Fatalf("a restarted agent reported the same state again: %v", got)
	}
}

func TestPasswordDailyAndDeadline(t *testing.T) {
	env, cmd, clk := testEnv(t)
	cmd.set("chage -l ada", fixture(t, "chage-l.txt"), 0) // Dec 10
	var notified int
	r := NewRunner(Config{Env: *env, Notify: func(Result) { notified++ }})
	r.SetPolicy(protocol.ChecksPolicy{Checks: []protocol.CheckPolicy{{Kind: protocol.CheckPasswordExpiry, Enabled: true, RemindHours: 72,
		FixURL: "https://id.example.com/password"}}})
	ctx := context.Background()
	res := r.Round(ctx)
	if res[0].State != protocol.CheckWarn || res[0].Fix != FixOpenPasswordPage || notified != 1 {
		t.Fatalf("password: %+v, notified %d", res[0], notified)
	}
	// RemindHours 72, but a password warns every day.
	until, err := r.Snooze(ctx, protocol.CheckPasswordExpiry)
	if err != nil || !until.Equal(clk.Now().Add(24*time.Hour)) {
		t.Fatalf("snooze %v %v; want a day", until, err)
	}
	clk.Add(25 * time.Hour)
	r.Round(ctx)
	r.Round(ctx)
	if notified != 2 {
		t.Fatalf("notified %d; want 2 (once a day)", notified)
	}
	clk.Add(24 * time.Hour)
	r.Round(ctx)
	if notified != 3 {
		t.Fatalf("notified %d; want 3 (a day later, without a snooze)", notified)
	}
	// Hours before the deadline a snooze stops at the deadline.
	clk.t = time.Date(2026, 12, 9, 20, 0, 0, 0, time.Local)
	r.Round(ctx)
	until, err = r.Snooze(ctx, protocol.CheckPasswordExpiry)
	if err != nil || !until.Equal(time.Date(2026, 12, 10, 0, 0, 0, 0, time.Local)) {
		t.Fatalf("snooze near the deadline: %v %v", until, err)
	}
	clk.t = time.Date(2026, 12, 10, 8, 0, 0, 0, time.Local)
	r.Round(ctx)
	if _, err := r.Snooze(ctx, protocol.CheckPasswordExpiry); !errors.Is(err, ErrPastDeadline) {
		t.Fatalf("snooze past the deadline: %v", err)
	}
	plan, err := r.PlanFix(ctx, protocol.CheckPasswordExpiry)
	if err != nil || plan.Host != "id.example.com" {
		t.Fatalf("plan %+v %v", plan, err)
	}
}

func TestPolicyBadItemsSkipped(t *testing.T) {
	env, _, _ := testEnv(t)
	r := NewRunner(Config{Env: *env})
	use := r.SetPolicy(protocol.ChecksPolicy{Revision: 9, Checks: []protocol.CheckPolicy{
		{Kind: "quantum_flux", Enabled: true},
		{Kind: protocol.CheckDiskSpace, Enabled: true, DiskFreePct: 500},
		{Kind: protocol.CheckBatteryHealth, Enabled: true, HowToURL: "http://plain.example.com"},
		{Kind: protocol.CheckRestartNeeded, Enabled: true, UptimeDays: 3},
	}})
	if len(use) != 1 || use[0].Kind != protocol.CheckRestartNeeded || use[0].UptimeDays != 3 || use[0].RemindHours != 24 {
		t.Fatalf("usable %+v", use)
	}
	res := r.Round(context.Background())
	if len(res) != 1 || res[0].Kind != protocol.CheckRestartNeeded || res[0].State != protocol.CheckWarn {
		t.Fatalf("round %+v", res)
	}
}

func TestUpdatesWarnAfterDays(t *testing.T) {
	env, cmd, clk := testEnv(t)
	cmd.set("apt-get -s -o Debug::NoLocking=true upgrade", fixture(t, "apt-get-s-upgrade.txt"), 0)
	r := NewRunner(Config{Env: *env})
	r.SetPolicy(protocol.ChecksPolicy{Checks: []protocol.CheckPolicy{{Kind: protocol.CheckOSUpdates, Enabled: true, UpdatesDays: 7,
		Text: "{updates} updates have been waiting. Please install them."}}})
	ctx := context.Background()
	if res := r.Round(ctx); res[0].State != protocol.CheckOK {
		t.Fatalf("day 0: %+v", res[0])
	}
	clk.Add(7 * 24 * time.Hour)
	res := r.Round(ctx)
	if res[0].State != protocol.CheckWarn || res[0].Summary != "3 updates have been waiting. Please install them." || res[0].Fix != FixOpenUpdates {
		t.Fatalf("day 7: %+v", res[0])
	}
	op := &fakeOpener{}
	r.cfg.Opener = op
	if _, err := r.ApplyFix(ctx, protocol.CheckOSUpdates, ""); err != nil || strings.Join(op.opened, ",") != UpdateSettings {
		t.Fatalf("open updates: %v %v", op.opened, err)
	}
}

type fakeOpener struct{ opened []string }

func (o *fakeOpener) Open(_ context.Context, target string) error {
	o.opened = append(o.opened, target)
	return nil
}

// "Fix it for me" on the temp folders deletes what is inside them and
// nothing else: not a file a symlink points to, not a folder that is itself
// a symlink out.
func TestCleanTouchesOnlyItsFolders(t *testing.T) {
	home, outside := t.TempDir(), t.TempDir()
	keep := filepath.Join(outside, "thesis.docx")
	writeFile(t, keep, strings.Repeat("x", 5000))
	folders := CleanFolders("linux", home)
	cache, trash := folders[0], folders[1]
	writeFile(t, filepath.Join(cache, "browser", "blob1"), strings.Repeat("a", 3000))
	writeFile(t, filepath.Join(trash, "files", "old.iso"), strings.Repeat("b", 7000))
	if err := os.Symlink(keep, filepath.Join(cache, "link-to-thesis")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(cache, "link-to-dir")); err != nil {
		t.Fatal(err)
	}
	// A "folder" that is a symlink elsewhere is skipped entirely.
	if err := os.Symlink(outside, folders[2]); err != nil {
		t.Fatal(err)
	}
	c := MeasureCleanup(context.Background(), folders)
	if c.Bytes != 10000 || c.Files != 2 || len(c.Folders) != 2 {
		t.Fatalf("measure %+v", c)
	}
	if !strings.Contains(c.Describe(), "I can clear 0 MB") && !strings.Contains(c.Describe(), "I can clear") {
		t.Errorf("describe %q", c.Describe())
	}
	freed, err := Clean(context.Background(), folders)
	if err != nil || freed != 10000 {
		t.Fatalf("clean: %d %v", freed, err)
	}
	if b, err := os.ReadFile(keep); err != nil || len(b) != 5000 {
		t.Fatalf("the file outside was touched: %v", err)
	}
	if ents, _ := os.ReadDir(outside); len(ents) != 1 {
		t.Fatalf("the folder outside changed: %v", ents)
	}
	for _, f := range folders[:2] {
		if ents, err := os.ReadDir(f); err != nil || len(ents) != 0 {
			t.Errorf("%s: %v %v", f, ents, err)
		}
	}
}

type fakeTimer struct {
	d       time.Duration
	f       func()
	stopped bool
}

func (t *fakeTimer) Stop() bool { t.stopped = true; return true }

type countReboots struct{ n int }

func (c *countReboots) Reboot(context.Context) error { c.n++; return nil }

func TestRestarterCountdownCancelBusy(t *testing.T) {
	clk := newClock()
	reb := &countReboots{}
	busy := false
	var timers []*fakeTimer
	rs := &Restarter{Rebooter: reb, Now: clk.Now, Busy: func() bool { return busy },
		AfterFunc: func(d time.Duration, f func()) Timer {
			ft := &fakeTimer{d: d, f: f}
			timers = append(timers, ft)
			return ft
		}}
	rs.Schedule(clk.Now().Add(RestartNowDelay))
	if timers[0].d != RestartNowDelay || !rs.Planned().Equal(clk.Now().Add(RestartNowDelay)) {
		t.Fatalf("countdown %v", timers[0].d)
	}
	if !rs.Cancel() || !rs.Planned().IsZero() {
		t.Fatal("cancel")
	}
	timers[0].f() // a timer that fired as it was cancelled
	if reb.n != 0 {
		t.Fatal("a cancelled restart restarted")
	}
	rs.Schedule(Tonight(clk.Now()))
	if timers[1].d != 12*time.Hour {
		t.Fatalf("tonight at 10:00 is in %v; want 12h", timers[1].d)
	}
	busy = true
	timers[1].f()
	if reb.n != 0 || len(timers) != 3 || timers[2].d != BusyDelay {
		t.Fatalf("restarted while a request was being typed: %d reboots, %d timers", reb.n, len(timers))
	}
	busy = false
	timers[2].f()
	if reb.n != 1 || !rs.Planned().IsZero() {
		t.Fatalf("reboots %d", reb.n)
	}
	late := time.Date(2026, 12, 3, 21, 30, 0, 0, time.Local)
	if got := Tonight(late); !got.Equal(late.Add(time.Hour)) {
		t.Errorf("tonight at 21:30 = %v", got)
	}
}

func TestResultJSONAndReportValid(t *testing.T) {
	free := uint64(1e9)
	r, _, _, _ := diskRunner(t, &free)
	res := r.Round(context.Background())
	rep := res[0].Report()
	if err := rep.Validate(); err != nil {
		t.Fatal(err)
	}
	if _, err := json.Marshal(res); err != nil {
		t.Fatal(err)
	}
}
