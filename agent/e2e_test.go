package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/deskside/deskside/agent/agentapi"
	"github.com/deskside/deskside/agent/internal/enroll"
	"github.com/deskside/deskside/agent/internal/localapi"
	"github.com/deskside/deskside/server/servertest"
	"github.com/deskside/deskside/shared/protocol"
)

type proc struct {
	cmd *exec.Cmd
	log *syncBuffer
}

// syncBuffer is the process's output, readable while it runs.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func startRun(t *testing.T, bin string, env []string) *proc {
	t.Helper()
	cmd := exec.Command(bin, "run", "--headless")
	cmd.Env = env
	var log syncBuffer
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{cmd: cmd, log: &log}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})
	return p
}

func waitOnline(t *testing.T, c *localapi.Client, p *proc) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if s, err := c.Status(context.Background()); err == nil && s.State == agentapi.ConnOnline {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("agent never came online; log:\n%s", p.log)
}

// Kill -9 the agent process right after Send, at several moments of the
// send; a restarted agent delivers every request exactly once. Then
// `agent snapshot --json` prints what the server stores.
func TestE2EKillNineMidSendAndSnapshotCLI(t *testing.T) {
	bin := buildAgent(t)
	srv := servertest.New(t)
	creds, err := enroll.Enroll(context.Background(), srv.URL(), srv.Token(t), enroll.Options{})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := enroll.Save(filepath.Join(dir, "credentials.json"), creds); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "agent.sock")
	env := append(os.Environ(), "DESKSIDE_CONFIG_DIR="+dir, "DESKSIDE_SOCKET="+sock,
		"DESKSIDE_ENROLL_FILE="+filepath.Join(dir, "none.json"), "DESKSIDE_LOG_LEVEL=debug")
	c := localapi.NewClient(sock)

	delays := []time.Duration{0, time.Millisecond, 3 * time.Millisecond, 10 * time.Millisecond, 50 * time.Millisecond}
	var texts []string
	for i, d := range delays {
		p := startRun(t, bin, env)
		waitOnline(t, c, p)
		text := fmt.Sprintf("kill test %d: the wifi drops", i)
		if _, err := c.RaiseRequest(context.Background(), agentapi.NewRequest{Text: text}); err != nil {
			t.Fatal(err)
		}
		texts = append(texts, text)
		time.Sleep(d)
		_ = p.cmd.Process.Signal(syscall.SIGKILL)
		_ = p.cmd.Wait()
	}

	p := startRun(t, bin, env)
	waitOnline(t, c, p)
	deadline := time.Now().Add(30 * time.Second)
	for {
		s, err := c.Status(context.Background())
		if err == nil && s.Pending == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("outbox never drained: %+v %v\n%s", s, err, p.log)
		}
		time.Sleep(20 * time.Millisecond)
	}
	tech := srv.Tech(t)
	var list struct {
		Requests []protocol.RequestSummary `json:"requests"`
	}
	tech.Do(t, http.MethodGet, "/api/v1/requests", nil, &list)
	count := map[string]int{}
	for _, r := range list.Requests {
		count[r.Text]++
	}
	for _, text := range texts {
		if count[text] != 1 {
			t.Errorf("%q delivered %d times, want exactly 1", text, count[text])
		}
	}

	cmd := exec.Command(bin, "snapshot", "--json", "--fresh")
	cmd.Env = env
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("agent snapshot: %v\n%s", err, out)
	}
	var mine, theirs protocol.Snapshot
	if err := json.Unmarshal(out, &mine); err != nil {
		t.Fatalf("agent snapshot output: %v\n%s", err, out)
	}
	var dev struct {
		Snapshot protocol.Snapshot `json:"snapshot"`
	}
	tech.Do(t, http.MethodGet, "/api/v1/devices/"+creds.DeviceID, nil, &dev)
	theirs = dev.Snapshot
	if !reflect.DeepEqual(mine, theirs) || mine.Host.Hostname == "" {
		t.Fatalf("agent snapshot --json differs from the server's:\n%s", out)
	}

	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	if err := p.cmd.Wait(); err != nil {
		t.Fatalf("agent did not stop cleanly on SIGTERM: %v\n%s", err, p.log)
	}
}
