package release

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"aead.dev/minisign"
	_ "modernc.org/sqlite"

	"github.com/deskside/deskside/server/internal/store"
	"github.com/deskside/deskside/server/internal/store/pgtest"
	"github.com/deskside/deskside/shared/protocol"
	srel "github.com/deskside/deskside/shared/release"
)

type fixture struct {
	t    *testing.T
	svc  *Service
	srv  *httptest.Server
	priv minisign.PrivateKey
	dir  string
	now  time.Time

	mu   sync.Mutex
	sent map[string]protocol.UpdateAvailable
	conn []Device
}

// onBoth runs a test on SQLite and on PostgreSQL (skipped when no
// PostgreSQL server is reachable and $CI is not "true").
func onBoth(t *testing.T, test func(t *testing.T, f *fixture)) {
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) { test(t, newFixture(t, backend)) })
	}
}

func newFixture(t *testing.T, backend string) *fixture {
	t.Helper()
	dir := t.TempDir()
	var db *sql.DB
	var rebind func(string) string
	var err error
	if backend == "postgres" {
		// As in production: the release tables live in the store's database.
		st, err := store.OpenPostgres(context.Background(), pgtest.URL(t))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		db, rebind = st.DB(), st.Rebind
	} else {
		db, err = sql.Open("sqlite", "file:"+filepath.Join(dir, "test.db")+"?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_pragma=synchronous(OFF)")
		if err != nil {
			t.Fatal(err)
		}
		db.SetMaxOpenConns(1)
		t.Cleanup(func() { db.Close() })
	}
	pub, priv, _ := minisign.GenerateKey(nil)
	f := &fixture{t: t, priv: priv, dir: filepath.Join(dir, "blobs"), now: time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC), sent: map[string]protocol.UpdateAvailable{}}
	f.svc, err = New(context.Background(), Config{
		DB: db, Rebind: rebind, Dir: f.dir, PublisherKeys: pub.String(),
		Device: func(r *http.Request) (string, bool) {
			id := r.Header.Get("X-Test-Device")
			return id, id != ""
		},
		Staff: func(r *http.Request) (string, bool, bool) {
			role := r.Header.Get("X-Test-Staff")
			return "tech_" + role, role == "admin", role != ""
		},
		Connected: func() []Device {
			f.mu.Lock()
			defer f.mu.Unlock()
			return append([]Device(nil), f.conn...)
		},
		Send: func(_ context.Context, id string, o protocol.UpdateAvailable) error {
			f.mu.Lock()
			defer f.mu.Unlock()
			f.sent[id] = o
			return nil
		},
		Now: func() time.Time {
			f.mu.Lock()
			defer f.mu.Unlock()
			f.now = f.now.Add(time.Second)
			return f.now
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/api/v1/releases", f.svc.Handler())
	mux.Handle("/api/v1/releases/", f.svc.Handler())
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

type build struct {
	ver, goos, goarch string
	channel           srel.Channel
	rollback          bool
}

func (f *fixture) sign(b build, bin []byte, key minisign.PrivateKey) (man, sig []byte) {
	f.t.Helper()
	if b.goos == "" {
		b.goos, b.goarch = "linux", "amd64"
	}
	if b.channel == "" {
		b.channel = srel.ChannelStable
	}
	m, err := srel.NewManifest(bytes.NewReader(bin), b.ver, b.goos, b.goarch, b.channel, b.rollback, f.now)
	if err != nil {
		f.t.Fatal(err)
	}
	man, sig, err = srel.Sign(key, m)
	if err != nil {
		f.t.Fatal(err)
	}
	return man, sig
}

func (f *fixture) do(method, path, who string, body io.Reader, ctype string) *http.Response {
	f.t.Helper()
	req, _ := http.NewRequest(method, f.srv.URL+path, body)
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if kind, id, ok := strings.Cut(who, ":"); ok && kind == "device" {
		req.Header.Set("X-Test-Device", id)
	} else if who != "" {
		req.Header.Set("X-Test-Staff", who)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func (f *fixture) upload(who string, man, sig, bin []byte) *http.Response {
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for _, p := range []struct {
		name string
		b    []byte
	}{{"manifest", man}, {"signature", sig}, {"binary", bin}} {
		w, _ := mw.CreateFormFile(p.name, p.name)
		w.Write(p.b)
	}
	mw.Close()
	return f.do("POST", "/api/v1/releases", who, &body, mw.FormDataContentType())
}

// publish uploads a release as admin and sets its percentage.
func (f *fixture) publish(b build, percent int) Release {
	f.t.Helper()
	bin := []byte("agent " + b.ver + " " + b.goos + fmt.Sprint(b.rollback))
	man, sig := f.sign(b, bin, f.priv)
	resp := f.upload("admin", man, sig, bin)
	if resp.StatusCode != http.StatusCreated {
		msg, _ := io.ReadAll(resp.Body)
		f.t.Fatalf("upload %s: %s %s", b.ver, resp.Status, msg)
	}
	var rel Release
	json.NewDecoder(resp.Body).Decode(&rel)
	if percent != 0 {
		rel = f.patch(rel.ID, fmt.Sprintf(`{"percent":%d}`, percent))
	}
	return rel
}

func (f *fixture) patch(id, body string) Release {
	f.t.Helper()
	resp := f.do("PATCH", "/api/v1/releases/"+id, "admin", strings.NewReader(body), "application/json")
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(resp.Body)
		f.t.Fatalf("patch %s %s: %s %s", id, body, resp.Status, msg)
	}
	var rel Release
	json.NewDecoder(resp.Body).Decode(&rel)
	return rel
}

func (f *fixture) offered(ids []string, d Device) map[string]string {
	f.t.Helper()
	got := map[string]string{}
	for _, id := range ids {
		d.ID = id
		o, err := f.svc.Offer(context.Background(), d)
		if err != nil {
			f.t.Fatal(err)
		}
		if o != nil {
			got[id] = o.Version
		}
	}
	return got
}

// chosen is offered without the per-device write: the stored releases through
// the same choose the service uses. Offer itself is checked on a slice of
// the fleet (SQLite under -race costs milliseconds a write).
func (f *fixture) chosen(ids []string, d Device) map[string]string {
	f.t.Helper()
	rels, err := f.svc.all(context.Background())
	if err != nil {
		f.t.Fatal(err)
	}
	got := map[string]string{}
	for _, id := range ids {
		d.ID = id
		if r := choose(d, rels); r != nil {
			got[id] = r.Version
		}
	}
	if sub := ids[:min(len(ids), 60)]; fmt.Sprint(f.offered(sub, d)) != fmt.Sprint(pick(got, sub)) {
		f.t.Fatalf("Offer and choose disagree on %v", sub)
	}
	return got
}

func pick(m map[string]string, ids []string) map[string]string {
	out := map[string]string{}
	for _, id := range ids {
		if v, ok := m[id]; ok {
			out[id] = v
		}
	}
	return out
}

func fleet(n int) []string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("dev_%05d", i)
	}
	return ids
}

var linux100 = Device{OS: "linux", Arch: "amd64", Channel: srel.ChannelStable, Version: "1.0.0"}

func TestUploadChecksAndServes(t *testing.T) { onBoth(t, testUploadChecksAndServes) }

func testUploadChecksAndServes(t *testing.T, f *fixture) {
	bin := []byte("the agent binary")
	man, sig := f.sign(build{ver: "1.1.0"}, bin, f.priv)
	_, stranger, _ := minisign.GenerateKey(nil)
	sMan, sSig := f.sign(build{ver: "1.1.0"}, bin, stranger)

	for name, c := range map[string]struct {
		who           string
		man, sig, bin []byte
		want          int
	}{
		"technician":     {"tech", man, sig, bin, http.StatusForbidden},
		"nobody":         {"", man, sig, bin, http.StatusUnauthorized},
		"device":         {"device:dev_1", man, sig, bin, http.StatusUnauthorized},
		"other key":      {"admin", sMan, sSig, bin, http.StatusUnprocessableEntity},
		"tampered":       {"admin", man, sig, []byte("the agent binarY"), http.StatusUnprocessableEntity},
		"truncated":      {"admin", man, sig, bin[:5], http.StatusUnprocessableEntity},
		"swapped parts":  {"admin", sig, man, bin, http.StatusUnprocessableEntity},
		"edited version": {"admin", bytes.Replace(man, []byte("1.1.0"), []byte("1.1.1"), 1), sig, bin, http.StatusUnprocessableEntity},
	} {
		if resp := f.upload(c.who, c.man, c.sig, c.bin); resp.StatusCode != c.want {
			msg, _ := io.ReadAll(resp.Body)
			t.Errorf("%s: %s %s, want %d", name, resp.Status, msg, c.want)
		}
	}
	if entries, _ := os.ReadDir(f.dir); len(entries) != 0 {
		t.Fatalf("refused uploads left files: %v", entries)
	}

	resp := f.upload("admin", man, sig, bin)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("upload: %s", resp.Status)
	}
	var rel Release
	json.NewDecoder(resp.Body).Decode(&rel)
	if rel.ID != srel.ID(man) || rel.Percent != 0 || rel.Paused || rel.Version != "1.1.0" {
		t.Fatalf("stored %+v", rel)
	}
	if resp := f.upload("admin", man, sig, bin); resp.StatusCode != http.StatusConflict {
		t.Errorf("second upload: %s", resp.Status)
	}
	for file, want := range map[string][]byte{"manifest": man, "signature": sig, "binary": bin} {
		resp := f.do("GET", "/api/v1/releases/"+rel.ID+"/"+file, "device:dev_1", nil, "")
		got, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 || !bytes.Equal(got, want) {
			t.Errorf("GET %s: %s %q", file, resp.Status, got)
		}
		if resp := f.do("GET", "/api/v1/releases/"+rel.ID+"/"+file, "", nil, ""); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("GET %s without credentials: %s", file, resp.Status)
		}
	}
	if resp := f.do("GET", "/api/v1/releases/rel_nope/binary", "device:dev_1", nil, ""); resp.StatusCode != 404 {
		t.Errorf("unknown release: %s", resp.Status)
	}
}

