package api_test

import (
	"errors"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/deskside/deskside/server/servertest"
	"github.com/deskside/deskside/shared/protocol"
)

// A device that stops reading is closed as a slow consumer once its small
// send queue overflows, while another device and the console keep getting
// their frames; what the slow one missed is replayed when it comes back.
func TestSlowConsumerIsClosedOthersFlow(t *testing.T) {
	t.Parallel()
	s := servertest.New(t, servertest.WithQueueLen(4), servertest.WithDeviceRate(1e9, 1e9))
	tech := s.Tech(t)
	con := tech.Console(t)
	slow, fast := s.Enroll(t, "slow-pc"), s.Enroll(t, "fast-pc")
	slow.Connect(t, 0)
	fast.Connect(t, 0)
	slowReq, fastReq := slow.RaiseRequest(t, "slow"), fast.RaiseRequest(t, "fast")
	// Shrink the receive buffer so the kernel holds little for the server.
	if tc, ok := slow.Conn.UnderlyingConn().(*net.TCPConn); ok {
		_ = tc.SetReadBuffer(4096)
	}
	// From here the slow device reads nothing. Each reply is ~40 KB (10,000
	// four-byte runes), so the socket buffers fill after a few MB and the
	// hub's queue of 4 overflows.
	big := strings.Repeat("𝄞", protocol.MaxTextRunes)
	sent := 0
	for ; sent < 1000; sent++ {
		reply(t, tech, slowReq, big)
		var d struct{ Online bool }
		tech.Do(t, "GET", "/api/v1/devices/"+slow.ID, nil, &d)
		if !d.Online {
			break
		}
		if sent%20 == 0 { // the fast device is served meanwhile
			reply(t, tech, fastReq, "still here")
			fast.WaitFor(t, protocol.KindMessage)
		}
	}
	if sent == 1000 {
		t.Fatal("the slow device was never closed")
	}
	t.Logf("closed after %d replies of %d bytes", sent+1, len(big))
	if n := metric(t, s, "deskside_slow_consumer_closes_total"); n != "1" {
		t.Fatalf("slow consumer closes = %s, want 1", n)
	}
	// The slow device finds its link closed; if the close frame got through
	// the full buffers it says 4003.
	_ = slow.Conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		_, _, err := slow.Conn.ReadMessage()
		if err == nil {
			continue
		}
		var ce *websocket.CloseError
		if errors.As(err, &ce) && ce.Code != protocol.CloseSlowConsumer && ce.Code != websocket.CloseAbnormalClosure {
			t.Fatalf("slow device closed with %d, want %d", ce.Code, protocol.CloseSlowConsumer)
		}
		break
	}
	// Others are unaffected.
	reply(t, tech, fastReq, "after")
	if env := fast.WaitFor(t, protocol.KindMessage); env.Type != protocol.KindMessage {
		t.Fatal("fast device got nothing")
	}
	fast.Send(t, protocol.KindTelemetry, protocol.Telemetry{At: time.Now(), CPUPct: 5})
	con.WaitFor(t, protocol.KindDeviceTelem)
	// Nothing lost: the slow device resumes and gets every reply.
	slow.Close()
	w := slow.Connect(t, 0)
	got := 0
	for seq := w.ReplayFrom; seq <= w.ReplayTo && w.ReplayTo > 0; seq++ {
		if env := slow.Next(t); env.Type == protocol.KindMessage {
			got++
		}
	}
	if got < sent {
		t.Fatalf("replayed %d messages, want at least the %d sent", got, sent)
	}
}

func metric(t *testing.T, s *servertest.Server, name string) string {
	t.Helper()
	resp, err := http.Get(s.URL() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b strings.Builder
	buf := make([]byte, 32<<10)
	for {
		n, err := resp.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			break
		}
	}
	for _, line := range strings.Split(b.String(), "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			return v
		}
	}
	return ""
}
