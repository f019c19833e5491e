package devicelink_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/deskside/deskside/server/servertest"
	"github.com/deskside/deskside/shared/protocol"
)

// expectClose reads until the server closes the link and checks the code.
func expectClose(t *testing.T, c *websocket.Conn, code int) *websocket.CloseError {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		_, _, err := c.ReadMessage()
		if err == nil {
			continue
		}
		var ce *websocket.CloseError
		if !errors.As(err, &ce) {
			t.Fatalf("link ended with %v, want close %d", err, code)
		}
		if ce.Code != code {
			t.Fatalf("close code %d (%q), want %d", ce.Code, ce.Text, code)
		}
		return ce
	}
}

// expectError reads frames until an error frame and checks its code.
func expectError(t *testing.T, d *servertest.Device, code string) protocol.Error {
	t.Helper()
	var e protocol.Error
	if err := d.WaitFor(t, protocol.KindError).Decode(&e); err != nil {
		t.Fatal(err)
	}
	if e.Code != code {
		t.Fatalf("error code %q (%s), want %q", e.Code, e.Message, code)
	}
	return e
}

func connected(t *testing.T, opts ...servertest.Option) (*servertest.Server, *servertest.Device) {
	s := servertest.New(t, opts...)
	d := s.Enroll(t, "ana-laptop")
	d.Connect(t, 0)
	return s, d
}

func TestFrameOverLimitCloses1009(t *testing.T) {
	_, d := connected(t)
	big := bytes.Repeat([]byte("a"), protocol.MaxFrameBytes+1)
	_ = d.Conn.WriteMessage(websocket.TextMessage, big)
	expectClose(t, d.Conn, websocket.CloseMessageTooBig)
}

func TestInvalidJSONErrorThenClose4005(t *testing.T) {
	_, d := connected(t)
	_ = d.Conn.WriteMessage(websocket.TextMessage, []byte("{not json"))
	expectError(t, d, protocol.ErrBadJSON)
	_ = d.Conn.WriteMessage(websocket.TextMessage, []byte("[]"))
	_ = d.Conn.WriteMessage(websocket.TextMessage, []byte("nope"))
	ce := expectClose(t, d.Conn, protocol.CloseTooManyBad)
	if ce.Text == "" {
		t.Fatal("close 4005 without a reason")
	}
}

func TestUnknownKindKeepsLink(t *testing.T) {
	_, d := connected(t)
	id := d.Send(t, "bogus.kind", map[string]int{"x": 1})
	e := expectError(t, d, protocol.ErrUnknownType)
	if e.Ref != id || !strings.Contains(e.Message, "bogus.kind") {
		t.Fatalf("error frame %+v", e)
	}
	d.RaiseRequest(t, "still here") // the link works
}

func TestWrongVersionCloses4004(t *testing.T) {
	t.Run("at hello", func(t *testing.T) {
		s := servertest.New(t)
		d := s.Enroll(t, "old-laptop")
		c, _, err := d.Dial()
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		_ = c.WriteMessage(websocket.TextMessage, []byte(`{"v":2,"type":"hello","id":"x","ts":"2026-01-01T00:00:00Z","body":{}}`))
		ce := expectClose(t, c, protocol.CloseBadVersion)
		if !strings.Contains(ce.Text, "v1") {
			t.Fatalf("reason %q does not name the version", ce.Text)
		}
	})
	t.Run("mid-link", func(t *testing.T) {
		_, d := connected(t)
		_ = d.Conn.WriteMessage(websocket.TextMessage, []byte(`{"v":9,"type":"request.new","id":"x","ts":"2026-01-01T00:00:00Z"}`))
		expectClose(t, d.Conn, protocol.CloseBadVersion)
	})
}

func TestRateLimitErrorThenClose4006(t *testing.T) {
	_, d := connected(t, servertest.WithDeviceRate(1, 2))
	for range 12 {
		d.Send(t, protocol.KindTelemetry, protocol.Telemetry{At: time.Now()})
	}
	expectError(t, d, protocol.ErrRateLimited)
	expectClose(t, d.Conn, protocol.CloseRateLimited)
}

