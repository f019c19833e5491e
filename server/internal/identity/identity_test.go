package identity

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/deskside/deskside/server/internal/store"
)

const goodPassword = "correct horse battery"

// rig is the sign-in routes over a real SQLite store, called in-process
// so each request can come from a chosen address.
type rig struct {
	s   *Sessions
	st  store.Store
	mux *http.ServeMux
}

func newRig(t *testing.T, slots int) *rig {
	t.Helper()
	st, err := store.Open(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	s := New(Options{Store: st, HashSlots: slots})
	mux := http.NewServeMux()
	for _, r := range s.Routes() {
		mux.HandleFunc(r.Pattern, s.HandlerFunc(r))
	}
	return &rig{s: s, st: st, mux: mux}
}

func (g *rig) tech(t *testing.T, email, role string) store.Technician {
	t.Helper()
	tc, err := NewTechnician(email, "Someone", goodPassword, role)
	if err != nil {
		t.Fatal(err)
	}
	if err := g.st.CreateTechnician(context.Background(), tc); err != nil {
		t.Fatal(err)
	}
	return tc
}

// do sends a JSON request from ip with the given cookie and CSRF token.
func (g *rig) do(ip, method, path string, body any, cookie *http.Cookie, csrf string) *httptest.ResponseRecorder {
	b, _ := json.Marshal(body)
	r := httptest.NewRequest(method, path, bytes.NewReader(b))
	r.RemoteAddr = ip + ":40000"
	if cookie != nil {
		r.AddCookie(cookie)
	}
	r.Header.Set("X-CSRF-Token", csrf)
	w := httptest.NewRecorder()
	g.mux.ServeHTTP(w, r)
	return w
}

func (g *rig) login(ip, email, password string) *httptest.ResponseRecorder {
	return g.do(ip, "POST", "/api/v1/login", map[string]string{"email": email, "password": password}, nil, "")
}

// signedIn signs in and returns the cookie and CSRF token.
func (g *rig) signedIn(t *testing.T, ip, email, password string) (*http.Cookie, string) {
	t.Helper()
	w := g.login(ip, email, password)
	if w.Code != http.StatusOK {
		t.Fatalf("sign in %s from %s: %d %s", email, ip, w.Code, w.Body)
	}
	var out struct {
		CSRF string `json:"csrf_token"`
	}
	_ = json.Unmarshal(w.Body.Bytes(), &out)
	for _, c := range w.Result().Cookies() {
		if c.Name == SessionCookie {
			return c, out.CSRF
		}
	}
	t.Fatal("no session cookie")
	return nil, ""
}

// parallel runs n copies of f at once and counts the status codes.
func parallel(n int, f func(i int) int) map[int]int {
	var mu sync.Mutex
	counts := map[int]int{}
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			code := f(i)
			mu.Lock()
			counts[code]++
			mu.Unlock()
		})
	}
	close(start)
	wg.Wait()
	return counts
}

// Attack: 40 parallel wrong passwords for one account from one address
// all got checked (none refused) and took 782 MB. Now attempts in flight
// count against the allowance: only FreeFails are checked, the rest are
// refused at once with Retry-After, and no more hashes than slots run.
func TestParallelWrongLoginsAreThrottled(t *testing.T) {
	g := newRig(t, 2)
	g.tech(t, "ana@example.com", RoleTechnician)
	counts := parallel(40, func(int) int {
		w := g.login("198.51.100.7", "ana@example.com", "wrong password!")
		if w.Code != http.StatusUnauthorized && w.Header().Get("Retry-After") == "" {
			t.Errorf("status %d without Retry-After", w.Code)
		}
		return w.Code
	})
	if counts[http.StatusUnauthorized] > g.s.throttle.FreeFails {
		t.Fatalf("%d wrong passwords checked in a parallel burst, want at most %d: %v", counts[http.StatusUnauthorized], g.s.throttle.FreeFails, counts)
	}
	if refused := counts[http.StatusTooManyRequests] + counts[http.StatusServiceUnavailable]; refused+counts[http.StatusUnauthorized] != 40 || refused < 40-g.s.throttle.FreeFails {
		t.Fatalf("answers %v: want the rest refused", counts)
	}
	if peak := g.s.hashing.Peak(); peak > 2 {
		t.Fatalf("%d hashes ran at once, want at most 2 slots", peak)
	}
}

