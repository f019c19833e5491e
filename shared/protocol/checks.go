package protocol

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"
)

// Heads-up checks (protocol revision 2): IT sends a policy, the agent runs
// the checks locally (offline too) and reports a check's state only when it
// changes. The policy is words and thresholds, never code: the fixes a
// person can click are compiled into the agent.

// CheckKind names one heads-up check.
type CheckKind string

// The checks this revision knows. An agent ignores a policy item of a kind
// it does not know (a newer server); the server refuses one it does not know.
const (
	CheckDiskSpace      CheckKind = "disk_space"      // free space per fixed disk
	CheckRestartNeeded  CheckKind = "restart_needed"  // pending restart or long uptime
	CheckOSUpdates      CheckKind = "os_updates"      // OS updates waiting
	CheckPasswordExpiry CheckKind = "password_expiry" // the signed-in user's password expires soon
	CheckBatteryHealth  CheckKind = "battery_health"  // full-charge vs design capacity
	CheckDiskEncryption CheckKind = "disk_encryption" // system disk not encrypted
)

// CheckKinds lists the known checks in the order a person sees them.
var CheckKinds = []CheckKind{CheckPasswordExpiry, CheckDiskSpace, CheckRestartNeeded, CheckOSUpdates, CheckBatteryHealth, CheckDiskEncryption}

// Known reports whether k is a check this revision knows.
func (k CheckKind) Known() bool {
	for _, c := range CheckKinds {
		if c == k {
			return true
		}
	}
	return false
}

// CheckState is where a check stands on one device. ok, warn and unknown
// are what the probe found; fixed, snoozed and asked_it are what the
// person did about a warning.
type CheckState string

const (
	CheckOK      CheckState = "ok"       // nothing to do
	CheckWarn    CheckState = "warn"     // the person should know
	CheckUnknown CheckState = "unknown"  // the probe failed or timed out: "couldn't check", never a warning
	CheckFixed   CheckState = "fixed"    // ok again after the person clicked "Fix it for me"
	CheckSnoozed CheckState = "snoozed"  // "Remind me later" (bounded by the deadline)
	CheckAskedIT CheckState = "asked_it" // "Ask IT": a request carries the evidence
)

// Valid reports whether s is a known state.
func (s CheckState) Valid() bool {
	switch s {
	case CheckOK, CheckWarn, CheckUnknown, CheckFixed, CheckSnoozed, CheckAskedIT:
		return true
	}
	return false
}

// ChecksPolicy is IT's heads-up policy for a device's enrolment group
// (server → device, sequenced and replayed like any server message). The
// agent keeps the one with the highest Revision and applies it offline.
type ChecksPolicy struct {
	Revision  int64         `json:"revision"`
	Group     string        `json:"group,omitempty"`
	Checks    []CheckPolicy `json:"checks"`
	UpdatedAt time.Time     `json:"updated_at"`
}

// CheckPolicy configures one check. A zero threshold means the default
// (DefaultCheckPolicy); empty words mean the agent's own.
type CheckPolicy struct {
	Kind    CheckKind `json:"kind"`
	Enabled bool      `json:"enabled"`

	DiskFreePct      float64 `json:"disk_free_pct,omitempty"`      // disk_space: warn below this % free
	DiskFreeGB       float64 `json:"disk_free_gb,omitempty"`       // disk_space: or below this many GB free
	UptimeDays       int     `json:"uptime_days,omitempty"`        // restart_needed: warn after this many days up
	UpdatesDays      int     `json:"updates_days,omitempty"`       // os_updates: warn when updates waited this many days (0: at once)
	PasswordDays     int     `json:"password_days,omitempty"`      // password_expiry: warn from this many days before
	BatteryHealthPct int     `json:"battery_health_pct,omitempty"` // battery_health: warn below this % of design capacity

	// RemindHours is how often a warning comes back after "Remind me
	// later"; the agent never postpones past a check's deadline.
	RemindHours int `json:"remind_hours,omitempty"`

	Title     string `json:"title,omitempty"`      // the notification's title
	Text      string `json:"text,omitempty"`       // the friendly words; {placeholders} per docs/heads-up.md
	HowToURL  string `json:"how_to_url,omitempty"` // "Show me how" (https)
	ArticleID string `json:"article_id,omitempty"` // or a self-help article
	FixURL    string `json:"fix_url,omitempty"`    // password_expiry: the password-change page (https)
}

// Policy limits.
const (
	MaxCheckWords = 1000 // runes of a title or text
	MaxCheckURL   = 2048
)

