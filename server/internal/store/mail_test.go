package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/deskside/deskside/server/internal/store/pgtest"
)

// The mail tests run on both backends, beside the conformance suite.
func TestMailSQLite(t *testing.T) {
	testMail(t, func(t *testing.T) Store { return openSQLite(t, t.TempDir()) })
	t.Run("ClaimOnceTwoNodes", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		testMailClaimOnce(t, openSQLite(t, dir), openSQLite(t, dir))
	})
}

func TestMailPostgres(t *testing.T) {
	pgtest.URL(t)
	testMail(t, func(t *testing.T) Store { return openPostgres(t, pgtest.URL(t)) })
	t.Run("ClaimOnceTwoNodes", func(t *testing.T) {
		t.Parallel()
		url := pgtest.URL(t)
		testMailClaimOnce(t, openPostgres(t, url), openPostgres(t, url))
	})
}

func testMail(t *testing.T, open func(t *testing.T) Store) {
	for name, fn := range map[string]func(*testing.T, Store){
		"Settings": testMailSettings, "Prefs": testMailPrefs, "Outbox": testMailOutbox,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			fn(t, open(t))
		})
	}
}

func testMailSettings(t *testing.T, s Store) {
	ctx := context.Background()
	if m, err := s.MailSettings(ctx); err != nil || m.Host != "" {
		t.Fatalf("fresh store: %+v %v", m, err)
	}
	want := MailSettings{Host: "smtp.example.com", Port: 587, Security: "starttls", Username: "it", Password: "s3cret",
		From: "it@example.com", FromName: "Acme IT", UpdatedAt: time.UnixMilli(1_700_000_000_000).UTC(), UpdatedBy: "ana@example.com"}
	for range 2 { // the second write updates the one row
		if err := s.SetMailSettings(ctx, want); err != nil {
			t.Fatal(err)
		}
		if got, err := s.MailSettings(ctx); err != nil || got != want {
			t.Fatalf("settings\n got %+v %v\nwant %+v", got, err, want)
		}
		want.Port, want.Password = 465, "another"
	}
}

func mailTech(t *testing.T, s Store, id, role string, disabled bool) {
	t.Helper()
	tc := Technician{ID: id, Email: id + "@example.com", Name: id, Role: role, Disabled: disabled, CreatedAt: time.Now()}
	if err := s.CreateTechnician(context.Background(), tc); err != nil {
		t.Fatal(err)
	}
}

