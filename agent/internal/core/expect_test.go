package core

import (
	"context"
	"math"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/deskside/deskside/agent/agentapi"
	"github.com/deskside/deskside/agent/internal/store"
	"github.com/deskside/deskside/agent/internal/sysinfo"
	"github.com/deskside/deskside/shared/protocol"
)

func TestExpectationWords(t *testing.T) {
	paris := time.FixedZone("CET", 3600)
	// Wednesday 2 December 2026, 10:00 in Paris.
	now := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
	exp := func(m int, working bool) protocol.Expectation {
		return protocol.Expectation{Urgency: protocol.UrgencyBlocking, FirstResponseMinutes: m, Working: working}
	}
	cases := []struct {
		name     string
		e        protocol.Expectation
		assignee string
		want     string
	}{
		{"no promise", exp(0, true), "", ""},
		{"negative", exp(-30, true), "Rob", ""},
		{"huge working", exp(math.MaxInt, true), "", ""},
		{"huge calendar", exp(math.MaxInt32, false), "", ""},
		{"just over two working weeks", exp(maxWorkingMinutes+1, true), "", ""},
		{"two working weeks", exp(maxWorkingMinutes, true), "", "Usually answered within 10 working days."},
		{"two weeks", exp(maxCalendarMinutes, false), "", "Usually answered within 14 days."},
		{"a minute rounds up to five", exp(1, false), "", "Usually answered within 5 minutes."},
		{"minutes", exp(30, true), "", "Usually answered within 30 minutes."},
		{"minutes round up", exp(31, false), "", "Usually answered within 35 minutes."},
		{"56 minutes is an hour", exp(56, false), "", "Usually answered within an hour."},
		{"an hour, working", exp(60, true), "", "Usually answered within 1 working hour."},
		{"90 minutes rounds up to 2 working hours", exp(90, true), "", "Usually answered within 2 working hours."},
		{"2 working hours, Rob", exp(120, true), "Rob", "Usually answered within 2 working hours — Rob is on it."},
		{"assignee trimmed", exp(120, true), "  Rob  ", "Usually answered within 2 working hours — Rob is on it."},
		{"7 working hours", exp(7*60, true), "", "Usually answered within 7 working hours."},
		{"just over 7 working hours is a working day", exp(7*60+1, true), "", "Usually answered within 1 working day."},
		{"a working day", exp(480, true), "", "Usually answered within 1 working day."},
		{"over a working day", exp(481, true), "", "Usually answered within 2 working days."},
		{"hours", exp(180, false), "", "Usually answered within 3 hours."},
		{"23 hours", exp(23*60, false), "", "Usually answered within 23 hours."},
		{"a day", exp(24*60, false), "", "Usually answered within a day."},
		{"days", exp(24*60+1, false), "Ana", "Usually answered within 2 days — Ana is on it."},
	}
	for _, c := range cases {
		if got := ExpectationWords(c.e, c.assignee, now, paris); got != c.want {
			t.Errorf("%s: got %q, want %q", c.name, got, c.want)
		}
	}
}

func TestExpectationWordsWhileITIsClosed(t *testing.T) {
	paris := time.FixedZone("CET", 3600)
	newYork := time.FixedZone("EST", -5*3600)
	// Friday 4 December 2026, 18:30 in Paris; IT opens Monday 9:00 Paris.
	now := time.Date(2026, 12, 4, 17, 30, 0, 0, time.UTC)
	monday := time.Date(2026, 12, 7, 8, 0, 0, 0, time.UTC)
	e := protocol.Expectation{Urgency: protocol.UrgencyBlocking, FirstResponseMinutes: 30, Working: true, NextOpen: monday}
	cases := []struct {
		name     string
		e        protocol.Expectation
		assignee string
		now      time.Time
		loc      *time.Location
		want     string
	}{
		{"across the weekend", e, "", now, paris, "IT is back Monday at 9:00 — we'll answer then."},
		{"with who is on it", e, "Rob", now, paris, "IT is back Monday at 9:00 — we'll answer then. Rob is on it."},
		// The same moment read in New York: 3:00 on Monday there.
		{"the person's time zone", e, "", now, newYork, "IT is back Monday at 3:00 — we'll answer then."},
		{"longer than the opening", withMinutes(e, 120), "", now, paris,
			"IT is back Monday at 9:00, and usually answers within 2 working hours."},
		{"tomorrow", e, "", time.Date(2026, 12, 6, 20, 0, 0, 0, time.UTC), paris, "IT is back tomorrow at 9:00 — we'll answer then."},
		// Monday 7:00 in Paris: the same day.
		{"today", e, "", time.Date(2026, 12, 7, 6, 0, 0, 0, time.UTC), paris, "IT is back today at 9:00 — we'll answer then."},
		{"past a week", withOpen(e, time.Date(2026, 12, 14, 8, 0, 0, 0, time.UTC)), "", now, paris,
			"IT is back Monday 14 December at 9:00 — we'll answer then."},
		// IT opened since the welcome (offline since): the usual promise.
		{"next open passed", e, "", monday.Add(time.Hour), paris, "Usually answered within 30 minutes."},
		{"closed for months", withOpen(e, now.Add(90*24*time.Hour)), "", now, paris, ""},
		{"no promise while closed", withMinutes(e, 0), "", now, paris, ""},
	}
	for _, c := range cases {
		if got := ExpectationWords(c.e, c.assignee, c.now, c.loc); got != c.want {
			t.Errorf("%s: got %q, want %q", c.name, got, c.want)
		}
	}
}

