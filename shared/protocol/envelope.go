// Package protocol defines what the Deskside agent, server and console say to
// each other: the versioned envelope, the typed message kinds and their bodies.
// It does no I/O; both sides import it and neither side redefines it.
package protocol

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
)

// Version is the protocol's major version, checked at connect.
//
// History (a retired kind is never reused; a new optional feature is a
// capability, not a bump):
//
//	1 (2026-11-23): first version — envelope, hello/welcome, requests,
//	  messages, status, announcements, snapshots, telemetry, acks with
//	  per-device sequence numbers and replay.
//
// Revisions of version 1 add kinds and fields a side may ignore; each side
// says its Revision in hello and welcome and uses a new kind only when the
// other side's capabilities list it:
//
//	2 (2026-12-03): heads-up checks (checks.policy, check.report, capability
//	  "checks"); self-help (articles.changed, article.feedback,
//	  announcement.metoo, capability "articles"); announcements gain a kind
//	  and a resolved time; request.new gains check and shown_articles;
//	  welcome gains articles_revision.
//	3 (2026-12-03): software amnesty (software.inventory, software.answer,
//	  software.want, software.ask, software.thanks, capability "software";
//	  console kind software.updated); welcome gains software_hash;
//	  request.new gains software_title.
//	4 (2026-12-03): response targets — welcome gains expectations; request
//	  summaries gain first_response_due, resolution_due, first_response_at,
//	  resolved_at, waiting_since; console kind request.slipping.
//	5 (2026-12-04): languages — hello gains language (what the person reads,
//	  BCP 47), capability "language"; welcome gains default_language (IT's
//	  default for the device's enrolment group); device kind device.language
//	  when the person picks another language while linked.
const Version = 1

// Revision is the additive revision of Version this code speaks.
const Revision = 5

// Limits shared by both ends. The server enforces them; the agent checks them
// before sending so the user hears about a too-large screenshot at once.
const (
	// MaxFrameBytes is the largest frame a device or console may send.
	// It leaves room for a screenshot encoded in base64.
	MaxFrameBytes = 4 << 20
	// MaxScreenshotBytes caps a screenshot (raw PNG/JPEG bytes).
	MaxScreenshotBytes = 2 << 20
	// MaxTextRunes caps the text of a request or message.
	MaxTextRunes = 10000
)

// Kind names a message type. Kinds are never reused once retired.
type Kind string

// Device → server.
const (
	KindHello          Kind = "hello"           // first frame on a device link
	KindRequestNew     Kind = "request.new"     // the user raises a request
	KindRequestReply   Kind = "request.reply"   // the user writes in a thread
	KindRequestRate    Kind = "request.rate"    // satisfaction after resolution
	KindRequestReopen  Kind = "request.reopen"  // the user reopens a resolved request
	KindSnapshot       Kind = "snapshot"        // a full device snapshot
	KindTelemetry      Kind = "telemetry"       // compact live figures
	KindUpdateReport   Kind = "update.report"   // result of a self-update
	KindDeliveryCursor Kind = "delivery.cursor" // device has durably stored server messages up to seq
	// Revision 2.
	KindCheckReport       Kind = "check.report"       // a heads-up check changed state
	KindArticleFeedback   Kind = "article.feedback"   // viewed / solved it / still need help
	KindAnnouncementMeToo Kind = "announcement.metoo" // "me too" on a known problem
	// Revision 3.
	KindSoftwareInventory Kind = "software.inventory" // installed software: full list or changes
	KindSoftwareAnswer    Kind = "software.answer"    // the person answered a software.ask
	// Revision 5.
	KindDeviceLanguage Kind = "device.language" // the person picked another language
)

// Server → device.
const (
	KindWelcome         Kind = "welcome"          // reply to hello
	KindAck             Kind = "ack"              // a frame was durably stored
	KindError           Kind = "error"            // a frame was refused
	KindMessage         Kind = "message"          // a technician wrote in a thread
	KindRequestStatus   Kind = "request.status"   // a request changed status or assignee
	KindAnnouncement    Kind = "announcement"     // IT speaks to many desks
	KindSnapshotWant    Kind = "snapshot.want"    // send a fresh snapshot now
	KindTelemetryStart  Kind = "telemetry.start"  // a technician is watching
	KindTelemetryStop   Kind = "telemetry.stop"   // nobody is watching any more
	KindUpdateAvailable Kind = "update.available" // a release is ready for this device
	// Revision 2.
	KindChecksPolicy    Kind = "checks.policy"    // IT's heads-up policy (sequenced)
	KindArticlesChanged Kind = "articles.changed" // published articles changed (a hint)
	// Revision 3.
	KindSoftwareWant   Kind = "software.want"   // send a full inventory (not sequenced)
	KindSoftwareAsk    Kind = "software.ask"    // "Is it for your work?" (sequenced)
	KindSoftwareThanks Kind = "software.thanks" // IT decided about a title you told it about (sequenced)
)

