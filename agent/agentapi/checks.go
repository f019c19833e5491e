package agentapi

import (
	"time"

	"github.com/deskside/deskside/shared/protocol"
)

// Heads-up checks as the tray, the Heads-up window and `deskside-agent
// checks` see them.

// CheckItem is one heads-up check's current result.
type CheckItem struct {
	Kind     protocol.CheckKind  `json:"kind"`
	State    protocol.CheckState `json:"state"`
	Title    string              `json:"title"`
	Summary  string              `json:"summary"`
	Evidence map[string]string   `json:"evidence,omitempty"`
	Deadline time.Time           `json:"deadline,omitzero"`
	// Fix names the fix "Fix it for me" runs (clear_temp, restart,
	// open_updates, open_password_page); empty when there is none.
	Fix          string    `json:"fix,omitempty"`
	SnoozedUntil time.Time `json:"snoozed_until,omitzero"`
	RequestID    string    `json:"request_id,omitempty"`
	HowToURL     string    `json:"how_to_url,omitempty"`
	ArticleID    string    `json:"article_id,omitempty"`
	// RestartAt is a restart the person planned (restart).
	RestartAt  time.Time `json:"restart_at,omitzero"`
	ObservedAt time.Time `json:"observed_at"`
}

// Attention reports whether the item asks something of the person now
// (the tray's "Heads-up (N)").
func (c CheckItem) Attention() bool { return c.State == protocol.CheckWarn }

// CheckAction is what a person does about a check.
type CheckAction string

const (
	// CheckPlanFix says what "Fix it for me" would do (and how much it
	// would free) without doing it.
	CheckPlanFix CheckAction = "plan_fix"
	// CheckFix does it; Option picks a restart's time (tonight, now,
	// cancel).
	CheckFix CheckAction = "fix"
	// CheckSnooze is "Remind me later" (never past the deadline).
	CheckSnooze CheckAction = "snooze"
	// CheckAskIT raises a request carrying the check's evidence.
	CheckAskIT CheckAction = "ask_it"
	// CheckShowHow opens IT's how-to page.
	CheckShowHow CheckAction = "show_how"
)

// CheckActionResult is what an action did, in words for the person.
type CheckActionResult struct {
	Message string    `json:"message"`
	Item    CheckItem `json:"item"`
	// Plan (plan_fix): what the fix would do.
	Plan *FixPlan `json:"plan,omitempty"`
	// RequestID (ask_it) is the request raised.
	RequestID string `json:"request_id,omitempty"`
	// Freed (fix clear_temp) is how many bytes were cleared.
	Freed uint64 `json:"freed,omitempty"`
	// URL (show_how) is what was opened, or "article:ID" for the window.
	URL string `json:"url,omitempty"`
}

// FixPlan is a fix described before it runs.
type FixPlan struct {
	Fix         string    `json:"fix"`
	Description string    `json:"description"`
	Bytes       uint64    `json:"bytes,omitempty"`
	Folders     []string  `json:"folders,omitempty"`
	Host        string    `json:"host,omitempty"`
	RestartAt   time.Time `json:"restart_at,omitzero"`
}
