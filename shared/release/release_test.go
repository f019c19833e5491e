package release

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"aead.dev/minisign"
)

func testManifest(t *testing.T) *Manifest {
	t.Helper()
	m, err := NewManifest(strings.NewReader("binary bytes"), "1.4.0", "linux", "amd64", ChannelStable, false,
		time.Date(2026, 11, 23, 9, 0, 0, 123, time.FixedZone("x", 3600)))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestSignVerify(t *testing.T) {
	pub, priv, err := minisign.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	otherPub, otherPriv, _ := minisign.GenerateKey(nil)
	m := testManifest(t)
	man, sig, err := Sign(priv, m)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Verify([]minisign.PublicKey{otherPub, pub}, man, sig)
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	if got.Version != "1.4.0" || got.Platform() != "linux/amd64" || got.Created.Location() != time.UTC {
		t.Fatalf("parsed %+v", got)
	}
	if err := got.CheckBinary(m.Size, m.SumBytes()); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(sig), "trusted comment: deskside-agent 1.4.0 linux/amd64 stable") {
		t.Errorf("signature comment:\n%s", sig)
	}

	if _, err := Verify([]minisign.PublicKey{otherPub}, man, sig); err == nil {
		t.Error("verified with the wrong key")
	}
	_, otherSig, _ := Sign(otherPriv, m)
	if _, err := Verify([]minisign.PublicKey{pub}, man, otherSig); err == nil {
		t.Error("verified a signature by another key")
	}
	// Any change to a signed field breaks the signature: platform, version, rollback.
	for _, edit := range [][2]string{
		{`"os": "linux"`, `"os": "windows"`},
		{`"version": "1.4.0"`, `"version": "9.4.0"`},
		{`"rollback": false`, `"rollback": true`},
	} {
		bad := bytes.Replace(man, []byte(edit[0]), []byte(edit[1]), 1)
		if bytes.Equal(bad, man) {
			t.Fatalf("edit %q did not apply", edit[0])
		}
		if _, err := Verify([]minisign.PublicKey{pub}, bad, sig); err == nil {
			t.Errorf("verified after %s", edit[1])
		}
	}
	if _, err := Verify(nil, man, sig); err == nil {
		t.Error("verified with no keys")
	}
}

func TestParseManifestStrict(t *testing.T) {
	man, err := testManifest(t).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ParseManifest(man); err != nil {
		t.Fatalf("canonical manifest refused: %v\n%s", err, man)
	}
	for name, b := range map[string][]byte{
		"compact":       bytes.ReplaceAll(man, []byte("\n  "), nil),
		"unknown field": bytes.Replace(man, []byte("{\n"), []byte("{\n  \"x\": 1,\n"), 1),
		"dup key":       bytes.Replace(man, []byte("{\n"), []byte("{\n  \"os\": \"windows\",\n"), 1),
		"trailing":      append(append([]byte{}, man...), "{}"...),
		"bad channel":   bytes.Replace(man, []byte(`"stable"`), []byte(`"nightly"`), 1),
		"huge":          bytes.Repeat([]byte(" "), MaxManifestBytes+1),
	} {
		if _, err := ParseManifest(b); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestParsePublicKeys(t *testing.T) {
	a, _, _ := minisign.GenerateKey(nil)
	b, _, _ := minisign.GenerateKey(nil)
	file, _ := a.MarshalText()
	keys, err := ParsePublicKeys(string(file) + "\n" + b.String() + ", " + a.String())
	if err != nil || len(keys) != 3 || !keys[0].Equal(a) || !keys[1].Equal(b) {
		t.Fatalf("keys %v err %v", keys, err)
	}
	if _, err := ParsePublicKeys("not-a-key"); err == nil {
		t.Error("garbage accepted")
	}
	if _, err := ParsePublicKeys(" \n"); err == nil {
		t.Error("empty accepted")
	}
}

func TestInRollout(t *testing.T) {
	const rel = "rel_0123456789abcdef0123"
	ids := make([]string, 1000)
	for i := range ids {
		ids[i] = fmt.Sprintf("dev_%06d", i)
	}
	pick := func(p int) map[string]bool {
		in := map[string]bool{}
		for _, id := range ids {
			if InRollout(id, rel, p) {
				in[id] = true
			}
		}
		return in
	}
	ten := pick(10)
	if n := len(ten); n < 70 || n > 130 {
		t.Errorf("10%% picked %d of 1000", n)
	}
	again := pick(10)
	if fmt.Sprint(again) != fmt.Sprint(ten) {
		t.Error("10% picked different devices the second time")
	}
	// Raising the percentage only adds devices.
	for id := range ten {
		if !InRollout(id, rel, 50) {
			t.Fatalf("%s left the rollout when it grew to 50%%", id)
		}
	}
	if n := len(pick(0)); n != 0 {
		t.Errorf("0%% picked %d", n)
	}
	if n := len(pick(100)); n != 1000 {
		t.Errorf("100%% picked %d", n)
	}
	// Another release picks another slice.
	same := 0
	for id := range ten {
		if InRollout(id, "rel_other", 10) {
			same++
		}
	}
	if same > 40 {
		t.Errorf("%d of %d devices are first in two releases", same, len(ten))
	}
}

func TestChannelAccepts(t *testing.T) {
	if !ChannelBeta.Accepts(ChannelStable) || !ChannelBeta.Accepts(ChannelBeta) ||
		!ChannelStable.Accepts(ChannelStable) || ChannelStable.Accepts(ChannelBeta) {
		t.Error("channel rules")
	}
}

// TestCreatedTimeAsSigned is the regression test of what FuzzManifestRoundTrip
// found: a created time that was zero but for its nanoseconds passed
// Validate, was signed as 0001-01-01T00:00:00Z, and then failed to parse
// ("no created time") on every device. A created time beyond year 9999
// passed Validate too and could not be encoded.
func TestCreatedTimeAsSigned(t *testing.T) {
	_, priv, err := minisign.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, created := range []time.Time{
		time.Time{}.Add(999 * time.Millisecond).In(time.FixedZone("x", 3600)),
		time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC),
	} {
		m := testManifest(t)
		m.Created = created
		if err := m.Validate(); err == nil {
			t.Errorf("created %s: Validate accepted it", created)
		}
		if _, _, err := Sign(priv, m); err == nil {
			t.Errorf("created %s: signed", created)
		}
	}
	m := testManifest(t)
	m.Created = time.Time{}.Add(time.Second)
	if err := m.Validate(); err != nil {
		t.Errorf("the first second after the zero time is a created time: %v", err)
	}
}