// Attack: many guesses, each for a different account, so no per-account
// limit applies: hashing is still bounded by its slots, the excess is
// answered 503 with Retry-After at once rather than queued.
func TestHashingIsBounded(t *testing.T) {
	g := newRig(t, 2)
	g.s.throttle.IPCap = 1000
	counts := parallel(40, func(i int) int {
		w := g.login(fmt.Sprintf("198.51.100.%d", i), fmt.Sprintf("nobody%d@example.com", i), "wrong password!")
		if w.Code == http.StatusServiceUnavailable && w.Header().Get("Retry-After") == "" {
			t.Error("503 without Retry-After")
		}
		return w.Code
	})
	if counts[http.StatusUnauthorized]+counts[http.StatusServiceUnavailable] != 40 {
		t.Fatalf("answers %v: want only 401 and 503", counts)
	}
	if peak := g.s.hashing.Peak(); peak > 2 || peak < 1 {
		t.Fatalf("%d hashes ran at once, want 1 to 2 (the slots)", peak)
	}
}

// Attack: five wrong passwords for a known email locked its owner out for
// 15 minutes, from anywhere. Now an attacker slows only their own address.
func TestAttackerCannotLockOwnerOut(t *testing.T) {
	g := newRig(t, 4)
	g.tech(t, "ana@example.com", RoleTechnician)
	for range 20 {
		if w := g.login("203.0.113.66", "ana@example.com", "guess guess guess"); w.Code != http.StatusUnauthorized && w.Code != http.StatusTooManyRequests {
			t.Fatalf("attacker: %d", w.Code)
		}
	}
	if w := g.login("203.0.113.66", "ana@example.com", goodPassword); w.Code != http.StatusTooManyRequests {
		t.Fatalf("attacker's address after 20 failures: %d, want 429", w.Code)
	}
	g.signedIn(t, "192.0.2.10", "ana@example.com", goodPassword) // the owner, elsewhere, at once
}

// Attack: failures from one address blocked every account there. Now the
// address-wide cap spares an account that signed in from it before, and a
// browser that still holds the account's session.
func TestAddressCapSparesKnownGood(t *testing.T) {
	g := newRig(t, 4)
	g.s.throttle.IPCap = 5
	g.tech(t, "ana@example.com", RoleTechnician)
	g.tech(t, "bo@example.com", RoleTechnician)
	const office = "192.0.2.20" // one NAT address for everyone
	g.signedIn(t, office, "ana@example.com", goodPassword)
	cookie, _ := g.signedIn(t, "192.0.2.99", "bo@example.com", goodPassword)
	for i := range 10 {
		g.login(office, fmt.Sprintf("x%d@example.com", i), "guess guess guess")
	}
	if w := g.login(office, "bo@example.com", goodPassword); w.Code != http.StatusTooManyRequests {
		t.Fatalf("an account new to the capped address: %d, want 429", w.Code)
	}
	g.signedIn(t, office, "ana@example.com", goodPassword) // known-good address
	w := g.do(office, "POST", "/api/v1/login", map[string]string{"email": "bo@example.com", "password": goodPassword}, cookie, "")
	if w.Code != http.StatusOK {
		t.Fatalf("holder of a live session: %d, want 200", w.Code)
	}
}

// Attack: an unknown email answered in 1–2 ms, a known one in ~50 ms.
// Now an unknown email is checked against a dummy hash of the same cost.
func TestUnknownEmailCostsAHash(t *testing.T) {
	g := newRig(t, 2)
	before := g.s.hashing.checked.Load()
	if w := g.login("192.0.2.1", "nobody@example.com", "whatever123"); w.Code != http.StatusUnauthorized {
		t.Fatalf("unknown email: %d", w.Code)
	}
	if n := g.s.hashing.checked.Load() - before; n != 1 {
		t.Fatalf("%d hashes for an unknown email, want 1", n)
	}
	if !strings.HasPrefix(g.s.dummy, "$argon2id$") || !strings.Contains(g.s.dummy, "m=19456,t=2,p=1") {
		t.Fatalf("dummy hash %q is not an argon2id hash of the real cost", g.s.dummy)
	}
}

