package protocol

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Software amnesty (protocol revision 3): the agent reports what is
// installed (a full list once, then changes against a hash both sides
// know), the server keeps a registry of titles IT decides about, asks a
// person kindly about a per-user install, and thanks them when IT says yes.

// SoftwareSource says where an entry was found.
type SoftwareSource string

const (
	SourceDpkg            SoftwareSource = "dpkg"             // Debian/Ubuntu package database
	SourceRPM             SoftwareSource = "rpm"              // RPM database (rpm -qa)
	SourceFlatpak         SoftwareSource = "flatpak"          // Flatpak app (system or user installation)
	SourceSnap            SoftwareSource = "snap"             // Snap package
	SourceDesktop         SoftwareSource = "desktop"          // a user's own .desktop entry under ~/.local/share/applications
	SourceAppImage        SoftwareSource = "appimage"         // an AppImage under the user's home
	SourceRegistryMachine SoftwareSource = "registry-machine" // Windows Uninstall key under HKLM (64- or 32-bit view)
	SourceRegistryUser    SoftwareSource = "registry-user"    // Windows Uninstall key under HKCU
	SourceWinPrograms     SoftwareSource = "programs-user"    // a folder under %LOCALAPPDATA%\Programs
	SourceAppBundle       SoftwareSource = "app-bundle"       // macOS .app bundle (/Applications or ~/Applications)
)

// SoftwareSources lists the known sources.
var SoftwareSources = []SoftwareSource{SourceDpkg, SourceRPM, SourceFlatpak, SourceSnap, SourceDesktop, SourceAppImage,
	SourceRegistryMachine, SourceRegistryUser, SourceWinPrograms, SourceAppBundle}

// Valid reports whether s is a known source.
func (s SoftwareSource) Valid() bool {
	for _, k := range SoftwareSources {
		if k == s {
			return true
		}
	}
	return false
}

// Family is the part of a source that names a title: the same app found
// per user on one desk and per machine on another is one thing IT decides
// about once, so the Windows sources are one family, and a user's desktop
// entries and AppImages are another.
func (s SoftwareSource) Family() string {
	switch s {
	case SourceRegistryMachine, SourceRegistryUser, SourceWinPrograms:
		return "windows"
	case SourceDesktop, SourceAppImage:
		return "user-app"
	case SourceAppBundle:
		return "macos"
	}
	return string(s)
}

// SoftwareFamilies lists the families a title's Source can be.
var SoftwareFamilies = []string{"dpkg", "rpm", "flatpak", "snap", "user-app", "windows", "macos"}

// SoftwareEntry is one installed thing as the agent found it.
type SoftwareEntry struct {
	Name      string         `json:"name"`
	Version   string         `json:"version,omitempty"`
	Publisher string         `json:"publisher,omitempty"`
	Source    SoftwareSource `json:"source"`
	// PerUser is true for an install in the user's own space (HKCU,
	// %LOCALAPPDATA%\Programs, ~/Applications, a user Flatpak, an AppImage):
	// the strongest sign that a person brought it in for their work.
	PerUser bool `json:"per_user,omitempty"`
	// AppID is the platform's id where there is one: a bundle id, a
	// Flatpak application id, a snap name, an Uninstall key name.
	AppID string `json:"app_id,omitempty"`
}

// Limits of an inventory. The agent makes its entries fit
// (NormalizeSoftware); the server refuses a frame that does not.
const (
	MaxSoftwareEntries   = 20000 // entries in a full list (a desktop Linux install has ~1,500–4,000)
	MaxSoftwareChanges   = 20000 // added + removed in one change list; more is sent as a full list
	MaxSoftwareNameRunes = 200   // name, publisher and app id
	MaxSoftwareVerRunes  = 100   // version
)

// TitleID is the id of the title an entry belongs to (see SoftwareTitleID).
func (e SoftwareEntry) TitleID() string { return SoftwareTitleID(e.Name, e.Publisher, e.Source) }

// key is the entry's canonical form: its identity in a set and the line
// that goes into the set's hash.
func (e SoftwareEntry) key() string {
	pu := "0"
	if e.PerUser {
		pu = "1"
	}
	return e.Name + "\x00" + e.Version + "\x00" + e.Publisher + "\x00" + string(e.Source) + "\x00" + pu + "\x00" + e.AppID
}

// Less orders entries canonically (the order of a full list and of the hash).
func (e SoftwareEntry) Less(o SoftwareEntry) bool { return e.key() < o.key() }

