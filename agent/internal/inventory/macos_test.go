package inventory

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"howett.net/plist"

	"github.com/deskside/deskside/shared/protocol"
)

// bundle writes an .app bundle whose Info.plist is info in format.
func bundle(t *testing.T, dir string, info map[string]any, format int) {
	t.Helper()
	b, err := plist.Marshal(info, format)
	must(t, err)
	writeFile(t, filepath.Join(dir, "Contents", "Info.plist"), string(b))
	writeFile(t, filepath.Join(dir, "Contents", "MacOS", "app"), "\xcf\xfa\xed\xfe")
}

func TestAppBundles(t *testing.T) {
	root, home := t.TempDir(), t.TempDir()
	apps := filepath.Join(root, "Applications")
	bundle(t, filepath.Join(apps, "Figma.app"), map[string]any{
		"CFBundleName":               "Figma",
		"CFBundleShortVersionString": "124.6.5",
		"CFBundleVersion":            "124.6.5.1",
		"CFBundleIdentifier":         "com.figma.Desktop",
		"NSHumanReadableCopyright":   "Copyright © 2016-2024 Figma, Inc. All rights reserved.",
		"LSMinimumSystemVersion":     "10.15",
	}, plist.XMLFormat)
	bundle(t, filepath.Join(apps, "Utilities", "Karabiner-EventViewer.app"), map[string]any{
		"CFBundleDisplayName": "Karabiner-EventViewer",
		"CFBundleName":        "EventViewer",
		"CFBundleVersion":     "15.3.0",
		"CFBundleIdentifier":  "org.pqrs.Karabiner-EventViewer",
	}, plist.BinaryFormat)
	// An app's helper apps are part of it; two levels down is not searched.
	bundle(t, filepath.Join(apps, "Figma.app", "Contents", "Helpers", "Figma Helper.app"), map[string]any{"CFBundleName": "Figma Helper"}, plist.XMLFormat)
	bundle(t, filepath.Join(apps, "Deep", "Deeper", "Too Deep.app"), map[string]any{"CFBundleName": "Too Deep"}, plist.XMLFormat)
	bundle(t, filepath.Join(apps, ".Hidden.app"), map[string]any{"CFBundleName": "Hidden"}, plist.XMLFormat)
	writeFile(t, filepath.Join(apps, "Broken.app", "Contents", "Info.plist"), "<?xml version=\"1.0\"?><plist><dict><key>CFBundleName")
	writeFile(t, filepath.Join(apps, "readme.txt"), "not an app")
	bundle(t, filepath.Join(home, "Applications", "Obsidian.app"), map[string]any{
		"CFBundleName":       "Obsidian",
		"CFBundleVersion":    uint64(42), // a number where a string belongs
		"CFBundleIdentifier": "md.obsidian",
	}, plist.BinaryFormat)

	rep := Collect(context.Background(), Options{GOOS: "darwin", Root: root, Home: home, Run: noTools})
	if len(rep.Failed) != 0 || !slices.Equal(rep.Read, []protocol.SoftwareSource{protocol.SourceAppBundle}) {
		t.Fatalf("read %v failed %v", rep.Read, rep.Failed)
	}
	a := protocol.SourceAppBundle
	want := []protocol.SoftwareEntry{
		{Name: "Broken", Source: a},
		{Name: "Figma", Version: "124.6.5", Publisher: "Figma, Inc", Source: a, AppID: "com.figma.Desktop"},
		{Name: "Karabiner-EventViewer", Version: "15.3.0", Source: a, AppID: "org.pqrs.Karabiner-EventViewer"},
		{Name: "Obsidian", Version: "42", Source: a, PerUser: true, AppID: "md.obsidian"},
	}
	if !slices.Equal(rep.Entries, want) {
		t.Fatalf("entries:\n%s\nwant:\n%s", dump(rep.Entries), dump(want))
	}

	// Neither folder: absent.
	rep = Collect(context.Background(), Options{GOOS: "darwin", Root: t.TempDir(), Home: t.TempDir(), Run: noTools})
	if len(rep.Read) != 0 || len(rep.Failed) != 0 {
		t.Fatalf("no Applications: %+v", rep)
	}
	// /Applications that cannot be listed: failed.
	bad := t.TempDir()
	must(t, os.Symlink("Applications", filepath.Join(bad, "Applications")))
	assertFailed(t, Collect(context.Background(), Options{GOOS: "darwin", Root: bad, Home: t.TempDir(), Run: noTools}), a)
}

func TestCopyrightHolder(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"Copyright © 2016-2024 Figma, Inc. All rights reserved.", "Figma, Inc"},
		{"© 2024 Zoom Video Communications, Inc.", "Zoom Video Communications, Inc"},
		{"Copyright (c) 2019, 2020 The Mozilla Foundation", "The Mozilla Foundation"},
		{"2008–present Spotify AB", "Spotify AB"},
		{"Made with love in Berlin", ""},
		{"Copyright 2024. All rights reserved.", ""},
		{"", ""},
	} {
		if got := copyrightHolder(c.in); got != c.want {
			t.Errorf("%q: %q, want %q", c.in, got, c.want)
		}
	}
}

// FuzzInfoPlist: any bytes parse without panic (and what comes out
// normalises to valid entries); and an Info.plist the plist library wrote,
// XML or binary, reads back with the name, version and bundle id it holds.
func FuzzInfoPlist(f *testing.F) {
	xml, _ := plist.Marshal(map[string]any{"CFBundleName": "Figma", "CFBundleShortVersionString": "1"}, plist.XMLFormat)
	bin, _ := plist.Marshal(map[string]any{"CFBundleDisplayName": "Zoom", "CFBundleVersion": uint64(5)}, plist.BinaryFormat)
	f.Add(xml, "Figma", "124.6.5", "com.figma.Desktop", false)
	f.Add(bin, "Zoom Workplace", "6.2.11 (53969)", "us.zoom.xos", true)
	f.Add([]byte("bplist00\xd1\x01\x02"), "ü", "", "", true)
	f.Fuzz(func(t *testing.T, data []byte, name, version, id string, binary bool) {
		if info, err := parseInfoPlist(data); err == nil {
			e := protocol.SoftwareEntry{Name: info.Name, Version: info.Version, AppID: info.BundleID, Publisher: info.Publisher, Source: protocol.SourceAppBundle}
			norm, _ := protocol.NormalizeSoftware([]protocol.SoftwareEntry{e})
			for _, n := range norm {
				if err := n.Validate(); err != nil {
					t.Fatalf("%+v: %v", n, err)
				}
			}
		}
		for _, s := range []string{name, version, id} {
			if !utf8.ValidString(s) || strings.IndexFunc(s, unicode.IsControl) >= 0 {
				return // an Info.plist carries text; the encoder's handling of the rest is its own
			}
		}
		format := plist.XMLFormat
		if binary {
			format = plist.BinaryFormat
		}
		b, err := plist.Marshal(map[string]any{"CFBundleName": name, "CFBundleShortVersionString": version, "CFBundleIdentifier": id}, format)
		if err != nil {
			t.Fatal(err)
		}
		info, err := parseInfoPlist(b)
		if err != nil {
			t.Fatalf("a plist the library wrote: %v", err)
		}
		if info.Name != strings.TrimSpace(name) || info.Version != strings.TrimSpace(version) || info.BundleID != strings.TrimSpace(id) {
			t.Fatalf("read back %+v from %q %q %q", info, name, version, id)
		}
	})
}
