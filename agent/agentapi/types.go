package agentapi

import (
	"time"

	"github.com/deskside/deskside/shared/protocol"
)

// The agent's domain types. They are JSON-tagged because the local API
// carries them as they are; they are not the server wire types (those live
// in shared/protocol and are converted at the edge). A request's status is
// protocol.Status; the agent's link to the server is a Connection.

// ConnState is where the agent's link to the server stands.
type ConnState string

const (
	ConnEnrolling  ConnState = "enrolling"  // no credentials yet, or enrolling now
	ConnConnecting ConnState = "connecting" // dialling or waiting for welcome
	ConnOnline     ConnState = "online"     // welcome received; frames flow
	ConnOffline    ConnState = "offline"    // between attempts; see Connection.Detail
)

// Connection is the agent's link to the server and its counters: what the
// tray and `deskside-agent status` show.
type Connection struct {
	State ConnState `json:"state"`
	// Detail is a plain sentence for the user ("You're offline — anything you
	// send is saved and goes out when we're back.").
	Detail string `json:"detail,omitempty"`
	// LastError is the technical reason for logs and support, never shown
	// to the user as the only explanation.
	LastError    string    `json:"last_error,omitempty"`
	Since        time.Time `json:"since"`
	Server       string    `json:"server,omitempty"`
	ServerName   string    `json:"server_name,omitempty"`
	DeviceID     string    `json:"device_id,omitempty"`
	AgentVersion string    `json:"agent_version"`
	// Unread counts unread technician messages, status changes and announcements.
	Unread int `json:"unread"`
	// Pending counts frames saved locally that the server has not yet acknowledged.
	Pending int `json:"pending"`
	// NextRetry is when the next connection attempt is due (offline only).
	NextRetry time.Time `json:"next_retry,omitzero"`
	// Expectations say how soon IT usually answers, per urgency, worded
	// for the person (Get help shows the one for the urgency picked). They
	// are the last the help desk told this computer, kept offline too;
	// none when it never told any (nothing is invented).
	Expectations []Expectation `json:"expectations,omitempty"`
}

// Expectation is an honest promise for one urgency, already in plain words
// ("Usually answered within 2 working hours.").
type Expectation struct {
	Urgency protocol.Urgency `json:"urgency"`
	Text    string           `json:"text"`
}

// ExpectationFor returns the text for urgency u in list ("" when none).
func ExpectationFor(list []Expectation, u protocol.Urgency) string {
	for _, e := range list {
		if e.Urgency == u {
			return e.Text
		}
	}
	return ""
}

// NewRequest is what the user fills in to raise a request.
type NewRequest struct {
	Category protocol.Category `json:"category"`
	Urgency  protocol.Urgency  `json:"urgency"`
	Text     string            `json:"text"`
	// Screenshot is optional PNG or JPEG bytes the user chose to attach.
	Screenshot     []byte `json:"screenshot,omitempty"`
	ScreenshotName string `json:"screenshot_name,omitempty"`
	// ShownArticles are the ids of the articles suggested while the person
	// typed (at most 10), so IT sees what did not help.
	ShownArticles []string `json:"shown_articles,omitempty"`
	// Check is the heads-up check whose "Ask IT" raised it.
	Check protocol.CheckKind `json:"check,omitempty"`
	// SoftwareTitle links a software request to a title (protocol.SoftwareTitleID).
	SoftwareTitle string `json:"software_title,omitempty"`
}

// Request is one of the user's requests as the agent knows it.
type Request struct {
	ID        string            `json:"id"`
	Category  protocol.Category `json:"category"`
	Urgency   protocol.Urgency  `json:"urgency"`
	Text      string            `json:"text"`
	Status    protocol.Status   `json:"status"`
	Assignee  *protocol.Person  `json:"assignee,omitempty"`
	Rating    int               `json:"rating,omitempty"`
	CreatedAt time.Time         `json:"created_at"`
	UpdatedAt time.Time         `json:"updated_at"`
	// Sent is true once the server acknowledged the request; until then it
	// waits in the outbox and the UI says "saved — will be sent".
	Sent          bool `json:"sent"`
	Unread        bool `json:"unread"`
	HasScreenshot bool `json:"has_screenshot"`
	// Messages and History are filled only by the single-request calls.
	Messages []Message     `json:"messages,omitempty"`
	History  []StatusEvent `json:"history,omitempty"`
	// LastText is the newest line of the thread, for lists.
	LastText string `json:"last_text,omitempty"`
	// Answered is true once IT wrote in the thread.
	Answered bool `json:"answered,omitempty"`
	// Expectation is how soon IT usually answers, with who is on it, in
	// plain words ("Usually answered within 2 working hours — Rob is on
	// it."): set while the request is open and IT has not answered yet,
	// from the last promise the help desk made; "" otherwise.
	Expectation string `json:"expectation,omitempty"`
}

