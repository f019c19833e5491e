package api

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/mail"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/deskside/deskside/server/internal/auth"
	"github.com/deskside/deskside/server/internal/store"
)

// SessionCookie names the technician session cookie.
const SessionCookie = "deskside_session"

// MetaSetupTokenHash is where the one-time setup token's hash lives.
const MetaSetupTokenHash = "setup_token_hash"

// actor is the signed-in technician behind a request.
type actor struct {
	store.Technician
	csrf string
	hash []byte
}

// tech wraps a handler with session auth, the CSRF check on state-changing
// methods and, when admin is set, the admin role check.
func (a *API) tech(h func(http.ResponseWriter, *http.Request, *actor), admin bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ac, ok := a.authenticate(r)
		if !ok {
			writeErr(w, http.StatusUnauthorized, "signed_out", "Please sign in.")
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead && !auth.Equal([]byte(r.Header.Get("X-CSRF-Token")), []byte(ac.csrf)) {
			writeErr(w, http.StatusForbidden, "csrf", "This action is missing its security token; reload the page and try again.")
			return
		}
		if admin && ac.Role != "admin" {
			writeErr(w, http.StatusForbidden, "forbidden", "Only an admin can do this.")
			return
		}
		h(w, r, ac)
	}
}

func (a *API) authenticate(r *http.Request) (*actor, bool) {
	c, err := r.Cookie(SessionCookie)
	if err != nil || c.Value == "" {
		return nil, false
	}
	hash := auth.Hash(c.Value)
	se, err := a.st.Session(r.Context(), hash)
	if err != nil || time.Now().After(se.ExpiresAt) {
		return nil, false
	}
	t, err := a.st.Technician(r.Context(), se.TechnicianID)
	if err != nil || t.Disabled {
		return nil, false
	}
	return &actor{Technician: t, csrf: se.CSRF, hash: hash}, true
}

// startSession signs t in: a cookie for the browser, a CSRF token for forms.
func (a *API) startSession(ctx context.Context, w http.ResponseWriter, t store.Technician) (string, error) {
	secret, csrf := auth.RandomToken(32), auth.RandomToken(32)
	exp := time.Now().Add(a.opt.SessionTTL)
	if err := a.st.CreateSession(ctx, auth.Hash(secret), store.Session{TechnicianID: t.ID, CSRF: csrf, ExpiresAt: exp}); err != nil {
		return "", err
	}
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: secret, Path: "/", Expires: exp, HttpOnly: true,
		Secure: a.opt.SecureCookies, SameSite: http.SameSiteStrictMode})
	return csrf, nil
}

type techView struct {
	ID        string    `json:"id"`
	Email     string    `json:"email"`
	Name      string    `json:"name"`
	Greeting  string    `json:"greeting"`
	Role      string    `json:"role"`
	Disabled  bool      `json:"disabled"`
	CreatedAt time.Time `json:"created_at"`
	// AuthMethod is "password" or "oidc"; BreakGlass marks the local
	// admin who may use a password when password sign-in is off.
	AuthMethod string `json:"auth_method"`
	BreakGlass bool   `json:"break_glass"`
}

func viewTech(t store.Technician) techView {
	method := t.AuthMethod
	if method == "" {
		method = "password"
	}
	return techView{t.ID, t.Email, t.Name, t.Greeting, t.Role, t.Disabled, t.CreatedAt, method, t.BreakGlass}
}

type newTech struct {
	SetupToken string `json:"setup_token,omitempty"`
	Email      string `json:"email"`
	Name       string `json:"name"`
	Password   string `json:"password"`
	Role       string `json:"role,omitempty"`
}

// NewTechnician checks the fields and builds an account (used by the API
// and by `server admin create`).
func NewTechnician(email, name, password, role string) (store.Technician, error) {
	email, name = strings.TrimSpace(email), strings.TrimSpace(name)
	if _, err := mail.ParseAddress(email); err != nil || !strings.Contains(email, "@") {
		return store.Technician{}, errors.New("the email address does not look right")
	}
	if name == "" {
		return store.Technician{}, errors.New("please give a name; users see it")
	}
	if role == "" {
		role = "technician"
	}
	if role != "technician" && role != "admin" {
		return store.Technician{}, errors.New("the role must be technician or admin")
	}
	hash, err := auth.HashPassword(password)
	if err != nil {
		return store.Technician{}, err
	}
	return store.Technician{ID: "tech_" + uuid.NewString(), Email: email, Name: name, Role: role,
		PasswordHash: hash, CreatedAt: time.Now().UTC()}, nil
}

func (a *API) setup(w http.ResponseWriter, r *http.Request) {
	var in newTech
	if !decode(w, r, &in) {
		return
	}
	want, err := a.st.GetMeta(r.Context(), MetaSetupTokenHash)
	if err != nil {
		a.internal(w, r, err)
		return
	}
	if want == "" || !auth.Equal([]byte(want), []byte(hashHex(in.SetupToken))) {
		writeErr(w, http.StatusUnauthorized, "bad_setup_token", "This setup link has been used already or is not right. Ask whoever runs the server, or use `server admin create`.")
		return
	}
	t, err := NewTechnician(in.Email, in.Name, in.Password, "admin")
	if err != nil {
		writeErr(w, http.StatusBadRequest, "bad_body", capitalise(err.Error())+".")
		return
	}
	t.BreakGlass = true // the way in when single sign-on is broken
	if err := a.st.CreateTechnician(r.Context(), t); err != nil {
		a.storeErr(w, r, err, "technician")
		return
	}
	if err := a.st.SetMeta(r.Context(), MetaSetupTokenHash, ""); err != nil {
		a.internal(w, r, err)
		return
	}
	if _, err := a.startSession(r.Context(), w, t); err != nil {
		a.internal(w, r, err)
		return
	}
	a.audit(r.Context(), t.Email, "setup", t.ID, "first admin created")
	writeJSON(w, http.StatusCreated, viewTech(t))
}