// Server → console (technicians). The console sends its actions over REST;
// its WebSocket carries live events.
const (
	KindPresence       Kind = "presence"        // a device came or went
	KindRequestCreated Kind = "request.created" // a new request is in the queue
	KindRequestUpdated Kind = "request.updated" // status, assignee, rating or thread changed
	KindDeviceMessage  Kind = "device.message"  // a user wrote in a thread
	KindDeviceSnapshot Kind = "device.snapshot" // a device sent a fresh snapshot
	KindDeviceTelem    Kind = "device.telemetry"
	KindConsoleHello   Kind = "console.hello" // first server frame on a console link
	// KindPresenceBatch carries many presence changes at once (added
	// 2026-11-23, additive): the server coalesces presence while many
	// devices come and go, so a reconnect storm is a few frames a second to
	// each console, not 38,000.
	KindPresenceBatch Kind = "presence.batch"
	// KindRequestThread (added 2026-12-03, additive) says a technician's
	// reply or internal note joined a request's thread, so a request view
	// open elsewhere (another technician, another node) fetches it. It names
	// the item, not its text: a reply may be 40 KB and goes to every console.
	KindRequestThread Kind = "request.thread"
	// KindDeviceChecks (added 2026-12-03, additive) says devices' heads-up
	// checks changed state (check.reports were stored; DeviceChecks), so
	// the Heads-up page and a device's page update live.
	KindDeviceChecks Kind = "device.checks"
	// KindAnnouncementUpdated (added 2026-12-03, additive, issue 16) says
	// an announcement's me-too count or resolved state changed, so every
	// console shows how wide a known problem is as people say "me too".
	KindAnnouncementUpdated Kind = "announcement.updated"
	// KindSoftwareUpdated (revision 3) says software titles changed (new
	// titles, counts, a status IT set), so the Software page refreshes. It
	// carries SoftwareUpdated, never the titles themselves.
	KindSoftwareUpdated Kind = "software.updated"
	// KindRequestSlipping (revision 4) says a request's response target is
	// about to slip or has slipped (RequestSlipping), once per level, so
	// the assignee (everyone, when nobody is assigned) sees a toast.
	KindRequestSlipping Kind = "request.slipping"
)

// Capabilities advertised in hello and welcome. A side uses a feature only
// when both sides list it.
const (
	CapTelemetry    = "telemetry"
	CapScreenshot   = "screenshot"
	CapAnnouncement = "announcement"
	CapUpdate       = "update"
	CapChecks       = "checks"   // revision 2: heads-up checks
	CapArticles     = "articles" // revision 2: self-help articles and known problems
	CapSoftware     = "software" // revision 3: software inventory and amnesty
	CapLanguage     = "language" // revision 5: the person's language at hello, device.language
)

// Error codes carried in an error frame.
const (
	ErrUnknownType  = "unknown_type"
	ErrBadJSON      = "bad_json"
	ErrBadBody      = "bad_body"
	ErrRateLimited  = "rate_limited"
	ErrNotFound     = "not_found"
	ErrForbidden    = "forbidden"
	ErrTooLarge     = "too_large"
	ErrInternal     = "internal"
	ErrWrongVersion = "wrong_version"
)

// WebSocket close codes beyond RFC 6455's. 4000–4999 are for applications.
const (
	CloseRevoked      = 4001 // the device was revoked by an admin
	CloseReplaced     = 4002 // the same device connected again elsewhere
	CloseSlowConsumer = 4003 // the send queue overflowed; reconnect and resume
	CloseBadVersion   = 4004 // unknown major protocol version
	CloseTooManyBad   = 4005 // repeated invalid frames
	CloseRateLimited  = 4006 // too many frames per second, persistently
	CloseSessionEnded = 4007 // console: the technician's sign-in session ended (signed out, disabled, password or role changed)
)

// Envelope wraps every frame. ID is the sender's idempotency key: the
// receiver stores it and ignores a repeat. Seq is set on server → device
// frames that are stored for replay.
type Envelope struct {
	V    int             `json:"v"`
	Type Kind            `json:"type"`
	ID   string          `json:"id"`
	TS   time.Time       `json:"ts"`
	Seq  uint64          `json:"seq,omitempty"`
	Body json.RawMessage `json:"body,omitempty"`
}

// NewID returns a fresh idempotency key.
func NewID() string { return uuid.NewString() }

// New builds an envelope of kind k around body with a fresh id.
func New(k Kind, body any) (Envelope, error) {
	return NewWithID(k, NewID(), body)
}

// NewWithID builds an envelope with a caller-chosen id, for frames whose id
// must survive a restart (outbox entries).
func NewWithID(k Kind, id string, body any) (Envelope, error) {
	env := Envelope{V: Version, Type: k, ID: id, TS: time.Now().UTC().Truncate(time.Millisecond)}
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return Envelope{}, fmt.Errorf("encode %s body: %w", k, err)
		}
		env.Body = b
	}
	return env, nil
}

// Marshal returns the frame's wire form.
func (e Envelope) Marshal() ([]byte, error) { return json.Marshal(e) }

// Errors returned by Parse, so callers can pick a close code.
var (
	ErrVersion = errors.New("unsupported protocol version")
	ErrNoType  = errors.New("frame has no type")
	ErrNoID    = errors.New("frame has no id")
)

// Parse decodes a frame and checks the envelope (not the body).
func Parse(data []byte) (Envelope, error) {
	var e Envelope
	if err := json.Unmarshal(data, &e); err != nil {
		return Envelope{}, fmt.Errorf("decode frame: %w", err)
	}
	if e.V != Version {
		return e, fmt.Errorf("%w %d (this side speaks %d)", ErrVersion, e.V, Version)
	}
	if e.Type == "" {
		return e, ErrNoType
	}
	if e.ID == "" {
		return e, ErrNoID
	}
	return e, nil
}

// Decode unmarshals the body into v (a pointer to the kind's body struct)
// and runs its Validate method when it has one.
func (e Envelope) Decode(v any) error {
	if len(e.Body) == 0 {
		return fmt.Errorf("%s: empty body", e.Type)
	}
	if err := json.Unmarshal(e.Body, v); err != nil {
		return fmt.Errorf("%s body: %w", e.Type, err)
	}
	if val, ok := v.(interface{ Validate() error }); ok {
		if err := val.Validate(); err != nil {
			return fmt.Errorf("%s body: %w", e.Type, err)
		}
	}
	return nil
}
