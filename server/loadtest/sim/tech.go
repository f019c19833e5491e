package sim

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"github.com/deskside/deskside/shared/protocol"
)

// Tech is a simulated technician: a signed-in REST client and a console
// socket. When Reply is on, it answers every probe request it sees.
type Tech struct {
	URL    string
	Client *http.Client // holds the session cookie
	CSRF   string

	conn    *websocket.Conn
	reply   atomic.Bool
	alive   atomic.Bool // the read loop runs
	work    chan protocol.RequestSummary
	wg      sync.WaitGroup
	telemH  *Hist // device telemetry → console (in memory)
	devToT  *Hist // request.new → request.created at the console (stored)
	replies atomic.Int64
	replErr atomic.Int64
	events  atomic.Int64
}

// NewTechClient returns an HTTP client with a cookie jar for Login.
func NewTechClient() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, Timeout: 30 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: 32, IdleConnTimeout: 30 * time.Second}}
}

// SetupAndLogin creates the first admin with the server's one-time setup
// token when it is given, then signs in.
func SetupAndLogin(ctx context.Context, base, setupToken, email, password string) (*Tech, error) {
	t := &Tech{URL: base, Client: NewTechClient()}
	if setupToken != "" {
		body := map[string]string{"setup_token": setupToken, "email": email, "name": "Sim Admin", "password": password}
		if st, err := t.Do(ctx, http.MethodPost, "/api/v1/setup", body, nil); err != nil || st != http.StatusCreated {
			return nil, fmt.Errorf("set up the first admin: status %d: %v", st, err)
		}
	}
	var out struct {
		CSRF string `json:"csrf_token"`
	}
	st, err := t.Do(ctx, http.MethodPost, "/api/v1/login", map[string]string{"email": email, "password": password}, &out)
	if err != nil || st != http.StatusOK {
		return nil, fmt.Errorf("sign in %s: status %d: %v", email, st, err)
	}
	t.CSRF = out.CSRF
	return t, nil
}

// Do sends a JSON request with the CSRF header and decodes a 2xx answer.
func (t *Tech) Do(ctx context.Context, method, path string, body, out any) (int, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(marshal(body))
	}
	req, err := http.NewRequestWithContext(ctx, method, t.URL+path, rd)
	if err != nil {
		return 0, fmt.Errorf("%s %s: %w", method, path, err)
	}
	req.Header.Set("Content-Type", "application/json")
	if t.CSRF != "" {
		req.Header.Set("X-CSRF-Token", t.CSRF)
	}
	resp, err := t.Client.Do(req)
	if err != nil {
		return 0, fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if out != nil && resp.StatusCode < 300 {
		if err := json.Unmarshal(data, out); err != nil {
			return resp.StatusCode, fmt.Errorf("%s %s: decode answer: %w", method, path, err)
		}
	}
	return resp.StatusCode, nil
}

// CreateToken makes an enrolment token (admin).
func (t *Tech) CreateToken(ctx context.Context) (string, error) {
	var out struct {
		Token string `json:"token"`
	}
	st, err := t.Do(ctx, http.MethodPost, "/api/v1/tokens", map[string]any{"group": "sim"}, &out)
	if err != nil || st != http.StatusCreated {
		return "", fmt.Errorf("create enrolment token: status %d: %v", st, err)
	}
	return out.Token, nil
}

// Open connects the console socket (cookie, CSRF token, same Origin) and
// starts reading events and, with replyWorkers > 0, answering probes.
func (t *Tech) Open(ctx context.Context, replyWorkers int) error {
	base, err := url.Parse(t.URL)
	if err != nil {
		return fmt.Errorf("server URL: %w", err)
	}
	h := http.Header{}
	h.Set("Origin", t.URL)
	for _, c := range t.Client.Jar.Cookies(base) {
		h.Add("Cookie", c.Name+"="+c.Value)
	}
	u := "ws" + strings.TrimPrefix(t.URL, "http") + protocol.ConsolePath + "?csrf=" + url.QueryEscape(t.CSRF)
	d := websocket.Dialer{HandshakeTimeout: 10 * time.Second}
	conn, resp, err := d.DialContext(ctx, u, h)
	if err != nil {
		st := 0
		if resp != nil {
			st = resp.StatusCode
		}
		return fmt.Errorf("open console socket: %w (status %d)", err, st)
	}
	t.conn = conn
	t.telemH, t.devToT = NewHist(), NewHist()
	t.work = make(chan protocol.RequestSummary, 4096)
	for range replyWorkers {
		t.wg.Go(t.replyLoop)
	}
	t.alive.Store(true)
	go t.readLoop()
	return nil
}

// EnsureOpen opens the console socket again when the server closed it
// (a slow consumer on an overloaded box); it reports whether it had to.
func (t *Tech) EnsureOpen(ctx context.Context, replyWorkers int) (bool, error) {
	if t.alive.Load() {
		return false, nil
	}
	t.Close()
	return true, t.Open(ctx, replyWorkers)
}

// SetReply turns answering probes on or off.
func (t *Tech) SetReply(on bool) { t.reply.Store(on) }

// ResetHists empties the console-side histograms.
func (t *Tech) ResetHists() { t.telemH.Reset(); t.devToT.Reset() }

func (t *Tech) readLoop() {
	defer close(t.work)
	defer t.alive.Store(false)
	for {
		_, data, err := t.conn.ReadMessage()
		if err != nil {
			return
		}
		now := time.Now()
		t.events.Add(1)
		env, err := protocol.Parse(data)
		if err != nil {
			continue
		}
		switch env.Type {
		case protocol.KindDeviceTelem:
			var b protocol.Telemetry
			if env.Decode(&b) == nil {
				t.telemH.Record(now.Sub(b.At))
			}
		case protocol.KindRequestCreated:
			var s protocol.RequestSummary
			if env.Decode(&s) != nil {
				continue
			}
			t0, _, ok := parseProbe(s.Text)
			if !ok {
				continue
			}
			t.devToT.Record(time.Duration(now.UnixNano() - t0))
			if t.reply.Load() {
				select {
				case t.work <- s:
				default:
					t.replErr.Add(1) // reply backlog full
				}
			}
		}
	}
}

// replyLoop answers probes over REST, carrying t0 and its own send time.
func (t *Tech) replyLoop() {
	for s := range t.work {
		t0, _, _ := parseProbe(s.Text)
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		st, err := t.Do(ctx, http.MethodPost, "/api/v1/requests/"+url.PathEscape(s.RequestID)+"/messages",
			map[string]string{"text": probeText(t0, time.Now().UnixNano())}, nil)
		cancel()
		if err != nil || st != http.StatusCreated {
			t.replErr.Add(1)
			continue
		}
		t.replies.Add(1)
	}
}

// Close drops the console socket and waits for the reply workers.
func (t *Tech) Close() {
	if t.conn != nil {
		t.conn.Close()
		t.wg.Wait()
	}
}
