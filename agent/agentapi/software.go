package agentapi

import (
	"time"

	"github.com/deskside/deskside/shared/protocol"
)

// Software amnesty (protocol revision 3).

// Events of software amnesty.
const (
	// EventSoftwarePrompt: a "Is it for your work?" prompt may be shown now
	// (Prompt set). The agent sends it only when the throttle allows (at most
	// one a week, never while the person types a request).
	EventSoftwarePrompt EventType = "software.prompt"
	// EventSoftwareNote: IT decided about a title the person told it about
	// (Note set): a thank-you, or the reason and a supported alternative.
	EventSoftwareNote EventType = "software.note"
	// EventSoftware: the inventory or the catalogue changed (nothing set).
	EventSoftware EventType = "software"
)

// SoftwareInventory is the installed software as this agent reports it.
type SoftwareInventory struct {
	// Entries are what the server holds when InSync, else what the agent
	// found last (and is about to send).
	Entries []protocol.SoftwareEntry `json:"entries"`
	Hash    string                   `json:"hash"`
	// InSync is true when the server acknowledged exactly this list: it is
	// what IT can see.
	InSync      bool      `json:"in_sync"`
	CollectedAt time.Time `json:"collected_at,omitzero"`
	Truncated   bool      `json:"truncated,omitempty"`
	// Unreadable lists sources that could not be read last time (their
	// earlier entries are kept, never reported as removed).
	Unreadable []protocol.SoftwareSource `json:"unreadable,omitempty"`
}

// SoftwarePrompt is one "Is it for your work?" prompt.
type SoftwarePrompt struct {
	TitleID   string    `json:"title_id"`
	Name      string    `json:"name"`
	Publisher string    `json:"publisher,omitempty"`
	Version   string    `json:"version,omitempty"`
	Text      string    `json:"text"` // the words to show (IT's, or the agent's warm default)
	AskedAt   time.Time `json:"asked_at"`
}

// SoftwareAnswerResult is what answering a prompt did.
type SoftwareAnswerResult struct {
	// Request is the software request "Yes, for work" raised (nil otherwise).
	Request *Request `json:"request,omitempty"`
	// Text is a warm line to show ("Thanks for telling us — IT will have a look.").
	Text string `json:"text"`
}

// SoftwareNote is IT's word on a title the person told it about.
type SoftwareNote struct {
	TitleID     string                  `json:"title_id"`
	Name        string                  `json:"name"`
	Status      protocol.SoftwareStatus `json:"status"`
	Title       string                  `json:"title"` // a notification's title
	Text        string                  `json:"text"`  // the whole message, worded
	Alternative string                  `json:"alternative,omitempty"`
	RequestID   string                  `json:"request_id,omitempty"`
	At          time.Time               `json:"at"`
}

// AppRequest is "Request an app" from the catalogue or the Software window.
type AppRequest struct {
	// TitleID links a catalogue item ("" for an app not in the catalogue).
	TitleID string `json:"title_id,omitempty"`
	Name    string `json:"name"` // the app's name as the person wrote it
	Text    string `json:"text"` // what they need it for (optional)
}
