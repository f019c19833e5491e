// Package sso signs technicians in with the company's identity provider
// over OpenID Connect: the authorization-code flow with PKCE, state and
// nonce checked, the ID token verified (issuer, audience, expiry, signature
// from the provider's published keys), the email verified and in an
// allowed domain, and the provider's groups mapped to a Deskside role.
//
// It knows nothing of the store or of sessions: what happens to a verified
// identity (find or create the technician, start a session, audit) is the
// Accounts interface the server hands it. Every failure ends on a short
// page a person can read, with a 4xx status, or 503 when the provider does
// not answer; never a 500 for bad input, never a hang.
package sso

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// The flow's endpoints; docs/sso.md gives CallbackPath as the redirect URI.
const (
	StartPath    = "/api/v1/auth/oidc/start"
	CallbackPath = "/api/v1/auth/oidc/callback"
)

// ErrRefused is what Accounts.SignIn wraps when it will not sign the
// identity in (a disabled account, an email taken by another sign-in).
var ErrRefused = errors.New("sign-in refused")

// Identity is a person the provider vouched for, checked by this package.
type Identity struct {
	// ExternalID is "issuer|subject": stable for the person at the provider.
	ExternalID string
	Email      string // verified, in an allowed domain
	Name       string // may be empty
	// Role is the role the person's groups map to; "" when none does.
	Role string
}

// Accounts is what single sign-on needs from the server.
type Accounts interface {
	// SignIn finds the technician for id (by ExternalID, else by email) or
	// creates it just in time with id.Role, brings its role up to date,
	// starts a session (the session cookie on w) and audits the sign-in
	// with method "oidc" and the address r came from (r is the provider's
	// redirect back). An error wrapping ErrRefused means "not this
	// person"; any other error is the server's own failure.
	SignIn(w http.ResponseWriter, r *http.Request, id Identity) error
	// Refuse audits a failed sign-in (method "oidc", ip, reason). When id
	// names a known technician (ExternalID or Email set) whose groups no
	// longer map to a role, endSessions is true and every session of that
	// technician ends.
	Refuse(ctx context.Context, id Identity, ip, reason string, endSessions bool) error
}

// Service runs the sign-in flow. Create with New; serve its Handler.
type Service struct {
	cfg    Config
	acc    Accounts
	log    *slog.Logger
	sealer *sealer

	mu       sync.Mutex
	provider *oidc.Provider       // nil until discovery succeeds
	used     map[string]time.Time // states already spent → when to forget them
}

// New checks cfg and builds the service. The provider is not contacted
// until the first sign-in, so a provider that is down does not stop the
// server from starting (technicians see the friendly page instead).
func New(cfg Config, acc Accounts, log *slog.Logger) (*Service, error) {
	if err := cfg.Check(); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.Default()
	}
	return &Service{cfg: cfg, acc: acc, log: log, sealer: newSealer(cfg.ClientSecret), used: map[string]time.Time{}}, nil
}

// DisplayName is the sign-in button's text.
func (s *Service) DisplayName() string { return s.cfg.DisplayName }

// Handler serves StartPath and CallbackPath.
func (s *Service) Handler() http.Handler {
	m := http.NewServeMux()
	m.HandleFunc("GET "+StartPath, s.start)
	m.HandleFunc("GET "+CallbackPath, s.callback)
	return m
}

// discover fetches the provider's configuration once; a failure is not
// cached, so the next sign-in tries again.
func (s *Service) discover() (*oidc.Provider, error) {
	s.mu.Lock()
	p := s.provider
	s.mu.Unlock()
	if p != nil {
		return p, nil
	}
	// The background context (bounded by the client's timeout) because
	// go-oidc keeps it for fetching keys later, after this request is gone.
	ctx := oidc.ClientContext(context.Background(), s.cfg.Client)
	p, err := oidc.NewProvider(ctx, s.cfg.Issuer)
	if err != nil {
		return nil, fmt.Errorf("discover %s: %w", s.cfg.Issuer, err)
	}
	var doc struct {
		JWKS string `json:"jwks_uri"`
	}
	if err := p.Claims(&doc); err != nil {
		return nil, fmt.Errorf("discover %s: %w", s.cfg.Issuer, err)
	}
	// The endpoints come from the provider's document: hold them to the
	// same rule as the issuer, so no secret goes out in the clear.
	for what, u := range map[string]string{"authorization endpoint": p.Endpoint().AuthURL, "token endpoint": p.Endpoint().TokenURL, "jwks_uri": doc.JWKS} {
		if err := checkURL(what, u); err != nil {
			return nil, fmt.Errorf("discover %s: %w", s.cfg.Issuer, err)
		}
	}
	s.mu.Lock()
	s.provider = p
	s.mu.Unlock()
	return p, nil
}

func (s *Service) oauth(r *http.Request, p *oidc.Provider) *oauth2.Config {
	base := s.cfg.PublicURL
	if base == "" {
		scheme := "http"
		if r.TLS != nil {
			scheme = "https"
		}
		base = scheme + "://" + r.Host
	}
	return &oauth2.Config{ClientID: s.cfg.ClientID, ClientSecret: s.cfg.ClientSecret, Endpoint: p.Endpoint(),
		RedirectURL: base + CallbackPath, Scopes: s.cfg.Scopes}
}

