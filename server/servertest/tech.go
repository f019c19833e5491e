package servertest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/deskside/deskside/shared/protocol"
)

// Tech is a signed-in technician: an HTTP client holding the session cookie,
// and the CSRF token every state-changing call sends.
type Tech struct {
	Client *http.Client
	CSRF   string
	ID     string
	Name   string
	s      *Server
}

// Tech signs in the admin technician "Rob" (created through POST
// /api/v1/setup on first use) and returns a fresh session.
func (s *Server) Tech(t testing.TB) *Tech {
	t.Helper()
	s.mu.Lock()
	ready, tok := s.adminReady, s.setupToken
	s.adminReady = true
	s.mu.Unlock()
	c := s.newClient(t)
	if !ready {
		tc := &Tech{Client: c, s: s}
		st := tc.Do(t, http.MethodPost, "/api/v1/setup", map[string]string{"setup_token": tok, "email": AdminEmail,
			"name": AdminName, "password": AdminPassword}, nil)
		if st != http.StatusCreated {
			t.Fatalf("servertest: setup admin: status %d", st)
		}
	}
	return s.Login(t, AdminEmail, AdminPassword)
}

// Login signs in any technician.
func (s *Server) Login(t testing.TB, email, password string) *Tech {
	t.Helper()
	tc := &Tech{Client: s.newClient(t), s: s}
	var out struct {
		Technician struct{ ID, Name string }
		CSRFToken  string `json:"csrf_token"`
	}
	if st := tc.Do(t, http.MethodPost, "/api/v1/login", map[string]string{"email": email, "password": password}, &out); st != http.StatusOK {
		t.Fatalf("servertest: sign in %s: status %d", email, st)
	}
	tc.CSRF, tc.ID, tc.Name = out.CSRFToken, out.Technician.ID, out.Technician.Name
	return tc
}

// SignedIn is a technician whose client signed in some other way (single
// sign-on): it reads the session for the CSRF token and id.
func (s *Server) SignedIn(t testing.TB, c *http.Client) *Tech {
	t.Helper()
	tc := &Tech{Client: c, s: s}
	var out struct {
		Technician struct{ ID, Name string }
		CSRFToken  string `json:"csrf_token"`
	}
	if st := tc.Do(t, http.MethodGet, "/api/v1/session", nil, &out); st != http.StatusOK {
		t.Fatalf("servertest: read the session: status %d", st)
	}
	tc.CSRF, tc.ID, tc.Name = out.CSRFToken, out.Technician.ID, out.Technician.Name
	return tc
}

func (s *Server) newClient(t testing.TB) *http.Client {
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 30 * time.Second}
	if cfg := s.TLSConfig(); cfg != nil {
		c.Transport = &http.Transport{TLSClientConfig: cfg}
	}
	return c
}

// Do sends a JSON request to path (e.g. "/api/v1/requests") with the CSRF
// header, decodes a JSON answer into out when out is non-nil, and returns
// the status code. Transport errors fail the test.
func (c *Tech) Do(t testing.TB, method, path string, body, out any) int {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatalf("servertest: encode body: %v", err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.s.URL()+path, rd)
	if err != nil {
		t.Fatalf("servertest: %s %s: %v", method, path, err)
	}
	req.Header.Set("Content-Type", "application/json")
	if c.CSRF != "" {
		req.Header.Set("X-CSRF-Token", c.CSRF)
	}
	resp, err := c.Client.Do(req)
	if err != nil {
		t.Fatalf("servertest: %s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if out != nil && len(data) > 0 && resp.StatusCode < 300 {
		if err := json.Unmarshal(data, out); err != nil {
			t.Fatalf("servertest: %s %s: decode %q: %v", method, path, data, err)
		}
	}
	return resp.StatusCode
}

// Console is a technician's live event socket.
type Console struct {
	Conn *websocket.Conn
}

// Console opens /ws/console with the session cookie, the CSRF token and the
// server's own Origin, and reads the console.hello.
func (c *Tech) Console(t testing.TB) *Console {
	t.Helper()
	conn, resp, err := c.DialConsole(c.s.URL(), c.CSRF)
	if err != nil {
		st := 0
		if resp != nil {
			st = resp.StatusCode
		}
		t.Fatalf("servertest: open console socket: %v (status %d)", err, st)
	}
	con := &Console{Conn: conn}
	t.Cleanup(func() { conn.Close() })
	con.WaitFor(t, protocol.KindConsoleHello)
	return con
}

// DialConsole opens the console socket with a chosen Origin and CSRF token,
// for tests of the refusals; most tests want Console.
func (c *Tech) DialConsole(origin, csrf string) (*websocket.Conn, *http.Response, error) {
	u := c.s.WSURL(protocol.ConsolePath) + "?csrf=" + url.QueryEscape(csrf)
	base, _ := url.Parse(c.s.URL())
	h := http.Header{}
	if origin != "" {
		h.Set("Origin", origin)
	}
	for _, ck := range c.Client.Jar.Cookies(base) {
		h.Add("Cookie", ck.Name+"="+ck.Value)
	}
	d := websocket.Dialer{HandshakeTimeout: 10 * time.Second, TLSClientConfig: c.s.TLSConfig()}
	return d.Dial(u, h)
}

// Next returns the next event, failing the test after 10 s.
func (c *Console) Next(t testing.TB) protocol.Envelope {
	t.Helper()
	_ = c.Conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, data, err := c.Conn.ReadMessage()
	if err != nil {
		t.Fatalf("servertest: read console event: %v", err)
	}
	env, err := protocol.Parse(data)
	if err != nil {
		t.Fatalf("servertest: console event %q: %v", data, err)
	}
	return env
}

// WaitFor skips events until one of kind arrives (10 s limit).
func (c *Console) WaitFor(t testing.TB, kind protocol.Kind) protocol.Envelope {
	t.Helper()
	for {
		if env := c.Next(t); env.Type == kind {
			return env
		}
	}
}

// DoRaw sends body as is with contentType (a multipart upload, say) and the
// CSRF header, and returns the status and the answer's body.
func (c *Tech) DoRaw(t testing.TB, method, path, contentType string, body io.Reader) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, c.s.URL()+path, body)
	if err != nil {
		t.Fatalf("servertest: %s %s: %v", method, path, err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if c.CSRF != "" {
		req.Header.Set("X-CSRF-Token", c.CSRF)
	}
	resp, err := c.Client.Do(req)
	if err != nil {
		t.Fatalf("servertest: %s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("servertest: %s %s: %v", method, path, err)
	}
	return resp.StatusCode, data
}
