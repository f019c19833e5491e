package core

import (
	"math"
	"testing"
	"time"

	"github.com/deskside/deskside/agent/agentapi"
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