// flowTTL is how long a started sign-in may take at the provider.
const flowTTL = 10 * time.Minute

func (s *Service) start(w http.ResponseWriter, r *http.Request) {
	p, err := s.discover()
	if err != nil {
		s.fail(w, r, Identity{}, failure{status: http.StatusServiceUnavailable, reason: "provider unreachable", err: err, page: pageDown})
		return
	}
	f := flow{State: randomString(), Nonce: randomString(), Verifier: oauth2.GenerateVerifier(), Expires: time.Now().Add(flowTTL).Unix()}
	val, err := s.sealer.seal(f)
	if err != nil {
		s.fail(w, r, Identity{}, failure{status: http.StatusServiceUnavailable, reason: "seal state", err: err, page: pageDown})
		return
	}
	http.SetCookie(w, &http.Cookie{Name: flowCookie, Value: val, Path: CallbackPath, MaxAge: int(flowTTL / time.Second),
		HttpOnly: true, Secure: r.TLS != nil || strings.HasPrefix(s.cfg.PublicURL, "https:"), SameSite: http.SameSiteLaxMode})
	u := s.oauth(r, p).AuthCodeURL(f.State, oidc.Nonce(f.Nonce), oauth2.S256ChallengeOption(f.Verifier))
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, u, http.StatusFound)
}

func (s *Service) callback(w http.ResponseWriter, r *http.Request) {
	// Whatever happens next, this browser's flow is over.
	http.SetCookie(w, &http.Cookie{Name: flowCookie, Value: "", Path: CallbackPath, MaxAge: -1, HttpOnly: true,
		Secure: r.TLS != nil, SameSite: http.SameSiteLaxMode})
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		s.fail(w, r, Identity{}, bad("malformed query", err))
		return
	}
	for _, k := range []string{"state", "code", "error", "error_description", "iss"} {
		if len(q[k]) > 1 {
			s.fail(w, r, Identity{}, bad("parameter "+k+" given twice", nil))
			return
		}
	}
	if e := q.Get("error"); e != "" {
		s.fail(w, r, Identity{}, failure{status: http.StatusUnauthorized, reason: "provider said " + clip(e),
			page: page{title: "Your company sign-in said no", text: "The identity provider answered “" + clip(e) + "”" +
				suffix(clip(q.Get("error_description"))) + ". If you think you should have access, ask your IT admin to add you to the help desk's group."}})
		return
	}
	state, code := q.Get("state"), q.Get("code")
	if state == "" || code == "" {
		s.fail(w, r, Identity{}, bad("state or code missing", nil))
		return
	}
	f, ok := s.takeFlow(r)
	if !ok {
		s.fail(w, r, Identity{}, failure{status: http.StatusBadRequest, reason: "no sign-in in progress", page: pageExpired})
		return
	}
	if !equal(f.State, state) {
		s.fail(w, r, Identity{}, failure{status: http.StatusBadRequest, reason: "state mismatch", page: pageExpired})
		return
	}
	if !s.spend(f.State, time.Unix(f.Expires, 0)) {
		s.fail(w, r, Identity{}, failure{status: http.StatusBadRequest, reason: "callback replayed", page: pageExpired})
		return
	}
	p, err := s.discover()
	if err != nil {
		s.fail(w, r, Identity{}, failure{status: http.StatusServiceUnavailable, reason: "provider unreachable", err: err, page: pageDown})
		return
	}
	ctx := context.WithValue(r.Context(), oauth2.HTTPClient, s.cfg.Client)
	tok, err := s.oauth(r, p).Exchange(ctx, code, oauth2.VerifierOption(f.Verifier))
	if err != nil {
		s.fail(w, r, Identity{}, exchangeFailure(err))
		return
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		s.fail(w, r, Identity{}, untrusted("no ID token in the answer", nil))
		return
	}
	idt, err := p.Verifier(&oidc.Config{ClientID: s.cfg.ClientID, Now: s.cfg.Now}).Verify(ctx, raw)
	if err != nil {
		if isTimeout(err) {
			s.fail(w, r, Identity{}, failure{status: http.StatusServiceUnavailable, reason: "provider keys unreachable", err: err, page: pageDown})
			return
		}
		s.fail(w, r, Identity{}, untrusted("ID token did not verify", err))
		return
	}
	if !equal(idt.Nonce, f.Nonce) {
		s.fail(w, r, Identity{}, untrusted("nonce mismatch", nil))
		return
	}
	id, fl := s.identity(idt)
	if fl != nil {
		s.fail(w, r, id, *fl)
		return
	}
	if err := s.acc.SignIn(w, r, id); err != nil {
		if errors.Is(err, ErrRefused) {
			s.fail(w, r, id, failure{status: http.StatusForbidden, reason: err.Error(),
				page: page{title: "You can't sign in here", text: "Your account on the help desk is turned off or belongs to someone else. Ask your IT admin."}})
			return
		}
		s.log.Error("single sign-on: sign in", "email", id.Email, "err", err)
		writePage(w, http.StatusInternalServerError, page{title: "Something went wrong", text: "The server could not finish signing you in; it has been logged. Please try again."})
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, "/#/queue", http.StatusSeeOther)
}