func TestRolloutPercentPauseAndResume(t *testing.T) { onBoth(t, testRolloutPercentPauseAndResume) }

func testRolloutPercentPauseAndResume(t *testing.T, f *fixture) {
	ids := fleet(1000)
	rel := f.publish(build{ver: "1.1.0"}, 0)
	if got := f.chosen(ids, linux100); len(got) != 0 {
		t.Fatalf("0%% offered to %d devices", len(got))
	}
	f.patch(rel.ID, `{"percent":10}`)
	ten := f.chosen(ids, linux100)
	if n := len(ten); n < 70 || n > 130 {
		t.Fatalf("10%% offered to %d of 1000", n)
	}
	if again := f.chosen(ids, linux100); fmt.Sprint(again) != fmt.Sprint(ten) {
		t.Fatal("10% offered to other devices the second time")
	}
	for id := range ten {
		if !srel.InRollout(id, rel.ID, 10) {
			t.Fatalf("%s offered but not in the rollout", id)
		}
	}

	f.patch(rel.ID, `{"paused":true}`)
	if got := f.chosen(ids, linux100); len(got) != 0 {
		t.Fatalf("paused release offered to %d devices", len(got))
	}
	f.patch(rel.ID, `{"paused":false}`)
	if got := f.chosen(ids, linux100); fmt.Sprint(got) != fmt.Sprint(ten) {
		t.Fatal("resume did not bring back the same devices")
	}
	f.patch(rel.ID, `{"percent":100}`)
	if got := f.chosen(ids, linux100); len(got) != 1000 {
		t.Fatalf("100%% offered to %d", len(got))
	}

	// Never a downgrade, never another platform, never a beta on stable.
	for name, d := range map[string]Device{
		"same version":  {OS: "linux", Arch: "amd64", Channel: "stable", Version: "1.1.0"},
		"newer version": {OS: "linux", Arch: "amd64", Channel: "stable", Version: "1.2.0"},
		"windows":       {OS: "windows", Arch: "amd64", Channel: "stable", Version: "1.0.0"},
		"arm64":         {OS: "linux", Arch: "arm64", Channel: "stable", Version: "1.0.0"},
	} {
		if got := f.offered(ids[:50], d); len(got) != 0 {
			t.Errorf("%s: offered %v", name, got)
		}
	}
	beta := f.publish(build{ver: "1.2.0-beta.1", channel: srel.ChannelBeta}, 100)
	if got := f.offered(ids[:1], linux100); got[ids[0]] != "1.1.0" {
		t.Errorf("stable device offered %v", got)
	}
	bd := linux100
	bd.Channel = srel.ChannelBeta
	if got := f.offered(ids[:1], bd); got[ids[0]] != beta.Version {
		t.Errorf("beta device offered %v", got)
	}

	// Bad PATCH bodies.
	for _, body := range []string{`{"percent":101}`, `{}`, `{"percent":"10"}`, `{"rollout":5}`} {
		resp := f.do("PATCH", "/api/v1/releases/"+rel.ID, "admin", strings.NewReader(body), "application/json")
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("PATCH %s: %s", body, resp.Status)
		}
	}
	if resp := f.do("PATCH", "/api/v1/releases/"+rel.ID, "tech", strings.NewReader(`{"percent":0}`), ""); resp.StatusCode != http.StatusForbidden {
		t.Errorf("technician PATCH: %s", resp.Status)
	}
}

