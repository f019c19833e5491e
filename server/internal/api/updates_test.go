package api_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/deskside/deskside/server/servertest"
	"github.com/deskside/deskside/shared/protocol"
)

// waitAck reads frames until the ack of frame id.
func waitAck(t *testing.T, d *servertest.Device, id string) protocol.Ack {
	t.Helper()
	for {
		var a protocol.Ack
		if err := d.WaitFor(t, protocol.KindAck).Decode(&a); err == nil && a.ID == id {
			return a
		}
	}
}

// framesUntilAck sends a harmless frame that is acked and returns the kinds
// of every frame that arrived before its ack: whatever the server queued
// for the device earlier.
func framesUntilAck(t *testing.T, d *servertest.Device) []protocol.Kind {
	t.Helper()
	id := d.Send(t, protocol.KindDeliveryCursor, protocol.DeliveryCursor{Seq: 0})
	var kinds []protocol.Kind
	for {
		env := d.Next(t)
		var a protocol.Ack
		if env.Type == protocol.KindAck && env.Decode(&a) == nil && a.ID == id {
			return kinds
		}
		kinds = append(kinds, env.Type)
	}
}

type releaseJSON struct {
	ID           string `json:"id"`
	Version      string `json:"version"`
	OS           string `json:"os"`
	Arch         string `json:"arch"`
	Percent      int    `json:"percent"`
	Paused       bool   `json:"paused"`
	HaltedReason string `json:"halted_reason"`
	Devices      int    `json:"devices"`
	Updated      int    `json:"updated"`
	Failed       int    `json:"failed"`
}

func hello(ver, goos, goarch string) protocol.Hello {
	return protocol.Hello{AgentVersion: ver, OS: goos, Arch: goarch, Capabilities: []string{protocol.CapUpdate}}
}

