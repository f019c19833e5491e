package checks

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeCmd answers commands from a table ("name arg…" → output, exit code);
// a command not in it is "not found".
type fakeCmd struct {
	mu    sync.Mutex
	out   map[string]string
	code  map[string]int
	block map[string]bool // hangs until ctx ends
	ran   []string
}

type exitErr int

func (e exitErr) Error() string { return fmt.Sprintf("exit status %d", int(e)) }
func (e exitErr) ExitCode() int { return int(e) }

func (f *fakeCmd) Run(ctx context.Context, name string, args ...string) ([]byte, error) {
	line := strings.Join(append([]string{name}, args...), " ")
	f.mu.Lock()
	f.ran = append(f.ran, line)
	out, ok := f.out[line]
	code := f.code[line]
	block := f.block[line]
	f.mu.Unlock()
	if block {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	if !ok {
		return nil, fmt.Errorf("%s: %w", name, errors.New("executable file not found in $PATH"))
	}
	if code != 0 {
		return []byte(out), exitErr(code)
	}
	return []byte(out), nil
}

func (f *fakeCmd) set(line, out string, code int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.out == nil {
		f.out, f.code, f.block = map[string]string{}, map[string]int{}, map[string]bool{}
	}
	f.out[line], f.code[line] = out, code
}

// clock is a settable Now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }
func newClock() *clock               { return &clock{t: time.Date(2026, 12, 3, 10, 0, 0, 0, time.Local)} }
func writeFile(t *testing.T, p, s string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

// testEnv is an Env on a test root with fake commands, a fixed uptime and
// disks, and a settable clock.
func testEnv(t *testing.T) (*Env, *fakeCmd, *clock) {
	cmd, clk := &fakeCmd{}, newClock()
	cmd.set("x", "", 0)
	env := &Env{Root: t.TempDir(), Cmd: cmd, Now: clk.Now, User: "ada", Home: t.TempDir(), GOOS: "linux",
		Uptime: func(context.Context) (time.Duration, error) { return 3 * 24 * time.Hour, nil },
		Mounts: func(context.Context) ([]Mount, error) {
			return []Mount{{Path: "/", TotalBytes: 500e9, FreeBytes: 200e9}}, nil
		},
		Timeout: 5 * time.Second}
	env.Defaults()
	return env, cmd, clk
}