func TestRollbackRelease(t *testing.T) { onBoth(t, testRollbackRelease) }

func testRollbackRelease(t *testing.T, f *fixture) {
	f.publish(build{ver: "1.1.0"}, 100)
	d := linux100
	d.Version = "1.1.0"
	f.publish(build{ver: "1.0.0", rollback: true}, 100)
	if got := f.offered([]string{"dev_a"}, d); got["dev_a"] != "1.0.0" {
		t.Fatalf("device on 1.1.0 offered %v after a rollback to 1.0.0", got)
	}
	// A device still on 1.0.0 is not sent to 1.1.0 any more…
	d.Version = "1.0.0"
	if got := f.offered([]string{"dev_b"}, d); len(got) != 0 {
		t.Fatalf("device on 1.0.0 offered %v", got)
	}
	// …until a fix is published after the rollback.
	f.publish(build{ver: "1.1.1"}, 100)
	if got := f.offered([]string{"dev_b"}, d); got["dev_b"] != "1.1.1" {
		t.Fatalf("device on 1.0.0 offered %v, want the fix", got)
	}
	if o, _ := f.svc.Offer(context.Background(), Device{ID: "dev_c", OS: "linux", Arch: "amd64", Version: "1.1.0"}); o == nil || o.Version != "1.1.1" || o.Rollback {
		t.Fatalf("offer %+v", o)
	}
}

