package identity

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"strings"
	"testing"
)

// TestLoginBurst200 fires 200 parallel wrong sign-ins over real HTTP, each
// for a different account (so no per-account limit helps), and reports
// what they cost: the answers, the most hashes that ran at once, and the
// process's peak RSS (VmHWM, Linux only). The figures go in
// docs/security.md; run alone for a clean peak:
//
//	go test -run LoginBurst200 -v ./server/internal/identity/
//
// The assertion is the logical bound, not a timing: never more hashes at
// once than slots.
func TestLoginBurst200(t *testing.T) {
	slots := runtime.GOMAXPROCS(0)
	g := newRig(t, slots)
	srv := httptest.NewServer(g.mux)
	t.Cleanup(srv.Close)
	client := &http.Client{Transport: &http.Transport{MaxConnsPerHost: 0, MaxIdleConnsPerHost: 200}}
	before := vm("VmRSS")
	counts := parallel(200, func(i int) int {
		b, _ := json.Marshal(map[string]string{"email": fmt.Sprintf("guess%d@example.com", i), "password": "wrong password!"})
		resp, err := client.Post(srv.URL+"/api/v1/login", "application/json", bytes.NewReader(b))
		if err != nil {
			return -1 // the loopback refused the connection (a loaded machine); no answer to judge
		}
		resp.Body.Close()
		return resp.StatusCode
	})
	peak := g.s.hashing.Peak()
	t.Logf("200 parallel wrong sign-ins, %d hashing slots: answers %v; hashes at once: %d; checked: %d; RSS before %s, peak (VmHWM) %s",
		slots, counts, peak, g.s.hashing.checked.Load(), before, vm("VmHWM"))
	if peak > int64(slots) {
		t.Fatalf("%d hashes ran at once, want at most %d", peak, slots)
	}
	if counts[http.StatusUnauthorized]+counts[http.StatusTooManyRequests]+counts[http.StatusServiceUnavailable]+counts[-1] != 200 {
		t.Fatalf("answers %v: want only 401, 429 and 503", counts)
	}
}

// vm reads a line of /proc/self/status ("" where there is none).
func vm(key string) string {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return ""
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, key+":"); ok {
			return strings.TrimSpace(v)
		}
	}
	return ""
}
