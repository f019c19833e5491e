package targets

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/deskside/deskside/server/internal/events"
	"github.com/deskside/deskside/server/internal/sla"
	"github.com/deskside/deskside/server/internal/store"
	"github.com/deskside/deskside/shared/protocol"
)

// fakeClock is a clock the test moves.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

// hubRecorder records console frames.
type hubRecorder struct {
	mu     sync.Mutex
	frames []protocol.RequestSlipping
}

func (h *hubRecorder) Broadcast(kind protocol.Kind, body any) {
	if kind == protocol.KindRequestSlipping {
		h.mu.Lock()
		h.frames = append(h.frames, body.(protocol.RequestSlipping))
		h.mu.Unlock()
	}
}

func berlin(t *testing.T, s string) time.Time {
	t.Helper()
	loc, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	v, err := time.ParseInLocation("2006-01-02 15:04", s, loc)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

var berlinPolicy = sla.Policy{
	Teams: []sla.Team{{Name: "Berlin", TimeZone: "Europe/Berlin",
		Hours:    []sla.Hours{{Days: []string{"mon", "tue", "wed", "thu", "fri"}, Start: "09:00", End: "17:00"}},
		Holidays: []string{"2026-12-25"}}},
	Targets: sla.Targets{Blocking: sla.Target{FirstResponseMinutes: 120, ResolutionMinutes: 480},
		WhenYouCan: sla.Target{FirstResponseMinutes: 480, ResolutionMinutes: 2400}},
	WarnBeforeMinutes: 30,
}

func newService(t *testing.T) (*Service, *store.SQL, *fakeClock, *hubRecorder, *[]events.Event) {
	t.Helper()
	st, err := store.Open(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	clk := &fakeClock{}
	hub := &hubRecorder{}
	var mu sync.Mutex
	var evs []events.Event
	s := New(Options{Store: st, Hub: hub, Now: clk.Now, PublicURL: "https://help.example.com/", Zone: "Europe/Berlin",
		Events: events.Func(func(_ context.Context, ev events.Event) { mu.Lock(); evs = append(evs, ev); mu.Unlock() })})
	if err := s.SetPolicy(context.Background(), berlinPolicy); err != nil {
		t.Fatal(err)
	}
	st.SetResumeClock(s.Resume)
	return s, st, clk, hub, &evs
}

func enrol(t *testing.T, st store.Store, id string) store.Device {
	t.Helper()
	ctx := context.Background()
	if err := st.CreateToken(ctx, store.EnrollToken{ID: "tok-" + id, CreatedAt: time.Now()}, []byte("h-"+id)); err != nil {
		t.Fatal(err)
	}
	d, err := st.Enroll(ctx, []byte("h-"+id), store.Device{ID: id, SecretHash: []byte(id), Hostname: id + "-host", User: "anna"}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func create(t *testing.T, s *Service, st store.Store, id string, u protocol.Urgency, at time.Time) store.Request {
	t.Helper()
	r := store.Request{ID: id, DeviceID: "dev", Category: "problem", Urgency: u, Status: protocol.StatusNew, Text: "help",
		CreatedAt: at, UpdatedAt: at}
	r.FirstResponseDue, r.ResolutionDue = s.Dues("", u, at)
	if _, err := st.CreateRequest(context.Background(), "f-"+id, r, nil); err != nil {
		t.Fatal(err)
	}
	return r
}

// TestWarningsOnAFakeClock: a blocking request raised Friday 16:00 is due
// Monday 10:00 (the weekend does not count); it is warned about at 09:30
// Monday, not before, and again once it has slipped, each time once, to
// the assignee by name, with a console link.
func TestWarningsOnAFakeClock(t *testing.T) {
	s, st, clk, hub, evs := newService(t)
	ctx := context.Background()
	enrol(t, st, "dev")
	if err := st.CreateTechnician(ctx, store.Technician{ID: "tech_rob", Email: "rob@example.com", Name: "Rob", Role: "technician",
		CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	r := create(t, s, st, "req_1", protocol.UrgencyBlocking, berlin(t, "2026-11-13 16:00"))
	if want := berlin(t, "2026-11-16 10:00"); !r.FirstResponseDue.Equal(want) {
		t.Fatalf("due %v, want %v", r.FirstResponseDue, want)
	}
	if _, _, err := st.UpdateRequest(ctx, "req_1", func(q *store.Request) (*store.Outgoing, error) {
		q.Assignee, q.Status = "tech_rob", protocol.StatusInProgress
		return nil, nil
	}); err != nil {
		t.Fatal(err)
	}
	for _, at := range []string{"2026-11-13 17:00", "2026-11-14 12:00", "2026-11-16 09:29"} {
		clk.Set(berlin(t, at))
		s.Tick(ctx, false)
	}
	if len(*evs) != 0 {
		t.Fatalf("warned before 09:30 Monday: %+v", *evs)
	}
	clk.Set(berlin(t, "2026-11-16 09:31"))
	s.Tick(ctx, false)
	s.Tick(ctx, false) // claimed already: nothing more
	if len(*evs) != 1 {
		t.Fatalf("%d events at 09:31, want 1", len(*evs))
	}
	ev := (*evs)[0]
	if ev.Type != events.TargetSlipping || ev.Data.Target == nil || ev.Data.Target.Kind != "first_response" ||
		!ev.Data.Target.Due.Equal(r.FirstResponseDue) || ev.Data.AssigneeName != "Rob" ||
		ev.Data.URL != "https://help.example.com/#/requests/req_1" || ev.Data.Request.RequestID != "req_1" {
		t.Fatalf("event %+v (%+v)", ev, ev.Data.Target)
	}
	if len(hub.frames) != 1 || hub.frames[0].Overdue || hub.frames[0].AssigneeName != "Rob" {
		t.Fatalf("console frames %+v", hub.frames)
	}
	clk.Set(berlin(t, "2026-11-16 10:01"))
	s.Tick(ctx, false)
	if len(hub.frames) != 2 || !hub.frames[1].Overdue || hub.frames[1].Target != "first_response" {
		t.Fatalf("after the due: frames %+v", hub.frames)
	}
}

// TestPauseMovesDues: waiting on the employee stops the clock; the
// employee's answer starts it again with the dues moved by the working
// time waited, and no warning comes while it waits.
func TestPauseMovesDues(t *testing.T) {
	s, st, clk, hub, _ := newService(t)
	ctx := context.Background()
	enrol(t, st, "dev")
	// Thursday 2026-11-12 10:00, when you can: due Friday 10:00.
	create(t, s, st, "req_w", protocol.UrgencyWhenYouCan, berlin(t, "2026-11-12 10:00"))
	// Waiting on the employee since Thursday 15:00 (fake time).
	if _, _, err := st.UpdateRequest(ctx, "req_w", func(q *store.Request) (*store.Outgoing, error) {
		q.Status, q.WaitingSince = protocol.StatusWaitingOnUser, berlin(t, "2026-11-12 15:00")
		return nil, nil
	}); err != nil {
		t.Fatal(err)
	}
	clk.Set(berlin(t, "2026-11-13 11:00")) // past the due, but paused
	s.Tick(ctx, false)
	if len(hub.frames) != 0 {
		t.Fatalf("a paused request was warned about: %+v", hub.frames)
	}
	// Resume directly with fake times: waited Thu 15:00 → Mon 11:00 = 12 working hours.
	r, err := st.Request(ctx, "req_w")
	if err != nil {
		t.Fatal(err)
	}
	s.Resume("", &r, berlin(t, "2026-11-16 11:00"))
	if want := berlin(t, "2026-11-16 14:00"); !r.FirstResponseDue.Equal(want) {
		t.Fatalf("moved due %v, want %v", r.FirstResponseDue, want)
	}
}

// TestPauseThroughTheStore: with a clock that always runs (every day, all
// day, UTC), the wait is plain wall time: the employee's answer moves the
// dues by exactly as long as the request waited, in the same write.
func TestPauseThroughTheStore(t *testing.T) {
	s, st, _, _, _ := newService(t)
	ctx := context.Background()
	always := berlinPolicy
	always.Teams = []sla.Team{{Name: "Always", TimeZone: "UTC",
		Hours: []sla.Hours{{Days: []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}, Start: "00:00", End: "24:00"}}}}
	if err := s.SetPolicy(ctx, always); err != nil {
		t.Fatal(err)
	}
	enrol(t, st, "dev")
	now := time.Now().UTC().Truncate(time.Millisecond)
	create(t, s, st, "req_p", protocol.UrgencyBlocking, now.Add(-2*time.Hour))
	// It has waited on the employee for the last hour (the store keeps a
	// waiting_since already set).
	if _, _, err := st.UpdateRequest(ctx, "req_p", func(q *store.Request) (*store.Outgoing, error) {
		q.Status, q.WaitingSince = protocol.StatusWaitingOnUser, now.Add(-time.Hour)
		return nil, nil
	}); err != nil {
		t.Fatal(err)
	}
	before, err := st.Request(ctx, "req_p")
	if err != nil || !before.WaitingSince.Equal(now.Add(-time.Hour)) || !before.FirstResponseDue.Equal(now) {
		t.Fatalf("waiting: %+v %v", before, err)
	}
	if _, err := st.AddUserMessage(ctx, "f-answer", store.Message{ID: "m1", RequestID: "req_p", DeviceID: "dev", FromUser: true,
		Text: "done", CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	after, err := st.Request(ctx, "req_p")
	if err != nil {
		t.Fatal(err)
	}
	waited := after.UpdatedAt.Sub(before.WaitingSince)
	if waited < time.Hour || !after.FirstResponseDue.Equal(before.FirstResponseDue.Add(waited)) ||
		!after.ResolutionDue.Equal(before.ResolutionDue.Add(waited)) {
		t.Fatalf("waited %v: dues %v / %v, want %v / %v", waited, after.FirstResponseDue, after.ResolutionDue,
			before.FirstResponseDue.Add(waited), before.ResolutionDue.Add(waited))
	}
	if after.Status != protocol.StatusInProgress || !after.WaitingSince.IsZero() {
		t.Fatalf("after the answer: %+v", after)
	}
}

// TestExpectations: the promise is the target until 30 days hold enough
// first responses, then the slower of target and median, in working
// minutes; outside working hours the device hears when IT is back.
func TestExpectations(t *testing.T) {
	s, st, clk, _, _ := newService(t)
	ctx := context.Background()
	enrol(t, st, "dev")
	clk.Set(berlin(t, "2026-11-20 12:00")) // a Friday, IT at work
	exp := func() map[protocol.Urgency]protocol.Expectation {
		out := map[protocol.Urgency]protocol.Expectation{}
		for _, e := range s.Expectations("", clk.Now()) {
			out[e.Urgency] = e
		}
		return out
	}
	if e := exp()[protocol.UrgencyBlocking]; e.FirstResponseMinutes != 120 || !e.Working || !e.NextOpen.IsZero() {
		t.Fatalf("before any data: %+v", e)
	}
	// Eleven blocking requests this week, each first answered 3 working hours later.
	for i := range 11 {
		at := berlin(t, fmt.Sprintf("2026-11-%02d 09:00", 16+i%4))
		create(t, s, st, fmt.Sprint("req_", i), protocol.UrgencyBlocking, at)
		if _, _, err := st.AddTechMessage(ctx, store.Message{ID: fmt.Sprint("m_", i), RequestID: fmt.Sprint("req_", i), DeviceID: "dev",
			TechnicianID: "t", AuthorName: "Rob", Text: "on it", CreatedAt: at.Add(3 * time.Hour)},
			store.Outgoing{Kind: protocol.KindMessage, ID: fmt.Sprint("o_", i), Body: map[string]string{}}); err != nil {
			t.Fatal(err)
		}
	}
	// FirstResponses counts requests created in the last 30 days of the
	// fake clock; the store's created_at is what the test set.
	if err := s.RefreshPromises(ctx); err != nil {
		t.Fatal(err)
	}
	got := exp()
	if e := got[protocol.UrgencyBlocking]; e.FirstResponseMinutes != 180 || !e.Working {
		t.Fatalf("blocking with a 3 h median: %+v, want 180", e)
	}
	if e := got[protocol.UrgencyWhenYouCan]; e.FirstResponseMinutes != 480 {
		t.Fatalf("when you can, no data: %+v, want the target 480", e)
	}
	// Friday evening: IT is back Monday 09:00.
	clk.Set(berlin(t, "2026-11-20 18:00"))
	if e := exp()[protocol.UrgencyBlocking]; !e.NextOpen.Equal(berlin(t, "2026-11-23 09:00")) {
		t.Fatalf("next open %v, want Monday 09:00", e.NextOpen)
	}
}

// TestDefaultPolicy: with nothing saved, no due times are set.
func TestDefaultPolicy(t *testing.T) {
	st, err := store.Open(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	s := New(Options{Store: st, Zone: "Europe/Berlin"})
	if err := s.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	p, saved := s.Policy()
	if saved || p.Teams[0].TimeZone != "Europe/Berlin" {
		t.Fatalf("policy %+v saved=%v", p, saved)
	}
	if fr, res := s.Dues("", protocol.UrgencyBlocking, time.Now()); !fr.IsZero() || !res.IsZero() {
		t.Fatalf("default policy set dues %v %v", fr, res)
	}
	s.Start(context.Background())
	s.Close()
	s.Close()
}
