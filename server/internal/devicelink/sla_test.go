package devicelink_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/deskside/deskside/server/servertest"
	"github.com/deskside/deskside/shared/protocol"
)

// enrolIn enrols a device in an enrolment group.
func enrolIn(t *testing.T, s *servertest.Server, group, hostname string) *servertest.Device {
	t.Helper()
	body, _ := json.Marshal(protocol.EnrollRequest{Token: s.TokenWith(t, group, 0, time.Hour), Hostname: hostname, User: "ana",
		OS: "linux", Arch: "amd64", AgentVersion: "1.0.0"})
	resp, err := http.Post(s.URL()+protocol.EnrollPath, "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out protocol.EnrollResponse
	if resp.StatusCode != http.StatusCreated || json.NewDecoder(resp.Body).Decode(&out) != nil {
		t.Fatalf("enrol in %s: %d", group, resp.StatusCode)
	}
	return (&servertest.Device{ID: out.DeviceID, Secret: out.DeviceSecret, Hostname: hostname}).On(s)
}

// TestWelcomeCarriesExpectations: each device hears, at hello, the promise
// of the team that serves its enrolment group, and when that team is back
// if it is off now; its requests are due by that team's calendar.
func TestWelcomeCarriesExpectations(t *testing.T) {
	srv := servertest.New(t)
	admin := srv.Tech(t)
	policy := map[string]any{
		"teams": []map[string]any{
			{"name": "Always", "time_zone": "UTC", "hours": []map[string]any{{"days": []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}, "start": "00:00", "end": "24:00"}}},
			// On duty one minute a week: off whenever this test runs (almost).
			{"name": "Mondays", "time_zone": "UTC", "hours": []map[string]any{{"days": []string{"mon"}, "start": "00:00", "end": "00:01"}}, "groups": []string{"night"}},
		},
		"targets": map[string]any{"blocking": map[string]int{"first_response_minutes": 1}, "when_you_can": map[string]int{"first_response_minutes": 0}},
	}
	if st := admin.Do(t, "PUT", "/api/v1/sla", policy, nil); st != http.StatusOK {
		t.Fatalf("PUT /api/v1/sla: %d", st)
	}
	day := enrolIn(t, srv, "office", "ana-laptop")
	night := enrolIn(t, srv, "night", "ben-desktop")

	w := day.Connect(t, 0)
	if len(w.Expectations) != 1 || w.Expectations[0].Urgency != protocol.UrgencyBlocking || w.Expectations[0].FirstResponseMinutes != 1 ||
		!w.Expectations[0].Working || !w.Expectations[0].NextOpen.IsZero() {
		t.Fatalf("the always-open team's device hears %+v", w.Expectations)
	}

	now := time.Now().UTC()
	w = night.Connect(t, 0)
	got := map[protocol.Urgency]protocol.Expectation{}
	for _, e := range w.Expectations {
		got[e.Urgency] = e
	}
	nextMonday := time.Date(now.Year(), now.Month(), now.Day()+(8-int(now.Weekday()))%7, 0, 0, 0, 0, time.UTC)
	if !nextMonday.After(now) {
		nextMonday = nextMonday.AddDate(0, 0, 7)
	}
	onDuty := now.Weekday() == time.Monday && now.Hour() == 0 && now.Minute() == 0
	if !onDuty {
		if len(got) != 2 {
			t.Fatalf("the Monday team's device hears %+v, want both urgencies with when IT is back", w.Expectations)
		}
		for u, e := range got {
			if !e.NextOpen.Equal(nextMonday) {
				t.Errorf("%s: next open %v, want Monday 00:00 UTC (%v)", u, e.NextOpen, nextMonday)
			}
		}
		if e := got[protocol.UrgencyWhenYouCan]; e.FirstResponseMinutes != 0 || e.Working {
			t.Errorf("no target and no data promises %+v", e)
		}
	}

	// Its blocking request is due one working minute into the Monday team's week.
	id := night.RaiseRequest(t, "Nothing works")
	var detail struct{ Request protocol.RequestSummary }
	if st := admin.Do(t, "GET", "/api/v1/requests/"+id, nil, &detail); st != http.StatusOK {
		t.Fatal(st)
	}
	due := detail.Request.FirstResponseDue
	if due.Weekday() != time.Monday || due.Hour() != 0 || due.Sub(now) > 8*24*time.Hour || !due.After(now) {
		t.Errorf("first response due %v, want early on a Monday within the week", due)
	}
}
