// Package release defines a signed Deskside release: the manifest that binds
// a binary to its version, platform, size and SHA-256, its canonical bytes,
// the minisign signature over those bytes, and the rollout rule that decides
// which devices get a release while it is rolled out in stages.
//
// The publisher signs offline (cmd/deskside-release); the server stores and
// serves what was signed; the agent trusts only the publisher's public key.
package release

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"time"

	"github.com/deskside/deskside/shared/version"
)

// Product names what a manifest is for, so a signature made for another
// program of the same publisher can never be taken for the agent.
const Product = "deskside-agent"

// FormatVersion is the manifest format. Bump it only with a migration note.
const FormatVersion = 1

// Limits on what is read before a signature is checked.
const (
	MaxManifestBytes  = 4 << 10   // a manifest is a few hundred bytes
	MaxSignatureBytes = 1 << 10   // a minisign signature is ~300 bytes
	MaxBinaryBytes    = 512 << 20 // the agent binary; selfupdate holds it in memory
)

// Channel is a release track. A beta device takes beta and stable releases;
// a stable device takes stable ones only.
type Channel string

// Channels.
const (
	ChannelStable Channel = "stable"
	ChannelBeta   Channel = "beta"
)

// Valid reports whether c is a known channel.
func (c Channel) Valid() bool { return c == ChannelStable || c == ChannelBeta }

// Accepts reports whether a device following c takes a release published on r.
func (c Channel) Accepts(r Channel) bool {
	if c == ChannelBeta {
		return r == ChannelBeta || r == ChannelStable
	}
	return r == ChannelStable
}

// Manifest describes one release binary. The signature covers its canonical
// bytes, so version, platform, checksum, size, channel and the rollback flag
// are all bound by the publisher's key.
type Manifest struct {
	Format   int       `json:"format"`
	Product  string    `json:"product"`
	Version  string    `json:"version"`
	OS       string    `json:"os"`   // GOOS
	Arch     string    `json:"arch"` // GOARCH
	SHA256   string    `json:"sha256"`
	Size     int64     `json:"size"`
	Channel  Channel   `json:"channel"`
	Rollback bool      `json:"rollback"` // may replace a newer version
	Created  time.Time `json:"created"`
}

var (
	platformRE = regexp.MustCompile(`^[a-z0-9]{1,16}$`)
	sha256RE   = regexp.MustCompile(`^[0-9a-f]{64}$`)
	versionRE  = regexp.MustCompile(`^[0-9A-Za-z.+-]{1,64}$`)
)

// NewManifest hashes binary and returns its manifest, created now (UTC, to
// the second).
func NewManifest(binary io.Reader, ver, goos, goarch string, ch Channel, rollback bool, now time.Time) (*Manifest, error) {
	h := sha256.New()
	n, err := io.Copy(h, io.LimitReader(binary, MaxBinaryBytes+1))
	if err != nil {
		return nil, fmt.Errorf("hash binary: %w", err)
	}
	m := &Manifest{
		Format:   FormatVersion,
		Product:  Product,
		Version:  ver,
		OS:       goos,
		Arch:     goarch,
		SHA256:   hex.EncodeToString(h.Sum(nil)),
		Size:     n,
		Channel:  ch,
		Rollback: rollback,
		Created:  now.UTC().Truncate(time.Second),
	}
	if err := m.Validate(); err != nil {
		return nil, err
	}
	return m, nil
}

// Validate checks every field.
func (m *Manifest) Validate() error {
	switch {
	case m.Format != FormatVersion:
		return fmt.Errorf("manifest format %d is not %d", m.Format, FormatVersion)
	case m.Product != Product:
		return fmt.Errorf("manifest is for %q, not %q", m.Product, Product)
	case !versionRE.MatchString(m.Version):
		return fmt.Errorf("manifest version %q has characters outside [0-9A-Za-z.+-]", m.Version)
	case !platformRE.MatchString(m.OS) || !platformRE.MatchString(m.Arch):
		return fmt.Errorf("manifest platform %q/%q is not a GOOS/GOARCH pair", m.OS, m.Arch)
	case !sha256RE.MatchString(m.SHA256):
		return errors.New("manifest sha256 is not 64 lowercase hex digits")
	case m.Size <= 0 || m.Size > MaxBinaryBytes:
		return fmt.Errorf("manifest size %d is outside 1..%d", m.Size, MaxBinaryBytes)
	case !m.Channel.Valid():
		return fmt.Errorf("manifest channel %q is not stable or beta", m.Channel)
	case m.canonicalCreated().IsZero():
		return errors.New("manifest has no created time")
	case m.canonicalCreated().Year() < 0 || m.canonicalCreated().Year() > 9999:
		// RFC 3339, which the JSON encoding uses, has four-digit years.
		return fmt.Errorf("manifest created time %s is outside the years 0 to 9999", m.Created)
	}
	if _, err := version.Parse(m.Version); err != nil {
		return fmt.Errorf("manifest: %w", err)
	}
	return nil
}

// canonicalCreated is the created time as it is signed: UTC, to the
// second. Validate checks this, not the raw field, so a time that is only
// not zero by its nanoseconds cannot pass Validate and then be signed as zero.
func (m *Manifest) canonicalCreated() time.Time { return m.Created.UTC().Truncate(time.Second) }

// Marshal returns the canonical bytes of m: indented JSON in field order,
// created time in UTC to the second, one trailing newline. These bytes are
// what is signed and served; they are never re-encoded after signing.
func (m *Manifest) Marshal() ([]byte, error) {
	if err := m.Validate(); err != nil {
		return nil, err
	}
	c := *m
	c.Created = m.canonicalCreated()
	b, err := json.MarshalIndent(&c, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode manifest: %w", err)
	}
	return append(b, '\n'), nil
}

// ParseManifest reads manifest bytes strictly: no unknown fields, no
// trailing data, valid fields, and the bytes must be exactly the canonical
// encoding. The last rule means there is one way to write a manifest, so no
// parser trick (duplicate keys, odd escapes) can make two readers disagree
// on what was signed.
func ParseManifest(b []byte) (*Manifest, error) {
	if len(b) > MaxManifestBytes {
		return nil, fmt.Errorf("manifest is %d bytes; the limit is %d", len(b), MaxManifestBytes)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var m Manifest
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("decode manifest: %w", err)
	}
	canon, err := m.Marshal()
	if err != nil {
		return nil, err
	}
	if !bytes.Equal(canon, b) {
		return nil, errors.New("manifest is not in canonical form")
	}
	return &m, nil
}

// CheckBinary reports whether size and sum (raw SHA-256) are what m says.
func (m *Manifest) CheckBinary(size int64, sum []byte) error {
	if size != m.Size {
		return fmt.Errorf("binary is %d bytes; the manifest says %d", size, m.Size)
	}
	if got := hex.EncodeToString(sum); got != m.SHA256 {
		return fmt.Errorf("binary sha256 is %s; the manifest says %s", got, m.SHA256)
	}
	return nil
}

// SumBytes returns the manifest's SHA-256 as raw bytes.
func (m *Manifest) SumBytes() []byte {
	b, _ := hex.DecodeString(m.SHA256)
	return b
}

// Platform is "os/arch".
func (m *Manifest) Platform() string { return m.OS + "/" + m.Arch }

// ID returns the release id the server uses for these manifest bytes:
// "rel_" and the first 20 hex digits of their SHA-256. Uploading the same
// signed manifest twice names the same release.
func ID(manifest []byte) string {
	s := sha256.Sum256(manifest)
	return "rel_" + hex.EncodeToString(s[:10])
}
