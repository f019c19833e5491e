package sso_test

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/oauth2-proxy/mockoidc"

	"github.com/deskside/deskside/server/internal/sso"
	"github.com/deskside/deskside/server/servertest"
	"github.com/deskside/deskside/shared/protocol"
)

// provider is mockoidc, a maintained OpenID provider, running in the test.
func provider(t *testing.T, mw ...func(http.Handler) http.Handler) *mockoidc.MockOIDC {
	t.Helper()
	m, err := mockoidc.NewServer(nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range mw {
		if err := m.AddMiddleware(f); err != nil {
			t.Fatal(err)
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Start(ln, nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Shutdown() })
	return m
}

func server(t *testing.T, m *mockoidc.MockOIDC) *servertest.Server {
	cfg := m.Config()
	return servertest.New(t, servertest.WithOIDC(config(cfg.Issuer, cfg.ClientID, cfg.ClientSecret)))
}

func user(email string, groups ...string) *mockoidc.MockUser {
	return &mockoidc.MockUser{Subject: "sub-" + email, Email: email, EmailVerified: true, PreferredUsername: email, Groups: groups}
}

// auditHas reports whether the audit log has an entry of action whose
// detail contains detail.
func auditHas(t *testing.T, s *servertest.Server, action, detail string) bool {
	t.Helper()
	var out struct {
		Entries []struct{ Action, Detail, Actor string }
	}
	if st := s.Tech(t).Do(t, "GET", "/api/v1/audit", nil, &out); st != http.StatusOK {
		t.Fatalf("audit: %d", st)
	}
	for _, e := range out.Entries {
		if e.Action == action && strings.Contains(e.Detail, detail) {
			return true
		}
	}
	return false
}

func TestSignInJustInTime(t *testing.T) {
	m := provider(t)
	s := server(t, m)
	m.QueueUser(user("ann@example.com", "sales", "helpdesk"))
	b := newBrowser(s)
	first := wantSignedIn(t, b, b.signIn(t), "ann@example.com", "technician")
	if !auditHas(t, s, "signin", "method=oidc ip=127.0.0.1") {
		t.Error("the sign-in is not in the audit log with its method and IP")
	}
	// The same person again, now an admin at the provider: same account,
	// role brought up to date.
	m.QueueUser(user("ann@example.com", "it-admins", "helpdesk"))
	b2 := newBrowser(s)
	again := wantSignedIn(t, b2, b2.signIn(t), "ann@example.com", "admin")
	if again["id"] != first["id"] {
		t.Fatalf("second sign-in made another account: %v then %v", first["id"], again["id"])
	}
	var list struct{ Technicians []map[string]any }
	s.Tech(t).Do(t, "GET", "/api/v1/technicians", nil, &list)
	if len(list.Technicians) != 2 { // Rob (setup) and Ann
		t.Fatalf("technicians: %v", list.Technicians)
	}
	for _, tc := range list.Technicians {
		if want := tc["email"] == servertest.AdminEmail; tc["break_glass"] != want {
			t.Errorf("%v: break_glass %v, want %v (only the setup admin)", tc["email"], tc["break_glass"], want)
		}
	}
}

func TestRefusedIdentities(t *testing.T) {
	m := provider(t)
	s := server(t, m)
	for _, tc := range []struct {
		name   string
		user   *mockoidc.MockUser
		status int
		text   string
	}{
		{"domain not allowed", user("eve@evil.example", "helpdesk"), http.StatusForbidden, "Only accounts in example.com"},
		{"look-alike domain", user("eve@example.com.evil.example", "helpdesk"), http.StatusForbidden, "Only accounts in example.com"},
		{"group not mapped", user("sam@example.com", "sales"), http.StatusForbidden, "not in a group that may use the help desk"},
		{"no groups", user("sam@example.com"), http.StatusForbidden, "not in a group that may use the help desk"},
		{"no email", user("", "helpdesk"), http.StatusForbidden, "did not tell us your email"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m.QueueUser(tc.user)
			b := newBrowser(s)
			wantRefused(t, b, b.signIn(t), tc.status, tc.text)
		})
	}
	var list struct{ Technicians []map[string]any }
	s.Tech(t).Do(t, "GET", "/api/v1/technicians", nil, &list)
	if len(list.Technicians) != 1 {
		t.Fatalf("refused people got accounts: %v", list.Technicians)
	}
	if !auditHas(t, s, "signin.failed", "reason=email domain not allowed") {
		t.Error("a refused sign-in is not in the audit log")
	}
}

func TestGroupRemovedLaterEndsSessions(t *testing.T) {
	m := provider(t)
	s := server(t, m)
	m.QueueUser(user("ann@example.com", "helpdesk"))
	desk := newBrowser(s)
	wantSignedIn(t, desk, desk.signIn(t), "ann@example.com", "technician")
	// IT takes Ann out of the group; she tries again from her laptop.
	m.QueueUser(user("ann@example.com", "sales"))
	laptop := newBrowser(s)
	wantRefused(t, laptop, laptop.signIn(t), http.StatusForbidden, "not in a group that may use the help desk")
	if st, _ := desk.me(t); st != http.StatusUnauthorized {
		t.Fatalf("the session on her desk after the group was removed: %d, want 401", st)
	}
	if !auditHas(t, s, "session.revoke", "no group maps to a role") {
		t.Error("ending her sessions is not in the audit log")
	}
}

func TestCallbackTampering(t *testing.T) {
	m := provider(t)
	s := server(t, m)

	t.Run("state mismatch", func(t *testing.T) {
		b := newBrowser(s)
		cb := b.toCallback(t)
		q := cb.Query()
		q.Set("state", "forged")
		cb.RawQuery = q.Encode()
		wantRefused(t, b, b.get(t, cb.String()), http.StatusBadRequest, "This sign-in has expired")
	})
	t.Run("replayed callback", func(t *testing.T) {
		m.QueueUser(user("ann@example.com", "helpdesk"))
		b := newBrowser(s)
		cb := b.toCallback(t)
		flowCookie := b.c.Jar.Cookies(cb)
		wantSignedIn(t, b, b.get(t, cb.String()), "ann@example.com", "technician")
		// An attacker who captured the callback and the cookie tries it.
		thief := newBrowser(s)
		thief.c.Jar.SetCookies(cb, flowCookie)
		wantRefused(t, thief, thief.get(t, cb.String()), http.StatusBadRequest, "This sign-in has expired")
	})
	t.Run("callback without a started sign-in", func(t *testing.T) {
		cb := newBrowser(s).toCallback(t)
		other := newBrowser(s)
		wantRefused(t, other, other.get(t, cb.String()), http.StatusBadRequest, "This sign-in has expired")
	})
	t.Run("tampered flow cookie", func(t *testing.T) {
		b := newBrowser(s)
		cb := b.toCallback(t)
		for _, c := range b.c.Jar.Cookies(cb) {
			flip := "A"
			if c.Value[0] == 'A' {
				flip = "B"
			}
			b.c.Jar.SetCookies(cb, []*http.Cookie{{Name: c.Name, Value: flip + c.Value[1:], Path: sso.CallbackPath}})
		}
		wantRefused(t, b, b.get(t, cb.String()), http.StatusBadRequest, "This sign-in has expired")
	})
	for _, tc := range []struct{ name, query, text string }{
		{"no parameters", "", "incomplete or garbled"},
		{"no code", "state=abc", "incomplete or garbled"},
		{"duplicated state", "state=a&state=b&code=c", "incomplete or garbled"},
		{"duplicated code", "state=a&code=b&code=c", "incomplete or garbled"},
		{"bad escape", "state=%zz&code=c", "incomplete or garbled"},
		{"huge state", "code=c&state=" + strings.Repeat("x", 6000), "This sign-in has expired"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newBrowser(s)
			b.toCallback(t) // a sign-in in progress, so only the query is wrong
			wantRefused(t, b, b.get(t, sso.CallbackPath+"?"+tc.query), http.StatusBadRequest, tc.text)
		})
	}
	t.Run("provider says no", func(t *testing.T) {
		b := newBrowser(s)
		cb := b.toCallback(t)
		q := url.Values{"state": {cb.Query().Get("state")}, "error": {"access_denied"}, "error_description": {"User <b>cancelled</b>"}}
		a := b.get(t, sso.CallbackPath+"?"+q.Encode())
		wantRefused(t, b, a, http.StatusUnauthorized, "access_denied")
		if strings.Contains(a.body, "<b>") {
			t.Fatal("the provider's text reached the page unescaped")
		}
	})
}

func TestExpiredToken(t *testing.T) {
	m := provider(t)
	s := server(t, m)
	m.FastForward(-time.Hour) // the provider's clock: its tokens expired long ago
	m.QueueUser(user("ann@example.com", "helpdesk"))
	b := newBrowser(s)
	wantRefused(t, b, b.signIn(t), http.StatusUnauthorized, "did not pass Deskside")
}

func TestProviderDown(t *testing.T) {
	t.Run("at the start", func(t *testing.T) {
		m := provider(t)
		s := server(t, m)
		if err := m.Shutdown(); err != nil {
			t.Fatal(err)
		}
		b := newBrowser(s)
		wantRefused(t, b, b.signIn(t), http.StatusServiceUnavailable, "Your company sign-in is not answering — try again in a minute, or use the break-glass account")
	})
	t.Run("at the token exchange", func(t *testing.T) {
		m := provider(t)
		s := server(t, m)
		b := newBrowser(s)
		cb := b.toCallback(t)
		if err := m.Shutdown(); err != nil {
			t.Fatal(err)
		}
		wantRefused(t, b, b.get(t, cb.String()), http.StatusServiceUnavailable, "use the break-glass account")
	})
}

func TestProviderSlow(t *testing.T) {
	var slow atomic.Bool
	release := make(chan struct{})
	m := provider(t, func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if slow.Load() {
				select { // hang until the caller gives up or the test ends
				case <-r.Context().Done():
				case <-release:
				}
				return
			}
			next.ServeHTTP(w, r)
		})
	})
	t.Cleanup(func() { close(release) }) // before the provider's shutdown, which waits for its handlers
	cfg := config(m.Issuer(), m.ClientID, m.ClientSecret)
	cfg.Timeout = 300 * time.Millisecond
	s := servertest.New(t, servertest.WithOIDC(cfg))
	slow.Store(true)
	b := newBrowser(s)
	wantRefused(t, b, b.signIn(t), http.StatusServiceUnavailable, "Your company sign-in is not answering")

	// Answering again: discovery, then a token exchange that hangs.
	slow.Store(false)
	m.QueueUser(user("ann@example.com", "helpdesk"))
	cb := b.toCallback(t)
	slow.Store(true)
	wantRefused(t, b, b.get(t, cb.String()), http.StatusServiceUnavailable, "Your company sign-in is not answering")
}

// The cases mockoidc cannot be made to produce, on the tiny provider.
func TestTokensThatDoNotCheckOut(t *testing.T) {
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		set    func(op *fakeOP)
		status int
		text   string
	}{
		{"wrong audience", func(op *fakeOP) { op.edit = func(c map[string]any) { c["aud"] = "another-app" } }, http.StatusUnauthorized, "did not pass"},
		{"wrong issuer", func(op *fakeOP) { op.edit = func(c map[string]any) { c["iss"] = "https://evil.example" } }, http.StatusUnauthorized, "did not pass"},
		{"expired", func(op *fakeOP) {
			op.edit = func(c map[string]any) { c["exp"] = time.Now().Add(-time.Minute).Unix() }
		}, http.StatusUnauthorized, "did not pass"},
		{"signed by another key", func(op *fakeOP) { op.signer = other }, http.StatusUnauthorized, "did not pass"},
		{"no nonce", func(op *fakeOP) { op.edit = func(c map[string]any) { delete(c, "nonce") } }, http.StatusUnauthorized, "did not pass"},
		{"email not verified", func(op *fakeOP) { op.edit = func(c map[string]any) { c["email_verified"] = false } }, http.StatusForbidden, "not verified"},
		{"email verified as a string no", func(op *fakeOP) { op.edit = func(c map[string]any) { c["email_verified"] = "false" } }, http.StatusForbidden, "not verified"},
		{"only unknown key types", func(op *fakeOP) {
			op.jwks = `{"keys":[{"kty":"PQC","kid":"k1","x":"AAAA"},{"kty":"OKP","crv":"Ed448","kid":"k2","x":"AAAA"}]}`
		}, http.StatusUnauthorized, "did not pass"},
		{"keys not JSON", func(op *fakeOP) { op.jwks = `{"keys":[{` }, http.StatusUnauthorized, "did not pass"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			op := newFakeOP(t)
			tc.set(op)
			s := servertest.New(t, servertest.WithOIDC(config(op.srv.URL, op.clientID, "secret")))
			b := newBrowser(s)
			wantRefused(t, b, b.signIn(t), tc.status, tc.text)
		})
	}
}