// TestSignedUpdateRollout is the admin's and the desk's side of an update
// against the real server: upload a signed release, roll it out to 100 %,
// devices on the platform are offered it (live and at hello) and download
// exactly the signed bytes with their own credentials, another platform is
// offered nothing, and a failed update.report halts the rollout, once.
func TestSignedUpdateRollout(t *testing.T) {
	pub := servertest.NewPublisher(t)
	srv := servertest.New(t, servertest.WithReleaseKey(pub.PublicKey))
	admin := srv.Tech(t)

	// A desk already connected before the rollout starts.
	early := srv.Enroll(t, "ana-laptop")
	if w := early.ConnectWith(t, hello("1.0.0", "linux", "amd64")); !slices.Contains(w.Capabilities, protocol.CapUpdate) {
		t.Errorf("welcome capabilities %v lack %q with a publisher key", w.Capabilities, protocol.CapUpdate)
	}
	win := srv.Enroll(t, "ben-desktop")
	win.ConnectWith(t, hello("1.0.0", "windows", "amd64"))

	bin := bytes.Repeat([]byte("deskside agent 1.4.0\n"), 5000)
	man, sig := pub.Sign(t, bin, "1.4.0", "linux", "amd64")

	// Only an admin publishes; a manifest signed by another key is refused.
	if st := admin.Do(t, "POST", "/api/v1/technicians", map[string]string{"email": "sam@example.com", "name": "Sam",
		"password": "a long enough password", "role": "technician"}, nil); st != http.StatusCreated {
		t.Fatalf("create technician: %d", st)
	}
	sam := srv.Login(t, "sam@example.com", "a long enough password")
	if st, body := sam.UploadRelease(t, man, sig, bin); st != http.StatusForbidden {
		t.Errorf("technician upload: %d %s, want 403", st, body)
	}
	other := servertest.NewPublisher(t)
	oman, osig := other.Sign(t, bin, "1.4.0", "linux", "amd64")
	if st, body := admin.UploadRelease(t, oman, osig, bin); st != http.StatusUnprocessableEntity {
		t.Errorf("upload signed by a stranger: %d %s, want 422", st, body)
	}

	st, body := admin.UploadRelease(t, man, sig, bin)
	if st != http.StatusCreated {
		t.Fatalf("upload: %d %s", st, body)
	}
	var rel releaseJSON
	if err := json.Unmarshal(body, &rel); err != nil {
		t.Fatal(err)
	}
	if rel.Percent != 0 || rel.Version != "1.4.0" || rel.OS != "linux" {
		t.Errorf("uploaded release %+v; want 1.4.0 linux at 0 %%", rel)
	}
	if st := admin.Do(t, "PATCH", "/api/v1/releases/"+rel.ID, map[string]int{"percent": 100}, &rel); st != http.StatusOK || rel.Percent != 100 {
		t.Fatalf("set rollout to 100 %%: %d %+v", st, rel)
	}

	// The connected Linux desk is nudged at once, through the outbox (seq).
	env := early.WaitFor(t, protocol.KindUpdateAvailable)
	var offer protocol.UpdateAvailable
	if err := env.Decode(&offer); err != nil {
		t.Fatal(err)
	}
	base := "/api/v1/releases/" + rel.ID
	want := protocol.UpdateAvailable{Version: "1.4.0", Channel: "stable", ManifestURL: base + "/manifest", BinaryURL: base + "/binary"}
	if offer != want {
		t.Errorf("update.available = %+v, want %+v", offer, want)
	}
	if env.Seq == 0 {
		t.Error("update.available has no seq; it must go through the device's outbox")
	}

	// A desk that connects later is offered it right after welcome.
	late := srv.Enroll(t, "chloe-laptop")
	late.ConnectWith(t, hello("1.0.0", "linux", "amd64"))
	var lateOffer protocol.UpdateAvailable
	if err := late.WaitFor(t, protocol.KindUpdateAvailable).Decode(&lateOffer); err != nil || lateOffer != want {
		t.Errorf("offer at hello = %+v (%v), want %+v", lateOffer, err, want)
	}

	// It downloads the signed parts with its own credentials; the bytes match.
	for path, wantBytes := range map[string][]byte{offer.ManifestURL: man, base + "/signature": sig, offer.BinaryURL: bin} {
		st, got := late.Get(t, path)
		if st != http.StatusOK || !bytes.Equal(got, wantBytes) {
			t.Errorf("GET %s: %d, %d bytes; want 200 and the %d uploaded bytes", path, st, len(got), len(wantBytes))
		}
	}
	if res, err := http.Get(srv.URL() + offer.BinaryURL); err != nil {
		t.Fatal(err)
	} else if res.Body.Close(); res.StatusCode != http.StatusUnauthorized {
		t.Errorf("binary without credentials: %d, want 401", res.StatusCode)
	}

	// Another OS gets nothing: neither at hello nor when it asks.
	mac := srv.Enroll(t, "dora-mac")
	mac.ConnectWith(t, hello("1.0.0", "darwin", "arm64"))
	if kinds := framesUntilAck(t, mac); slices.Contains(kinds, protocol.KindUpdateAvailable) {
		t.Errorf("a darwin/arm64 desk was offered a linux/amd64 release (frames %v)", kinds)
	}
	if st, body := win.Get(t, "/api/v1/releases/offer?os=windows&arch=amd64&version=1.0.0"); st != http.StatusNoContent {
		t.Errorf("windows offer: %d %s, want 204", st, body)
	}

	// The update fails on one desk: the release halts, the report counts once.
	rep := protocol.UpdateReport{FromVersion: "1.0.0", ToVersion: "1.4.0", OK: false, RolledBack: true,
		Detail: "1.4.0 did not report healthy within 5m0s"}
	renv, err := protocol.New(protocol.KindUpdateReport, rep)
	if err != nil {
		t.Fatal(err)
	}
	late.SendEnvelope(t, renv)
	if a := waitAck(t, late, renv.ID); a.Duplicate {
		t.Error("first update.report acked as a duplicate")
	}
	late.SendEnvelope(t, renv) // the ack was lost: the agent re-sends
	if a := waitAck(t, late, renv.ID); !a.Duplicate {
		t.Error("re-sent update.report not acked as a duplicate")
	}

	var list struct {
		Releases []releaseJSON `json:"releases"`
		Versions []struct {
			Version, OS, Arch string
			Devices           int
		} `json:"versions"`
	}
	if st := admin.Do(t, "GET", "/api/v1/releases", nil, &list); st != http.StatusOK || len(list.Releases) != 1 {
		t.Fatalf("list releases: %d %+v", st, list)
	}
	got := list.Releases[0]
	if !got.Paused || !strings.Contains(got.HaltedReason, "rolled back") || got.Failed != 1 || got.Updated != 0 {
		t.Errorf("after a failed report the release is %+v; want paused, halted (rolled back), failed 1", got)
	}
	linux100 := 0
	for _, v := range list.Versions {
		if v.Version == "1.0.0" && v.OS == "linux" && v.Arch == "amd64" {
			linux100 = v.Devices
		}
	}
	if linux100 != 2 {
		t.Errorf("versions = %+v; want two linux/amd64 desks on 1.0.0", list.Versions)
	}
	var one struct {
		Release  releaseJSON `json:"release"`
		Failures []struct {
			DeviceID   string `json:"device_id"`
			RolledBack bool   `json:"rolled_back"`
			Detail     string `json:"detail"`
		} `json:"failures"`
	}
	if st := sam.Do(t, "GET", base, nil, &one); st != http.StatusOK || len(one.Failures) != 1 ||
		one.Failures[0].DeviceID != late.ID || !one.Failures[0].RolledBack || !strings.Contains(one.Failures[0].Detail, "healthy") {
		t.Errorf("release progress as a technician: %d %+v", st, one)
	}

	// Halted: nobody else is offered it until an admin resumes.
	if st, _ := early.Get(t, "/api/v1/releases/offer?os=linux&arch=amd64&version=1.0.0"); st != http.StatusNoContent {
		t.Errorf("offer while halted: %d, want 204", st)
	}
	if st := admin.Do(t, "PATCH", base, map[string]bool{"paused": false}, &rel); st != http.StatusOK || rel.Paused || rel.HaltedReason != "" {
		t.Errorf("resume: %d %+v", st, rel)
	}
	if st, _ := early.Get(t, "/api/v1/releases/offer?os=linux&arch=amd64&version=1.0.0"); st != http.StatusOK {
		t.Errorf("offer after resume: %d, want 200", st)
	}
}

