package auth

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestPasswordHashAndCheck(t *testing.T) {
	h, err := HashPassword("correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("hash %q is not argon2id with our parameters", h)
	}
	if !CheckPassword(h, "correct horse battery") {
		t.Fatal("the right password was refused")
	}
	for _, wrong := range []string{"correct horse batterY", "correct horse battery ", "", "x"} {
		if CheckPassword(h, wrong) {
			t.Fatalf("wrong password %q accepted", wrong)
		}
	}
	// A second hash of the same password has its own salt.
	h2, err := HashPassword("correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	if h2 == h || !CheckPassword(h2, "correct horse battery") {
		t.Fatal("two hashes of one password are equal (no salt) or the second does not verify")
	}
}

func TestPasswordTooShort(t *testing.T) {
	if _, err := HashPassword(strings.Repeat("a", MinPasswordLen-1)); err == nil {
		t.Fatalf("a %d-character password was hashed", MinPasswordLen-1)
	}
}

func TestCheckPasswordRefusesMalformedHashes(t *testing.T) {
	h, err := HashPassword("correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(h, "$")
	for name, enc := range map[string]string{
		"empty":        "",
		"bcrypt":       "$2a$10$abcdefghijklmnopqrstuuabcdefghijklmnopqrstuvwxyz01234",
		"argon2i":      strings.Replace(h, "argon2id", "argon2i", 1),
		"bad params":   strings.Join([]string{"", parts[1], parts[2], "m=x,t=2,p=1", parts[4], parts[5]}, "$"),
		"bad salt":     strings.Join([]string{"", parts[1], parts[2], parts[3], "!!", parts[5]}, "$"),
		"bad key":      strings.Join([]string{"", parts[1], parts[2], parts[3], parts[4], "!!"}, "$"),
		"missing part": strings.Join(parts[:5], "$"),
	} {
		if CheckPassword(enc, "correct horse battery") {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestRandomToken(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		tok := RandomToken(24)
		b, err := base64.RawURLEncoding.DecodeString(tok)
		if err != nil || len(b) != 24 || len(tok) != 32 {
			t.Fatalf("token %q: %d bytes, err %v; want 24 bytes in 32 base64url characters", tok, len(b), err)
		}
		if seen[tok] {
			t.Fatalf("token %q repeated", tok)
		}
		seen[tok] = true
	}
	// Every bit position varies: a stuck byte would show here.
	var or, and byte = 0, 0xff
	for tok := range seen {
		b, _ := base64.RawURLEncoding.DecodeString(tok)
		for _, c := range b {
			or, and = or|c, and&c
		}
	}
	if or != 0xff || and != 0 {
		t.Fatalf("bits never set %08b or always set %08b across 24,000 random bytes", ^or, and)
	}
	if n := len(RandomToken(32)); n != 43 {
		t.Fatalf("RandomToken(32) has %d characters, want 43", n)
	}
}

func TestDeviceSecretHash(t *testing.T) {
	secret := RandomToken(32)
	stored := Hash(secret)
	if len(stored) != 32 {
		t.Fatalf("hash is %d bytes, want 32 (SHA-256)", len(stored))
	}
	if !Equal(stored, Hash(secret)) {
		t.Fatal("the same secret does not match its stored hash")
	}
	if Equal(stored, Hash(secret+"x")) || Equal(stored, Hash("")) {
		t.Fatal("another secret matched")
	}
	// Different lengths (a truncated or empty stored hash) never match.
	if Equal(stored, stored[:31]) || Equal(stored, nil) || Equal(nil, stored) {
		t.Fatal("hashes of different lengths matched")
	}
}

func TestLimiterLocksOutAfterMaxFailures(t *testing.T) {
	now := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	l := NewLimiter(5, 15*time.Minute)
	l.now = func() time.Time { return now }
	for i := range 5 {
		if err := l.Allow("ana@example.com"); err != nil {
			t.Fatalf("attempt %d refused: %v", i+1, err)
		}
		l.Fail("ana@example.com")
		now = now.Add(time.Minute)
	}
	if err := l.Allow("ana@example.com"); !errors.Is(err, ErrTooManyAttempts) {
		t.Fatalf("after 5 failures: %v, want ErrTooManyAttempts", err)
	}
	if err := l.Allow("ben@example.com"); err != nil {
		t.Fatalf("another key is refused: %v", err)
	}
	// The first failure (09:00) leaves the window at 09:15: one slot frees.
	now = time.Date(2026, 11, 23, 9, 15, 0, 1, time.UTC)
	if err := l.Allow("ana@example.com"); err != nil {
		t.Fatalf("after the first failure left the window: %v", err)
	}
	l.Fail("ana@example.com")
	if err := l.Allow("ana@example.com"); !errors.Is(err, ErrTooManyAttempts) {
		t.Fatalf("a new failure fills the window again: %v", err)
	}
	// Once every failure is older than the window, the key is free.
	now = now.Add(15*time.Minute + time.Second)
	if err := l.Allow("ana@example.com"); err != nil {
		t.Fatalf("after the window: %v", err)
	}
}

func TestLimiterResetAfterSuccess(t *testing.T) {
	l := NewLimiter(2, time.Hour)
	l.Fail("k")
	l.Fail("k")
	if l.Allow("k") == nil {
		t.Fatal("not locked after 2 failures")
	}
	l.Reset("k")
	if err := l.Allow("k"); err != nil {
		t.Fatalf("after Reset: %v", err)
	}
}

func TestLimiterForgetsStaleKeys(t *testing.T) {
	now := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	l := NewLimiter(5, time.Minute)
	l.now = func() time.Time { return now }
	for i := range 10001 {
		l.Fail(string(rune('a'+i%26)) + strings.Repeat("x", i/26))
	}
	now = now.Add(2 * time.Minute)
	l.Fail("fresh")
	if n := len(l.fails); n != 1 {
		t.Fatalf("%d keys kept after the window, want 1", n)
	}
}
