package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/deskside/deskside/agent/agentapi"
	"github.com/deskside/deskside/shared/protocol"
)

func TestPrintExpectations(t *testing.T) {
	var b strings.Builder
	list := []agentapi.Expectation{
		{Urgency: protocol.UrgencyWhenYouCan, Text: "Usually answered within 2 working hours."},
		{Urgency: protocol.UrgencyBlocking, Text: "Usually answered within 30 minutes."},
	}
	printExpectations(&b, list)
	want := `Answers:    Blocking my work: Usually answered within 30 minutes.
            When you can: Usually answered within 2 working hours.
`
	if b.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", b.String(), want)
	}
	b.Reset()
	printExpectations(&b, nil)
	if b.String() != "" {
		t.Errorf("no promise ever made, yet: %q", b.String())
	}
	// --json carries them as they are.
	j, _ := json.Marshal(agentapi.Connection{State: agentapi.ConnOnline, Expectations: list})
	if !strings.Contains(string(j), `"expectations":[{"urgency":"when_you_can","text":"Usually answered within 2 working hours."}`) {
		t.Errorf("json: %s", j)
	}
}

func TestPrintRequestsWithExpectation(t *testing.T) {
	var b strings.Builder
	at := time.Date(2026, 12, 3, 9, 0, 0, 0, time.Local)
	printRequests(&b, []agentapi.Request{
		{ID: "r-1", Text: "The printer jams", Status: protocol.StatusInProgress, Sent: true, CreatedAt: at,
			Expectation: "Usually answered within 2 working hours — Rob is on it."},
		{ID: "r-2", Text: "VPN drops", Status: protocol.StatusResolved, Sent: true, CreatedAt: at},
	})
	out := b.String()
	if !strings.Contains(out, "r-1  Dec  3 09:00  IT is on it                 The printer jams\n      Usually answered within 2 working hours — Rob is on it.\n  r-2") {
		t.Errorf("requests:\n%s", out)
	}
	b.Reset()
	printThread(&b, agentapi.Request{ID: "r-1", Text: "The printer jams", Status: protocol.StatusInProgress, Sent: true,
		Assignee: &protocol.Person{Name: "Rob"}, Expectation: "Usually answered within 2 working hours — Rob is on it."})
	if !strings.Contains(b.String(), "Looked after by Rob\nUsually answered within 2 working hours — Rob is on it.\n") {
		t.Errorf("thread:\n%s", b.String())
	}
}
