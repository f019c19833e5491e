package api_test

import (
	"bufio"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"runtime/pprof"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/deskside/deskside/server/servertest"
	"github.com/deskside/deskside/shared/protocol"
)

// BenchmarkRouteDeviceToTechnician: a user's message from the device's
// socket to a technician's console socket, stored on the way (ns/op is the
// round trip from write to read).
func BenchmarkRouteDeviceToTechnician(b *testing.B) {
	s := servertest.New(b, servertest.WithDeviceRate(1e9, 1e9))
	con := s.Tech(b).Console(b)
	d := s.Enroll(b, "bench-pc")
	d.Connect(b, 0)
	reqID := d.RaiseRequest(b, "bench")
	con.WaitFor(b, protocol.KindRequestCreated)
	b.ResetTimer()
	for range b.N {
		d.Send(b, protocol.KindRequestReply, protocol.RequestReply{RequestID: reqID, MessageID: protocol.NewID(), Text: "ping"})
		con.WaitFor(b, protocol.KindDeviceMessage)
	}
}

// BenchmarkRouteTelemetry: live telemetry device → console (not stored).
func BenchmarkRouteTelemetry(b *testing.B) {
	s := servertest.New(b, servertest.WithDeviceRate(1e9, 1e9))
	con := s.Tech(b).Console(b)
	d := s.Enroll(b, "bench-pc")
	d.Connect(b, 0)
	b.ResetTimer()
	for range b.N {
		d.Send(b, protocol.KindTelemetry, protocol.Telemetry{At: time.Now(), CPUPct: 12})
		con.WaitFor(b, protocol.KindDeviceTelem)
	}
}

// BenchmarkRequestsStored: request.new frames pipelined over one link, each
// acknowledged after a durable (synchronous=FULL) commit.
func BenchmarkRequestsStored(b *testing.B) {
	s := servertest.New(b, servertest.WithDeviceRate(1e9, 1e9))
	d := s.Enroll(b, "bench-pc")
	d.Connect(b, 0)
	snap := &protocol.Snapshot{TakenAt: time.Now().UTC(), Host: protocol.Host{Hostname: "bench-pc", OS: "linux"}}
	b.ResetTimer()
	start := time.Now()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range b.N {
			d.WaitFor(b, protocol.KindAck)
		}
	}()
	for range b.N {
		d.Send(b, protocol.KindRequestNew, protocol.RequestNew{RequestID: protocol.NewID(), Category: protocol.CategoryProblem,
			Urgency: protocol.UrgencyBlocking, Text: "The printer on floor 2 is jammed", Snapshot: snap})
	}
	<-done
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "requests/s")
}

// BenchmarkIdleDeviceMemory measures server memory per idle device link:
// the devices run in a child process (so their own buffers do not count),
// connect and say hello, then stay idle while the server's heap and stacks
// are measured after GC. Set DESKSIDE_BENCH_CONNS to change N (default 2000).
func BenchmarkIdleDeviceMemory(b *testing.B) {
	n := 2000
	if v := os.Getenv("DESKSIDE_BENCH_CONNS"); v != "" {
		_, _ = fmt.Sscan(v, &n)
	}
	s := servertest.New(b)
	var creds strings.Builder
	for range n {
		d := s.Enroll(b, "idle-pc")
		fmt.Fprintf(&creds, "%s %s\n", d.ID, d.Secret)
	}
	file := b.TempDir() + "/creds"
	if err := os.WriteFile(file, []byte(creds.String()), 0o600); err != nil {
		b.Fatal(err)
	}
	before := inUse()
	cmd := exec.Command(os.Args[0], "-test.run=^TestIdleDeviceFarm$")
	cmd.Env = append(os.Environ(), "DESKSIDE_FARM_CREDS="+file, "DESKSIDE_FARM_URL="+s.WSURL(protocol.DevicePath))
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() { stdin.Close(); _ = cmd.Wait() }()
	sc := bufio.NewScanner(stdout)
	for sc.Scan() && !strings.HasPrefix(sc.Text(), "READY") {
	}
	time.Sleep(500 * time.Millisecond) // let writers finish and exit
	after := inUse()
	if f := os.Getenv("DESKSIDE_BENCH_HEAPPROFILE"); f != "" {
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		fmt.Fprintf(os.Stderr, "heap in use %d, stacks %d, goroutines %d\n", m.HeapInuse, m.StackInuse, runtime.NumGoroutine())
		out, _ := os.Create(f)
		_ = pprof.WriteHeapProfile(out)
		out.Close()
	}
	b.ReportMetric(float64(after-before)/float64(n), "bytes/idle-conn")
	b.ReportMetric(float64(runtime.NumGoroutine())/float64(n), "goroutines/conn")
	for range b.N {
	}
}

func inUse() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse + m.StackInuse
}

// TestIdleDeviceFarm is the child process of BenchmarkIdleDeviceMemory.
func TestIdleDeviceFarm(t *testing.T) {
	file := os.Getenv("DESKSIDE_FARM_CREDS")
	if file == "" {
		t.Skip("helper process for BenchmarkIdleDeviceMemory")
	}
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var conns []*websocket.Conn
	dl := websocket.Dialer{ReadBufferSize: 512, WriteBufferSize: 512}
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		id, secret, _ := strings.Cut(line, " ")
		h := http.Header{}
		h.Set("Authorization", protocol.DeviceAuthHeader(id, secret))
		c, _, err := dl.Dial(os.Getenv("DESKSIDE_FARM_URL"), h)
		if err != nil {
			t.Fatal(err)
		}
		env, _ := protocol.New(protocol.KindHello, protocol.Hello{AgentVersion: "1.0.0", OS: "linux", Arch: "amd64"})
		msg, _ := env.Marshal()
		if err := c.WriteMessage(websocket.TextMessage, msg); err != nil {
			t.Fatal(err)
		}
		if _, _, err := c.ReadMessage(); err != nil { // welcome
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	fmt.Println("READY", len(conns))
	_, _ = bufio.NewReader(os.Stdin).ReadString('\n') // until the parent closes stdin
	for _, c := range conns {
		c.Close()
	}
}
