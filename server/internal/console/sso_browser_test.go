package console_test

import (
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/oauth2-proxy/mockoidc"

	"github.com/deskside/deskside/server/internal/console"
	"github.com/deskside/deskside/server/internal/sso"
	"github.com/deskside/deskside/server/servertest"
)

// TestSignInWithSSO: the console's "Sign in with …" button, through the
// real redirect flow against an OpenID provider in the test (mockoidc), to
// the queue; then the technicians page marks the break-glass admin.
func TestSignInWithSSO(t *testing.T) {
	op, err := mockoidc.Run()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = op.Shutdown() })
	srv := servertest.New(t, servertest.WithOIDC(sso.Config{Issuer: op.Issuer(), ClientID: op.ClientID, ClientSecret: op.ClientSecret,
		Scopes: []string{"openid", "email", "profile", "groups"}, AllowedDomains: []string{"example.com"},
		Roles: map[string]string{"it-admins": "admin"}, DisplayName: "Sign in with Okta", Timeout: 5 * time.Second}))
	srv.Tech(t) // the setup admin: the break-glass account
	op.QueueUser(&mockoidc.MockUser{Subject: "ann-1", Email: "ann@example.com", EmailVerified: true, Groups: []string{"it-admins"}})

	b := console.NewBrowser(t)
	b.Do("open sign-in", chromedp.Navigate(srv.URL()+"/"), chromedp.WaitVisible(chromedp.CSS("#sso-signin")))
	b.WaitText("#sso-signin", "Sign in with Okta")
	b.Do("sign in with Okta", chromedp.Click(chromedp.CSS("#sso-signin")), chromedp.WaitVisible(chromedp.CSS("#queue-body")))
	b.WaitText("#live", "Live")
	b.WaitText("#whoami", "ann · admin")

	b.Do("technicians", chromedp.Navigate(srv.URL()+"/#/admin/technicians"), chromedp.WaitVisible(chromedp.CSS("#sign-in-settings")))
	b.WaitText("main table", "Break-glass")
	b.WaitText("main table", "Company sign-in")

	// Password sign-in off: the sign-in page folds the form away for the
	// break-glass admin.
	b.Do("turn password sign-in off", chromedp.Click(chromedp.CSS("#password-login")))
	b.WaitText("#toasts", "Password sign-in is off")
	fresh := console.NewBrowser(t)
	fresh.Do("open sign-in", chromedp.Navigate(srv.URL()+"/"), chromedp.WaitVisible(chromedp.CSS("#sso-signin")))
	fresh.WaitText("#break-glass summary", "Break-glass sign-in")
	if !console.Eval[bool](fresh, `!document.querySelector('#break-glass').open && !!document.querySelector('#signin').closest('#break-glass')`) {
		t.Fatal("with password sign-in off, the password form is not folded away under break-glass")
	}
}
