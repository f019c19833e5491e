package update

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"aead.dev/minisign"

	"github.com/deskside/deskside/shared/protocol"
	"github.com/deskside/deskside/shared/release"
)

// Real binaries: testdata/fakeagent is built once per test binary for each
// version a test asks for (the first build compiles; the others only link).
var (
	binMu    sync.Mutex
	binDir   string
	binCache = map[string][]byte{}
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

func fakeAgent(t *testing.T, ver string) []byte {
	t.Helper()
	binMu.Lock()
	defer binMu.Unlock()
	if b, ok := binCache[ver]; ok {
		return b
	}
	if binDir == "" {
		d, err := os.MkdirTemp("", "deskside-update-test-")
		if err != nil {
			t.Fatal(err)
		}
		binDir = d
	}
	out := filepath.Join(binDir, "fakeagent-"+ver+exeExt())
	cmd := exec.Command("go", "build", "-trimpath", "-o", out,
		"-ldflags", "-s -w -X main.version="+ver, "./testdata/fakeagent")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build fake agent %s: %v\n%s", ver, err, msg)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	binCache[ver] = b
	return b
}

func exeExt() string {
	if runtime.GOOS == "windows" {
		return ".exe"
	}
	return ""
}

// harness is one desk: an installed agent binary, a data dir, a publisher
// key, and an httptest server holding release files.
type harness struct {
	t        *testing.T
	exe      string
	data     string
	orig     []byte
	pub      minisign.PublicKey
	priv     minisign.PrivateKey
	srv      *httptest.Server
	mu       sync.Mutex
	files    map[string][]byte
	truncate map[string]int // serve only the first n bytes, announcing them all
	restarts chan string    // what `<exe> version` printed at each restart
	reports  chan protocol.UpdateReport
	notes    chan string
	auth     chan string
}

func newHarness(t *testing.T, running string) *harness {
	t.Helper()
	dir := t.TempDir()
	h := &harness{
		t:        t,
		exe:      filepath.Join(dir, "bin", "deskside-agent"+exeExt()),
		data:     filepath.Join(dir, "data"),
		orig:     fakeAgent(t, running),
		files:    map[string][]byte{},
		truncate: map[string]int{},
		restarts: make(chan string, 4),
		reports:  make(chan protocol.UpdateReport, 8),
		notes:    make(chan string, 4),
		auth:     make(chan string, 64),
	}
	if err := os.MkdirAll(filepath.Dir(h.exe), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(h.exe, h.orig, 0o755); err != nil {
		t.Fatal(err)
	}
	var err error
	if h.pub, h.priv, err = minisign.GenerateKey(nil); err != nil {
		t.Fatal(err)
	}
	h.srv = httptest.NewServer(http.HandlerFunc(h.serve))
	t.Cleanup(h.srv.Close)
	return h
}

func (h *harness) serve(w http.ResponseWriter, r *http.Request) {
	select {
	case h.auth <- r.Header.Get("Authorization"):
	default:
	}
	h.mu.Lock()
	b, ok := h.files[r.URL.Path]
	n, cut := h.truncate[r.URL.Path]
	h.mu.Unlock()
	if !ok {
		http.NotFound(w, r)
		return
	}
	if len(b) == 0 {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	if cut {
		// Send only part of it, with no length announced: a cut download.
		w.Write(b[:n])
		return
	}
	w.Header().Set("Content-Length", fmt.Sprint(len(b)))
	w.Write(b)
}

func (h *harness) put(path string, b []byte) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.files[path] = b
}

type pub struct {
	ver, goos, goarch string
	channel           release.Channel
	rollback          bool
	key               *minisign.PrivateKey // default: the harness key
	created           time.Time
}

// publish signs bin as p and serves it under /api/v1/releases/<id>/….
func (h *harness) publish(id string, bin []byte, p pub) protocol.UpdateAvailable {
	h.t.Helper()
	if p.goos == "" {
		p.goos, p.goarch = runtime.GOOS, runtime.GOARCH
	}
	if p.channel == "" {
		p.channel = release.ChannelStable
	}
	if p.created.IsZero() {
		p.created = time.Now()
	}
	key := h.priv
	if p.key != nil {
		key = *p.key
	}
	m, err := release.NewManifest(bytes.NewReader(bin), p.ver, p.goos, p.goarch, p.channel, p.rollback, p.created)
	if err != nil {
		h.t.Fatal(err)
	}
	man, sig, err := release.Sign(key, m)
	if err != nil {
		h.t.Fatal(err)
	}
	base := "/api/v1/releases/" + id
	h.put(base+"/manifest", man)
	h.put(base+"/signature", sig)
	h.put(base+"/binary", bin)
	return protocol.UpdateAvailable{Version: p.ver, Channel: string(p.channel), ManifestURL: base + "/manifest", BinaryURL: base + "/binary", Rollback: p.rollback}
}

func (h *harness) updater(running string, mod ...func(*Config)) *Updater {
	h.t.Helper()
	cfg := Config{
		ServerURL:  h.srv.URL,
		Authorize:  func(r *http.Request) { r.Header.Set("Authorization", "Deskside-Device dev_1:secret") },
		PublicKeys: h.pub.String(),
		Version:    running,
		Executable: h.exe,
		Args:       []string{"run"},
		DataDir:    h.data,
		FirstCheck: time.Hour,
		Window:     time.Minute,
		Smoke:      10 * time.Second,
		BusyPoll:   10 * time.Millisecond,
		Restart: func(exe string, args []string) error {
			out, err := exec.Command(exe, "version").Output()
			if err != nil {
				return err
			}
			h.restarts <- strings.TrimSpace(string(out))
			return nil
		},
		Report: func(_ context.Context, r protocol.UpdateReport) error { h.reports <- r; return nil },
		Notify: func(s string) { h.notes <- s },
	}
	for _, f := range mod {
		f(&cfg)
	}
	u, err := New(cfg)
	if err != nil {
		h.t.Fatal(err)
	}
	return u
}

// installed runs the binary at the target path and returns its version line.
func (h *harness) installed() string {
	h.t.Helper()
	out, err := exec.Command(h.exe, "version").Output()
	if err != nil {
		h.t.Fatalf("run %s version: %v", h.exe, err)
	}
	return strings.TrimSpace(string(out))
}

func (h *harness) untouched() {
	h.t.Helper()
	got, err := os.ReadFile(h.exe)
	if err != nil {
		h.t.Fatal(err)
	}
	if !bytes.Equal(got, h.orig) {
		h.t.Fatal("the installed binary changed")
	}
	if _, err := os.Stat(oldBinaryPath(h.exe)); err == nil {
		h.t.Fatal("a previous binary was saved, so a swap happened")
	}
	select {
	case v := <-h.restarts:
		h.t.Fatalf("restarted into %q", v)
	default:
	}
}

func recv[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(20 * time.Second):
		t.Fatalf("no %s", what)
	}
	var zero T
	return zero
}
