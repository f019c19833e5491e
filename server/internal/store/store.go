// Package store keeps everything the server must not forget: technicians,
// sessions, enrolment tokens, devices, requests and their threads, the
// per-device outbox of server → device frames, announcements, heads-up
// check policies and states, and the audit log. Store is the interface;
// SQL implements it over database/sql for both backends: Open for embedded SQLite (one node), OpenPostgres for a
// PostgreSQL database that several server nodes share. The same
// conformance suite (store_test.go) runs against both.
//
// Every method that changes state commits durably before it returns, so a
// caller may acknowledge to a device as soon as the method returns nil.
package store

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/deskside/deskside/shared/protocol"
)

// Errors callers match with errors.Is.
var (
	ErrNotFound     = errors.New("not found")
	ErrForbidden    = errors.New("belongs to another device")
	ErrConflict     = errors.New("already exists")
	ErrTokenUnknown = errors.New("enrolment token unknown")
	ErrTokenExpired = errors.New("enrolment token expired")
	ErrTokenUsedUp  = errors.New("enrolment token used up")
	ErrTokenRevoked = errors.New("enrolment token revoked")
)

// Technician is a person on the help desk.
type Technician struct {
	ID           string    `json:"id"`
	Email        string    `json:"email"`
	Name         string    `json:"name"`
	Greeting     string    `json:"greeting,omitempty"`
	Role         string    `json:"role"` // technician or admin
	Disabled     bool      `json:"disabled"`
	CreatedAt    time.Time `json:"created_at"`
	PasswordHash string    `json:"-"`
	// AuthMethod is how the account signs in: "" with a password, "oidc"
	// with single sign-on (no password).
	AuthMethod string `json:"auth_method,omitempty"`
	// ExternalID is "issuer|subject" for an account made by single sign-on.
	ExternalID string `json:"-"`
	// BreakGlass marks a local admin that may sign in with a password even
	// when password sign-in is off for everyone else.
	BreakGlass bool `json:"break_glass"`
}

// Session is a signed-in technician. The cookie value is never stored, only
// its hash.
type Session struct {
	TechnicianID string
	CSRF         string
	ExpiresAt    time.Time
}

// EnrollToken is an enrolment token without its secret (only a hash is kept).
type EnrollToken struct {
	ID        string     `json:"id"`
	Group     string     `json:"group"`
	ExpiresAt *time.Time `json:"expires_at"`
	MaxUses   int        `json:"max_uses"` // 0: unlimited
	Uses      int        `json:"uses"`
	Revoked   bool       `json:"revoked"`
	CreatedAt time.Time  `json:"created_at"`
}

// Device is an enrolled desk.
type Device struct {
	ID           string    `json:"id"`
	Hostname     string    `json:"hostname"`
	User         string    `json:"user"`
	OS           string    `json:"os"`
	Platform     string    `json:"platform"`
	Arch         string    `json:"arch"`
	Group        string    `json:"group"`
	AgentVersion string    `json:"agent_version"`
	Revoked      bool      `json:"revoked"`
	EnrolledAt   time.Time `json:"enrolled_at"`
	LastSeen     time.Time `json:"last_seen"`
	SecretHash   []byte    `json:"-"`
}

// Request is a help request.
type Request struct {
	ID             string
	DeviceID       string
	Hostname       string // joined from the device
	User           string // joined from the device
	Category       protocol.Category
	Urgency        protocol.Urgency
	Status         protocol.Status
	Text           string
	Assignee       string // technician id or ""
	Rating         int
	RatingComment  string
	Snapshot       json.RawMessage // the device as it was when the user pressed Send
	ScreenshotType string          // "" when there is none
	// ShownArticles are the self-help articles suggested while the request
	// was typed (stored by CreateRequest; read with ShownArticles).
	ShownArticles []string
	// SoftwareTitle links a software request to a title (SoftwareTitleID);
	// "" when none. Stored by CreateRequest.
	SoftwareTitle string
	CreatedAt     time.Time
	UpdatedAt     time.Time
	// Response targets (issue 17). The dues are set by the SLA clock
	// (CreateRequest stores them; UpdateRequest's change may move them);
	// zero means no target. FirstResponseAt is stamped by the first
	// technician message (or resolving), ResolvedAt by resolving (cleared
	// on reopen), WaitingSince while the request waits on the employee.
	FirstResponseDue time.Time
	ResolutionDue    time.Time
	FirstResponseAt  time.Time
	ResolvedAt       time.Time
	WaitingSince     time.Time
}