// DefaultCheckPolicy is the policy a check has until IT changes it.
func DefaultCheckPolicy(k CheckKind) CheckPolicy {
	p := CheckPolicy{Kind: k, Enabled: true, RemindHours: 24}
	switch k {
	case CheckDiskSpace:
		p.DiskFreePct, p.DiskFreeGB = 10, 5
	case CheckRestartNeeded:
		p.UptimeDays = 14
	case CheckOSUpdates:
		p.UpdatesDays = 7
	case CheckPasswordExpiry:
		p.PasswordDays = 14
	case CheckBatteryHealth:
		p.BatteryHealthPct = 60
	case CheckDiskEncryption:
		p.RemindHours = 24 * 7
	}
	return p
}

// DefaultChecksPolicy is every known check with its defaults (revision 0).
func DefaultChecksPolicy() ChecksPolicy {
	p := ChecksPolicy{}
	for _, k := range CheckKinds {
		p.Checks = append(p.Checks, DefaultCheckPolicy(k))
	}
	return p
}

// ValidateStrict refuses a policy the server should not store: unknown
// kinds, a kind twice, absurd thresholds, URLs that are not https. Messages
// name the item so an admin can fix it. (It is not Validate, which
// Envelope.Decode would call: an agent must not drop a whole policy for one
// item it does not know; it uses Usable.)
func (p *ChecksPolicy) ValidateStrict() error {
	seen := map[CheckKind]bool{}
	for i := range p.Checks {
		c := &p.Checks[i]
		if !c.Kind.Known() {
			return fmt.Errorf("checks[%d]: %q is not a check Deskside knows (known: %s)", i, c.Kind, joinKinds())
		}
		if seen[c.Kind] {
			return fmt.Errorf("checks[%d]: %s appears twice", i, c.Kind)
		}
		seen[c.Kind] = true
		if err := c.Validate(); err != nil {
			return fmt.Errorf("checks[%d] (%s): %w", i, c.Kind, err)
		}
	}
	return nil
}

// Usable is what an agent applies: the items of kinds it knows that
// validate, the first of each kind. skipped says why each other item was
// left out, for the log; a bad item is never fatal.
func (p *ChecksPolicy) Usable() (use []CheckPolicy, skipped []error) {
	seen := map[CheckKind]bool{}
	for i, c := range p.Checks {
		var err error
		switch {
		case !c.Kind.Known():
			err = fmt.Errorf("checks[%d]: %q is not a check this agent knows", i, c.Kind)
		case seen[c.Kind]:
			err = fmt.Errorf("checks[%d]: %s appears twice", i, c.Kind)
		default:
			if verr := c.Validate(); verr != nil {
				err = fmt.Errorf("checks[%d] (%s): %w", i, c.Kind, verr)
			}
		}
		if err != nil {
			skipped = append(skipped, err)
			continue
		}
		seen[c.Kind] = true
		use = append(use, c)
	}
	return use, skipped
}

func joinKinds() string {
	s := make([]string, len(CheckKinds))
	for i, k := range CheckKinds {
		s[i] = string(k)
	}
	return strings.Join(s, ", ")
}

// Validate checks one item's thresholds, words and URLs (not its kind: an
// agent validates the items it knows and skips the rest).
func (c *CheckPolicy) Validate() error {
	switch {
	case c.DiskFreePct < 0 || c.DiskFreePct > 90:
		return fmt.Errorf("disk_free_pct %g is not between 0 and 90", c.DiskFreePct)
	case c.DiskFreeGB < 0 || c.DiskFreeGB > 10000:
		return fmt.Errorf("disk_free_gb %g is not between 0 and 10000", c.DiskFreeGB)
	case c.UptimeDays < 0 || c.UptimeDays > 365:
		return fmt.Errorf("uptime_days %d is not between 0 and 365", c.UptimeDays)
	case c.UpdatesDays < 0 || c.UpdatesDays > 365:
		return fmt.Errorf("updates_days %d is not between 0 and 365", c.UpdatesDays)
	case c.PasswordDays < 0 || c.PasswordDays > 90:
		return fmt.Errorf("password_days %d is not between 0 and 90", c.PasswordDays)
	case c.BatteryHealthPct < 0 || c.BatteryHealthPct > 100:
		return fmt.Errorf("battery_health_pct %d is not between 0 and 100", c.BatteryHealthPct)
	case c.RemindHours < 0 || c.RemindHours > 24*30:
		return fmt.Errorf("remind_hours %d is not between 0 and 720 (30 days)", c.RemindHours)
	}
	for _, w := range []struct{ name, s string }{{"title", c.Title}, {"text", c.Text}} {
		if !utf8.ValidString(w.s) {
			return fmt.Errorf("%s is not valid UTF-8", w.name)
		}
		if n := utf8.RuneCountInString(w.s); n > MaxCheckWords {
			return fmt.Errorf("%s has %d characters; the limit is %d", w.name, n, MaxCheckWords)
		}
	}
	if len(c.ArticleID) > 64 {
		return errors.New("article_id is longer than 64 characters")
	}
	for _, u := range []struct{ name, s string }{{"how_to_url", c.HowToURL}, {"fix_url", c.FixURL}} {
		if u.s == "" {
			continue
		}
		if err := CheckHTTPSURL(u.s); err != nil {
			return fmt.Errorf("%s: %w", u.name, err)
		}
	}
	return nil
}

