package main

// The first hour with Deskside (issue 20), by running the real programs as
// a newcomer would: every message points the right way, and the README's
// "Using it" lines work word for word after a start like `make run`'s.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/deskside/deskside/agent/internal/enroll"
	"github.com/deskside/deskside/agent/internal/localapi"
	"github.com/deskside/deskside/agent/internal/location"
	"github.com/deskside/deskside/server/servertest"
	"github.com/deskside/deskside/shared/protocol"
)

// freshUser is the environment of a user with nothing set up: a home of
// their own, no display, no Deskside variables, no enrolment config.
func freshUser(t *testing.T) (home string, env []string) {
	t.Helper()
	home = t.TempDir()
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "DESKSIDE_") || strings.HasPrefix(k, "XDG_") || k == "HOME" || k == "DISPLAY" || k == "WAYLAND_DISPLAY" {
			continue
		}
		env = append(env, kv)
	}
	env = append(env, "HOME="+home, "XDG_CONFIG_HOME="+filepath.Join(home, ".config"),
		"XDG_RUNTIME_DIR="+filepath.Join(home, "run"), "DESKSIDE_ENROLL_FILE="+filepath.Join(home, "no-enroll.json"))
	return home, env
}

// run runs bin with args in dir and returns its output (stdout and stderr)
// and exit code.
func run(t *testing.T, dir string, env []string, bin string, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Dir, cmd.Env = dir, env
	out, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); ok {
		return string(out), ee.ExitCode()
	}
	if err != nil {
		t.Fatalf("%s %v: %v", bin, args, err)
	}
	return string(out), 0
}

// expect fails unless the run exited as wanted and its output has every
// want and none of the nots.
func expect(t *testing.T, what, out string, code int, wantFail bool, want []string, nots ...string) {
	t.Helper()
	if (code != 0) != wantFail {
		t.Errorf("%s: exit code %d\n%s", what, code, out)
	}
	for _, w := range want {
		if !strings.Contains(out, w) {
			t.Errorf("%s: output lacks %q:\n%s", what, w, out)
		}
	}
	for _, n := range nots {
		if strings.Contains(out, n) {
			t.Errorf("%s: output has %q:\n%s", what, n, out)
		}
	}
}

// closedPort is a loopback address where nothing listens.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

const enrolHint = "deskside-agent enrol --server URL --token TOKEN"

func TestFirstHourAgentMessages(t *testing.T) {
	bin := buildAgent(t)
	home, env := freshUser(t)

	out, code := run(t, home, env, bin, "ask", "My printer jams")
	expect(t, "ask, not enrolled, agent stopped", out, code, true, []string{enrolHint}, "Saved", "saved")
	if strings.Count(strings.TrimSpace(out), "\n") != 0 {
		t.Errorf("ask, not enrolled: want one sentence, got\n%s", out)
	}

	out, code = run(t, home, env, bin, "ask", "--help")
	expect(t, "ask --help", out, code, false, []string{`Usage: deskside-agent ask "what you need help with"`, "-urgency"}, "flag: help requested")

	out, code = run(t, home, env, bin, "ask", "My printer jams", "--urgency", "soon")
	expect(t, "ask --urgency soon", out, code, true, []string{"blocking", "when_you_can"})

	out, code = run(t, home, env, bin, "--help")
	expect(t, "--help", out, code, false, []string{"Usage: deskside-agent", "requests"}, "Usage: agent")

	for _, c := range []struct{ server, want string }{
		{"http://" + closedPort(t), "Nothing is answering at http://127.0.0.1:"},
		{"https://helpdesk.invalid", `no computer called "helpdesk.invalid"`},
		{"127.0.0.1:8080", "needs https:// (or http:// for this computer)"},
	} {
		out, code = run(t, home, env, bin, "enrol", "--server", c.server, "--token", "dsk1_Abcdefghijklmnop0123")
		expect(t, "enrol --server "+c.server, out, code, true, []string{c.want, "Nothing was set up."}, "offline", "saved", "Saved")
	}

	out, code = run(t, home, env, bin, "ui", "requests")
	expect(t, "ui requests without a display", out, code, true, []string{"no screen", "deskside-agent requests"}, "goroutine", "panic", "GLFW")
	if strings.Count(strings.TrimSpace(out), "\n") != 0 {
		t.Errorf("ui requests without a display: want one line, got\n%s", out)
	}

	// The agent running but not enrolled refuses too.
	sock := filepath.Join(home, "run", "deskside", "agent.sock")
	p := startRun(t, bin, env)
	waitAnswering(t, localapi.NewClient(sock), p)
	out, code = run(t, home, env, bin, "ask", "My printer jams")
	expect(t, "ask, not enrolled, agent running", out, code, true, []string{"nothing was sent", enrolHint}, "Saved", "on its way")
	_ = p.cmd.Process.Kill()
	_ = p.cmd.Wait()

	// Enrolled, agent stopped: status names the real command, and only
	// --verbose shows the socket's error.
	srv := servertest.New(t)
	out, code = run(t, home, env, bin, "enrol", "--server", srv.URL(), "--token", srv.Token(t))
	expect(t, "enrol", out, code, false, []string{"All set"})
	out, code = run(t, home, env, bin, "status")
	expect(t, "status, agent stopped", out, code, true, []string{"deskside-agent run"}, "dial unix", "deskside run`")
	out, code = run(t, home, env, bin, "status", "--verbose")
	expect(t, "status --verbose, agent stopped", out, code, true, []string{"deskside-agent run", "dial unix"})
}