func TestUnknownKeyTypesBesideAGoodKey(t *testing.T) {
	op := newFakeOP(t)
	good, _ := json.Marshal(op.publicJWK())
	op.jwks = `{"keys":[{"kty":"PQC","kid":"k0","x":"AAAA"},` + string(good) + `]}`
	s := servertest.New(t, servertest.WithOIDC(config(op.srv.URL, op.clientID, "secret")))
	b := newBrowser(s)
	wantSignedIn(t, b, b.signIn(t), "ann@example.com", "technician")
}

func TestNonceReplay(t *testing.T) {
	op := newFakeOP(t)
	s := servertest.New(t, servertest.WithOIDC(config(op.srv.URL, op.clientID, "secret")))
	b := newBrowser(s)
	wantSignedIn(t, b, b.signIn(t), "ann@example.com", "technician")
	// A valid, unexpired ID token from that sign-in, answered again for a
	// new one: its nonce belongs to the old flow.
	op.mu.Lock()
	op.replay = op.issued[0]
	op.mu.Unlock()
	b2 := newBrowser(s)
	wantRefused(t, b2, b2.signIn(t), http.StatusUnauthorized, "did not pass")
}

func TestPasswordSignInOff(t *testing.T) {
	m := provider(t)
	s := server(t, m)
	admin := s.Tech(t)
	if st := admin.Do(t, "POST", "/api/v1/technicians", map[string]string{"email": "pat@example.com", "name": "Pat",
		"password": "pat's long password", "role": "admin"}, nil); st != http.StatusCreated {
		t.Fatalf("create Pat: %d", st)
	}
	var methods struct {
		Password bool
		OIDC     *struct{ Name, Start string }
	}
	anon := newBrowser(s)
	a := anon.get(t, "/api/v1/auth/methods")
	if err := json.Unmarshal([]byte(a.body), &methods); err != nil || !methods.Password || methods.OIDC == nil ||
		methods.OIDC.Name != "Sign in with Okta" || methods.OIDC.Start != sso.StartPath {
		t.Fatalf("methods: %s (%v)", a.body, err)
	}
	if st := admin.Do(t, "PUT", "/api/v1/settings/sign-in", map[string]bool{"password_login": false}, nil); st != http.StatusOK {
		t.Fatalf("turn password sign-in off: %d", st)
	}
	a = anon.get(t, "/api/v1/auth/methods")
	if !strings.Contains(a.body, `"password":false`) {
		t.Fatalf("methods after turning passwords off: %s", a.body)
	}
	login := func(email, pw string) int {
		resp, err := http.Post(s.URL()+"/api/v1/login", "application/json",
			strings.NewReader(`{"email":"`+email+`","password":"`+pw+`"}`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if st := login("pat@example.com", "pat's long password"); st != http.StatusForbidden {
		t.Fatalf("Pat's password with password sign-in off: %d, want 403", st)
	}
	if st := login(servertest.AdminEmail, servertest.AdminPassword); st != http.StatusOK {
		t.Fatalf("the break-glass admin's password: %d, want 200", st)
	}
	// Pat becomes break-glass too; a company account never can.
	var pat struct{ ID string }
	var list struct{ Technicians []struct{ ID, Email string } }
	admin.Do(t, "GET", "/api/v1/technicians", nil, &list)
	for _, tc := range list.Technicians {
		if tc.Email == "pat@example.com" {
			pat.ID = tc.ID
		}
	}
	if st := admin.Do(t, "PUT", "/api/v1/technicians/"+pat.ID+"/break-glass", map[string]bool{"break_glass": true}, nil); st != http.StatusOK {
		t.Fatalf("mark Pat break-glass: %d", st)
	}
	if st := login("pat@example.com", "pat's long password"); st != http.StatusOK {
		t.Fatalf("Pat as break-glass: %d, want 200", st)
	}
	if !auditHas(t, s, "settings.sign-in", "off") {
		t.Error("the settings change is not in the audit log")
	}
	// A technician may not change the setting.
	m.QueueUser(user("ann@example.com", "helpdesk"))
	b := newBrowser(s)
	wantSignedIn(t, b, b.signIn(t), "ann@example.com", "technician")
	req, _ := http.NewRequest("PUT", s.URL()+"/api/v1/settings/sign-in", strings.NewReader(`{"password_login":true}`))
	resp, err := b.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("a technician changing the sign-in setting: %d, want 403", resp.StatusCode)
	}
}

func TestConfigRefused(t *testing.T) {
	ok := config("https://idp.example.com", "id", "secret")
	for _, tc := range []struct {
		name string
		edit func(c *sso.Config)
	}{
		{"no issuer", func(c *sso.Config) { c.Issuer = "" }},
		{"plain http issuer", func(c *sso.Config) { c.Issuer = "http://idp.example.com" }},
		{"issuer with a query", func(c *sso.Config) { c.Issuer = "https://idp.example.com/?x=1" }},
		{"no domains", func(c *sso.Config) { c.AllowedDomains = nil }},
		{"no roles", func(c *sso.Config) { c.Roles = nil }},
		{"unknown role", func(c *sso.Config) { c.Roles = map[string]string{"g": "root"} }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := ok
			c.AllowedDomains = append([]string(nil), ok.AllowedDomains...)
			tc.edit(&c)
			if err := c.Check(); err == nil {
				t.Fatal("accepted")
			}
		})
	}
	if c := ok; c.Check() != nil {
		t.Fatal("a good configuration refused")
	}
	if _, err := sso.ParseRoles("a=admin,b=wizard"); err == nil {
		t.Fatal("ParseRoles accepted an unknown role")
	}
	if r, err := sso.ParseRoles(" it-admins = Admin , helpdesk=technician,"); err != nil || r["it-admins"] != "admin" || r["helpdesk"] != "technician" {
		t.Fatalf("ParseRoles: %v %v", r, err)
	}
}

// Someone whose group maps to viewer reads the queue but changes nothing,
// through the same role checks as a password account.
func TestViewerIsReadOnly(t *testing.T) {
	m := provider(t)
	s := server(t, m)
	dev := s.Enroll(t, "desk-1")
	dev.Connect(t, 0)
	reqID := dev.RaiseRequest(t, "The printer is jammed")
	m.QueueUser(user("val@example.com", "it-managers"))
	b := newBrowser(s)
	wantSignedIn(t, b, b.signIn(t), "val@example.com", "viewer")
	val := s.SignedIn(t, b.c)
	if st := val.Do(t, "GET", "/api/v1/requests/"+reqID, nil, nil); st != http.StatusOK {
		t.Fatalf("a viewer reading a request: %d, want 200", st)
	}
	if st := val.Do(t, "PATCH", "/api/v1/requests/"+reqID, map[string]string{"status": "resolved"}, nil); st != http.StatusForbidden {
		t.Fatalf("a viewer changing a request: %d, want 403", st)
	}
	var req struct{ Status string }
	if st := s.Tech(t).Do(t, "GET", "/api/v1/requests/"+reqID, nil, &req); st != http.StatusOK || req.Status == "resolved" {
		t.Fatalf("the request after a viewer tried to resolve it: %d %q", st, req.Status)
	}
}

// When the provider no longer maps someone's groups to a role, their open
// console closes at once (the session ended), not at its next request.
func TestGroupRemovedClosesConsole(t *testing.T) {
	m := provider(t)
	s := server(t, m)
	m.QueueUser(user("ann@example.com", "helpdesk"))
	desk := newBrowser(s)
	wantSignedIn(t, desk, desk.signIn(t), "ann@example.com", "technician")
	con := s.SignedIn(t, desk.c).Console(t)
	m.QueueUser(user("ann@example.com", "sales"))
	laptop := newBrowser(s)
	wantRefused(t, laptop, laptop.signIn(t), http.StatusForbidden, "not in a group that may use the help desk")
	_ = con.Conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		_, _, err := con.Conn.ReadMessage()
		if err == nil {
			continue
		}
		var ce *websocket.CloseError
		if !errors.As(err, &ce) || ce.Code != protocol.CloseSessionEnded || !strings.Contains(ce.Text, "no group maps to a role") {
			t.Fatalf("console ended with %v, want close %d saying why", err, protocol.CloseSessionEnded)
		}
		break
	}
}