// Validate checks one entry against the limits.
func (e SoftwareEntry) Validate() error {
	if strings.TrimSpace(e.Name) == "" {
		return errors.New("software entry has no name")
	}
	if !e.Source.Valid() {
		return fmt.Errorf("software entry %.40q: source %q is not known", e.Name, e.Source)
	}
	for _, f := range []struct {
		name, v string
		max     int
	}{{"name", e.Name, MaxSoftwareNameRunes}, {"publisher", e.Publisher, MaxSoftwareNameRunes},
		{"app_id", e.AppID, MaxSoftwareNameRunes}, {"version", e.Version, MaxSoftwareVerRunes}} {
		if !utf8.ValidString(f.v) {
			return fmt.Errorf("software entry %s is not valid UTF-8", f.name)
		}
		if strings.IndexFunc(f.v, unicode.IsControl) >= 0 {
			return fmt.Errorf("software entry %s holds a control character", f.name)
		}
		if n := utf8.RuneCountInString(f.v); n > f.max {
			return fmt.Errorf("software entry %s is %d characters (at most %d)", f.name, n, f.max)
		}
	}
	return nil
}

// cleanField makes s valid UTF-8 without control characters, trims it and
// cuts it to max runes.
func cleanField(s string, max int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) > max {
		s = string([]rune(s)[:max])
		s = strings.TrimSpace(s)
	}
	return s
}

// NormalizeSoftware returns entries made valid and canonical: fields made
// valid UTF-8, spaces collapsed, cut to the limits; entries with no name or
// an unknown source dropped; duplicates removed; sorted; at most
// MaxSoftwareEntries (the rest dropped, so truncated is true). Both the
// agent (before hashing and sending) and tests use it.
func NormalizeSoftware(in []SoftwareEntry) (out []SoftwareEntry, truncated bool) {
	out = make([]SoftwareEntry, 0, len(in))
	seen := make(map[string]bool, len(in))
	for _, e := range in {
		e.Name = cleanField(e.Name, MaxSoftwareNameRunes)
		e.Publisher = cleanField(e.Publisher, MaxSoftwareNameRunes)
		e.AppID = cleanField(e.AppID, MaxSoftwareNameRunes)
		e.Version = cleanField(e.Version, MaxSoftwareVerRunes)
		if e.Name == "" || !e.Source.Valid() {
			continue
		}
		k := e.key()
		if seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].key() < out[j].key() })
	if len(out) > MaxSoftwareEntries {
		out, truncated = out[:MaxSoftwareEntries], true
	}
	return out, truncated
}

// SoftwareHash is the hash of a set of entries: "sha256:" and the hex of
// SHA-256 over the sorted canonical lines. The order of entries does not
// matter; entries must be normalised. The empty set has a hash too.
func SoftwareHash(entries []SoftwareEntry) string {
	keys := make([]string, len(entries))
	for i, e := range entries {
		keys[i] = e.key()
	}
	sort.Strings(keys)
	h := sha256.New()
	for _, k := range keys {
		h.Write([]byte(k))
		h.Write([]byte{'\n'})
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}

// SoftwareDiff returns what changed from old to new (both normalised): a
// new version of a title is its old entry removed and its new one added.
func SoftwareDiff(old, new []SoftwareEntry) (added, removed []SoftwareEntry) {
	o := make(map[string]bool, len(old))
	for _, e := range old {
		o[e.key()] = true
	}
	n := make(map[string]bool, len(new))
	for _, e := range new {
		n[e.key()] = true
		if !o[e.key()] {
			added = append(added, e)
		}
	}
	for _, e := range old {
		if !n[e.key()] {
			removed = append(removed, e)
		}
	}
	return added, removed
}

// ApplySoftwareChanges applies a change list to base (normalised) and
// returns the new set, sorted.
func ApplySoftwareChanges(base, added, removed []SoftwareEntry) []SoftwareEntry {
	gone := make(map[string]bool, len(removed))
	for _, e := range removed {
		gone[e.key()] = true
	}
	out := make([]SoftwareEntry, 0, len(base)+len(added))
	have := make(map[string]bool, len(base)+len(added))
	for _, e := range base {
		if !gone[e.key()] && !have[e.key()] {
			have[e.key()] = true
			out = append(out, e)
		}
	}
	for _, e := range added {
		if !have[e.key()] {
			have[e.key()] = true
			out = append(out, e)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].key() < out[j].key() })
	return out
}

// normTitle lower-cases s, collapses its spaces and drops an architecture
// or edition tag at its end, so "Mozilla Firefox (x64 en-US)" and "mozilla
// firefox" are one title.
func normTitle(s string) string {
	s = strings.ToLower(strings.Join(strings.Fields(s), " "))
	for {
		t := strings.TrimSpace(s)
		if i := strings.LastIndexByte(t, '('); i > 0 && strings.HasSuffix(t, ")") {
			tag := t[i+1 : len(t)-1]
			if strings.Contains(tag, "x64") || strings.Contains(tag, "x86") || strings.Contains(tag, "64-bit") ||
				strings.Contains(tag, "32-bit") || strings.Contains(tag, "arm64") || strings.Contains(tag, "user") {
				s = strings.TrimSpace(t[:i])
				continue
			}
		}
		return t
	}
}

