package main

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/deskside/deskside/agent/agentapi"
	"github.com/deskside/deskside/agent/internal/enroll"
	"github.com/deskside/deskside/agent/internal/localapi"
	"github.com/deskside/deskside/server/servertest"
)

// The self-update, end to end, with the real binaries: the agent is built
// at 1.0.0 and 1.1.0 trusting a key made in the test, the real server runs
// in-process with that publisher key, the admin uploads the signed 1.1.0
// and rolls it out to 100 %, and `agent run --headless` (1.0.0) runs as a
// subprocess from its own install directory.

type releaseInfo struct {
	ID           string `json:"id"`
	Version      string `json:"version"`
	Percent      int    `json:"percent"`
	Paused       bool   `json:"paused"`
	HaltedReason string `json:"halted_reason"`
	Updated      int    `json:"updated"`
	Failed       int    `json:"failed"`
}

// publish signs bin as ver for this platform, uploads it as the admin and
// rolls it out to everyone.
func publish(t *testing.T, p servertest.Publisher, admin *servertest.Tech, bin []byte, ver string) releaseInfo {
	t.Helper()
	man, sig := p.Sign(t, bin, ver, runtime.GOOS, runtime.GOARCH)
	st, out := admin.UploadRelease(t, man, sig, bin)
	if st != http.StatusCreated {
		t.Fatalf("upload %s: %d %s", ver, st, out)
	}
	var rel releaseInfo
	if err := json.Unmarshal(out, &rel); err != nil {
		t.Fatal(err)
	}
	if st := admin.Do(t, http.MethodPatch, "/api/v1/releases/"+rel.ID, map[string]int{"percent": 100}, &rel); st != http.StatusOK {
		t.Fatalf("roll out %s to 100 %%: %d", ver, st)
	}
	return rel
}

// desk is one computer: an installed agent binary and its own dirs.
type desk struct {
	exe  string
	env  []string
	api  *localapi.Client
	proc *proc
}

// newDesk installs a copy of bin (the updater replaces it) and enrols.
func newDesk(t *testing.T, srv *servertest.Server, bin string, extraEnv ...string) *desk {
	t.Helper()
	b, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	exe := filepath.Join(t.TempDir(), "deskside-agent"+exeSuffix())
	if err := os.WriteFile(exe, b, 0o755); err != nil {
		t.Fatal(err)
	}
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
		"DESKSIDE_ENROLL_FILE="+filepath.Join(dir, "none.json"), "DESKSIDE_LOG_LEVEL=debug",
		"DESKSIDE_UPDATE_FIRST_CHECK=1h") // act on the server's nudge, not the timer
	return &desk{exe: exe, env: append(env, extraEnv...), api: localapi.NewClient(sock)}
}

func (d *desk) start(t *testing.T) {
	t.Helper()
	d.proc = startRun(t, d.exe, d.env)
	waitOnline(t, d.api, d.proc)
}

// eventually polls cond every 100 ms for up to d.
func (d *desk) eventually(t *testing.T, what string, within time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not after %v; agent log:\n%s", what, within, d.proc.log)
		}
		if d.proc.cmd.ProcessState != nil {
			t.Fatalf("%s: the agent exited (%v); log:\n%s", what, d.proc.cmd.ProcessState, d.proc.log)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// runsVersion is true when the running agent says it is v and is online.
func (d *desk) runsVersion(v string) bool {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	s, err := d.api.Status(ctx)
	return err == nil && s.AgentVersion == v && s.State == agentapi.ConnOnline
}

func (d *desk) installed(t *testing.T) [32]byte {
	t.Helper()
	b, err := os.ReadFile(d.exe)
	if err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(b)
}

func fileSum(t *testing.T, path string) ([32]byte, []byte) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(b), b
}

func releaseState(t *testing.T, admin *servertest.Tech, id string) releaseInfo {
	t.Helper()
	var list struct {
		Releases []releaseInfo `json:"releases"`
	}
	if st := admin.Do(t, http.MethodGet, "/api/v1/releases", nil, &list); st != http.StatusOK {
		t.Fatalf("list releases: %d", st)
	}
	for _, r := range list.Releases {
		if r.ID == id {
			return r
		}
	}
	t.Fatalf("release %s not listed: %+v", id, list.Releases)
	return releaseInfo{}
}

