package store

import (
	"context"
	"testing"
	"time"

	"github.com/deskside/deskside/shared/protocol"
)

// testRequestStamps checks the response-target stamps ride along with the
// writes that cause them: dues as created, the first technician answer,
// resolving and reopening, waiting on the employee and leaving it.
func testRequestStamps(t *testing.T, s Store) {
	ctx := context.Background()
	enroll(t, s, map[string]string{"a": "linux"})
	r := newRequest("req_s", "a")
	r.FirstResponseDue, r.ResolutionDue = r.CreatedAt.Add(2*time.Hour), r.CreatedAt.Add(8*time.Hour)
	if _, err := s.CreateRequest(ctx, "f1", r, nil); err != nil {
		t.Fatal(err)
	}
	got, err := s.Request(ctx, "req_s")
	if err != nil || !got.FirstResponseDue.Equal(r.FirstResponseDue) || !got.ResolutionDue.Equal(r.ResolutionDue) ||
		!got.FirstResponseAt.IsZero() || !got.ResolvedAt.IsZero() || !got.WaitingSince.IsZero() {
		t.Fatalf("as created: %+v %v", got, err)
	}
	setStatus := func(st protocol.Status) Request {
		t.Helper()
		out, _, err := s.UpdateRequest(ctx, "req_s", func(q *Request) (*Outgoing, error) { q.Status = st; return nil, nil })
		if err != nil {
			t.Fatal(err)
		}
		read, err := s.Request(ctx, "req_s")
		if err != nil || !read.WaitingSince.Equal(out.WaitingSince) || !read.ResolvedAt.Equal(out.ResolvedAt) ||
			!read.FirstResponseAt.Equal(out.FirstResponseAt) {
			t.Fatalf("the write returned %+v but a read gives %+v (%v)", out, read, err)
		}
		return read
	}
	if w := setStatus(protocol.StatusWaitingOnUser); w.WaitingSince.IsZero() {
		t.Fatal("waiting on the employee did not stamp waiting_since")
	}
	// The employee answers: the request is back in progress, clock running.
	if _, err := s.AddUserMessage(ctx, "f2", Message{ID: "m1", RequestID: "req_s", DeviceID: "a", Text: "here you go",
		CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if got, _ = s.Request(ctx, "req_s"); got.Status != protocol.StatusInProgress || !got.WaitingSince.IsZero() {
		t.Fatalf("after the employee's answer: %s waiting since %v", got.Status, got.WaitingSince)
	}
	at := time.Now().UTC().Truncate(time.Millisecond)
	if _, _, err := s.AddTechMessage(ctx, Message{ID: "m2", RequestID: "req_s", DeviceID: "a", TechnicianID: "t", AuthorName: "Rob",
		Text: "on it", CreatedAt: at}, Outgoing{Kind: protocol.KindMessage, ID: "o1", Body: map[string]string{}}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.AddTechMessage(ctx, Message{ID: "m3", RequestID: "req_s", DeviceID: "a", TechnicianID: "t", AuthorName: "Rob",
		Text: "still on it", CreatedAt: at.Add(time.Minute)}, Outgoing{Kind: protocol.KindMessage, ID: "o2", Body: map[string]string{}}); err != nil {
		t.Fatal(err)
	}
	if got, _ = s.Request(ctx, "req_s"); !got.FirstResponseAt.Equal(at) {
		t.Fatalf("first response at %v, want the first technician message at %v", got.FirstResponseAt, at)
	}
	res := setStatus(protocol.StatusResolved)
	if res.ResolvedAt.IsZero() || !res.FirstResponseAt.Equal(at) {
		t.Fatalf("resolved: %+v", res)
	}
	if _, err := s.ReopenRequest(ctx, "f3", "a", "req_s", "not yet", time.Now()); err != nil {
		t.Fatal(err)
	}
	if got, _ = s.Request(ctx, "req_s"); !got.ResolvedAt.IsZero() || got.Status != protocol.StatusReopened {
		t.Fatalf("reopened: %s resolved at %v", got.Status, got.ResolvedAt)
	}
	// Resolving a request nobody answered counts as its first response.
	if _, err := s.CreateRequest(ctx, "f4", newRequest("req_t", "a"), nil); err != nil {
		t.Fatal(err)
	}
	out, _, err := s.UpdateRequest(ctx, "req_t", func(q *Request) (*Outgoing, error) { q.Status = protocol.StatusResolved; return nil, nil })
	if err != nil || out.FirstResponseAt.IsZero() || !out.FirstResponseAt.Equal(out.ResolvedAt) {
		t.Fatalf("resolved unanswered: %+v %v", out, err)
	}
	if w := out.ToWire(); !w.ResolvedAt.Equal(out.ResolvedAt) || !w.FirstResponseAt.Equal(out.FirstResponseAt) {
		t.Fatalf("wire form lost the stamps: %+v", w)
	}
}
