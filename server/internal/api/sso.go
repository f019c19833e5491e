package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/deskside/deskside/server/internal/sso"
	"github.com/deskside/deskside/server/internal/store"
)

// MetaPasswordLogin is "off" when only single sign-on and the break-glass
// admins may sign in.
const MetaPasswordLogin = "password_login"

// ssoRoutes mounts single sign-on (when configured), the public list of
// sign-in methods and the admin's sign-in settings.
func (a *API) ssoRoutes(m *http.ServeMux) error {
	if a.opt.SSO != nil {
		svc, err := sso.New(*a.opt.SSO, ssoAccounts{a}, a.log)
		if err != nil { // app checked the configuration already
			return fmt.Errorf("single sign-on: %w", err)
		}
		a.sso = svc
		m.Handle("GET /api/v1/auth/oidc/", svc.Handler())
	}
	m.HandleFunc("GET /api/v1/auth/methods", a.authMethods)
	m.HandleFunc("GET /api/v1/settings/sign-in", a.tech(a.signInSettings, true))
	m.HandleFunc("PUT /api/v1/settings/sign-in", a.tech(a.putSignInSettings, true))
	m.HandleFunc("PUT /api/v1/technicians/{id}/break-glass", a.tech(a.putBreakGlass, true))
	return nil
}

// passwordLoginOn reports whether password sign-in is open to everyone (not
// only break-glass admins). A store failure counts as on: the setting only
// narrows who may sign in, and the password is still checked.
func (a *API) passwordLoginOn(ctx context.Context) bool {
	v, err := a.st.GetMeta(ctx, MetaPasswordLogin)
	return err != nil || v != "off"
}

// passwordAllowed reports whether t may sign in with a password now.
func (a *API) passwordAllowed(ctx context.Context, t store.Technician) bool {
	return t.AuthMethod != "oidc" && (t.BreakGlass || a.passwordLoginOn(ctx))
}

func (a *API) authMethods(w http.ResponseWriter, r *http.Request) {
	out := map[string]any{"password": a.passwordLoginOn(r.Context()), "oidc": nil}
	if a.sso != nil {
		out["oidc"] = map[string]string{"name": a.sso.DisplayName(), "start": sso.StartPath}
	}
	writeJSON(w, http.StatusOK, out)
}

func (a *API) signInSettings(w http.ResponseWriter, r *http.Request, _ *actor) {
	writeJSON(w, http.StatusOK, map[string]bool{"password_login": a.passwordLoginOn(r.Context()), "oidc": a.sso != nil})
}

func (a *API) putSignInSettings(w http.ResponseWriter, r *http.Request, ac *actor) {
	var in struct {
		PasswordLogin *bool `json:"password_login"`
	}
	if !decode(w, r, &in) {
		return
	}
	if in.PasswordLogin == nil {
		writeErr(w, http.StatusBadRequest, "bad_body", "Say password_login: true or false.")
		return
	}
	if !*in.PasswordLogin && a.sso == nil {
		writeErr(w, http.StatusBadRequest, "no_sso", "Set up single sign-on first (docs/sso.md); otherwise only break-glass admins could sign in.")
		return
	}
	v := "on"
	if !*in.PasswordLogin {
		v = "off"
	}
	if err := a.st.SetMeta(r.Context(), MetaPasswordLogin, v); err != nil {
		a.internal(w, r, err)
		return
	}
	a.audit(r.Context(), ac.Email, "settings.sign-in", "password_login", v)
	a.signInSettings(w, r, ac)
}

func (a *API) putBreakGlass(w http.ResponseWriter, r *http.Request, ac *actor) {
	var in struct {
		BreakGlass *bool `json:"break_glass"`
	}
	if !decode(w, r, &in) {
		return
	}
	if in.BreakGlass == nil {
		writeErr(w, http.StatusBadRequest, "bad_body", "Say break_glass: true or false.")
		return
	}
	t, err := a.st.Technician(r.Context(), r.PathValue("id"))
	if err != nil {
		a.storeErr(w, r, err, "technician")
		return
	}
	if *in.BreakGlass && (t.AuthMethod == "oidc" || t.Role != "admin") {
		writeErr(w, http.StatusBadRequest, "bad_body", "Only an admin who signs in with a password can be a break-glass account.")
		return
	}
	t.BreakGlass = *in.BreakGlass
	if err := a.st.UpdateTechnician(r.Context(), t); err != nil {
		a.storeErr(w, r, err, "technician")
		return
	}
	a.audit(r.Context(), ac.Email, "technician.break-glass", t.ID, fmt.Sprint(t.BreakGlass))
	writeJSON(w, http.StatusOK, viewTech(t))
}

// ssoAccounts is what single sign-on does to accounts and sessions here.
// The identity package will take this job over; sso sees only the
// interface.
type ssoAccounts struct{ a *API }

var _ sso.Accounts = ssoAccounts{}

// SignIn implements sso.Accounts.
func (s ssoAccounts) SignIn(ctx context.Context, w http.ResponseWriter, id sso.Identity, ip string) error {
	a := s.a
	t, err := a.st.TechnicianByExternalID(ctx, id.ExternalID)
	if errors.Is(err, store.ErrNotFound) {
		t, err = a.st.TechnicianByEmail(ctx, id.Email)
		if err == nil && t.ExternalID != "" {
			return fmt.Errorf("%s is linked to another company account: %w", id.Email, sso.ErrRefused)
		}
	}
	switch {
	case errors.Is(err, store.ErrNotFound):
		name := id.Name
		if name == "" {
			name, _, _ = strings.Cut(id.Email, "@")
		}
		t = store.Technician{ID: "tech_" + uuid.NewString(), Email: id.Email, Name: name, Role: id.Role,
			AuthMethod: "oidc", ExternalID: id.ExternalID, CreatedAt: time.Now().UTC()}
		if err := a.st.CreateTechnician(ctx, t); err != nil {
			return fmt.Errorf("create technician %s: %w", id.Email, err)
		}
		a.audit(ctx, t.Email, "technician.create", t.ID, t.Email+" as "+t.Role+" (single sign-on)")
	case err != nil:
		return err
	case t.Disabled:
		return fmt.Errorf("%s is disabled: %w", t.Email, sso.ErrRefused)
	default:
		// A password account with this email becomes the company account's:
		// the provider verified the email, in a domain the admin allowed.
		// A break-glass admin keeps its password.
		was := t
		t.Role, t.ExternalID = id.Role, id.ExternalID
		if !t.BreakGlass {
			t.AuthMethod = "oidc"
		}
		if was.Role != t.Role {
			a.audit(ctx, "oidc", "technician.update", t.ID, "role="+t.Role+" (was "+was.Role+", from the company's groups)")
		}
		if t != was {
			if err := a.st.UpdateTechnician(ctx, t); err != nil {
				return err
			}
		}
	}
	if _, err := a.startSession(ctx, w, t); err != nil {
		return err
	}
	a.audit(ctx, t.Email, "login", t.ID, "method=oidc ip="+ip)
	return nil
}

// Refuse implements sso.Accounts.
func (s ssoAccounts) Refuse(ctx context.Context, id sso.Identity, ip, reason string, endSessions bool) error {
	a := s.a
	who := id.Email
	if who == "" {
		who = "(unknown)"
	}
	a.audit(ctx, who, "login.failed", id.ExternalID, "method=oidc ip="+ip+" reason="+reason)
	if !endSessions {
		return nil
	}
	t, err := a.st.TechnicianByExternalID(ctx, id.ExternalID)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := a.st.DeleteTechnicianSessions(ctx, t.ID); err != nil {
		return err
	}
	a.audit(ctx, "oidc", "session.revoke", t.ID, "all sessions: "+reason)
	return nil
}
