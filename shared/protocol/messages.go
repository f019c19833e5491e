package protocol

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// Category is what kind of help a request asks for.
type Category string

const (
	CategoryProblem  Category = "problem"
	CategoryQuestion Category = "question"
	CategorySoftware Category = "software" // "software I use or need": welcome, never punished
	CategoryIdea     Category = "idea"
)

// Valid reports whether c is a known category.
func (c Category) Valid() bool {
	switch c {
	case CategoryProblem, CategoryQuestion, CategorySoftware, CategoryIdea:
		return true
	}
	return false
}

// Urgency is how much the problem is in the user's way.
type Urgency string

const (
	UrgencyBlocking   Urgency = "blocking"     // "blocking my work"
	UrgencyWhenYouCan Urgency = "when_you_can" // "when you can"
)

// Valid reports whether u is a known urgency.
func (u Urgency) Valid() bool { return u == UrgencyBlocking || u == UrgencyWhenYouCan }

// Status is where a request stands.
type Status string

const (
	StatusNew           Status = "new"
	StatusInProgress    Status = "in_progress"
	StatusWaitingOnUser Status = "waiting_on_user"
	StatusResolved      Status = "resolved"
	StatusReopened      Status = "reopened"
)

// Valid reports whether s is a known status.
func (s Status) Valid() bool {
	switch s {
	case StatusNew, StatusInProgress, StatusWaitingOnUser, StatusResolved, StatusReopened:
		return true
	}
	return false
}

// Open reports whether the request still needs work.
func (s Status) Open() bool { return s != StatusResolved }

// Why CheckText refused a text; match with errors.Is to word the refusal
// for a person (the agent does).
var (
	ErrTextEmpty   = errors.New("text is empty")
	ErrTextInvalid = errors.New("text is not valid UTF-8")
	ErrTextTooLong = errors.New("text is too long")
)

// textError names the field in its message and wraps the reason.
type textError struct {
	msg    string
	reason error
}

func (e *textError) Error() string { return e.msg }
func (e *textError) Unwrap() error { return e.reason }

// CheckText is the one check of free text a person wrote (a request, a
// reply, a comment): not blank when required, valid UTF-8, at most
// MaxTextRunes characters. field names it in the error ("text is empty").
func CheckText(field, s string, required bool) error {
	if required && strings.TrimSpace(s) == "" {
		return &textError{field + " is empty", ErrTextEmpty}
	}
	if !utf8.ValidString(s) {
		return &textError{field + " is not valid UTF-8", ErrTextInvalid}
	}
	if n := utf8.RuneCountInString(s); n > MaxTextRunes {
		return &textError{fmt.Sprintf("%s has %d characters; the limit is %d", field, n, MaxTextRunes), ErrTextTooLong}
	}
	return nil
}

// Hello is the first frame a device sends after the upgrade.
type Hello struct {
	AgentVersion string   `json:"agent_version"`
	OS           string   `json:"os"`   // GOOS
	Arch         string   `json:"arch"` // GOARCH
	Capabilities []string `json:"capabilities,omitempty"`
	// LastSeq is the highest server → device seq the device has stored; the
	// server replays everything after it.
	LastSeq uint64 `json:"last_seq"`
	// Revision is the protocol revision the agent speaks (0: before 2).
	Revision int `json:"revision,omitempty"`
	// Language (revision 5) is the language the person reads, a BCP 47 tag
	// ("de"): what the server writes to them comes in it. "" or a language
	// the server has no catalogue for: English.
	Language string `json:"language,omitempty"`
}

// Welcome answers Hello.
type Welcome struct {
	DeviceID      string   `json:"device_id"`
	ServerVersion string   `json:"server_version"`
	Capabilities  []string `json:"capabilities,omitempty"`
	// PingSeconds is how often the server pings; a device that hears nothing
	// for twice this long reconnects.
	PingSeconds int `json:"ping_seconds"`
	// ReplayFrom..ReplayTo are the seqs the server is about to replay (0,0: none).
	ReplayFrom uint64 `json:"replay_from,omitempty"`
	ReplayTo   uint64 `json:"replay_to,omitempty"`
	// ServerName is how the help desk calls itself ("Acme IT").
	ServerName string `json:"server_name,omitempty"`
	// Revision is the protocol revision the server speaks (0: before 2).
	Revision int `json:"revision,omitempty"`
	// ArticlesRevision is where the published articles are (see
	// ArticlesChanged); 0 when the server has none.
	ArticlesRevision int64 `json:"articles_revision,omitempty"`
	// SoftwareHash is the hash of the inventory the server holds for the
	// device ("" none): the agent sends nothing when it matches, changes
	// when it matches the agent's last acknowledged set, else a full list.
	SoftwareHash string `json:"software_hash,omitempty"`
	// Expectations (revision 4) say how soon IT usually answers, one per
	// urgency, so Get help and My requests can make an honest promise.
	Expectations []Expectation `json:"expectations,omitempty"`
	// DefaultLanguage (revision 5) is IT's default language for the device's
	// enrolment group ("" none): the agent speaks it unless the person chose
	// another, or DESKSIDE_LANG / --lang says otherwise.
	DefaultLanguage string `json:"default_language,omitempty"`
}