// Attack: a stolen session survived a password change, and the change
// did not ask for the current password.
func TestPasswordChangeNeedsCurrentAndEndsOtherSessions(t *testing.T) {
	g := newRig(t, 2)
	g.tech(t, "ana@example.com", RoleTechnician)
	mine, csrf := g.signedIn(t, "192.0.2.1", "ana@example.com", goodPassword)
	stolen, _ := g.signedIn(t, "203.0.113.9", "ana@example.com", goodPassword)
	const next = "a brand new passphrase"
	if w := g.do("192.0.2.1", "PATCH", "/api/v1/me", map[string]string{"password": next}, mine, csrf); w.Code != http.StatusBadRequest {
		t.Fatalf("without current_password: %d, want 400", w.Code)
	}
	if w := g.do("192.0.2.1", "PATCH", "/api/v1/me", map[string]string{"password": next, "current_password": "not it at all"}, mine, csrf); w.Code != http.StatusForbidden {
		t.Fatalf("wrong current_password: %d, want 403", w.Code)
	}
	if w := g.do("192.0.2.1", "PATCH", "/api/v1/me", map[string]string{"password": next, "current_password": goodPassword}, mine, csrf); w.Code != http.StatusOK {
		t.Fatalf("change: %d %s", w.Code, w.Body)
	}
	if w := g.do("203.0.113.9", "GET", "/api/v1/session", nil, stolen, ""); w.Code != http.StatusUnauthorized {
		t.Fatalf("stolen session after the change: %d, want 401", w.Code)
	}
	if w := g.do("192.0.2.1", "GET", "/api/v1/session", nil, mine, ""); w.Code != http.StatusOK {
		t.Fatalf("the changer's own session: %d, want 200", w.Code)
	}
	g.signedIn(t, "192.0.2.1", "ana@example.com", next)
	entries, err := g.st.ListAudit(context.Background(), 50)
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range entries {
		actions = append(actions, e.Action)
	}
	for _, want := range []string{"signin", "password.failed", "password.change", "session.revoke"} {
		if !strings.Contains(strings.Join(actions, " "), want) {
			t.Fatalf("audit %v lacks %s", actions, want)
		}
	}
}

func TestThrottleDelaysGrowAndForgive(t *testing.T) {
	th := NewThrottle()
	now := time.Unix(1_700_000_000, 0)
	th.now = func() time.Time { return now }
	for range th.FreeFails {
		a, _ := th.Begin("ana", "ip", false)
		a.Fail()
	}
	var waits []time.Duration
	for range 4 {
		a, wait := th.Begin("ana", "ip", false)
		if a != nil {
			t.Fatal("attempt let through without waiting")
		}
		waits = append(waits, wait)
		now = now.Add(wait)
		if a, _ = th.Begin("ana", "ip", false); a == nil {
			t.Fatal("refused after waiting")
		}
		a.Fail()
	}
	for i := 1; i < len(waits); i++ {
		if waits[i] != 2*waits[i-1] {
			t.Fatalf("waits %v: want each double the last", waits)
		}
	}
	now = now.Add(th.Window + time.Second)
	for range th.FreeFails {
		a, _ := th.Begin("ana", "ip", false)
		if a == nil {
			t.Fatal("not forgiven after a quiet window")
		}
		a.Fail()
	}
}

// Leak: with password sign-in off, a non-break-glass account's password
// was checked first, so 401 meant "wrong" and 403 meant "right, but use
// single sign-on" — a password oracle. Now such an account is refused
// before its password is looked at: one answer whatever the password (and
// for unknown emails and wrong break-glass passwords too), one dummy hash
// spent each time so the time tells nothing either.
func TestPasswordOffIsNoOracle(t *testing.T) {
	g := newRig(t, 2)
	ctx := context.Background()
	g.tech(t, "pat@example.com", RoleTechnician)
	glass := g.tech(t, "glass@example.com", RoleAdmin)
	glass.BreakGlass = true
	if err := g.st.UpdateTechnician(ctx, glass); err != nil {
		t.Fatal(err)
	}
	if err := g.st.SetMeta(ctx, MetaPasswordLogin, "off"); err != nil {
		t.Fatal(err)
	}
	var answers []string
	for i, try := range []struct{ email, password string }{
		{"pat@example.com", goodPassword},
		{"pat@example.com", "a wrong password"},
		{"nobody@example.com", goodPassword},
		{"glass@example.com", "a wrong password"},
	} {
		before := g.s.hashing.checked.Load()
		// A fresh address each time, so the throttle stays out of it.
		w := g.login(fmt.Sprintf("198.51.100.%d", i+1), try.email, try.password)
		if w.Code != http.StatusForbidden {
			t.Fatalf("%s with password sign-in off: %d %s, want 403", try.email, w.Code, w.Body)
		}
		if n := g.s.hashing.checked.Load() - before; n != 1 {
			t.Fatalf("%s: %d hashes, want 1", try.email, n)
		}
		answers = append(answers, w.Body.String())
	}
	for _, a := range answers[1:] {
		if a != answers[0] {
			t.Fatalf("refusals differ: %q and %q", answers[0], a)
		}
	}
	if w := g.login("198.51.100.9", "glass@example.com", goodPassword); w.Code != http.StatusOK {
		t.Fatalf("the break-glass admin with the right password: %d %s", w.Code, w.Body)
	}
	es, err := g.st.ListAudit(ctx, 100)
	if err != nil {
		t.Fatal(err)
	}
	refused := 0
	for _, e := range es {
		if e.Action == "signin.failed" && strings.Contains(e.Detail, "method=password") && strings.Contains(e.Detail, "reason=password sign-in is off") {
			refused++
		}
	}
	if refused != 4 {
		t.Fatalf("%d refusals audited with the reason, want 4: %+v", refused, es)
	}
}