func withMinutes(e protocol.Expectation, m int) protocol.Expectation {
	e.FirstResponseMinutes = m
	return e
}

func withOpen(e protocol.Expectation, at time.Time) protocol.Expectation {
	e.NextOpen = at
	return e
}

func TestCleanExpectations(t *testing.T) {
	in := []protocol.Expectation{
		{Urgency: "someday", FirstResponseMinutes: 60},
		{Urgency: protocol.UrgencyBlocking, FirstResponseMinutes: 0},
		{Urgency: protocol.UrgencyBlocking, FirstResponseMinutes: 30},
		{Urgency: protocol.UrgencyBlocking, FirstResponseMinutes: 10},
		{Urgency: protocol.UrgencyWhenYouCan, FirstResponseMinutes: 240, Working: true},
	}
	got := cleanExpectations(in)
	if len(got) != 2 || got[0].FirstResponseMinutes != 30 || got[1].Urgency != protocol.UrgencyWhenYouCan {
		t.Fatalf("clean = %+v", got)
	}
}

func TestRequestExpectation(t *testing.T) {
	now := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
	list := []protocol.Expectation{{Urgency: protocol.UrgencyBlocking, FirstResponseMinutes: 120, Working: true}}
	rob := &protocol.Person{Name: "Rob"}
	req := func(st protocol.Status, u protocol.Urgency, who *protocol.Person, answered bool) agentapi.Request {
		return agentapi.Request{Status: st, Urgency: u, Assignee: who, Answered: answered}
	}
	cases := []struct {
		name string
		r    agentapi.Request
		want string
	}{
		{"new", req(protocol.StatusNew, protocol.UrgencyBlocking, nil, false), "Usually answered within 2 working hours."},
		{"picked up", req(protocol.StatusInProgress, protocol.UrgencyBlocking, rob, false), "Usually answered within 2 working hours — Rob is on it."},
		{"answered", req(protocol.StatusInProgress, protocol.UrgencyBlocking, rob, true), ""},
		{"waiting on the person", req(protocol.StatusWaitingOnUser, protocol.UrgencyBlocking, rob, false), ""},
		{"resolved", req(protocol.StatusResolved, protocol.UrgencyBlocking, rob, false), ""},
		{"reopened", req(protocol.StatusReopened, protocol.UrgencyBlocking, rob, false), ""},
		{"no promise for its urgency", req(protocol.StatusNew, protocol.UrgencyWhenYouCan, nil, false), ""},
	}
	for _, c := range cases {
		if got := RequestExpectation(c.r, list, now, time.UTC); got != c.want {
			t.Errorf("%s: got %q, want %q", c.name, got, c.want)
		}
	}
	if got := RequestExpectation(req(protocol.StatusNew, protocol.UrgencyBlocking, nil, false), nil, now, time.UTC); got != "" {
		t.Errorf("no expectations ever: got %q", got)
	}
}

