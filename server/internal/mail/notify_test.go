package mail

import (
	"context"
	"flag"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/deskside/deskside/server/internal/events"
	"github.com/deskside/deskside/server/internal/mail/mailtest"
	"github.com/deskside/deskside/server/internal/store"
	"github.com/deskside/deskside/shared/protocol"
)

var update = flag.Bool("update", false, "rewrite the golden files")

var t0 = time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)

func wifi() *protocol.RequestSummary {
	return &protocol.RequestSummary{RequestID: "req_1", DeviceID: "dev_1", Hostname: "ana-laptop", User: "ana",
		Category: protocol.CategoryProblem, Urgency: protocol.UrgencyBlocking, Status: protocol.StatusInProgress,
		Text: "Wi-Fi drops every few minutes\nIt started after the update on Monday. I can't join calls.", Assignee: "rob",
		CreatedAt: t0, UpdatedAt: t0}
}

var rob = store.Technician{ID: "rob", Email: "rob@example.com", Name: "Rob Jones", Role: "technician"}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to write it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs (run with -update if the change is meant)\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

func assignedEvent() events.Event {
	return events.Event{Type: events.RequestUpdated, At: t0, Data: events.Data{Request: wifi(),
		Previous: &events.Previous{Status: protocol.StatusNew}, Actor: "Ana Smith", ActorID: "ana",
		URL: "https://help.example.com/#/requests/req_1"}}
}

func TestGoldenBodies(t *testing.T) {
	assigned := assignedEvent()
	m := AssignedEmail(assigned, rob)
	if m.Subject != "[Deskside] Blocking: Wi-Fi drops every few minutes on ana-laptop — assigned to you" || m.To[0] != "rob@example.com" {
		t.Errorf("assigned: subject %q to %v", m.Subject, m.To)
	}
	golden(t, "assigned.txt", m.Text)
	golden(t, "assigned.html", m.HTML)

	r := wifi()
	r.Assignee, r.Urgency = "", protocol.UrgencyWhenYouCan
	slipping := events.Event{Type: events.TargetSlipping, At: t0, Data: events.Data{Request: r,
		Target: &events.Target{Kind: "first_response", Due: t0.Add(25 * time.Minute)}, URL: "https://help.example.com/#/requests/req_1"}}
	m = SlippingEmail(slipping, rob)
	if m.Subject != "[Deskside] When you can: Wi-Fi drops every few minutes on ana-laptop — first answer due in 25 minutes" {
		t.Errorf("slipping subject %q", m.Subject)
	}
	golden(t, "slipping.txt", m.Text)
	golden(t, "slipping.html", m.HTML)

	slipping.Data.Target = &events.Target{Kind: "resolution", Due: t0.Add(-3 * time.Hour)}
	slipping.Data.Request.Assignee = "rob"
	if m = SlippingEmail(slipping, rob); !strings.HasSuffix(m.Subject, "— resolution was due 3 hours ago") ||
		strings.Contains(m.Text, "nobody") {
		t.Errorf("overdue resolution: %q\n%s", m.Subject, m.Text)
	}
}

// TestHTMLEscapes: what the employee typed is text in the HTML body,
// never markup; the plain body keeps it as typed.
func TestHTMLEscapes(t *testing.T) {
	r := wifi()
	r.Text = `<script>alert(1)</script> & <a href="javascript:x">click</a>`
	ev := events.Event{Type: events.RequestUpdated, At: t0, Data: events.Data{Request: r, Previous: &events.Previous{},
		Actor: `Eve <b>`, URL: `javascript:alert(1)`}}
	m := AssignedEmail(ev, rob)
	for _, bad := range []string{"<script>", `<a href="javascript:x">`, "<b>", `href="javascript:alert(1)"`} {
		if strings.Contains(m.HTML, bad) {
			t.Errorf("the HTML body carries %q:\n%s", bad, m.HTML)
		}
	}
	if !strings.Contains(m.HTML, "&lt;script&gt;") || !strings.Contains(m.Text, "<script>alert(1)</script>") {
		t.Errorf("escaping:\n%s\n%s", m.HTML, m.Text)
	}
}

