package webhooks

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/deskside/deskside/server/internal/events"
	"github.com/deskside/deskside/server/internal/store"
	"github.com/deskside/deskside/shared/protocol"
)

var update = flag.Bool("update", false, "rewrite golden files")

func goldenEvents() map[string]events.Event {
	t0 := time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)
	req := &protocol.RequestSummary{RequestID: "req_1", DeviceID: "dev_1", Hostname: "ana-laptop", User: "ana", Category: protocol.CategoryProblem,
		Urgency: protocol.UrgencyBlocking, Status: protocol.StatusNew, Text: "The VPN drops every <5> minutes & I can't join calls [see](https://evil.example)",
		CreatedAt: t0, UpdatedAt: t0}
	url := "https://help.example.com/#/requests/req_1"
	return map[string]events.Event{
		"request_created": {ID: "evt_1", Type: events.RequestCreated, At: t0, Data: events.Data{Request: req, URL: url}},
		"target_slipping": {ID: "evt_2", Type: events.TargetSlipping, At: t0, Data: events.Data{Request: req, AssigneeName: "Rob",
			Target: &events.Target{Kind: "first_response", Due: t0.Add(30 * time.Minute)}, URL: url}},
	}
}

// TestChatGolden pins the Slack and Teams messages, and checks each
// against the shape its documentation gives.
func TestChatGolden(t *testing.T) {
	for name, ev := range goldenEvents() {
		for _, kind := range []string{store.WebhookSlack, store.WebhookTeams} {
			b, err := Payload(kind, ev, "Acme IT")
			if err != nil {
				t.Fatal(err)
			}
			var pretty bytes.Buffer
			_ = json.Indent(&pretty, b, "", "  ")
			pretty.WriteByte('\n')
			path := filepath.Join("testdata", kind+"_"+name+".golden.json")
			if *update {
				if err := os.WriteFile(path, pretty.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to write it)", err)
			}
			if !bytes.Equal(pretty.Bytes(), want) {
				t.Errorf("%s differs from the golden file:\n%s", path, pretty.Bytes())
			}
			var m map[string]any
			if err := json.Unmarshal(b, &m); err != nil {
				t.Fatal(err)
			}
			if kind == store.WebhookSlack {
				checkSlack(t, m, ev.Data.URL)
			} else {
				checkTeams(t, m, ev.Data.URL)
			}
		}
	}
}

// checkSlack: an incoming-webhook message has a text fallback and at
// most 50 blocks of known types; a header's text is plain_text of at
// most 150 characters; a section's text at most 3,000 and at most 10
// fields; the button's url opens the request.
func checkSlack(t *testing.T, m map[string]any, url string) {
	t.Helper()
	if s, _ := m["text"].(string); s == "" {
		t.Error("slack: no text fallback")
	}
	blocks, _ := m["blocks"].([]any)
	if len(blocks) == 0 || len(blocks) > 50 {
		t.Fatalf("slack: %d blocks", len(blocks))
	}
	found := false
	for _, b := range blocks {
		blk := b.(map[string]any)
		switch blk["type"] {
		case "header":
			txt := blk["text"].(map[string]any)
			if txt["type"] != "plain_text" || len([]rune(txt["text"].(string))) > 150 {
				t.Errorf("slack: bad header %v", txt)
			}
		case "section":
			if txt, ok := blk["text"].(map[string]any); ok && len(txt["text"].(string)) > 3000 {
				t.Error("slack: section text over 3,000 characters")
			}
			if txt, ok := blk["text"].(map[string]any); ok && strings.Contains(txt["text"].(string), "I can't join") && txt["type"] != "plain_text" {
				t.Error("slack: the person's words must be plain_text")
			}
			if f, ok := blk["fields"].([]any); ok && len(f) > 10 {
				t.Error("slack: over 10 fields")
			}
		case "actions":
			for _, e := range blk["elements"].([]any) {
				el := e.(map[string]any)
				if el["type"] == "button" && el["url"] == url {
					found = true
				}
			}
		default:
			t.Errorf("slack: unexpected block type %v", blk["type"])
		}
	}
	if !found {
		t.Error("slack: no button linking the request")
	}
}

// checkTeams: a Workflows webhook takes {"type":"message","attachments":
// [{"contentType":"application/vnd.microsoft.card.adaptive","content":card}]}
// where card is an AdaptiveCard with a version and a body.
func checkTeams(t *testing.T, m map[string]any, url string) {
	t.Helper()
	if m["type"] != "message" {
		t.Fatalf("teams: type %v", m["type"])
	}
	att, _ := m["attachments"].([]any)
	if len(att) != 1 {
		t.Fatalf("teams: %d attachments", len(att))
	}
	a := att[0].(map[string]any)
	if a["contentType"] != "application/vnd.microsoft.card.adaptive" {
		t.Fatalf("teams: contentType %v", a["contentType"])
	}
	card := a["content"].(map[string]any)
	if card["type"] != "AdaptiveCard" || card["version"] == "" || len(card["body"].([]any)) == 0 {
		t.Fatalf("teams: card %v", card)
	}
	for i, b := range card["body"].([]any) {
		el := b.(map[string]any)
		switch el["type"] {
		case "TextBlock":
			if i != 0 {
				t.Errorf("teams: a TextBlock (markdown) past the title: %v", el)
			}
		case "RichTextBlock":
			for _, in := range el["inlines"].([]any) {
				if in.(map[string]any)["type"] != "TextRun" {
					t.Errorf("teams: inline %v", in)
				}
			}
		default:
			t.Errorf("teams: unexpected element %v", b)
		}
	}
	acts, _ := card["actions"].([]any)
	if len(acts) != 1 || acts[0].(map[string]any)["type"] != "Action.OpenUrl" || acts[0].(map[string]any)["url"] != url {
		t.Errorf("teams: actions %v", acts)
	}
}
