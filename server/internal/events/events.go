// Package events carries what happened on the help desk, after it is
// stored, to whoever else must hear of it: outbound webhooks, Slack and
// Teams, email. Producers (the API, the device gateway, the response-target
// clock) publish; sinks queue durably and deliver in their own time.
package events

import (
	"context"
	"time"

	"github.com/google/uuid"

	"github.com/deskside/deskside/shared/protocol"
)

// Type names an event; the names are a contract (webhook subscribers and
// their filters use them; see docs/integrations.md).
type Type string

// Event types.
const (
	RequestCreated  Type = "request.created"
	RequestUpdated  Type = "request.updated" // status or assignee changed, or a new message
	RequestResolved Type = "request.resolved"
	RequestRated    Type = "request.rated"
	// TargetSlipping: a response target is about to be missed (or was).
	TargetSlipping   Type = "request.target_slipping"
	SoftwareReported Type = "software.reported" // a person told IT about software ("yes, for work")
	HeadsUpFixed     Type = "heads_up.fixed"    // a person fixed a heads-up item themselves
	HeadsUpAsked     Type = "heads_up.asked"    // a person asked IT for help with a heads-up item
)

// Types is every type, in the order a console lists them.
var Types = []Type{RequestCreated, RequestUpdated, RequestResolved, RequestRated, TargetSlipping,
	SoftwareReported, HeadsUpFixed, HeadsUpAsked}

// Valid reports whether t is a known type.
func (t Type) Valid() bool {
	for _, x := range Types {
		if x == t {
			return true
		}
	}
	return false
}

// Event is one thing that happened. Its JSON is the Standard Webhooks
// payload shape: {"type", "timestamp", "data"}; ID is sent as webhook-id.
type Event struct {
	ID   string    `json:"-"`
	Type Type      `json:"type"`
	At   time.Time `json:"timestamp"`
	Data Data      `json:"data"`
}

// Data is what an event is about; only the fields of its type are set.
type Data struct {
	Request *protocol.RequestSummary `json:"request,omitempty"`
	// Previous is the request's status and assignee before an update.
	Previous *Previous `json:"previous,omitempty"`
	// Actor is who did it: a technician's name, or "" for the employee.
	Actor string `json:"actor,omitempty"`
	// ActorID is the acting technician's id ("" for the employee or the
	// server itself); kept off the wire, for sinks that must not tell a
	// technician what they did themselves (email).
	ActorID string `json:"-"`
	// AssigneeName is the assigned technician's name ("" none).
	AssigneeName string    `json:"assignee_name,omitempty"`
	Target       *Target   `json:"target,omitempty"`
	Software     *Software `json:"software,omitempty"`
	HeadsUp      *HeadsUp  `json:"heads_up,omitempty"`
	// URL opens the thing in the console ("" when the server does not
	// know its public URL).
	URL string `json:"url,omitempty"`
}

// Previous is a request's state before an update.
type Previous struct {
	Status   protocol.Status `json:"status"`
	Assignee string          `json:"assignee,omitempty"`
}

// Target says which response target is slipping and when it is due.
type Target struct {
	Kind string    `json:"kind"` // "first_response" or "resolution"
	Due  time.Time `json:"due"`
}

// Software is a title a person told IT about.
type Software struct {
	TitleID   string `json:"title_id"`
	Name      string `json:"name"`
	Publisher string `json:"publisher,omitempty"`
	DeviceID  string `json:"device_id"`
	Hostname  string `json:"hostname,omitempty"`
	Note      string `json:"note,omitempty"`
}

// HeadsUp is a heads-up item a person acted on.
type HeadsUp struct {
	Check    protocol.CheckKind `json:"check"`
	DeviceID string             `json:"device_id"`
	Hostname string             `json:"hostname,omitempty"`
}

// New is an event of type t happening now, with a fresh id.
func New(t Type, d Data) Event {
	return Event{ID: "evt_" + uuid.NewString(), Type: t, At: time.Now().UTC().Truncate(time.Millisecond), Data: d}
}

// Sink receives events after the change they report is stored. Publish
// must return quickly (queue, don't deliver) and must not fail the change
// that was already made: a sink logs its own errors.
type Sink interface {
	Publish(ctx context.Context, ev Event)
}

// Multi publishes to every sink in turn.
type Multi []Sink

// Publish implements Sink.
func (m Multi) Publish(ctx context.Context, ev Event) {
	for _, s := range m {
		if s != nil {
			s.Publish(ctx, ev)
		}
	}
}

// Discard drops every event (the default when nothing listens).
var Discard Sink = discard{}

type discard struct{}

func (discard) Publish(context.Context, Event) {}

// Func adapts a function to a Sink (tests, small listeners).
type Func func(ctx context.Context, ev Event)

// Publish implements Sink.
func (f Func) Publish(ctx context.Context, ev Event) { f(ctx, ev) }