// normPublisher drops the legal form so "Figma, Inc." and "Figma Inc" agree.
func normPublisher(s string) string {
	s = strings.ToLower(strings.Join(strings.Fields(s), " "))
	s = strings.TrimRight(s, ". ")
	for _, suf := range []string{", inc", " inc", ", llc", " llc", ", ltd", " ltd", " gmbh", " corporation", " corp", " s.a", " ag"} {
		s = strings.TrimSuffix(s, suf)
	}
	return strings.TrimRight(s, ",. ")
}

// SoftwareTitleID is the id of the title (name + publisher + source family)
// an entry belongs to: "sw_" and 16 hex digits of a SHA-256 over the
// normalised parts. Both sides compute it, so a prompt and an answer name
// a title without a lookup.
func SoftwareTitleID(name, publisher string, source SoftwareSource) string {
	sum := sha256.Sum256([]byte(normTitle(name) + "\x00" + normPublisher(publisher) + "\x00" + source.Family()))
	return "sw_" + hex.EncodeToString(sum[:8])
}

// SoftwareInventory (device → server) is the installed software: a full
// list (Full, Entries), or the changes since BaseHash (Added, Removed).
// Hash is the set after the frame. The server acks it once stored, with
// the Hash as the ack's Ref; when BaseHash is not what it holds it answers
// software.want and the agent sends a full list.
type SoftwareInventory struct {
	Full        bool            `json:"full"`
	BaseHash    string          `json:"base_hash,omitempty"`
	Hash        string          `json:"hash"`
	Entries     []SoftwareEntry `json:"entries,omitempty"`
	Added       []SoftwareEntry `json:"added,omitempty"`
	Removed     []SoftwareEntry `json:"removed,omitempty"`
	Truncated   bool            `json:"truncated,omitempty"` // the agent found more than MaxSoftwareEntries
	CollectedAt time.Time       `json:"collected_at"`
}

// Validate checks the frame's shape and bounds; it does not check the hash
// (the server does, against what it holds).
func (s *SoftwareInventory) Validate() error {
	if !strings.HasPrefix(s.Hash, "sha256:") || len(s.Hash) != len("sha256:")+64 {
		return errors.New("hash is not sha256:<64 hex digits>")
	}
	if s.Full {
		if s.BaseHash != "" || len(s.Added) > 0 || len(s.Removed) > 0 {
			return errors.New("a full list has entries only, no base_hash, added or removed")
		}
		if len(s.Entries) > MaxSoftwareEntries {
			return fmt.Errorf("%d entries (at most %d)", len(s.Entries), MaxSoftwareEntries)
		}
	} else {
		if s.BaseHash == "" {
			return errors.New("a change list needs base_hash")
		}
		if len(s.Entries) > 0 {
			return errors.New("a change list has added and removed, not entries")
		}
		if n := len(s.Added) + len(s.Removed); n > MaxSoftwareChanges {
			return fmt.Errorf("%d changes (at most %d): send a full list", n, MaxSoftwareChanges)
		}
	}
	for _, list := range [][]SoftwareEntry{s.Entries, s.Added, s.Removed} {
		seen := make(map[string]bool, len(list))
		for _, e := range list {
			if err := e.Validate(); err != nil {
				return err
			}
			if seen[e.key()] {
				return fmt.Errorf("software entry %.40q is listed twice", e.Name)
			}
			seen[e.key()] = true
		}
	}
	return nil
}

// SoftwareWant (server → device, not sequenced) asks for a full list: the
// server has no inventory for the device, or a change list's base did not
// match the one it holds (Have, "" for none).
type SoftwareWant struct {
	Reason string `json:"reason"` // "base_unknown", "none", "admin"
	Have   string `json:"have,omitempty"`
}

// SoftwareStatus is what IT decided about a title.
type SoftwareStatus string

const (
	SoftwareNew         SoftwareStatus = "new"          // not yet looked at
	SoftwareApproved    SoftwareStatus = "approved"     // fine for work
	SoftwareUnderReview SoftwareStatus = "under_review" // IT is looking at it
	SoftwareNotForWork  SoftwareStatus = "not_for_work" // with a friendly reason and a supported alternative
)

// Valid reports whether s is a known status.
func (s SoftwareStatus) Valid() bool {
	switch s {
	case SoftwareNew, SoftwareApproved, SoftwareUnderReview, SoftwareNotForWork:
		return true
	}
	return false
}

// SoftwareAsk (server → device, sequenced) asks the person about a
// per-user install IT has not approved. The agent shows it at most once per
// title and at most once a week, never while a request is being typed, and
// drops it when the person said "don't ask again" or the title is gone.
type SoftwareAsk struct {
	TitleID   string `json:"title_id"`
	Name      string `json:"name"`
	Publisher string `json:"publisher,omitempty"`
	Version   string `json:"version,omitempty"`
	// Text is IT's own words; empty means the agent's ("You use {name}. Is
	// it for your work? …").
	Text string `json:"text,omitempty"`
}

