package devicelink_test

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/deskside/deskside/server/servertest"
	"github.com/deskside/deskside/shared/protocol"
)

// FuzzDeviceFrame sends arbitrary bytes as one frame from a connected
// device through the real gateway, hub and store. Whatever arrives, the
// gateway must not fall over: it acks the frame, refuses it with an error
// frame, or closes the link with one of the protocol's close codes; and a
// link left open still acks the next frame.
func FuzzDeviceFrame(f *testing.F) {
	s := servertest.New(f, servertest.WithDeviceRate(1e9, 1e9))
	d := s.Enroll(f, "fuzz-pc")
	for _, seed := range []string{
		`{"v":1,"type":"request.reopen","id":"f1","ts":"2026-01-01T00:00:00Z","body":{"request_id":"nope"}}`,
		`{"v":1,"type":"telemetry","id":"f2","ts":"2026-01-01T00:00:00Z","body":{"cpu_percent":12}}`,
		`{"v":1,"type":"check.report","id":"f3","ts":"2026-01-01T00:00:00Z","body":{"check":"disk_space","state":"warn","summary":"3.1 GB left","evidence":{"free_gb":"3.1"},"observed_at":"2026-01-01T00:00:00Z"}}`,
		`{"v":1,"type":"check.report","id":"f4","ts":"2026-01-01T00:00:00Z","body":{"check":"future_check","state":"asked_it","request_id":"req_1","observed_at":"2026-01-01T00:00:00Z"}}`,
		`{"v":1,"type":"article.feedback","id":"f5","ts":"2026-01-01T00:00:00Z","body":{"article_id":"art_1","event":"solved"}}`,
		`{"v":1,"type":"announcement.metoo","id":"f6","ts":"2026-01-01T00:00:00Z","body":{"announcement_id":"ann_1"}}`,
		`{"v":1,"type":"software.inventory","id":"f7","ts":"2026-01-01T00:00:00Z","body":{"full":true,"hash":"sha256:0000000000000000000000000000000000000000000000000000000000000000","entries":[{"name":"vim","version":"9","source":"dpkg"}]}}`,
		`{"v":1,"type":"software.inventory","id":"f8","ts":"2026-01-01T00:00:00Z","body":{"base_hash":"sha256:1111111111111111111111111111111111111111111111111111111111111111","hash":"sha256:0000000000000000000000000000000000000000000000000000000000000000","added":[{"name":"Figma","source":"appimage","per_user":true}]}}`,
		`{"v":1,"type":"software.answer","id":"f9","ts":"2026-01-01T00:00:00Z","body":{"title_id":"sw_0123456789abcdef","answer":"work","request_id":"req_1"}}`,
	} {
		f.Add([]byte(seed))
	}
	closes := []int{websocket.CloseMessageTooBig, protocol.CloseBadVersion, protocol.CloseTooManyBad, protocol.CloseRateLimited}
	f.Fuzz(func(t *testing.T, frame []byte) {
		d.Connect(t, 0)
		if err := d.Conn.WriteMessage(websocket.TextMessage, frame); err != nil {
			t.Fatal(err)
		}
		probe, err := protocol.New(protocol.KindDeliveryCursor, protocol.DeliveryCursor{})
		if err != nil {
			t.Fatal(err)
		}
		probeData, _ := probe.Marshal()
		_ = d.Conn.WriteMessage(websocket.TextMessage, probeData) // fails only when the link is closing: read the close below
		_ = d.Conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		for {
			_, data, err := d.Conn.ReadMessage()
			var ce *websocket.CloseError
			switch {
			case errors.As(err, &ce) && slices.Contains(closes, ce.Code):
				return
			case err != nil:
				t.Fatalf("after frame %q the link ended with %v", frame, err)
			}
			env, err := protocol.Parse(data)
			if err != nil {
				t.Fatalf("the server sent %q: %v", data, err)
			}
			var ack protocol.Ack
			if env.Type == protocol.KindAck && env.Decode(&ack) == nil && ack.ID == probe.ID {
				return
			}
		}
	})
}
