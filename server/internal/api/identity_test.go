package api_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/deskside/deskside/server/internal/app"
	"github.com/deskside/deskside/server/servertest"
	"github.com/deskside/deskside/shared/protocol"
)

// postJSON sends body to path without a session and returns the status
// and the decoded error.
func postJSON(t *testing.T, url string, body any) (int, protocol.APIError) {
	t.Helper()
	b, _ := json.Marshal(body)
	resp, err := http.Post(url, "application/json", bytes.NewReader(b))
	if err != nil {
		t.Error(err)
		return 0, protocol.APIError{}
	}
	defer resp.Body.Close()
	var e protocol.APIError
	_ = json.NewDecoder(resp.Body).Decode(&e)
	return resp.StatusCode, e
}

// Attack: 10 parallel POST /api/v1/setup with one token made 10 admins,
// and the used setup-token file stayed on disk.
func TestSetupLinkMakesOneAdmin(t *testing.T) {
	s := servertest.New(t)
	tok := s.SetupToken()
	file := filepath.Join(s.DataDir(), app.SetupTokenFile)
	if _, err := os.Stat(file); err != nil {
		t.Fatalf("setup token file before setup: %v", err)
	}
	var mu sync.Mutex
	codes := map[int]int{}
	winner := -1
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range 10 {
		wg.Go(func() {
			<-start
			st, _ := postJSON(t, s.URL()+"/api/v1/setup", map[string]string{"setup_token": tok,
				"email": fmt.Sprintf("admin%d@example.com", i), "name": "Admin", "password": "a long enough password"})
			mu.Lock()
			defer mu.Unlock()
			codes[st]++
			if st == http.StatusCreated {
				winner = i
			}
		})
	}
	close(start)
	wg.Wait()
	if codes[http.StatusCreated] != 1 || codes[http.StatusUnauthorized] != 9 {
		t.Fatalf("answers %v: want one 201 and nine 401", codes)
	}
	if _, err := os.Stat(file); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("setup token file after setup: %v, want it removed", err)
	}
	admin := s.Login(t, fmt.Sprintf("admin%d@example.com", winner), "a long enough password")
	var out struct{ Technicians []struct{ Email string } }
	if st := admin.Do(t, "GET", "/api/v1/technicians", nil, &out); st != http.StatusOK || len(out.Technicians) != 1 {
		t.Fatalf("technicians: %d %+v, want exactly one", st, out.Technicians)
	}
}

// expectSessionEnded reads until the console link closes and checks it
// was closed because its session ended, saying why.
func expectSessionEnded(t *testing.T, c *websocket.Conn, why string) {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		_, _, err := c.ReadMessage()
		if err == nil {
			continue
		}
		var ce *websocket.CloseError
		if !errors.As(err, &ce) || ce.Code != protocol.CloseSessionEnded || !strings.Contains(ce.Text, why) {
			t.Fatalf("console link ended with %v, want close %d saying %q", err, protocol.CloseSessionEnded, why)
		}
		return
	}
}

