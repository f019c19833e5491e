// Package agentapitest is an in-memory agentapi.Backend for tests and demos
// of the tray and the windows: a Fake agent that records what the UI asked,
// lets a test push events as the agent would, and lets it wait until the UI
// listens.
package agentapitest

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/deskside/deskside/agent/agentapi"
	"github.com/deskside/deskside/shared/protocol"
)

var _ agentapi.Backend = (*Fake)(nil)

// Fake is an in-memory agentapi.Backend for tests and demos. It records what the UI
// sent and lets a test push events as the agent would. Safe for concurrent use.
type Fake struct {
	mu       sync.Mutex
	status   agentapi.Connection
	snapshot *protocol.Snapshot
	requests map[string]*agentapi.Request
	anns     []agentapi.Announcement
	subs     []chan agentapi.Event
	// subsChanged is closed (and replaced) whenever subs changes, to wake
	// AwaitSubscribed.
	subsChanged chan struct{}
	seq         int

	rec Record
	err error

	articles   []agentapi.Article       // what the self-help calls know (see SetArticles)
	held       map[string]chan struct{} // queries whose suggestions wait (see HoldSuggestions)
	checks     []agentapi.CheckItem     // SetChecks
	checkCalls []string                 // "kind action option"
	sw         softwareState            // software amnesty
}

// Record is what the UI asked the Fake to do.
type Record struct {
	Raised   []agentapi.NewRequest
	Replies  []string // "requestID: text"
	Ratings  []string // "requestID: n"
	Reopened []string
	Read     []string
	// Self-help.
	Suggested []string // the queries SuggestArticles was asked, in order
	Feedback  []string // "articleID: event"
	MeToo     []string // announcement ids
}

// Recorded returns a copy of the calls so far.
func (f *Fake) Recorded() Record {
	f.mu.Lock()
	defer f.mu.Unlock()
	r := f.rec
	r.Raised = append([]agentapi.NewRequest(nil), r.Raised...)
	r.Replies = append([]string(nil), r.Replies...)
	r.Ratings = append([]string(nil), r.Ratings...)
	r.Reopened = append([]string(nil), r.Reopened...)
	r.Read = append([]string(nil), r.Read...)
	r.Suggested = append([]string(nil), r.Suggested...)
	r.Feedback = append([]string(nil), r.Feedback...)
	r.MeToo = append([]string(nil), r.MeToo...)
	return r
}

// FailWith makes every call that changes something return err (nil: succeed).
func (f *Fake) FailWith(err error) { f.mu.Lock(); f.err = err; f.mu.Unlock() }

// NewFake returns a Fake that is online with a small device snapshot.
func NewFake() *Fake {
	return &Fake{
		status: agentapi.Connection{State: agentapi.ConnOnline, Server: "https://help.example.com",
			ServerName: "Example IT", AgentVersion: "1.0.0", Since: time.Now()},
		snapshot:    SampleSnapshot(),
		requests:    map[string]*agentapi.Request{},
		subsChanged: make(chan struct{}),
	}
}

// SampleSnapshot is a plausible laptop, for tests and demos.
func SampleSnapshot() *protocol.Snapshot {
	return &protocol.Snapshot{
		TakenAt:      time.Date(2026, 11, 23, 9, 30, 0, 0, time.UTC),
		AgentVersion: "1.0.0",
		Host: protocol.Host{Hostname: "laptop-anna", OS: "linux", Platform: "debian",
			PlatformVersion: "13", Kernel: "6.12.0", Arch: "amd64", UptimeSeconds: 93784, User: "anna"},
		CPU:     protocol.CPU{Model: "Intel Core i5-1245U", Cores: 10, Threads: 12, UsagePct: 12.5},
		Memory:  protocol.Memory{TotalBytes: 16 << 30, UsedBytes: 9 << 30, UsedPct: 56.2},
		Disks:   []protocol.Disk{{Mount: "/", FS: "ext4", TotalBytes: 512 << 30, FreeBytes: 120 << 30, UsedPct: 76.6}},
		Network: []protocol.NetIf{{Name: "wlan0", Addrs: []string{"192.168.1.23/24"}, Up: true}},
		Battery: &protocol.Battery{Percent: 81, State: "discharging"},
		TopCPU:  []protocol.Proc{{Name: "firefox", PID: 2211, CPUPct: 8.1, MemBytes: 900 << 20}},
	}
}