// DeviceLanguage (device → server, revision 5) says the person picked
// another language while linked; the next hello carries it too.
type DeviceLanguage struct {
	Language string `json:"language"`
}

// MaxLanguageBytes caps a language tag; BCP 47 tags in use are far shorter.
const MaxLanguageBytes = 35

// Validate checks the tag's size and alphabet; whether the server speaks
// it is the server's business (it falls back to English).
func (d *DeviceLanguage) Validate() error { return validLanguage(d.Language) }

func validLanguage(s string) error {
	if len(s) > MaxLanguageBytes {
		return fmt.Errorf("language: %d bytes, at most %d", len(s), MaxLanguageBytes)
	}
	for _, r := range s {
		if !(r == '-' || r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return fmt.Errorf("language: %q is not a language tag", s)
		}
	}
	return nil
}

// Expectation is an honest promise for one urgency: how long a first
// answer usually takes, from IT's response target and the real median of
// the last 30 days (whichever is longer, so it is never rosier than the
// truth). The agent words it ("Usually answered within 2 working hours").
type Expectation struct {
	Urgency Urgency `json:"urgency"`
	// FirstResponseMinutes is the usual time to a first answer; counted in
	// IT's working hours when Working is set. 0: no promise to make.
	FirstResponseMinutes int  `json:"first_response_minutes"`
	Working              bool `json:"working,omitempty"`
	// NextOpen is when IT's working hours start again, when they are over
	// now ("IT is back Monday at 9:00"); zero while IT is at work.
	NextOpen time.Time `json:"next_open,omitzero"`
}

// Ack confirms that the frame with ID (the envelope id) was durably stored.
// Seq, when set, acks a server → device frame (delivery cursor).
type Ack struct {
	ID string `json:"id"`
	// Ref is what the stored frame created, e.g. the request id.
	Ref string `json:"ref,omitempty"`
	// Duplicate is true when the id had been seen before; nothing new was stored.
	Duplicate bool `json:"duplicate,omitempty"`
}

// Error refuses a frame; the connection stays open.
type Error struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	// Ref is the id of the refused frame, if it had one.
	Ref string `json:"ref,omitempty"`
}

// Attachment is a file the user chose to send, today only a screenshot.
type Attachment struct {
	Name string `json:"name"`
	Type string `json:"type"` // MIME type: image/png or image/jpeg
	Data []byte `json:"data"` // base64 on the wire
}

// Validate checks type and size.
func (a *Attachment) Validate() error {
	if a.Type != "image/png" && a.Type != "image/jpeg" {
		return fmt.Errorf("attachment type %q is not image/png or image/jpeg", a.Type)
	}
	if len(a.Data) == 0 {
		return errors.New("attachment is empty")
	}
	if len(a.Data) > MaxScreenshotBytes {
		return fmt.Errorf("attachment is %d bytes; the limit is %d", len(a.Data), MaxScreenshotBytes)
	}
	return nil
}

// RequestNew raises a request. RequestID is chosen by the agent (a UUID) so
// that the request has one identity from the moment the user presses Send,
// through the outbox, to the server.
type RequestNew struct {
	RequestID  string      `json:"request_id"`
	Category   Category    `json:"category"`
	Urgency    Urgency     `json:"urgency"`
	Text       string      `json:"text"`
	Screenshot *Attachment `json:"screenshot,omitempty"`
	// Snapshot is the device as it was when the user pressed Send.
	Snapshot *Snapshot `json:"snapshot,omitempty"`
	// CreatedAt is when the user pressed Send (the frame may go out later).
	CreatedAt time.Time `json:"created_at"`
	// Check is the heads-up check whose "Ask IT" raised this request.
	Check CheckKind `json:"check,omitempty"`
	// ShownArticles are the self-help articles suggested while the person
	// typed it (ids), so IT sees what did not help.
	ShownArticles []string `json:"shown_articles,omitempty"`
	// SoftwareTitle links a software request to a title (SoftwareTitleID):
	// set by "Yes, for work" and by "Request an app" from the catalogue.
	SoftwareTitle string `json:"software_title,omitempty"`
}

