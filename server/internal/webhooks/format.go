package webhooks

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/deskside/deskside/server/internal/events"
	"github.com/deskside/deskside/server/internal/store"
	"github.com/deskside/deskside/shared/protocol"
)

// ChatDefaultEvents are what a Slack or Teams endpoint hears unless the
// admin picks otherwise: new "blocking my work" requests and targets
// about to slip.
var ChatDefaultEvents = []string{string(events.RequestCreated), string(events.TargetSlipping)}

// wants reports whether endpoint e should get ev. Chat endpoints are for
// alerts, so of new requests they only hear the blocking ones.
func wants(e store.WebhookEndpoint, ev events.Event) bool {
	if e.Disabled || !e.Subscribed(string(ev.Type)) {
		return false
	}
	if e.Kind != store.WebhookStandard && ev.Type == events.RequestCreated {
		return ev.Data.Request != nil && ev.Data.Request.Urgency == protocol.UrgencyBlocking
	}
	return true
}

// Payload is the body sent to an endpoint of kind for ev.
func Payload(kind string, ev events.Event, serverName string) ([]byte, error) {
	switch kind {
	case store.WebhookSlack:
		return marshal(slackMessage(ev, serverName))
	case store.WebhookTeams:
		return marshal(teamsMessage(ev, serverName))
	}
	return json.Marshal(ev)
}

// marshal is JSON without HTML escaping: chat messages are not HTML, and
// "&amp;" must reach Slack as Slack's own escape, not as \u0026amp;.
func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(b.Bytes(), "\n"), nil
}

// alert is what a chat message says, whatever the chat.
type alert struct {
	Title  string      // one line, plain
	Text   string      // the request's words or a short description
	Facts  [][2]string // label, value
	URL    string
	Button string
}

func alertFor(ev events.Event, serverName string) alert {
	a := alert{URL: ev.Data.URL, Button: "Open in the console"}
	d := ev.Data
	host := ""
	if r := d.Request; r != nil {
		host = r.Hostname
		if r.User != "" {
			host = r.User + " on " + r.Hostname
		}
		a.Text = clip(r.Text, 600)
		a.Facts = append(a.Facts, [2]string{"From", host}, [2]string{"Category", string(r.Category)},
			[2]string{"Status", string(r.Status)})
		if d.AssigneeName != "" {
			a.Facts = append(a.Facts, [2]string{"Assigned to", d.AssigneeName})
		}
	}
	switch ev.Type {
	case events.RequestCreated:
		a.Title = "New request: blocking their work"
		if d.Request != nil && d.Request.Urgency != protocol.UrgencyBlocking {
			a.Title = "New request"
		}
	case events.TargetSlipping:
		a.Title = "A response target is about to slip"
		if t := d.Target; t != nil {
			kind := "First response"
			if t.Kind == "resolution" {
				kind = "Resolution"
			}
			a.Facts = append(a.Facts, [2]string{kind + " due", t.Due.UTC().Format("Mon 2 Jan 15:04 MST")})
		}
	case events.RequestUpdated:
		a.Title = "Request updated"
	case events.RequestResolved:
		a.Title = "Request resolved"
	case events.RequestRated:
		a.Title = "Request rated"
		if d.Request != nil && d.Request.Rating > 0 {
			a.Facts = append(a.Facts, [2]string{"Rating", fmt.Sprintf("%d of 5", d.Request.Rating)})
		}
	case events.SoftwareReported:
		a.Title = "Software reported for work"
		if s := d.Software; s != nil {
			a.Text = s.Name
			if s.Note != "" {
				a.Text += ": " + clip(s.Note, 300)
			}
			a.Facts = append(a.Facts, [2]string{"Device", s.Hostname})
		}
	case events.HeadsUpFixed, events.HeadsUpAsked:
		a.Title = "Heads-up fixed by the employee"
		if ev.Type == events.HeadsUpAsked {
			a.Title = "Heads-up: the employee asks for help"
		}
		if h := d.HeadsUp; h != nil {
			a.Facts = append(a.Facts, [2]string{"Check", string(h.Check)}, [2]string{"Device", h.Hostname})
		}
	default:
		a.Title = string(ev.Type)
	}
	if serverName != "" {
		a.Title = serverName + ": " + a.Title
	}
	return a
}

