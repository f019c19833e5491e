package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"time"
)

// serverProc is a server process this program started: the real binary
// (`<bin> serve …`) or this program's `server` mode (--server-bin self).
type serverProc struct {
	bin, data, addr string
	ping            time.Duration
	log             io.Writer

	mu  sync.Mutex
	cmd *exec.Cmd
}

func (p *serverProc) URL() string { return "http://" + p.addr }

func (p *serverProc) start(ctx context.Context) error {
	args := []string{"--data", p.data, "--addr", p.addr, "--ping-interval", p.ping.String(), "--log-level", "warn"}
	var cmd *exec.Cmd
	if isSelf(p.bin) {
		self, err := os.Executable()
		if err != nil {
			return fmt.Errorf("find own binary: %w", err)
		}
		cmd = exec.Command(self, append([]string{"server"}, args...)...)
	} else {
		cmd = exec.Command(p.bin, append([]string{"serve"}, args...)...)
	}
	cmd.Stdout, cmd.Stderr = p.log, p.log
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start server %s: %w", p.bin, err)
	}
	p.mu.Lock()
	p.cmd = cmd
	p.mu.Unlock()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(p.URL() + "/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	return fmt.Errorf("server at %s did not answer /healthz within 30 s", p.addr)
}

// stop sends SIGTERM (the server says "going away" to every link) and
// waits up to 20 s before SIGKILL.
func (p *serverProc) stop() {
	p.mu.Lock()
	cmd := p.cmd
	p.cmd = nil
	p.mu.Unlock()
	if cmd == nil || cmd.Process == nil {
		return
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		_ = cmd.Process.Kill()
		<-done
	}
}

func (p *serverProc) Restart(ctx context.Context) error {
	p.stop()
	return p.start(ctx)
}

func (p *serverProc) GC(ctx context.Context) bool {
	if !isSelf(p.bin) {
		return false
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.URL()+"/debug/gc", nil)
	if err != nil {
		return false
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusNoContent
}

// remoteTarget is a server someone else runs: no restart, no forced GC.
type remoteTarget struct{ url string }

func (t remoteTarget) URL() string { return t.url }

func (t remoteTarget) Restart(context.Context) error {
	return fmt.Errorf("the storm scenario needs a server this program starts (--server-bin), not --server-url")
}

func (t remoteTarget) GC(context.Context) bool { return false }
