package store

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/deskside/deskside/shared/protocol"
)

func newRequest(id, device string) Request {
	now := time.Now().Truncate(time.Millisecond).UTC()
	return Request{ID: id, DeviceID: device, Category: "email", Urgency: "normal", Status: "new", Text: "Outlook is slow",
		CreatedAt: now, UpdatedAt: now}
}

func testRequests(t *testing.T, s Store) {
	ctx := context.Background()
	enroll(t, s, map[string]string{"a": "linux", "b": "windows"})
	r := newRequest("req_1", "a")
	r.Snapshot = []byte(`{"host":"a"}`)
	r.ScreenshotType = "image/png"
	if res, err := s.CreateRequest(ctx, "f1", r, []byte("PNG")); err != nil || res.Ref != "req_1" || res.Duplicate {
		t.Fatalf("create: %+v %v", res, err)
	}
	if _, err := s.CreateRequest(ctx, "f2", newRequest("req_2", "b"), nil); err != nil {
		t.Fatal(err)
	}
	got, err := s.Request(ctx, "req_1")
	if err != nil || got.Hostname != "a" || string(got.Snapshot) != `{"host":"a"}` || !got.CreatedAt.Equal(r.CreatedAt) || got.Status != "new" {
		t.Fatalf("request: %+v %v", got, err)
	}
	if snap, _ := s.DeviceSnapshot(ctx, "a"); string(snap) != `{"host":"a"}` {
		t.Fatalf("the request's snapshot is the device's latest: %s", snap)
	}
	if data, ct, err := s.Screenshot(ctx, "req_1"); err != nil || string(data) != "PNG" || ct != "image/png" {
		t.Fatalf("screenshot: %q %q %v", data, ct, err)
	}
	if _, _, err := s.Screenshot(ctx, "req_2"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("no screenshot: %v", err)
	}
	if _, err := s.Request(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown request: %v", err)
	}
	// The same request id from another device is refused.
	if _, err := s.CreateRequest(ctx, "f3", newRequest("req_1", "b"), nil); !errors.Is(err, ErrForbidden) {
		t.Fatalf("another device's request id: %v", err)
	}
	if _, err := s.AddUserMessage(ctx, "f4", Message{ID: "m", RequestID: "req_1", DeviceID: "b", Text: "hi"}); !errors.Is(err, ErrForbidden) {
		t.Fatalf("reply to another device's request: %v", err)
	}
	if _, err := s.RateRequest(ctx, "f5", "a", "req_1", 5, ""); !errors.Is(err, ErrNotResolved) {
		t.Fatalf("rate before resolved: %v", err)
	}

	// A technician resolves it, and the frame that says so gets the device's seq.
	r2, d, err := s.UpdateRequest(ctx, "req_1", func(r *Request) (*Outgoing, error) {
		r.Status, r.Assignee = "resolved", "t1"
		return &Outgoing{Kind: protocol.KindRequestStatus, ID: "st1", Body: protocol.RequestStatus{RequestID: r.ID, Status: "resolved"}}, nil
	})
	if err != nil || r2.Status != "resolved" || d == nil || d.Seq != 1 {
		t.Fatalf("resolve: %+v %+v %v", r2, d, err)
	}
	// A failed change leaves it untouched.
	boom := errors.New("boom")
	if _, _, err := s.UpdateRequest(ctx, "req_1", func(r *Request) (*Outgoing, error) { r.Status = "new"; return nil, boom }); !errors.Is(err, boom) {
		t.Fatalf("failing change: %v", err)
	}
	if _, err := s.RateRequest(ctx, "f6", "a", "req_1", 4, "quick"); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Request(ctx, "req_1"); got.Rating != 4 || got.RatingComment != "quick" || got.Status != "resolved" || got.Assignee != "t1" {
		t.Fatalf("rated: %+v", got)
	}
	// "If it's not solved, just reply": a reply reopens it.
	if _, err := s.AddUserMessage(ctx, "f7", Message{ID: "m1", RequestID: "req_1", DeviceID: "a", AuthorName: "Ann", Text: "still slow"}); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Request(ctx, "req_1"); got.Status != "reopened" {
		t.Fatalf("after reply to resolved: %s", got.Status)
	}

	for f, want := range map[RequestFilter][]string{
		{}:                                  {"req_2", "req_1"},
		{Status: "reopened"}:                {"req_1"},
		{Assignee: "none"}:                  {"req_2"},
		{Assignee: "t1", DeviceID: "a"}:     {"req_1"},
		{Category: "email", Urgency: "low"}: nil,
		{Limit: 1}:                          {"req_2"},
	} {
		rs, err := s.ListRequests(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, r := range rs {
			ids = append(ids, r.ID)
			if r.Snapshot != nil {
				t.Errorf("list carries a snapshot")
			}
		}
		if f.Limit == 0 && len(rs) == 2 && !rs[0].CreatedAt.After(rs[1].CreatedAt) {
			ids = []string{"req_2", "req_1"} // same millisecond: either order is newest first
		}
		if !slices.Equal(ids, want) {
			t.Errorf("filter %+v: %v, want %v", f, ids, want)
		}
	}
	if n, err := s.CountRequestsByStatus(ctx); err != nil || n["new"] != 1 || n["reopened"] != 1 {
		t.Fatalf("counts: %v %v", n, err)
	}
}

// Each device frame is applied once, however often it arrives.
func testDeviceFramesOnce(t *testing.T, s Store) {
	ctx := context.Background()
	enroll(t, s, map[string]string{"a": "linux"})
	for range 3 {
		if _, err := s.CreateRequest(ctx, "f1", newRequest("req_1", "a"), nil); err != nil {
			t.Fatal(err)
		}
		if _, err := s.AddUserMessage(ctx, "f2", Message{ID: "m1", RequestID: "req_1", DeviceID: "a", Text: "more"}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.ReopenRequest(ctx, "f3", "a", "req_1", "again", time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	// A new frame id for the same request id is still a duplicate.
	if res, err := s.CreateRequest(ctx, "f9", newRequest("req_1", "a"), nil); err != nil || !res.Duplicate {
		t.Fatalf("request id again: %+v %v", res, err)
	}
	ms, err := s.Messages(ctx, "req_1")
	if err != nil || len(ms) != 2 || ms[0].Text != "more" || ms[1].Text != "again" || !ms[1].FromUser {
		t.Fatalf("thread: %+v %v", ms, err)
	}
	if rs, _ := s.ListRequests(ctx, RequestFilter{}); len(rs) != 1 || rs[0].Status != "reopened" {
		t.Fatalf("requests: %+v", rs)
	}
}

// Messages and notes written in the same millisecond keep their order.
func testThreadOrder(t *testing.T, s Store) {
	ctx := context.Background()
	enroll(t, s, map[string]string{"a": "linux"})
	if _, err := s.CreateRequest(ctx, "f", newRequest("req_1", "a"), nil); err != nil {
		t.Fatal(err)
	}
	at := time.Now()
	var want []string
	for i := range 6 {
		id := fmt.Sprintf("m%d", 9-i) // ids sort against insertion order
		want = append(want, id)
		var err error
		if i%2 == 0 {
			_, err = s.AddUserMessage(ctx, "f"+id, Message{ID: id, RequestID: "req_1", DeviceID: "a", Text: id, CreatedAt: at})
		} else {
			_, _, err = s.AddTechMessage(ctx, Message{ID: id, RequestID: "req_1", DeviceID: "a", TechnicianID: "t1", AuthorName: "Rob", Text: id, CreatedAt: at},
				Outgoing{Kind: protocol.KindMessage, ID: "env-" + id, Body: protocol.Message{RequestID: "req_1", MessageID: id, Text: id}})
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := s.AddNote(ctx, Note{ID: "n" + id, RequestID: "req_1", TechnicianID: "t1", Author: "Rob", Text: id, CreatedAt: at}); err != nil {
			t.Fatal(err)
		}
	}
	ms, err := s.Messages(ctx, "req_1")
	if err != nil {
		t.Fatal(err)
	}
	ns, err := s.Notes(ctx, "req_1")
	if err != nil {
		t.Fatal(err)
	}
	var gotM, gotN []string
	for i := range ms {
		gotM = append(gotM, ms[i].ID)
		if ms[i].FromUser != (i%2 == 0) {
			t.Errorf("message %s from user %v", ms[i].ID, ms[i].FromUser)
		}
	}
	for _, n := range ns {
		gotN = append(gotN, n.Text)
	}
	if !slices.Equal(gotM, want) || !slices.Equal(gotN, want) {
		t.Fatalf("messages %v, notes %v; want %v", gotM, gotN, want)
	}
}

func testOutboxAndReplay(t *testing.T, s Store) {
	ctx := context.Background()
	enroll(t, s, map[string]string{"a": "linux"})
	if _, err := s.Enqueue(ctx, "nobody", Outgoing{Kind: protocol.KindSnapshotWant, ID: "w"}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("enqueue for unknown device: %v", err)
	}
	for i := 1; i <= 3; i++ {
		d, err := s.Enqueue(ctx, "a", Outgoing{Kind: protocol.KindSnapshotWant, ID: fmt.Sprint("w", i)})
		if err != nil || d.Seq != uint64(i) {
			t.Fatalf("enqueue %d: seq %d %v", i, d.Seq, err)
		}
		env, err := protocol.Parse(d.Frame)
		if err != nil || env.Seq != d.Seq || env.Type != protocol.KindSnapshotWant {
			t.Fatalf("frame %s: %+v %v", d.Frame, env, err)
		}
	}
	rep, err := s.Replay(ctx, "a", 1)
	if err != nil || len(rep) != 2 || rep[0].Seq != 2 || rep[1].Seq != 3 {
		t.Fatalf("replay after 1: %+v %v", rep, err)
	}
	if err := s.PruneCursors(ctx, map[string]uint64{"a": 2}); err != nil {
		t.Fatal(err)
	}
	if rep, err := s.Replay(ctx, "a", 0); err != nil || len(rep) != 1 || rep[0].Seq != 3 {
		t.Fatalf("replay after pruning to 2: %+v %v", rep, err)
	}
}

// testTwoNodes: two stores over one database, as two server nodes would
// be, take seqs for the same device at the same time — one node sends
// frames one by one, the other announces to every device. No seq is taken
// twice or skipped, and every one is in the outbox with its frame.
func testTwoNodes(t *testing.T, node1, node2 Store) {
	ctx := context.Background()
	enroll(t, node1, map[string]string{"a": "linux", "b": "linux"})
	const workers, each, announcements = 4, 15, 10
	var (
		mu   sync.Mutex
		seqs = map[string][]uint64{}
		wg   sync.WaitGroup
		errs = make(chan error, workers*2+1)
	)
	take := func(dev string, seq uint64) {
		mu.Lock()
		seqs[dev] = append(seqs[dev], seq)
		mu.Unlock()
	}
	for w := range workers {
		node := node1
		if w%2 == 1 {
			node = node2
		}
		wg.Go(func() {
			for i := range each {
				d, err := node.Enqueue(ctx, "a", Outgoing{Kind: protocol.KindSnapshotWant, ID: fmt.Sprintf("w%d-%d", w, i)})
				if err != nil {
					errs <- err
					return
				}
				take("a", d.Seq)
			}
		})
	}
	wg.Go(func() {
		for i := range announcements {
			a, out := announcement(fmt.Sprint("ann_", i))
			_, ds, err := node2.Announce(ctx, a, out)
			if err != nil {
				errs <- err
				return
			}
			for _, d := range ds {
				take(d.DeviceID, d.Seq)
			}
		}
	})
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for dev, n := range map[string]int{"a": workers*each + announcements, "b": announcements} {
		got := seqs[dev]
		slices.Sort(got)
		if len(got) != n || got[0] != 1 || got[n-1] != uint64(n) || len(slices.Compact(slices.Clone(got))) != n {
			t.Fatalf("%s: %d seqs %v; want 1..%d once each", dev, len(got), got, n)
		}
		rep, err := node1.Replay(ctx, dev, 0)
		if err != nil || len(rep) != n {
			t.Fatalf("%s: replay %d frames %v; want %d", dev, len(rep), err, n)
		}
		for i, d := range rep {
			env, err := protocol.Parse(d.Bytes())
			if err != nil || d.Seq != uint64(i+1) || env.Seq != d.Seq {
				t.Fatalf("%s: replayed frame %d has seq %d (envelope %d, %v)", dev, i+1, d.Seq, env.Seq, err)
			}
		}
	}
}

// Every write that changes a request returns it as a later read gives it
// (without the snapshot), so no caller has to read it back.
func testWritesReturnWhatTheyWrote(t *testing.T, s Store) {
	ctx := context.Background()
	enroll(t, s, map[string]string{"a": "linux"})
	r := newRequest("req_1", "a")
	r.Snapshot = []byte(`{"host":"a"}`)
	if _, err := s.CreateRequest(ctx, "f1", r, nil); err != nil {
		t.Fatal(err)
	}
	same := func(step string, got Request) {
		t.Helper()
		want, err := s.Request(ctx, "req_1")
		if err != nil {
			t.Fatal(err)
		}
		want.Snapshot = nil
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%s returned\n%+v\nthe store holds\n%+v", step, got, want)
		}
	}
	res, err := s.AddUserMessage(ctx, "f2", Message{ID: "m1", RequestID: "req_1", DeviceID: "a", AuthorName: "Ann", Text: "hi"})
	if err != nil {
		t.Fatal(err)
	}
	same("AddUserMessage", res.Request)
	if res, err := s.AddUserMessage(ctx, "f2", Message{ID: "m1", RequestID: "req_1", DeviceID: "a", Text: "hi"}); err != nil || !res.Duplicate || res.Request.ID != "" {
		t.Fatalf("a duplicate changes nothing and returns no request: %+v %v", res, err)
	}
	got, _, err := s.UpdateRequest(ctx, "req_1", func(r *Request) (*Outgoing, error) {
		r.Status, r.Assignee = protocol.StatusResolved, "t1"
		return nil, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	same("UpdateRequest", got)
	if res, err = s.RateRequest(ctx, "f3", "a", "req_1", 5, "thanks"); err != nil {
		t.Fatal(err)
	}
	same("RateRequest", res.Request)
	if res, err = s.ReopenRequest(ctx, "f4", "a", "req_1", "again", time.Now()); err != nil {
		t.Fatal(err)
	}
	same("ReopenRequest", res.Request)
	got, _, err = s.AddTechMessage(ctx, Message{ID: "m2", RequestID: "req_1", DeviceID: "a", TechnicianID: "t1", AuthorName: "Rob",
		Text: "on it", CreatedAt: time.Now()}, Outgoing{Kind: protocol.KindMessage, ID: "env-m2", Body: protocol.Message{RequestID: "req_1", MessageID: "m2"}})
	if err != nil {
		t.Fatal(err)
	}
	same("AddTechMessage", got)
	got, _, err = s.AddTechMessage(ctx, Message{ID: "m3", DeviceID: "a", TechnicianID: "t1", AuthorName: "Rob", Text: "direct", CreatedAt: time.Now()},
		Outgoing{Kind: protocol.KindMessage, ID: "env-m3", Body: protocol.Message{MessageID: "m3"}})
	if err != nil || got.ID != "" {
		t.Fatalf("a direct message touches no request: %+v %v", got, err)
	}
}
