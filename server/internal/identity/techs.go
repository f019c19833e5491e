package identity

import (
	"errors"
	"net/http"
	"net/mail"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/deskside/deskside/server/internal/auth"
	"github.com/deskside/deskside/server/internal/httpjson"
	"github.com/deskside/deskside/server/internal/store"
)

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

// Field limits; far above real names, far below what hurts.
const (
	maxEmail    = 254
	maxName     = 100
	maxGreeting = 500
	maxPassword = 256 // argon2id reads all of it; a megabyte password is a cost, not a secret
)

func checkTech(email, name, role string) error {
	email, name = strings.TrimSpace(email), strings.TrimSpace(name)
	if _, err := mail.ParseAddress(email); err != nil || !strings.Contains(email, "@") || len(email) > maxEmail {
		return errors.New("the email address does not look right")
	}
	if name == "" {
		return errors.New("please give a name; users see it")
	}
	if len(name) > maxName {
		return errors.New("the name is too long (100 characters at most)")
	}
	if !ValidRole(role) {
		return errors.New("the role must be admin, technician or viewer")
	}
	return nil
}

// NewTechnician checks the fields and builds an account (used by the API
// and by `deskside-server admin create`).
func NewTechnician(email, name, password, role string) (store.Technician, error) {
	if role == "" {
		role = RoleTechnician
	}
	if err := checkTech(email, name, role); err != nil {
		return store.Technician{}, err
	}
	if len(password) > maxPassword {
		return store.Technician{}, errors.New("the password is too long (256 characters at most)")
	}
	hash, err := auth.HashPassword(password)
	if err != nil {
		return store.Technician{}, err
	}
	return store.Technician{ID: "tech_" + uuid.NewString(), Email: strings.TrimSpace(email), Name: strings.TrimSpace(name),
		Role: role, PasswordHash: hash, CreatedAt: time.Now().UTC()}, nil
}

func (s *Sessions) patchMe(w http.ResponseWriter, r *http.Request, ac *Actor) {
	var in struct {
		Name, Greeting  *string
		Password        *string
		CurrentPassword *string `json:"current_password"`
	}
	if !decode(w, r, &in) {
		return
	}
	t := ac.Technician
	if msg := setProfile(&t, in.Name, in.Greeting); msg != "" {
		httpjson.Error(w, http.StatusBadRequest, "bad_body", msg)
		return
	}
	if in.Password != nil {
		if len(*in.Password) > maxPassword {
			httpjson.Error(w, http.StatusBadRequest, "bad_body", "The password is too long (256 characters at most).")
			return
		}
		// A stolen session must not be enough to take the account over.
		if in.CurrentPassword == nil || *in.CurrentPassword == "" {
			httpjson.Error(w, http.StatusBadRequest, "current_password_needed", "To change your password, give your current one as well.")
			return
		}
		if !s.checkPassword(w, r, ac, *in.CurrentPassword) {
			return
		}
		h, busy, err := s.hashing.hash(*in.Password)
		switch {
		case busy:
			retryLater(w, http.StatusServiceUnavailable, 0, "busy", "The server is busy checking other sign-ins. Please try again in a moment.")
			return
		case err != nil:
			httpjson.Error(w, http.StatusBadRequest, "bad_body", capitalise(err.Error())+".")
			return
		}
		t.PasswordHash = h
	}
	if err := s.st.UpdateTechnician(r.Context(), t); err != nil {
		httpjson.StoreError(s.log, w, r, err, "technician")
		return
	}
	if in.Password != nil {
		s.audit(r.Context(), ac.Email, "password.change", t.ID, "ip="+clientIP(r))
		if err := s.End(r.Context(), ac.Email, t, ac, "password changed"); err != nil {
			httpjson.Internal(s.log, w, r, err)
			return
		}
	}
	httpjson.Write(w, http.StatusOK, viewTech(t))
}

func (s *Sessions) listTechs(w http.ResponseWriter, r *http.Request, _ *Actor) {
	ts, err := s.st.ListTechnicians(r.Context())
	if err != nil {
		httpjson.Internal(s.log, w, r, err)
		return
	}
	out := make([]techView, 0, len(ts))
	for _, t := range ts {
		out = append(out, viewTech(t))
	}
	httpjson.Write(w, http.StatusOK, map[string]any{"technicians": out})
}

