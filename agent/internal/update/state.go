package update

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// Phases of an update as recorded in the state file.
const (
	phaseNone       = ""
	phaseApplying   = "applying"    // written just before the swap
	phaseApplied    = "applied"     // swapped; the new version must report healthy
	phaseRolledBack = "rolled_back" // the old binary is back; the failure is yet to be reported
)

// state survives restarts: it is how the new binary knows it is on probation
// and how the old one, once restored, knows to report the failure.
type state struct {
	Phase     string    `json:"phase,omitempty"`
	From      string    `json:"from,omitempty"`
	To        string    `json:"to,omitempty"`
	Exe       string    `json:"exe,omitempty"`
	OldPath   string    `json:"old_path,omitempty"`   // the previous binary, kept by selfupdate
	OldSHA256 string    `json:"old_sha256,omitempty"` // checked before it is restored
	Created   time.Time `json:"created,omitzero"`     // manifest time of the release being applied
	Starts    int       `json:"starts,omitempty"`     // starts of the new version so far
	Deadline  time.Time `json:"deadline,omitzero"`    // end of the current health window
	Detail    string    `json:"detail,omitempty"`

	// Failed lists versions that rolled back on this machine; they are never
	// tried again here (a newer release is).
	Failed []string `json:"failed,omitempty"`
	// Installed is the manifest time of the release now installed; a signed
	// rollback manifest older than it is a replay and is refused.
	Installed time.Time `json:"installed,omitzero"`
}

func (u *Updater) statePath() string { return filepath.Join(u.dir, "state.json") }

func (u *Updater) loadState() (state, error) {
	var s state
	b, err := os.ReadFile(u.statePath())
	if errors.Is(err, fs.ErrNotExist) {
		return s, nil
	}
	if err != nil {
		return s, fmt.Errorf("read update state: %w", err)
	}
	if err := json.Unmarshal(b, &s); err != nil {
		return s, fmt.Errorf("read update state: %w", err)
	}
	return s, nil
}

// saveState writes the state file atomically: temp file, fsync, rename.
func (u *Updater) saveState(s state) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return fmt.Errorf("write update state: %w", err)
	}
	tmp, err := os.CreateTemp(u.dir, "state-*.tmp")
	if err != nil {
		return fmt.Errorf("write update state: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return fmt.Errorf("write update state: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("write update state: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write update state: %w", err)
	}
	if err := os.Rename(tmp.Name(), u.statePath()); err != nil {
		return fmt.Errorf("write update state: %w", err)
	}
	return nil
}

func (s *state) failed(v string) bool {
	for _, f := range s.Failed {
		if f == v {
			return true
		}
	}
	return false
}

// clear forgets the update in progress but keeps the history.
func (s *state) clear() {
	*s = state{Failed: s.Failed, Installed: s.Installed}
}
