package release

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"reflect"
	"strings"
	"testing"
	"time"

	"aead.dev/minisign"

	"github.com/deskside/deskside/shared/version"
)

// FuzzParseManifest is the manifest parser the agent runs on what the server
// serves (after the signature check) and the server runs on an upload. A
// manifest it accepts is small, valid, in canonical form (Marshal gives back
// exactly the input bytes) and parses again to the same manifest.
func FuzzParseManifest(f *testing.F) {
	m, err := NewManifest(strings.NewReader("binary bytes"), "1.4.0-rc.1+b7", "linux", "amd64", ChannelBeta, true, time.Unix(1795000000, 0))
	if err != nil {
		f.Fatal(err)
	}
	canon, err := m.Marshal()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(canon)
	f.Add(bytes.TrimSuffix(canon, []byte("\n")))
	f.Add(bytes.Replace(canon, []byte(`"format": 1`), []byte(`"format": 1, "format": 1`), 1))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := ParseManifest(b)
		if err != nil {
			return
		}
		if len(b) > MaxManifestBytes {
			t.Fatalf("accepted %d bytes; the limit is %d", len(b), MaxManifestBytes)
		}
		if err := m.Validate(); err != nil {
			t.Fatalf("accepted an invalid manifest: %v", err)
		}
		if _, err := version.Parse(m.Version); err != nil || !m.Channel.Valid() || m.Size <= 0 || m.Created.Location() != time.UTC {
			t.Fatalf("accepted %+v (%v)", m, err)
		}
		again, err := m.Marshal()
		if err != nil || !bytes.Equal(again, b) {
			t.Fatalf("accepted bytes are not canonical (%v):\n%s\n%s", err, b, again)
		}
		back, err := ParseManifest(again)
		if err != nil || !reflect.DeepEqual(back, m) {
			t.Fatalf("parse → marshal → parse changed the manifest (%v):\n%+v\n%+v", err, m, back)
		}
	})
}

// FuzzManifestRoundTrip builds manifests field by field: every manifest that
// validates is signed, verified and parsed back to itself (created time in
// UTC to the second), so no valid release is one the agent cannot read.
func FuzzManifestRoundTrip(f *testing.F) {
	pub, priv, err := minisign.GenerateKey(nil)
	if err != nil {
		f.Fatal(err)
	}
	sum := sha256.Sum256([]byte("binary bytes"))
	f.Add("1.4.0", "linux", "amd64", hex.EncodeToString(sum[:]), int64(12), false, false, int64(1795000000), int64(123))
	f.Add("v2.0.0-rc.1+build-7", "windows", "arm64", hex.EncodeToString(sum[:]), int64(MaxBinaryBytes), true, true, int64(-62135596800), int64(999999999))
	f.Add("1.0.0", "darwin", "amd64", strings.Repeat("f", 64), int64(1), false, true, int64(253402300799), int64(1))
	f.Fuzz(func(t *testing.T, ver, goos, goarch, sha string, size int64, beta, rollback bool, sec, nsec int64) {
		ch := ChannelStable
		if beta {
			ch = ChannelBeta
		}
		m := &Manifest{
			Format: FormatVersion, Product: Product, Version: ver, OS: goos, Arch: goarch,
			SHA256: sha, Size: size, Channel: ch, Rollback: rollback,
			Created: time.Unix(sec, nsec).In(time.FixedZone("publisher", 3600)),
		}
		if m.Validate() != nil {
			return
		}
		man, sig, err := Sign(priv, m)
		if err != nil {
			t.Fatalf("a valid manifest cannot be signed: %v\n%+v", err, m)
		}
		got, err := Verify([]minisign.PublicKey{pub}, man, sig)
		if err != nil {
			t.Fatalf("a signed manifest does not verify: %v\n%s", err, man)
		}
		want := *m
		want.Created = m.Created.UTC().Truncate(time.Second)
		if !reflect.DeepEqual(*got, want) {
			t.Fatalf("sign → verify changed the manifest:\n got %+v\nwant %+v", *got, want)
		}
		// The verified manifest encodes to the signed bytes, so the server
		// names it by the same release id whoever re-encodes it.
		again, err := got.Marshal()
		if err != nil || !bytes.Equal(again, man) || ID(again) != ID(man) {
			t.Fatalf("re-encoding the verified manifest changed it (%v):\n%s\n%s", err, man, again)
		}
	})
}
