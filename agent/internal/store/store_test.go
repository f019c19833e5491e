package store

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/deskside/deskside/agent/agentapi"
	"github.com/deskside/deskside/shared/protocol"
)

func open(t *testing.T, opt Options) (*Store, string) {
	t.Helper()
	p := filepath.Join(t.TempDir(), "agent.db")
	s, err := Open(p, opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, p
}

func newReq(t *testing.T, text string) (agentapi.Request, protocol.Envelope) {
	t.Helper()
	r := agentapi.Request{ID: protocol.NewID(), Category: protocol.CategoryProblem, Urgency: protocol.UrgencyBlocking,
		Text: text, Status: protocol.StatusNew, CreatedAt: time.Now().UTC()}
	env, err := protocol.New(protocol.KindRequestNew, protocol.RequestNew{RequestID: r.ID, Category: r.Category,
		Urgency: r.Urgency, Text: text, CreatedAt: r.CreatedAt})
	if err != nil {
		t.Fatal(err)
	}
	return r, env
}

func TestOutboxSurvivesReopenAndAck(t *testing.T) {
	ctx := context.Background()
	s, p := open(t, Options{})
	r, env := newReq(t, "printer on fire")
	if err := s.AddRequest(ctx, r, env); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s2, err := Open(p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	items, err := s2.Pending(ctx)
	if err != nil || len(items) != 1 || items[0].ID != env.ID || items[0].Ref != r.ID {
		t.Fatalf("pending = %+v, %v", items, err)
	}
	if n, _ := s2.PendingCount(ctx); n != 1 {
		t.Fatalf("pending count %d", n)
	}
	a, err := s2.Ack(ctx, env.ID)
	if err != nil || !a.Found || a.Kind != protocol.KindRequestNew {
		t.Fatalf("ack = %+v, %v", a, err)
	}
	if a, _ := s2.Ack(ctx, env.ID); a.Found {
		t.Fatal("second ack found the frame again")
	}
	got, err := s2.Request(ctx, r.ID)
	if err != nil || !got.Sent || got.Text != "printer on fire" {
		t.Fatalf("request = %+v, %v", got, err)
	}
}

func TestServerFramesAdvanceSeqOnce(t *testing.T) {
	ctx := context.Background()
	s, _ := open(t, Options{})
	r, env := newReq(t, "vpn")
	if err := s.AddRequest(ctx, r, env); err != nil {
		t.Fatal(err)
	}
	rob := protocol.Person{Name: "Rob"}
	if got, _ := s.Request(ctx, r.ID); got.Answered {
		t.Fatal("answered before IT wrote anything")
	}
	msg, _ := protocol.New(protocol.KindMessage, protocol.Message{RequestID: r.ID, MessageID: "msg_1", Author: rob, Text: "On it", CreatedAt: time.Now()})
	msg.Seq = 1
	a, err := s.ApplyServerFrame(ctx, msg)
	if err != nil || a.Duplicate || a.Message == nil || a.Request == nil || !a.Request.Unread || !a.Request.Answered {
		t.Fatalf("apply = %+v, %v", a, err)
	}
	if a, _ := s.ApplyServerFrame(ctx, msg); !a.Duplicate {
		t.Fatal("replayed seq 1 was applied twice")
	}
	st, _ := protocol.New(protocol.KindRequestStatus, protocol.RequestStatus{RequestID: r.ID, Status: protocol.StatusInProgress, Assignee: &rob, Text: "Rob picked up your request"})
	st.Seq = 2
	if _, err := s.ApplyServerFrame(ctx, st); err != nil {
		t.Fatal(err)
	}
	an, _ := protocol.New(protocol.KindAnnouncement, protocol.Announcement{AnnouncementID: "ann_1", Title: "Email slow", Text: "We're on it", Author: rob, CreatedAt: time.Now()})
	an.Seq = 3
	if _, err := s.ApplyServerFrame(ctx, an); err != nil {
		t.Fatal(err)
	}
	if seq, _ := s.LastSeq(ctx); seq != 3 {
		t.Fatalf("last seq %d", seq)
	}
	got, _ := s.Request(ctx, r.ID)
	if got.Status != protocol.StatusInProgress || got.Assignee == nil || got.Assignee.Name != "Rob" || len(got.Messages) != 1 || len(got.History) != 1 {
		t.Fatalf("request = %+v", got)
	}
	if n, _ := s.Unread(ctx); n != 2 {
		t.Fatalf("unread %d, want 2", n)
	}
	if err := s.MarkRead(ctx, r.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkAnnouncementRead(ctx, "ann_1"); err != nil {
		t.Fatal(err)
	}
	if n, _ := s.Unread(ctx); n != 0 {
		t.Fatalf("unread %d after marking read", n)
	}
	if err := s.MarkRead(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("mark unknown: %v", err)
	}
}

func TestSnapshotAckBecomesWhatITSees(t *testing.T) {
	ctx := context.Background()
	s, _ := open(t, Options{})
	if snap, _ := s.LastSnapshot(ctx); snap != nil {
		t.Fatal("fresh store has a snapshot")
	}
	e1, _ := protocol.New(protocol.KindSnapshot, protocol.Snapshot{AgentVersion: "old"})
	e2, _ := protocol.New(protocol.KindSnapshot, protocol.Snapshot{AgentVersion: "new"})
	_ = s.AddSnapshot(ctx, e1)
	_ = s.AddSnapshot(ctx, e2)
	items, _ := s.Pending(ctx)
	if len(items) != 1 || items[0].ID != e2.ID {
		t.Fatalf("pending snapshots: %+v", items)
	}
	if _, err := s.Ack(ctx, e2.ID); err != nil {
		t.Fatal(err)
	}
	snap, err := s.LastSnapshot(ctx)
	if err != nil || snap == nil || snap.AgentVersion != "new" {
		t.Fatalf("last snapshot %+v, %v", snap, err)
	}
}

// TestDiskFull fills a size-capped store: the write fails with ErrDiskFull
// and nothing of it is left behind (no request without its outbox frame).
func TestDiskFull(t *testing.T) {
	ctx := context.Background()
	s, _ := open(t, Options{MaxPages: 40})
	big := strings.Repeat("x", 3000)
	var err error
	n := 0
	for ; n < 1000; n++ {
		r, env := newReq(t, big)
		if err = s.AddRequest(ctx, r, env); err != nil {
			break
		}
	}
	if !errors.Is(err, ErrDiskFull) {
		t.Fatalf("after %d requests: err = %v, want ErrDiskFull", n, err)
	}
	reqs, _ := s.Requests(ctx)
	items, _ := s.Pending(ctx)
	if len(reqs) != n || len(items) != n {
		t.Fatalf("half-written: %d requests, %d outbox frames, %d saved", len(reqs), len(items), n)
	}
}
