package servertest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/deskside/deskside/shared/protocol"
)

// Device is a minimal fake agent speaking the real protocol, for tests that
// need desks (the console's, the server's). The real agent has its own link.
type Device struct {
	ID, Secret string
	Hostname   string
	Conn       *websocket.Conn // nil until Connect
	s          *Server
}

// Enroll trades a fresh token for device credentials.
func (s *Server) Enroll(t testing.TB, hostname string) *Device {
	t.Helper()
	body, _ := json.Marshal(protocol.EnrollRequest{Token: s.Token(t), Hostname: hostname, User: "ana", OS: "linux",
		Arch: "amd64", AgentVersion: "1.0.0"})
	c := s.newClient(t)
	resp, err := c.Post(s.URL()+protocol.EnrollPath, "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatalf("servertest: enrol: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("servertest: enrol: status %d", resp.StatusCode)
	}
	var out protocol.EnrollResponse
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("servertest: enrol: %v", err)
	}
	return &Device{ID: out.DeviceID, Secret: out.DeviceSecret, Hostname: hostname, s: s}
}

// On is the same device talking to another server node (one that shares
// the first one's database, see WithPostgres). Conn starts nil.
func (d *Device) On(s *Server) *Device {
	return &Device{ID: d.ID, Secret: d.Secret, Hostname: d.Hostname, s: s}
}

// Dial opens the device socket without saying hello (for tests of refusals).
func (d *Device) Dial() (*websocket.Conn, *http.Response, error) {
	h := http.Header{}
	h.Set("Authorization", protocol.DeviceAuthHeader(d.ID, d.Secret))
	dl := websocket.Dialer{HandshakeTimeout: 10 * time.Second, TLSClientConfig: d.s.TLSConfig()}
	return dl.Dial(d.s.WSURL(protocol.DevicePath), h)
}

// Connect dials, says hello with lastSeq (as agent 1.0.0 on linux/amd64)
// and returns the welcome.
func (d *Device) Connect(t testing.TB, lastSeq uint64) protocol.Welcome {
	t.Helper()
	return d.ConnectWith(t, protocol.Hello{AgentVersion: "1.0.0", OS: "linux", Arch: "amd64",
		Capabilities: []string{protocol.CapTelemetry, protocol.CapScreenshot}, LastSeq: lastSeq})
}

// ConnectWith dials, says hello and returns the welcome.
func (d *Device) ConnectWith(t testing.TB, hello protocol.Hello) protocol.Welcome {
	t.Helper()
	conn, resp, err := d.Dial()
	if err != nil {
		st := 0
		if resp != nil {
			st = resp.StatusCode
		}
		t.Fatalf("servertest: device connect: %v (status %d)", err, st)
	}
	d.Conn = conn
	t.Cleanup(func() { conn.Close() })
	d.Send(t, protocol.KindHello, hello)
	var w protocol.Welcome
	if err := d.WaitFor(t, protocol.KindWelcome).Decode(&w); err != nil {
		t.Fatalf("servertest: welcome: %v", err)
	}
	return w
}

// Send writes a frame of kind with a fresh id and returns the id.
func (d *Device) Send(t testing.TB, kind protocol.Kind, body any) string {
	t.Helper()
	env, err := protocol.New(kind, body)
	if err != nil {
		t.Fatalf("servertest: %v", err)
	}
	d.SendEnvelope(t, env)
	return env.ID
}

// SendEnvelope writes a prepared envelope (to repeat an id, say).
func (d *Device) SendEnvelope(t testing.TB, env protocol.Envelope) {
	t.Helper()
	b, _ := env.Marshal()
	if err := d.Conn.WriteMessage(websocket.TextMessage, b); err != nil {
		t.Fatalf("servertest: device send: %v", err)
	}
}

// Next reads the next frame (10 s limit).
func (d *Device) Next(t testing.TB) protocol.Envelope {
	t.Helper()
	_ = d.Conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, data, err := d.Conn.ReadMessage()
	if err != nil {
		t.Fatalf("servertest: device read: %v", err)
	}
	env, err := protocol.Parse(data)
	if err != nil {
		t.Fatalf("servertest: device frame %q: %v", data, err)
	}
	return env
}

// WaitFor skips frames until one of kind arrives.
func (d *Device) WaitFor(t testing.TB, kind protocol.Kind) protocol.Envelope {
	t.Helper()
	for {
		if env := d.Next(t); env.Type == kind {
			return env
		}
	}
}

// RaiseRequest sends request.new (with a small snapshot) and waits for its
// ack; it returns the request id.
func (d *Device) RaiseRequest(t testing.TB, text string) string {
	t.Helper()
	id := protocol.NewID()
	snap := &protocol.Snapshot{TakenAt: time.Now().UTC(), AgentVersion: "1.0.0",
		Host: protocol.Host{Hostname: d.Hostname, OS: "linux", User: "ana"}, CPU: protocol.CPU{Cores: 4, Threads: 8}}
	fid := d.Send(t, protocol.KindRequestNew, protocol.RequestNew{RequestID: id, Category: protocol.CategoryProblem,
		Urgency: protocol.UrgencyBlocking, Text: text, Snapshot: snap, CreatedAt: time.Now().UTC()})
	for {
		env := d.WaitFor(t, protocol.KindAck)
		var a protocol.Ack
		if err := env.Decode(&a); err == nil && a.ID == fid {
			return id
		}
	}
}

// Get fetches path (e.g. a release's manifest) with the device's
// credentials and returns the status and body.
func (d *Device) Get(t testing.TB, path string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, d.s.URL()+path, nil)
	if err != nil {
		t.Fatalf("servertest: device GET %s: %v", path, err)
	}
	req.Header.Set("Authorization", protocol.DeviceAuthHeader(d.ID, d.Secret))
	resp, err := d.s.newClient(t).Do(req)
	if err != nil {
		t.Fatalf("servertest: device GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("servertest: device GET %s: %v", path, err)
	}
	return resp.StatusCode, body
}

// Close drops the link.
func (d *Device) Close() {
	if d.Conn != nil {
		d.Conn.Close()
	}
}