func clip(s string, n int) string {
	r := []rune(strings.TrimSpace(s))
	if len(r) <= n {
		return string(r)
	}
	return string(r[:n-1]) + "…"
}

// slackEscape escapes the three characters Slack's mrkdwn treats as
// control sequences (api.slack.com/reference/surfaces/formatting#escaping).
func slackEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// slackMessage is an incoming-webhook message in Block Kit: a header,
// the request's words, its facts and a button to the console; text is the
// notification fallback.
func slackMessage(ev events.Event, serverName string) map[string]any {
	a := alertFor(ev, serverName)
	blocks := []any{
		map[string]any{"type": "header", "text": map[string]any{"type": "plain_text", "text": clip(a.Title, 150), "emoji": true}},
	}
	if a.Text != "" {
		// The person's words as plain_text: nothing in them formats or links.
		blocks = append(blocks, map[string]any{"type": "section", "text": map[string]any{"type": "plain_text", "text": clip(a.Text, 2900), "emoji": false}})
	}
	var fields []any
	for _, f := range a.Facts {
		if f[1] == "" || len(fields) == 10 {
			continue
		}
		fields = append(fields, map[string]any{"type": "mrkdwn", "text": "*" + f[0] + "*\n" + slackEscape(f[1])})
	}
	if len(fields) > 0 {
		blocks = append(blocks, map[string]any{"type": "section", "fields": fields})
	}
	if a.URL != "" {
		blocks = append(blocks, map[string]any{"type": "actions", "elements": []any{
			map[string]any{"type": "button", "text": map[string]any{"type": "plain_text", "text": a.Button}, "url": a.URL, "style": "primary"},
		}})
	}
	fallback := a.Title
	if a.Text != "" {
		fallback += ": " + clip(a.Text, 200)
	}
	return map[string]any{"text": slackEscape(fallback), "blocks": blocks}
}

func textRun(text string, bold bool) map[string]any {
	r := map[string]any{"type": "TextRun", "text": text}
	if bold {
		r["weight"] = "Bolder"
	}
	return r
}

// teamsMessage is a Workflows ("When a Teams webhook request is
// received") message: an Adaptive Card in a message envelope.
func teamsMessage(ev events.Event, serverName string) map[string]any {
	a := alertFor(ev, serverName)
	body := []any{
		map[string]any{"type": "TextBlock", "text": a.Title, "weight": "Bolder", "size": "Medium", "wrap": true},
	}
	// What devices and people wrote goes in TextRuns, which Teams shows
	// as typed: a TextBlock or a FactSet would read [text](url) as a link.
	if a.Text != "" {
		body = append(body, map[string]any{"type": "RichTextBlock", "inlines": []any{textRun(a.Text, false)}})
	}
	for _, f := range a.Facts {
		if f[1] != "" {
			body = append(body, map[string]any{"type": "RichTextBlock", "spacing": "Small",
				"inlines": []any{textRun(f[0]+": ", true), textRun(f[1], false)}})
		}
	}
	card := map[string]any{
		"$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
		"type":    "AdaptiveCard",
		"version": "1.4",
		"body":    body,
	}
	if a.URL != "" {
		card["actions"] = []any{map[string]any{"type": "Action.OpenUrl", "title": a.Button, "url": a.URL}}
	}
	return map[string]any{
		"type": "message",
		"attachments": []any{map[string]any{
			"contentType": "application/vnd.microsoft.card.adaptive",
			"contentUrl":  nil,
			"content":     card,
		}},
	}
}
