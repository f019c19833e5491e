package console

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/cookiejar"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/gorilla/websocket"

	"github.com/deskside/deskside/shared/protocol"
)

// techClient is a signed-in technician speaking REST, as a script would.
type techClient struct {
	t    *testing.T
	base string
	http *http.Client
	csrf string
}

func signInREST(t *testing.T, base, email, password string) *techClient {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &techClient{t: t, base: base, http: &http.Client{Jar: jar, Timeout: 15 * time.Second}}
	var out struct {
		CSRF string `json:"csrf_token"`
	}
	c.call("POST", "/api/v1/login", map[string]string{"email": email, "password": password}, &out)
	c.csrf = out.CSRF
	return c
}

func (c *techClient) call(method, path string, in, out any) int {
	c.t.Helper()
	var body bytes.Buffer
	if in != nil {
		json.NewEncoder(&body).Encode(in)
	}
	req, _ := http.NewRequest(method, c.base+path, &body)
	req.Header.Set("Content-Type", "application/json")
	if c.csrf != "" {
		req.Header.Set("X-CSRF-Token", c.csrf)
	}
	res, err := c.http.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	if res.StatusCode >= 300 {
		var e protocol.APIError
		json.NewDecoder(res.Body).Decode(&e)
		c.t.Fatalf("%s %s: status %d: %+v", method, path, res.StatusCode, e)
	}
	if out != nil {
		if err := json.NewDecoder(res.Body).Decode(out); err != nil {
			c.t.Fatalf("%s %s: decode: %v", method, path, err)
		}
	}
	return res.StatusCode
}

func (c *techClient) enrolmentToken() string {
	c.t.Helper()
	var tok struct {
		Token string `json:"token"`
	}
	c.call("POST", "/api/v1/tokens", map[string]any{"group": "default", "expires_in_hours": 1, "max_uses": 5}, &tok)
	if tok.Token == "" {
		c.t.Fatal("POST /api/v1/tokens returned no token")
	}
	return tok.Token
}

// TestFlowWithRealServer is the technician's day in one test, against the
// real server: sign in → a device raises a request → it appears in the
// queue without reload → open it and see the snapshot → reply → the device
// receives the reply.
func TestFlowWithRealServer(t *testing.T) {
	srv := startRealServer(t)
	admin := signInREST(t, srv.URL, srv.Email, srv.Password)
	token := admin.enrolmentToken()

	b := newBrowser(t)
	// A wrong password gets a friendly word, not a code.
	b.do("open", chromedp.Navigate(srv.URL+"/"), chromedp.WaitVisible(chromedp.CSS("#signin")))
	b.do("wrong password",
		chromedp.SendKeys(chromedp.CSS("input[name=email]"), srv.Email),
		chromedp.SendKeys(chromedp.CSS("input[name=password]"), "not-the-password"),
		chromedp.Click(chromedp.CSS("#signin button[type=submit]")))
	b.waitText("#signin-error", "don’t match")

	b.signIn(srv.URL, srv.Email, srv.Password)
	b.waitText("#queue-body", "No requests yet")

	dev := enrolDevice(t, srv.URL, token, "ana-laptop", "ana")
	dev.connect(srv.URL)
	s := snap("ana-laptop", "ana", "linux", "debian", 37, 48, 71, 7200)
	reqID := dev.raise("Wi-Fi keeps dropping in the meeting room", s)

	// Live: no reload.
	b.waitText("#queue-body", "Wi-Fi keeps dropping in the meeting room")
	b.waitText("#nav-open", "1")

	b.do("open the request", chromedp.Click(chromedp.CSS(`#queue-body a.rowlink`)), chromedp.WaitVisible(chromedp.CSS("#compare")))
	if loc := eval[string](b, `location.hash`); !strings.Contains(loc, reqID) && !strings.HasPrefix(loc, "#/requests/") {
		t.Errorf("request view at %q", loc)
	}
	b.waitText("#compare", "37 %") // CPU when raised, from the device's snapshot
	b.waitText("#compare", "Online now")

	reply := "Hi Ana, I'm on it — the access point is being replaced."
	b.do("reply", chromedp.SendKeys(chromedp.CSS("#reply-text"), reply), chromedp.Click(chromedp.CSS("#send")))
	b.waitText("#thread", "access point is being replaced")
	got := dev.wait(protocol.KindMessage, func(e protocol.Envelope) bool {
		var m protocol.Message
		return json.Unmarshal(e.Body, &m) == nil && m.Text == reply
	})
	var m protocol.Message
	json.Unmarshal(got.Body, &m)
	if m.Author.Name == "" {
		t.Errorf("the device got a reply with no author: %+v", m)
	}

	// The user answers; the console shows it live.
	dev.send(protocol.KindRequestReply, protocol.RequestReply{RequestID: m.RequestID, MessageID: protocol.NewID(), Text: "Thank you!", CreatedAt: time.Now().UTC()})
	b.waitText("#thread", "Thank you!")

	// The session ends on the server (as on expiry): the next call returns
	// the technician to sign-in with a friendly sentence.
	eval[any](b, `import('/js/api.js').then(m => fetch('/api/v1/logout', {method: 'POST', headers: {'X-CSRF-Token': m.session.csrf}}))`)
	b.do("navigate", chromedp.Navigate(srv.URL+"/#/devices"))
	b.waitText("#signin-message", "Your session ended — please sign in again.")
}

// TestConsoleSocketChecksOrigin: a page on another site must not open the
// console WebSocket with the technician's cookie.
func TestConsoleSocketChecksOrigin(t *testing.T) {
	srv := startRealServer(t)
	c := signInREST(t, srv.URL, srv.Email, srv.Password)
	u := "ws" + strings.TrimPrefix(srv.URL, "http") + protocol.ConsolePath + "?csrf=" + c.csrf
	header := func(origin string) http.Header {
		h := http.Header{}
		h.Set("Origin", origin)
		for _, ck := range c.http.Jar.Cookies(mustURL(t, srv.URL)) {
			h.Add("Cookie", ck.Name+"="+ck.Value)
		}
		return h
	}
	conn, res, err := websocket.DefaultDialer.Dial(u, header("https://evil.example"))
	if err == nil {
		conn.Close()
		t.Fatal("console WebSocket opened from another Origin")
	}
	if res == nil || res.StatusCode != http.StatusForbidden {
		t.Logf("refused: %v (status %v)", err, statusOf(res))
	}
	// Control: the same credentials from the server's own origin work.
	conn, _, err = websocket.DefaultDialer.Dial(u, header(srv.URL))
	if err != nil {
		t.Fatalf("console WebSocket from the server's own origin: %v", err)
	}
	defer conn.Close()
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, b, err := conn.ReadMessage()
	if err != nil {
		t.Fatal(err)
	}
	if env, err := protocol.Parse(b); err != nil || env.Type != protocol.KindConsoleHello {
		t.Errorf("first console frame = %s, %v; want console.hello", b, err)
	}
	// And without the CSRF token it is refused too.
	if conn, _, err := websocket.DefaultDialer.Dial(strings.Split(u, "?")[0], header(srv.URL)); err == nil {
		conn.Close()
		t.Error("console WebSocket opened without the CSRF token")
	}
}

func statusOf(res *http.Response) any {
	if res == nil {
		return "none"
	}
	return res.StatusCode
}