// Message is one line of a request's thread, from the user or a technician.
type Message struct {
	ID        string          `json:"id"`
	RequestID string          `json:"request_id"`
	Author    protocol.Person `json:"author"`
	FromUser  bool            `json:"from_user"`
	Text      string          `json:"text"`
	CreatedAt time.Time       `json:"created_at"`
	// Sent is meaningful for the user's own messages: acknowledged by the server.
	Sent bool `json:"sent"`
	Read bool `json:"read"`
}

// StatusEvent is one step in a request's history ("Rob picked up your request").
type StatusEvent struct {
	Status   protocol.Status  `json:"status"`
	Assignee *protocol.Person `json:"assignee,omitempty"`
	Text     string           `json:"text"`
	At       time.Time        `json:"at"`
}

// Announcement is IT speaking to many desks.
type Announcement struct {
	ID        string          `json:"id"`
	Title     string          `json:"title"`
	Text      string          `json:"text"`
	Severity  string          `json:"severity,omitempty"`
	Author    protocol.Person `json:"author"`
	CreatedAt time.Time       `json:"created_at"`
	ExpiresAt time.Time       `json:"expires_at,omitzero"`
	Read      bool            `json:"read"`
	// Kind is protocol.AnnouncementKnownProblem for an outage ("Is it
	// this?"), else news.
	Kind string `json:"kind,omitempty"`
	// ResolvedAt and ResolvedText are IT's all-clear on a known problem.
	ResolvedAt   time.Time `json:"resolved_at,omitzero"`
	ResolvedText string    `json:"resolved_text,omitempty"`
	// MeToo is true once this person said "Me too" on it.
	MeToo bool `json:"me_too,omitempty"`
}

// EventType names what changed.
type EventType string

const (
	EventConnection   EventType = "state"        // the Connection changed (online, offline…)
	EventMessage      EventType = "message"      // a technician wrote
	EventRequest      EventType = "request"      // a request changed (status, sent, rating)
	EventAnnouncement EventType = "announcement" // IT announced something
	EventCheck        EventType = "check"        // a heads-up check changed (Check set; Notify: tell the person)
)

// Event is one live change the UI may want to show. Exactly one of the
// pointer fields matching Type is set.
type Event struct {
	Type         EventType       `json:"type"`
	At           time.Time       `json:"at"`
	Connection   *Connection     `json:"status,omitempty"`
	Request      *Request        `json:"request,omitempty"`
	Message      *Message        `json:"message,omitempty"`
	Announcement *Announcement   `json:"announcement,omitempty"`
	Check        *CheckItem      `json:"check,omitempty"`
	Prompt       *SoftwarePrompt `json:"prompt,omitempty"` // EventSoftwarePrompt
	Note         *SoftwareNote   `json:"note,omitempty"`   // EventSoftwareNote
	// Notify (EventCheck) says the check just started warning (or its
	// reminder came due): show a notification.
	Notify bool `json:"notify,omitempty"`
}

// Where suggested articles came from (Suggestions.Source).
const (
	SourceServer  = "server"  // the help desk answered
	SourceOffline = "offline" // the agent's own copy (offline, or the server did not answer)
)

// Article is a self-help article as the agent shows it. Body (Markdown) is
// filled by Article and the offline browser; suggestions carry a Snippet.
type Article struct {
	ID        string    `json:"id"`
	Title     string    `json:"title"`
	Snippet   string    `json:"snippet,omitempty"`
	Tags      []string  `json:"tags,omitempty"`
	OS        []string  `json:"os,omitempty"`
	Pinned    bool      `json:"pinned,omitempty"`
	UpdatedAt time.Time `json:"updated_at"`
	Body      string    `json:"body,omitempty"`
}

// Suggestions answers SuggestArticles: at most three articles and where
// they came from (SourceServer or SourceOffline).
type Suggestions struct {
	Query    string    `json:"query"`
	Source   string    `json:"source"`
	Articles []Article `json:"articles"`
}