// Validate checks the fields.
func (a *SoftwareAsk) Validate() error {
	if !strings.HasPrefix(a.TitleID, "sw_") {
		return errors.New("title_id is not a software title id")
	}
	if err := CheckText("name", a.Name, true); err != nil {
		return err
	}
	return CheckText("text", a.Text, false)
}

// SoftwareAnswerKind is the person's answer to a SoftwareAsk.
type SoftwareAnswerKind string

const (
	AnswerForWork  SoftwareAnswerKind = "work"     // "Yes, for work": a software request goes with it
	AnswerPersonal SoftwareAnswerKind = "personal" // "It's personal"
	AnswerNever    SoftwareAnswerKind = "never"    // "Don't ask again"
)

// SoftwareAnswer (device → server) is the person's answer. For
// AnswerForWork, RequestID is the software request the agent raised (with
// RequestNew.SoftwareTitle set), so the server links the two.
type SoftwareAnswer struct {
	TitleID   string             `json:"title_id"`
	Answer    SoftwareAnswerKind `json:"answer"`
	RequestID string             `json:"request_id,omitempty"`
	At        time.Time          `json:"at"`
}

// Validate checks the fields.
func (a *SoftwareAnswer) Validate() error {
	if !strings.HasPrefix(a.TitleID, "sw_") || len(a.TitleID) > 64 {
		return errors.New("title_id is not a software title id")
	}
	switch a.Answer {
	case AnswerForWork, AnswerPersonal, AnswerNever:
	default:
		return fmt.Errorf("answer %q is not work, personal or never", a.Answer)
	}
	if len(a.RequestID) > 64 {
		return errors.New("request_id is too long")
	}
	return nil
}

// SoftwareThanks (server → device, sequenced) closes the loop with a
// person who told IT about a title: approved brings a thank-you; not for
// work brings the reason, the supported alternative and an offer of help
// moving, never a threat.
type SoftwareThanks struct {
	TitleID     string         `json:"title_id"`
	Name        string         `json:"name"`
	Status      SoftwareStatus `json:"status"`
	Reason      string         `json:"reason,omitempty"`
	Alternative string         `json:"alternative,omitempty"`
	// Text is the whole message as IT worded it; empty means the agent
	// words it from the fields above.
	Text      string `json:"text,omitempty"`
	RequestID string `json:"request_id,omitempty"` // the request the person raised, if any
}

// Validate checks the fields.
func (t *SoftwareThanks) Validate() error {
	if !strings.HasPrefix(t.TitleID, "sw_") {
		return errors.New("title_id is not a software title id")
	}
	if t.Status != SoftwareApproved && t.Status != SoftwareNotForWork {
		return fmt.Errorf("status %q: thanks are for approved or not_for_work", t.Status)
	}
	for _, f := range []struct{ n, v string }{{"name", t.Name}, {"reason", t.Reason}, {"alternative", t.Alternative}, {"text", t.Text}} {
		if err := CheckText(f.n, f.v, f.n == "name"); err != nil {
			return err
		}
	}
	return nil
}

// SoftwareCataloguePath answers GET (device credentials) with
// SoftwareCatalogue: the approved titles IT put in the catalogue.
const SoftwareCataloguePath = "/api/v1/software/catalogue"

// How a catalogue item is got.
const (
	CatalogueLink         = "link"         // open URL
	CataloguePackage      = "package"      // install Package with the system's package tool
	CatalogueInstructions = "instructions" // follow Instructions (Markdown)
)

// CatalogueItem is one title in the self-service catalogue.
type CatalogueItem struct {
	TitleID      string `json:"title_id"`
	Name         string `json:"name"`
	Publisher    string `json:"publisher,omitempty"`
	Description  string `json:"description,omitempty"`
	How          string `json:"how"` // link, package or instructions
	URL          string `json:"url,omitempty"`
	Package      string `json:"package,omitempty"`
	Instructions string `json:"instructions,omitempty"`
	// OS lists the GOOS values it is for; empty: every OS.
	OS []string `json:"os,omitempty"`
}

// SoftwareCatalogue answers SoftwareCataloguePath.
type SoftwareCatalogue struct {
	Items []CatalogueItem `json:"items"`
}

// SoftwareUpdated (server → console) says titles changed: Titles lists the
// ids whose status or catalogue fields IT changed (empty when only counts
// or new titles moved), so an open title page reloads.
type SoftwareUpdated struct {
	Titles []string `json:"titles,omitempty"`
	// NewTitles is how many titles appeared since the last event.
	NewTitles int `json:"new_titles,omitempty"`
}
