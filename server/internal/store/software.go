package store

import (
	"context"
	"time"

	"github.com/deskside/deskside/shared/protocol"
)

// Software amnesty: the registry of software titles IT decides about.
//
// Storage (why not a row per installed entry): 19,000 desks × 1,500
// entries is 28 million rows, which SQLite cannot absorb in minutes nor
// keep small. Instead:
//   - software_titles holds one row per title (name + publisher + source
//     family) with counts maintained as inventories arrive, and the set of
//     devices that have it as a compressed bitmap (device_set, roaring)
//     over device_software.num, so the Software page reads titles only and
//     a title page finds its devices without scanning every desk;
//   - software_versions holds per-title versions with their counts;
//   - device_software holds one row per device: its inventory as one
//     compressed blob (what "What IT can see" shows), its hash and a small
//     number (num) the bitmaps use.
// Inventories are absorbed in batches (ApplyInventories), many devices per
// transaction, so a title shared by the whole fleet is written once per
// batch, not once per device.

// SoftwareTitle is a title in the registry.
type SoftwareTitle struct {
	ID          string                  `json:"id"`
	Name        string                  `json:"name"`
	Publisher   string                  `json:"publisher,omitempty"`
	Source      string                  `json:"source"` // protocol.SoftwareSource.Family()
	Status      protocol.SoftwareStatus `json:"status"`
	Reason      string                  `json:"reason,omitempty"`      // not_for_work: why, in friendly words
	Alternative string                  `json:"alternative,omitempty"` // not_for_work: the supported alternative

	Catalogue        bool     `json:"catalogue"`                   // listed in the agent's catalogue (approved titles only)
	CatalogueHow     string   `json:"catalogue_how,omitempty"`     // protocol.CatalogueLink, CataloguePackage or CatalogueInstructions
	CatalogueURL     string   `json:"catalogue_url,omitempty"`     // https
	CataloguePackage string   `json:"catalogue_package,omitempty"` // package name
	CatalogueText    string   `json:"catalogue_text,omitempty"`    // instructions (Markdown)
	Description      string   `json:"description,omitempty"`
	CatalogueOS      []string `json:"catalogue_os,omitempty"`

	Devices        int `json:"devices"`          // devices that have it now
	PerUserDevices int `json:"per_user_devices"` // of which with a per-user install
	Told           int `json:"told"`             // people who said "yes, for work"

	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
	StatusAt  time.Time `json:"status_at,omitzero"`
	StatusBy  string    `json:"status_by,omitempty"` // the technician's name
	// CameInAt is when the title was first approved after someone told IT
	// about it: it came in from the cold.
	CameInAt time.Time `json:"came_in_at,omitzero"`
}

// SoftwareVersion is one version of a title.
type SoftwareVersion struct {
	Version   string    `json:"version"`
	Devices   int       `json:"devices"`
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
}

// SoftwareDevice is a device that has a title.
type SoftwareDevice struct {
	DeviceID string    `json:"device_id"`
	Hostname string    `json:"hostname"`
	User     string    `json:"user"`
	Version  string    `json:"version,omitempty"`
	PerUser  bool      `json:"per_user"`
	Source   string    `json:"source"` // the entry's own source (registry-user, flatpak, …)
	Since    time.Time `json:"since,omitzero"`
}

// SoftwareAnswer is what a person said when asked about a title.
type SoftwareAnswer struct {
	TitleID   string                      `json:"title_id"`
	DeviceID  string                      `json:"device_id"`
	Hostname  string                      `json:"hostname,omitempty"`
	User      string                      `json:"user"`
	Answer    protocol.SoftwareAnswerKind `json:"answer"`
	RequestID string                      `json:"request_id,omitempty"`
	At        time.Time                   `json:"at"`
	ThankedAt time.Time                   `json:"thanked_at,omitzero"`
}

// SoftwareStatusChange is one line of a title's status history.
type SoftwareStatusChange struct {
	At          time.Time               `json:"at"`
	ByID        string                  `json:"by_id"`
	ByName      string                  `json:"by_name"`
	From        protocol.SoftwareStatus `json:"from"`
	To          protocol.SoftwareStatus `json:"to"`
	Reason      string                  `json:"reason,omitempty"`
	Alternative string                  `json:"alternative,omitempty"`
}

// SoftwareTitleDetail is a title page.
type SoftwareTitleDetail struct {
	SoftwareTitle
	Versions []SoftwareVersion `json:"versions"`
	// Devices lists at most DevicesLimit devices (per-user installs first);
	// Title.Devices says how many there are.
	Devices  []SoftwareDevice       `json:"devices"`
	Answers  []SoftwareAnswer       `json:"answers"`  // who told IT (and who said personal)
	Requests []RequestSummaryLite   `json:"requests"` // software requests linked to the title
	History  []SoftwareStatusChange `json:"history"`
}

// RequestSummaryLite is a linked request as a title page lists it.
type RequestSummaryLite struct {
	ID        string          `json:"id"`
	DeviceID  string          `json:"device_id"`
	Hostname  string          `json:"hostname"`
	User      string          `json:"user"`
	Status    protocol.Status `json:"status"`
	Text      string          `json:"text"` // the first 200 characters
	CreatedAt time.Time       `json:"created_at"`
}

// SoftwareFilter narrows ListSoftware. Zero fields match everything.
type SoftwareFilter struct {
	Status      []protocol.SoftwareStatus
	NewSince    time.Time // first seen at or after ("new this week")
	PerUserOnly bool      // titles with at least one per-user install
	Source      string    // a source family
	Query       string    // words in the name or publisher (case-insensitive)
	Catalogue   bool      // only titles in the catalogue
	Sort        string    // "devices" (default, most first), "name", "first_seen" (newest first), "per_user"
	Limit       int       // default 100, at most 1000 (CSV export pages through)
	Offset      int
}

