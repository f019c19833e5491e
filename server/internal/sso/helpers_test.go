package sso_test

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/deskside/deskside/server/internal/sso"
	"github.com/deskside/deskside/server/servertest"
)

// browser is a person's browser: a cookie jar that follows redirects,
// except, when stopAtCallback is set, the provider's redirect back to us.
type browser struct {
	s              *servertest.Server
	c              *http.Client
	stopAtCallback bool
}

func newBrowser(s *servertest.Server) *browser {
	jar, _ := cookiejar.New(nil)
	b := &browser{s: s}
	b.c = &http.Client{Jar: jar, Timeout: 30 * time.Second, CheckRedirect: func(r *http.Request, via []*http.Request) error {
		if b.stopAtCallback && r.URL.Path == sso.CallbackPath {
			return http.ErrUseLastResponse
		}
		if len(via) > 10 {
			return http.ErrUseLastResponse
		}
		return nil
	}}
	return b
}

// answer is where a navigation ended.
type answer struct {
	status int
	body   string
	url    *url.URL
	loc    string
}

func (b *browser) get(t *testing.T, u string) answer {
	t.Helper()
	if strings.HasPrefix(u, "/") {
		u = b.s.URL() + u
	}
	resp, err := b.c.Get(u)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return answer{status: resp.StatusCode, body: string(body), url: resp.Request.URL, loc: resp.Header.Get("Location")}
}

// signIn runs the whole flow from the console's button.
func (b *browser) signIn(t *testing.T) answer {
	t.Helper()
	b.stopAtCallback = false
	return b.get(t, sso.StartPath)
}

// toCallback runs the flow up to the provider's redirect back and returns
// that callback URL, not yet visited.
func (b *browser) toCallback(t *testing.T) *url.URL {
	t.Helper()
	b.stopAtCallback = true
	defer func() { b.stopAtCallback = false }()
	a := b.get(t, sso.StartPath)
	if a.status != http.StatusFound || a.loc == "" {
		t.Fatalf("the provider did not redirect back: %d %s", a.status, a.body)
	}
	u, err := url.Parse(a.loc)
	if err != nil || u.Path != sso.CallbackPath {
		t.Fatalf("redirect back to %q (%v)", a.loc, err)
	}
	return u
}

// me is GET /api/v1/session: the signed-in technician, or the status.
func (b *browser) me(t *testing.T) (status int, tech map[string]any) {
	t.Helper()
	resp, err := b.c.Get(b.s.URL() + "/api/v1/session")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct{ Technician map[string]any }
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out.Technician
}

// wantSignedIn checks the flow ended in the console, signed in as email.
func wantSignedIn(t *testing.T, b *browser, a answer, email, role string) map[string]any {
	t.Helper()
	if a.status != http.StatusOK || a.url.Path != "/" || a.url.Fragment != "/queue" {
		t.Fatalf("sign-in ended at %s with %d: %.300s", a.url, a.status, a.body)
	}
	st, tech := b.me(t)
	if st != http.StatusOK || tech["email"] != email || tech["role"] != role || tech["auth_method"] != "oidc" {
		t.Fatalf("session after sign-in: %d %v; want %s as %s by oidc", st, tech, email, role)
	}
	return tech
}

// wantRefused checks a flow ended on our error page with status, saying
// text, and that the browser is not signed in.
func wantRefused(t *testing.T, b *browser, a answer, status int, text string) {
	t.Helper()
	if a.status != status || !strings.Contains(a.body, text) {
		t.Fatalf("got %d at %s: %.400s; want %d saying %q", a.status, a.url, a.body, status, text)
	}
	if st, _ := b.me(t); st != http.StatusUnauthorized {
		t.Fatalf("session after a refused sign-in: %d, want 401", st)
	}
}

// config is the single sign-on configuration the tests share.
func config(issuer, clientID, secret string) sso.Config {
	return sso.Config{Issuer: issuer, ClientID: clientID, ClientSecret: secret,
		Scopes: []string{"openid", "email", "profile", "groups"}, AllowedDomains: []string{"example.com"},
		Roles:       map[string]string{"helpdesk": "technician", "it-admins": "admin", "it-managers": "viewer"},
		DisplayName: "Sign in with Okta", Timeout: 5 * time.Second}
}

