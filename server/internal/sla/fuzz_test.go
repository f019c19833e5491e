package sla

import (
	"errors"
	"testing"
	"time"
)

// FuzzDecode feeds the policy decoder (PUT /api/v1/sla) anything: it must
// not panic, must answer field errors, and a policy it accepts must
// compile into a clock whose due times agree with its working time.
func FuzzDecode(f *testing.F) {
	f.Add([]byte(berlinPolicy))
	f.Add([]byte(`{"teams":[{"name":"a","time_zone":"UTC","hours":[{"days":["sun"],"start":"00:00","end":"24:00"}]}]}`))
	f.Add([]byte(`{"teams":[{"name":"a","time_zone":"UTC","hours":[{"days":["mon"],"start":"09:00","end":"13:00"},{"days":["mon"],"start":"12:00","end":"17:00"}]}]}`))
	f.Add([]byte(`{"teams":[{"name":"a","time_zone":"Europe/Berlin","hours":[{"days":["sun"],"start":"02:00","end":"03:00"}],"holidays":["2026-02-30"]}]}`))
	f.Add([]byte(`{"teams":null,"targets":{"blocking":{"first_response_minutes":-1}}}`))
	start := time.Date(2026, 10, 23, 14, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Decode(data)
		if err != nil {
			var es Errors
			if !errors.As(err, &es) || len(es) == 0 {
				t.Fatalf("error %v is not a list of field errors", err)
			}
			return
		}
		k, err := Compile(p)
		if err != nil {
			t.Fatalf("a valid policy did not compile: %v", err)
		}
		for _, c := range k.Teams() {
			due := c.Due(start, 90*time.Minute)
			if due.IsZero() {
				continue // no working time within maxDays (e.g. every day a holiday)
			}
			if got := c.WorkingBetween(start, due); got != 90*time.Minute {
				t.Fatalf("team %s: working time up to the due %v is %v, want 90m", c.Name, due, got)
			}
		}
	})
}
