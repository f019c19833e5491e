package core_test

import (
	"context"
	"net/http"
	"path/filepath"
	"slices"
	"testing"

	"github.com/deskside/deskside/agent/agentapi"
	"github.com/deskside/deskside/server/servertest"
	"github.com/deskside/deskside/shared/protocol"
)

// The amnesty loop end to end with the real server and its REST: IT turns
// the prompt on; the desk's inventory shows a per-user Figma; the server
// asks; the person says "yes, for work" (a software request linked to the
// title); IT approves it and puts it in the catalogue; the thank-you
// reaches the desk, and the catalogue lists Figma.
func TestE2ESoftwareAmnestyLoop(t *testing.T) {
	ctx := context.Background()
	srv := servertest.New(t)
	tech := srv.Tech(t)
	if st := tech.Do(t, http.MethodPut, "/api/v1/software/policy", map[string]any{"prompt": true}, nil); st != http.StatusOK {
		t.Fatalf("turn the prompt on: %d", st)
	}
	figma := protocol.SoftwareEntry{Name: "Figma", Version: "124.1.2", Publisher: "Figma, Inc.", Source: protocol.SourceAppImage, PerUser: true}
	inst := &installed{}
	inst.set(protocol.SoftwareEntry{Name: "curl", Version: "7.88.1", Source: protocol.SourceDpkg}, figma)
	a := startSoftwareAgent(t, filepath.Join(t.TempDir(), "agent.db"), enrolled(t, srv), inst)

	ev := a.waitFor(t, "IT's question about Figma", func(ev agentapi.Event) bool { return ev.Type == agentapi.EventSoftwarePrompt })
	if ev.Prompt.TitleID != figma.TitleID() || ev.Prompt.Name != "Figma" {
		t.Fatalf("prompt: %+v", ev.Prompt)
	}
	res, err := a.AnswerSoftware(ctx, figma.TitleID(), protocol.AnswerForWork)
	if err != nil || res.Request == nil {
		t.Fatalf("yes, for work: %+v, %v", res, err)
	}
	var title struct {
		Answers []struct {
			Answer    protocol.SoftwareAnswerKind `json:"answer"`
			RequestID string                      `json:"request_id"`
		} `json:"answers"`
		Requests []struct {
			ID string `json:"id"`
		} `json:"requests"`
	}
	eventually(t, "the answer and the linked request on the title page", func() bool {
		st := tech.Do(t, http.MethodGet, "/api/v1/software/"+figma.TitleID(), nil, &title)
		return st == http.StatusOK && len(title.Answers) == 1 && len(title.Requests) == 1
	})
	if title.Answers[0].Answer != protocol.AnswerForWork || title.Answers[0].RequestID != res.Request.ID || title.Requests[0].ID != res.Request.ID {
		t.Fatalf("title page: %+v", title)
	}

	patch := map[string]any{"status": "approved", "catalogue": true, "catalogue_how": "link", "catalogue_url": "https://www.figma.com/downloads/"}
	if st := tech.Do(t, http.MethodPatch, "/api/v1/software/"+figma.TitleID(), patch, nil); st != http.StatusOK {
		t.Fatalf("approve: %d", st)
	}
	ev = a.waitFor(t, "the thank-you", func(ev agentapi.Event) bool { return ev.Type == agentapi.EventSoftwareNote })
	if ev.Note.Text != "Thanks for telling us about Figma — it's approved for work, so you're all set." || ev.Note.RequestID != res.Request.ID {
		t.Fatalf("note: %+v", ev.Note)
	}
	if notes, _ := a.SoftwareNotes(ctx); len(notes) != 1 || notes[0].Status != protocol.SoftwareApproved {
		t.Fatalf("notes: %+v", notes)
	}
	if err := a.FetchCatalogue(ctx); err != nil {
		t.Fatal(err)
	}
	items, err := a.Catalogue(ctx)
	if err != nil || !slices.ContainsFunc(items, func(it protocol.CatalogueItem) bool {
		return it.TitleID == figma.TitleID() && it.URL == "https://www.figma.com/downloads/"
	}) {
		t.Fatalf("catalogue: %+v, %v", items, err)
	}
}
