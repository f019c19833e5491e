package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"sync"
	"time"

	"github.com/deskside/deskside/server/loadtest/sim"
)

// The coordinator talks to a worker in JSON lines over the worker's stdin
// and stdout: first the FleetConfig, then one call per line, one reply
// each. Worker logs go to stderr.
type call struct {
	M    string          `json:"m"`
	Args json.RawMessage `json:"a,omitempty"`
}

type reply struct {
	R   json.RawMessage `json:"r,omitempty"`
	Err string          `json:"e,omitempty"`
}

type slowArgs struct {
	Fraction float64 `json:"fraction"`
	On       bool    `json:"on"`
}

type annArgs struct {
	ID string    `json:"id"`
	T0 time.Time `json:"t0"`
}

// worker serves one shard until stdin closes.
func worker(ctx context.Context, in io.Reader, out io.Writer) error {
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	if !sc.Scan() {
		return fmt.Errorf("worker: no configuration on stdin")
	}
	var cfg sim.FleetConfig
	if err := json.Unmarshal(sc.Bytes(), &cfg); err != nil {
		return fmt.Errorf("worker configuration: %w", err)
	}
	cfg.Log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	f := sim.NewFleet(cfg)
	defer f.Close()
	enc := json.NewEncoder(out)
	for sc.Scan() {
		var c call
		if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
			return fmt.Errorf("worker call: %w", err)
		}
		res, err := dispatch(ctx, f, c)
		rp := reply{}
		if err != nil {
			rp.Err = err.Error()
		}
		rp.R, _ = json.Marshal(res)
		if err := enc.Encode(rp); err != nil {
			return fmt.Errorf("worker reply: %w", err)
		}
		if c.M == "close" {
			return nil
		}
	}
	return sc.Err()
}

func dispatch(ctx context.Context, f *sim.Fleet, c call) (any, error) {
	switch c.M {
	case "enrol":
		var tok string
		_ = json.Unmarshal(c.Args, &tok)
		return f.Enroll(ctx, tok)
	case "connect":
		return f.Connect(ctx)
	case "status":
		return f.Status(), nil
	case "expect":
		var on bool
		_ = json.Unmarshal(c.Args, &on)
		f.Expect(on)
		return nil, nil
	case "announcement":
		var a annArgs
		_ = json.Unmarshal(c.Args, &a)
		return f.Announcement(a.ID, a.T0), nil
	case "load":
		var lr sim.LoadRequest
		_ = json.Unmarshal(c.Args, &lr)
		return f.Load(ctx, lr), nil
	case "slow":
		var a slowArgs
		_ = json.Unmarshal(c.Args, &a)
		return f.SetSlow(a.Fraction, a.On), nil
	case "close":
		return nil, nil
	}
	return nil, fmt.Errorf("unknown call %q", c.M)
}

// remoteShard is a worker process of this program.
type remoteShard struct {
	cmd *exec.Cmd
	enc *json.Encoder
	sc  *bufio.Scanner
	mu  sync.Mutex
}

func startWorker(cfg sim.FleetConfig) (*remoteShard, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("find own binary: %w", err)
	}
	cmd := exec.Command(self, "worker")
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, fmt.Errorf("worker stdin: %w", err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("worker stdout: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start worker: %w", err)
	}
	s := &remoteShard{cmd: cmd, enc: json.NewEncoder(stdin), sc: bufio.NewScanner(stdout)}
	s.sc.Buffer(make([]byte, 1<<20), 64<<20)
	if err := s.enc.Encode(cfg); err != nil {
		return nil, fmt.Errorf("configure worker: %w", err)
	}
	return s, nil
}

func (s *remoteShard) call(method string, args, out any) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, _ := json.Marshal(args)
	if err := s.enc.Encode(call{M: method, Args: a}); err != nil {
		return fmt.Errorf("worker %d %s: %w", s.cmd.Process.Pid, method, err)
	}
	if !s.sc.Scan() {
		return fmt.Errorf("worker %d %s: no reply (%v)", s.cmd.Process.Pid, method, s.sc.Err())
	}
	var rp reply
	if err := json.Unmarshal(s.sc.Bytes(), &rp); err != nil {
		return fmt.Errorf("worker %d %s: reply: %w", s.cmd.Process.Pid, method, err)
	}
	if out != nil && len(rp.R) > 0 {
		if err := json.Unmarshal(rp.R, out); err != nil {
			return fmt.Errorf("worker %d %s: decode: %w", s.cmd.Process.Pid, method, err)
		}
	}
	if rp.Err != "" {
		return fmt.Errorf("worker %d: %s", s.cmd.Process.Pid, rp.Err)
	}
	return nil
}

func (s *remoteShard) Enroll(_ context.Context, token string) (r sim.EnrollResult, err error) {
	return r, s.call("enrol", token, &r)
}

func (s *remoteShard) Connect(context.Context) (r sim.ConnectResult, err error) {
	return r, s.call("connect", nil, &r)
}

func (s *remoteShard) Status(context.Context) (r sim.Status, err error) {
	return r, s.call("status", nil, &r)
}

func (s *remoteShard) Expect(_ context.Context, on bool) error { return s.call("expect", on, nil) }

func (s *remoteShard) Announcement(_ context.Context, id string, t0 time.Time) (r sim.AnnouncementResult, err error) {
	return r, s.call("announcement", annArgs{id, t0}, &r)
}

func (s *remoteShard) Load(_ context.Context, req sim.LoadRequest) (r sim.LoadResult, err error) {
	return r, s.call("load", req, &r)
}

func (s *remoteShard) SetSlow(_ context.Context, fraction float64, on bool) (ids []string, err error) {
	return ids, s.call("slow", slowArgs{fraction, on}, &ids)
}

// Close asks the worker to stop and waits for it (10 s, then kill).
func (s *remoteShard) Close() error {
	_ = s.call("close", nil, nil)
	done := make(chan error, 1)
	go func() { done <- s.cmd.Wait() }()
	select {
	case err := <-done:
		return err
	case <-time.After(10 * time.Second):
		_ = s.cmd.Process.Kill()
		return <-done
	}
}
