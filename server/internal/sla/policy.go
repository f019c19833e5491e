// Package sla is the arithmetic of response targets: a policy (teams with
// working hours, holidays and time zones; targets per urgency), its
// validation, and the working-time calendar that turns "2 working hours"
// into a due time. Pure: no I/O, every function is handed the time.
package sla

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/deskside/deskside/shared/protocol"
)

// MaxPolicyBytes caps a policy document (PUT /api/v1/sla).
const MaxPolicyBytes = 64 << 10

// Limits that keep a policy small enough to reason about.
const (
	maxTeams         = 50
	maxHours         = 28
	maxHolidays      = 400
	maxGroups        = 200
	maxTargetMinutes = 60 * 24 * 365 // a year of working minutes
)

// Policy is the response-target policy as GET/PUT /api/v1/sla carry it.
type Policy struct {
	// Teams are IT's teams with their working hours. A device belongs to
	// the team whose Groups name its enrolment group; a device in no named
	// group belongs to the first team.
	Teams   []Team  `json:"teams"`
	Targets Targets `json:"targets"`
	// WarnBeforeMinutes is how long before a target slips the assignee (or
	// the team) is warned; 0: only when it has slipped.
	WarnBeforeMinutes int `json:"warn_before_minutes"`
}

// Team is one team's calendar.
type Team struct {
	Name     string   `json:"name"`
	TimeZone string   `json:"time_zone"` // IANA name, e.g. "Europe/Berlin"
	Hours    []Hours  `json:"hours"`
	Holidays []string `json:"holidays"` // YYYY-MM-DD, in the team's zone
	Groups   []string `json:"groups"`   // enrolment groups this team serves
}

// Hours is a span of working time on some weekdays, local to the team.
type Hours struct {
	Days  []string `json:"days"`  // mon … sun
	Start string   `json:"start"` // HH:MM
	End   string   `json:"end"`   // HH:MM, after Start; 24:00 is midnight at the end of the day
}

// Targets are the targets per urgency.
type Targets struct {
	Blocking   Target `json:"blocking"`
	WhenYouCan Target `json:"when_you_can"`
}

// Target is how many working minutes IT allows itself; 0: no target.
type Target struct {
	FirstResponseMinutes int `json:"first_response_minutes"`
	ResolutionMinutes    int `json:"resolution_minutes"`
}

// For is the target for urgency u (zero for an unknown urgency).
func (t Targets) For(u protocol.Urgency) Target {
	switch u {
	case protocol.UrgencyBlocking:
		return t.Blocking
	case protocol.UrgencyWhenYouCan:
		return t.WhenYouCan
	}
	return Target{}
}

// Default is the policy in force until an admin saves one: Monday to
// Friday, 09:00–17:00 in zone, and no targets. Without targets no request
// gets a due time and nobody is warned (a promise nobody made is not
// kept for them), but employees still hear the real median, counted in
// these working hours.
func Default(zone string) Policy {
	if zone == "" || zone == "Local" {
		zone = "UTC"
	}
	return Policy{Teams: []Team{{Name: "default", TimeZone: zone,
		Hours: []Hours{{Days: []string{"mon", "tue", "wed", "thu", "fri"}, Start: "09:00", End: "17:00"}}}},
		WarnBeforeMinutes: 30}
}

// FieldError is one thing wrong with a policy, named by its field path
// ("teams[0].hours[1].start").
type FieldError struct {
	Field string `json:"field"`
	Msg   string `json:"message"`
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Msg }

// Errors is every FieldError of a policy, in document order.
type Errors []*FieldError

func (es Errors) Error() string {
	s := make([]string, len(es))
	for i, e := range es {
		s[i] = e.Error()
	}
	return strings.Join(s, "; ")
}

// Decode reads a policy document strictly (unknown fields are an error, so
// a misspelt "holiday" is not silently ignored) and validates it.
func Decode(data []byte) (Policy, error) {
	var p Policy
	if len(data) > MaxPolicyBytes {
		return p, Errors{{Field: "policy", Msg: fmt.Sprintf("is larger than %d KB; keep it shorter", MaxPolicyBytes>>10)}}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return p, Errors{{Field: "policy", Msg: "is not valid JSON: " + err.Error()}}
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return p, Errors{{Field: "policy", Msg: "has more after the JSON object; send one object"}}
	}
	return p, p.Validate()
}

var dayNames = []string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

// dayIndex is d as a time.Weekday, or -1.
func dayIndex(d string) int { return slices.Index(dayNames, strings.ToLower(d)) }

// clockMinutes parses HH:MM (00:00–24:00) into minutes after midnight.
func clockMinutes(s string) (int, bool) {
	if len(s) != 5 || s[2] != ':' {
		return 0, false
	}
	h, m := atoi2(s[0:2]), atoi2(s[3:5])
	if h < 0 || m < 0 || h > 24 || m > 59 || (h == 24 && m != 0) {
		return 0, false
	}
	return h*60 + m, true
}

func atoi2(s string) int {
	if s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9' {
		return -1
	}
	return int(s[0]-'0')*10 + int(s[1]-'0')
}

