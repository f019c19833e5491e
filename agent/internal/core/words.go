package core

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/deskside/deskside/agent/agentapi"
	"github.com/deskside/deskside/shared/protocol"

	"github.com/deskside/deskside/agent/internal/enroll"
	"github.com/deskside/deskside/agent/internal/link"
	"github.com/deskside/deskside/agent/internal/store"
)

// The sentences the user reads. Warm, plain, no jargon; each says what
// happened to their words and what, if anything, to do.
const (
	MsgOffline     = "You're offline — anything you send is saved and goes out when we're back."
	MsgConnecting  = "Connecting to IT…"
	MsgOnline      = "Connected to IT."
	MsgPinMismatch = "We couldn't confirm this is your company's server, so we didn't connect. Please tell IT."
	MsgRevoked     = "This computer is no longer connected to IT's help desk. Please ask IT to set it up again — anything you write is kept here."
	MsgBadToken    = "That enrolment code didn't work — it may have expired. Ask IT for a fresh one."
	MsgGarbage     = "We're having trouble understanding IT's server. We'll keep trying — anything you send is saved."
	MsgDiskFull    = "Your disk is full, so we couldn't save this. Free some space and try again — your text is still here."
	MsgNotEnrolled = "This computer isn't set up with IT's help desk yet. Ask IT for an enrolment code."
	MsgEnrolling   = "Setting up this computer with IT's help desk…"
	MsgInsecure    = "The help desk address isn't secure (it must start with https://), so we didn't connect. Please tell IT."
)

// Words returns the sentence for a link or enrolment error.
func Words(err error) string {
	switch {
	case err == nil:
		return MsgOnline
	case errors.Is(err, link.ErrPinMismatch):
		return MsgPinMismatch
	case errors.Is(err, link.ErrRevoked), errors.Is(err, link.ErrUnauthorized):
		return MsgRevoked
	case errors.Is(err, enroll.ErrBadToken):
		return MsgBadToken
	case errors.Is(err, link.ErrInsecure):
		return MsgInsecure
	case errors.Is(err, link.ErrGarbage):
		return MsgGarbage
	case errors.Is(err, enroll.ErrNotEnrolled):
		return MsgNotEnrolled
	case errors.Is(err, store.ErrDiskFull):
		return MsgDiskFull
	}
	return MsgOffline
}

func userErr(code agentapi.Code, msg string, err error) error {
	return agentapi.NewError(code, msg, err)
}

// storeErr turns a store failure into what the user should hear.
func storeErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, store.ErrDiskFull):
		return userErr(agentapi.CodeDiskFull, MsgDiskFull, err)
	case errors.Is(err, store.ErrNotFound):
		return userErr(agentapi.CodeNotFound, "We couldn't find that request on this computer.", err)
	}
	return err
}

// Honest expectations: how soon IT usually answers, in plain words. Rounded
// up, never down, so the promise is never rosier than the truth.
const (
	workingDayMinutes = 8 * 60 // a working day, for "2 working days"
	// Past these the number is not a promise anyone can plan with (or the
	// server sent garbage): no line rather than a silly one.
	maxWorkingMinutes  = 10 * workingDayMinutes // two working weeks
	maxCalendarMinutes = 14 * 24 * 60           // two weeks
	maxClosedFor       = 31 * 24 * time.Hour    // "IT is back" further away than this: no line
)

// ExpectationWords words e for a person whose clock is in loc at now:
// "Usually answered within 2 working hours.", or while IT is closed
// "IT is back Monday at 9:00 — we'll answer then.". assignee, when not
// "", adds that the person is on it. It returns "" when e makes no
// promise, or one too large to be honest about.
func ExpectationWords(e protocol.Expectation, assignee string, now time.Time, loc *time.Location) string {
	within := withinWords(e.FirstResponseMinutes, e.Working)
	if within == "" {
		return ""
	}
	if loc == nil {
		loc = time.Local
	}
	assignee = strings.TrimSpace(assignee)
	if e.NextOpen.After(now) {
		if e.NextOpen.Sub(now) > maxClosedFor {
			return ""
		}
		s := "IT is back " + backWords(e.NextOpen.In(loc), now.In(loc))
		if e.FirstResponseMinutes <= 60 {
			s += " — we'll answer then."
		} else {
			s += ", and usually answers within " + within + "."
		}
		if assignee != "" {
			s += " " + assignee + " is on it."
		}
		return s
	}
	s := "Usually answered within " + within
	if assignee != "" {
		return s + " — " + assignee + " is on it."
	}
	return s + "."
}

// withinWords says a duration in the largest unit that reads naturally,
// rounded up: "30 minutes", "2 working hours", "1 working day", "3 days".
func withinWords(minutes int, working bool) string {
	switch {
	case minutes <= 0:
		return ""
	case working && minutes > maxWorkingMinutes, !working && minutes > maxCalendarMinutes:
		return ""
	case minutes < 60:
		if n := ceilDiv(minutes, 5) * 5; n < 60 {
			return fmt.Sprintf("%d minutes", n)
		}
	}
	hours := ceilDiv(minutes, 60)
	if working {
		if hours < 8 {
			return plural(hours, "working hour")
		}
		return plural(ceilDiv(minutes, workingDayMinutes), "working day")
	}
	if hours < 24 {
		if hours == 1 {
			return "an hour"
		}
		return plural(hours, "hour")
	}
	if days := ceilDiv(minutes, 24*60); days > 1 {
		return plural(days, "day")
	}
	return "a day"
}

// backWords says when IT is back, as the person's calendar reads it:
// "today at 13:00", "tomorrow at 9:00", "Monday at 9:00", or past a week
// "Monday 4 January at 9:00".
func backWords(at, now time.Time) string {
	clock := fmt.Sprintf("%d:%02d", at.Hour(), at.Minute())
	y, m, d := now.Date()
	today := time.Date(y, m, d, 0, 0, 0, 0, now.Location())
	days := 0
	for day := today; !sameDay(day, at) && days < 400; day = day.AddDate(0, 0, 1) {
		days++
	}
	switch {
	case days == 0:
		return "today at " + clock
	case days == 1:
		return "tomorrow at " + clock
	case days < 7:
		return at.Weekday().String() + " at " + clock
	}
	return fmt.Sprintf("%s %d %s at %s", at.Weekday(), at.Day(), at.Month(), clock)
}

func sameDay(a, b time.Time) bool {
	ay, am, ad := a.Date()
	by, bm, bd := b.Date()
	return ay == by && am == bm && ad == bd
}

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return fmt.Sprintf("%d %ss", n, unit)
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }
