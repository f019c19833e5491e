package mail

import (
	"bytes"
	"context"
	"fmt"
	htmltemplate "html/template"
	"log/slog"
	"strings"
	texttemplate "text/template"
	"time"
	"unicode/utf8"

	"github.com/deskside/deskside/server/internal/events"
	"github.com/deskside/deskside/server/internal/store"
	"github.com/deskside/deskside/shared/protocol"
)

// NotifierStore is what the notifier reads: who technicians are and what
// they want to hear about.
type NotifierStore interface {
	MailSettings(ctx context.Context) (store.MailSettings, error)
	Technician(ctx context.Context, id string) (store.Technician, error)
	MailPrefs(ctx context.Context, technicianID string) (store.MailPrefs, error)
	MailRecipients(ctx context.Context, pref store.MailPref) ([]store.Technician, error)
}

// Notifier is the events.Sink that emails technicians: a request assigned
// to them by someone else, and a response target about to slip on their
// request (or, unassigned, on the queue's). It queues through out (a
// Queue), so Publish returns as soon as the emails are stored.
type Notifier struct {
	st  NotifierStore
	out Sender
	log *slog.Logger
}

var _ events.Sink = (*Notifier)(nil)

// NewNotifier emails through out (a Queue in production).
func NewNotifier(st NotifierStore, out Sender, log *slog.Logger) *Notifier {
	if log == nil {
		log = slog.Default()
	}
	return &Notifier{st: st, out: out, log: log}
}

// Publish implements events.Sink; errors are logged, never returned.
func (n *Notifier) Publish(ctx context.Context, ev events.Event) {
	d := ev.Data
	if d.Request == nil || (ev.Type != events.TargetSlipping && d.Previous == nil) {
		return
	}
	// Email that is not set up queues nothing: no pile of stale emails
	// waiting for the day someone sets it up.
	if set, err := n.st.MailSettings(ctx); err != nil || set.Host == "" {
		if err != nil {
			n.log.Error("email: settings", "err", err)
		}
		return
	}
	switch {
	case ev.Type == events.TargetSlipping && d.Target != nil:
		n.slipping(ctx, ev)
	case d.Previous != nil && d.Request.Assignee != "" && d.Request.Assignee != d.Previous.Assignee &&
		d.Request.Assignee != d.ActorID: // nobody is told what they did themselves
		n.assigned(ctx, ev)
	}
}

func (n *Notifier) assigned(ctx context.Context, ev events.Event) {
	t, err := n.st.Technician(ctx, ev.Data.Request.Assignee)
	if err != nil {
		n.log.Error("email: assignee", "request", ev.Data.Request.RequestID, "err", err)
		return
	}
	if !n.wants(ctx, t, store.PrefAssigned) {
		return
	}
	n.send(ctx, ev, AssignedEmail(ev, t))
}

func (n *Notifier) slipping(ctx context.Context, ev events.Event) {
	var to []store.Technician
	if id := ev.Data.Request.Assignee; id != "" {
		t, err := n.st.Technician(ctx, id)
		if err != nil {
			n.log.Error("email: assignee", "request", ev.Data.Request.RequestID, "err", err)
			return
		}
		if n.wants(ctx, t, store.PrefSlipping) {
			to = append(to, t)
		}
	} else {
		all, err := n.st.MailRecipients(ctx, store.PrefSlipping)
		if err != nil {
			n.log.Error("email: recipients", "request", ev.Data.Request.RequestID, "err", err)
			return
		}
		for _, t := range all {
			if t.Role != "viewer" { // viewers read the queue; they cannot pick a request up
				to = append(to, t)
			}
		}
	}
	for _, t := range to { // one email each: nobody sees who else was told
		n.send(ctx, ev, SlippingEmail(ev, t))
	}
}

func (n *Notifier) wants(ctx context.Context, t store.Technician, pref store.MailPref) bool {
	if t.Disabled || t.Email == "" {
		return false
	}
	p, err := n.st.MailPrefs(ctx, t.ID)
	if err != nil {
		n.log.Error("email: preferences", "technician", t.ID, "err", err)
		return false
	}
	switch pref {
	case store.PrefAssigned:
		return p.Assigned
	case store.PrefSlipping:
		return p.Slipping
	}
	return p.MonthlyReport
}