// fakeOP is a tiny OpenID provider for what mockoidc cannot be made to
// do: sign with another key, name another audience, send a stale nonce,
// publish keys of types nobody knows. Discovery, authorize (with PKCE),
// token and JWKS, nothing more.
type fakeOP struct {
	srv      *httptest.Server
	key      *rsa.PrivateKey
	clientID string

	mu     sync.Mutex
	codes  map[string][2]string // code → nonce, PKCE challenge
	edit   func(claims map[string]any)
	signer *rsa.PrivateKey // nil: key
	jwks   string          // "": key's public half
	issued []string        // ID tokens handed out
	replay string          // when set, the token endpoint answers this ID token
}

func newFakeOP(t *testing.T) *fakeOP {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	op := &fakeOP{key: key, clientID: "deskside", codes: map[string][2]string{}}
	m := http.NewServeMux()
	m.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		u := op.srv.URL
		writeJSON(w, map[string]any{"issuer": u, "authorization_endpoint": u + "/authorize", "token_endpoint": u + "/token",
			"jwks_uri": u + "/jwks", "id_token_signing_alg_values_supported": []string{"RS256"}})
	})
	m.HandleFunc("GET /jwks", func(w http.ResponseWriter, r *http.Request) {
		op.mu.Lock()
		raw := op.jwks
		op.mu.Unlock()
		if raw == "" {
			b, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{op.publicJWK()}})
			raw = string(b)
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, raw)
	})
	m.HandleFunc("GET /authorize", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		code := rand.Text()
		op.mu.Lock()
		op.codes[code] = [2]string{q.Get("nonce"), q.Get("code_challenge")}
		op.mu.Unlock()
		back, _ := url.Parse(q.Get("redirect_uri"))
		back.RawQuery = url.Values{"code": {code}, "state": {q.Get("state")}}.Encode()
		http.Redirect(w, r, back.String(), http.StatusFound)
	})
	m.HandleFunc("POST /token", op.token)
	op.srv = httptest.NewServer(m)
	t.Cleanup(op.srv.Close)
	return op
}

func (op *fakeOP) publicJWK() jose.JSONWebKey {
	return jose.JSONWebKey{Key: &op.key.PublicKey, KeyID: "k1", Algorithm: "RS256", Use: "sig"}
}

func (op *fakeOP) token(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	op.mu.Lock()
	defer op.mu.Unlock()
	c, ok := op.codes[r.PostForm.Get("code")]
	delete(op.codes, r.PostForm.Get("code"))
	sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
	if !ok || base64.RawURLEncoding.EncodeToString(sum[:]) != c[1] {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		writeJSON(w, map[string]string{"error": "invalid_grant"})
		return
	}
	now := time.Now()
	claims := map[string]any{"iss": op.srv.URL, "aud": op.clientID, "sub": "user-1", "nonce": c[0],
		"iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(), "email": "ann@example.com", "email_verified": true,
		"name": "Ann", "groups": []string{"helpdesk"}}
	if op.edit != nil {
		op.edit(claims)
	}
	key := op.key
	if op.signer != nil {
		key = op.signer
	}
	sig, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: key, KeyID: "k1"}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		panic(err)
	}
	payload, _ := json.Marshal(claims)
	jws, err := sig.Sign(payload)
	if err != nil {
		panic(err)
	}
	idt, _ := jws.CompactSerialize()
	op.issued = append(op.issued, idt)
	if op.replay != "" {
		idt = op.replay
	}
	writeJSON(w, map[string]any{"access_token": "at", "token_type": "Bearer", "expires_in": 300, "id_token": idt})
}

func writeJSON(w http.ResponseWriter, v any) {
	if w.Header().Get("Content-Type") == "" {
		w.Header().Set("Content-Type", "application/json")
	}
	_ = json.NewEncoder(w).Encode(v)
}
