package servertest

import (
	"bytes"
	"crypto/rand"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
	"time"

	"aead.dev/minisign"

	"github.com/deskside/deskside/shared/release"
)

// Publisher is the offline signing side of an update test: a fresh
// minisign key pair. The server under test gets PublicKey through
// WithReleaseKey; agents built for the test get it through -ldflags -X.
type Publisher struct {
	PublicKey string // the base64 line alone ("RW…")
	priv      minisign.PrivateKey
}

// NewPublisher makes a fresh key pair.
func NewPublisher(t testing.TB) Publisher {
	t.Helper()
	pub, priv, err := minisign.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	text, err := pub.MarshalText()
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(text)), "\n")
	return Publisher{PublicKey: lines[len(lines)-1], priv: priv}
}

// Sign makes the stable-channel manifest and signature for bin, as
// `deskside-release sign` does.
func (p Publisher) Sign(t testing.TB, bin []byte, ver, goos, goarch string) (man, sig []byte) {
	t.Helper()
	m, err := release.NewManifest(bytes.NewReader(bin), ver, goos, goarch, release.ChannelStable, false, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	man, sig, err = release.Sign(p.priv, m)
	if err != nil {
		t.Fatal(err)
	}
	return man, sig
}

// UploadRelease posts a release's three parts in the documented order
// (manifest, signature, binary) and returns the status and body.
func (c *Tech) UploadRelease(t testing.TB, man, sig, bin []byte) (int, []byte) {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for _, part := range []struct {
		name string
		data []byte
	}{{"manifest", man}, {"signature", sig}, {"binary", bin}} {
		w, err := mw.CreateFormFile(part.name, part.name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(part.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	return c.DoRaw(t, http.MethodPost, "/api/v1/releases", mw.FormDataContentType(), &body)
}
