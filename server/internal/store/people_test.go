package store

import (
	"context"
	"errors"
	"sync"
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

func testEnrolTokens(t *testing.T, s Store) {
	ctx := context.Background()
	now := time.Now()
	past := now.Add(-time.Minute)
	for _, tok := range []struct {
		tok  EnrollToken
		hash string
	}{
		{EnrollToken{ID: "once", Group: "lab", MaxUses: 1, CreatedAt: now}, "h-once"},
		{EnrollToken{ID: "old", ExpiresAt: &past, CreatedAt: now.Add(-time.Hour)}, "h-old"},
		{EnrollToken{ID: "gone", CreatedAt: now.Add(-2 * time.Hour)}, "h-gone"},
	} {
		if err := s.CreateToken(ctx, tok.tok, []byte(tok.hash)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.RevokeToken(ctx, "gone"); err != nil {
		t.Fatal(err)
	}
	if err := s.RevokeToken(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("revoke unknown: %v", err)
	}
	d, err := s.Enroll(ctx, []byte("h-once"), Device{ID: "d1", SecretHash: []byte("s"), Hostname: "pc1"}, now)
	if err != nil || d.Group != "lab" {
		t.Fatalf("enrol: %+v %v", d, err)
	}
	for hash, want := range map[string]error{"h-once": ErrTokenUsedUp, "h-old": ErrTokenExpired, "h-gone": ErrTokenRevoked, "h-x": ErrTokenUnknown} {
		if _, err := s.Enroll(ctx, []byte(hash), Device{ID: "d-" + hash, SecretHash: []byte("s"), Hostname: "pc"}, now); !errors.Is(err, want) {
			t.Errorf("enrol with %s: %v, want %v", hash, err, want)
		}
	}
	toks, err := s.ListTokens(ctx)
	if err != nil || len(toks) != 3 || toks[0].ID != "once" || toks[0].Uses != 1 || toks[1].ExpiresAt == nil || !toks[2].Revoked {
		t.Fatalf("tokens: %+v %v", toks, err)
	}
}

// Several enrolments race for a single-use token (on PostgreSQL each in its
// own connection): exactly one wins.
func testSingleUseTokenRace(t *testing.T, s Store) {
	ctx := context.Background()
	if err := s.CreateToken(ctx, EnrollToken{ID: "once", MaxUses: 1, CreatedAt: time.Now()}, []byte("h")); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Go(func() {
			_, errs[i] = s.Enroll(ctx, []byte("h"), Device{ID: string(rune('a' + i)), SecretHash: []byte("s"), Hostname: "pc"}, time.Now())
		})
	}
	wg.Wait()
	won := 0
	for _, err := range errs {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, ErrTokenUsedUp):
			t.Errorf("loser: %v, want ErrTokenUsedUp", err)
		}
	}
	if won != 1 {
		t.Fatalf("%d enrolments won a single-use token", won)
	}
}

func testDevices(t *testing.T, s Store) {
	ctx := context.Background()
	enrol(t, s, map[string]string{"Alpha": "Linux", "beta": "windows", "50%off": "darwin"})
	if err := s.DeviceSeen(ctx, "beta", "1.2.3", "", "arm64", time.UnixMilli(1700000000000)); err != nil {
		t.Fatal(err)
	}
	d, err := s.Device(ctx, "beta")
	if err != nil || d.AgentVersion != "1.2.3" || d.OS != "windows" || d.Arch != "arm64" || d.LastSeen.UnixMilli() != 1700000000000 || string(d.SecretHash) != "beta" {
		t.Fatalf("after hello: %+v %v", d, err)
	}
	for q, want := range map[string]int{"": 3, "ALPHA": 1, "linux": 1, "%": 1, "_": 0, "a": 3} {
		ds, err := s.ListDevices(ctx, q)
		if err != nil || len(ds) != want {
			t.Errorf("search %q: %d devices %v, want %d", q, len(ds), err, want)
		}
	}
	if err := s.RevokeDevice(ctx, "beta"); err != nil {
		t.Fatal(err)
	}
	if d, err := s.Device(ctx, "beta"); err != nil || !d.Revoked {
		t.Fatalf("revoked: %+v %v", d, err)
	}
	if err := s.RevokeDevice(ctx, "nobody"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("revoke unknown: %v", err)
	}
	if snap, err := s.DeviceSnapshot(ctx, "Alpha"); err != nil || snap != nil {
		t.Fatalf("no snapshot yet: %s %v", snap, err)
	}
	if res, err := s.SaveSnapshot(ctx, "f1", "Alpha", []byte(`{"cpu":1}`)); err != nil || res.Duplicate {
		t.Fatalf("save snapshot: %+v %v", res, err)
	}
	if res, err := s.SaveSnapshot(ctx, "f1", "Alpha", []byte(`{"cpu":2}`)); err != nil || !res.Duplicate {
		t.Fatalf("same frame again: %+v %v", res, err)
	}
	if snap, err := s.DeviceSnapshot(ctx, "Alpha"); err != nil || string(snap) != `{"cpu":1}` {
		t.Fatalf("snapshot: %s %v", snap, err)
	}
	if _, err := s.DeviceSnapshot(ctx, "nobody"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("snapshot of unknown: %v", err)
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
	if err := s.DeleteTechnicianSessions(ctx, ann.ID); err != nil {
		t.Fatal(err)
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
