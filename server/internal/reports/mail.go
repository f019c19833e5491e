package reports

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"strings"
	texttemplate "text/template"
	"time"

	"github.com/deskside/deskside/server/internal/mail"
	"github.com/deskside/deskside/server/internal/store"
)

// MailerStore is what the monthly email needs of the store.
type MailerStore interface {
	MonthReport(ctx context.Context, from, to time.Time, loc *time.Location) (store.Report, error)
	ClaimMeta(ctx context.Context, key, value string) (bool, error)
	TakeMeta(ctx context.Context, key, value string) (bool, error)
	ListTechnicians(ctx context.Context) ([]store.Technician, error)
}

// Mailer sends the previous month's report once, early in each month,
// from whichever node gets there first: every node runs one, and a claim
// in the store (ClaimMeta on "report.mailed.YYYY-MM") lets exactly one
// send. A failed send gives the claim back (TakeMeta), so the next check,
// on any node, tries again.
type Mailer struct {
	Store  MailerStore
	Sender mail.Sender
	// Recipients lists who gets the report; nil: DefaultRecipients (every
	// enabled admin and viewer).
	Recipients func(ctx context.Context) ([]string, error)
	// PublicURL is the console's base URL, for the link to the page.
	PublicURL  string
	ServerName string
	// Loc is the time zone of the month's bounds and busiest hours
	// (default: the server's local zone).
	Loc *time.Location
	// Days is how many days into a month the report may still go out
	// (default 3: a server down on the 1st still sends it).
	Days int
	// Every is how often to check (default an hour).
	Every time.Duration
	Node  string // written into the claim, for whoever reads the meta table
	Log   *slog.Logger
	// Now and After are the clock; nil: the real one.
	Now   func() time.Time
	After func(time.Duration) <-chan time.Time
}

// MailedKeyPrefix + YYYY-MM is the claim of a month's email.
const MailedKeyPrefix = "report.mailed."

