// Package location lets plain `deskside-agent …` commands and deskside-ui find
// an agent that keeps its files somewhere other than the defaults. `make run`
// starts its demo agent apart from a real installation (its own config
// directory and socket under .deskside/) with `deskside-agent run
// --point-cli`, which writes that agent's config directory and socket into a
// small file in the user's default Deskside config directory; programs
// started without DESKSIDE_CONFIG_DIR and DESKSIDE_SOCKET then use them, so
// the README's `bin/deskside-agent ask "My printer jams"` reaches it word for
// word. The file is removed when that agent stops.
package location

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// FileName is the pointer file's name in the user's default config directory.
const FileName = "agent-location.json"

// The environment variables a pointer stands in for.
const (
	EnvConfigDir = "DESKSIDE_CONFIG_DIR"
	EnvSocket    = "DESKSIDE_SOCKET"
)

// ErrOwnAgent means the default config directory holds an enrolled agent of
// its own (a real installation): a pointer would hide it, so none is written.
var ErrOwnAgent = errors.New("this user's default Deskside directory has an agent of its own")

// Pointer is the file's content.
type Pointer struct {
	ConfigDir string `json:"config_dir"`
	Socket    string `json:"socket"`
}

// DefaultDir is os.UserConfigDir()/deskside, whatever DESKSIDE_CONFIG_DIR says.
func DefaultDir() (string, error) {
	d, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("find config dir: %w", err)
	}
	return filepath.Join(d, "deskside"), nil
}

// File is the pointer file's path.
func File() (string, error) {
	d, err := DefaultDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(d, FileName), nil
}

// Read returns the pointer, or ok false when there is none (or it is
// unreadable: then the defaults apply, as if it were not there).
func Read() (p Pointer, ok bool) {
	f, err := File()
	if err != nil {
		return p, false
	}
	b, err := os.ReadFile(f)
	if err != nil || json.Unmarshal(b, &p) != nil || p.ConfigDir == "" || p.Socket == "" {
		return Pointer{}, false
	}
	return p, true
}

// Apply sets DESKSIDE_CONFIG_DIR and DESKSIDE_SOCKET from the pointer when
// neither is set (an explicit setting always wins), so this process and the
// programs it starts (the window app) use the pointed-to agent. It returns
// the pointer applied, if any.
func Apply() (Pointer, bool) {
	if os.Getenv(EnvConfigDir) != "" || os.Getenv(EnvSocket) != "" {
		return Pointer{}, false
	}
	p, ok := Read()
	if !ok {
		return Pointer{}, false
	}
	// Setenv fails only on an invalid name; these are constants.
	_ = os.Setenv(EnvConfigDir, p.ConfigDir)
	_ = os.Setenv(EnvSocket, p.Socket)
	return p, true
}

// Write points the plain commands at the agent with config directory dir and
// socket sock, and returns a function that removes the pointer again if it
// still names that agent. It refuses with ErrOwnAgent when the default
// directory holds credentials of its own.
func Write(dir, sock string) (remove func(), err error) {
	def, err := DefaultDir()
	if err != nil {
		return nil, err
	}
	if abs, err := filepath.Abs(dir); err == nil {
		dir = abs
	}
	if abs, err := filepath.Abs(sock); err == nil && !strings.HasPrefix(sock, `\\.\pipe\`) {
		sock = abs // a Windows named pipe is not a file path
	}
	if same(def, dir) {
		return func() {}, nil // the defaults already find it
	}
	if _, err := os.Stat(filepath.Join(def, "credentials.json")); err == nil {
		return nil, fmt.Errorf("%w (%s)", ErrOwnAgent, def)
	}
	if err := os.MkdirAll(def, 0o700); err != nil {
		return nil, fmt.Errorf("make %s: %w", def, err)
	}
	p := Pointer{ConfigDir: dir, Socket: sock}
	b, _ := json.MarshalIndent(p, "", "  ")
	f := filepath.Join(def, FileName)
	tmp := f + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o600); err != nil {
		return nil, fmt.Errorf("write %s: %w", tmp, err)
	}
	if err := os.Rename(tmp, f); err != nil {
		return nil, fmt.Errorf("write %s: %w", f, err)
	}
	return func() {
		if cur, ok := Read(); ok && cur == p {
			_ = os.Remove(f)
		}
	}, nil
}

func same(a, b string) bool {
	a, b = filepath.Clean(a), filepath.Clean(b)
	if a == b {
		return true
	}
	fa, errA := os.Stat(a)
	fb, errB := os.Stat(b)
	return errA == nil && errB == nil && os.SameFile(fa, fb)
}