// SetStatus replaces the status and tells subscribers.
func (f *Fake) SetStatus(s agentapi.Connection) {
	f.mu.Lock()
	f.status = s
	f.mu.Unlock()
	f.Emit(agentapi.Event{Type: agentapi.EventConnection, Connection: &s})
}

// SetExpectations replaces the help desk's promises (already worded, as
// the agent words them) and tells subscribers. Each open request not yet
// answered, and one raised next, carries the one for its urgency (the
// Fake does not add who is on it) until IT's first message.
func (f *Fake) SetExpectations(list []agentapi.Expectation) {
	f.mu.Lock()
	f.status.Expectations = append([]agentapi.Expectation(nil), list...)
	for _, r := range f.requests {
		if !r.Answered && (r.Status == protocol.StatusNew || r.Status == protocol.StatusInProgress) {
			r.Expectation = agentapi.ExpectationFor(list, r.Urgency)
		}
	}
	s := f.status
	f.mu.Unlock()
	f.Emit(agentapi.Event{Type: agentapi.EventConnection, Connection: &s})
}

// SetSnapshot replaces the snapshot (nil: none sent yet).
func (f *Fake) SetSnapshot(s *protocol.Snapshot) { f.mu.Lock(); f.snapshot = s; f.mu.Unlock() }

// AddRequest stores r as if it had come from the agent's store.
func (f *Fake) AddRequest(r agentapi.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests[r.ID] = &r
}

// AddAnnouncement stores a (newest first) and tells subscribers.
func (f *Fake) AddAnnouncement(a agentapi.Announcement) {
	f.mu.Lock()
	f.anns = append([]agentapi.Announcement{a}, f.anns...)
	f.status.Unread++
	f.mu.Unlock()
	f.Emit(agentapi.Event{Type: agentapi.EventAnnouncement, Announcement: &a})
}

// AddMessage appends a technician's message to a request and tells subscribers.
func (f *Fake) AddMessage(m agentapi.Message) {
	f.mu.Lock()
	if r, ok := f.requests[m.RequestID]; ok {
		r.Messages = append(r.Messages, m)
		r.Unread = true
		r.LastText = m.Text
		if !m.FromUser {
			r.Answered, r.Expectation = true, "" // IT's first answer ends the promise
		}
	}
	f.status.Unread++
	f.mu.Unlock()
	f.Emit(agentapi.Event{Type: agentapi.EventMessage, Message: &m})
}

// AwaitSubscribed returns once at least one Events stream is open, so an
// event the test emits next reaches it; or ctx's error.
func (f *Fake) AwaitSubscribed(ctx context.Context) error {
	for {
		f.mu.Lock()
		n, changed := len(f.subs), f.subsChanged
		f.mu.Unlock()
		if n > 0 {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return fmt.Errorf("await an events subscriber: %w", ctx.Err())
		}
	}
}

// subsChangedLocked wakes AwaitSubscribed; f.mu is held.
func (f *Fake) subsChangedLocked() {
	close(f.subsChanged)
	f.subsChanged = make(chan struct{})
}

// Emit sends ev to every subscriber.
func (f *Fake) Emit(ev agentapi.Event) {
	if ev.At.IsZero() {
		ev.At = time.Now()
	}
	f.mu.Lock()
	subs := append([]chan agentapi.Event(nil), f.subs...)
	f.mu.Unlock()
	for _, c := range subs {
		select {
		case c <- ev:
		default: // a slow test reader misses it, as a slow client would
		}
	}
}

// Status implements agentapi.Backend.
func (f *Fake) Status(context.Context) (agentapi.Connection, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.status, nil
}

// Snapshot implements agentapi.Backend.
func (f *Fake) Snapshot(context.Context, bool) (*protocol.Snapshot, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.snapshot == nil {
		return nil, agentapi.NewError(agentapi.CodeNotFound, "IT hasn't received any details from this computer yet.", nil)
	}
	s := *f.snapshot
	return &s, nil
}

// Requests implements agentapi.Backend: newest first, without threads.
func (f *Fake) Requests(context.Context) ([]agentapi.Request, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]agentapi.Request, 0, len(f.requests))
	for _, r := range f.requests {
		c := *r
		c.Messages, c.History = nil, nil
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].CreatedAt.After(out[j].CreatedAt) })
	return out, nil
}

