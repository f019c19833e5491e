package console

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/deskside/deskside/shared/protocol"
)

// testDevice is a real device as the server sees it: it enrols over REST
// and speaks shared/protocol on /ws/device with a gorilla client.
type testDevice struct {
	t      *testing.T
	id     string
	secret string
	conn   *websocket.Conn
	frames chan protocol.Envelope
}

func enrolDevice(t *testing.T, baseURL, token, hostname, user string) *testDevice {
	t.Helper()
	body, _ := json.Marshal(protocol.EnrollRequest{Token: token, Hostname: hostname, User: user, OS: "linux", Arch: "amd64", AgentVersion: "1.0.0"})
	res, err := http.Post(baseURL+protocol.EnrollPath, "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatalf("enrol: %v", err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusCreated && res.StatusCode != http.StatusOK {
		var e protocol.APIError
		json.NewDecoder(res.Body).Decode(&e)
		t.Fatalf("enrol: status %d: %+v", res.StatusCode, e)
	}
	var out protocol.EnrollResponse
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
		t.Fatalf("enrol answer: %v", err)
	}
	return &testDevice{t: t, id: out.DeviceID, secret: out.DeviceSecret, frames: make(chan protocol.Envelope, 64)}
}

// connect dials /ws/device, says hello and waits for welcome.
func (d *testDevice) connect(baseURL string) {
	d.t.Helper()
	h := http.Header{}
	h.Set("Authorization", protocol.DeviceAuthHeader(d.id, d.secret))
	c, res, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(baseURL, "http")+protocol.DevicePath, h)
	if err != nil {
		status := 0
		if res != nil {
			status = res.StatusCode
		}
		d.t.Fatalf("device dial: %v (status %d)", err, status)
	}
	d.conn = c
	d.t.Cleanup(func() { c.Close() })
	go func() {
		defer close(d.frames)
		for {
			_, b, err := c.ReadMessage()
			if err != nil {
				return
			}
			env, err := protocol.Parse(b)
			if err != nil {
				continue
			}
			d.frames <- env
		}
	}()
	d.send(protocol.KindHello, protocol.Hello{AgentVersion: "1.0.0", OS: "linux", Arch: "amd64",
		Capabilities: []string{protocol.CapTelemetry, protocol.CapScreenshot, protocol.CapAnnouncement}})
	d.wait(protocol.KindWelcome, nil)
}

func (d *testDevice) send(k protocol.Kind, body any) string {
	d.t.Helper()
	env, err := protocol.New(k, body)
	if err != nil {
		d.t.Fatal(err)
	}
	b, _ := env.Marshal()
	if err := d.conn.WriteMessage(websocket.TextMessage, b); err != nil {
		d.t.Fatalf("device send %s: %v", k, err)
	}
	return env.ID
}

// wait returns the next frame of kind k for which match (if any) holds;
// frames that carry a seq are acknowledged with a delivery cursor, as the
// agent does.
func (d *testDevice) wait(k protocol.Kind, match func(protocol.Envelope) bool) protocol.Envelope {
	d.t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		select {
		case env, ok := <-d.frames:
			if !ok {
				d.t.Fatalf("device link closed while waiting for %s", k)
			}
			if env.Seq > 0 {
				d.send(protocol.KindDeliveryCursor, protocol.DeliveryCursor{Seq: env.Seq})
			}
			if env.Type == k && (match == nil || match(env)) {
				return env
			}
		case <-deadline:
			d.t.Fatalf("device: no %s frame within 20 s", k)
		}
	}
}

// raise sends request.new with a snapshot and waits for the server's ack.
func (d *testDevice) raise(text string, snap protocol.Snapshot) string {
	d.t.Helper()
	reqID := protocol.NewID()
	id := d.send(protocol.KindRequestNew, protocol.RequestNew{RequestID: reqID, Category: protocol.CategoryProblem,
		Urgency: protocol.UrgencyBlocking, Text: text, Snapshot: &snap, CreatedAt: time.Now().UTC()})
	ack := d.wait(protocol.KindAck, func(e protocol.Envelope) bool {
		var a protocol.Ack
		return json.Unmarshal(e.Body, &a) == nil && a.ID == id
	})
	var a protocol.Ack
	json.Unmarshal(ack.Body, &a)
	if a.Ref != "" {
		return a.Ref
	}
	return reqID
}

func (d *testDevice) String() string { return fmt.Sprintf("device %s", d.id) }
