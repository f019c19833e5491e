// Command fakeagent serves an in-memory agent (agentapitest.Fake with its
// sample articles and a known problem) over the local API, so the real
// window app can be shown and photographed without a server:
// scripts/screenshots-agent-selfhelp.sh runs it under Xvfb.
//
//	fakeagent --socket PATH
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/deskside/deskside/agent/agentapi"
	"github.com/deskside/deskside/agent/agentapi/agentapitest"
	"github.com/deskside/deskside/agent/internal/localapi"
	"github.com/deskside/deskside/shared/protocol"
)

func main() {
	socket := flag.String("socket", os.Getenv("DESKSIDE_SOCKET"), "local API socket to serve")
	flag.Parse()
	if err := run(*socket); err != nil {
		fmt.Fprintln(os.Stderr, "fakeagent:", err)
		os.Exit(1)
	}
}

func run(socket string) error {
	f := agentapitest.NewFake()
	f.SetStatus(agentapi.Connection{State: agentapi.ConnOnline, ServerName: "Acme IT", Server: "https://help.acme.test",
		AgentVersion: "1.0.0", Since: time.Now()})
	f.SetArticles(agentapitest.SampleArticles())
	f.AddAnnouncement(agentapi.Announcement{ID: "ann_mail", Title: "Email is down", Text: "Until 23:00 — IT is on it.",
		Kind: protocol.AnnouncementKnownProblem, Author: protocol.Person{Name: "Rob"}, CreatedAt: time.Now()})
	l, err := localapi.Listen(socket)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return localapi.Serve(ctx, l, f, nil)
}
