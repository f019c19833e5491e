package update

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"aead.dev/minisign"

	"github.com/deskside/deskside/shared/protocol"
)

func TestGoodUpdateAppliesRestartsAndCommits(t *testing.T) {
	h := newHarness(t, "1.0.0")
	offer := h.publish("rel_good", fakeAgent(t, "1.1.0"), pub{ver: "1.1.0"})
	body, _ := json.Marshal(offer)
	h.put("/api/v1/releases/offer", body)

	u := h.updater("1.0.0")
	if err := u.Check(context.Background()); err != nil {
		t.Fatalf("check: %v", err)
	}
	if got := recv(t, h.restarts, "restart"); got != "deskside-agent 1.1.0" {
		t.Fatalf("restarted into %q", got)
	}
	if got := h.installed(); got != "deskside-agent 1.1.0" {
		t.Fatalf("installed binary prints %q", got)
	}
	old, err := os.ReadFile(oldBinaryPath(h.exe))
	if err != nil || !bytes.Equal(old, h.orig) {
		t.Fatalf("old binary not kept byte for byte (err %v)", err)
	}
	if a := recv(t, h.auth, "request"); a != "Deskside-Device dev_1:secret" {
		t.Errorf("device credentials not sent: %q", a)
	}
	select {
	case r := <-h.reports:
		t.Fatalf("reported %+v before the new version ran", r)
	default:
	}

	// The new version starts, connects, and says so.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	u2 := h.updater("1.1.0")
	go u2.Run(ctx)
	u2.Healthy()
	r := recv(t, h.reports, "report")
	if r != (protocol.UpdateReport{FromVersion: "1.0.0", ToVersion: "1.1.0", OK: true}) {
		t.Fatalf("report %+v", r)
	}
	if n := recv(t, h.notes, "notification"); n != "Deskside updated itself to 1.1 — nothing for you to do." {
		t.Fatalf("told the user %q", n)
	}
	st, _ := u2.loadState()
	if st.Phase != phaseNone || st.Installed.IsZero() {
		t.Fatalf("state after commit %+v", st)
	}
}

func TestRefusedUpdatesLeaveTheBinaryAlone(t *testing.T) {
	_, otherPriv, _ := minisign.GenerateKey(nil)
	cases := []struct {
		name   string
		setup  func(h *harness) protocol.UpdateAvailable
		want   string
		report bool // a refusal on the merits is reported; a network failure is not
	}{
		{"tampered binary", func(h *harness) protocol.UpdateAvailable {
			o := h.publish("rel_t", fakeAgent(t, "1.1.0"), pub{ver: "1.1.0"})
			bad := bytes.Clone(fakeAgent(t, "1.1.0"))
			bad[len(bad)/2] ^= 0xff
			h.put(o.BinaryURL, bad)
			return o
		}, "sha256", true},
		{"signed by another key", func(h *harness) protocol.UpdateAvailable {
			return h.publish("rel_k", fakeAgent(t, "1.1.0"), pub{ver: "1.1.0", key: &otherPriv})
		}, "signature", true},
		{"truncated download", func(h *harness) protocol.UpdateAvailable {
			o := h.publish("rel_tr", fakeAgent(t, "1.1.0"), pub{ver: "1.1.0"})
			h.truncate[o.BinaryURL] = len(fakeAgent(t, "1.1.0")) / 3
			return o
		}, "download binary", false},
		{"oversized download", func(h *harness) protocol.UpdateAvailable {
			o := h.publish("rel_big", fakeAgent(t, "1.1.0"), pub{ver: "1.1.0"})
			h.put(o.BinaryURL, append(bytes.Clone(fakeAgent(t, "1.1.0")), make([]byte, 4096)...))
			return o
		}, "manifest says", false},
		{"older version", func(h *harness) protocol.UpdateAvailable {
			return h.publish("rel_old", fakeAgent(t, "0.9.0"), pub{ver: "0.9.0"})
		}, "not newer", false},
		{"same version", func(h *harness) protocol.UpdateAvailable {
			return h.publish("rel_same", h.orig, pub{ver: "1.0.0"})
		}, "not newer", false},
		{"another platform", func(h *harness) protocol.UpdateAvailable {
			return h.publish("rel_p", fakeAgent(t, "1.1.0"), pub{ver: "1.1.0", goos: "plan9", goarch: "arm"})
		}, "release is for plan9/arm", true},
		{"another platform's binary labelled as ours", func(h *harness) protocol.UpdateAvailable {
			pe := append([]byte("MZ\x90\x00\x03\x00\x00\x00PE\x00\x00d\x86"), make([]byte, 4096)...)
			return h.publish("rel_pe", pe, pub{ver: "1.1.0"})
		}, "smoke run", true},
		{"binary that lies about its version", func(h *harness) protocol.UpdateAvailable {
			return h.publish("rel_lie", fakeAgent(t, "1.1.0"), pub{ver: "1.2.0"})
		}, "smoke run", true},
		{"offer and manifest disagree", func(h *harness) protocol.UpdateAvailable {
			o := h.publish("rel_d", fakeAgent(t, "1.1.0"), pub{ver: "1.1.0"})
			o.Version = "1.1.1"
			return o
		}, "signed manifest says", true},
		{"beta release on a stable device", func(h *harness) protocol.UpdateAvailable {
			return h.publish("rel_b", fakeAgent(t, "1.1.0"), pub{ver: "1.1.0", channel: "beta"})
		}, "follows stable", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t, "1.0.0")
			offer := c.setup(h)
			err := h.updater("1.0.0").Offer(context.Background(), offer)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want it to mention %q", err, c.want)
			}
			h.untouched()
			if got := h.installed(); got != "deskside-agent 1.0.0" {
				t.Fatalf("installed binary prints %q", got)
			}
			select {
			case r := <-h.reports:
				if !c.report || r.OK || r.RolledBack {
					t.Fatalf("reported %+v", r)
				}
			default:
				if c.report {
					t.Fatal("refusal not reported")
				}
			}
			entries, _ := os.ReadDir(h.data + "/update/staged")
			if len(entries) != 0 {
				t.Fatalf("staged files left behind: %v", entries)
			}
		})
	}
}