// Validate checks the fields a user or a script can get wrong.
func (r *RequestNew) Validate() error {
	if r.RequestID == "" {
		return errors.New("request_id is empty")
	}
	if !r.Category.Valid() {
		return fmt.Errorf("category %q is not one of problem, question, software, idea", r.Category)
	}
	if !r.Urgency.Valid() {
		return fmt.Errorf("urgency %q is not blocking or when_you_can", r.Urgency)
	}
	if err := CheckText("text", r.Text, true); err != nil {
		return err
	}
	if len(r.ShownArticles) > 10 {
		return fmt.Errorf("shown_articles has %d ids; the limit is 10", len(r.ShownArticles))
	}
	for _, id := range r.ShownArticles {
		if id == "" || len(id) > 64 {
			return errors.New("shown_articles holds an empty id or one longer than 64 characters")
		}
	}
	if r.Check != "" && !validCheckName(string(r.Check)) {
		return fmt.Errorf("check %q is not a check name", r.Check)
	}
	if r.SoftwareTitle != "" && (!strings.HasPrefix(r.SoftwareTitle, "sw_") || len(r.SoftwareTitle) > 64) {
		return fmt.Errorf("software_title %.70q is not a software title id", r.SoftwareTitle)
	}
	if r.SoftwareTitle != "" && r.Category != CategorySoftware {
		return errors.New("software_title goes with category software")
	}
	if r.Screenshot != nil {
		return r.Screenshot.Validate()
	}
	return nil
}

// RequestReply is the user writing in a request's thread.
type RequestReply struct {
	RequestID string    `json:"request_id"`
	MessageID string    `json:"message_id"` // chosen by the agent
	Text      string    `json:"text"`
	CreatedAt time.Time `json:"created_at"`
}

// Validate checks ids and text.
func (r *RequestReply) Validate() error {
	if r.RequestID == "" || r.MessageID == "" {
		return errors.New("request_id and message_id are required")
	}
	return CheckText("text", r.Text, true)
}

// RequestRate is the user's satisfaction after resolution.
type RequestRate struct {
	RequestID string `json:"request_id"`
	Rating    int    `json:"rating"` // 1 (unhappy) .. 5 (delighted)
	Comment   string `json:"comment,omitempty"`
}

// Validate checks the rating range.
func (r *RequestRate) Validate() error {
	if r.RequestID == "" {
		return errors.New("request_id is empty")
	}
	if r.Rating < 1 || r.Rating > 5 {
		return fmt.Errorf("rating %d is not between 1 and 5", r.Rating)
	}
	return CheckText("comment", r.Comment, false)
}

// RequestReopen reopens a resolved request, with an optional word why.
type RequestReopen struct {
	RequestID string `json:"request_id"`
	Text      string `json:"text,omitempty"`
}

// Validate checks the id.
func (r *RequestReopen) Validate() error {
	if r.RequestID == "" {
		return errors.New("request_id is empty")
	}
	return CheckText("text", r.Text, false)
}

// Person is a technician as the user sees them.
type Person struct {
	Name     string `json:"name"`
	Greeting string `json:"greeting,omitempty"` // "Hi, I'm Rob — I'll take care of this"
}

// Message is a technician writing in a request's thread (server → device),
// or a user's message relayed to the console as device.message.
type Message struct {
	RequestID string    `json:"request_id"`
	MessageID string    `json:"message_id"`
	DeviceID  string    `json:"device_id,omitempty"` // set toward the console
	Author    Person    `json:"author"`
	FromUser  bool      `json:"from_user,omitempty"`
	Text      string    `json:"text"`
	CreatedAt time.Time `json:"created_at"`
}

// RequestStatus tells the device that its request moved, with a friendly
// sentence the agent can show as is ("Rob picked up your request").
type RequestStatus struct {
	RequestID string    `json:"request_id"`
	Status    Status    `json:"status"`
	Assignee  *Person   `json:"assignee,omitempty"`
	Text      string    `json:"text"`
	ChangedAt time.Time `json:"changed_at"`
}

// Announcement is IT speaking to many desks at once.
type Announcement struct {
	AnnouncementID string    `json:"announcement_id"`
	Title          string    `json:"title"`
	Text           string    `json:"text"`
	Severity       string    `json:"severity,omitempty"` // info, warning, outage
	Author         Person    `json:"author"`
	CreatedAt      time.Time `json:"created_at"`
	ExpiresAt      time.Time `json:"expires_at,omitzero"`
	// Kind is AnnouncementNews (or empty) or AnnouncementKnownProblem
	// (revision 2).
	Kind string `json:"kind,omitempty"`
	// ResolvedAt is set when IT marks a known problem resolved; the same
	// announcement is sent again with it, and ResolvedText is the all-clear.
	ResolvedAt   time.Time `json:"resolved_at,omitzero"`
	ResolvedText string    `json:"resolved_text,omitempty"`
}

// TelemetryStart asks the device for compact live figures every IntervalMS
// until TelemetryStop or until the link drops.
type TelemetryStart struct {
	IntervalMS int `json:"interval_ms"`
}