func TestCrossDeviceRequestRefused(t *testing.T) {
	s := servertest.New(t)
	ana := s.Enroll(t, "ana-laptop")
	ana.Connect(t, 0)
	reqID := ana.RaiseRequest(t, "Printer jams")
	eve := s.Enroll(t, "eve-laptop")
	eve.Connect(t, 0)

	eve.Send(t, protocol.KindRequestReply, protocol.RequestReply{RequestID: reqID, MessageID: protocol.NewID(), Text: "mine now"})
	expectError(t, eve, protocol.ErrForbidden)
	eve.Send(t, protocol.KindRequestReopen, protocol.RequestReopen{RequestID: reqID})
	expectError(t, eve, protocol.ErrForbidden)
	eve.Send(t, protocol.KindRequestNew, protocol.RequestNew{RequestID: reqID, Category: protocol.CategoryProblem,
		Urgency: protocol.UrgencyBlocking, Text: "overwrite"})
	expectError(t, eve, protocol.ErrForbidden)

	var detail struct {
		Request  protocol.RequestSummary
		Messages []protocol.Message
	}
	tech := s.Tech(t)
	tech.Do(t, "GET", "/api/v1/requests/"+reqID, nil, &detail)
	if detail.Request.DeviceID != ana.ID || detail.Request.Text != "Printer jams" || len(detail.Messages) != 0 ||
		detail.Request.Status != protocol.StatusNew {
		t.Fatalf("another device touched the request: %+v", detail)
	}
}

func TestRepeatedIDStoredOnce(t *testing.T) {
	s, d := connected(t)
	env, _ := protocol.New(protocol.KindRequestNew, protocol.RequestNew{RequestID: protocol.NewID(),
		Category: protocol.CategoryQuestion, Urgency: protocol.UrgencyWhenYouCan, Text: "How do I share my screen?"})
	for i := range 3 {
		d.SendEnvelope(t, env)
		var a protocol.Ack
		if err := d.WaitFor(t, protocol.KindAck).Decode(&a); err != nil {
			t.Fatal(err)
		}
		if a.ID != env.ID || a.Duplicate != (i > 0) {
			t.Fatalf("ack %d: %+v", i, a)
		}
	}
	var list struct{ Requests []protocol.RequestSummary }
	s.Tech(t).Do(t, "GET", "/api/v1/requests", nil, &list)
	if len(list.Requests) != 1 {
		t.Fatalf("%d requests stored, want 1", len(list.Requests))
	}
}

func TestBadBodyRefused(t *testing.T) {
	_, d := connected(t)
	d.Send(t, protocol.KindRequestNew, protocol.RequestNew{RequestID: "r1", Category: "rant", Urgency: protocol.UrgencyBlocking, Text: "x"})
	expectError(t, d, protocol.ErrBadBody)
	d.Send(t, protocol.KindRequestNew, protocol.RequestNew{RequestID: "r2", Category: protocol.CategoryProblem, Urgency: protocol.UrgencyBlocking,
		Text: "big", Screenshot: &protocol.Attachment{Type: "image/png", Data: make([]byte, protocol.MaxScreenshotBytes+1)}})
	expectError(t, d, protocol.ErrBadBody)
}

func TestDeviceRevokedMidConnection(t *testing.T) {
	s, d := connected(t)
	tech := s.Tech(t)
	if st := tech.Do(t, "POST", "/api/v1/devices/"+d.ID+"/revoke", nil, nil); st != http.StatusNoContent {
		t.Fatalf("revoke: %d", st)
	}
	expectClose(t, d.Conn, protocol.CloseRevoked)
	_, resp, err := d.Dial()
	if err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
		t.Fatalf("revoked device reconnected: err %v resp %v", err, resp)
	}
}

func TestWrongDeviceSecretRefused(t *testing.T) {
	s := servertest.New(t)
	d := s.Enroll(t, "ana-laptop")
	d.Secret = "not-the-secret"
	_, resp, err := d.Dial()
	if err == nil || resp == nil || resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("wrong secret accepted: err %v resp %v", err, resp)
	}
}