func TestE2ESelfUpdate(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("exec-in-place restart; Windows restarts by start-and-exit")
	}
	pub := servertest.NewPublisher(t)
	v100 := buildAgentWith(t, agentBuild{version: "1.0.0", key: pub.PublicKey})
	v110 := buildAgentWith(t, agentBuild{version: "1.1.0", key: pub.PublicKey})
	sum100, _ := fileSum(t, v100)
	sum110, bin110 := fileSum(t, v110)

	srv := servertest.New(t, servertest.WithReleaseKey(pub.PublicKey))
	admin := srv.Tech(t)
	d := newDesk(t, srv, v100)
	d.start(t)
	pid := d.proc.cmd.Process.Pid
	if !d.runsVersion("1.0.0") {
		t.Fatalf("the desk does not run 1.0.0 at first; log:\n%s", d.proc.log)
	}

	rel := publish(t, pub, admin, bin110, "1.1.0")

	// The binary on disk becomes the signed 1.1.0, the old one is kept…
	d.eventually(t, "1.1.0 installed", time.Minute, func() bool { return d.installed(t) == sum110 })
	if prev, _ := fileSum(t, filepath.Join(filepath.Dir(d.exe), ".deskside-agent.previous")); prev != sum100 {
		t.Error("the previous binary was not kept next to the new one")
	}
	// …the same process (exec in place) comes back as 1.1.0 and connects…
	d.eventually(t, "agent restarted into 1.1.0 and online", time.Minute, func() bool { return d.runsVersion("1.1.0") })
	if d.proc.cmd.Process.Pid != pid {
		t.Errorf("pid changed from %d to %d", pid, d.proc.cmd.Process.Pid)
	}
	out, err := exec.Command(d.exe, "version").Output()
	if err != nil || !strings.HasPrefix(string(out), "deskside-agent 1.1.0 ") {
		t.Errorf("installed binary says %q (%v)", out, err)
	}
	// …and reports success: the server counts it, and the user is told.
	d.eventually(t, "server records the update", 30*time.Second, func() bool {
		r := releaseState(t, admin, rel.ID)
		return r.Updated == 1 && r.Failed == 0 && !r.Paused
	})
	d.eventually(t, "the user hears about it", 10*time.Second, func() bool {
		as, err := d.api.Announcements(context.Background())
		for _, a := range as {
			if err == nil && strings.Contains(a.Text, "Deskside updated itself to 1.1 — nothing for you to do.") {
				return true
			}
		}
		return false
	})
	var dev struct {
		AgentVersion string `json:"agent_version"`
	}
	creds, err := enroll.Load(filepath.Join(envValue(d.env, "DESKSIDE_CONFIG_DIR"), "credentials.json"))
	if err != nil {
		t.Fatal(err)
	}
	admin.Do(t, http.MethodGet, "/api/v1/devices/"+creds.DeviceID, nil, &dev)
	if dev.AgentVersion != "1.1.0" {
		t.Errorf("server says the device runs %q, want 1.1.0", dev.AgentVersion)
	}

	_ = d.proc.cmd.Process.Signal(syscall.SIGTERM)
	if err := d.proc.cmd.Wait(); err != nil {
		t.Fatalf("1.1.0 did not stop cleanly: %v\n%s", err, d.proc.log)
	}
}

// A signed 1.1.0 that cannot talk to the server (built against protocol
// v2) passes every check, is installed and started, never connects, and is
// rolled back after the health window; the restored 1.0.0 reports the
// failure and the server halts the release.
func TestE2ESelfUpdateRollsBackAVersionThatCannotConnect(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("exec-in-place restart; Windows restarts by start-and-exit")
	}
	pub := servertest.NewPublisher(t)
	v100 := buildAgentWith(t, agentBuild{version: "1.0.0", key: pub.PublicKey})
	bad := buildAgentWith(t, agentBuild{version: "1.1.0", key: pub.PublicKey, protocol: 2})
	sum100, _ := fileSum(t, v100)
	sumBad, binBad := fileSum(t, bad)

	srv := servertest.New(t, servertest.WithReleaseKey(pub.PublicKey))
	admin := srv.Tech(t)
	d := newDesk(t, srv, v100, "DESKSIDE_UPDATE_WINDOW=8s")
	d.start(t)

	rel := publish(t, pub, admin, binBad, "1.1.0")
	d.eventually(t, "bad 1.1.0 installed", time.Minute, func() bool { return d.installed(t) == sumBad })
	d.eventually(t, "rolled back to 1.0.0 and online again", time.Minute, func() bool {
		return d.installed(t) == sum100 && d.runsVersion("1.0.0")
	})
	d.eventually(t, "server halts the release", 30*time.Second, func() bool {
		r := releaseState(t, admin, rel.ID)
		return r.Paused && r.Failed == 1 && r.Updated == 0 && strings.Contains(r.HaltedReason, "rolled back")
	})
	var one struct {
		Failures []struct {
			RolledBack bool   `json:"rolled_back"`
			Detail     string `json:"detail"`
		} `json:"failures"`
	}
	admin.Do(t, http.MethodGet, "/api/v1/releases/"+rel.ID, nil, &one)
	if len(one.Failures) != 1 || !one.Failures[0].RolledBack || !strings.Contains(one.Failures[0].Detail, "did not report healthy") {
		t.Errorf("failures = %+v; want one rolled back, not healthy", one.Failures)
	}
	if !strings.Contains(d.proc.log.String(), "rolling back update") {
		t.Errorf("no rollback in the agent log:\n%s", d.proc.log)
	}
	_ = d.proc.cmd.Process.Signal(syscall.SIGTERM)
	if err := d.proc.cmd.Wait(); err != nil {
		t.Fatalf("1.0.0 did not stop cleanly after the rollback: %v\n%s", err, d.proc.log)
	}
}

func envValue(env []string, key string) string {
	for i := len(env) - 1; i >= 0; i-- {
		if v, ok := strings.CutPrefix(env[i], key+"="); ok {
			return v
		}
	}
	return ""
}
