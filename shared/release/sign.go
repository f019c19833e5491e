package release

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	"aead.dev/minisign"
)

// ErrBadSignature means no trusted key verifies the signature.
var ErrBadSignature = errors.New("signature does not verify with any trusted key")

// Sign signs the canonical bytes of m with the publisher's secret key and
// returns manifest bytes and a minisign signature (prehashed Ed25519, the
// default of the minisign tool, so `minisign -Vm manifest.json` checks it too).
// The trusted comment repeats version and platform for people; it is signed.
func Sign(key minisign.PrivateKey, m *Manifest) (manifest, signature []byte, err error) {
	manifest, err = m.Marshal()
	if err != nil {
		return nil, nil, err
	}
	r := minisign.NewReader(bytes.NewReader(manifest))
	if _, err := io.Copy(io.Discard, r); err != nil {
		return nil, nil, fmt.Errorf("sign manifest: %w", err)
	}
	trusted := fmt.Sprintf("%s %s %s %s rollback=%t sha256=%s", m.Product, m.Version, m.Platform(), m.Channel, m.Rollback, m.SHA256)
	untrusted := fmt.Sprintf("signature from deskside-release key %X", key.ID())
	return manifest, r.SignWithComments(key, trusted, untrusted), nil
}

// Verify checks signature over manifest with each trusted key and, when one
// verifies, parses the manifest strictly. Nothing in an unsigned manifest is
// ever looked at beyond its size.
func Verify(keys []minisign.PublicKey, manifest, signature []byte) (*Manifest, error) {
	if len(keys) == 0 {
		return nil, errors.New("verify manifest: no trusted public key is configured")
	}
	if len(manifest) > MaxManifestBytes || len(signature) > MaxSignatureBytes {
		return nil, errors.New("verify manifest: manifest or signature over the size limit")
	}
	ok := false
	for _, k := range keys {
		if minisign.Verify(k, manifest, signature) {
			ok = true
			break
		}
	}
	if !ok {
		return nil, fmt.Errorf("verify manifest: %w", ErrBadSignature)
	}
	m, err := ParseManifest(manifest)
	if err != nil {
		return nil, fmt.Errorf("verify manifest: %w", err)
	}
	return m, nil
}

// ParsePublicKeys reads one or more minisign public keys: the base64 form
// ("RWQ…"), or the contents of a minisign .pub file, separated by newlines,
// commas or spaces. More than one key allows rotating the publisher key.
func ParsePublicKeys(text string) ([]minisign.PublicKey, error) {
	var keys []minisign.PublicKey
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "untrusted comment:") {
			continue
		}
		for _, f := range strings.FieldsFunc(line, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' }) {
			var k minisign.PublicKey
			if err := k.UnmarshalText([]byte(f)); err != nil {
				return nil, fmt.Errorf("public key %q: %w", f, err)
			}
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return nil, errors.New("no public key given")
	}
	return keys, nil
}