func TestFailedReportHaltsRollout(t *testing.T) { onBoth(t, testFailedReportHaltsRollout) }

func testFailedReportHaltsRollout(t *testing.T, f *fixture) {
	ids := fleet(200)
	rel := f.publish(build{ver: "1.1.0"}, 50)
	in := f.offered(ids, linux100)
	if len(in) == 0 {
		t.Fatal("nobody in the rollout")
	}
	var first, second string
	for id := range in {
		if first == "" {
			first = id
		} else {
			second = id
			break
		}
	}
	ctx := context.Background()
	if err := f.svc.RecordReport(ctx, first, protocol.UpdateReport{FromVersion: "1.0.0", ToVersion: "1.1.0", OK: true}); err != nil {
		t.Fatal(err)
	}
	got, _ := f.svc.Get(ctx, rel.ID)
	if got.Updated != 1 || got.Failed != 0 || got.Devices != 1 || got.Paused {
		t.Fatalf("after a good report: %+v", got)
	}
	err := f.svc.RecordReport(ctx, second, protocol.UpdateReport{FromVersion: "1.0.0", ToVersion: "1.1.0", RolledBack: true, Detail: "1.1.0 did not report healthy within 5m0s"})
	if err != nil {
		t.Fatal(err)
	}
	got, _ = f.svc.Get(ctx, rel.ID)
	if !got.Paused || !strings.Contains(got.HaltedReason, second) || got.Failed != 1 {
		t.Fatalf("after a failed report: %+v", got)
	}
	// The console sees progress and the failure.
	resp := f.do("GET", "/api/v1/releases/"+rel.ID, "tech", nil, "")
	var detail struct {
		Release  Release
		Failures []Report
	}
	json.NewDecoder(resp.Body).Decode(&detail)
	if len(detail.Failures) != 1 || detail.Failures[0].DeviceID != second || !detail.Failures[0].RolledBack {
		t.Fatalf("detail %+v", detail)
	}
	resp = f.do("GET", "/api/v1/releases", "tech", nil, "")
	var list struct {
		Releases []Release
		Versions []VersionCount
	}
	json.NewDecoder(resp.Body).Decode(&list)
	counts := map[string]int{}
	for _, v := range list.Versions {
		counts[v.Version] += v.Devices
	}
	if len(list.Releases) != 1 || counts["1.1.0"] != 1 || counts["1.0.0"] != len(ids)-1 {
		t.Fatalf("list %+v", list)
	}

	if o := f.offered(ids, linux100); len(o) != 0 {
		t.Fatalf("halted release still offered to %d devices", len(o))
	}

	// Resuming is the admin's call, and clears the halt.
	r := f.patch(rel.ID, `{"paused":false}`)
	if r.Paused || r.HaltedReason != "" {
		t.Fatalf("after resume %+v", r)
	}
}

