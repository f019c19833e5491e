package identity

import (
	"errors"
	"net/http"
	"strings"

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
		s.internal(w, r, err)
		return
	}
	// An unknown email is checked against a dummy hash of the same cost,
	// so the answer takes as long as for a real account.
	hash := s.dummy
	if err == nil {
		hash = t.PasswordHash
	}
	match, busy := s.hashing.check(hash, in.Password)
	if busy {
		att.Cancel()
		s.metrics.refused.WithLabelValues("busy").Inc()
		retryLater(w, http.StatusServiceUnavailable, 0, "busy", "The server is busy checking other sign-ins. Please try again in a moment.")
		return
	}
	if err != nil || t.Disabled || !match {
		att.Fail()
		s.metrics.failed.Inc()
		s.audit(r.Context(), account, "signin.failed", t.ID, "ip="+ip)
		writeErr(w, http.StatusUnauthorized, "bad_credentials", "That email and password do not match.")
		return
	}
	att.Succeed()
	csrf, err := s.Start(r.Context(), w, r, t, "password")
	if err != nil {
		s.internal(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"technician": viewTech(t), "csrf_token": csrf})
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
		s.internal(w, r, err)
		return
	}
	s.closeConsoles(consolesOf(ac), "signed out")
	s.audit(r.Context(), ac.Email, "signout", ac.ID, "ip="+clientIP(r))
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true,
		Secure: s.opt.SecureCookies, SameSite: http.SameSiteStrictMode})
	w.WriteHeader(http.StatusNoContent)
}

func (s *Sessions) session(w http.ResponseWriter, r *http.Request, ac *Actor) {
	writeJSON(w, http.StatusOK, map[string]any{"technician": viewTech(ac.Technician), "csrf_token": ac.CSRF})
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
		writeErr(w, http.StatusForbidden, "bad_current_password", "Your current password is not right.")
		return false
	}
	att.Succeed()
	return true
}
