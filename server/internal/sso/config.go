package sso

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Config is how the server meets the company's identity provider. The
// server's flags fill it (--oidc-issuer and friends; docs/sso.md).
type Config struct {
	// Issuer is the provider's issuer URL, e.g.
	// https://login.microsoftonline.com/<tenant>/v2.0. Discovery fetches
	// <Issuer>/.well-known/openid-configuration and nothing else the
	// configuration did not name; the document must name the same issuer.
	Issuer       string
	ClientID     string
	ClientSecret string
	// PublicURL is the server's base URL as browsers reach it
	// (https://help.example.com); the redirect URI registered at the
	// provider is PublicURL + CallbackPath. "": taken from each request.
	PublicURL string
	// Scopes asked for; default openid, email, profile. Add "groups" where
	// the provider needs it for the groups claim (Okta).
	Scopes []string
	// AllowedDomains are the email domains that may sign in (at least one).
	AllowedDomains []string
	// GroupsClaim names the ID token claim listing the user's groups
	// (default "groups"; Keycloak with a mapper, Okta, Entra ID).
	GroupsClaim string
	// Roles maps a group to a role: admin, technician or viewer. A user in
	// several mapped groups gets the strongest role; in none, no entry.
	Roles map[string]string
	// DisplayName is the button's text, e.g. "Sign in with Okta".
	DisplayName string
	// Timeout bounds each call to the provider (discovery, token, keys);
	// default 10 s. A provider slower than that gets the friendly page.
	Timeout time.Duration
	// Client makes the calls to the provider; default a plain client with
	// Timeout. Tests pass one that trusts their provider's certificate.
	Client *http.Client
	// Now is the clock that token expiry is checked against (tests).
	Now func() time.Time
}

// Roles, strongest first.
var roleRank = map[string]int{"admin": 3, "technician": 2, "viewer": 1}

// ParseRoles reads "group=role,group=role" (the --oidc-roles flag).
func ParseRoles(s string) (map[string]string, error) {
	out := map[string]string{}
	for _, pair := range SplitList(s) {
		group, role, ok := strings.Cut(pair, "=")
		group, role = strings.TrimSpace(group), strings.ToLower(strings.TrimSpace(role))
		if !ok || group == "" {
			return nil, fmt.Errorf("role mapping %q: want group=role", pair)
		}
		if roleRank[role] == 0 {
			return nil, fmt.Errorf("role mapping %q: the role must be admin, technician or viewer", pair)
		}
		out[group] = role
	}
	return out, nil
}

// SplitList splits a comma-separated flag value, dropping blanks.
func SplitList(s string) []string {
	var out []string
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// Check fills defaults and refuses a configuration that cannot work or
// would let the wrong people in. The server calls it at start, so a wrong
// flag stops it there rather than at the first sign-in.
func (c *Config) Check() error {
	c.Issuer = strings.TrimSpace(c.Issuer)
	if c.Issuer == "" || c.ClientID == "" {
		return errors.New("single sign-on needs --oidc-issuer and --oidc-client-id")
	}
	if err := checkURL("--oidc-issuer", c.Issuer); err != nil {
		return err
	}
	if c.PublicURL != "" {
		if err := checkURL("--public-url", c.PublicURL); err != nil {
			return err
		}
		c.PublicURL = strings.TrimRight(c.PublicURL, "/")
	}
	if len(c.AllowedDomains) == 0 {
		return errors.New("single sign-on needs --oidc-allowed-domains: the email domains that may sign in")
	}
	for i, d := range c.AllowedDomains {
		c.AllowedDomains[i] = strings.ToLower(strings.TrimPrefix(strings.TrimSpace(d), "@"))
	}
	if len(c.Roles) == 0 {
		return errors.New("single sign-on needs --oidc-roles, e.g. it-admins=admin,helpdesk=technician")
	}
	for g, r := range c.Roles {
		if roleRank[r] == 0 {
			return fmt.Errorf("role of group %q is %q: it must be admin, technician or viewer", g, r)
		}
	}
	if len(c.Scopes) == 0 {
		c.Scopes = []string{"openid", "email", "profile"}
	}
	if !contains(c.Scopes, "openid") {
		c.Scopes = append([]string{"openid"}, c.Scopes...)
	}
	if c.GroupsClaim == "" {
		c.GroupsClaim = "groups"
	}
	if c.DisplayName == "" {
		c.DisplayName = "Sign in with your company account"
	}
	if c.Timeout <= 0 {
		c.Timeout = 10 * time.Second
	}
	if c.Client == nil {
		c.Client = &http.Client{Timeout: c.Timeout}
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return nil
}

// checkURL wants https, except on a loopback host (a provider on the same
// machine, and tests): tokens and secrets travel over these URLs.
func checkURL(what, raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("%s %q is not a plain http(s) URL", what, raw)
	}
	switch {
	case u.Scheme == "https":
		return nil
	case u.Scheme == "http" && isLoopback(u.Hostname()):
		return nil
	}
	return fmt.Errorf("%s %q must use https", what, raw)
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// roleFor is the strongest role any of groups maps to; "" when none does.
func (c *Config) roleFor(groups []string) string {
	best := ""
	for _, g := range groups {
		if r := c.Roles[g]; roleRank[r] > roleRank[best] {
			best = r
		}
	}
	return best
}

// domainAllowed reports whether email ends in an allowed domain.
func (c *Config) domainAllowed(email string) bool {
	at := strings.LastIndexByte(email, '@')
	if at < 1 {
		return false
	}
	domain := strings.ToLower(email[at+1:])
	return contains(c.AllowedDomains, domain)
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}
