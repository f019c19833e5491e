package mail

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/deskside/deskside/server/internal/mail/mailtest"
	"github.com/deskside/deskside/server/internal/store"
	"github.com/deskside/deskside/server/internal/store/pgtest"
)

func openStore(t *testing.T) *store.SQL {
	t.Helper()
	s, err := store.Open(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// clock is a fake clock the tests move by hand.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock { return &clock{now: time.Now().UTC().Truncate(time.Millisecond)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func testWorker(t *testing.T, st store.MailStore, c *clock) *Worker {
	pool := mailtest.Pool()
	o := WorkerOptions{Store: st, Log: slog.New(slog.DiscardHandler), SMTP: SMTPOptions{RootCAs: pool, Timeout: 10 * time.Second}}
	if c != nil {
		o.Now = c.Now
	}
	return NewWorker(o)
}

func runOnce(t *testing.T, w *Worker) int {
	t.Helper()
	n, err := w.RunOnce(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func onlyMail(t *testing.T, st store.MailStore) store.OutMail {
	t.Helper()
	all, err := st.ListMail(context.Background(), "", 10)
	if err != nil || len(all) != 1 {
		t.Fatalf("outbox: %+v %v", all, err)
	}
	return all[0]
}

var hello = Message{To: []string{"rob@example.com"}, Subject: "[Deskside] Blocking: Wi-Fi drops — assigned to you", Text: "Hi Rob"}

// TestAuthRefusedNothingLost: the mail server refuses the password; the
// email stays queued with the reason in plain words and a retry time, and
// goes (once) after the admin fixes the password.
func TestAuthRefusedNothingLost(t *testing.T) {
	ctx := context.Background()
	srv := mailtest.New(t)
	srv.Start()
	st, c := openStore(t), newClock()
	set := srv.Settings()
	set.Password = "wrong"
	if err := st.SetMailSettings(ctx, set); err != nil {
		t.Fatal(err)
	}
	q := NewQueue(st)
	q.now = c.Now
	if err := q.Send(ctx, hello); err != nil {
		t.Fatal(err)
	}
	w := testWorker(t, st, c)
	if n := runOnce(t, w); n != 1 {
		t.Fatalf("claimed %d", n)
	}
	m := onlyMail(t, st)
	if m.Status != store.MailQueued || m.Attempts != 1 || !strings.Contains(m.LastError, "refused the username or password — check them in Admin → Email") ||
		!m.NextAttemptAt.Equal(c.Now().Add(30*time.Second)) {
		t.Fatalf("after a refused password: %+v", m)
	}
	if n := runOnce(t, w); n != 0 {
		t.Fatal("retried before its time")
	}
	c.Add(30 * time.Second)
	runOnce(t, w) // still wrong: the wait doubles
	if m = onlyMail(t, st); m.Attempts != 2 || !m.NextAttemptAt.Equal(c.Now().Add(time.Minute)) {
		t.Fatalf("second failure: %+v", m)
	}
	set.Password = srv.Pass // the admin fixes it
	if err := st.SetMailSettings(ctx, set); err != nil {
		t.Fatal(err)
	}
	c.Add(time.Minute)
	runOnce(t, w)
	if m = onlyMail(t, st); m.Status != store.MailSent || m.LastError != "" || m.SentAt.IsZero() {
		t.Fatalf("after the fix: %+v", m)
	}
	c.Add(time.Hour)
	runOnce(t, w)
	if got := srv.Await(1); len(got) != 1 {
		t.Fatalf("received %d emails", len(got))
	}
}

// TestServerDownThenUp: queued while the mail server is down, delivered
// once when it is back.
func TestServerDownThenUp(t *testing.T) {
	ctx := context.Background()
	srv := mailtest.New(t)
	st, c := openStore(t), newClock()
	if err := st.SetMailSettings(ctx, srv.Settings()); err != nil {
		t.Fatal(err)
	}
	q := NewQueue(st)
	q.now = c.Now
	if err := q.Send(ctx, hello); err != nil {
		t.Fatal(err)
	}
	w := testWorker(t, st, c)
	runOnce(t, w)
	if m := onlyMail(t, st); m.Status != store.MailQueued || !strings.Contains(m.LastError, "could not reach the mail server") {
		t.Fatalf("while down: %+v", m)
	}
	srv.Start()
	c.Add(30 * time.Second)
	runOnce(t, w)
	c.Add(time.Hour)
	runOnce(t, w)
	if m := onlyMail(t, st); m.Status != store.MailSent {
		t.Fatalf("after the server came back: %+v", m)
	}
	if got := srv.Emails(); len(got) != 1 {
		t.Fatalf("received %d emails, want exactly 1", len(got))
	}
}

// TestGiveUpAfterADay: an email that cannot go for a day is marked failed,
// with the last reason, and stays visible.
func TestGiveUpAfterADay(t *testing.T) {
	ctx := context.Background()
	srv := mailtest.New(t) // never started: the mail server is down all day
	st, c := openStore(t), newClock()
	if err := st.SetMailSettings(ctx, srv.Settings()); err != nil {
		t.Fatal(err)
	}
	q := NewQueue(st)
	q.now = c.Now
	if err := q.Send(ctx, hello); err != nil {
		t.Fatal(err)
	}
	w := testWorker(t, st, c)
	tries := 0
	for ; tries < 100; tries++ {
		if m := onlyMail(t, st); m.Status != store.MailQueued {
			break
		}
		runOnce(t, w)
		c.Add(time.Hour)
	}
	m := onlyMail(t, st)
	if m.Status != store.MailFailed || !strings.Contains(m.LastError, "could not reach the mail server") || tries < 20 || tries > 30 {
		t.Fatalf("after a day: %+v (%d tries)", m, tries)
	}
}

// TestEmailOffWaits: while email is off, queued emails wait untried; one
// that waited more than a day is marked failed, not sent.
func TestEmailOffWaits(t *testing.T) {
	ctx := context.Background()
	srv := mailtest.New(t)
	srv.Start()
	st, c := openStore(t), newClock()
	q := NewQueue(st)
	q.now = c.Now
	if err := q.Send(ctx, hello); err != nil {
		t.Fatal(err)
	}
	w := testWorker(t, st, c)
	c.Add(2 * time.Hour)
	if n := runOnce(t, w); n != 0 {
		t.Fatal("claimed while email is off")
	}
	if m := onlyMail(t, st); m.Status != store.MailQueued || m.Attempts != 0 {
		t.Fatalf("while off: %+v", m)
	}
	old := hello
	old.Subject = "from yesterday"
	q.now = func() time.Time { return c.Now().Add(-25 * time.Hour) }
	if err := q.Send(ctx, old); err != nil {
		t.Fatal(err)
	}
	if err := st.SetMailSettings(ctx, srv.Settings()); err != nil {
		t.Fatal(err)
	}
	if n := runOnce(t, w); n != 2 {
		t.Fatalf("claimed %d", n)
	}
	got := srv.Await(1)
	if h, _, _ := mailtest.Parse(t, got[0].Data); mailtest.Subject(t, h) != hello.Subject {
		t.Fatalf("sent %q", mailtest.Subject(t, h))
	}
	failed, err := st.ListMail(ctx, store.MailFailed, 10)
	if err != nil || len(failed) != 1 || failed[0].Subject != "from yesterday" || !strings.Contains(failed[0].LastError, "more than a day") {
		t.Fatalf("the stale email: %+v %v", failed, err)
	}
	if len(srv.Emails()) != 1 {
		t.Fatal("the stale email was sent")
	}
}

func TestBackoff(t *testing.T) {
	w := NewWorker(WorkerOptions{})
	for attempts, want := range map[int]time.Duration{1: 30 * time.Second, 2: time.Minute, 3: 2 * time.Minute, 7: 32 * time.Minute,
		8: time.Hour, 50: time.Hour} {
		if got := w.Backoff(attempts); got != want {
			t.Errorf("Backoff(%d) = %v, want %v", attempts, got, want)
		}
	}
}

func TestQueueRefusesBadMessages(t *testing.T) {
	q := NewQueue(openStore(t))
	for _, m := range []Message{
		{Subject: "s", Text: "t"},
		{To: []string{"rob@example.com\r\nBcc: eve@example.com"}, Text: "t"},
		{To: []string{"Rob <rob@example.com>"}, Text: "t"},
		{To: []string{"rob@example.com"}, Text: " "},
	} {
		if err := q.Send(context.Background(), m); err == nil {
			t.Errorf("queued %+v", m)
		}
	}
}

// TestParallelEnqueues: 40 emails queued at once, two nodes' workers
// running; the server receives 40, each once.
func TestParallelEnqueues(t *testing.T) {
	t.Run("SQLite", func(t *testing.T) {
		dir := t.TempDir()
		open := func() *store.SQL {
			s, err := store.Open(context.Background(), dir)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		}
		parallelEnqueues(t, open(), open())
	})
	t.Run("Postgres", func(t *testing.T) {
		url := pgtest.URL(t)
		open := func() *store.SQL {
			s, err := store.OpenPostgres(context.Background(), url)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		}
		parallelEnqueues(t, open(), open())
	})
}

func parallelEnqueues(t *testing.T, a, b *store.SQL) {
	ctx := context.Background()
	srv := mailtest.New(t)
	srv.Start()
	if err := a.SetMailSettings(ctx, srv.Settings()); err != nil {
		t.Fatal(err)
	}
	qa, qb := NewQueue(a), NewQueue(b)
	pool := mailtest.Pool()
	for _, x := range []struct {
		st *store.SQL
		q  *Queue
	}{{a, qa}, {b, qb}} {
		w := StartWorker(WorkerOptions{Store: x.st, Queue: x.q, Log: slog.New(slog.DiscardHandler), Poll: 50 * time.Millisecond,
			SMTP: SMTPOptions{RootCAs: pool, Timeout: 10 * time.Second}})
		t.Cleanup(w.Close)
	}
	const n = 40
	var wg sync.WaitGroup
	for i := range n {
		q := qa
		if i%2 == 1 {
			q = qb
		}
		wg.Go(func() {
			m := hello
			m.Subject = fmt.Sprintf("email %02d", i)
			if err := q.Send(ctx, m); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	srv.Await(n)
	// Wait until the outbox says all are sent, then count what arrived.
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := a.CountMail(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if c[store.MailSent] == n {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("outbox: %v", c)
		}
		time.Sleep(10 * time.Millisecond) // polling a condition with a deadline
	}
	seen := map[string]int{}
	for _, r := range srv.Emails() {
		h, _, _ := mailtest.Parse(t, r.Data)
		seen[mailtest.Subject(t, h)]++
	}
	if len(seen) != n {
		t.Fatalf("%d distinct emails arrived, want %d", len(seen), n)
	}
	for s, c := range seen {
		if c != 1 {
			t.Errorf("%q arrived %d times", s, c)
		}
	}
}

// TestWorkerPrunes: old sent emails go after 30 days, failed ones after
// 90; a recent sent one stays.
func TestWorkerPrunes(t *testing.T) {
	ctx := context.Background()
	st, c := openStore(t), newClock()
	q := NewQueue(st)
	for i, age := range []time.Duration{40 * 24 * time.Hour, 10 * 24 * time.Hour, 100 * 24 * time.Hour} {
		q.now = func() time.Time { return c.Now().Add(-age) }
		m := hello
		m.Subject = fmt.Sprint(i)
		if err := q.Send(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	all, err := st.ListMail(ctx, "", 10) // newest first: 1 (10 days), 0 (40 days), 2 (100 days)
	if err != nil || len(all) != 3 {
		t.Fatal(all, err)
	}
	if _, err := st.ClaimMail(ctx, c.Now(), time.Minute, 10); err != nil {
		t.Fatal(err)
	}
	for _, m := range all[:2] {
		if err := st.MailSent(ctx, m.ID, m.CreatedAt); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.MailAttemptFailed(ctx, all[2].ID, "x", time.Time{}); err != nil {
		t.Fatal(err)
	}
	w := testWorker(t, st, c)
	w.prune(ctx)
	left, _ := st.ListMail(ctx, "", 10)
	if len(left) != 1 || left[0].Subject != "1" {
		t.Fatalf("after pruning: %+v", left)
	}
}