// SoftwarePage is one page of titles.
type SoftwarePage struct {
	Titles []SoftwareTitle `json:"titles"`
	Total  int             `json:"total"` // titles matching the filter
}

// SoftwareChange is what IT changes on a title (PATCH): nil leaves a field.
type SoftwareChange struct {
	Status           *protocol.SoftwareStatus `json:"status,omitempty"`
	Reason           *string                  `json:"reason,omitempty"`
	Alternative      *string                  `json:"alternative,omitempty"`
	Catalogue        *bool                    `json:"catalogue,omitempty"`
	CatalogueHow     *string                  `json:"catalogue_how,omitempty"`
	CatalogueURL     *string                  `json:"catalogue_url,omitempty"`
	CataloguePackage *string                  `json:"catalogue_package,omitempty"`
	CatalogueText    *string                  `json:"catalogue_text,omitempty"`
	Description      *string                  `json:"description,omitempty"`
	CatalogueOS      *[]string                `json:"catalogue_os,omitempty"`
	// Message is IT's own words for the thank-you or the not-for-work
	// note (optional).
	Message string `json:"message,omitempty"`
}

// SoftwarePolicy is IT's amnesty policy.
type SoftwarePolicy struct {
	// Prompt turns on "Is it for your work?" for per-user installs of
	// titles that are new or under review.
	Prompt bool `json:"prompt"`
	// PromptText is IT's own words for the prompt ("" the agent's).
	PromptText string    `json:"prompt_text,omitempty"`
	UpdatedAt  time.Time `json:"updated_at,omitzero"`
	UpdatedBy  string    `json:"updated_by,omitempty"`
}

// SoftwareFigures are the amnesty figures the Software page shows.
type SoftwareFigures struct {
	Titles          int `json:"titles"`
	NewThisWeek     int `json:"new_this_week"`
	Unreviewed      int `json:"unreviewed"`         // status new
	PerUser         int `json:"per_user"`           // titles with a per-user install
	CameInThisMonth int `json:"came_in_this_month"` // approved this month after someone told IT
	ThankedMonth    int `json:"thanked_this_month"` // people thanked this month
	Devices         int `json:"devices"`            // devices that reported an inventory
}

// InventoryUpdate is one software.inventory frame to absorb.
type InventoryUpdate struct {
	FrameID   string // envelope id (idempotency)
	DeviceID  string
	Inventory protocol.SoftwareInventory
	At        time.Time
}

// InventoryOutcome is what happened to one InventoryUpdate.
type InventoryOutcome struct {
	// Hash is the hash the server holds for the device afterwards.
	Hash string
	// Resync is true when a change list's base did not match what the
	// server holds (or the result's hash did not match Inventory.Hash):
	// nothing was stored; the caller sends software.want.
	Resync bool
	// Asks are software.ask frames stored for the device (prompt policy on,
	// a per-user install of a title not approved, never asked before).
	Asks []Delivery
	// NewTitles counts titles this update created.
	NewTitles int
	// Err refuses this update alone (the rest of the batch is stored).
	Err error
}

// SoftwareStore is the software amnesty part of Store.
type SoftwareStore interface {
	// ApplyInventories absorbs a batch of inventories in one transaction
	// and returns one outcome per update, in order. A duplicate FrameID is
	// an outcome with the hash held and nothing changed.
	ApplyInventories(ctx context.Context, updates []InventoryUpdate) ([]InventoryOutcome, error)
	// DeviceSoftware returns the inventory the server holds for a device
	// and its hash ("" and nil when none).
	DeviceSoftware(ctx context.Context, deviceID string) (hash string, entries []protocol.SoftwareEntry, err error)
	// DeviceSoftwareHash is DeviceSoftware's hash alone (for welcome).
	DeviceSoftwareHash(ctx context.Context, deviceID string) (string, error)
	// RecordSoftwareAnswer stores a person's answer (idempotent per
	// title and device: the last answer wins) and links the request of an
	// AnswerForWork to the title.
	RecordSoftwareAnswer(ctx context.Context, frameID, deviceID string, a protocol.SoftwareAnswer, now time.Time) (Result, error)

	ListSoftware(ctx context.Context, f SoftwareFilter) (SoftwarePage, error)
	SoftwareTitleDetail(ctx context.Context, id string, devicesLimit int) (SoftwareTitleDetail, error)
	// UpdateSoftware applies IT's change, records the status history and,
	// when the status becomes approved or not_for_work, stores a
	// software.thanks frame (out) for every device whose person said "for
	// work" and has not been thanked for this status, in the same
	// transaction.
	UpdateSoftware(ctx context.Context, id string, ch SoftwareChange, by Technician, now time.Time,
		out func(t SoftwareTitle, a SoftwareAnswer) Outgoing) (SoftwareTitle, []Delivery, error)
	// LinkRequestSoftware links (or, with titleID "", unlinks) a request
	// to a title.
	LinkRequestSoftware(ctx context.Context, requestID, titleID string) error
	// RequestSoftware returns the title a request is linked to (nil when
	// none), for the request view.
	RequestSoftware(ctx context.Context, requestID string) (*SoftwareTitle, error)
	SoftwareCatalogue(ctx context.Context) ([]protocol.CatalogueItem, error)
	SoftwarePolicy(ctx context.Context) (SoftwarePolicy, error)
	PutSoftwarePolicy(ctx context.Context, p SoftwarePolicy) (SoftwarePolicy, error)
	SoftwareFigures(ctx context.Context, now time.Time) (SoftwareFigures, error)
}