// ToWire is the request as consoles and scripts see it (request.created,
// request.updated, GET /api/v1/requests).
func (r Request) ToWire() protocol.RequestSummary {
	return protocol.RequestSummary{RequestID: r.ID, DeviceID: r.DeviceID, Hostname: r.Hostname, User: r.User,
		Category: r.Category, Urgency: r.Urgency, Status: r.Status, Text: r.Text, Assignee: r.Assignee,
		Rating: r.Rating, RatingComment: r.RatingComment, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt,
		FirstResponseDue: r.FirstResponseDue, ResolutionDue: r.ResolutionDue, FirstResponseAt: r.FirstResponseAt,
		ResolvedAt: r.ResolvedAt, WaitingSince: r.WaitingSince}
}

// Message is one entry in a request's thread (or a direct message when
// RequestID is empty).
type Message struct {
	ID           string
	RequestID    string
	DeviceID     string
	TechnicianID string // "" when the user wrote it
	AuthorName   string
	FromUser     bool
	Text         string
	CreatedAt    time.Time
}

// ToWire is the message as a thread shows it (device.message to consoles,
// GET /api/v1/requests/{id}).
func (m Message) ToWire() protocol.Message {
	return protocol.Message{RequestID: m.RequestID, MessageID: m.ID, DeviceID: m.DeviceID, Author: protocol.Person{Name: m.AuthorName},
		FromUser: m.FromUser, Text: m.Text, CreatedAt: m.CreatedAt}
}

// Note is an internal note technicians see and users never do.
type Note struct {
	ID           string    `json:"id"`
	RequestID    string    `json:"-"`
	TechnicianID string    `json:"technician_id"`
	Author       string    `json:"author"`
	Text         string    `json:"text"`
	CreatedAt    time.Time `json:"created_at"`
}

// Announcement is IT speaking to many desks.
type Announcement struct {
	ID          string    `json:"id"`
	Title       string    `json:"title"`
	Text        string    `json:"text"`
	Severity    string    `json:"severity"`
	TargetKind  string    `json:"-"` // all, group, os
	TargetValue string    `json:"-"`
	AuthorID    string    `json:"author_id"`
	AuthorName  string    `json:"author"`
	CreatedAt   time.Time `json:"created_at"`
	ExpiresAt   time.Time `json:"expires_at,omitzero"`
	Recipients  int       `json:"recipients"`
	Delivered   int       `json:"delivered"`
	// Kind is protocol.AnnouncementNews or AnnouncementKnownProblem.
	Kind         string    `json:"kind"`
	ResolvedAt   time.Time `json:"resolved_at,omitzero"`
	ResolvedText string    `json:"resolved_text,omitempty"`
	MeToo        int       `json:"me_too"` // devices that said "me too"
}

// AuditEntry records one admin or technician action.
type AuditEntry struct {
	At     time.Time `json:"at"`
	Actor  string    `json:"actor"`
	Action string    `json:"action"`
	Target string    `json:"target"`
	Detail string    `json:"detail,omitempty"`
}

// Outgoing is a server → device frame to store in the device's outbox. The
// store assigns its seq inside the same transaction as the change it reports.
type Outgoing struct {
	Kind protocol.Kind
	ID   string // envelope id (idempotency key on the device)
	Body any
}

// Delivery is a stored server → device frame, ready to send.
type Delivery struct {
	DeviceID string
	Seq      uint64
	Frame    []byte // the whole envelope, seq included; nil when Shared is set
	// Shared is a frame encoded once for many devices (an announcement):
	// the device's frame is Shared with Seq spliced in.
	Shared *protocol.SeqFrame
}

// Bytes returns the frame's wire form.
func (d Delivery) Bytes() []byte {
	if d.Shared != nil {
		return d.Shared.Frame(d.Seq)
	}
	return d.Frame
}