// waitAnswering waits until the agent's local API answers.
func waitAnswering(t *testing.T, c *localapi.Client, p *proc) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if _, err := c.Status(context.Background()); err == nil {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("agent's local API never answered; log:\n%s", p.log)
}

// readmeUsingIt returns the commands of the README's "Using it" section
// that run a program from bin/, split into words as a shell would.
func readmeUsingIt(t *testing.T) [][]string {
	t.Helper()
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, sec, ok := strings.Cut(string(b), "\n## Using it\n")
	if !ok {
		t.Fatal(`README.md has no "## Using it" section`)
	}
	sec, _, _ = strings.Cut(sec, "\n## ")
	var cmds [][]string
	for _, m := range regexp.MustCompile("`(bin/[^`]+)`").FindAllStringSubmatch(sec, -1) {
		cmds = append(cmds, shellWords(t, m[1]))
	}
	return cmds
}

// shellWords splits s at spaces, keeping "double quoted" words whole.
func shellWords(t *testing.T, s string) []string {
	var words []string
	var w strings.Builder
	quoted, in := false, false
	for _, r := range s {
		switch {
		case r == '"':
			quoted, in = !quoted, true
		case r == ' ' && !quoted:
			if in {
				words = append(words, w.String())
				w.Reset()
				in = false
			}
		default:
			w.WriteRune(r)
			in = true
		}
	}
	if quoted {
		t.Fatalf("unbalanced quote in README command %q", s)
	}
	if in {
		words = append(words, w.String())
	}
	return words
}

// console is a technician's REST session on a server run as a program.
type console struct {
	base string
	c    *http.Client
	csrf string
}

func (c *console) do(t *testing.T, method, path string, body, out any) int {
	t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.base+path, r)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-CSRF-Token", c.csrf)
	resp, err := c.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if out != nil {
		_ = json.NewDecoder(resp.Body).Decode(out)
	}
	return resp.StatusCode
}