// expectCore is a core on a real store at db, not linked: the test plays
// the server's frames through the link's handler.
func expectCore(t *testing.T, db string) (*Core, *store.Store, <-chan agentapi.Event) {
	t.Helper()
	st, err := store.Open(db, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	c, err := New(Config{Store: st, Collector: sysinfo.New(sysinfo.Options{AgentVersion: "1.0.0-test"})})
	if err != nil {
		t.Fatal(err)
	}
	events, cancel := c.subscribe()
	t.Cleanup(func() { cancel(); c.Close(); st.Close() })
	return c, st, events
}

func expectationOf(c *Core, u protocol.Urgency) string {
	s, _ := c.Status(context.Background())
	return agentapi.ExpectationFor(s.Expectations, u)
}

// The welcome's expectations reach Status and each open request not yet
// answered, with who is on it; IT's first answer ends the line; they are
// kept for offline, and a welcome without any clears them.
func TestExpectationsFromWelcomeToRequests(t *testing.T) {
	ctx := context.Background()
	db := filepath.Join(t.TempDir(), "agent.db")
	c, st, events := expectCore(t, db)
	if s, _ := c.Status(ctx); len(s.Expectations) != 0 {
		t.Fatalf("expectations before IT sent any: %+v", s.Expectations)
	}
	hd := (*handler)(c)
	hd.Welcome(ctx, protocol.Welcome{Revision: protocol.Revision, Expectations: []protocol.Expectation{
		{Urgency: protocol.UrgencyBlocking, FirstResponseMinutes: 30, Working: true},
		{Urgency: protocol.UrgencyWhenYouCan, FirstResponseMinutes: 120, Working: true},
		{Urgency: "someday", FirstResponseMinutes: 5},
	}})
	if got := expectationOf(c, protocol.UrgencyBlocking); got != "Usually answered within 30 minutes." {
		t.Fatalf("blocking: %q", got)
	}
	if got := expectationOf(c, protocol.UrgencyWhenYouCan); got != "Usually answered within 2 working hours." {
		t.Fatalf("when you can: %q", got)
	}
	if s, _ := c.Status(ctx); len(s.Expectations) != 2 {
		t.Fatalf("unknown urgency kept: %+v", s.Expectations)
	}
	waitEvent(t, events, "the new promise", func(ev agentapi.Event) bool {
		return ev.Type == agentapi.EventConnection && len(ev.Connection.Expectations) == 2
	})

	r, err := c.RaiseRequest(ctx, agentapi.NewRequest{Urgency: protocol.UrgencyWhenYouCan, Text: "The printer jams"})
	if err != nil {
		t.Fatal(err)
	}
	if r.Expectation != "Usually answered within 2 working hours." {
		t.Fatalf("raised: %q", r.Expectation)
	}
	rob := protocol.Person{Name: "Rob"}
	frame := func(seq uint64, kind protocol.Kind, body any) {
		t.Helper()
		env, err := protocol.New(kind, body)
		if err != nil {
			t.Fatal(err)
		}
		env.Seq = seq
		if err := hd.Store(ctx, env); err != nil {
			t.Fatal(err)
		}
	}
	frame(1, protocol.KindRequestStatus, protocol.RequestStatus{RequestID: r.ID, Status: protocol.StatusInProgress, Assignee: &rob, Text: "Rob picked up your request"})
	ev := waitEvent(t, events, "Rob picks it up", func(ev agentapi.Event) bool {
		return ev.Type == agentapi.EventRequest && ev.Request.ID == r.ID && ev.Request.Status == protocol.StatusInProgress
	})
	const onIt = "Usually answered within 2 working hours — Rob is on it."
	if ev.Request.Expectation != onIt {
		t.Fatalf("event: %q", ev.Request.Expectation)
	}
	list, err := c.Requests(ctx)
	if err != nil || len(list) != 1 || list[0].Expectation != onIt {
		t.Fatalf("requests = %+v, %v", list, err)
	}
	if one, _ := c.Request(ctx, r.ID); one.Expectation != onIt {
		t.Fatalf("request: %q", one.Expectation)
	}

	// Offline: a new agent on the same store still shows the last promise.
	c.Close()
	st.Close()
	c2, st2, _ := expectCore(t, db)
	if got := expectationOf(c2, protocol.UrgencyBlocking); got != "Usually answered within 30 minutes." {
		t.Fatalf("offline, kept: %q", got)
	}
	if list, _ := c2.Requests(ctx); len(list) != 1 || list[0].Expectation != onIt {
		t.Fatalf("offline requests = %+v", list)
	}

	// IT's first answer: no promise any more.
	hd2 := (*handler)(c2)
	env, _ := protocol.New(protocol.KindMessage, protocol.Message{RequestID: r.ID, MessageID: "msg_1", Author: rob, Text: "Which printer?", CreatedAt: time.Now()})
	env.Seq = 2
	if err := hd2.Store(ctx, env); err != nil {
		t.Fatal(err)
	}
	if list, _ := c2.Requests(ctx); len(list) != 1 || list[0].Expectation != "" || !list[0].Answered {
		t.Fatalf("answered requests = %+v", list)
	}

	// IT stopped promising (or an older server): nothing shown, nothing kept.
	hd2.Welcome(ctx, protocol.Welcome{Revision: protocol.Revision})
	if s, _ := c2.Status(ctx); len(s.Expectations) != 0 {
		t.Fatalf("after a welcome without: %+v", s.Expectations)
	}
	if v, _ := st2.Meta(ctx, metaExpectations); v != "null" && v != "[]" && v != "" {
		t.Fatalf("kept after clearing: %q", v)
	}
}

func waitEvent(t *testing.T, events <-chan agentapi.Event, what string, ok func(agentapi.Event) bool) agentapi.Event {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case ev := <-events:
			if ok(ev) {
				return ev
			}
		case <-timeout:
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func FuzzExpectationWords(f *testing.F) {
	f.Add(30, true, int64(0), "Rob")
	f.Add(-1, false, int64(1), "")
	f.Add(481, true, int64(3600), " ")
	f.Fuzz(func(t *testing.T, minutes int, working bool, openIn int64, who string) {
		now := time.Date(2026, 12, 4, 17, 30, 0, 0, time.UTC)
		e := protocol.Expectation{Urgency: protocol.UrgencyBlocking, FirstResponseMinutes: minutes, Working: working}
		if openIn != 0 {
			e.NextOpen = now.Add(time.Duration(openIn) * time.Second)
		}
		s := ExpectationWords(e, who, now, time.FixedZone("X", 5*3600+1800))
		if minutes <= 0 && s != "" {
			t.Fatalf("a promise from %d minutes: %q", minutes, s)
		}
		if s != "" && (strings.Contains(s, "within 0") || strings.Contains(strings.ReplaceAll(s, strings.TrimSpace(who), ""), "-")) {
			t.Fatalf("odd words: %q", s)
		}
	})
}
