// Package checks runs the heads-up checks on a desk: small, time-bounded
// probes (disk space, restart needed, OS updates, password expiry, battery
// health, disk encryption) that turn what they find into a plain sentence
// with numbers, and a Runner that applies IT's policy, keeps each check's
// state (ok, warn, snoozed, asked IT, fixed) and says when it changed. The
// fixes a person can click are a fixed set compiled in here: the server
// sends words and thresholds, never code. It imports no UI and keeps no
// globals: the OS (file root, commands, disks, clock) is injected through
// Env so tests run the real probes on fixtures.
package checks

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"time"

	"github.com/deskside/deskside/shared/protocol"
)

// Commander runs a command and returns its standard output. A non-zero exit
// is an error of type *exec.ExitError (or ExitCoder) with the output still
// returned, because some tools say what they found through the exit code.
type Commander interface {
	Run(ctx context.Context, name string, args ...string) ([]byte, error)
}

// ExecCommander runs real commands with LC_ALL=C so their output parses the
// same in every language.
type ExecCommander struct{}

// Run implements Commander.
func (ExecCommander) Run(ctx context.Context, name string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(os.Environ(), "LC_ALL=C", "LANG=C")
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.WaitDelay = time.Second
	err := cmd.Run()
	if err != nil {
		err = fmt.Errorf("%s: %w", name, err)
	}
	return out.Bytes(), err
}

// Mount is one filesystem's space.
type Mount struct {
	Path       string
	TotalBytes uint64
	FreeBytes  uint64
}

// Env is the machine the probes look at. The zero value of each field means
// the real one (see Defaults).
type Env struct {
	// Root prefixes every file the probes read (/run/reboot-required,
	// /proc, /sys): "/" on a real desk, a fixture tree in tests.
	Root string
	Cmd  Commander
	Now  func() time.Time
	// User is the signed-in user (password expiry); Home is their home.
	User string
	Home string
	// Mounts lists the fixed disks and their space (default: gopsutil's
	// physical partitions; tests name their own filesystem).
	Mounts func(ctx context.Context) ([]Mount, error)
	// Uptime is how long the computer has been up.
	Uptime func(ctx context.Context) (time.Duration, error)
	// GOOS picks the probes' flavour ("linux", "windows", "darwin");
	// default runtime.GOOS. Only the running OS's probes are compiled in,
	// so tests set it only to reach the OS-neutral parsers.
	GOOS string
	// Timeout caps each probe (default 20 s: apt-get -s and
	// softwareupdate -l can be slow, but never hang a round).
	Timeout time.Duration

	memo *memo // answers kept while what they depend on is unchanged
}

// memo keeps a costly probe's finding under a key naming the state it
// was measured on.
type memo struct {
	mu sync.Mutex
	m  map[string]MemoEntry
}

// MemoEntry is one kept answer (exported for the saved state's JSON).
type MemoEntry struct {
	Key     string  `json:"key"`
	Finding Finding `json:"finding"`
}

func (m *memo) snapshot() map[string]MemoEntry {
	if m == nil {
		return nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make(map[string]MemoEntry, len(m.m))
	for k, v := range m.m {
		out[k] = v
	}
	return out
}

func (m *memo) restore(saved map[string]MemoEntry) {
	if m == nil || saved == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.m == nil {
		m.m = map[string]MemoEntry{}
	}
	for k, v := range saved {
		if _, ok := m.m[k]; !ok {
			m.m[k] = v
		}
	}
}

func (m *memo) get(name, key string) (Finding, bool) {
	if m == nil {
		return Finding{}, false
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.m[name]
	return e.Finding, ok && e.Key == key
}

func (m *memo) put(name, key string, f Finding) {
	if m == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.m == nil {
		m.m = map[string]MemoEntry{}
	}
	m.m[name] = MemoEntry{key, f}
}

// Finding is what one probe saw. State is ok, warn or unknown; the Runner
// adds what the person did.
type Finding struct {
	Kind     protocol.CheckKind
	State    protocol.CheckState
	Summary  string
	Evidence map[string]string
	// Deadline is when it stops being a heads-up (the password expires).
	Deadline time.Time
	// Pending says updates are waiting (os_updates); the Runner warns
	// once they have waited the policy's days.
	Pending bool
	// Fix is the fix the agent can offer, if any.
	Fix Fix
	// Path is where a disk is short (disk_space), for the fix.
	Path string
}

// unknown is the "couldn't check" finding: a probe that failed never warns.
func unknown(k protocol.CheckKind, err error) Finding {
	return Finding{Kind: k, State: protocol.CheckUnknown, Summary: couldntCheck(k),
		Evidence: map[string]string{"error": truncate(err.Error(), protocol.MaxEvidenceRunes)}}
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// probe is one check's measurement.
type probe func(ctx context.Context, env *Env, p protocol.CheckPolicy) (Finding, error)

var errNoProbe = errors.New("this check does not run on this computer's system")

// Probe runs one check under env's timeout. A probe that fails, panics or
// times out gives state unknown ("couldn't check"), never a warning.
func Probe(ctx context.Context, env *Env, p protocol.CheckPolicy) (f Finding) {
	fn := probeFor(p.Kind)
	if fn == nil {
		return unknown(p.Kind, errNoProbe)
	}
	ctx, cancel := context.WithTimeout(ctx, env.Timeout)
	defer cancel()
	type out struct {
		f   Finding
		err error
	}
	done := make(chan out, 1)
	go func() {
		defer func() {
			if r := recover(); r != nil {
				done <- out{err: fmt.Errorf("probe panicked: %v", r)}
			}
		}()
		f, err := fn(ctx, env, p)
		done <- out{f, err}
	}()
	select {
	case o := <-done:
		if o.err != nil {
			return unknown(p.Kind, o.err)
		}
		o.f.Kind = p.Kind
		return o.f
	case <-ctx.Done():
		// The probe goroutine ends when its command is killed by ctx;
		// its late answer goes into the buffered channel and is dropped.
		return unknown(p.Kind, fmt.Errorf("timed out after %s", env.Timeout))
	}
}

func probeFor(k protocol.CheckKind) probe {
	switch k {
	case protocol.CheckDiskSpace:
		return probeDiskSpace
	case protocol.CheckRestartNeeded:
		return probeRestart
	case protocol.CheckOSUpdates:
		return probeUpdates
	case protocol.CheckPasswordExpiry:
		return probePassword
	case protocol.CheckBatteryHealth:
		return probeBattery
	case protocol.CheckDiskEncryption:
		return probeEncryption
	}
	return nil
}
