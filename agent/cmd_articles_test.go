package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/deskside/deskside/agent/agentapi"
	"github.com/deskside/deskside/agent/agentapi/agentapitest"
)

func TestArticlesCommand(t *testing.T) {
	ctx := context.Background()
	f := agentapitest.NewFake()
	f.SetArticles(agentapitest.SampleArticles())
	run := func(args ...string) (string, error) {
		var out strings.Builder
		err := articlesCommand(ctx, &out, f, args)
		return out.String(), err
	}

	out, err := run("search", "vpn", "certificate")
	if err != nil || !strings.Contains(out, "From the help desk:") || !strings.Contains(out, "art_vpn") || !strings.Contains(out, "VPN says certificate expired") {
		t.Fatalf("search:\n%s\n%v", out, err)
	}
	out, err = run("search", "--json", "printer")
	var s agentapi.Suggestions
	if err != nil || json.Unmarshal([]byte(out), &s) != nil || s.Source != agentapi.SourceServer || len(s.Articles) != 2 || s.Query != "printer" {
		t.Fatalf("search --json:\n%s\n%v", out, err)
	}
	out, err = run("search", "printer", "--json")
	if err != nil || json.Unmarshal([]byte(out), &s) != nil || len(s.Articles) != 2 {
		t.Fatalf("search WORDS --json:\n%s\n%v", out, err)
	}
	f.SetStatus(agentapi.Connection{State: agentapi.ConnOffline})
	if out, err = run("search", "printer"); err != nil || !strings.Contains(out, "on this computer") {
		t.Fatalf("offline search:\n%s\n%v", out, err)
	}
	if out, err = run("search", `"NEAR(*`, "-x"); err != nil || !strings.Contains(out, "No help articles match") {
		t.Fatalf("syntax characters:\n%s\n%v", out, err)
	}
	if out, err = run("show", "art_vpn"); err != nil || !strings.HasPrefix(out, "VPN says certificate expired\n\n") || !strings.Contains(out, "Renew certificate") {
		t.Fatalf("show:\n%s\n%v", out, err)
	}
	if _, err = run("show", "art_nope"); !agentapi.IsCode(err, agentapi.CodeNotFound) {
		t.Fatalf("show unknown: %v", err)
	}
	for _, args := range [][]string{{}, {"search"}, {"search", "  "}, {"show"}, {"find", "x"}} {
		if _, err := run(args...); err == nil {
			t.Errorf("articles %q: no error", args)
		}
	}
}
