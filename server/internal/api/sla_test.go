package api_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/deskside/deskside/server/internal/sla"
	"github.com/deskside/deskside/server/servertest"
	"github.com/deskside/deskside/shared/protocol"
)

// allWeek is a policy whose clock always runs (UTC, every day, all day),
// so due times are plain arithmetic whatever the time the test runs.
const allWeek = `{"teams":[{"name":"Help desk","time_zone":"UTC",
 "hours":[{"days":["mon","tue","wed","thu","fri","sat","sun"],"start":"00:00","end":"24:00"}],"holidays":[],"groups":[]}],
 "targets":{"blocking":{"first_response_minutes":120,"resolution_minutes":480},
 "when_you_can":{"first_response_minutes":480,"resolution_minutes":2400}},"warn_before_minutes":30}`

func TestSLAPolicyAPI(t *testing.T) {
	srv := servertest.New(t)
	admin := srv.Tech(t)
	var p sla.Policy
	if st := admin.Do(t, "GET", "/api/v1/sla", nil, &p); st != http.StatusOK {
		t.Fatalf("GET /api/v1/sla: %d", st)
	}
	if len(p.Teams) != 1 || len(p.Teams[0].Hours) != 1 || p.Teams[0].Hours[0].Start != "09:00" ||
		p.Targets.Blocking.FirstResponseMinutes != 0 {
		t.Fatalf("default policy %+v: want Mon–Fri 09–17 with no targets", p)
	}
	put := func(body string) (int, map[string]any) {
		t.Helper()
		st, data := admin.DoRaw(t, "PUT", "/api/v1/sla", "application/json", strings.NewReader(body))
		var out map[string]any
		if err := json.Unmarshal(data, &out); err != nil {
			t.Fatalf("PUT answer %q: %v", data, err)
		}
		return st, out
	}
	for name, tc := range map[string]struct{ body, field, words string }{
		"overlapping hours": {strings.Replace(allWeek, `"hours":[`, `"hours":[{"days":["mon"],"start":"08:00","end":"10:00"},`, 1),
			"teams[0].hours[1]", "overlaps"},
		"holiday in the wrong format": {strings.Replace(allWeek, `"holidays":[]`, `"holidays":["25/12/2026"]`, 1),
			"teams[0].holidays[0]", "YYYY-MM-DD"},
		"unknown zone":   {strings.Replace(allWeek, `"UTC"`, `"Berlin"`, 1), "teams[0].time_zone", "IANA"},
		"misspelt field": {strings.Replace(allWeek, `"holidays"`, `"holiday"`, 1), "policy", "unknown field"},
	} {
		st, out := put(tc.body)
		if st != http.StatusBadRequest || out["error"] != "bad_policy" {
			t.Errorf("%s: %d %v, want 400 bad_policy", name, st, out)
			continue
		}
		msg, _ := out["message"].(string)
		if !strings.Contains(msg, tc.field) || !strings.Contains(msg, tc.words) {
			t.Errorf("%s: message %q does not name %s (%s)", name, msg, tc.field, tc.words)
		}
		fields, _ := out["fields"].([]any)
		if len(fields) == 0 {
			t.Errorf("%s: no field errors in %v", name, out)
		}
	}
	if st := admin.Do(t, "GET", "/api/v1/sla", nil, &p); st != http.StatusOK || p.Targets.Blocking.FirstResponseMinutes != 0 {
		t.Fatalf("a refused policy was saved: %+v", p)
	}
	if st, out := put(allWeek); st != http.StatusOK {
		t.Fatalf("PUT a good policy: %d %v", st, out)
	}
	if st := admin.Do(t, "GET", "/api/v1/sla", nil, &p); st != http.StatusOK || p.Targets.Blocking.FirstResponseMinutes != 120 ||
		p.Teams[0].Name != "Help desk" {
		t.Fatalf("policy after PUT: %+v", p)
	}
	var audit struct {
		Entries []struct{ Action, Detail string }
	}
	admin.Do(t, "GET", "/api/v1/audit", nil, &audit)
	found := false
	for _, e := range audit.Entries {
		found = found || (e.Action == "sla.policy" && strings.Contains(e.Detail, "blocking 120/480"))
	}
	if !found {
		t.Errorf("no audit entry for the policy: %+v", audit)
	}

	// A request raised now carries its due times in both REST views.
	dev := srv.Enroll(t, "ana-laptop")
	dev.Connect(t, 0)
	before := time.Now().UTC()
	id := dev.RaiseRequest(t, "Outlook will not start")
	after := time.Now().UTC()
	var detail struct{ Request protocol.RequestSummary }
	if st := admin.Do(t, "GET", "/api/v1/requests/"+id, nil, &detail); st != http.StatusOK {
		t.Fatalf("GET request: %d", st)
	}
	one := detail.Request
	if due := one.FirstResponseDue; due.Before(before.Add(2*time.Hour-time.Second)) || due.After(after.Add(2*time.Hour+time.Second)) {
		t.Errorf("first_response_due %v, want 2 h after %v", due, before)
	}
	if due := one.ResolutionDue.Sub(one.FirstResponseDue); due != 6*time.Hour {
		t.Errorf("resolution_due is %v after the first response due, want 6h", due)
	}
	_, raw := admin.DoRaw(t, "GET", "/api/v1/requests", "", nil)
	if !bytes.Contains(raw, []byte(`"first_response_due":"`+one.FirstResponseDue.Format(time.RFC3339Nano))) ||
		!bytes.Contains(raw, []byte(`"resolution_due":"`)) {
		t.Errorf("the request list lacks the due times: %s", raw)
	}

	// The device hears the promise at its next hello: IT always works here.
	dev.Close()
	w := dev.Connect(t, 0)
	if len(w.Expectations) != 2 {
		t.Fatalf("welcome expectations %+v, want two", w.Expectations)
	}
	for _, e := range w.Expectations {
		want := map[protocol.Urgency]int{protocol.UrgencyBlocking: 120, protocol.UrgencyWhenYouCan: 480}[e.Urgency]
		if e.FirstResponseMinutes != want || !e.Working || !e.NextOpen.IsZero() {
			t.Errorf("expectation %+v, want %d working minutes and IT open", e, want)
		}
	}
}