func TestUnhealthyUpdateRollsBack(t *testing.T) {
	h := newHarness(t, "1.0.0")
	offer := h.publish("rel_bad", fakeAgent(t, "1.1.0"), pub{ver: "1.1.0"})
	if err := h.updater("1.0.0").Offer(context.Background(), offer); err != nil {
		t.Fatal(err)
	}
	recv(t, h.restarts, "restart into 1.1.0")

	// 1.1.0 starts but never connects.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go h.updater("1.1.0", func(c *Config) { c.Window = 200 * time.Millisecond }).Run(ctx)
	if got := recv(t, h.restarts, "restart after rollback"); got != "deskside-agent 1.0.0" {
		t.Fatalf("rolled back into %q", got)
	}
	got, _ := os.ReadFile(h.exe)
	if !bytes.Equal(got, h.orig) {
		t.Fatal("old binary not restored byte for byte")
	}

	// The restored 1.0.0 starts and reports the failure.
	go h.updater("1.0.0").Run(ctx)
	r := recv(t, h.reports, "report")
	if r.OK || !r.RolledBack || r.FromVersion != "1.0.0" || r.ToVersion != "1.1.0" || !strings.Contains(r.Detail, "healthy") {
		t.Fatalf("report %+v", r)
	}
	// Once the report is handed over, the state file forgets the rollback
	// (keeping the failed version): wait for that write.
	u := h.updater("1.0.0")
	deadline := time.Now().Add(20 * time.Second)
	for {
		st, err := u.loadState()
		if err == nil && st.Phase == phaseNone {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the rollback was never cleared from the state: %+v (%v)", st, err)
		}
		time.Sleep(5 * time.Millisecond)
	}
	// It does not try the failed version again.
	err := u.Offer(context.Background(), offer)
	if err == nil || !strings.Contains(err.Error(), "rolled back") {
		t.Fatalf("offered the failed version again: %v", err)
	}
}

