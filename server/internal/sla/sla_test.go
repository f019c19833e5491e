package sla

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/deskside/deskside/shared/protocol"
)

const berlinPolicy = `{"teams":[{"name":"default","time_zone":"Europe/Berlin",
 "hours":[{"days":["mon","tue","wed","thu","fri"],"start":"09:00","end":"17:00"}],
 "holidays":["2026-12-25"],"groups":["berlin-office"]},
 {"name":"New York","time_zone":"America/New_York","hours":[{"days":["mon","tue","wed","thu","fri"],"start":"08:00","end":"12:00"},
 {"days":["mon","tue","wed","thu","fri"],"start":"13:00","end":"17:00"}],"groups":["nyc"]}],
 "targets":{"blocking":{"first_response_minutes":120,"resolution_minutes":480},
 "when_you_can":{"first_response_minutes":480,"resolution_minutes":2400}},"warn_before_minutes":30}`

func clock(t *testing.T) *Clock {
	t.Helper()
	p, err := Decode([]byte(berlinPolicy))
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	k, err := Compile(p)
	if err != nil {
		t.Fatalf("compile: %v", err)
	}
	return k
}

func at(t *testing.T, zone, s string) time.Time {
	t.Helper()
	loc, err := time.LoadLocation(zone)
	if err != nil {
		t.Fatal(err)
	}
	v, err := time.ParseInLocation("2006-01-02 15:04", s, loc)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestDueAcrossWeekend(t *testing.T) {
	k := clock(t)
	// Friday 2026-11-13 16:00 Berlin, blocking: 1 h left on Friday, 1 h on Monday.
	fr, res := k.Dues("berlin-office", protocol.UrgencyBlocking, at(t, "Europe/Berlin", "2026-11-13 16:00"))
	if want := at(t, "Europe/Berlin", "2026-11-16 10:00"); !fr.Equal(want) {
		t.Errorf("first response due %v, want %v", fr, want)
	}
	// 8 working hours: 1 on Friday, 7 on Monday → Monday 16:00.
	if want := at(t, "Europe/Berlin", "2026-11-16 16:00"); !res.Equal(want) {
		t.Errorf("resolution due %v, want %v", res, want)
	}
	// Sent on Saturday: the clock starts Monday 09:00.
	fr, _ = k.Dues("", protocol.UrgencyBlocking, at(t, "Europe/Berlin", "2026-11-14 11:00"))
	if want := at(t, "Europe/Berlin", "2026-11-16 11:00"); !fr.Equal(want) {
		t.Errorf("weekend request due %v, want %v", fr, want)
	}
	c := k.Team("berlin-office")
	if got := c.WorkingBetween(at(t, "Europe/Berlin", "2026-11-13 16:00"), at(t, "Europe/Berlin", "2026-11-16 10:00")); got != 2*time.Hour {
		t.Errorf("working between Friday 16:00 and Monday 10:00 = %v, want 2h", got)
	}
}

func TestDueSkipsHoliday(t *testing.T) {
	k := clock(t)
	// Thursday 2026-12-24 16:30; Friday 25th is a holiday; then the weekend.
	fr, _ := k.Dues("berlin-office", protocol.UrgencyBlocking, at(t, "Europe/Berlin", "2026-12-24 16:30"))
	if want := at(t, "Europe/Berlin", "2026-12-28 10:30"); !fr.Equal(want) {
		t.Errorf("due %v, want %v (30 min Thursday, holiday, weekend, 90 min Monday)", fr, want)
	}
	// The New York team has no such holiday: its Friday counts.
	fr, _ = k.Dues("nyc", protocol.UrgencyBlocking, at(t, "America/New_York", "2026-12-24 16:30"))
	if want := at(t, "America/New_York", "2026-12-25 09:30"); !fr.Equal(want) {
		t.Errorf("nyc due %v, want %v", fr, want)
	}
}

func TestDueAcrossDST(t *testing.T) {
	k := clock(t)
	c := k.Team("")
	// Night hours across the autumn change in Berlin (2026-10-25, 03:00 CEST → 02:00 CET): a
	// team working 00:00–06:00 has 7 real hours that Sunday.
	p := Default("Europe/Berlin")
	p.Teams[0].Hours = []Hours{{Days: []string{"sun"}, Start: "00:00", End: "06:00"}}
	night, err := Compile(p)
	if err != nil {
		t.Fatal(err)
	}
	nc := night.Team("")
	day := at(t, "Europe/Berlin", "2026-10-25 00:00")
	if got := nc.WorkingBetween(day, day.Add(24*time.Hour)); got != 7*time.Hour {
		t.Errorf("working time on the autumn night = %v, want 7h (one hour repeats)", got)
	}
	// Spring (2027-03-28, 02:00 CET → 03:00 CEST): the same window holds 5 hours.
	spring := at(t, "Europe/Berlin", "2027-03-28 00:00")
	if got := nc.WorkingBetween(spring, spring.Add(24*time.Hour)); got != 5*time.Hour {
		t.Errorf("working time on the spring night = %v, want 5h (one hour skipped)", got)
	}
	// Office hours straddling the weekend change keep their wall-clock times:
	// Friday 16:00 CEST + 2 h → Monday 10:00 CET, 67 real hours later (one more than usual).
	start := at(t, "Europe/Berlin", "2026-10-23 16:00")
	due := c.Due(start, 2*time.Hour)
	if want := at(t, "Europe/Berlin", "2026-10-26 10:00"); !due.Equal(want) {
		t.Errorf("due across DST %v, want %v", due, want)
	}
	if due.Sub(start) != 67*time.Hour {
		t.Errorf("real time across DST = %v, want 67h", due.Sub(start))
	}
	if _, off := due.In(c.Location()).Zone(); off != 3600 {
		t.Errorf("due offset %d, want CET (+1h)", off)
	}
}

func TestResumeAfterWaiting(t *testing.T) {
	k := clock(t)
	start := at(t, "Europe/Berlin", "2026-11-12 10:00") // Thursday
	fr, res := k.Dues("", protocol.UrgencyWhenYouCan, start)
	if want := at(t, "Europe/Berlin", "2026-11-13 10:00"); !fr.Equal(want) {
		t.Fatalf("first response due %v, want %v", fr, want)
	}
	// Waited on the employee from Thursday 15:00 to Monday 11:00: 2 + 8 + 2 = 12 working hours.
	from, to := at(t, "Europe/Berlin", "2026-11-12 15:00"), at(t, "Europe/Berlin", "2026-11-16 11:00")
	if got := k.Team("").WorkingBetween(from, to); got != 12*time.Hour {
		t.Fatalf("waited %v, want 12h", got)
	}
	var none time.Time
	k.Resume("", from, to, &fr, &res, &none)
	if want := at(t, "Europe/Berlin", "2026-11-16 14:00"); !fr.Equal(want) {
		t.Errorf("first response due after the pause %v, want %v", fr, want)
	}
	// Resolution: 40 working hours from Thursday 10:00 → Thursday 2026-11-19 10:00; +12 h → Friday 2026-11-20 14:00.
	if want := at(t, "Europe/Berlin", "2026-11-20 14:00"); !res.Equal(want) {
		t.Errorf("resolution due after the pause %v, want %v", res, want)
	}
	if !none.IsZero() {
		t.Errorf("a zero due moved to %v", none)
	}
	// A pause entirely outside working hours moves nothing.
	before := fr
	k.Resume("", at(t, "Europe/Berlin", "2026-11-14 10:00"), at(t, "Europe/Berlin", "2026-11-15 20:00"), &fr)
	if !fr.Equal(before) {
		t.Errorf("a weekend pause moved the due from %v to %v", before, fr)
	}
}

func TestOpenAndNextOpen(t *testing.T) {
	c := clock(t).Team("nyc")
	lunch := at(t, "America/New_York", "2026-11-16 12:30")
	if c.Open(lunch) {
		t.Error("open at lunch")
	}
	if got, want := c.NextOpen(lunch), at(t, "America/New_York", "2026-11-16 13:00"); !got.Equal(want) {
		t.Errorf("next open %v, want %v", got, want)
	}
	if work := at(t, "America/New_York", "2026-11-16 09:00"); !c.Open(work) || !c.NextOpen(work).IsZero() {
		t.Error("closed at 09:00 on a Monday")
	}
	if got, want := c.NextOpen(at(t, "America/New_York", "2026-11-13 18:00")), at(t, "America/New_York", "2026-11-16 08:00"); !got.Equal(want) {
		t.Errorf("next open after Friday %v, want %v", got, want)
	}
}

func TestPromise(t *testing.T) {
	few := []time.Duration{time.Hour, time.Hour}
	if got := Promise(120, few); got != 120 {
		t.Errorf("too few samples: %d, want the target 120", got)
	}
	slow := make([]time.Duration, 11)
	for i := range slow {
		slow[i] = time.Duration(i+1) * 30 * time.Minute // median 3 h
	}
	if got := Promise(120, slow); got != 180 {
		t.Errorf("slow median: %d, want 180", got)
	}
	if got := Promise(600, slow); got != 600 {
		t.Errorf("target above median: %d, want 600", got)
	}
	if got := Promise(0, slow[:10]); got != 165 {
		t.Errorf("no target, even count: %d, want 165", got)
	}
	if got := Promise(0, nil); got != 0 {
		t.Errorf("nothing known: %d, want 0", got)
	}
}

func TestBadPolicies(t *testing.T) {
	base := func(team string) string {
		return `{"teams":[` + team + `],"targets":{"blocking":{"first_response_minutes":60,"resolution_minutes":480}}}`
	}
	tests := []struct {
		name, doc, field, words string
	}{
		{"overlap", base(`{"name":"a","time_zone":"UTC","hours":[{"days":["mon"],"start":"09:00","end":"13:00"},{"days":["tue","mon"],"start":"12:00","end":"17:00"}]}`),
			"teams[0].hours[1]", "overlaps hours[0]"},
		{"end before start", base(`{"name":"a","time_zone":"UTC","hours":[{"days":["mon"],"start":"17:00","end":"09:00"}]}`),
			"teams[0].hours[0].end", "not after the start"},
		{"bad day", base(`{"name":"a","time_zone":"UTC","hours":[{"days":["monday"],"start":"09:00","end":"17:00"}]}`),
			"teams[0].hours[0].days[0]", "not a day"},
		{"bad time", base(`{"name":"a","time_zone":"UTC","hours":[{"days":["mon"],"start":"9am","end":"17:00"}]}`),
			"teams[0].hours[0].start", "HH:MM"},
		{"holiday format", base(`{"name":"a","time_zone":"UTC","hours":[{"days":["mon"],"start":"09:00","end":"17:00"}],"holidays":["25.12.2026"]}`),
			"teams[0].holidays[0]", "YYYY-MM-DD"},
		{"unknown zone", base(`{"name":"a","time_zone":"Mars/Olympus","hours":[{"days":["mon"],"start":"09:00","end":"17:00"}]}`),
			"teams[0].time_zone", "not a time zone"},
		{"no hours", base(`{"name":"a","time_zone":"UTC","hours":[]}`), "teams[0].hours", "needs working hours"},
		{"no teams", `{"teams":[]}`, "teams", "at least one team"},
		{"negative target", `{"teams":[{"name":"a","time_zone":"UTC","hours":[{"days":["mon"],"start":"09:00","end":"17:00"}]}],
			"targets":{"when_you_can":{"first_response_minutes":-5}}}`, "targets.when_you_can.first_response_minutes", "positive"},
		{"group twice", `{"teams":[{"name":"a","time_zone":"UTC","hours":[{"days":["mon"],"start":"09:00","end":"17:00"}],"groups":["x"]},
			{"name":"b","time_zone":"UTC","hours":[{"days":["mon"],"start":"09:00","end":"17:00"}],"groups":["x"]}]}`, "teams[1].groups[0]", "one team"},
		{"unknown field", `{"teams":[],"holiday":["2026-12-25"]}`, "policy", "unknown field"},
		{"not json", `{"teams":`, "policy", "not valid JSON"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Decode([]byte(tc.doc))
			var es Errors
			if !errors.As(err, &es) {
				t.Fatalf("err = %v, want field errors", err)
			}
			for _, e := range es {
				if e.Field == tc.field && strings.Contains(e.Msg, tc.words) {
					return
				}
			}
			t.Errorf("errors %q lack %s: …%s…", err, tc.field, tc.words)
		})
	}
}

func TestDefaultIsValid(t *testing.T) {
	for _, z := range []string{"", "Local", "Europe/Berlin"} {
		if _, err := Compile(Default(z)); err != nil {
			t.Errorf("Default(%q): %v", z, err)
		}
	}
	if fr, res := mustCompile(t, Default("UTC")).Dues("", protocol.UrgencyBlocking, time.Now()); !fr.IsZero() || !res.IsZero() {
		t.Error("the default policy set due times; it has no targets")
	}
}

func mustCompile(t *testing.T, p Policy) *Clock {
	t.Helper()
	k, err := Compile(p)
	if err != nil {
		t.Fatal(err)
	}
	return k
}
