package store

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

func testEnrollTokens(t *testing.T, s Store) {
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

// enrol stores devices: name → os.
func enroll(t *testing.T, s Store, devs map[string]string) {
	t.Helper()
	ctx := context.Background()
	if err := s.CreateToken(ctx, EnrollToken{ID: "tok", CreatedAt: time.Now()}, []byte("h")); err != nil {
		t.Fatal(err)
	}
	for id, os := range devs {
		if _, err := s.Enroll(ctx, []byte("h"), Device{ID: id, SecretHash: []byte(id), Hostname: id, OS: os}, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
}