// sink records what the notifier queued.
type sink struct {
	mu  sync.Mutex
	got []Message
}

func (s *sink) Send(_ context.Context, m Message) error {
	s.mu.Lock()
	s.got = append(s.got, m)
	s.mu.Unlock()
	return nil
}

func (s *sink) to() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, m := range s.got {
		out = append(out, strings.Join(m.To, ","))
	}
	s.got = nil
	return out
}

func TestNotifier(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	for _, tc := range []store.Technician{rob,
		{ID: "ana", Email: "ana@example.com", Name: "Ana Smith", Role: "admin"},
		{ID: "vic", Email: "vic@example.com", Name: "Vic", Role: "viewer"},
		{ID: "old", Email: "old@example.com", Name: "Old", Role: "technician", Disabled: true}} {
		tc.CreatedAt = t0
		if err := st.CreateTechnician(ctx, tc); err != nil {
			t.Fatal(err)
		}
	}
	out := &sink{}
	n := NewNotifier(st, out, slog.New(slog.DiscardHandler))
	// Email off: nothing is queued.
	n.Publish(ctx, events.New(events.RequestUpdated, events.Data{Request: wifi(), Previous: &events.Previous{}, ActorID: "ana"}))
	if got := out.to(); len(got) != 0 {
		t.Fatalf("email is off, yet %v", got)
	}
	if err := st.SetMailSettings(ctx, store.MailSettings{Host: "smtp.example.com", Port: 587, Security: SecuritySTARTTLS,
		From: "it@example.com"}); err != nil {
		t.Fatal(err)
	}
	assign := func(to, from, actor string) []string {
		r := wifi()
		r.Assignee = to
		n.Publish(ctx, events.New(events.RequestUpdated, events.Data{Request: r, Previous: &events.Previous{Assignee: from}, ActorID: actor}))
		return out.to()
	}
	if got := assign("rob", "", "ana"); len(got) != 1 || got[0] != "rob@example.com" {
		t.Errorf("ana assigns rob: %v", got)
	}
	if got := assign("rob", "", "rob"); len(got) != 0 {
		t.Errorf("rob took it himself and was emailed: %v", got)
	}
	if got := assign("rob", "rob", "ana"); len(got) != 0 {
		t.Errorf("no change of assignee, still emailed: %v", got)
	}
	if got := assign("", "rob", "ana"); len(got) != 0 {
		t.Errorf("unassigned, still emailed: %v", got)
	}
	if got := assign("old", "", "ana"); len(got) != 0 {
		t.Errorf("a disabled account was emailed: %v", got)
	}
	if err := st.SetMailPrefs(ctx, "rob", store.MailPrefs{Slipping: true}); err != nil {
		t.Fatal(err)
	}
	if got := assign("rob", "", "ana"); len(got) != 0 {
		t.Errorf("rob turned assignment emails off and got one: %v", got)
	}
	// A message (no Previous) never emails.
	n.Publish(ctx, events.New(events.RequestUpdated, events.Data{Request: wifi(), ActorID: "ana"}))
	if got := out.to(); len(got) != 0 {
		t.Errorf("a message emailed %v", got)
	}

	slip := func(assignee string) []string {
		r := wifi()
		r.Assignee = assignee
		n.Publish(ctx, events.New(events.TargetSlipping, events.Data{Request: r, Target: &events.Target{Kind: "first_response", Due: time.Now()}}))
		return out.to()
	}
	if got := slip("rob"); len(got) != 1 || got[0] != "rob@example.com" {
		t.Errorf("slipping on rob's request: %v", got)
	}
	// Unassigned: every technician who wants it, one email each; not the
	// viewer, not the disabled account.
	if got := strings.Join(slip(""), " "); got != "ana@example.com rob@example.com" {
		t.Errorf("slipping, unassigned: %q", got)
	}
	if err := st.SetMailPrefs(ctx, "ana", store.MailPrefs{}); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(slip(""), " "); got != "rob@example.com" {
		t.Errorf("after ana opted out: %q", got)
	}
}

