package protocol

import (
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
)

func sampleEntries() []SoftwareEntry {
	return []SoftwareEntry{
		{Name: "firefox-esr", Version: "115.9.1esr-1", Publisher: "Debian Mozilla Maintainers", Source: SourceDpkg},
		{Name: "Figma", Version: "124.1.2", Publisher: "Figma, Inc.", Source: SourceRegistryUser, PerUser: true},
		{Name: "org.gimp.GIMP", Version: "2.10.38", Source: SourceFlatpak, AppID: "org.gimp.GIMP"},
	}
}

func TestSoftwareHashIgnoresOrder(t *testing.T) {
	a, _ := NormalizeSoftware(sampleEntries())
	b := slices.Clone(a)
	slices.Reverse(b)
	if SoftwareHash(a) != SoftwareHash(b) {
		t.Fatal("the hash depends on the order of entries")
	}
	c := slices.Clone(a)
	c[0].Version = "116.0"
	if SoftwareHash(a) == SoftwareHash(c) {
		t.Fatal("a new version did not change the hash")
	}
	if h := SoftwareHash(nil); !strings.HasPrefix(h, "sha256:") || len(h) != 71 {
		t.Fatalf("empty set hash %q", h)
	}
}

func TestNormalizeSoftwareMakesValidEntries(t *testing.T) {
	bad := []SoftwareEntry{
		{Name: strings.Repeat("x", 10<<10), Source: SourceDpkg},            // a 10 KB name
		{Name: "caf\xe9 tool", Version: "1\x00.0", Source: SourceAppImage}, // invalid UTF-8, a NUL
		{Name: "dup", Source: SourceSnap}, {Name: "dup", Source: SourceSnap},
		{Name: "  ", Source: SourceDpkg},     // no name
		{Name: "odd", Source: "floppy-disk"}, // unknown source
	}
	got, truncated := NormalizeSoftware(bad)
	if truncated || len(got) != 3 {
		t.Fatalf("got %d entries (truncated %v): %+v", len(got), truncated, got)
	}
	inv := SoftwareInventory{Full: true, Hash: SoftwareHash(got), Entries: got}
	if err := inv.Validate(); err != nil {
		t.Fatalf("normalised entries do not validate: %v", err)
	}
	if err := (&SoftwareInventory{Full: true, Hash: inv.Hash, Entries: bad[:1]}).Validate(); err == nil || !strings.Contains(err.Error(), "at most 200") {
		t.Fatalf("a 10 KB name: %v", err)
	}
	if err := (&SoftwareInventory{Full: true, Hash: inv.Hash, Entries: bad[2:4]}).Validate(); err == nil || !strings.Contains(err.Error(), "twice") {
		t.Fatalf("a duplicate: %v", err)
	}
	if err := (&SoftwareInventory{Full: true, Hash: inv.Hash, Entries: bad[1:2]}).Validate(); err == nil {
		t.Fatal("invalid UTF-8 accepted")
	}
}

func TestNormalizeSoftwareBoundsAHugeList(t *testing.T) {
	in := make([]SoftwareEntry, 100000)
	for i := range in {
		in[i] = SoftwareEntry{Name: "pkg-" + strconv.Itoa(i), Version: "1." + strconv.Itoa(i%10), AppID: strings.Repeat("q", i%300), Source: SourceDpkg}
	}
	got, truncated := NormalizeSoftware(in)
	if !truncated || len(got) != MaxSoftwareEntries {
		t.Fatalf("100,000 entries → %d (truncated %v)", len(got), truncated)
	}
	if err := (&SoftwareInventory{Full: true, Hash: SoftwareHash(got), Entries: got}).Validate(); err != nil {
		t.Fatal(err)
	}
	over := append(slices.Clone(got), SoftwareEntry{Name: "one more", Source: SourceDpkg})
	if err := (&SoftwareInventory{Full: true, Hash: SoftwareHash(got), Entries: over}).Validate(); err == nil {
		t.Fatal("more than MaxSoftwareEntries accepted")
	}
}

func TestSoftwareDiffThenApplyGivesTheNewSet(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	pool := make([]SoftwareEntry, 300)
	for i := range pool {
		pool[i] = SoftwareEntry{Name: "app" + string(rune('A'+i%26)) + string(rune('a'+i/26)), Version: string(rune('1' + r.IntN(3))), Source: SourceDpkg}
	}
	pick := func() []SoftwareEntry {
		var s []SoftwareEntry
		for _, e := range pool {
			if r.IntN(2) == 0 {
				s = append(s, e)
			}
		}
		n, _ := NormalizeSoftware(s)
		return n
	}
	for range 50 {
		old, cur := pick(), pick()
		added, removed := SoftwareDiff(old, cur)
		got := ApplySoftwareChanges(old, added, removed)
		if SoftwareHash(got) != SoftwareHash(cur) || len(got) != len(cur) {
			t.Fatalf("old + diff ≠ new: %d vs %d entries", len(got), len(cur))
		}
	}
}

func TestSoftwareTitleIDJoinsSpellingsAndPerUser(t *testing.T) {
	same := [][3]string{
		{"Mozilla Firefox (x64 en-US)", "Mozilla", "registry-machine"},
		{"mozilla  firefox", "Mozilla", "registry-user"},
		{"Mozilla Firefox", "mozilla", "programs-user"},
	}
	want := SoftwareTitleID(same[0][0], same[0][1], SoftwareSource(same[0][2]))
	for _, s := range same[1:] {
		if got := SoftwareTitleID(s[0], s[1], SoftwareSource(s[2])); got != want {
			t.Errorf("%q by %q from %s: %s, want %s", s[0], s[1], s[2], got, want)
		}
	}
	if SoftwareTitleID("Figma", "Figma, Inc.", SourceRegistryUser) != SoftwareTitleID("Figma", "Figma Inc", SourceRegistryMachine) {
		t.Error("publisher legal forms split a title")
	}
	if SoftwareTitleID("Figma", "", SourceRegistryUser) == SoftwareTitleID("Figma", "", SourceAppBundle) {
		t.Error("Windows and macOS Figma are one title; the source family must separate them")
	}
	if id := SoftwareTitleID("x", "", SourceDpkg); !strings.HasPrefix(id, "sw_") || len(id) != 19 {
		t.Errorf("id %q", id)
	}
}

// FuzzNormalizeSoftware: whatever the agent found, NormalizeSoftware makes
// a list a full inventory frame carries, and doing it twice changes nothing.
func FuzzNormalizeSoftware(f *testing.F) {
	f.Add("Figma", "124.1", "Figma, Inc.", "registry-user", true, "caf\xe9", "dpkg")
	f.Add("", "", "", "x", false, "\x00\x01", "snap")
	f.Fuzz(func(t *testing.T, name, version, publisher, source string, perUser bool, name2, source2 string) {
		in := []SoftwareEntry{
			{Name: name, Version: version, Publisher: publisher, Source: SoftwareSource(source), PerUser: perUser},
			{Name: name2, Version: version, Source: SoftwareSource(source2)},
			{Name: name, Version: version, Publisher: publisher, Source: SoftwareSource(source), PerUser: perUser},
		}
		out, _ := NormalizeSoftware(in)
		inv := SoftwareInventory{Full: true, Hash: SoftwareHash(out), Entries: out}
		if err := inv.Validate(); err != nil {
			t.Fatalf("normalised list refused: %v\n%+v", err, out)
		}
		again, _ := NormalizeSoftware(out)
		if !slices.Equal(again, out) {
			t.Fatalf("not idempotent:\n%+v\n%+v", out, again)
		}
	})
}