func testMailPrefs(t *testing.T, s Store) {
	ctx := context.Background()
	mailTech(t, s, "ana", "admin", false)
	mailTech(t, s, "rob", "technician", false)
	mailTech(t, s, "vic", "viewer", false)
	mailTech(t, s, "old", "technician", true)
	if _, err := s.MailPrefs(ctx, "nobody"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("prefs of nobody: %v", err)
	}
	if p, err := s.MailPrefs(ctx, "vic"); err != nil || p != DefaultMailPrefs("viewer") || !p.MonthlyReport || p.Assigned {
		t.Fatalf("viewer defaults: %+v %v", p, err)
	}
	recipients := func(p MailPref) string {
		t.Helper()
		ts, err := s.MailRecipients(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		out := ""
		for _, x := range ts {
			out += x.ID + " "
		}
		return out
	}
	if got := recipients(PrefAssigned); got != "ana rob " {
		t.Errorf("assigned by default: %q", got)
	}
	if got := recipients(PrefMonthlyReport); got != "vic " {
		t.Errorf("monthly report by default: %q", got)
	}
	want := MailPrefs{Assigned: false, Slipping: true, MonthlyReport: true}
	if err := s.SetMailPrefs(ctx, "rob", want); err != nil {
		t.Fatal(err)
	}
	if err := s.SetMailPrefs(ctx, "vic", MailPrefs{}); err != nil {
		t.Fatal(err)
	}
	if p, err := s.MailPrefs(ctx, "rob"); err != nil || p != want {
		t.Fatalf("saved prefs: %+v %v", p, err)
	}
	if got := recipients(PrefAssigned); got != "ana " {
		t.Errorf("assigned after rob opted out: %q", got)
	}
	if got := recipients(PrefMonthlyReport); got != "rob " {
		t.Errorf("monthly report after changes: %q", got)
	}
	if got := recipients(PrefSlipping); got != "ana rob " {
		t.Errorf("slipping: %q", got)
	}
	if _, err := s.MailRecipients(ctx, "everything"); err == nil {
		t.Error("an unknown preference was accepted")
	}
}

func testMailOutbox(t *testing.T, s Store) {
	ctx := context.Background()
	t0 := time.UnixMilli(1_700_000_000_000).UTC()
	m, err := s.EnqueueMail(ctx, OutMail{ID: "m1", To: []string{"rob@example.com", "ana@example.com"}, Subject: "Hi",
		Text: "text", HTML: "<p>html</p>", CreatedAt: t0})
	if err != nil || m.Status != MailQueued || !m.NextAttemptAt.Equal(t0) {
		t.Fatalf("enqueue: %+v %v", m, err)
	}
	if _, err := s.EnqueueMail(ctx, OutMail{ID: "m1", To: []string{"x@example.com"}, CreatedAt: t0}); !errors.Is(err, ErrConflict) {
		t.Fatalf("same id twice: %v", err)
	}
	if _, err := s.EnqueueMail(ctx, OutMail{ID: "m2", To: []string{"x@example.com\r\nBcc: y@example.com"}}); err == nil {
		t.Fatal("a recipient with a line break was stored")
	}
	if got, err := s.ClaimMail(ctx, t0.Add(-time.Second), time.Minute, 10); err != nil || len(got) != 0 {
		t.Fatalf("claimed before due: %+v %v", got, err)
	}
	got, err := s.ClaimMail(ctx, t0, time.Minute, 10)
	if err != nil || len(got) != 1 || got[0].Attempts != 1 || got[0].Text != "text" || got[0].HTML != "<p>html</p>" ||
		len(got[0].To) != 2 || got[0].To[1] != "ana@example.com" || !got[0].LeaseUntil.Equal(t0.Add(time.Minute)) {
		t.Fatalf("claim: %+v %v", got, err)
	}
	if again, _ := s.ClaimMail(ctx, t0.Add(30*time.Second), time.Minute, 10); len(again) != 0 {
		t.Fatal("claimed while leased")
	}
	// The node holding it stopped: once the lease runs out another takes it.
	if again, _ := s.ClaimMail(ctx, t0.Add(time.Minute), time.Minute, 10); len(again) != 1 || again[0].Attempts != 2 {
		t.Fatalf("after the lease ran out: %+v", again)
	}
	if err := s.MailAttemptFailed(ctx, "m1", "535 auth refused", t0.Add(5*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if again, _ := s.ClaimMail(ctx, t0.Add(4*time.Minute), time.Minute, 10); len(again) != 0 {
		t.Fatal("claimed before its retry time")
	}
	list, err := s.ListMail(ctx, MailQueued, 10)
	if err != nil || len(list) != 1 || list[0].LastError != "535 auth refused" || !list[0].NextAttemptAt.Equal(t0.Add(5*time.Minute)) {
		t.Fatalf("queued list: %+v %v", list, err)
	}
	if again, _ := s.ClaimMail(ctx, t0.Add(5*time.Minute), time.Minute, 10); len(again) != 1 || again[0].Attempts != 3 {
		t.Fatalf("retry claim: %+v", again)
	}
	if err := s.MailSent(ctx, "m1", t0.Add(6*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if again, _ := s.ClaimMail(ctx, t0.Add(time.Hour), time.Minute, 10); len(again) != 0 {
		t.Fatal("a sent email was claimed")
	}
	if err := s.MailSent(ctx, "nope", t0); !errors.Is(err, ErrNotFound) {
		t.Fatalf("sent unknown: %v", err)
	}
	// Giving up: failed, kept, visible.
	if _, err := s.EnqueueMail(ctx, OutMail{ID: "m3", To: []string{"rob@example.com"}, Subject: "x", Text: "y", CreatedAt: t0}); err != nil {
		t.Fatal(err)
	}
	if c, _ := s.ClaimMail(ctx, t0, time.Minute, 10); len(c) != 1 {
		t.Fatalf("claim m3: %+v", c)
	}
	if err := s.MailAttemptFailed(ctx, "m3", "gave up after a day", time.Time{}); err != nil {
		t.Fatal(err)
	}
	counts, err := s.CountMail(ctx)
	if err != nil || counts[MailSent] != 1 || counts[MailFailed] != 1 || counts[MailQueued] != 0 {
		t.Fatalf("counts: %v %v", counts, err)
	}
	failed, err := s.ListMail(ctx, MailFailed, 10)
	if err != nil || len(failed) != 1 || failed[0].ID != "m3" || failed[0].LastError != "gave up after a day" {
		t.Fatalf("failed list: %+v %v", failed, err)
	}
	if all, _ := s.ListMail(ctx, "", 10); len(all) != 2 || all[0].ID != "m3" {
		t.Fatalf("all: %+v", all)
	}
	// m1 was sent at t0+6m, m3 created at t0 and failed.
	if n, err := s.PruneMail(ctx, t0.Add(6*time.Minute), t0); err != nil || n != 0 {
		t.Fatalf("prune nothing: %d %v", n, err)
	}
	if n, err := s.PruneMail(ctx, t0.Add(7*time.Minute), t0); err != nil || n != 1 {
		t.Fatalf("prune the sent one: %d %v", n, err)
	}
	if n, err := s.PruneMail(ctx, t0.Add(7*time.Minute), t0.Add(time.Millisecond)); err != nil || n != 1 {
		t.Fatalf("prune the failed one: %d %v", n, err)
	}
	if c, _ := s.CountMail(ctx); c[MailSent]+c[MailFailed]+c[MailQueued] != 0 {
		t.Fatalf("after pruning: %v", c)
	}
}

// testMailClaimOnce: two nodes on one database claim 60 emails side by
// side; each email goes to exactly one of them.
func testMailClaimOnce(t *testing.T, a, b Store) {
	ctx := context.Background()
	t0 := time.Now().UTC().Truncate(time.Millisecond)
	const n = 60
	for i := range n {
		if _, err := a.EnqueueMail(ctx, OutMail{ID: fmt.Sprintf("m%02d", i), To: []string{"rob@example.com"}, Subject: "s", Text: "t",
			CreatedAt: t0}); err != nil {
			t.Fatal(err)
		}
	}
	var mu sync.Mutex
	seen := map[string]int{}
	var wg sync.WaitGroup
	for w := range 6 {
		s := a
		if w%2 == 1 {
			s = b
		}
		wg.Go(func() {
			for {
				got, err := s.ClaimMail(ctx, t0, time.Hour, 3)
				if err != nil {
					t.Error(err)
					return
				}
				if len(got) == 0 {
					return
				}
				mu.Lock()
				for _, m := range got {
					seen[m.ID]++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(seen) != n {
		t.Fatalf("%d of %d emails claimed", len(seen), n)
	}
	for id, c := range seen {
		if c != 1 {
			t.Errorf("%s claimed %d times", id, c)
		}
	}
}