func (a *API) login(w http.ResponseWriter, r *http.Request) {
	var in struct{ Email, Password string }
	if !decode(w, r, &in) {
		return
	}
	host, _, _ := net.SplitHostPort(r.RemoteAddr)
	key := strings.ToLower(strings.TrimSpace(in.Email))
	if a.logins.Allow(key) != nil || a.logins.Allow(host) != nil {
		writeErr(w, http.StatusTooManyRequests, "too_many_attempts", "Too many sign-in attempts. Please wait a few minutes and try again.")
		return
	}
	t, err := a.st.TechnicianByEmail(r.Context(), key)
	if err != nil || t.Disabled || !auth.CheckPassword(t.PasswordHash, in.Password) {
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			a.internal(w, r, err)
			return
		}
		a.logins.Fail(key)
		a.logins.Fail(host)
		writeErr(w, http.StatusUnauthorized, "bad_credentials", "That email and password do not match.")
		return
	}
	if !a.passwordAllowed(r.Context(), t) {
		a.audit(r.Context(), t.Email, "login.failed", t.ID, "method=password ip="+host+" reason=password sign-in is off")
		writeErr(w, http.StatusForbidden, "password_sign_in_off", "Password sign-in is off here: use your company sign-in.")
		return
	}
	a.logins.Reset(key)
	csrf, err := a.startSession(r.Context(), w, t)
	if err != nil {
		a.internal(w, r, err)
		return
	}
	a.audit(r.Context(), t.Email, "login", t.ID, "method=password ip="+host)
	writeJSON(w, http.StatusOK, map[string]any{"technician": viewTech(t), "csrf_token": csrf})
}

func (a *API) logout(w http.ResponseWriter, r *http.Request, ac *actor) {
	if err := a.st.DeleteSession(r.Context(), ac.hash); err != nil {
		a.internal(w, r, err)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true,
		Secure: a.opt.SecureCookies, SameSite: http.SameSiteStrictMode})
	w.WriteHeader(http.StatusNoContent)
}

func (a *API) session(w http.ResponseWriter, r *http.Request, ac *actor) {
	writeJSON(w, http.StatusOK, map[string]any{"technician": viewTech(ac.Technician), "csrf_token": ac.csrf})
}

func (a *API) patchMe(w http.ResponseWriter, r *http.Request, ac *actor) {
	var in struct {
		Name, Greeting *string
		Password       *string
	}
	if !decode(w, r, &in) {
		return
	}
	t := ac.Technician
	if in.Name != nil && trimmed(*in.Name) != "" {
		t.Name = trimmed(*in.Name)
	}
	if in.Greeting != nil {
		t.Greeting = trimmed(*in.Greeting)
	}
	if in.Password != nil {
		h, err := auth.HashPassword(*in.Password)
		if err != nil {
			writeErr(w, http.StatusBadRequest, "bad_body", capitalise(err.Error())+".")
			return
		}
		t.PasswordHash = h
	}
	if err := a.st.UpdateTechnician(r.Context(), t); err != nil {
		a.storeErr(w, r, err, "technician")
		return
	}
	writeJSON(w, http.StatusOK, viewTech(t))
}

func (a *API) listTechs(w http.ResponseWriter, r *http.Request, _ *actor) {
	ts, err := a.st.ListTechnicians(r.Context())
	if err != nil {
		a.internal(w, r, err)
		return
	}
	out := make([]techView, 0, len(ts))
	for _, t := range ts {
		out = append(out, viewTech(t))
	}
	writeJSON(w, http.StatusOK, map[string]any{"technicians": out})
}

func (a *API) createTech(w http.ResponseWriter, r *http.Request, ac *actor) {
	var in newTech
	if !decode(w, r, &in) {
		return
	}
	t, err := NewTechnician(in.Email, in.Name, in.Password, in.Role)
	if err != nil {
		writeErr(w, http.StatusBadRequest, "bad_body", capitalise(err.Error())+".")
		return
	}
	if err := a.st.CreateTechnician(r.Context(), t); err != nil {
		a.storeErr(w, r, err, "technician")
		return
	}
	a.audit(r.Context(), ac.Email, "technician.create", t.ID, t.Email+" as "+t.Role)
	writeJSON(w, http.StatusCreated, viewTech(t))
}

func (a *API) patchTech(w http.ResponseWriter, r *http.Request, ac *actor) {
	var in struct {
		Role, Name, Greeting *string
		Disabled             *bool
	}
	if !decode(w, r, &in) {
		return
	}
	t, err := a.st.Technician(r.Context(), r.PathValue("id"))
	if err != nil {
		a.storeErr(w, r, err, "technician")
		return
	}
	if in.Role != nil {
		if *in.Role != "admin" && *in.Role != "technician" {
			writeErr(w, http.StatusBadRequest, "bad_body", "The role must be technician or admin.")
			return
		}
		t.Role = *in.Role
	}
	if in.Name != nil && trimmed(*in.Name) != "" {
		t.Name = trimmed(*in.Name)
	}
	if in.Greeting != nil {
		t.Greeting = trimmed(*in.Greeting)
	}
	if in.Disabled != nil {
		t.Disabled = *in.Disabled
	}
	if err := a.st.UpdateTechnician(r.Context(), t); err != nil {
		a.storeErr(w, r, err, "technician")
		return
	}
	a.audit(r.Context(), ac.Email, "technician.update", t.ID, "role="+t.Role)
	writeJSON(w, http.StatusOK, viewTech(t))
}

func capitalise(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
