package sla

import (
	"fmt"
	"slices"
	"time"

	"github.com/deskside/deskside/shared/protocol"
)

// maxDays bounds every walk through the calendar: a due time more than
// this many days out is not a due time anyone can act on.
const maxDays = 3 * 366

// Calendar is one team's working time: when the clock runs.
type Calendar struct {
	Name     string
	loc      *time.Location
	week     [7][]window // per time.Weekday, sorted, not overlapping
	holidays map[civil]bool
}

type window struct{ start, end int } // minutes after local midnight

type civil struct {
	y int
	m time.Month
	d int
}

func civilOf(t time.Time) civil { y, m, d := t.Date(); return civil{y, m, d} }

// at is the instant of minute-of-day min on day c in loc (time.Date
// normalises a wall time that DST skips or repeats).
func (c civil) at(min int, loc *time.Location) time.Time {
	return time.Date(c.y, c.m, c.d, min/60, min%60, 0, 0, loc)
}

func (c civil) next() civil { return civilOf(time.Date(c.y, c.m, c.d+1, 12, 0, 0, 0, time.UTC)) }

func (c civil) weekday() time.Weekday {
	return time.Date(c.y, c.m, c.d, 12, 0, 0, 0, time.UTC).Weekday()
}

// NewCalendar compiles a validated team.
func NewCalendar(t Team) (*Calendar, error) {
	loc, err := loadZone(t.TimeZone)
	if err != nil {
		return nil, fmt.Errorf("team %q: time zone %q: %w", t.Name, t.TimeZone, err)
	}
	c := &Calendar{Name: t.Name, loc: loc, holidays: map[civil]bool{}}
	for _, h := range t.Hours {
		start, ok1 := clockMinutes(h.Start)
		end, ok2 := clockMinutes(h.End)
		if !ok1 || !ok2 || end <= start {
			return nil, fmt.Errorf("team %q: hours %s–%s are not valid", t.Name, h.Start, h.End)
		}
		for _, d := range h.Days {
			if i := dayIndex(d); i >= 0 {
				c.week[i] = append(c.week[i], window{start, end})
			}
		}
	}
	for i := range c.week {
		slices.SortFunc(c.week[i], func(a, b window) int { return a.start - b.start })
	}
	for _, h := range t.Holidays {
		d, err := time.Parse(time.DateOnly, h)
		if err != nil {
			return nil, fmt.Errorf("team %q: holiday %q: %w", t.Name, h, err)
		}
		c.holidays[civilOf(d)] = true
	}
	return c, nil
}

// Location is the team's time zone.
func (c *Calendar) Location() *time.Location { return c.loc }

// windows calls fn with each working window [s, e) that ends after from,
// in order, until fn returns false or maxDays have been looked at.
func (c *Calendar) windows(from time.Time, fn func(s, e time.Time) bool) {
	day := civilOf(from.In(c.loc)).prev()
	for range maxDays {
		if !c.holidays[day] {
			for _, w := range c.week[day.weekday()] {
				s, e := day.at(w.start, c.loc), day.at(w.end, c.loc)
				if !e.After(from) || !e.After(s) {
					continue
				}
				if !fn(s, e) {
					return
				}
			}
		}
		day = day.next()
	}
}

// prev is the day before: a walk starts a day early so a window that
// DST normalisation or 24:00 moved across midnight is not missed.
func (c civil) prev() civil { return civilOf(time.Date(c.y, c.m, c.d-1, 12, 0, 0, 0, time.UTC)) }

// WorkingBetween is the working time between a and b (0 when b is not
// after a): what the clock counted.
func (c *Calendar) WorkingBetween(a, b time.Time) time.Duration {
	if !b.After(a) {
		return 0
	}
	var sum time.Duration
	c.windows(a, func(s, e time.Time) bool {
		if !s.Before(b) {
			return false
		}
		sum += earlier(e, b).Sub(later(s, a))
		return true
	})
	return sum
}

// Due is the instant when work working time has passed on the clock after
// start; zero when the calendar has no working time within maxDays. A
// due time always falls inside (or at the end of) a working window.
func (c *Calendar) Due(start time.Time, work time.Duration) time.Time {
	if work <= 0 {
		return start
	}
	var due time.Time
	left := work
	c.windows(start, func(s, e time.Time) bool {
		s = later(s, start)
		if avail := e.Sub(s); avail >= left {
			due = s.Add(left)
			return false
		} else {
			left -= avail
		}
		return true
	})
	return due
}

// Open reports whether now is working time.
func (c *Calendar) Open(now time.Time) bool {
	open := false
	c.windows(now, func(s, e time.Time) bool {
		open = !now.Before(s) && now.Before(e)
		return false
	})
	return open
}

// NextOpen is when working time next starts after now; zero when now is
// working time (or no working time comes within maxDays).
func (c *Calendar) NextOpen(now time.Time) time.Time {
	var next time.Time
	c.windows(now, func(s, e time.Time) bool {
		if now.Before(s) {
			next = s
		}
		return false
	})
	return next
}

// Clock is a compiled policy: which team serves a device, and when its
// requests are due.
type Clock struct {
	Policy  Policy
	teams   []*Calendar
	byGroup map[string]*Calendar
}

// Compile turns a policy into a Clock; the policy is validated first.
func Compile(p Policy) (*Clock, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	k := &Clock{Policy: p, byGroup: map[string]*Calendar{}}
	for _, t := range p.Teams {
		c, err := NewCalendar(t)
		if err != nil {
			return nil, err
		}
		k.teams = append(k.teams, c)
		for _, g := range t.Groups {
			k.byGroup[g] = c
		}
	}
	return k, nil
}

// Team is the calendar of the team that serves enrolment group group: the
// team naming it, else the first team.
func (k *Clock) Team(group string) *Calendar {
	if c, ok := k.byGroup[group]; ok {
		return c
	}
	return k.teams[0]
}

// Teams is every team's calendar, in policy order.
func (k *Clock) Teams() []*Calendar { return k.teams }

// Dues are the first-response and resolution due times of a request of
// urgency u from a device in group, received at start (zero: no target).
func (k *Clock) Dues(group string, u protocol.Urgency, start time.Time) (firstResponse, resolution time.Time) {
	t := k.Policy.Targets.For(u)
	c := k.Team(group)
	if t.FirstResponseMinutes > 0 {
		firstResponse = c.Due(start, time.Duration(t.FirstResponseMinutes)*time.Minute)
	}
	if t.ResolutionMinutes > 0 {
		resolution = c.Due(start, time.Duration(t.ResolutionMinutes)*time.Minute)
	}
	return firstResponse, resolution
}

// Resume moves due times later by the working time a request waited on
// the employee (from waitingSince to now): the clock was paused. A zero
// due stays zero.
func (k *Clock) Resume(group string, waitingSince, now time.Time, dues ...*time.Time) {
	c := k.Team(group)
	waited := c.WorkingBetween(waitingSince, now)
	if waited <= 0 {
		return
	}
	for _, d := range dues {
		if !d.IsZero() {
			if moved := c.Due(*d, waited); !moved.IsZero() {
				*d = moved
			}
		}
	}
}

func earlier(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
