// Package identity is who a technician is and what they may do: sign-in
// sessions kept server-side (start, authenticate, revoke, and the console
// links opened with them), the login handler with its attempt throttle
// and bounded password hashing, first-admin setup, technician accounts,
// and the roles every staff route and console link is checked against.
//
// The API mounts Routes and wraps its own staff routes with Wrap; single
// sign-on calls Start once the identity provider has vouched for someone.
package identity

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/deskside/deskside/server/internal/auth"
	"github.com/deskside/deskside/server/internal/httpjson"
	"github.com/deskside/deskside/server/internal/hub"
	"github.com/deskside/deskside/server/internal/store"
	"github.com/deskside/deskside/shared/protocol"
)

// SessionCookie names the technician session cookie.
const SessionCookie = "deskside_session"

// MetaSetupTokenHash is where the one-time setup token's hash lives.
const MetaSetupTokenHash = "setup_token_hash"

// Options wires the sessions to their collaborators. Zero values take defaults.
type Options struct {
	Store store.Store
	Hub   *hub.Hub // consoles to close when sessions end; nil in tests without consoles
	Log   *slog.Logger
	// SecureCookies marks the session cookie Secure (under TLS).
	SecureCookies bool
	// SessionTTL is how long a technician stays signed in; default 12 h.
	SessionTTL time.Duration
	// SetupTokenFile is removed once the setup token is used ("" : none).
	SetupTokenFile string
	// HashSlots bounds password hashes running at once (argon2id takes
	// 19 MiB and a core for ~50 ms each); default GOMAXPROCS.
	HashSlots int
	// Registerer takes the sign-in metrics; nil: not exported.
	Registerer prometheus.Registerer
}

// Sessions signs technicians in and out and checks every staff request.
type Sessions struct {
	opt      Options
	st       store.Store
	log      *slog.Logger
	throttle *Throttle
	hashing  *hashGate
	dummy    string // an argon2id hash unknown emails are checked against
	metrics  *metrics
}

// New builds the sessions.
func New(opt Options) *Sessions {
	if opt.Log == nil {
		opt.Log = slog.Default()
	}
	if opt.SessionTTL == 0 {
		opt.SessionTTL = 12 * time.Hour
	}
	if opt.HashSlots <= 0 {
		opt.HashSlots = runtime.GOMAXPROCS(0)
	}
	dummy, err := auth.HashPassword(auth.RandomToken(24))
	if err != nil {
		panic("identity: hash the dummy password: " + err.Error()) // only a short password fails
	}
	s := &Sessions{opt: opt, st: opt.Store, log: opt.Log, throttle: NewThrottle(),
		hashing: newHashGate(opt.HashSlots), dummy: dummy}
	s.metrics = newMetrics(opt.Registerer, s.hashing)
	return s
}

// Actor is the signed-in technician behind a request.
type Actor struct {
	store.Technician
	CSRF    string // the session's CSRF token
	Session string // the session's public id (console links carry it)
	hash    []byte // the session's store key
}

// Authenticate returns the technician signed in by r's session cookie; a
// disabled account or an expired or revoked session is nobody.
func (s *Sessions) Authenticate(r *http.Request) (*Actor, bool) {
	c, err := r.Cookie(SessionCookie)
	if err != nil || c.Value == "" {
		return nil, false
	}
	hash := auth.Hash(c.Value)
	se, err := s.st.Session(r.Context(), hash)
	if err != nil || time.Now().After(se.ExpiresAt) {
		return nil, false
	}
	t, err := s.st.Technician(r.Context(), se.TechnicianID)
	if err != nil || t.Disabled {
		return nil, false
	}
	return &Actor{Technician: t, CSRF: se.CSRF, Session: sessionID(hash), hash: hash}, true
}

// sessionID names a session without giving away its store key: it goes
// on the bus and into the hub, the key never leaves the store.
func sessionID(hash []byte) string {
	h := sha256.Sum256(hash)
	return hex.EncodeToString(h[:8])
}

// Handler is a staff route's handler, called with the signed-in technician.
type Handler func(http.ResponseWriter, *http.Request, *Actor)

