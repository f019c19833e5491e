package inventory

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/deskside/deskside/shared/protocol"
)

// noTools is a Run that finds no tool, as on a machine without rpm.
func noTools(context.Context, string, ...string) ([]byte, error) {
	return nil, fmt.Errorf("exec: %w", exec.ErrNotFound)
}

// linuxAt is Options reading a fake root and home as Linux.
func linuxAt(root, home string) Options {
	return Options{Root: root, Home: home, GOOS: "linux", Run: noTools}
}

func writeFile(t testing.TB, path, text string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

func bySource(entries []protocol.SoftwareEntry, s protocol.SoftwareSource) []protocol.SoftwareEntry {
	var out []protocol.SoftwareEntry
	for _, e := range entries {
		if e.Source == s {
			out = append(out, e)
		}
	}
	return out
}

func find(entries []protocol.SoftwareEntry, name string) (protocol.SoftwareEntry, bool) {
	for _, e := range entries {
		if e.Name == name {
			return e, true
		}
	}
	return protocol.SoftwareEntry{}, false
}

// TestDpkgRealDatabase reads this machine's dpkg database with the default
// options and checks it against dpkg-query.
func TestDpkgRealDatabase(t *testing.T) {
	if _, err := exec.LookPath("dpkg-query"); err != nil {
		t.Skip("no dpkg on this machine")
	}
	out, err := exec.Command("dpkg-query", "-W", "-f=${db:Status-Abbrev}\n").Output()
	if err != nil {
		t.Fatalf("dpkg-query: %v", err)
	}
	want := 0
	for _, line := range strings.Split(string(out), "\n") {
		// second letter: installed (i) or waiting on triggers (t, W);
		// third blank: no error flag.
		if len(line) >= 2 && strings.IndexByte("itW", line[1]) >= 0 && (len(line) == 2 || line[2] == ' ') {
			want++
		}
	}
	bashVersion, err := exec.Command("dpkg-query", "-W", "-f=${Version}", "bash").Output()
	if err != nil {
		t.Fatalf("dpkg-query bash: %v", err)
	}

	rep := Collect(context.Background(), Options{})
	if len(rep.Failed) > 0 {
		t.Fatalf("failed sources: %v", rep.Failed)
	}
	if !slices.Contains(rep.Read, protocol.SourceDpkg) {
		t.Fatalf("dpkg not read: %v", rep.Read)
	}
	got := bySource(rep.Entries, protocol.SourceDpkg)
	if len(got) != want || want == 0 {
		t.Fatalf("dpkg entries: got %d, dpkg-query lists %d installed", len(got), want)
	}
	bash, ok := find(got, "bash")
	if !ok || bash.Version != string(bashVersion) || bash.PerUser {
		t.Fatalf("bash: %+v (found %v), dpkg-query says version %q", bash, ok, bashVersion)
	}
	for _, e := range rep.Entries {
		if err := e.Validate(); err != nil {
			t.Fatalf("%+v: %v", e, err)
		}
	}
	t.Logf("%d dpkg entries of %d in %v; read %v", len(got), len(rep.Entries), rep.Took, rep.Read)
}

const dpkgSample = `Package: bash
Status: install ok installed
Priority: required
Architecture: amd64
Multi-Arch: foreign
Maintainer: Ubuntu Developers <ubuntu-devel-discuss@lists.ubuntu.com>
Version: 5.2.21-2ubuntu4
Description: GNU Bourne Again SHell
 Bash is an sh-compatible command language interpreter.
 .
 Bash also incorporates useful features.
Conffiles:
 /etc/bash.bashrc 89269e1298235f1b12b4c16e4065ad0d
 /etc/skel/.bashrc 2afcfb4a6a2b8a5bd3e3a4c2b2d9e0f0

Package: libc6
Status: install ok installed
Architecture: amd64
Maintainer: GNU Libc Maintainers <debian-glibc@lists.debian.org>
Version: 2.39-0ubuntu8

Package: libc6
Status: install ok installed
Architecture: i386
Maintainer: GNU Libc Maintainers <debian-glibc@lists.debian.org>
Version: 2.39-0ubuntu8


Package: held-tool
Status: hold ok installed
Architecture: all
Version: 1.0

Package: waiting
Status: install ok triggers-pending
Version: 2

Package: unpacked-only
Status: install ok unpacked
Version: 2

Package: removed-tool
Status: deinstall ok config-files
Version: 0.9

Package: half-done
Status: install reinstreq half-installed
Version: 3

Package: no-status
Version: 1
`

func TestDpkgStatusStanzas(t *testing.T) {
	got, truncated, err := parseDpkgStatus(context.Background(), strings.NewReader(dpkgSample))
	if err != nil || truncated {
		t.Fatalf("parse: %v, truncated %v", err, truncated)
	}
	want := []protocol.SoftwareEntry{
		{Name: "bash", Version: "5.2.21-2ubuntu4", Publisher: "Ubuntu Developers", Source: protocol.SourceDpkg, AppID: "bash:amd64"},
		{Name: "libc6", Version: "2.39-0ubuntu8", Publisher: "GNU Libc Maintainers", Source: protocol.SourceDpkg, AppID: "libc6:amd64"},
		{Name: "libc6", Version: "2.39-0ubuntu8", Publisher: "GNU Libc Maintainers", Source: protocol.SourceDpkg, AppID: "libc6:i386"},
		{Name: "held-tool", Version: "1.0", Source: protocol.SourceDpkg, AppID: "held-tool"},
		{Name: "waiting", Version: "2", Source: protocol.SourceDpkg, AppID: "waiting"},
	}
	if !slices.Equal(got, want) {
		t.Fatalf("got\n%+v\nwant\n%+v", got, want)
	}
}

// TestDpkgMalformedStanza: a broken stanza is skipped, the rest is read.
func TestDpkgMalformedStanza(t *testing.T) {
	in := "Package: a\nStatus: install ok installed\nVersion: 1\n\n" +
		"Package: broken\nthis line has no colon\nStatus: install ok installed\n\n" +
		" leading space on the first line\nPackage: c\n\n" +
		"Package: d\nStatus: install ok installed\nVersion: 4\n"
	got, _, err := parseDpkgStatus(context.Background(), strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range got {
		names = append(names, e.Name)
	}
	if !slices.Equal(names, []string{"a", "d"}) {
		t.Fatalf("names %v, want [a d]", names)
	}
}

// TestDpkgUnreadable: a status database that is there but cannot be read
// is a failed source (the caller keeps what it had), not an empty one.
func TestDpkgUnreadable(t *testing.T) {
	t.Run("directory", func(t *testing.T) {
		root := t.TempDir()
		if err := os.MkdirAll(filepath.Join(root, "var/lib/dpkg/status"), 0o755); err != nil {
			t.Fatal(err)
		}
		rep := Collect(context.Background(), linuxAt(root, t.TempDir()))
		assertFailed(t, rep, protocol.SourceDpkg)
	})
	t.Run("no permission", func(t *testing.T) {
		root := t.TempDir()
		p := filepath.Join(root, "var/lib/dpkg/status")
		writeFile(t, p, dpkgSample)
		if err := os.Chmod(p, 0); err != nil {
			t.Fatal(err)
		}
		if f, err := os.Open(p); err == nil {
			f.Close()
			t.Skip("this user reads files without permission (root)")
		}
		rep := Collect(context.Background(), linuxAt(root, t.TempDir()))
		assertFailed(t, rep, protocol.SourceDpkg)
	})
	t.Run("missing", func(t *testing.T) {
		rep := Collect(context.Background(), linuxAt(t.TempDir(), t.TempDir()))
		if len(rep.Failed) != 0 || slices.Contains(rep.Read, protocol.SourceDpkg) || len(rep.Entries) != 0 {
			t.Fatalf("a missing database is absent: %+v", rep)
		}
	})
}

func assertFailed(t *testing.T, rep Report, s protocol.SoftwareSource) {
	t.Helper()
	if len(rep.Failed) != 1 || rep.Failed[0].Source != s || rep.Failed[0].Err == nil {
		t.Fatalf("want %s failed, got %+v", s, rep.Failed)
	}
	if slices.Contains(rep.Read, s) || len(bySource(rep.Entries, s)) != 0 {
		t.Fatalf("a failed source has no entries and is not read: %+v", rep)
	}
}

// TestDpkgHostileEntries: 10 KB names, invalid UTF-8 and duplicates come
// out as valid entries; a stanza with control characters is skipped.
func TestDpkgHostileEntries(t *testing.T) {
	root := t.TempDir()
	long := strings.Repeat("n", 10<<10)
	status := "Package: " + long + "\nStatus: install ok installed\nVersion: " + strings.Repeat("9", 10<<10) + "\n" +
		"Maintainer: " + strings.Repeat("M", 10<<10) + "\n\n" +
		"Package: bad\xff\xfeutf8\nStatus: install ok installed\nVersion: 1\xc0\n\n" +
		// textproto refuses control characters in a field: that stanza alone is skipped.
		"Package: ctl\nStatus: install ok installed\nVersion: 1\x01\x02\n\n" +
		"Package: dup\nStatus: install ok installed\nVersion: 1\nArchitecture: all\n\n" +
		"Package: dup\nStatus: install ok installed\nVersion: 1\nArchitecture: all\n"
	writeFile(t, filepath.Join(root, "var/lib/dpkg/status"), status)
	rep := Collect(context.Background(), linuxAt(root, t.TempDir()))
	if len(rep.Failed) != 0 || len(rep.Entries) != 3 {
		t.Fatalf("want 3 entries (duplicate folded), got %+v", rep)
	}
	for _, e := range rep.Entries {
		if err := e.Validate(); err != nil {
			t.Fatalf("%.60q: %v", e.Name, err)
		}
	}
	if _, ok := find(rep.Entries, strings.Repeat("n", protocol.MaxSoftwareNameRunes)); !ok {
		t.Fatalf("the long name is cut to %d runes", protocol.MaxSoftwareNameRunes)
	}
	if _, ok := find(rep.Entries, "bad\uFFFDutf8"); !ok {
		t.Fatalf("invalid UTF-8 replaced: %+v", rep.Entries)
	}
}

// TestDpkgHugeStatus: a 100,000-package status database is bounded
// (Truncated) and parsed as a stream, in memory that does not grow with it.
func TestDpkgHugeStatus(t *testing.T) {
	if testing.Short() {
		t.Skip("writes a 20 MB file")
	}
	root := t.TempDir()
	p := filepath.Join(root, "var/lib/dpkg/status")
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(f)
	for i := range 100_000 {
		fmt.Fprintf(w, "Package: pkg-%06d\nStatus: install ok installed\nArchitecture: amd64\nMaintainer: Team %d <t@example.org>\n"+
			"Version: 1.%d-1\nDescription: package %d\n a longer description line that dpkg keeps\n .\n and another\n\n", i, i%50, i, i)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	fi, _ := os.Stat(p)

	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	rep := Collect(context.Background(), linuxAt(root, t.TempDir()))
	runtime.GC()
	runtime.ReadMemStats(&after)
	if !rep.Truncated || len(rep.Entries) != protocol.MaxSoftwareEntries || len(rep.Failed) != 0 {
		t.Fatalf("want %d entries, truncated; got %d, truncated %v, failed %v", protocol.MaxSoftwareEntries, len(rep.Entries), rep.Truncated, rep.Failed)
	}
	if rep.Entries[0].Name != "pkg-000000" {
		t.Fatalf("first entry %q: the kept ones are the first in canonical order", rep.Entries[0].Name)
	}
	live := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	// What stays is the 20,000 kept entries (~100 bytes each), not the file.
	if live > 16<<20 {
		t.Fatalf("%d MB live after Collect of a %d MB file", live>>20, fi.Size()>>20)
	}
	runtime.KeepAlive(rep)
	t.Logf("%d MB file: %v, %d MB allocated in all, %d MB live after", fi.Size()>>20, rep.Took, (after.TotalAlloc-before.TotalAlloc)>>20, live>>20)
}

// FuzzDpkgStatus: whatever the status file holds, the parser does not
// panic, every entry it returns has a name and the dpkg source, and
// normalised entries validate.
func FuzzDpkgStatus(f *testing.F) {
	f.Add([]byte(dpkgSample))
	f.Add([]byte("Package: a\nStatus: install ok installed\n"))
	f.Add([]byte("Package: a\nbroken\n\nPackage: b\nStatus: hold ok installed\nVersion: \xff\n"))
	f.Add([]byte(" x: y\nPackage:\n\n\n\nPackage: \x00\nStatus: install ok installed\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		got, _, err := parseDpkgStatus(context.Background(), bytes.NewReader(b))
		if err != nil {
			t.Fatalf("an in-memory reader cannot fail: %v", err)
		}
		// Every entry needs its own Status field saying "ok".
		if n := bytes.Count(b, []byte("ok")); len(got) > n {
			t.Fatalf("%d entries from %d 'ok' words", len(got), n)
		}
		for _, e := range got {
			if e.Name == "" || e.Source != protocol.SourceDpkg {
				t.Fatalf("entry %+v", e)
			}
		}
		norm, _ := protocol.NormalizeSoftware(got)
		for _, e := range norm {
			if err := e.Validate(); err != nil {
				t.Fatalf("%+v: %v", e, err)
			}
		}
	})
}

// TestDpkgReadError: a read that fails part way (a disk error) fails the
// source; it is not a short list.
func TestDpkgReadError(t *testing.T) {
	eio := errors.New("input/output error")
	_, _, err := parseDpkgStatus(context.Background(), io.MultiReader(strings.NewReader(dpkgSample), iotest.ErrReader(eio)))
	if !errors.Is(err, eio) {
		t.Fatalf("got %v, want the read error", err)
	}
	// The same failure right after a stanza textproto refuses.
	_, _, err = parseDpkgStatus(context.Background(), io.MultiReader(strings.NewReader("Package: a\nno colon\n"), iotest.ErrReader(eio)))
	if !errors.Is(err, eio) {
		t.Fatalf("after a bad stanza: got %v, want the read error", err)
	}
}
