package main

import (
	"fmt"
	"os"
	"time"

	"github.com/deskside/deskside/server/internal/sso"
)

// oidcFlags are the single sign-on flags (docs/sso.md); all unset means
// single sign-on is off.
type oidcFlags struct {
	issuer, clientID, secret, secretFile, domains, groupsClaim, roles, scopes, name *string
	timeout                                                                         *time.Duration
}

func (f flags) oidcFlags() oidcFlags {
	return oidcFlags{
		issuer:      f.str("oidc-issuer", "", "single sign-on: the identity provider's issuer URL (docs/sso.md); empty: single sign-on off"),
		clientID:    f.str("oidc-client-id", "", "single sign-on: the client (application) id registered at the provider"),
		secret:      f.str("oidc-client-secret", "", "single sign-on: the client secret (prefer --oidc-client-secret-file)"),
		secretFile:  f.str("oidc-client-secret-file", "", "single sign-on: file holding the client secret"),
		domains:     f.str("oidc-allowed-domains", "", "single sign-on: comma-separated email domains that may sign in, e.g. example.com"),
		groupsClaim: f.str("oidc-groups-claim", "groups", "single sign-on: the ID token claim that lists the user's groups"),
		roles:       f.str("oidc-roles", "", "single sign-on: group=role pairs, e.g. it-admins=admin,helpdesk=technician,it-managers=viewer"),
		scopes:      f.str("oidc-scopes", "openid,email,profile", "single sign-on: scopes to ask for (add groups for Okta)"),
		name:        f.str("oidc-button", "Sign in with your company account", "single sign-on: the sign-in button's text, e.g. \"Sign in with Okta\""),
		timeout:     f.dur("oidc-timeout", 10*time.Second, "single sign-on: how long to wait for the provider on each call"),
	}
}

// config builds the single sign-on configuration; nil when it is off.
// The redirect URI is publicURL + sso.CallbackPath.
func (o oidcFlags) config(publicURL string) (*sso.Config, error) {
	if *o.issuer == "" {
		return nil, nil
	}
	secret := *o.secret
	if *o.secretFile != "" {
		b, err := os.ReadFile(*o.secretFile)
		if err != nil {
			return nil, fmt.Errorf("--oidc-client-secret-file: %w", err)
		}
		secret = string(trimNewline(b))
	}
	roles, err := sso.ParseRoles(*o.roles)
	if err != nil {
		return nil, fmt.Errorf("--oidc-roles: %w", err)
	}
	return &sso.Config{Issuer: *o.issuer, ClientID: *o.clientID, ClientSecret: secret, PublicURL: publicURL,
		Scopes: sso.SplitList(*o.scopes), AllowedDomains: sso.SplitList(*o.domains), GroupsClaim: *o.groupsClaim,
		Roles: roles, DisplayName: *o.name, Timeout: *o.timeout}, nil
}

func trimNewline(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	return b
}