// TestReadmeUsingItWorksAsWritten starts Deskside as `make run` does
// (scripts/run-local.sh: the server with --data .deskside/server, a local
// agent enrolled to it and run with --point-cli, its files in
// .deskside/agent) and then runs the README's "Using it" commands word for
// word, from the same directory, as a user with nothing else set: the
// request reaches the queue, and `deskside-agent requests` shows IT's reply.
func TestReadmeUsingItWorksAsWritten(t *testing.T) {
	agentBin := buildAgent(t)
	serverBin := buildServer(t)
	home, env := freshUser(t)
	work := t.TempDir()
	for name, src := range map[string]string{"deskside-agent": agentBin, "deskside-server": serverBin} {
		if err := os.MkdirAll(filepath.Join(work, "bin"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(src, filepath.Join(work, "bin", name+exeSuffix())); err != nil {
			t.Fatal(err)
		}
	}

	// The server, as run-local.sh starts it.
	srv := exec.Command("bin/deskside-server", "serve", "--data", ".deskside/server", "--addr", "127.0.0.1:0")
	srv.Dir, srv.Env = work, env
	stdout, err := srv.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var srvErr syncBuffer
	srv.Stderr = &srvErr
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Process.Kill(); _ = srv.Wait() })
	lines := bufio.NewScanner(stdout)
	var base, first string
	for base == "" && lines.Scan() {
		if first == "" {
			first = lines.Text()
		}
		if u, ok := strings.CutPrefix(strings.TrimSpace(lines.Text()), "Console:"); ok {
			base = strings.TrimSuffix(strings.TrimSpace(u), "/")
		}
	}
	if base == "" {
		t.Fatalf("the server printed no console URL; log:\n%s", srvErr.String())
	}
	go func() { _, _ = io.Copy(io.Discard, stdout) }()
	if want := "deskside-server: data in " + filepath.Join(work, ".deskside", "server"); first != want && !strings.HasPrefix(first, want+" ") {
		t.Errorf("server's first line: %q, want it to start with %q", first, want)
	}

	// The local agent, as run-local.sh enrols and runs it.
	agentDir := filepath.Join(work, ".deskside", "agent")
	demo := append(append([]string{}, env...), "DESKSIDE_CONFIG_DIR="+agentDir, "DESKSIDE_SOCKET="+filepath.Join(agentDir, "agent.sock"))
	tok, code := run(t, work, env, "bin/deskside-server", "token", "create", "--data", ".deskside/server", "--group", "local")
	expect(t, "token create", tok, code, false, []string{"dsk1_"})
	out, code := run(t, work, demo, "bin/deskside-agent", "enrol", "--server", base, "--token", strings.TrimSpace(tok))
	expect(t, "enrol the local agent", out, code, false, []string{"All set"})
	ag := exec.Command(filepath.Join(work, "bin", "deskside-agent"), "run", "--headless", "--point-cli")
	ag.Dir, ag.Env = work, demo
	var agLog syncBuffer
	ag.Stdout, ag.Stderr = &agLog, &agLog
	if err := ag.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ag.Process.Kill(); _ = ag.Wait() })
	p := &proc{cmd: ag, log: &agLog}
	waitOnline(t, localapi.NewClient(filepath.Join(agentDir, "agent.sock")), p)
	pointer := filepath.Join(home, ".config", "deskside", location.FileName)
	for deadline := time.Now().Add(10 * time.Second); ; {
		if _, err := os.Stat(pointer); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the agent wrote no %s; log:\n%s", pointer, agLog.String())
		}
		time.Sleep(20 * time.Millisecond)
	}

	// The first admin, through the setup link make run prints.
	jar, _ := cookiejar.New(nil)
	con := &console{base: base, c: &http.Client{Jar: jar, Timeout: 30 * time.Second}}
	setup, err := os.ReadFile(filepath.Join(work, ".deskside", "server", "setup-token"))
	if err != nil {
		t.Fatal(err)
	}
	if st := con.do(t, http.MethodPost, "/api/v1/setup", map[string]string{"setup_token": strings.TrimSpace(string(setup)),
		"email": "rob@example.com", "name": "Rob", "password": "correct horse battery"}, nil); st != http.StatusCreated {
		t.Fatalf("setup: status %d", st)
	}
	var login struct {
		CSRF string `json:"csrf_token"`
	}
	if st := con.do(t, http.MethodPost, "/api/v1/login", map[string]string{"email": "rob@example.com", "password": "correct horse battery"}, &login); st != http.StatusOK {
		t.Fatalf("login: status %d", st)
	}
	con.csrf = login.CSRF

	// The README's lines, word for word, by a user with nothing set.
	cmds := readmeUsingIt(t)
	ran := map[string]bool{}
	var reqID, askText string
	for _, words := range cmds {
		key := strings.Join(words[:min(2, len(words))], " ")
		switch {
		case key == "bin/deskside-agent ask":
			askText = words[2]
			out, code = run(t, work, env, words[0], words[1:]...)
			expect(t, strings.Join(words, " "), out, code, false, []string{"Request "}, "Saved")
			m := regexp.MustCompile(`Request (\S+)`).FindStringSubmatch(out)
			reqID = m[1]
			// It reaches the queue.
			var queue struct {
				Requests []protocol.RequestSummary `json:"requests"`
			}
			for deadline := time.Now().Add(30 * time.Second); ; {
				queue.Requests = nil
				con.do(t, http.MethodGet, "/api/v1/requests", nil, &queue)
				if len(queue.Requests) == 1 && queue.Requests[0].RequestID == reqID {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("request %s never reached the queue: %+v", reqID, queue)
				}
				time.Sleep(50 * time.Millisecond)
			}
			// IT replies from the console; the agent gets it.
			if st := con.do(t, http.MethodPost, "/api/v1/requests/"+reqID+"/messages", map[string]string{"text": "Rob here: open the tray and pull the sheet gently."}, nil); st != http.StatusCreated {
				t.Fatalf("reply: status %d", st)
			}
			c := localapi.NewClient(filepath.Join(agentDir, "agent.sock"))
			for deadline := time.Now().Add(30 * time.Second); ; {
				r, err := c.Request(context.Background(), reqID)
				if err == nil && len(r.Messages) > 0 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("the reply never reached the agent: %v", err)
				}
				time.Sleep(50 * time.Millisecond)
			}
		case key == "bin/deskside-agent requests":
			if reqID == "" {
				t.Fatalf("README: %q comes before the ask line", strings.Join(words, " "))
			}
			args := append([]string{}, words[1:]...)
			for i := range args {
				if args[i] == "ID" {
					args[i] = reqID
				}
			}
			out, code = run(t, work, env, words[0], args...)
			want := []string{reqID, askText}
			if strings.Contains(strings.Join(args, " "), "--id") {
				want = append(want, "Rob:", "pull the sheet gently")
			}
			expect(t, strings.Join(words, " "), out, code, false, want)
		case key == "bin/deskside-server token":
			out, code = run(t, work, env, words[0], words[1:]...)
			expect(t, strings.Join(words, " "), out, code, false, []string{"dsk1_"})
			// That token enrols another computer with this help desk.
			if _, err := enroll.Enroll(context.Background(), base, strings.TrimSpace(out), enroll.Options{}); err != nil {
				t.Errorf("the README's token does not enrol with the running server: %v", err)
			}
		default:
			t.Fatalf("README \"Using it\" has a command this test does not know: %q; teach the test what it should do", strings.Join(words, " "))
		}
		ran[key] = true
	}
	for _, k := range []string{"bin/deskside-agent ask", "bin/deskside-agent requests", "bin/deskside-server token"} {
		if !ran[k] {
			t.Errorf("README \"Using it\" no longer has a %q line", k)
		}
	}

	// The pointer goes when the agent stops.
	_ = ag.Process.Signal(os.Interrupt)
	_ = ag.Wait()
	if _, err := os.Stat(pointer); !os.IsNotExist(err) {
		t.Errorf("%s is still there after the agent stopped: %v", pointer, err)
	}
}

// buildServer compiles the server (../server) once per test binary.
func buildServer(t *testing.T) string {
	t.Helper()
	buildAgent(t) // makes buildDir
	buildMu.Lock()
	defer buildMu.Unlock()
	bin := filepath.Join(buildDir, "deskside-server"+exeSuffix())
	if _, err := os.Stat(bin); err == nil {
		return bin
	}
	if out, err := exec.Command("go", "build", "-o", bin, "../server").CombinedOutput(); err != nil {
		t.Fatalf("go build ../server: %v\n%s", err, out)
	}
	return bin
}
