// Command fakeagent serves an in-memory agent (agentapitest.Fake with its
// sample articles, a known problem, and software: a list, a catalogue, a
// question about Figma and a thank-you) over the local API, so the real
// window app can be shown and photographed without a server:
// scripts/screenshots-agent-selfhelp.sh and screenshots-agent-software.sh
// run it under Xvfb.
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
	// Software amnesty: this computer's list, IT's catalogue, a question
	// about Figma (a per-user AppImage) and a thank-you.
	f.SetSoftware(agentapitest.SampleSoftware())
	f.SetCatalogue(agentapitest.SampleCatalogue())
	f.SendSoftwareNote(agentapi.SoftwareNote{TitleID: protocol.SoftwareTitleID("Obsidian", "", protocol.SourceDesktop),
		Name: "Obsidian", Status: protocol.SoftwareApproved, Title: "Thank you for telling us about Obsidian",
		Text: "IT approved Obsidian for work, so it's looked after now. Thanks for telling us!", At: time.Now().Add(-26 * time.Hour)})
	f.AskSoftware(agentapi.SoftwarePrompt{TitleID: protocol.SoftwareTitleID("Figma", "Figma, Inc.", protocol.SourceAppImage),
		Name: "Figma", Publisher: "Figma, Inc.", Version: "124.1.2", AskedAt: time.Now(),
		Text: "You use Figma. Is it for your work? Telling IT helps us keep it safe and supported — you're not in any trouble."})
	l, err := localapi.Listen(socket)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return localapi.Serve(ctx, l, f, nil)
}