func TestWideningNudgesConnectedDevices(t *testing.T) { onBoth(t, testWideningNudgesConnectedDevices) }

func testWideningNudgesConnectedDevices(t *testing.T, f *fixture) {
	f.conn = []Device{
		{ID: "dev_1", OS: "linux", Arch: "amd64", Version: "1.0.0"},
		{ID: "dev_2", OS: "linux", Arch: "amd64", Version: "1.1.0"},
		{ID: "dev_3", OS: "darwin", Arch: "arm64", Version: "1.0.0"},
	}
	rel := f.publish(build{ver: "1.1.0"}, 0)
	f.patch(rel.ID, `{"percent":100}`)
	deadline := time.Now().Add(5 * time.Second)
	for {
		f.mu.Lock()
		o, ok := f.sent["dev_1"]
		n := len(f.sent)
		f.mu.Unlock()
		if ok {
			if n != 1 || o.Version != "1.1.0" || o.ManifestURL != "/api/v1/releases/"+rel.ID+"/manifest" {
				t.Fatalf("sent %v", f.sent)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("connected device not nudged")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestOfferEndpoint(t *testing.T) { onBoth(t, testOfferEndpoint) }

func testOfferEndpoint(t *testing.T, f *fixture) {
	rel := f.publish(build{ver: "1.1.0"}, 100)
	resp := f.do("GET", "/api/v1/releases/offer?os=linux&arch=amd64&channel=stable&version=1.0.0", "device:dev_1", nil, "")
	var o protocol.UpdateAvailable
	json.NewDecoder(resp.Body).Decode(&o)
	if resp.StatusCode != 200 || o.Version != "1.1.0" || o.BinaryURL != "/api/v1/releases/"+rel.ID+"/binary" {
		t.Fatalf("offer: %s %+v", resp.Status, o)
	}
	if resp := f.do("GET", "/api/v1/releases/offer?os=linux&arch=amd64&version=1.1.0", "device:dev_1", nil, ""); resp.StatusCode != http.StatusNoContent {
		t.Errorf("up to date: %s", resp.Status)
	}
	if resp := f.do("GET", "/api/v1/releases/offer?os=linux&arch=amd64&version=1.0.0", "", nil, ""); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("no credentials: %s", resp.Status)
	}
	if resp := f.do("GET", "/api/v1/releases/offer?os=linux", "device:dev_1", nil, ""); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("missing params: %s", resp.Status)
	}
}