// Result reports what a device frame did.
type Result struct {
	Ref       string // what the frame created or touched, e.g. the request id
	Duplicate bool   // the envelope id was seen before; nothing changed
	// Request is the request as the frame left it (without its snapshot),
	// so the caller need not read it back; zero on a duplicate and for
	// frames that change no request.
	Request Request
}

// RequestFilter narrows ListRequests. Empty fields match everything;
// Assignee "none" matches unassigned requests.
type RequestFilter struct {
	Status             protocol.Status
	Category           protocol.Category
	Urgency            protocol.Urgency
	Assignee, DeviceID string
	Limit              int
}

// Store is the server's durable state.
type Store interface {
	SoftwareStore
	// Issue 17, one interface per part (filled by each part's file).
	SLAStore
	WebhookStore
	MailStore
	ReportStore

	Close() error
	Ping(ctx context.Context) error

	GetMeta(ctx context.Context, key string) (string, error)
	SetMeta(ctx context.Context, key, value string) error
	TakeMeta(ctx context.Context, key, value string) (bool, error)

	CreateTechnician(ctx context.Context, t Technician) error
	UpdateTechnician(ctx context.Context, t Technician) error
	Technician(ctx context.Context, id string) (Technician, error)
	TechnicianByEmail(ctx context.Context, email string) (Technician, error)
	// TechnicianByExternalID finds the account single sign-on made for
	// "issuer|subject".
	TechnicianByExternalID(ctx context.Context, externalID string) (Technician, error)
	ListTechnicians(ctx context.Context) ([]Technician, error)
	CountTechnicians(ctx context.Context) (int, error)

	CreateSession(ctx context.Context, hash []byte, s Session) error
	Session(ctx context.Context, hash []byte) (Session, error)
	DeleteSession(ctx context.Context, hash []byte) error
	DeleteSessions(ctx context.Context, technicianID string, except []byte) (int, error)

	CreateToken(ctx context.Context, t EnrollToken, secretHash []byte) error
	ListTokens(ctx context.Context) ([]EnrollToken, error)
	RevokeToken(ctx context.Context, id string) error
	// Enroll spends one use of the token and stores the device, atomically.
	Enroll(ctx context.Context, tokenHash []byte, d Device, now time.Time) (Device, error)

	Device(ctx context.Context, id string) (Device, error)
	ListDevices(ctx context.Context, q string) ([]Device, error)
	RevokeDevice(ctx context.Context, id string) error
	// DeviceSeen records what the device said in hello.
	DeviceSeen(ctx context.Context, id, agentVersion, os, arch string, at time.Time) error
	DeviceSnapshot(ctx context.Context, id string) (json.RawMessage, error)

	// Device frames: each is idempotent by (device, frame id) and refuses a
	// request that belongs to another device with ErrForbidden.
	CreateRequest(ctx context.Context, frameID string, r Request, screenshot []byte) (Result, error)
	AddUserMessage(ctx context.Context, frameID string, m Message) (Result, error)
	RateRequest(ctx context.Context, frameID, deviceID, requestID string, rating int, comment string) (Result, error)
	ReopenRequest(ctx context.Context, frameID, deviceID, requestID, text string, at time.Time) (Result, error)
	SaveSnapshot(ctx context.Context, frameID, deviceID string, snap json.RawMessage) (Result, error)
	// PruneCursors drops, for every device in cursors, the outbox frames up
	// to its seq and counts announcement deliveries, in one transaction.
	PruneCursors(ctx context.Context, cursors map[string]uint64) error
	// Enqueue stores one server → device frame in the device's outbox (e.g.
	// update.available); deliver it with the hub under its device lock.
	Enqueue(ctx context.Context, deviceID string, out Outgoing) (Delivery, error)
	// Replay returns stored frames with seq > after, oldest first.
	Replay(ctx context.Context, deviceID string, after uint64) ([]Delivery, error)

	Request(ctx context.Context, id string) (Request, error)
	ListRequests(ctx context.Context, f RequestFilter) ([]Request, error)
	CountRequestsByStatus(ctx context.Context) (map[protocol.Status]int, error)
	Screenshot(ctx context.Context, requestID string) (data []byte, contentType string, err error)
	Messages(ctx context.Context, requestID string) ([]Message, error)
	// UpdateRequest runs change on the request inside a transaction; the
	// frame it returns (if any) is stored in the device's outbox.
	UpdateRequest(ctx context.Context, id string, change func(r *Request) (*Outgoing, error)) (Request, *Delivery, error)
	// AddTechMessage stores a technician's message and its outbox frame,
	// and returns the request as it left it (zero for a direct message).
	AddTechMessage(ctx context.Context, m Message, out Outgoing) (Request, Delivery, error)
	AddNote(ctx context.Context, n Note) error
	Notes(ctx context.Context, requestID string) ([]Note, error)

	// Announce stores the announcement and its frame once, and gives every
	// target device a seq for it; the deliveries share one encoded frame.
	Announce(ctx context.Context, a Announcement, out Outgoing) (Announcement, []Delivery, error)
	ListAnnouncements(ctx context.Context) ([]Announcement, error)

	Audit(ctx context.Context, e AuditEntry) error
	ListAudit(ctx context.Context, limit int) ([]AuditEntry, error)

	// Heads-up checks (checks.go).
	ChecksPolicy(ctx context.Context, group string) (ChecksPolicy, error)
	PutChecksPolicy(ctx context.Context, group string, p protocol.ChecksPolicy, by, envID string, now time.Time) (ChecksPolicy, []Delivery, error)
	ChecksOnHello(ctx context.Context, deviceID string, capable bool) (*Delivery, error)
	ReportCheck(ctx context.Context, frameID, deviceID string, r protocol.CheckReport, now time.Time) (Result, DeviceCheck, error)
	ReportChecks(ctx context.Context, items []CheckItem, now time.Time) ([]CheckOutcome, error)
	DeviceChecks(ctx context.Context, deviceID string) ([]DeviceCheck, error)
	CheckDevices(ctx context.Context, check protocol.CheckKind, states []protocol.CheckState, limit int) ([]DeviceCheck, error)
	ChecksSummary(ctx context.Context, now time.Time) ([]CheckSummary, error)
	PruneCheckHistory(ctx context.Context, before time.Time) (int64, error)
	// Self-help (issue 16): articles, their search and feedback, saved
	// replies, known problems. Article writes return the published
	// articles' revision (see protocol.ArticlesChanged).
	CreateArticle(ctx context.Context, a Article) (Article, int64, error)
	UpdateArticle(ctx context.Context, id string, change func(a *Article) error) (a Article, rev int64, changed bool, err error)
	DeleteArticle(ctx context.Context, id string) (rev int64, changed bool, err error)
	Article(ctx context.Context, id string) (Article, error)
	ListArticles(ctx context.Context) ([]Article, error)
	SearchArticles(ctx context.Context, f ArticleSearch) ([]Article, error)
	OfflineArticles(ctx context.Context) ([]Article, int64, error)
	ArticlesRevision(ctx context.Context) (int64, error)
	ArticleFeedback(ctx context.Context, frameID, deviceID string, f protocol.ArticleFeedback) (Result, error)
	ShownArticles(ctx context.Context, requestID string) ([]string, error)
	ListSavedReplies(ctx context.Context) ([]SavedReply, error)
	SavedReply(ctx context.Context, id string) (SavedReply, error)
	SaveReply(ctx context.Context, r SavedReply) (SavedReply, error)
	DeleteSavedReply(ctx context.Context, id string) error
	// ResolveAnnouncement marks a known problem resolved and sends the
	// announcement again, with ResolvedAt, to the devices it targets
	// (sequenced and shared like Announce).
	ResolveAnnouncement(ctx context.Context, id, text string, at time.Time, out func(a Announcement) Outgoing) (Announcement, []Delivery, error)
	// MeToo counts a device once on an announcement (idempotent by frame
	// id and by device).
	MeToo(ctx context.Context, frameID, deviceID, announcementID string, at time.Time) (Result, error)
	MeToos(ctx context.Context, announcementID string) ([]MeTooEntry, error)
}