// Request implements agentapi.Backend.
func (f *Fake) Request(_ context.Context, id string) (agentapi.Request, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	r, ok := f.requests[id]
	if !ok {
		return agentapi.Request{}, agentapi.NewError(agentapi.CodeNotFound, "We couldn't find that request on this computer.", nil)
	}
	c := *r
	c.Messages = append([]agentapi.Message(nil), r.Messages...)
	return c, nil
}

// RaiseRequest implements agentapi.Backend. The request is "sent" when online.
func (f *Fake) RaiseRequest(_ context.Context, n agentapi.NewRequest) (agentapi.Request, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return agentapi.Request{}, f.err
	}
	f.rec.Raised = append(f.rec.Raised, n)
	f.seq++
	now := time.Now()
	r := agentapi.Request{ID: fmt.Sprintf("req-%d", f.seq), Category: n.Category, Urgency: n.Urgency,
		Text: n.Text, Status: protocol.StatusNew, CreatedAt: now, UpdatedAt: now,
		Sent: f.status.State == agentapi.ConnOnline, HasScreenshot: len(n.Screenshot) > 0,
		Expectation: agentapi.ExpectationFor(f.status.Expectations, n.Urgency)}
	f.requests[r.ID] = &r
	return r, nil
}

// Reply implements agentapi.Backend.
func (f *Fake) Reply(_ context.Context, id, text string) (agentapi.Message, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return agentapi.Message{}, f.err
	}
	f.rec.Replies = append(f.rec.Replies, id+": "+text)
	m := agentapi.Message{ID: fmt.Sprintf("msg-%d", len(f.rec.Replies)), RequestID: id, FromUser: true,
		Author: protocol.Person{Name: "You"}, Text: text, CreatedAt: time.Now()}
	if r, ok := f.requests[id]; ok {
		r.Messages = append(r.Messages, m)
	}
	return m, nil
}

// Rate implements agentapi.Backend.
func (f *Fake) Rate(_ context.Context, id string, n int, _ string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return f.err
	}
	f.rec.Ratings = append(f.rec.Ratings, fmt.Sprintf("%s: %d", id, n))
	if r, ok := f.requests[id]; ok {
		r.Rating = n
	}
	return nil
}

// Reopen implements agentapi.Backend.
func (f *Fake) Reopen(_ context.Context, id, _ string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return f.err
	}
	f.rec.Reopened = append(f.rec.Reopened, id)
	if r, ok := f.requests[id]; ok {
		r.Status = protocol.StatusReopened
	}
	return nil
}

// MarkRead implements agentapi.Backend.
func (f *Fake) MarkRead(_ context.Context, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rec.Read = append(f.rec.Read, id)
	if r, ok := f.requests[id]; ok && r.Unread {
		r.Unread = false
		f.status.Unread = max(0, f.status.Unread-1)
	}
	return nil
}

// Announcements implements agentapi.Backend.
func (f *Fake) Announcements(context.Context) ([]agentapi.Announcement, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]agentapi.Announcement(nil), f.anns...), nil
}

// MarkAnnouncementRead implements agentapi.Backend.
func (f *Fake) MarkAnnouncementRead(_ context.Context, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := range f.anns {
		if f.anns[i].ID == id && !f.anns[i].Read {
			f.anns[i].Read = true
			f.status.Unread = max(0, f.status.Unread-1)
		}
	}
	return nil
}

// Events implements agentapi.Backend: the current state first, then what Emit sends.
func (f *Fake) Events(ctx context.Context) (<-chan agentapi.Event, error) {
	c := make(chan agentapi.Event, 64)
	f.mu.Lock()
	st := f.status
	f.subs = append(f.subs, c)
	f.subsChangedLocked()
	f.mu.Unlock()
	c <- agentapi.Event{Type: agentapi.EventConnection, At: time.Now(), Connection: &st}
	out := make(chan agentapi.Event)
	go func() {
		defer close(out)
		defer f.unsubscribe(c)
		for {
			select {
			case <-ctx.Done():
				return
			case ev := <-c:
				select {
				case out <- ev:
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	return out, nil
}

func (f *Fake) unsubscribe(c chan agentapi.Event) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, s := range f.subs {
		if s == c {
			f.subs = append(f.subs[:i], f.subs[i+1:]...)
			f.subsChangedLocked()
			return
		}
	}
}