// CheckHTTPSURL accepts only an absolute https:// URL with a host and no
// user info: the agent opens it in the person's browser and shows its host.
func CheckHTTPSURL(s string) error {
	if len(s) > MaxCheckURL {
		return fmt.Errorf("the address is longer than %d characters", MaxCheckURL)
	}
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("%q is not a web address", s)
	}
	if u.Scheme != "https" {
		return fmt.Errorf("%q must start with https://", s)
	}
	if u.Host == "" || u.Hostname() == "" {
		return fmt.Errorf("%q has no host", s)
	}
	if u.User != nil {
		return fmt.Errorf("%q must not carry a user name or password", s)
	}
	return nil
}

// CheckReport is a check's new state on a device (device → server, acked
// after it is stored). The agent sends one only when the state changes, with
// a jitter so a fleet does not report at once.
type CheckReport struct {
	Check CheckKind  `json:"check"`
	State CheckState `json:"state"`
	// Summary is the plain sentence the person saw, with the numbers
	// ("3.1 GB left on /home").
	Summary string `json:"summary,omitempty"`
	// Evidence is what the probe measured, for IT ("free_gb": "3.1").
	Evidence map[string]string `json:"evidence,omitempty"`
	// Deadline is when it stops being a heads-up (the password expires).
	Deadline     time.Time `json:"deadline,omitzero"`
	SnoozedUntil time.Time `json:"snoozed_until,omitzero"`
	// RequestID is the request "Ask IT" raised (state asked_it).
	RequestID  string    `json:"request_id,omitempty"`
	ObservedAt time.Time `json:"observed_at"`
}

// Report limits.
const (
	MaxEvidenceItems = 32
	MaxEvidenceRunes = 512
)

// Validate bounds a report from a device. A check kind this side does not
// know is accepted if it looks like a name (a newer agent).
func (r *CheckReport) Validate() error {
	if !validCheckName(string(r.Check)) {
		return fmt.Errorf("check %q is not a check name (a-z, 0-9 and _, at most 40)", r.Check)
	}
	if !r.State.Valid() {
		return fmt.Errorf("state %q is not one of ok, warn, unknown, fixed, snoozed, asked_it", r.State)
	}
	if err := CheckText("summary", r.Summary, false); err != nil {
		return err
	}
	if len(r.Evidence) > MaxEvidenceItems {
		return fmt.Errorf("evidence has %d items; the limit is %d", len(r.Evidence), MaxEvidenceItems)
	}
	for k, v := range r.Evidence {
		if !utf8.ValidString(k) || !utf8.ValidString(v) {
			return errors.New("evidence is not valid UTF-8")
		}
		if utf8.RuneCountInString(k) > 64 || utf8.RuneCountInString(v) > MaxEvidenceRunes {
			return fmt.Errorf("evidence %.64q is too long (names 64, values %d characters)", k, MaxEvidenceRunes)
		}
	}
	if len(r.RequestID) > 64 {
		return errors.New("request_id is longer than 64 characters")
	}
	return nil
}

func validCheckName(s string) bool {
	if s == "" || len(s) > 40 {
		return false
	}
	for _, c := range s {
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '_' {
			return false
		}
	}
	return true
}

// DeviceCheck is one device's current state of one check as consoles see
// it (in device.checks, and the REST answers): the device's last report
// with who it is.
type DeviceCheck struct {
	DeviceID string `json:"device_id"`
	Hostname string `json:"hostname,omitempty"`
	User     string `json:"user,omitempty"`
	CheckReport
	UpdatedAt time.Time `json:"updated_at"`
}

// DeviceChecks is the body of device.checks (server → console): the check
// states one group commit stored, so a fleet reporting at once is a few
// frames a second to each console, not one per device.
type DeviceChecks struct {
	Checks []DeviceCheck `json:"checks"`
}