// TestAssignmentEmailArrives is the whole path with real parts: the
// notifier hears an assignment, the queue stores the email, the worker
// sends it over STARTTLS with AUTH PLAIN to a real SMTP server.
func TestAssignmentEmailArrives(t *testing.T) {
	ctx := context.Background()
	srv := mailtest.New(t)
	srv.Start()
	st := openStore(t)
	if err := st.SetMailSettings(ctx, srv.Settings()); err != nil {
		t.Fatal(err)
	}
	rb := rob
	rb.CreatedAt = t0
	if err := st.CreateTechnician(ctx, rb); err != nil {
		t.Fatal(err)
	}
	q := NewQueue(st)
	n := NewNotifier(st, q, slog.New(slog.DiscardHandler))
	r := wifi()
	// A request whose text tries to add a header of its own.
	r.Text = "Wi-Fi drops\r\nBcc: eve@example.com\r\nX-Injected: yes\nstill the request"
	n.Publish(ctx, events.Event{ID: "evt_1", Type: events.RequestUpdated, At: t0, Data: events.Data{Request: r,
		Previous: &events.Previous{Status: protocol.StatusNew}, Actor: "Ana Smith", ActorID: "ana",
		URL: "https://help.example.com/#/requests/req_1"}})
	// A subject with line breaks handed straight to the queue, too.
	if err := q.Send(ctx, Message{To: []string{"rob@example.com"}, Subject: "Hello\r\nBcc: eve@example.com", Text: "x"}); err != nil {
		t.Fatal(err)
	}
	w := testWorker(t, st, nil)
	if n := runOnce(t, w); n != 2 {
		t.Fatalf("sent %d", n)
	}
	got := srv.Await(2)
	for _, e := range got {
		if len(e.To) != 1 || e.To[0] != "rob@example.com" || !e.TLS || e.User != "it@example.com" {
			t.Errorf("envelope: %+v", e)
		}
		h, _, _ := mailtest.Parse(t, e.Data)
		if h.Get("Bcc") != "" || h.Get("X-Injected") != "" {
			t.Errorf("a header was injected: %v", h)
		}
	}
	h, text, html := mailtest.Parse(t, got[0].Data)
	if s := mailtest.Subject(t, h); s != "[Deskside] Blocking: Wi-Fi drops on ana-laptop — assigned to you" {
		t.Errorf("subject %q", s)
	}
	if !strings.Contains(text, "Ana Smith assigned you a request from ana on ana-laptop") ||
		!strings.Contains(text, "Open it: https://help.example.com/#/requests/req_1") ||
		!strings.Contains(html, `href="https://help.example.com/#/requests/req_1"`) {
		t.Errorf("bodies:\n%s\n%s", text, html)
	}
	h2, _, _ := mailtest.Parse(t, got[1].Data)
	if s := mailtest.Subject(t, h2); s != "Hello Bcc: eve@example.com" {
		t.Errorf("second subject %q", s)
	}
}

// FuzzOneLine: whatever a request says, a header built from it stays on
// one line.
func FuzzOneLine(f *testing.F) {
	for _, s := range []string{"Wi-Fi drops", "a\r\nBcc: x@example.com", "a\u2028b", "\x00\x7f\u0085", "  spaced   out  "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := oneLine(s)
		if strings.ContainsAny(got, "\r\n\x00\u2028\u2029\u0085") || strings.HasPrefix(got, " ") || strings.HasSuffix(got, " ") {
			t.Fatalf("oneLine(%q) = %q", s, got)
		}
		m := describe(events.Event{Data: events.Data{Request: &protocol.RequestSummary{Text: s, Hostname: "h"}}}, rob)
		if strings.ContainsAny(m.Title, "\r\n") {
			t.Fatalf("title %q", m.Title)
		}
	})
}
