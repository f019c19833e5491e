package console

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/chromedp/chromedp"
)

func TestSignInPageRenders(t *testing.T) {
	mux := http.NewServeMux()
	mux.Handle("/", Handler())
	mux.HandleFunc("/api/v1/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(401)
		w.Write([]byte(`{"error":"signed_out","message":"Please sign in."}`))
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	b := newBrowser(t)
	b.do("open", chromedp.Navigate(srv.URL+"/"), chromedp.WaitVisible(chromedp.CSS("#signin")))
	b.do("type", chromedp.SendKeys(chromedp.CSS("input[name=email]"), "rob@example.com"), chromedp.SendKeys(chromedp.CSS("input[name=password]"), "nope"), chromedp.Click(chromedp.CSS("#signin button")))
	b.waitText("#signin-error", "don’t match")
	b.screenshot("signin")
}
