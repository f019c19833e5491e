package sso

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
)

// flowCookie carries a started sign-in (state, nonce, PKCE verifier) from
// the start to the callback, sealed so the browser can neither read nor
// change it. Keeping it in the browser rather than in memory lets the
// callback land on any server node.
const flowCookie = "deskside_oidc_flow"

// flow is one sign-in in progress.
type flow struct {
	State    string `json:"s"`
	Nonce    string `json:"n"`
	Verifier string `json:"v"`
	Expires  int64  `json:"e"` // unix seconds
}

// sealer encrypts and authenticates flows (AES-256-GCM).
type sealer struct{ aead cipher.AEAD }

// newSealer derives the key from the client secret, which every node of
// one help desk shares; without a secret (a public client) the key is
// random and a flow must end on the node where it began.
func newSealer(clientSecret string) *sealer {
	var key []byte
	if clientSecret != "" {
		m := hmac.New(sha256.New, []byte(clientSecret))
		m.Write([]byte("deskside oidc flow cookie v1"))
		key = m.Sum(nil)
	} else {
		key = make([]byte, 32)
		_, _ = rand.Read(key)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		panic(err) // a 32-byte key always makes a cipher
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		panic(err)
	}
	return &sealer{aead: aead}
}

func (s *sealer) seal(f flow) (string, error) {
	plain, err := json.Marshal(f)
	if err != nil {
		return "", fmt.Errorf("seal flow: %w", err)
	}
	nonce := make([]byte, s.aead.NonceSize())
	_, _ = rand.Read(nonce)
	return base64.RawURLEncoding.EncodeToString(s.aead.Seal(nonce, nonce, plain, nil)), nil
}

func (s *sealer) open(v string) (flow, error) {
	var f flow
	b, err := base64.RawURLEncoding.DecodeString(v)
	if err != nil || len(b) < s.aead.NonceSize() {
		return f, errors.New("open flow: malformed")
	}
	plain, err := s.aead.Open(nil, b[:s.aead.NonceSize()], b[s.aead.NonceSize():], nil)
	if err != nil {
		return f, errors.New("open flow: not ours")
	}
	if err := json.Unmarshal(plain, &f); err != nil {
		return f, fmt.Errorf("open flow: %w", err)
	}
	return f, nil
}

func randomString() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func equal(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }
