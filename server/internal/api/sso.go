package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/deskside/deskside/server/internal/httpjson"
	"github.com/deskside/deskside/server/internal/identity"
	"github.com/deskside/deskside/server/internal/sso"
	"github.com/deskside/deskside/server/internal/store"
)

// oidc serves the single sign-on flow (sso.StartPath, sso.CallbackPath).
// The routes are in the table whether or not single sign-on is set up, so
// the role matrix sees them; without it they say so.
func (a *API) oidc(w http.ResponseWriter, r *http.Request) {
	if a.sso == nil {
		httpjson.Error(w, http.StatusNotFound, "sso_off", "Single sign-on is not set up on this server (docs/sso.md).")
		return
	}
	a.ssoFlow.ServeHTTP(w, r)
}

func (a *API) authMethods(w http.ResponseWriter, r *http.Request) {
	out := map[string]any{"password": a.ids.PasswordSignInOn(r.Context()), "oidc": nil}
	if a.sso != nil {
		out["oidc"] = map[string]string{"name": a.sso.DisplayName(), "start": sso.StartPath}
	}
	httpjson.Write(w, http.StatusOK, out)
}

func (a *API) signInSettings(w http.ResponseWriter, r *http.Request, _ *actor) {
	httpjson.Write(w, http.StatusOK, map[string]bool{"password_login": a.ids.PasswordSignInOn(r.Context()), "oidc": a.sso != nil})
}

func (a *API) putSignInSettings(w http.ResponseWriter, r *http.Request, ac *actor) {
	var in struct {
		PasswordLogin *bool `json:"password_login"`
	}
	if !decode(w, r, &in) {
		return
	}
	if in.PasswordLogin == nil {
		httpjson.Error(w, http.StatusBadRequest, "bad_body", "Say password_login: true or false.")
		return
	}
	if !*in.PasswordLogin && a.sso == nil {
		httpjson.Error(w, http.StatusBadRequest, "no_sso", "Set up single sign-on first (docs/sso.md); otherwise only break-glass admins could sign in.")
		return
	}
	v := "on"
	if !*in.PasswordLogin {
		v = "off"
	}
	if err := a.st.SetMeta(r.Context(), identity.MetaPasswordLogin, v); err != nil {
		httpjson.Internal(a.log, w, r, err)
		return
	}
	a.audit(r.Context(), ac.Email, "settings.sign-in", "password_login", v)
	a.signInSettings(w, r, ac)
}

// ssoAccounts is what single sign-on does to accounts and sessions here:
// the accounts in the store, sessions started and ended by identity.
type ssoAccounts struct{ a *API }

var _ sso.Accounts = ssoAccounts{}

// SignIn implements sso.Accounts.
func (s ssoAccounts) SignIn(w http.ResponseWriter, r *http.Request, id sso.Identity) error {
	a, ctx := s.a, r.Context()
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
		if t, err = a.linkAccount(ctx, t, id); err != nil {
			return err
		}
	}
	if _, err := a.ids.Start(ctx, w, r, t, "oidc"); err != nil {
		return fmt.Errorf("start session of %s: %w", t.Email, err)
	}
	return nil
}

// linkAccount brings an existing account up to date with the provider.
// A password account with this email becomes the company account's: the
// provider verified the email, in a domain the admin allowed. A
// break-glass admin keeps its password. A changed role ends the account's
// other sessions and closes their consoles, as an admin's change does.
func (a *API) linkAccount(ctx context.Context, was store.Technician, id sso.Identity) (store.Technician, error) {
	t := was
	t.Role, t.ExternalID = id.Role, id.ExternalID
	if !t.BreakGlass {
		t.AuthMethod = "oidc"
	}
	if t == was {
		return t, nil
	}
	if err := a.st.UpdateTechnician(ctx, t); err != nil {
		return t, err
	}
	if was.Role == t.Role {
		return t, nil
	}
	a.audit(ctx, "oidc", "role.change", t.ID, t.Email+": "+was.Role+" → "+t.Role+" (from the company's groups)")
	return t, a.ids.End(ctx, "oidc", t, nil, "role changed to "+t.Role)
}

// Refuse implements sso.Accounts.
func (s ssoAccounts) Refuse(ctx context.Context, id sso.Identity, ip, reason string, endSessions bool) error {
	a := s.a
	who := id.Email
	if who == "" {
		who = "(unknown)"
	}
	a.audit(ctx, who, "signin.failed", id.ExternalID, "method=oidc ip="+ip+" reason="+reason)
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
	// identity ends the sessions and closes their console sockets too.
	return a.ids.End(ctx, "oidc", t, nil, reason)
}
