package identity

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/deskside/deskside/server/internal/httpjson"
	"github.com/deskside/deskside/server/internal/store"
)

func (s *Sessions) login(w http.ResponseWriter, r *http.Request) {
	var in struct{ Email, Password string }
	if !decode(w, r, &in) {
		return
	}
	ip, account := clientIP(r), strings.ToLower(strings.TrimSpace(in.Email))
	att, wait := s.throttle.Begin(account, ip, s.holdsSession(r, account))
	if att == nil {
		s.metrics.refused.WithLabelValues("throttled").Inc()
		retryLater(w, http.StatusTooManyRequests, wait, "too_many_attempts", "Too many sign-in attempts. Please wait a little and try again.")
		return
	}
	t, err := s.st.TechnicianByEmail(r.Context(), account)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		att.Cancel()
		httpjson.Internal(s.log, w, r, err)
		return
	}
	// An account that may not use a password now (unknown, disabled, a
	// company account, or not break-glass while password sign-in is off)
	// is checked against a dummy hash of the same cost: it is refused
	// before its password is looked at, and the answer and its time are
	// the same whether that password was right or wrong.
	passwordOff := !s.PasswordSignInOn(r.Context())
	allowed := err == nil && s.passwordAllowed(t, passwordOff)
	hash := s.dummy
	if allowed {
		hash = t.PasswordHash
	}
	match, busy := s.hashing.check(hash, in.Password)
	if busy {
		att.Cancel()
		s.metrics.refused.WithLabelValues("busy").Inc()
		retryLater(w, http.StatusServiceUnavailable, 0, "busy", "The server is busy checking other sign-ins. Please try again in a moment.")
		return
	}
	if !allowed || !match {
		att.Fail()
		s.metrics.failed.Inc()
		detail := "method=password ip=" + ip
		if passwordOff {
			detail += " reason=password sign-in is off"
		}
		s.audit(r.Context(), account, "signin.failed", t.ID, detail)
		if passwordOff {
			// One answer for every refusal, so it tells nobody whether
			// the account exists, is break-glass, or had the right password.
			httpjson.Error(w, http.StatusForbidden, "password_sign_in_off", "Password sign-in is off here: use your company sign-in. (Break-glass admins: that email and password do not match.)")
			return
		}
		httpjson.Error(w, http.StatusUnauthorized, "bad_credentials", "That email and password do not match.")
		return
	}
	att.Succeed()
	csrf, err := s.Start(r.Context(), w, r, t, "password")
	if err != nil {
		httpjson.Internal(s.log, w, r, err)
		return
	}
	httpjson.Write(w, http.StatusOK, map[string]any{"technician": viewTech(t), "csrf_token": csrf})
}

// MetaPasswordLogin is "off" when only single sign-on and break-glass
// admins may sign in.
const MetaPasswordLogin = "password_login"

// MethodOIDC is the AuthMethod of an account made by single sign-on: it
// has no password.
const MethodOIDC = "oidc"

// PasswordSignInOn reports whether password sign-in is open to every
// password account, not only break-glass admins. A store failure counts
// as on: the setting only narrows who may sign in, and the password is
// still checked.
func (s *Sessions) PasswordSignInOn(ctx context.Context) bool {
	v, err := s.st.GetMeta(ctx, MetaPasswordLogin)
	return err != nil || v != "off"
}

// passwordAllowed reports whether t may sign in with a password now.
func (s *Sessions) passwordAllowed(t store.Technician, passwordOff bool) bool {
	return !t.Disabled && t.AuthMethod != MethodOIDC && (t.BreakGlass || !passwordOff)
}

// holdsSession reports whether r carries a live session of account: the
// owner signing in again from a browser already signed in is never held
// back by guesses from elsewhere.
func (s *Sessions) holdsSession(r *http.Request, account string) bool {
	ac, ok := s.Authenticate(r)
	return ok && strings.EqualFold(ac.Email, account)
}

func (s *Sessions) logout(w http.ResponseWriter, r *http.Request, ac *Actor) {
	if err := s.st.DeleteSession(r.Context(), ac.hash); err != nil {
		httpjson.Internal(s.log, w, r, err)
		return
	}
	s.closeConsoles(consolesOf(ac), "signed out")
	s.audit(r.Context(), ac.Email, "signout", ac.ID, "ip="+clientIP(r))
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true,
		Secure: s.opt.SecureCookies, SameSite: http.SameSiteStrictMode})
	w.WriteHeader(http.StatusNoContent)
}

func (s *Sessions) session(w http.ResponseWriter, r *http.Request, ac *Actor) {
	httpjson.Write(w, http.StatusOK, map[string]any{"technician": viewTech(ac.Technician), "csrf_token": ac.CSRF})
}

// checkPassword verifies a signed-in technician's current password under
// the same throttle and hashing bound as sign-in, answering when it fails.
func (s *Sessions) checkPassword(w http.ResponseWriter, r *http.Request, ac *Actor, password string) bool {
	ip, account := clientIP(r), strings.ToLower(ac.Email)
	att, wait := s.throttle.Begin(account, ip, false)
	if att == nil {
		retryLater(w, http.StatusTooManyRequests, wait, "too_many_attempts", "Too many wrong passwords. Please wait a little and try again.")
		return false
	}
	match, busy := s.hashing.check(ac.PasswordHash, password)
	switch {
	case busy:
		att.Cancel()
		retryLater(w, http.StatusServiceUnavailable, 0, "busy", "The server is busy checking other sign-ins. Please try again in a moment.")
		return false
	case !match:
		att.Fail()
		s.audit(r.Context(), ac.Email, "password.failed", ac.ID, "ip="+ip)
		httpjson.Error(w, http.StatusForbidden, "bad_current_password", "Your current password is not right.")
		return false
	}
	att.Succeed()
	return true
}