func TestCrashLoopingUpdateRollsBack(t *testing.T) {
	h := newHarness(t, "1.0.0")
	offer := h.publish("rel_crash", fakeAgent(t, "1.1.0"), pub{ver: "1.1.0"})
	if err := h.updater("1.0.0").Offer(context.Background(), offer); err != nil {
		t.Fatal(err)
	}
	recv(t, h.restarts, "restart into 1.1.0")
	// Three starts that die inside the window…
	for i := 0; i < 3; i++ {
		ctx, cancel := context.WithCancel(context.Background())
		if err := h.updater("1.1.0").resume(ctx); err != nil {
			t.Fatal(err)
		}
		cancel()
	}
	// …and the fourth rolls back at once.
	if err := h.updater("1.1.0").resume(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := recv(t, h.restarts, "restart after rollback"); got != "deskside-agent 1.0.0" {
		t.Fatalf("rolled back into %q", got)
	}
}

func TestSignedRollbackMayGoBack(t *testing.T) {
	h := newHarness(t, "1.1.0")
	created := time.Now()
	offer := h.publish("rel_rb", fakeAgent(t, "1.0.0"), pub{ver: "1.0.0", rollback: true, created: created})
	u := h.updater("1.1.0")
	// A replayed rollback older than what is installed is refused.
	st, _ := u.loadState()
	st.Installed = created.Add(time.Hour)
	if err := u.saveState(st); err != nil {
		t.Fatal(err)
	}
	if err := u.Offer(context.Background(), offer); err == nil || !strings.Contains(err.Error(), "replay") {
		t.Fatalf("replayed rollback: %v", err)
	}
	h.untouched()
	<-h.reports
	st.Installed = created.Add(-time.Hour)
	if err := u.saveState(st); err != nil {
		t.Fatal(err)
	}
	if err := u.Offer(context.Background(), offer); err != nil {
		t.Fatal(err)
	}
	if got := recv(t, h.restarts, "restart"); got != "deskside-agent 1.0.0" {
		t.Fatalf("restarted into %q", got)
	}
}

func TestRestartWaitsUntilNotBusy(t *testing.T) {
	h := newHarness(t, "1.0.0")
	offer := h.publish("rel_busy", fakeAgent(t, "1.1.0"), pub{ver: "1.1.0"})
	var busy atomic.Bool
	busy.Store(true)
	asked := make(chan struct{}, 64) // one value per Busy call
	u := h.updater("1.0.0", func(c *Config) {
		c.Busy = func() bool {
			b := busy.Load()
			select {
			case asked <- struct{}{}:
			default:
			}
			return b
		}
	})
	done := make(chan error, 1)
	go func() { done <- u.Offer(context.Background(), offer) }()
	// The update is staged and the updater has found the user busy, twice:
	// it is waiting, not restarting.
	recv(t, asked, "a first Busy check")
	recv(t, asked, "a second Busy check")
	select {
	case v := <-h.restarts:
		t.Fatalf("restarted into %q while the user was busy", v)
	default:
	}
	busy.Store(false)
	recv(t, h.restarts, "restart")
	if err := recv(t, done, "offer result"); err != nil {
		t.Fatal(err)
	}
}

func TestNoOfferIsNotAnError(t *testing.T) {
	h := newHarness(t, "1.0.0")
	h.put("/api/v1/releases/offer", nil) // 204
	if err := h.updater("1.0.0").Check(context.Background()); err != nil {
		t.Fatal(err)
	}
	h.untouched()
}

func TestCredentialsStayWithTheServer(t *testing.T) {
	h := newHarness(t, "1.0.0")
	elsewhere := newHarness(t, "1.0.0")
	offer := elsewhere.publish("rel_x", fakeAgent(t, "1.1.0"), pub{ver: "1.1.0"})
	offer.ManifestURL = elsewhere.srv.URL + offer.ManifestURL
	offer.BinaryURL = elsewhere.srv.URL + offer.BinaryURL
	err := h.updater("1.0.0").Offer(context.Background(), offer)
	if err == nil || !errors.As(err, new(errVerify)) {
		t.Fatalf("a release signed by another publisher: %v", err)
	}
	if a := recv(t, elsewhere.auth, "request"); a != "" {
		t.Fatalf("device credentials sent to another host: %q", a)
	}
}

func TestNewRefusesBadConfig(t *testing.T) {
	for name, cfg := range map[string]Config{
		"no data dir":  {ServerURL: "https://x", PublicKeys: "RWQ"},
		"relative url": {ServerURL: "/x", DataDir: t.TempDir()},
		"no key":       {ServerURL: "https://x", DataDir: t.TempDir()},
	} {
		if _, err := New(cfg); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestHelpers(t *testing.T) {
	for i := 0; i < 1000; i++ {
		if d := jitter(time.Hour); d < 45*time.Minute || d > 75*time.Minute {
			t.Fatalf("jitter %v", d)
		}
	}
	if signatureURL("/api/v1/releases/r/manifest") != "/api/v1/releases/r/signature" || signatureURL("https://cdn/x.json") != "https://cdn/x.json.minisig" {
		t.Error("signatureURL")
	}
	if !printsVersion("deskside-agent v1.4.0 (linux)", "1.4.0") || printsVersion("1.4.01", "1.4.0") {
		t.Error("printsVersion")
	}
	if UpdatedMessage("1.4.0") != "Deskside updated itself to 1.4 — nothing for you to do." || displayVersion("1.4.2") != "1.4.2" {
		t.Error("message")
	}
}