func (n *Notifier) send(ctx context.Context, ev events.Event, m Message) {
	if err := n.out.Send(ctx, m); err != nil {
		n.log.Error("email: queue", "event", ev.ID, "type", ev.Type, "err", err)
	}
}

// SubjectPrefix starts every subject, so a mail rule can sort them.
const SubjectPrefix = "[Deskside] "

// requestMail is what the templates show of a request.
type requestMail struct {
	Name     string // the recipient's first name
	Actor    string // who assigned it ("" unknown)
	Urgency  string
	Title    string // the request's first line, short
	Text     string // the request, up to a few hundred characters
	From     string // "ana on ana-laptop"
	URL      string
	Target   string // "first answer" or "resolution"
	Due      string // "in 25 minutes", "25 minutes ago"
	Overdue  bool
	Nobody   bool // unassigned
	Pref     string
	Category string
}

func describe(ev events.Event, t store.Technician) requestMail {
	r := ev.Data.Request
	first, _, _ := strings.Cut(strings.TrimSpace(r.Text), "\n")
	m := requestMail{Name: firstName(t), Actor: ev.Data.Actor, Urgency: urgencyWord(r.Urgency), Title: clip(oneLine(first), 60),
		Text: clip(strings.TrimSpace(r.Text), 600), URL: ev.Data.URL, Category: categoryWord(r.Category)}
	switch {
	case r.User != "" && r.Hostname != "":
		m.From = r.User + " on " + r.Hostname
	case r.Hostname != "":
		m.From = r.Hostname
	default:
		m.From = r.User
	}
	return m
}

// AssignedEmail is the email that tells t a request is now theirs.
func AssignedEmail(ev events.Event, t store.Technician) Message {
	m := describe(ev, t)
	m.Pref = "A request is assigned to me"
	subject := SubjectPrefix + m.Urgency + ": " + m.Title
	if h := ev.Data.Request.Hostname; h != "" {
		subject += " on " + h
	}
	return render(t, subject+" — assigned to you", "assigned", m)
}

// SlippingEmail is the email that warns t a response target is about to
// be missed (or was).
func SlippingEmail(ev events.Event, t store.Technician) Message {
	m := describe(ev, t)
	m.Pref = "A target is about to slip"
	m.Target = "first answer"
	if ev.Data.Target.Kind == "resolution" {
		m.Target = "resolution"
	}
	m.Nobody = ev.Data.Request.Assignee == ""
	left := ev.Data.Target.Due.Sub(ev.At)
	m.Overdue = left < 0
	if m.Overdue {
		m.Due = span(-left) + " ago"
	} else {
		m.Due = "in " + span(left)
	}
	due := m.Target + " due " + m.Due
	if m.Overdue {
		due = m.Target + " was due " + m.Due
	}
	subject := SubjectPrefix + m.Urgency + ": " + m.Title
	if h := ev.Data.Request.Hostname; h != "" {
		subject += " on " + h
	}
	return render(t, subject+" — "+due, "slipping", m)
}

func render(t store.Technician, subject, name string, m requestMail) Message {
	var txt, html bytes.Buffer
	if err := textTemplates.ExecuteTemplate(&txt, name, m); err != nil {
		panic(fmt.Sprintf("mail template %s: %v", name, err)) // the templates are ours and tested
	}
	if err := htmlTemplates.ExecuteTemplate(&html, name, m); err != nil {
		panic(fmt.Sprintf("mail template %s: %v", name, err))
	}
	return Message{To: []string{t.Email}, Subject: oneLine(subject), Text: txt.String(), HTML: html.String()}
}

func firstName(t store.Technician) string {
	if f := strings.Fields(t.Name); len(f) > 0 {
		return f[0]
	}
	return "there"
}

func urgencyWord(u protocol.Urgency) string {
	if u == protocol.UrgencyBlocking {
		return "Blocking"
	}
	return "When you can"
}