// Run checks at once and then every Every until ctx ends.
func (m *Mailer) Run(ctx context.Context) {
	every := m.Every
	if every <= 0 {
		every = time.Hour
	}
	after := m.After
	if after == nil {
		after = time.After
	}
	for {
		if _, err := m.Check(ctx); err != nil && ctx.Err() == nil {
			m.log().Error("monthly report email", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-after(every):
		}
	}
}

func (m *Mailer) log() *slog.Logger {
	if m.Log == nil {
		return slog.Default()
	}
	return m.Log
}

// Check sends last month's report when it is early in the month and no
// node has sent it yet; it reports whether this call sent it.
func (m *Mailer) Check(ctx context.Context) (bool, error) {
	now := time.Now()
	if m.Now != nil {
		now = m.Now()
	}
	loc := m.Loc
	if loc == nil {
		loc = time.Local
	}
	days := m.Days
	if days <= 0 {
		days = 3
	}
	if now.In(loc).Day() > days {
		return false, nil
	}
	month := MonthOf(now, loc).Previous()
	key, claim := MailedKeyPrefix+month.Label, m.Node+" "+now.UTC().Format(time.RFC3339)
	won, err := m.Store.ClaimMeta(ctx, key, claim)
	if err != nil || !won {
		return false, err
	}
	if err := m.send(ctx, month); err != nil {
		// Give the month back, so the next check (any node's) tries again.
		if _, terr := m.Store.TakeMeta(context.WithoutCancel(ctx), key, claim); terr != nil {
			err = errors.Join(err, terr)
		}
		return false, fmt.Errorf("report for %s: %w", month.Label, err)
	}
	m.log().Info("monthly report emailed", "month", month.Label)
	return true, nil
}

func (m *Mailer) send(ctx context.Context, month Month) error {
	recipients := m.Recipients
	if recipients == nil {
		recipients = DefaultRecipients(m.Store)
	}
	to, err := recipients(ctx)
	if err != nil {
		return fmt.Errorf("recipients: %w", err)
	}
	if len(to) == 0 {
		m.log().Info("monthly report: nobody to send it to", "month", month.Label)
		return nil
	}
	rep, err := m.Store.MonthReport(ctx, month.From, month.To, month.Loc)
	if err != nil {
		return err
	}
	rep.Month = month.Label
	msg, err := Email(rep, month, m.ServerName, m.PublicURL)
	if err != nil {
		return err
	}
	msg.To = to
	return m.Sender.Send(ctx, msg)
}

// DefaultRecipients is every enabled technician whose role is admin or
// viewer: the people who read reports.
func DefaultRecipients(st interface {
	ListTechnicians(ctx context.Context) ([]store.Technician, error)
}) func(ctx context.Context) ([]string, error) {
	return func(ctx context.Context) ([]string, error) {
		techs, err := st.ListTechnicians(ctx)
		if err != nil {
			return nil, err
		}
		var to []string
		for _, t := range techs {
			if !t.Disabled && t.Email != "" && (t.Role == "admin" || t.Role == "viewer") {
				to = append(to, t.Email)
			}
		}
		return to, nil
	}
}

// PageURL is the Reports page of month on the console at base ("" when
// there is no base).
func PageURL(base, month string) string {
	if base == "" {
		return ""
	}
	return strings.TrimRight(base, "/") + "/#/reports/" + month
}

// Email is the report as a message: plain text, and an HTML summary with
// a link to the page (html/template escapes every value).
func Email(rep store.Report, month Month, serverName, publicURL string) (mail.Message, error) {
	if serverName == "" {
		serverName = "IT"
	}
	d := emailData{Rep: rep, Title: month.Title(), Server: serverName, URL: PageURL(publicURL, month.Label)}
	d.Lines = summaryLines(rep)
	var text, html bytes.Buffer
	if err := textTmpl.Execute(&text, d); err != nil {
		return mail.Message{}, fmt.Errorf("report email text: %w", err)
	}
	if err := htmlTmpl.Execute(&html, d); err != nil {
		return mail.Message{}, fmt.Errorf("report email html: %w", err)
	}
	return mail.Message{Subject: serverName + "'s month: " + month.Title(), Text: text.String(), HTML: html.String()}, nil
}

type emailData struct {
	Rep    store.Report
	Title  string
	Server string
	URL    string
	Lines  []summaryLine
}

type summaryLine struct{ Label, Value string }

// summaryLines are the headline figures, the same in both parts.
func summaryLines(rep store.Report) []summaryLine {
	sat := "no ratings yet"
	if rep.Satisfaction.Rated > 0 {
		sat = fmt.Sprintf("%.2f of 5 from %d ratings", rep.Satisfaction.Average, rep.Satisfaction.Rated)
	}
	target := func(t store.TargetFigure) string {
		if t.Met+t.Missed == 0 {
			return "no targets due"
		}
		return fmt.Sprintf("%.1f%% met (%d of %d)", t.Percent, t.Met, t.Met+t.Missed)
	}
	return []summaryLine{
		{"Requests", fmt.Sprint(rep.Requests)},
		{"First response", fmt.Sprintf("median %s, 90%% within %s", Minutes(rep.FirstResponse.MedianMinutes), Minutes(rep.FirstResponse.P90Minutes))},
		{"Resolution", fmt.Sprintf("median %s, 90%% within %s", Minutes(rep.Resolution.MedianMinutes), Minutes(rep.Resolution.P90Minutes))},
		{"First-response target", target(rep.Targets.FirstResponse)},
		{"Resolution target", target(rep.Targets.Resolution)},
		{"Satisfaction", sat},
		{"Software brought in", fmt.Sprint(rep.Software.CameIn)},
		{"Heads-up fixed by people themselves", fmt.Sprint(rep.HeadsUp.Fixed)},
		{"Questions answered by articles", fmt.Sprint(rep.Articles.Solved)},
	}
}

// Minutes says a duration in minutes as people read it: 45 min, 3.5 h,
// 2.1 days.
func Minutes(m float64) string {
	switch {
	case m < 60:
		return fmt.Sprintf("%.0f min", m)
	case m < 48*60:
		return fmt.Sprintf("%.1f h", m/60)
	}
	return fmt.Sprintf("%.1f days", m/60/24)
}

var textTmpl = texttemplate.Must(texttemplate.New("text").Parse(`{{.Server}}'s month: {{.Title}}
{{range .Lines}}
{{.Label}}: {{.Value}}{{end}}
{{if .URL}}
The whole report, with charts and tables to download:
{{.URL}}
{{end}}
Times are wall clock from when a request was raised.
`))

var htmlTmpl = template.Must(template.New("html").Parse(`<!doctype html>
<html><body style="font-family: system-ui, sans-serif; color: #1f2a2a; background: #f5f6f4; padding: 16px">
<div style="max-width: 560px; margin: 0 auto; background: #ffffff; border: 1px solid #d8ddd8; border-radius: 8px; padding: 20px">
<h1 style="font-size: 20px; margin: 0 0 12px">{{.Server}}'s month: {{.Title}}</h1>
<table style="border-collapse: collapse; width: 100%">
{{range .Lines}}<tr><td style="padding: 6px 8px; border-bottom: 1px solid #eef1ee; color: #55625f">{{.Label}}</td>
<td style="padding: 6px 8px; border-bottom: 1px solid #eef1ee; text-align: right"><strong>{{.Value}}</strong></td></tr>
{{end}}</table>
{{if .URL}}<p style="margin: 16px 0 0"><a href="{{.URL}}" style="color: #2f6f6a">See the whole report, with charts and tables to download</a></p>{{end}}
<p style="color: #55625f; font-size: 12px; margin: 16px 0 0">Times are wall clock from when a request was raised.</p>
</div></body></html>
`))