// Wrap guards h: a session, the CSRF header on methods that change
// things, and a role that access allows.
func (s *Sessions) Wrap(access Access, h Handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ac, ok := s.Authenticate(r)
		if !ok {
			httpjson.Error(w, http.StatusUnauthorized, "signed_out", "Please sign in.")
			return
		}
		if changes(r) && !auth.Equal([]byte(r.Header.Get("X-CSRF-Token")), []byte(ac.CSRF)) {
			httpjson.Error(w, http.StatusForbidden, "csrf", "This action is missing its security token; reload the page and try again.")
			return
		}
		if !access.Allows(ac.Role) {
			httpjson.Error(w, http.StatusForbidden, "forbidden", access.refusal())
			return
		}
		h(w, r, ac)
	}
}

// StaffAuth authenticates a technician for a service mounted beside the
// API (releases): the CSRF header on methods that change things, and a
// viewer only reads. actor is the email.
func (s *Sessions) StaffAuth(r *http.Request) (actor string, admin, ok bool) {
	ac, ok := s.Authenticate(r)
	if !ok {
		return "", false, false
	}
	if changes(r) && (ac.Role == RoleViewer || !auth.Equal([]byte(r.Header.Get("X-CSRF-Token")), []byte(ac.CSRF))) {
		return "", false, false
	}
	return ac.Email, ac.Role == RoleAdmin, true
}

func changes(r *http.Request) bool { return r.Method != http.MethodGet && r.Method != http.MethodHead }

// Start signs t in after the caller has checked who they are (password,
// setup token or single sign-on, named by method): a server-side session,
// its cookie, a "signin" audit entry with the method and address. It
// returns the session's CSRF token.
func (s *Sessions) Start(ctx context.Context, w http.ResponseWriter, r *http.Request, t store.Technician, method string) (csrf string, err error) {
	secret, csrf := auth.RandomToken(32), auth.RandomToken(32)
	exp := time.Now().Add(s.opt.SessionTTL)
	if err := s.st.CreateSession(ctx, auth.Hash(secret), store.Session{TechnicianID: t.ID, CSRF: csrf, ExpiresAt: exp}); err != nil {
		return "", err
	}
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: secret, Path: "/", Expires: exp, HttpOnly: true,
		Secure: s.opt.SecureCookies, SameSite: http.SameSiteStrictMode})
	s.audit(ctx, t.Email, "signin", t.ID, "method="+method+" ip="+clientIP(r))
	return csrf, nil
}

// End ends sessions of technician t and closes the console links opened
// with them, on every node: every session when except is nil, else every
// other one. by and why go to the audit log.
func (s *Sessions) End(ctx context.Context, by string, t store.Technician, except *Actor, why string) error {
	var keepHash []byte
	keep := ""
	if except != nil {
		keepHash, keep = except.hash, except.Session
	}
	n, err := s.st.DeleteSessions(ctx, t.ID, keepHash)
	if err != nil {
		return err
	}
	s.closeConsoles(hub.Consoles{Technician: t.ID, Except: keep}, why)
	s.audit(ctx, by, "session.revoke", t.ID, why+" ("+itoa(n)+" sessions ended)")
	return nil
}

func (s *Sessions) closeConsoles(c hub.Consoles, why string) {
	if s.opt.Hub == nil {
		return
	}
	c.Code, c.Reason = protocol.CloseSessionEnded, "signed out: "+why
	if len(c.Reason) > 120 { // a close frame's reason is capped at 123 bytes
		c.Reason = c.Reason[:120]
	}
	s.opt.Hub.CloseConsoles(c)
}

// audit records an action; a failure is logged, never shown to the caller.
func (s *Sessions) audit(ctx context.Context, actor, action, target, detail string) {
	if err := s.st.Audit(ctx, store.AuditEntry{At: time.Now(), Actor: actor, Action: action, Target: target, Detail: detail}); err != nil {
		s.log.Error("audit", "action", action, "target", target, "err", err)
	}
}

// clientIP is the address a request came from. Behind a reverse proxy it
// is the proxy's: the throttle then counts everyone as one address.
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// consolesOf picks the console links opened with ac's session.
func consolesOf(ac *Actor) hub.Consoles { return hub.Consoles{Technician: ac.ID, Session: ac.Session} }
