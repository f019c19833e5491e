package api_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/deskside/deskside/server/servertest"
	"github.com/deskside/deskside/shared/protocol"
)

func enroll(t *testing.T, s *servertest.Server, token string) int {
	t.Helper()
	body, _ := json.Marshal(protocol.EnrollRequest{Token: token, Hostname: "h", OS: "linux", Arch: "amd64"})
	resp, err := http.Post(s.URL()+protocol.EnrollPath, "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var e protocol.APIError
	_ = json.NewDecoder(resp.Body).Decode(&e)
	if resp.StatusCode != http.StatusCreated && e.Msg == "" {
		t.Fatalf("refusal without a message (status %d)", resp.StatusCode)
	}
	return resp.StatusCode
}

func TestEnrolmentTokens(t *testing.T) {
	s := servertest.New(t)
	if st := enroll(t, s, "dsk1_thisisnotarealtokenatall"); st != http.StatusUnauthorized {
		t.Fatalf("unknown token: %d", st)
	}
	if st := enroll(t, s, "garbage"); st != http.StatusUnauthorized {
		t.Fatalf("malformed token: %d", st)
	}
	if st := enroll(t, s, s.TokenWith(t, "g", 0, -time.Minute)); st != http.StatusUnauthorized {
		t.Fatalf("expired token: %d", st)
	}
	once := s.TokenWith(t, "g", 1, 0)
	if st := enroll(t, s, once); st != http.StatusCreated {
		t.Fatalf("first use: %d", st)
	}
	if st := enroll(t, s, once); st != http.StatusUnauthorized {
		t.Fatalf("used-up token: %d", st)
	}
	tech := s.Tech(t)
	var created struct{ ID, Token string }
	if st := tech.Do(t, "POST", "/api/v1/tokens", map[string]any{"group": "sales", "max_uses": 5}, &created); st != http.StatusCreated {
		t.Fatalf("create token: %d", st)
	}
	if st := tech.Do(t, "DELETE", "/api/v1/tokens/"+created.ID, nil, nil); st != http.StatusNoContent {
		t.Fatalf("revoke token: %d", st)
	}
	if st := enroll(t, s, created.Token); st != http.StatusUnauthorized {
		t.Fatalf("revoked token: %d", st)
	}
}

func TestConsoleSocketRefusals(t *testing.T) {
	s := servertest.New(t)
	tech := s.Tech(t)
	check := func(name, origin, csrf string, want int) {
		_, resp, err := tech.DialConsole(origin, csrf)
		if err == nil || resp == nil || resp.StatusCode != want {
			st := 0
			if resp != nil {
				st = resp.StatusCode
			}
			t.Errorf("%s: err %v status %d, want %d", name, err, st, want)
		}
	}
	check("wrong origin", "https://evil.example", tech.CSRF, http.StatusForbidden)
	check("no origin", "", tech.CSRF, http.StatusForbidden)
	check("no csrf", s.URL(), "", http.StatusForbidden)
	check("wrong csrf", s.URL(), "forged", http.StatusForbidden)

	resp, err := http.Get(s.URL() + protocol.ConsolePath)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("no session: %d", resp.StatusCode)
	}
}

func TestCSRFRequiredOnREST(t *testing.T) {
	s := servertest.New(t)
	tech := s.Tech(t)
	csrf := tech.CSRF
	tech.CSRF = ""
	if st := tech.Do(t, "POST", "/api/v1/tokens", map[string]any{}, nil); st != http.StatusForbidden {
		t.Fatalf("no CSRF header: %d", st)
	}
	tech.CSRF = csrf
	if st := tech.Do(t, "POST", "/api/v1/tokens", map[string]any{}, nil); st != http.StatusCreated {
		t.Fatalf("with CSRF header: %d", st)
	}
}
