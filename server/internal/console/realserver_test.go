package console

import (
	"net/url"
	"testing"
)

// realServer is the real Deskside server on a temporary store, with an
// admin account.
type realServer struct {
	URL             string
	Email, Password string
}

// startRealServer starts it through server/servertest.
func startRealServer(t *testing.T) realServer {
	t.Helper()
	t.Skip("server/servertest has not landed yet")
	return realServer{}
}

func mustURL(t *testing.T, s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
