// Package reports is IT's month beside the store's figures: which month a
// query means, the page's tables as CSV, its charts as SVG drawn on the
// server, and the monthly email of the report to the people who read it.
package reports

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"time"
)

// Month is one calendar month in a time zone: [From, To).
type Month struct {
	Label    string // YYYY-MM
	From, To time.Time
	Loc      *time.Location
}

var monthRE = regexp.MustCompile(`^(\d{4})-(\d{2})$`)

// maxZone bounds a time-zone name (the longest IANA name is 32).
const maxZone = 64

// ErrBadMonth and ErrBadZone say which query parameter was wrong; their
// text is for people.
var (
	ErrBadMonth = errors.New("month is a year and month like 2026-03, from 2000-01 on")
	ErrBadZone  = errors.New("tz is a time-zone name like Europe/Berlin or UTC")
)

// ParseMonth reads month (YYYY-MM; "" is the month now is in) in the time
// zone named tz ("" is UTC).
func ParseMonth(month, tz string, now time.Time) (Month, error) {
	loc := time.UTC
	if tz != "" {
		l, err := loadZone(tz)
		if err != nil {
			return Month{}, err
		}
		loc = l
	}
	if month == "" {
		return MonthOf(now, loc), nil
	}
	m := monthRE.FindStringSubmatch(month)
	if m == nil {
		return Month{}, ErrBadMonth
	}
	y, _ := strconv.Atoi(m[1])
	mo, _ := strconv.Atoi(m[2])
	if y < 2000 || mo < 1 || mo > 12 {
		return Month{}, ErrBadMonth
	}
	return monthAt(y, time.Month(mo), loc), nil
}

func loadZone(tz string) (*time.Location, error) {
	if len(tz) > maxZone || tz == "Local" {
		return nil, ErrBadZone
	}
	l, err := time.LoadLocation(tz)
	if err != nil {
		return nil, fmt.Errorf("%w (%.64q is not one)", ErrBadZone, tz)
	}
	return l, nil
}

// MonthOf is the month t is in, in loc.
func MonthOf(t time.Time, loc *time.Location) Month {
	t = t.In(loc)
	return monthAt(t.Year(), t.Month(), loc)
}

// Previous is the month before m.
func (m Month) Previous() Month {
	p := m.From.AddDate(0, -1, 0)
	return monthAt(p.Year(), p.Month(), m.Loc)
}

func monthAt(y int, mo time.Month, loc *time.Location) Month {
	from := time.Date(y, mo, 1, 0, 0, 0, 0, loc)
	return Month{Label: from.Format("2006-01"), From: from, To: from.AddDate(0, 1, 0), Loc: loc}
}

// Title is the month as people say it: "March 2026".
func (m Month) Title() string { return m.From.Format("January 2006") }
