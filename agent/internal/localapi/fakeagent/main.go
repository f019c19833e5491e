// Command fakeagent serves an in-memory agent (agentapitest.Fake with its
// sample articles, a known problem, and software: a list, a catalogue, a
// question about Figma and a thank-you) over the local API, so the real
// window app can be shown and photographed without a server:
// scripts/screenshots-agent-selfhelp.sh and screenshots-agent-software.sh
// run it under Xvfb.
//
// With --expectations it also carries IT's promises and two requests, one
// waiting for IT's first answer (scripts/screenshots-agent-expect.sh).
//
//	fakeagent --socket PATH [--expectations]
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
	"github.com/deskside/deskside/agent/internal/core"
	"github.com/deskside/deskside/agent/internal/localapi"
	"github.com/deskside/deskside/shared/protocol"
)

func main() {
	socket := flag.String("socket", os.Getenv("DESKSIDE_SOCKET"), "local API socket to serve")
	expect := flag.Bool("expectations", false, "carry IT's promises and two requests")
	flag.Parse()
	if err := run(*socket, *expect); err != nil {
		fmt.Fprintln(os.Stderr, "fakeagent:", err)
		os.Exit(1)
	}
}

func run(socket string, expect bool) error {
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
	if expect {
		withExpectations(f)
	}
	l, err := localapi.Listen(socket)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return localapi.Serve(ctx, l, f, nil)
}

// withExpectations gives the fake IT's promises, worded by the agent's
// own words, and a request Rob picked up but has not answered yet.
func withExpectations(f *agentapitest.Fake) {
	now := time.Now()
	blocking := protocol.Expectation{Urgency: protocol.UrgencyBlocking, FirstResponseMinutes: 30, Working: true}
	whenever := protocol.Expectation{Urgency: protocol.UrgencyWhenYouCan, FirstResponseMinutes: 110, Working: true}
	f.SetExpectations([]agentapi.Expectation{
		{Urgency: protocol.UrgencyBlocking, Text: core.ExpectationWords(blocking, "", now, time.Local)},
		{Urgency: protocol.UrgencyWhenYouCan, Text: core.ExpectationWords(whenever, "", now, time.Local)},
	})
	f.AddRequest(agentapi.Request{ID: "req_printer", Text: "The printer on floor 2 jams on every page",
		Category: protocol.CategoryProblem, Urgency: protocol.UrgencyWhenYouCan, Status: protocol.StatusInProgress,
		Sent: true, CreatedAt: now.Add(-25 * time.Minute), UpdatedAt: now.Add(-10 * time.Minute),
		Assignee:    &protocol.Person{Name: "Rob", Greeting: "Hi, I'm Rob — I'll take care of this"},
		Expectation: core.ExpectationWords(whenever, "Rob", now, time.Local)})
	f.AddRequest(agentapi.Request{ID: "req_vpn", Text: "VPN drops every hour", Category: protocol.CategoryProblem,
		Urgency: protocol.UrgencyBlocking, Status: protocol.StatusResolved, Sent: true, Answered: true, Rating: 5,
		CreatedAt: now.Add(-50 * time.Hour), UpdatedAt: now.Add(-47 * time.Hour), Assignee: &protocol.Person{Name: "Mia"}})
}