// identity reads the checked claims; a non-nil failure refuses the person.
func (s *Service) identity(idt *oidc.IDToken) (Identity, *failure) {
	var c map[string]any
	if err := idt.Claims(&c); err != nil {
		f := untrusted("claims unreadable", err)
		return Identity{}, &f
	}
	id := Identity{ExternalID: idt.Issuer + "|" + idt.Subject, Email: strings.TrimSpace(str(c["email"])), Name: strings.TrimSpace(str(c["name"]))}
	if id.Email == "" {
		return id, &failure{status: http.StatusForbidden, reason: "no email claim", page: page{title: "No email address",
			text: "Your company sign-in did not tell us your email address. Your IT admin needs to allow the email scope for Deskside."}}
	}
	if v, present := c["email_verified"]; present && !truthy(v) {
		return id, &failure{status: http.StatusForbidden, reason: "email not verified", page: page{title: "Email not verified",
			text: "Your company sign-in says your email address is not verified yet. Verify it there, then try again."}}
	}
	if !s.cfg.domainAllowed(id.Email) {
		return id, &failure{status: http.StatusForbidden, reason: "email domain not allowed", page: page{title: "This account can't sign in here",
			text: "Only accounts in " + strings.Join(s.cfg.AllowedDomains, ", ") + " may sign in to this help desk."}}
	}
	id.Role = s.cfg.roleFor(strs(c[s.cfg.GroupsClaim]))
	if id.Role == "" {
		return id, &failure{status: http.StatusForbidden, reason: "no group maps to a role", endSessions: true, page: page{title: "No access to the help desk",
			text: "You are not in a group that may use the help desk (any more). If you think you should be, ask your IT admin."}}
	}
	return id, nil
}

// takeFlow opens this browser's flow cookie; false when there is none,
// it was tampered with, or it is too old.
func (s *Service) takeFlow(r *http.Request) (flow, bool) {
	c, err := r.Cookie(flowCookie)
	if err != nil {
		return flow{}, false
	}
	f, err := s.sealer.open(c.Value)
	if err != nil || time.Now().Unix() > f.Expires {
		return flow{}, false
	}
	return f, true
}

// spend marks state used; false when it was used already, so a replayed
// callback fails even with the cookie still in hand.
func (s *Service) spend(state string, until time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	for k, exp := range s.used {
		if now.After(exp) {
			delete(s.used, k)
		}
	}
	if _, seen := s.used[state]; seen {
		return false
	}
	s.used[state] = until
	return true
}

// failure is a refused sign-in: what to show, what to audit.
type failure struct {
	status      int
	reason      string // for the audit log
	err         error  // for the server log
	page        page
	endSessions bool
}

func bad(reason string, err error) failure {
	return failure{status: http.StatusBadRequest, reason: reason, err: err, page: page{title: "That sign-in link is not right",
		text: "The answer from your company sign-in was incomplete or garbled. Start again from the sign-in page."}}
}

func untrusted(reason string, err error) failure {
	return failure{status: http.StatusUnauthorized, reason: reason, err: err, page: page{title: "Sign-in could not be checked",
		text: "The answer from your company sign-in did not pass Deskside's checks, so nobody was signed in. Start again; if it keeps happening, your IT admin can find the reason in the server log."}}
}

func exchangeFailure(err error) failure {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) && re.Response != nil && re.Response.StatusCode < 500 {
		return untrusted("provider refused the code", err)
	}
	return failure{status: http.StatusServiceUnavailable, reason: "provider unreachable", err: err, page: pageDown}
}

func (s *Service) fail(w http.ResponseWriter, r *http.Request, id Identity, f failure) {
	s.log.Warn("single sign-on refused", "reason", f.reason, "email", id.Email, "status", f.status, "err", f.err)
	if err := s.acc.Refuse(r.Context(), id, clientIP(r), f.reason, f.endSessions); err != nil {
		s.log.Error("single sign-on: record refusal", "err", err)
	}
	writePage(w, f.status, f.page)
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
}

func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

// truthy reads email_verified, which some providers send as "true".
func truthy(v any) bool {
	switch v := v.(type) {
	case bool:
		return v
	case string:
		return strings.EqualFold(v, "true")
	}
	return false
}

// strs reads a groups claim: a list of strings, or one string.
func strs(v any) []string {
	switch v := v.(type) {
	case string:
		return []string{v}
	case []any:
		out := make([]string, 0, len(v))
		for _, x := range v {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// clip keeps what the provider says short and printable on our page.
func clip(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, s)
	if r := []rune(s); len(r) > 200 {
		s = string(r[:200]) + "…"
	}
	return s
}

func suffix(desc string) string {
	if desc == "" {
		return ""
	}
	return " (" + desc + ")"
}
