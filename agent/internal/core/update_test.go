package core_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/deskside/deskside/agent/agentapi"
	"github.com/deskside/deskside/agent/internal/core"
	"github.com/deskside/deskside/agent/internal/enroll"
	"github.com/deskside/deskside/agent/internal/store"
	"github.com/deskside/deskside/server/servertest"
	"github.com/deskside/deskside/shared/protocol"
)

// The self-updater's hooks against the real server: the core hands
// Enrolled the credentials before the link starts, calls Welcomed on each
// welcome, passes a rollout's update.available on (once), queues
// update.report durably (the server acks it and counts it), and Notify
// puts a note in News with an announcement event.
func TestE2EUpdateHooks(t *testing.T) {
	pub := servertest.NewPublisher(t)
	srv := servertest.New(t, servertest.WithReleaseKey(pub.PublicKey))
	creds := enrolled(t, srv)

	var welcomed, enrolledCalls atomic.Int32
	offers := make(chan protocol.UpdateAvailable, 4)
	a := startAgentWith(t, filepath.Join(t.TempDir(), "agent.db"), creds, store.Options{}, func(c *core.Config) {
		c.Enrolled = func(_ context.Context, got *enroll.Credentials) {
			if got.DeviceID != creds.DeviceID || welcomed.Load() != 0 {
				t.Errorf("Enrolled(%s) after %d welcomes; want %s before any", got.DeviceID, welcomed.Load(), creds.DeviceID)
			}
			enrolledCalls.Add(1)
		}
		c.Welcomed = func() { welcomed.Add(1) }
		c.UpdateAvailable = func(o protocol.UpdateAvailable) { offers <- o }
		c.BusyQuiet = 300 * time.Millisecond
	})
	a.waitFor(t, "online", isState(agentapi.ConnOnline))
	if enrolledCalls.Load() != 1 || welcomed.Load() < 1 {
		t.Fatalf("Enrolled called %d times, Welcomed %d; want 1 and ≥1", enrolledCalls.Load(), welcomed.Load())
	}

	// A rollout reaches the hook through the device's outbox (seq).
	bin := bytes.Repeat([]byte("deskside-agent 9.9.0\n"), 100)
	man, sig := pub.Sign(t, bin, "9.9.0", runtime.GOOS, runtime.GOARCH)
	admin := srv.Tech(t)
	st, out := admin.UploadRelease(t, man, sig, bin)
	if st != http.StatusCreated {
		t.Fatalf("upload: %d %s", st, out)
	}
	var rel struct {
		ID      string `json:"id"`
		Updated int    `json:"updated"`
	}
	json.Unmarshal(out, &rel)
	admin.Do(t, http.MethodPatch, "/api/v1/releases/"+rel.ID, map[string]int{"percent": 100}, nil)
	select {
	case o := <-offers:
		if o.Version != "9.9.0" || !strings.HasSuffix(o.ManifestURL, rel.ID+"/manifest") {
			t.Errorf("offer = %+v", o)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("update.available never reached the hook")
	}

	// The report goes out durably and the server counts it.
	if err := a.SendUpdateReport(context.Background(), protocol.UpdateReport{FromVersion: "1.0.0-test", ToVersion: "9.9.0", OK: true}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		var list struct {
			Releases []struct {
				Updated int `json:"updated"`
			} `json:"releases"`
		}
		admin.Do(t, http.MethodGet, "/api/v1/releases", nil, &list)
		if len(list.Releases) == 1 && list.Releases[0].Updated == 1 && a.conn().Pending == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("update report not counted: %+v, status %+v", list, a.conn())
		}
		time.Sleep(50 * time.Millisecond)
	}

	// Nothing in flight, no window: not busy. A window action: busy for BusyQuiet.
	if a.Busy() {
		t.Error("Busy with an empty outbox and no window activity")
	}
	if _, err := a.Requests(context.Background()); err != nil || a.Busy() {
		t.Errorf("the tray's list read made the user busy (%v)", err)
	}
	if _, err := a.RaiseRequest(context.Background(), agentapi.NewRequest{Text: "printer"}); err != nil {
		t.Fatal(err)
	}
	if !a.Busy() {
		t.Error("not Busy right after the user sent a request")
	}
	// Busy ends once BusyQuiet has passed and the request's ack is in.
	deadline = time.Now().Add(20 * time.Second)
	for a.Busy() && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if a.Busy() {
		t.Error("still Busy long after BusyQuiet with the outbox drained")
	}

	// Notify: a note in News and an announcement event.
	a.Notify("Deskside updated itself to 9.9 — nothing for you to do.")
	a.waitFor(t, "notice event", func(ev agentapi.Event) bool {
		return ev.Type == agentapi.EventAnnouncement && ev.Announcement != nil && strings.HasPrefix(ev.Announcement.Text, "Deskside updated")
	})
	as, err := a.Announcements(context.Background())
	if err != nil || len(as) != 1 || as[0].Author.Name != "Deskside" || as[0].Read {
		t.Errorf("announcements = %+v (%v); want the unread notice", as, err)
	}
	if a.conn().Unread < 1 {
		t.Error("the notice does not count as unread")
	}
}