// TestUpdatesWithoutPublisherKey: the server runs without a key, says how
// to configure one, and still acks update reports.
func TestUpdatesWithoutPublisherKey(t *testing.T) {
	srv := servertest.New(t)
	tech := srv.Tech(t)
	st, body := tech.DoRaw(t, http.MethodGet, "/api/v1/releases", "", nil)
	var e protocol.APIError
	if err := json.Unmarshal(body, &e); err != nil || st != http.StatusServiceUnavailable ||
		e.Error != "no_publisher_key" || !strings.HasPrefix(e.Msg, "no publisher key configured: start the server with --release-public-key") {
		t.Errorf("GET /api/v1/releases without a key: %d %s", st, body)
	}
	dev := srv.Enroll(t, "ana-laptop")
	if w := dev.Connect(t, 0); slices.Contains(w.Capabilities, protocol.CapUpdate) {
		t.Errorf("welcome offers %q without a publisher key", protocol.CapUpdate)
	}
	if st, _ := dev.Get(t, "/api/v1/releases/offer?os=linux&arch=amd64&version=1.0.0"); st != http.StatusServiceUnavailable {
		t.Errorf("device offer without a key: %d, want 503", st)
	}
	id := dev.Send(t, protocol.KindUpdateReport, protocol.UpdateReport{FromVersion: "1.0.0", ToVersion: "1.1.0", OK: true})
	waitAck(t, dev, id)
	if st := tech.Do(t, "GET", "/healthz", nil, nil); st != http.StatusOK {
		t.Errorf("healthz: %d", st)
	}
}
