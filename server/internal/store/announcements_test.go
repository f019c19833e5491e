package store

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/deskside/deskside/shared/protocol"
)

func announcement(id string) (Announcement, Outgoing) {
	a := Announcement{ID: id, Title: "Email is slow", Text: "We are on it", Severity: "outage", TargetKind: "all", CreatedAt: time.Now()}
	return a, Outgoing{Kind: protocol.KindAnnouncement, ID: "env-" + id,
		Body: protocol.Announcement{AnnouncementID: id, Title: a.Title, Text: a.Text, Severity: a.Severity}}
}

// An announcement is stored once and every target device gets it once, at
// its own next seq, live (the shared frame) and by replay (built from the
// stored template): byte for byte the same frame.
func testAnnounceOncePerDevice(t *testing.T, s Store) {
	ctx := context.Background()
	enroll(t, s, map[string]string{"a": "linux", "b": "windows", "c": "windows", "gone": "linux"})
	if err := s.RevokeDevice(ctx, "gone"); err != nil {
		t.Fatal(err)
	}
	// b already has a frame waiting: the announcement comes after it.
	if _, err := s.Enqueue(ctx, "b", Outgoing{Kind: protocol.KindSnapshotWant, ID: "w1"}); err != nil {
		t.Fatal(err)
	}
	a, out := announcement("ann_1")
	a, ds, err := s.Announce(ctx, a, out)
	if err != nil {
		t.Fatal(err)
	}
	if a.Recipients != 3 || len(ds) != 3 {
		t.Fatalf("recipients %d, deliveries %d; want 3 (the revoked device gets none)", a.Recipients, len(ds))
	}
	wantSeq := map[string]uint64{"a": 1, "b": 2, "c": 1}
	for _, d := range ds {
		if d.Seq != wantSeq[d.DeviceID] || d.Shared == nil {
			t.Fatalf("delivery %s seq %d (shared %v), want seq %d", d.DeviceID, d.Seq, d.Shared != nil, wantSeq[d.DeviceID])
		}
		env, err := protocol.Parse(d.Bytes())
		if err != nil || env.Type != protocol.KindAnnouncement || env.Seq != d.Seq || env.ID != "env-ann_1" {
			t.Fatalf("live frame for %s: %+v %v", d.DeviceID, env, err)
		}
		rep, err := s.Replay(ctx, d.DeviceID, 0)
		if err != nil {
			t.Fatal(err)
		}
		last := rep[len(rep)-1]
		if len(rep) != int(wantSeq[d.DeviceID]) || last.Seq != d.Seq || !bytes.Equal(last.Frame, d.Bytes()) {
			t.Fatalf("replay for %s: %d frames, last seq %d %s; want the live frame %s", d.DeviceID, len(rep), last.Seq, last.Frame, d.Bytes())
		}
	}
	// A later frame takes the seq after the announcement.
	if d, err := s.Enqueue(ctx, "a", Outgoing{Kind: protocol.KindSnapshotWant, ID: "w2"}); err != nil || d.Seq != 2 {
		t.Fatalf("next frame for a: seq %d, %v", d.Seq, err)
	}
	// Target by OS.
	a2, out2 := announcement("ann_2")
	a2.TargetKind, a2.TargetValue = "os", "windows"
	if a2, ds, err = s.Announce(ctx, a2, out2); err != nil || a2.Recipients != 2 || len(ds) != 2 {
		t.Fatalf("announce to windows: %d recipients, %v", a2.Recipients, err)
	}
}

// Cursors for many devices prune in one call, count each announcement once
// per device, and leave later frames in place.
func testPruneCursors(t *testing.T, s Store) {
	ctx := context.Background()
	enroll(t, s, map[string]string{"a": "linux", "b": "linux", "c": "linux"})
	a, out := announcement("ann_1")
	if _, _, err := s.Announce(ctx, a, out); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Enqueue(ctx, "a", Outgoing{Kind: protocol.KindSnapshotWant, ID: "w"}); err != nil {
		t.Fatal(err)
	}
	if err := s.PruneCursors(ctx, map[string]uint64{"a": 1, "b": 1, "unknown": 9}); err != nil {
		t.Fatal(err)
	}
	// Applying the same cursors again changes nothing.
	if err := s.PruneCursors(ctx, map[string]uint64{"a": 1, "b": 1}); err != nil {
		t.Fatal(err)
	}
	as, err := s.ListAnnouncements(ctx)
	if err != nil || len(as) != 1 || as[0].Delivered != 2 || as[0].Recipients != 3 {
		t.Fatalf("announcements %+v %v; want 2 of 3 delivered", as, err)
	}
	for id, want := range map[string][]uint64{"a": {2}, "b": nil, "c": {1}} {
		rep, err := s.Replay(ctx, id, 0)
		if err != nil {
			t.Fatal(err)
		}
		var got []uint64
		for _, d := range rep {
			got = append(got, d.Seq)
		}
		if len(got) != len(want) || (len(got) > 0 && got[0] != want[0]) {
			t.Errorf("%s left %v, want %v", id, got, want)
		}
	}
}