// Attack: a disabled or signed-out technician kept the live feed (the
// console socket was checked only at upgrade). Now disabling, signing
// out, a role change and a password change close the console links of
// the sessions they end, and those sessions are refused.
func TestConsoleClosesWhenSessionEnds(t *testing.T) {
	s := servertest.New(t)
	admin := s.Tech(t)
	newTech := func(email string) (string, *servertest.Tech) {
		var created struct{ ID string }
		if st := admin.Do(t, "POST", "/api/v1/technicians", map[string]string{"email": email, "name": "Tess",
			"password": "a long enough password", "role": "technician"}, &created); st != http.StatusCreated {
			t.Fatalf("create %s: %d", email, st)
		}
		return created.ID, s.Login(t, email, "a long enough password")
	}

	t.Run("disabled", func(t *testing.T) {
		id, tess := newTech("disabled@example.com")
		con := tess.Console(t)
		if st := admin.Do(t, "PATCH", "/api/v1/technicians/"+id, map[string]any{"disabled": true}, nil); st != http.StatusOK {
			t.Fatalf("disable: %d", st)
		}
		expectSessionEnded(t, con.Conn, "account disabled")
		if st := tess.Do(t, "GET", "/api/v1/session", nil, nil); st != http.StatusUnauthorized {
			t.Fatalf("disabled technician's session: %d, want 401", st)
		}
	})
	t.Run("signed out", func(t *testing.T) {
		_, tess := newTech("signout@example.com")
		other := s.Login(t, "signout@example.com", "a long enough password")
		con, otherCon := tess.Console(t), other.Console(t)
		if st := tess.Do(t, "POST", "/api/v1/logout", nil, nil); st != http.StatusNoContent {
			t.Fatalf("sign out: %d", st)
		}
		expectSessionEnded(t, con.Conn, "signed out")
		d := s.Enroll(t, "ana-laptop")
		d.Connect(t, 0)
		d.RaiseRequest(t, "The printer is jammed.")
		otherCon.WaitFor(t, protocol.KindRequestCreated) // the other browser keeps its feed
	})
	t.Run("role changed", func(t *testing.T) {
		id, tess := newTech("role@example.com")
		con := tess.Console(t)
		if st := admin.Do(t, "PATCH", "/api/v1/technicians/"+id, map[string]any{"role": "viewer"}, nil); st != http.StatusOK {
			t.Fatalf("role change: %d", st)
		}
		expectSessionEnded(t, con.Conn, "role changed to viewer")
		viewer := s.Login(t, "role@example.com", "a long enough password")
		if st := viewer.Do(t, "POST", "/api/v1/announcements", map[string]any{"title": "x", "text": "y"}, nil); st != http.StatusForbidden {
			t.Fatalf("viewer announcing: %d, want 403", st)
		}
	})
	t.Run("password changed", func(t *testing.T) {
		_, tess := newTech("password@example.com")
		stolen := s.Login(t, "password@example.com", "a long enough password")
		mine, theirs := tess.Console(t), stolen.Console(t)
		if st := tess.Do(t, "PATCH", "/api/v1/me", map[string]string{"password": "another long password",
			"current_password": "a long enough password"}, nil); st != http.StatusOK {
			t.Fatalf("password change: %d", st)
		}
		expectSessionEnded(t, theirs.Conn, "password changed")
		d := s.Enroll(t, "bo-laptop")
		d.Connect(t, 0)
		d.RaiseRequest(t, "No mail since 9.")
		mine.WaitFor(t, protocol.KindRequestCreated)
	})
}

// GET /metrics was open to whoever reached the port; with
// --metrics-token it asks for the bearer token.
func TestMetricsToken(t *testing.T) {
	s := servertest.New(t, servertest.WithMetricsToken("s3cret-scrape"))
	get := func(auth string) int {
		req, _ := http.NewRequest("GET", s.URL()+"/metrics", nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for auth, want := range map[string]int{"": 401, "Bearer wrong": 401, "s3cret-scrape": 401, "Bearer s3cret-scrape": 200} {
		if got := get(auth); got != want {
			t.Errorf("Authorization %q: %d, want %d", auth, got, want)
		}
	}
}

// Hostname and user name at enrolment had no limit (500 KB accepted).
func TestEnrolFieldsHaveLimits(t *testing.T) {
	s := servertest.New(t)
	big := strings.Repeat("a", 500<<10)
	for name, req := range map[string]protocol.EnrollRequest{
		"hostname": {Hostname: big},
		"user":     {Hostname: "h", User: big},
		"os":       {Hostname: "h", OS: big},
	} {
		req.Token = s.Token(t)
		st, e := postJSON(t, s.URL()+protocol.EnrollPath, req)
		if st != http.StatusBadRequest || e.Error != "too_long" || !strings.Contains(e.Msg, "at most") {
			t.Errorf("%s of 500 KB: %d %+v, want 400 too_long with a sentence", name, st, e)
		}
	}
	if st, _ := postJSON(t, s.URL()+protocol.EnrollPath, protocol.EnrollRequest{Token: s.Token(t),
		Hostname: strings.Repeat("h", 253), OS: "linux", Arch: "amd64"}); st != http.StatusCreated {
		t.Fatalf("hostname of 253 bytes: %d, want 201", st)
	}
}

// The first enrolment token never expired; now it lasts FirstTokenTTL.
func TestFirstEnrolmentTokenExpires(t *testing.T) {
	s := servertest.New(t)
	var out struct {
		Tokens []struct {
			Group     string     `json:"group"`
			ExpiresAt *time.Time `json:"expires_at"`
		}
	}
	if st := s.Tech(t).Do(t, "GET", "/api/v1/tokens", nil, &out); st != http.StatusOK || len(out.Tokens) != 1 {
		t.Fatalf("tokens: %d %+v", st, out.Tokens)
	}
	exp := out.Tokens[0].ExpiresAt
	if exp == nil || exp.Before(time.Now().Add(app.FirstTokenTTL-time.Hour)) || exp.After(time.Now().Add(app.FirstTokenTTL)) {
		t.Fatalf("first token expires %v, want in %v", exp, app.FirstTokenTTL)
	}
}
