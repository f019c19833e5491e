package reports

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/deskside/deskside/server/internal/mail"
	"github.com/deskside/deskside/server/internal/store"
)

// fakeSender keeps what it was asked to send; fail makes the next send
// fail.
type fakeSender struct {
	mu   sync.Mutex
	sent []mail.Message
	fail error
}

func (f *fakeSender) Send(_ context.Context, m mail.Message) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.fail; err != nil {
		f.fail = nil
		return err
	}
	f.sent = append(f.sent, m)
	return nil
}

func (f *fakeSender) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.sent)
}

func openStore(t *testing.T) *store.SQL {
	t.Helper()
	st, err := store.Open(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	ctx := context.Background()
	for _, tc := range []store.Technician{
		{ID: "t1", Email: "ada@example.com", Name: "Ada", Role: "admin"},
		{ID: "t2", Email: "vic@example.com", Name: "Vic", Role: "viewer"},
		{ID: "t3", Email: "rob@example.com", Name: "Rob", Role: "technician"},
		{ID: "t4", Email: "old@example.com", Name: "Old", Role: "viewer", Disabled: true},
	} {
		tc.CreatedAt = time.Now()
		if err := st.CreateTechnician(ctx, tc); err != nil {
			t.Fatal(err)
		}
	}
	return st
}

func TestMailerSendsLastMonthOnce(t *testing.T) {
	st := openStore(t)
	ctx := context.Background()
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Skip(err)
	}
	now := time.Date(2026, 4, 2, 8, 0, 0, 0, berlin)
	clock := func() time.Time { return now }
	sender := &fakeSender{}
	newMailer := func(node string) *Mailer {
		return &Mailer{Store: st, Sender: sender, PublicURL: "https://help.example.com/", ServerName: "<Acme> IT", Loc: berlin,
			Node: node, Now: clock}
	}
	// Two nodes check at once: one sends.
	var wg sync.WaitGroup
	for _, node := range []string{"a", "b", "c"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := newMailer(node).Check(ctx); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if sender.count() != 1 {
		t.Fatalf("sent %d emails, want 1", sender.count())
	}
	m := sender.sent[0]
	slices.Sort(m.To)
	if !slices.Equal(m.To, []string{"ada@example.com", "vic@example.com"}) {
		t.Errorf("to %v, want the enabled admin and viewer", m.To)
	}
	if m.Subject != "<Acme> IT's month: March 2026" || !strings.Contains(m.Text, "https://help.example.com/#/reports/2026-03") ||
		!strings.Contains(m.HTML, `href="https://help.example.com/#/reports/2026-03"`) || !strings.Contains(m.HTML, "&lt;Acme&gt; IT") ||
		strings.Contains(m.HTML, "<Acme>") || strings.Contains(m.Text, "&#39;") {
		t.Errorf("message:\n%s\n%s\n%s", m.Subject, m.Text, m.HTML)
	}
	// Later the same day, and the next: already sent.
	now = now.Add(24 * time.Hour)
	if sent, err := newMailer("a").Check(ctx); sent || err != nil || sender.count() != 1 {
		t.Errorf("second check: %v %v, %d sent", sent, err, sender.count())
	}
	// Past the first days of May nothing goes out; on 1 May, April does.
	now = time.Date(2026, 5, 4, 8, 0, 0, 0, berlin)
	if sent, _ := newMailer("a").Check(ctx); sent {
		t.Error("sent on the 4th")
	}
	now = time.Date(2026, 5, 1, 0, 30, 0, 0, berlin) // still 30 April in UTC
	if sent, err := newMailer("a").Check(ctx); !sent || err != nil || !strings.Contains(sender.sent[1].Subject, "April 2026") {
		t.Errorf("May: %v %v %+v", sent, err, sender.sent)
	}
}

func TestMailerRetriesAfterAFailedSend(t *testing.T) {
	st := openStore(t)
	ctx := context.Background()
	sender := &fakeSender{fail: errors.New("smtp: 421 try later")}
	m := &Mailer{Store: st, Sender: sender, Loc: time.UTC, Node: "a",
		Now: func() time.Time { return time.Date(2026, 7, 1, 9, 0, 0, 0, time.UTC) }}
	if sent, err := m.Check(ctx); sent || err == nil || !strings.Contains(err.Error(), "421") {
		t.Fatalf("failed send: %v %v", sent, err)
	}
	if v, _ := st.GetMeta(ctx, MailedKeyPrefix+"2026-06"); v != "" {
		t.Fatalf("the claim %q was kept after the send failed", v)
	}
	if sent, err := m.Check(ctx); !sent || err != nil || sender.count() != 1 {
		t.Fatalf("retry: %v %v %d", sent, err, sender.count())
	}
}

func TestMailerHook(t *testing.T) {
	st := openStore(t)
	sender := &fakeSender{}
	m := &Mailer{Store: st, Sender: sender, Loc: time.UTC, Now: func() time.Time { return time.Date(2026, 7, 1, 9, 0, 0, 0, time.UTC) },
		Recipients: func(context.Context) ([]string, error) { return nil, nil }}
	// Nobody to send to: nothing sent, and the month counts as done.
	if _, err := m.Check(context.Background()); err != nil || sender.count() != 0 {
		t.Fatalf("no recipients: %v %d", err, sender.count())
	}
	m.Recipients = func(context.Context) ([]string, error) { return nil, errors.New("preferences unreachable") }
	m.Now = func() time.Time { return time.Date(2026, 8, 1, 9, 0, 0, 0, time.UTC) }
	if _, err := m.Check(context.Background()); err == nil || !strings.Contains(err.Error(), "preferences unreachable") {
		t.Fatalf("hook error: %v", err)
	}
}

// TestMailerRun checks the loop on a fake clock: it checks at start, again
// on each tick, and stops with its context.
func TestMailerRun(t *testing.T) {
	st := openStore(t)
	sender := &fakeSender{}
	ticks := make(chan time.Time)
	asked := make(chan time.Duration, 1)
	var mu sync.Mutex
	now := time.Date(2026, 6, 20, 9, 0, 0, 0, time.UTC)
	m := &Mailer{Store: st, Sender: sender, Loc: time.UTC, Every: 15 * time.Minute,
		Now:   func() time.Time { mu.Lock(); defer mu.Unlock(); return now },
		After: func(d time.Duration) <-chan time.Time { asked <- d; return ticks }}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { m.Run(ctx); close(done) }()
	if d := <-asked; d != 15*time.Minute || sender.count() != 0 {
		t.Fatalf("first wait %v, %d sent mid-month", d, sender.count())
	}
	mu.Lock()
	now = time.Date(2026, 7, 1, 0, 5, 0, 0, time.UTC)
	mu.Unlock()
	ticks <- now
	<-asked // the tick's check is done
	if sender.count() != 1 {
		t.Fatalf("%d sent after the month turned", sender.count())
	}
	cancel()
	<-done
}

func TestMinutes(t *testing.T) {
	for m, want := range map[float64]string{12: "12 min", 90: "1.5 h", 60 * 24 * 3: "3.0 days"} {
		if got := Minutes(m); got != want {
			t.Errorf("Minutes(%v) = %q, want %q", m, got, want)
		}
	}
}