func (s *Sessions) createTech(w http.ResponseWriter, r *http.Request, ac *Actor) {
	var in newTech
	if !decode(w, r, &in) {
		return
	}
	t, err := NewTechnician(in.Email, in.Name, in.Password, in.Role)
	if err != nil {
		httpjson.Error(w, http.StatusBadRequest, "bad_body", capitalise(err.Error())+".")
		return
	}
	if err := s.st.CreateTechnician(r.Context(), t); err != nil {
		httpjson.StoreError(s.log, w, r, err, "technician")
		return
	}
	s.audit(r.Context(), ac.Email, "technician.create", t.ID, t.Email+" as "+t.Role)
	httpjson.Write(w, http.StatusCreated, viewTech(t))
}

func (s *Sessions) patchTech(w http.ResponseWriter, r *http.Request, ac *Actor) {
	var in struct {
		Role, Name, Greeting *string
		Disabled             *bool
	}
	if !decode(w, r, &in) {
		return
	}
	t, err := s.st.Technician(r.Context(), r.PathValue("id"))
	if err != nil {
		httpjson.StoreError(s.log, w, r, err, "technician")
		return
	}
	before := t
	if in.Role != nil {
		if !ValidRole(*in.Role) {
			httpjson.Error(w, http.StatusBadRequest, "bad_body", "The role must be admin, technician or viewer.")
			return
		}
		t.Role = *in.Role
	}
	if msg := setProfile(&t, in.Name, in.Greeting); msg != "" {
		httpjson.Error(w, http.StatusBadRequest, "bad_body", msg)
		return
	}
	if in.Disabled != nil {
		t.Disabled = *in.Disabled
	}
	if err := s.st.UpdateTechnician(r.Context(), t); err != nil {
		httpjson.StoreError(s.log, w, r, err, "technician")
		return
	}
	s.audit(r.Context(), ac.Email, "technician.update", t.ID, "role="+t.Role)
	if t.Role != before.Role {
		s.audit(r.Context(), ac.Email, "role.change", t.ID, t.Email+": "+before.Role+" → "+t.Role)
	}
	if t.Disabled != before.Disabled {
		s.audit(r.Context(), ac.Email, map[bool]string{true: "technician.disable", false: "technician.enable"}[t.Disabled], t.ID, t.Email)
	}
	// A changed role or a disabled account takes effect now, not when the
	// sessions expire: they end, and their consoles close.
	if (t.Role != before.Role) || (t.Disabled && !before.Disabled) {
		var keep *Actor
		if t.ID == ac.ID {
			keep = ac
		}
		why := "role changed to " + t.Role
		if t.Disabled && !before.Disabled {
			why = "account disabled"
		}
		if err := s.End(r.Context(), ac.Email, t, keep, why); err != nil {
			httpjson.Internal(s.log, w, r, err)
			return
		}
	}
	httpjson.Write(w, http.StatusOK, viewTech(t))
}

// putBreakGlass marks or unmarks an admin who signs in with a password as
// a way in when single sign-on is broken (see PasswordSignInOn).
func (s *Sessions) putBreakGlass(w http.ResponseWriter, r *http.Request, ac *Actor) {
	var in struct {
		BreakGlass *bool `json:"break_glass"`
	}
	if !decode(w, r, &in) {
		return
	}
	if in.BreakGlass == nil {
		httpjson.Error(w, http.StatusBadRequest, "bad_body", "Say break_glass: true or false.")
		return
	}
	t, err := s.st.Technician(r.Context(), r.PathValue("id"))
	if err != nil {
		httpjson.StoreError(s.log, w, r, err, "technician")
		return
	}
	if *in.BreakGlass && (t.AuthMethod == MethodOIDC || t.Role != RoleAdmin) {
		httpjson.Error(w, http.StatusBadRequest, "bad_body", "Only an admin who signs in with a password can be a break-glass account.")
		return
	}
	t.BreakGlass = *in.BreakGlass
	if err := s.st.UpdateTechnician(r.Context(), t); err != nil {
		httpjson.StoreError(s.log, w, r, err, "technician")
		return
	}
	s.audit(r.Context(), ac.Email, "technician.break-glass", t.ID, strconv.FormatBool(t.BreakGlass))
	httpjson.Write(w, http.StatusOK, viewTech(t))
}

// setProfile applies a new name and greeting (nil: unchanged; a blank name
// is ignored) to t, or returns the sentence saying which one is too long.
func setProfile(t *store.Technician, name, greeting *string) string {
	if name != nil && strings.TrimSpace(*name) != "" {
		if len(strings.TrimSpace(*name)) > maxName {
			return "The name is too long (100 characters at most)."
		}
		t.Name = strings.TrimSpace(*name)
	}
	if greeting != nil {
		if len(*greeting) > maxGreeting {
			return "The greeting is too long (500 characters at most)."
		}
		t.Greeting = strings.TrimSpace(*greeting)
	}
	return ""
}
