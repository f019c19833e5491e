package api_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/deskside/deskside/server/servertest"
)

// TestHealthzSaysWhileSetupIsPending: before the first account exists,
// /healthz says so (the sign-in page then points to the setup link); once
// it exists, it does not.
func TestHealthzSaysWhileSetupIsPending(t *testing.T) {
	srv := servertest.New(t)
	health := func() map[string]any {
		t.Helper()
		res, err := http.Get(srv.URL() + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var out map[string]any
		if err := json.NewDecoder(res.Body).Decode(&out); err != nil || res.StatusCode != http.StatusOK {
			t.Fatalf("healthz: %d %v", res.StatusCode, err)
		}
		return out
	}
	if got := health(); got["setup_pending"] != true || got["status"] != "ok" {
		t.Errorf("healthz before setup = %v, want setup_pending true", got)
	}
	srv.Tech(t)
	if got, ok := health()["setup_pending"]; ok {
		t.Errorf("healthz after setup has setup_pending = %v", got)
	}
}
