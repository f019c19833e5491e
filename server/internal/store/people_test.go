package store

import (
	"context"
	"errors"
	"testing"
	"time"
)

func testMeta(t *testing.T, s Store) {
	ctx := context.Background()
	if v, err := s.GetMeta(ctx, "k"); err != nil || v != "" {
		t.Fatalf("unset: %q %v", v, err)
	}
	for _, v := range []string{"one", "two", ""} {
		if err := s.SetMeta(ctx, "k", v); err != nil {
			t.Fatal(err)
		}
		if got, err := s.GetMeta(ctx, "k"); err != nil || got != v {
			t.Fatalf("after set %q: %q %v", v, got, err)
		}
	}
}

func testTechnicians(t *testing.T, s Store) {
	ctx := context.Background()
	if n, err := s.CountTechnicians(ctx); err != nil || n != 0 {
		t.Fatalf("count on a new store: %d %v", n, err)
	}
	now := time.Now().Truncate(time.Millisecond).UTC()
	rob := Technician{ID: "t1", Email: "Rob@Example.com", Name: "Rob", Role: "admin", PasswordHash: "h1", CreatedAt: now}
	if err := s.CreateTechnician(ctx, rob); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateTechnician(ctx, Technician{ID: "t2", Email: "rob@example.COM", Name: "Other", Role: "technician", PasswordHash: "h"}); !errors.Is(err, ErrConflict) {
		t.Fatalf("same email in another case: %v, want ErrConflict", err)
	}
	if err := s.CreateTechnician(ctx, Technician{ID: "t3", Email: "ann@example.com", Name: "Ann", Role: "technician", PasswordHash: "h", Disabled: true}); err != nil {
		t.Fatal(err)
	}
	got, err := s.TechnicianByEmail(ctx, "rob@EXAMPLE.com")
	if err != nil || got != rob {
		t.Fatalf("by email: %+v %v; want %+v", got, err, rob)
	}
	rob.Name, rob.Greeting, rob.Disabled = "Robert", "Hi!", true
	if err := s.UpdateTechnician(ctx, rob); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Technician(ctx, "t1"); err != nil || got != rob {
		t.Fatalf("after update: %+v %v", got, err)
	}
	if err := s.UpdateTechnician(ctx, Technician{ID: "nobody"}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("update unknown: %v", err)
	}
	if _, err := s.Technician(ctx, "nobody"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown: %v", err)
	}
	all, err := s.ListTechnicians(ctx)
	if err != nil || len(all) != 2 || all[0].Name != "Ann" || !all[0].Disabled || all[1].Name != "Robert" {
		t.Fatalf("list: %+v %v", all, err)
	}
}

func testSessions(t *testing.T, s Store) {
	ctx := context.Background()
	exp := time.Now().Add(time.Hour).Truncate(time.Millisecond).UTC()
	if err := s.CreateSession(ctx, []byte{1, 2, 3}, Session{TechnicianID: "t1", CSRF: "c", ExpiresAt: exp}); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateSession(ctx, []byte{9}, Session{TechnicianID: "t1", CSRF: "old", ExpiresAt: time.Now().Add(-time.Hour)}); err != nil {
		t.Fatal(err)
	}
	se, err := s.Session(ctx, []byte{1, 2, 3})
	if err != nil || se.TechnicianID != "t1" || se.CSRF != "c" || !se.ExpiresAt.Equal(exp) {
		t.Fatalf("session: %+v %v", se, err)
	}
	if err := s.DeleteSession(ctx, []byte{1, 2, 3}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Session(ctx, []byte{1, 2, 3}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("deleted session: %v", err)
	}
}

func testAudit(t *testing.T, s Store) {
	ctx := context.Background()
	at := time.Now().Truncate(time.Millisecond)
	for _, a := range []string{"first", "second", "third"} {
		if err := s.Audit(ctx, AuditEntry{At: at, Actor: "rob", Action: a, Target: "x"}); err != nil {
			t.Fatal(err)
		}
	}
	es, err := s.ListAudit(ctx, 2)
	if err != nil || len(es) != 2 || es[0].Action != "third" || es[1].Action != "second" || !es[0].At.Equal(at) {
		t.Fatalf("audit: %+v %v", es, err)
	}
}

func testSingleSignOn(t *testing.T, s Store) {
	ctx := context.Background()
	ann := Technician{ID: "sso1", Email: "ann@corp.example", Name: "Ann", Role: "technician", AuthMethod: "oidc",
		ExternalID: "https://idp.example|ann", CreatedAt: time.Now().Truncate(time.Millisecond).UTC()}
	if err := s.CreateTechnician(ctx, ann); err != nil {
		t.Fatal(err)
	}
	if got, err := s.TechnicianByExternalID(ctx, "https://idp.example|ann"); err != nil || got != ann {
		t.Fatalf("by external id: %+v %v; want %+v", got, err, ann)
	}
	if _, err := s.TechnicianByExternalID(ctx, ""); !errors.Is(err, ErrNotFound) {
		t.Fatalf("empty external id: %v, want ErrNotFound", err)
	}
	dup := Technician{ID: "sso2", Email: "other@corp.example", Name: "Other", Role: "technician", ExternalID: ann.ExternalID}
	if err := s.CreateTechnician(ctx, dup); !errors.Is(err, ErrConflict) {
		t.Fatalf("same external id twice: %v, want ErrConflict", err)
	}
	ann.BreakGlass, ann.Role = true, "admin"
	if err := s.UpdateTechnician(ctx, ann); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Technician(ctx, ann.ID); err != nil || got != ann {
		t.Fatalf("after update: %+v %v", got, err)
	}
	exp := time.Now().Add(time.Hour)
	for _, h := range [][]byte{{7, 1}, {7, 2}} {
		if err := s.CreateSession(ctx, h, Session{TechnicianID: ann.ID, CSRF: "c", ExpiresAt: exp}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.CreateSession(ctx, []byte{8}, Session{TechnicianID: "someone-else", CSRF: "c", ExpiresAt: exp}); err != nil {
		t.Fatal(err)
	}
	if n, err := s.DeleteSessions(ctx, ann.ID, nil); err != nil || n != 2 {
		t.Fatalf("sign out everywhere: %d sessions ended, %v; want 2", n, err)
	}
	for _, h := range [][]byte{{7, 1}, {7, 2}} {
		if _, err := s.Session(ctx, h); !errors.Is(err, ErrNotFound) {
			t.Fatalf("session %v after signing out everywhere: %v", h, err)
		}
	}
	if _, err := s.Session(ctx, []byte{8}); err != nil {
		t.Fatalf("another technician's session: %v", err)
	}
}
