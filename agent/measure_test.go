package main

import (
	"context"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/deskside/deskside/agent/internal/enroll"
	"github.com/deskside/deskside/agent/internal/localapi"
	"github.com/deskside/deskside/server/servertest"
)

// TestMeasureIdle reports the idle RSS of `agent run --headless` after a
// minute online and the bytes on the wire while idle (through a counting
// proxy, with the server pinging every 10 s). Not a timed assert: set
// DESKSIDE_MEASURE=1 to run it; figures go to the test log. It measures the
// agent as shipped and, for comparison, built without the tray's file
// (ui_wire.go overlaid away), which is what fyne costs a headless agent.
func TestMeasureIdle(t *testing.T) {
	if os.Getenv("DESKSIDE_MEASURE") == "" {
		t.Skip("set DESKSIDE_MEASURE=1 to measure idle RSS and bytes")
	}
	for _, v := range []struct {
		name  string
		build agentBuild
	}{{"as-shipped", agentBuild{}}, {"without-ui", agentBuild{noUI: true}}} {
		bin := buildAgentWith(t, v.build)
		t.Run(v.name, func(t *testing.T) {
			t.Parallel()
			measureIdle(t, bin)
		})
	}
}

func measureIdle(t *testing.T, bin string) {
	if fi, err := os.Stat(bin); err == nil {
		t.Logf("binary %.1f MB", float64(fi.Size())/(1<<20))
	}
	const ping = 10 * time.Second
	srv := servertest.New(t, servertest.WithPingInterval(ping))
	u, _ := url.Parse(srv.URL())
	var up, down atomic.Int64
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("tcp", u.Host)
			if err != nil {
				c.Close()
				continue
			}
			go func() { _, _ = io.Copy(countWriter{s, &up}, c); s.Close() }()
			go func() { _, _ = io.Copy(countWriter{c, &down}, s); c.Close() }()
		}
	}()
	proxied := "http://" + ln.Addr().String()
	creds, err := enroll.Enroll(context.Background(), proxied, srv.Token(t), enroll.Options{})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := enroll.Save(filepath.Join(dir, "credentials.json"), creds); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "agent.sock")
	env := append(os.Environ(), "DESKSIDE_CONFIG_DIR="+dir, "DESKSIDE_SOCKET="+sock, "DESKSIDE_ENROLL_FILE="+filepath.Join(dir, "none.json"))
	p := startRun(t, bin, env)
	waitOnline(t, localapi.NewClient(sock), p)
	time.Sleep(5 * time.Second) // let the connect-time snapshot go out
	u0, d0 := up.Load(), down.Load()
	start := time.Now()
	time.Sleep(60 * time.Second)
	el := time.Since(start)
	status, _ := os.ReadFile("/proc/" + strconv.Itoa(p.cmd.Process.Pid) + "/status")
	for _, line := range strings.Split(string(status), "\n") {
		if strings.HasPrefix(line, "VmRSS") || strings.HasPrefix(line, "VmHWM") || strings.HasPrefix(line, "RssAnon") || strings.HasPrefix(line, "RssFile") {
			t.Logf("%s", line)
		}
	}
	t.Logf("idle %v, server ping every %v: server→agent %d bytes, agent→server %d bytes (WebSocket bytes, without TCP/IP headers)",
		el.Round(time.Second), ping, down.Load()-d0, up.Load()-u0)
}

type countWriter struct {
	w io.Writer
	n *atomic.Int64
}

func (c countWriter) Write(b []byte) (int, error) { c.n.Add(int64(len(b))); return c.w.Write(b) }