// Validate reports every problem with p (an Errors), or nil.
func (p Policy) Validate() error {
	var es Errors
	add := func(field, format string, a ...any) {
		es = append(es, &FieldError{Field: field, Msg: fmt.Sprintf(format, a...)})
	}
	if len(p.Teams) == 0 {
		add("teams", "needs at least one team with working hours")
	}
	if len(p.Teams) > maxTeams {
		add("teams", "has %d teams; at most %d", len(p.Teams), maxTeams)
	}
	names, groups := map[string]int{}, map[string]int{}
	for i, t := range p.Teams {
		if i >= maxTeams {
			break
		}
		f := fmt.Sprintf("teams[%d]", i)
		if strings.TrimSpace(t.Name) == "" {
			add(f+".name", "is empty; give the team a name")
		} else if j, dup := names[strings.ToLower(t.Name)]; dup {
			add(f+".name", "%q is already the name of teams[%d]", t.Name, j)
		} else {
			names[strings.ToLower(t.Name)] = i
		}
		if _, err := loadZone(t.TimeZone); err != nil {
			add(f+".time_zone", "%q is not a time zone we know; use an IANA name such as Europe/Berlin or America/New_York", t.TimeZone)
		}
		validateHours(f, t.Hours, add)
		if len(t.Holidays) > maxHolidays {
			add(f+".holidays", "has %d days; at most %d", len(t.Holidays), maxHolidays)
		}
		for k, h := range t.Holidays {
			if k >= maxHolidays {
				break
			}
			if _, err := time.Parse(time.DateOnly, h); err != nil || len(h) != 10 {
				add(fmt.Sprintf("%s.holidays[%d]", f, k), "%q is not a date as YYYY-MM-DD (for example 2026-12-25)", h)
			}
		}
		if len(t.Groups) > maxGroups {
			add(f+".groups", "has %d groups; at most %d", len(t.Groups), maxGroups)
		}
		for k, g := range t.Groups {
			if k >= maxGroups {
				break
			}
			if j, dup := groups[g]; dup && j != i {
				add(fmt.Sprintf("%s.groups[%d]", f, k), "group %q is already served by teams[%d]; a group belongs to one team", g, j)
			} else {
				groups[g] = i
			}
		}
	}
	checkTarget := func(f string, t Target) {
		for _, v := range []struct {
			name string
			m    int
		}{{"first_response_minutes", t.FirstResponseMinutes}, {"resolution_minutes", t.ResolutionMinutes}} {
			switch {
			case v.m < 0:
				add(f+"."+v.name, "is %d; use 0 for no target or a positive number of working minutes", v.m)
			case v.m > maxTargetMinutes:
				add(f+"."+v.name, "is %d; at most %d working minutes", v.m, maxTargetMinutes)
			}
		}
		if t.FirstResponseMinutes > 0 && t.ResolutionMinutes > 0 && t.ResolutionMinutes < t.FirstResponseMinutes {
			add(f+".resolution_minutes", "is shorter than the first response target; resolving includes answering")
		}
	}
	checkTarget("targets.blocking", p.Targets.Blocking)
	checkTarget("targets.when_you_can", p.Targets.WhenYouCan)
	if p.WarnBeforeMinutes < 0 || p.WarnBeforeMinutes > maxTargetMinutes {
		add("warn_before_minutes", "is %d; use 0 (warn when slipped) or a positive number of minutes", p.WarnBeforeMinutes)
	}
	if len(es) == 0 {
		return nil
	}
	return es
}

// validateHours checks one team's hours: known days, HH:MM, end after
// start, and no two spans overlapping on a day.
func validateHours(team string, hours []Hours, add func(field, format string, a ...any)) {
	if len(hours) == 0 {
		add(team+".hours", "is empty; a team needs working hours, for example mon–fri 09:00–17:00")
	}
	if len(hours) > maxHours {
		add(team+".hours", "has %d spans; at most %d", len(hours), maxHours)
		return
	}
	type span struct{ i, start, end int }
	var perDay [7][]span
	for i, h := range hours {
		f := fmt.Sprintf("%s.hours[%d]", team, i)
		start, okS := clockMinutes(h.Start)
		end, okE := clockMinutes(h.End)
		if !okS {
			add(f+".start", "%q is not a time as HH:MM (for example 09:00)", h.Start)
		}
		if !okE {
			add(f+".end", "%q is not a time as HH:MM (for example 17:00)", h.End)
		}
		if okS && okE && end <= start {
			add(f+".end", "%s is not after the start %s; a span ends after it starts (use 24:00 for midnight)", h.End, h.Start)
			okE = false
		}
		if len(h.Days) == 0 {
			add(f+".days", "is empty; name the days, for example [\"mon\",\"tue\"]")
		}
		seen := map[int]bool{}
		for k, d := range h.Days {
			di := dayIndex(d)
			if di < 0 {
				add(fmt.Sprintf("%s.days[%d]", f, k), "%q is not a day; use mon, tue, wed, thu, fri, sat or sun", d)
				continue
			}
			if seen[di] {
				add(fmt.Sprintf("%s.days[%d]", f, k), "%q is listed twice", d)
				continue
			}
			seen[di] = true
			if !okS || !okE {
				continue
			}
			for _, o := range perDay[di] {
				if start < o.end && o.start < end {
					add(f, "%s %s–%s overlaps hours[%d] (%s–%s); join them into one span", dayNames[di], h.Start, h.End,
						o.i, hours[o.i].Start, hours[o.i].End)
				}
			}
			perDay[di] = append(perDay[di], span{i, start, end})
		}
	}
}

// loadZone loads an IANA zone; "" is refused (say UTC if you mean it).
func loadZone(name string) (*time.Location, error) {
	if name == "" || name == "Local" {
		return nil, errors.New("no zone")
	}
	return time.LoadLocation(name)
}