// Telemetry is one compact live sample.
type Telemetry struct {
	DeviceID string    `json:"device_id,omitempty"` // set toward the console
	At       time.Time `json:"at"`
	CPUPct   float64   `json:"cpu_pct"`
	MemPct   float64   `json:"mem_pct"`
	DiskPct  float64   `json:"disk_pct"` // fullest disk
	NetRxBps float64   `json:"net_rx_bps"`
	NetTxBps float64   `json:"net_tx_bps"`
}

// DeliveryCursor tells the server the device has durably stored every
// server → device frame up to Seq, so the server may prune them.
type DeliveryCursor struct {
	Seq uint64 `json:"seq"`
}

// UpdateAvailable tells a device a release is ready for it.
type UpdateAvailable struct {
	Version     string `json:"version"`
	Channel     string `json:"channel"`
	ManifestURL string `json:"manifest_url"`
	BinaryURL   string `json:"binary_url"`
	Rollback    bool   `json:"rollback,omitempty"`
}

// UpdateReport is a device's word on an update it tried.
type UpdateReport struct {
	FromVersion string `json:"from_version"`
	ToVersion   string `json:"to_version"`
	OK          bool   `json:"ok"`
	RolledBack  bool   `json:"rolled_back,omitempty"`
	Detail      string `json:"detail,omitempty"`
}

// Presence tells the console that a device came online or went away.
type Presence struct {
	DeviceID string    `json:"device_id"`
	Hostname string    `json:"hostname"`
	User     string    `json:"user,omitempty"`
	OS       string    `json:"os,omitempty"`
	Online   bool      `json:"online"`
	At       time.Time `json:"at"`
}

// PresenceBatch is several devices' presence, oldest change first; a device
// appears at most once, with its latest state.
type PresenceBatch struct {
	Devices []Presence `json:"devices"`
}

// RequestSummary is a request as the queue shows it (console events).
type RequestSummary struct {
	RequestID string   `json:"request_id"`
	DeviceID  string   `json:"device_id"`
	Hostname  string   `json:"hostname"`
	User      string   `json:"user,omitempty"`
	Category  Category `json:"category"`
	Urgency   Urgency  `json:"urgency"`
	Status    Status   `json:"status"`
	Text      string   `json:"text"`
	Assignee  string   `json:"assignee,omitempty"` // technician id
	Rating    int      `json:"rating,omitempty"`
	// RatingComment is the user's word with the rating (added 2026-12-03),
	// so a console shows it live with the rating.
	RatingComment string    `json:"rating_comment,omitempty"`
	CreatedAt     time.Time `json:"created_at"`
	UpdatedAt     time.Time `json:"updated_at"`
	// Response targets (revision 4): when the first answer and the
	// resolution are due (zero: no target), when they happened, and since
	// when the request waits on the employee (its clock is paused then).
	FirstResponseDue time.Time `json:"first_response_due,omitzero"`
	ResolutionDue    time.Time `json:"resolution_due,omitzero"`
	FirstResponseAt  time.Time `json:"first_response_at,omitzero"`
	ResolvedAt       time.Time `json:"resolved_at,omitzero"`
	WaitingSince     time.Time `json:"waiting_since,omitzero"`
}

// ThreadItem names an item a technician added to a request's thread
// (request.thread, toward the consoles). A console showing the request
// fetches it unless it has it already (its own post).
type ThreadItem struct {
	RequestID string    `json:"request_id"`
	Item      string    `json:"item"` // ThreadMessage or ThreadNote
	ID        string    `json:"id"`   // the message's message_id or the note's id
	Author    string    `json:"author"`
	At        time.Time `json:"at"`
}

// ThreadItem.Item values.
const (
	ThreadMessage = "message" // a reply the user sees
	ThreadNote    = "note"    // an internal note only technicians see
)

// DeviceSnapshot carries a fresh snapshot to the console.
type DeviceSnapshot struct {
	DeviceID string   `json:"device_id"`
	Snapshot Snapshot `json:"snapshot"`
}

// ConsoleHello is the first frame on a console link.
type ConsoleHello struct {
	TechnicianID  string `json:"technician_id"`
	Name          string `json:"name"`
	ServerVersion string `json:"server_version"`
}

// RequestSlipping (server → console, revision 4) warns that a response
// target is about to slip (Overdue false) or has slipped (Overdue true).
type RequestSlipping struct {
	Request RequestSummary `json:"request"`
	// Target is "first_response" or "resolution".
	Target  string    `json:"target"`
	Due     time.Time `json:"due"`
	Overdue bool      `json:"overdue,omitempty"`
	// AssigneeName is the assigned technician's name ("" nobody: the
	// warning is for the whole team).
	AssigneeName string `json:"assignee_name,omitempty"`
}
