package api_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/deskside/deskside/server/servertest"
	"github.com/deskside/deskside/shared/protocol"
)

func reply(t *testing.T, tech *servertest.Tech, reqID, text string) {
	t.Helper()
	if st := tech.Do(t, "POST", "/api/v1/requests/"+reqID+"/messages", map[string]string{"text": text}, nil); st != http.StatusCreated {
		t.Fatalf("reply %q: %d", text, st)
	}
}

// collect reads the replayed messages the welcome announced.
func collect(t *testing.T, d *servertest.Device, w protocol.Welcome) (texts []string, last uint64) {
	t.Helper()
	if w.ReplayTo == 0 {
		return nil, 0
	}
	for last < w.ReplayTo {
		env := d.Next(t)
		if env.Seq == 0 {
			continue
		}
		if env.Seq <= last {
			t.Fatalf("seq %d after %d: out of order or repeated", env.Seq, last)
		}
		last = env.Seq
		if env.Type == protocol.KindMessage {
			var m protocol.Message
			_ = env.Decode(&m)
			texts = append(texts, m.Text)
		}
	}
	return texts, last
}

// A device offline while the technician replies gets every reply exactly
// once when it comes back, and nothing again after it confirms delivery.
func TestOfflineDeviceGetsRepliesExactlyOnce(t *testing.T) {
	s := servertest.New(t)
	tech := s.Tech(t)
	d := s.Enroll(t, "ana-laptop")
	d.Connect(t, 0)
	reqID := d.RaiseRequest(t, "Outlook won't start")
	d.Close()
	waitOffline(t, tech, d.ID)

	want := []string{"Have you tried safe mode?", "Or repair the profile", "I'll call you at 3"}
	for _, w := range want {
		reply(t, tech, reqID, w)
	}
	w := d.Connect(t, 0)
	got, last := collect(t, d, w)
	if !equal(got, want) {
		t.Fatalf("replayed %q, want %q", got, want)
	}
	// The device confirms; nothing is replayed after that.
	d.Send(t, protocol.KindDeliveryCursor, protocol.DeliveryCursor{Seq: last})
	d.WaitFor(t, protocol.KindAck)
	d.Close()
	if w := d.Connect(t, 0); w.ReplayTo != 0 {
		t.Fatalf("after the cursor, replay %d..%d", w.ReplayFrom, w.ReplayTo)
	}
	// And a device that says last_seq skips what it has.
	reply(t, tech, reqID, "one more")
	d.Close()
	waitOffline(t, tech, d.ID)
	w = d.Connect(t, last)
	got, _ = collect(t, d, w)
	if !equal(got, []string{"one more"}) {
		t.Fatalf("after last_seq %d: %q", last, got)
	}
}

// Requests and replies survive a server restart; acknowledged frames are
// there exactly once afterwards, and a re-sent frame is not stored twice.
func TestNothingLostAcrossRestart(t *testing.T) {
	s := servertest.New(t)
	d := s.Enroll(t, "ana-laptop")
	d.Connect(t, 0)
	var ids []string
	for _, text := range []string{"VPN drops", "Need Figma", "Screen flickers"} {
		ids = append(ids, d.RaiseRequest(t, text))
	}
	// A frame the device will re-send after the restart, as its outbox would.
	env, _ := protocol.New(protocol.KindRequestNew, protocol.RequestNew{RequestID: protocol.NewID(),
		Category: protocol.CategoryIdea, Urgency: protocol.UrgencyWhenYouCan, Text: "Dark mode for the portal"})
	d.SendEnvelope(t, env)
	d.WaitFor(t, protocol.KindAck)

	s.Restart(t)
	tech := s.Tech(t)
	reply(t, tech, ids[0], "Reinstalling the VPN client fixes it")

	w := d.Connect(t, 0)
	got, _ := collect(t, d, w)
	if !equal(got, []string{"Reinstalling the VPN client fixes it"}) {
		t.Fatalf("after restart the device got %q", got)
	}
	d.SendEnvelope(t, env) // the outbox re-sends: acked as a duplicate
	var a protocol.Ack
	if err := d.WaitFor(t, protocol.KindAck).Decode(&a); err != nil || !a.Duplicate {
		t.Fatalf("re-sent frame: %+v %v", a, err)
	}

	var list struct{ Requests []protocol.RequestSummary }
	tech.Do(t, "GET", "/api/v1/requests", nil, &list)
	if len(list.Requests) != 4 {
		t.Fatalf("%d requests after restart, want 4", len(list.Requests))
	}
	var detail struct{ Messages []protocol.Message }
	tech.Do(t, "GET", "/api/v1/requests/"+ids[0], nil, &detail)
	if len(detail.Messages) != 1 {
		t.Fatalf("%d messages in the thread, want 1", len(detail.Messages))
	}
}

func TestAnnouncementReachesOnlineAndOffline(t *testing.T) {
	s := servertest.New(t)
	tech := s.Tech(t)
	on := s.Enroll(t, "online-pc")
	on.Connect(t, 0)
	off := s.Enroll(t, "offline-pc")
	var out struct {
		Recipients int `json:"recipients"`
		SentLive   int `json:"sent_live"`
	}
	st := tech.Do(t, "POST", "/api/v1/announcements", map[string]any{"title": "Email is slow", "text": "We're on it.",
		"severity": "outage", "target": map[string]string{"kind": "all"}}, &out)
	if st != http.StatusCreated || out.Recipients != 2 || out.SentLive != 1 {
		t.Fatalf("announce: %d %+v", st, out)
	}
	env := on.WaitFor(t, protocol.KindAnnouncement)
	on.Send(t, protocol.KindDeliveryCursor, protocol.DeliveryCursor{Seq: env.Seq})
	on.WaitFor(t, protocol.KindAck)
	w := off.Connect(t, 0)
	if w.ReplayTo == 0 {
		t.Fatal("offline device got no replay")
	}
	off.WaitFor(t, protocol.KindAnnouncement)

	var list struct {
		Announcements []struct{ Recipients, Delivered int }
	}
	tech.Do(t, "GET", "/api/v1/announcements", nil, &list)
	if len(list.Announcements) != 1 || list.Announcements[0].Delivered != 1 {
		t.Fatalf("announcements %+v", list.Announcements)
	}
}

func waitOffline(t *testing.T, tech *servertest.Tech, id string) {
	t.Helper()
	for range 200 {
		var d struct{ Online bool }
		tech.Do(t, "GET", "/api/v1/devices/"+id, nil, &d)
		if !d.Online {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("device still online")
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