func categoryWord(c protocol.Category) string {
	switch c {
	case protocol.CategoryProblem:
		return "Something isn’t working"
	case protocol.CategoryQuestion:
		return "A question"
	case protocol.CategorySoftware:
		return "Software"
	case protocol.CategoryIdea:
		return "An idea"
	}
	return string(c)
}

// clip shortens s to at most n characters, on a word boundary when it can.
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)[:n]
	cut := string(r)
	if i := strings.LastIndexByte(cut, ' '); i > n/2 {
		cut = cut[:i]
	}
	return strings.TrimRight(cut, " .,;:") + "…"
}

// span says a duration the way a person would.
func span(d time.Duration) string {
	m := int(d.Round(time.Minute) / time.Minute)
	switch {
	case m < 1:
		return "less than a minute"
	case m == 1:
		return "1 minute"
	case m < 90:
		return fmt.Sprintf("%d minutes", m)
	}
	h := int(d.Round(time.Hour) / time.Hour)
	if h < 48 {
		return fmt.Sprintf("%d hours", h)
	}
	return fmt.Sprintf("%d days", int(d.Round(24*time.Hour)/(24*time.Hour)))
}

// The bodies: plain text first, the same words as simple HTML beside it.
// html/template escapes everything the request brings.
const textBodies = `{{define "assigned"}}Hi {{.Name}},

{{if .Actor}}{{.Actor}} assigned you{{else}}You have been assigned{{end}} a request from {{.From}}:

{{.Text}}

{{.Category}} · {{.Urgency}}
{{if .URL}}Open it: {{.URL}}
{{end}}
— Deskside
You get this because “{{.Pref}}” is on in My profile.
{{end}}{{define "slipping"}}Hi {{.Name}},

The {{.Target}} to this request from {{.From}} {{if .Overdue}}was due {{.Due}}{{else}}is due {{.Due}}{{end}}{{if .Nobody}}, and nobody has picked it up yet{{end}}:

{{.Text}}

{{.Category}} · {{.Urgency}}
{{if .URL}}Open it: {{.URL}}
{{end}}
— Deskside
You get this because “{{.Pref}}” is on in My profile.
{{end}}`

const htmlBodies = `{{define "head"}}<!doctype html>
<html><body style="font-family:system-ui,sans-serif;font-size:15px;line-height:1.5;color:#1f2933;max-width:36rem">
{{end}}{{define "foot"}}<p style="color:#6b7280;font-size:13px">— Deskside<br>You get this because “{{.Pref}}” is on in My profile.</p>
</body></html>
{{end}}{{define "request"}}<blockquote style="margin:1em 0;padding:.5em 1em;border-left:3px solid #2563eb;background:#f3f4f6;white-space:pre-wrap">{{.Text}}</blockquote>
<p style="color:#4b5563">{{.Category}} · {{.Urgency}}</p>
{{if .URL}}<p><a href="{{.URL}}" style="display:inline-block;padding:.5em 1em;background:#2563eb;color:#fff;border-radius:6px;text-decoration:none">Open the request</a></p>
{{end}}{{end}}{{define "assigned"}}{{template "head" .}}<p>Hi {{.Name}},</p>
<p>{{if .Actor}}{{.Actor}} assigned you{{else}}You have been assigned{{end}} a request from {{.From}}:</p>
{{template "request" .}}{{template "foot" .}}{{end}}{{define "slipping"}}{{template "head" .}}<p>Hi {{.Name}},</p>
<p>The {{.Target}} to this request from {{.From}} {{if .Overdue}}was due <strong>{{.Due}}</strong>{{else}}is due <strong>{{.Due}}</strong>{{end}}{{if .Nobody}}, and nobody has picked it up yet{{end}}:</p>
{{template "request" .}}{{template "foot" .}}{{end}}`

var (
	textTemplates = texttemplate.Must(texttemplate.New("text").Parse(textBodies))
	htmlTemplates = htmltemplate.Must(htmltemplate.New("html").Parse(htmlBodies))
)
