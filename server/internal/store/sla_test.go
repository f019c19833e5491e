package store

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/deskside/deskside/shared/protocol"
)

func testSLAPolicy(t *testing.T, s Store) {
	ctx := context.Background()
	if p, err := s.SLAPolicy(ctx); err != nil || p != nil {
		t.Fatalf("fresh store: policy %q %v, want none", p, err)
	}
	doc := []byte(`{"teams":[{"name":"a"}]}`)
	if err := s.SetSLAPolicy(ctx, doc); err != nil {
		t.Fatal(err)
	}
	if p, err := s.SLAPolicy(ctx); err != nil || string(p) != string(doc) {
		t.Fatalf("policy %q %v, want %q", p, err, doc)
	}
	if err := s.SetSLAPolicy(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if p, err := s.SLAPolicy(ctx); err != nil || p != nil {
		t.Fatalf("after reset: %q %v, want none", p, err)
	}
}

// createDue creates request id on device dev with the given dues.
func createDue(t *testing.T, s Store, id, dev string, fr, res time.Time) Request {
	t.Helper()
	r := newRequest(id, dev)
	r.Urgency = protocol.UrgencyBlocking
	r.FirstResponseDue, r.ResolutionDue = fr, res
	if _, err := s.CreateRequest(context.Background(), "f-"+id, r, nil); err != nil {
		t.Fatal(err)
	}
	return r
}

// testSLAWarnings: each target is warned once as slipping and once as
// slipped; paused, answered and resolved requests are left alone; a due
// that moves is warned about afresh.
func testSLAWarnings(t *testing.T, s Store) {
	ctx := context.Background()
	enroll(t, s, map[string]string{"a": "linux"})
	now := time.Now().UTC().Truncate(time.Millisecond)
	createDue(t, s, "soon", "a", now.Add(10*time.Minute), now.Add(20*time.Hour))
	createDue(t, s, "late", "a", now.Add(-time.Minute), now.Add(-time.Second))
	createDue(t, s, "far", "a", now.Add(3*time.Hour), now.Add(9*time.Hour))
	createDue(t, s, "none", "a", time.Time{}, time.Time{})
	createDue(t, s, "paused", "a", now.Add(-time.Hour), now.Add(-time.Hour))
	if _, _, err := s.UpdateRequest(ctx, "paused", func(r *Request) (*Outgoing, error) {
		r.Status = protocol.StatusWaitingOnUser
		return nil, nil
	}); err != nil {
		t.Fatal(err)
	}
	claim := func(at time.Time) map[string]SLAWarning {
		t.Helper()
		ws, err := s.ClaimSLAWarnings(ctx, at, 30*time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]SLAWarning{}
		for _, w := range ws {
			k := w.Request.ID + "/" + w.Kind
			if _, dup := got[k]; dup {
				t.Fatalf("%s claimed twice in one call", k)
			}
			if w.Request.Hostname != "a" {
				t.Fatalf("%s: claimed request without its device: %+v", k, w.Request)
			}
			got[k] = w
		}
		return got
	}
	got := claim(now)
	want := map[string]bool{"soon/first_response": false, "late/first_response": true, "late/resolution": true}
	if len(got) != len(want) {
		t.Fatalf("claimed %v, want %v", keys(got), want)
	}
	for k, overdue := range want {
		if w, ok := got[k]; !ok || w.Overdue != overdue {
			t.Fatalf("%s: %+v, want overdue=%v", k, w, overdue)
		}
	}
	if !got["soon/first_response"].Due.Equal(now.Add(10 * time.Minute)) {
		t.Fatalf("due %v", got["soon/first_response"].Due)
	}
	if again := claim(now); len(again) != 0 {
		t.Fatalf("claimed again: %v", keys(again))
	}
	// Twenty minutes on, "soon" has slipped: warned once more, as overdue.
	if got := claim(now.Add(20 * time.Minute)); len(got) != 1 || !got["soon/first_response"].Overdue {
		t.Fatalf("after the due: %v", keys(got))
	}
	// A technician answers "far" before it slips: its first response is never warned.
	if _, _, err := s.AddTechMessage(ctx, Message{ID: "m-far", RequestID: "far", DeviceID: "a", TechnicianID: "t", AuthorName: "Rob",
		Text: "on it", CreatedAt: now}, Outgoing{Kind: protocol.KindMessage, ID: "o-far", Body: map[string]string{}}); err != nil {
		t.Fatal(err)
	}
	if got := claim(now.Add(4 * time.Hour)); len(got) != 0 {
		t.Fatalf("answered request warned: %v", keys(got))
	}
	// Its resolution due moves later (say by a pause): warned afresh.
	if _, _, err := s.UpdateRequest(ctx, "far", func(r *Request) (*Outgoing, error) {
		r.ResolutionDue = now.Add(10 * time.Hour)
		return nil, nil
	}); err != nil {
		t.Fatal(err)
	}
	if got := claim(now.Add(8*time.Hour + 45*time.Minute)); len(got) != 0 {
		t.Fatalf("warned before the moved due came near: %v", keys(got))
	}
	if got := claim(now.Add(9*time.Hour + 45*time.Minute)); len(got) != 1 || got["far/resolution"].Overdue {
		t.Fatalf("the moved due: %v", keys(got))
	}
}

func keys(m map[string]SLAWarning) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// testSLAResume: every write that ends a wait on the employee runs the
// resume clock in its own transaction, and what it moved is stored.
func testSLAResume(t *testing.T, s Store) {
	ctx := context.Background()
	enrollGroups(t, s, map[string]string{"a": "berlin-office"})
	var mu sync.Mutex
	var calls []string
	s.SetResumeClock(func(group string, r *Request, now time.Time) {
		mu.Lock()
		calls = append(calls, group+"/"+r.ID)
		mu.Unlock()
		waited := now.Sub(r.WaitingSince)
		if waited < 0 {
			t.Errorf("waited %v", waited)
		}
		r.FirstResponseDue = r.FirstResponseDue.Add(time.Hour)
		r.ResolutionDue = r.ResolutionDue.Add(time.Hour)
	})
	t.Cleanup(func() { s.SetResumeClock(nil) })
	base := time.Now().UTC().Truncate(time.Millisecond).Add(time.Hour)
	wait := func(id string) {
		t.Helper()
		if _, _, err := s.UpdateRequest(ctx, id, func(r *Request) (*Outgoing, error) {
			r.Status = protocol.StatusWaitingOnUser
			return nil, nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	check := func(id string) {
		t.Helper()
		r, err := s.Request(ctx, id)
		if err != nil || !r.FirstResponseDue.Equal(base.Add(time.Hour)) || !r.ResolutionDue.Equal(base.Add(2*time.Hour)) || !r.WaitingSince.IsZero() {
			t.Fatalf("%s after the wait: %+v %v", id, r, err)
		}
	}
	for _, id := range []string{"by-user", "by-tech", "by-status"} {
		createDue(t, s, id, "a", base, base.Add(time.Hour))
		wait(id)
	}
	// The employee's reply ends the wait (the store flips the status itself).
	if _, err := s.AddUserMessage(ctx, "f-reply", Message{ID: "m1", RequestID: "by-user", DeviceID: "a", Text: "done",
		CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	check("by-user")
	// A technician sets it back in progress.
	if _, _, err := s.UpdateRequest(ctx, "by-tech", func(r *Request) (*Outgoing, error) {
		r.Status = protocol.StatusInProgress
		return nil, nil
	}); err != nil {
		t.Fatal(err)
	}
	check("by-tech")
	// Resolving a waiting request stops the clock for good: dues move too
	// (harmless, and the request is no longer measured against them).
	if _, _, err := s.UpdateRequest(ctx, "by-status", func(r *Request) (*Outgoing, error) {
		r.Status = protocol.StatusResolved
		return nil, nil
	}); err != nil {
		t.Fatal(err)
	}
	// Changing the assignee while it waits does not end the wait.
	createDue(t, s, "still", "a", base, base.Add(time.Hour))
	wait("still")
	if _, _, err := s.UpdateRequest(ctx, "still", func(r *Request) (*Outgoing, error) { r.Assignee = "t"; return nil, nil }); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if want := []string{"berlin-office/by-user", "berlin-office/by-tech", "berlin-office/by-status"}; fmt.Sprint(calls) != fmt.Sprint(want) {
		t.Fatalf("resume calls %v, want %v", calls, want)
	}
}

func testSLAFirstResponses(t *testing.T, s Store) {
	ctx := context.Background()
	enrollGroups(t, s, map[string]string{"a": "nyc"})
	now := time.Now().UTC().Truncate(time.Millisecond)
	old := newRequest("old", "a")
	old.CreatedAt = now.Add(-40 * 24 * time.Hour)
	for _, r := range []Request{newRequest("r1", "a"), newRequest("r2", "a"), old} {
		r.Urgency = protocol.UrgencyWhenYouCan
		if _, err := s.CreateRequest(ctx, "f-"+r.ID, r, nil); err != nil {
			t.Fatal(err)
		}
	}
	for i, id := range []string{"r1", "old"} {
		if _, _, err := s.AddTechMessage(ctx, Message{ID: fmt.Sprint("m", i), RequestID: id, DeviceID: "a", TechnicianID: "t",
			AuthorName: "Rob", Text: "hi", CreatedAt: now.Add(time.Hour)}, Outgoing{Kind: protocol.KindMessage, ID: fmt.Sprint("o", i),
			Body: map[string]string{}}); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.FirstResponses(ctx, now.Add(-30*24*time.Hour), 0)
	if err != nil || len(got) != 1 {
		t.Fatalf("first responses %+v %v, want r1 only", got, err)
	}
	if f := got[0]; f.Group != "nyc" || f.Urgency != protocol.UrgencyWhenYouCan || f.FirstResponseAt.Sub(f.CreatedAt) != time.Hour {
		t.Fatalf("sample %+v", f)
	}
}

// testSLAClaimTwoNodes: two nodes over one database claim the same
// slipping requests at the same moment; each warning goes out once.
func testSLAClaimTwoNodes(t *testing.T, node1, node2 Store) {
	ctx := context.Background()
	enroll(t, node1, map[string]string{"a": "linux"})
	now := time.Now().UTC().Truncate(time.Millisecond)
	const n = 40
	for i := range n {
		createDue(t, node1, fmt.Sprint("r", i), "a", now.Add(time.Duration(i%3-1)*time.Minute), now.Add(time.Hour))
	}
	var mu sync.Mutex
	seen := map[string]int{}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for w := range 8 {
		node := node1
		if w%2 == 1 {
			node = node2
		}
		wg.Go(func() {
			ws, err := node.ClaimSLAWarnings(ctx, now, 5*time.Minute)
			if err != nil {
				errs <- err
				return
			}
			mu.Lock()
			for _, w := range ws {
				seen[w.Request.ID+"/"+w.Kind]++
			}
			mu.Unlock()
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if len(seen) != n {
		t.Fatalf("%d warnings claimed, want %d", len(seen), n)
	}
	for k, c := range seen {
		if c != 1 {
			t.Fatalf("%s claimed %d times", k, c)
		}
	}
}