// A frame header may claim any 64-bit length. One beyond the limit closes
// the link with 1009 (message too big), also when it does not fit an int64
// (2^63, which gorilla refuses without a close frame of its own). Only the
// header is sent: the server must decide on the claim alone.
func TestHugeLengthClaimCloses1009(t *testing.T) {
	for _, claim := range []uint64{1 << 63, 1<<63 - 1, math.MaxUint64} {
		t.Run(strconv.FormatUint(claim, 10), func(t *testing.T) {
			_, d := connected(t)
			header := []byte{0x81, 0x80 | 127} // FIN + text; masked (client → server), 64-bit length follows
			header = binary.BigEndian.AppendUint64(header, claim)
			header = append(header, 1, 2, 3, 4) // masking key
			if _, err := d.Conn.UnderlyingConn().Write(header); err != nil {
				t.Fatal(err)
			}
			expectClose(t, d.Conn, websocket.CloseMessageTooBig)
		})
	}
}

// The same claim in place of hello is refused with 1009 too.
func TestHugeLengthClaimAtHelloCloses1009(t *testing.T) {
	s := servertest.New(t)
	d := s.Enroll(t, "ana-laptop")
	c, _, err := d.Dial()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	header := binary.BigEndian.AppendUint64([]byte{0x81, 0x80 | 127}, 1<<63)
	if _, err := c.UnderlyingConn().Write(append(header, 1, 2, 3, 4)); err != nil {
		t.Fatal(err)
	}
	expectClose(t, c, websocket.CloseMessageTooBig)
}

// A seq beyond what the store can hold is refused (found by
// FuzzDeviceFrame): as a delivery cursor it broke the device's replay and
// would fail every cursor batch it joined; as hello's last_seq it made every
// reconnect end in 1011.
func TestSeqBeyondStoreRefused(t *testing.T) {
	_, d := connected(t)
	d.Send(t, protocol.KindDeliveryCursor, protocol.DeliveryCursor{Seq: math.MaxUint64})
	expectError(t, d, protocol.ErrBadBody)
	d.Conn.Close()
	d.Connect(t, 0) // the replay still reads

	c, _, err := d.Dial()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	env, _ := protocol.New(protocol.KindHello, protocol.Hello{AgentVersion: "1.0.0", LastSeq: 1 << 63})
	data, _ := env.Marshal()
	if err := c.WriteMessage(websocket.TextMessage, data); err != nil {
		t.Fatal(err)
	}
	expectClose(t, c, protocol.CloseTooManyBad)
}

// Self-help frames with bad bodies are refused, and the link stays.
func TestBadSelfHelpFrames(t *testing.T) {
	s := servertest.New(t)
	d := s.Enroll(t, "ana-laptop")
	d.Connect(t, 0)
	for _, c := range []struct {
		kind protocol.Kind
		body any
		code string
	}{
		{protocol.KindArticleFeedback, protocol.ArticleFeedback{ArticleID: "", Event: protocol.ArticleViewed}, protocol.ErrBadBody},
		{protocol.KindArticleFeedback, protocol.ArticleFeedback{ArticleID: "a", Event: "liked"}, protocol.ErrBadBody},
		{protocol.KindArticleFeedback, map[string]any{"article_id": 5}, protocol.ErrBadBody},
		{protocol.KindAnnouncementMeToo, protocol.AnnouncementMeToo{AnnouncementID: strings.Repeat("x", 65)}, protocol.ErrBadBody},
		{protocol.KindAnnouncementMeToo, protocol.AnnouncementMeToo{AnnouncementID: "ann_none"}, protocol.ErrNotFound},
	} {
		id := d.Send(t, c.kind, c.body)
		var e protocol.Error
		if err := d.WaitFor(t, protocol.KindError).Decode(&e); err != nil || e.Ref != id || e.Code != c.code {
			t.Errorf("%s %+v: error %+v %v, want %s", c.kind, c.body, e, err, c.code)
		}
	}
}
