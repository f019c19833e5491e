package inventory

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/deskside/deskside/shared/protocol"
)

// recordedRegistry replays Uninstall keys recorded from a Windows machine
// (testdata/uninstall.json: "HIVE/VIEW" → subkey → values).
type recordedRegistry struct {
	keys map[string]map[string]map[string]string
	// deny makes SubKeys of that "HIVE/VIEW" fail as access denied would.
	deny string
}

var _ RegistryReader = (*recordedRegistry)(nil)

func loadRegistry(t testing.TB) *recordedRegistry {
	t.Helper()
	b, err := os.ReadFile("testdata/uninstall.json")
	if err != nil {
		t.Fatal(err)
	}
	var raw map[string]json.RawMessage
	must(t, json.Unmarshal(b, &raw))
	r := &recordedRegistry{keys: map[string]map[string]map[string]string{}}
	for hv, msg := range raw {
		if strings.HasPrefix(hv, "_") {
			continue
		}
		var keys map[string]map[string]string
		must(t, json.Unmarshal(msg, &keys))
		r.keys[hv] = keys
	}
	return r
}

func (r *recordedRegistry) SubKeys(hive RegistryHive, view RegistryView, path string) ([]string, error) {
	hv := fmt.Sprintf("%s/%d", hive, view)
	if hv == r.deny {
		return nil, errors.New("Access is denied.")
	}
	keys, ok := r.keys[hv]
	if !ok || path != UninstallPath {
		return nil, fmt.Errorf("open %s\\%s: %w", hive, path, fs.ErrNotExist)
	}
	names := make([]string, 0, len(keys))
	for k := range keys {
		names = append(names, k)
	}
	sort.Strings(names)
	return names, nil
}

func (r *recordedRegistry) Values(hive RegistryHive, view RegistryView, path string) (map[string]string, error) {
	sub, ok := strings.CutPrefix(path, UninstallPath+`\`)
	v, found := r.keys[fmt.Sprintf("%s/%d", hive, view)][sub]
	if !ok || !found {
		return nil, fmt.Errorf("open %s\\%s: %w", hive, path, fs.ErrNotExist)
	}
	return v, nil
}

func windowsAt(t *testing.T, reg RegistryReader) Options {
	lad := t.TempDir()
	for _, d := range []string{"Programs/Microsoft VS Code", "Programs/Common", "Programs/Obsidian", "Programs/Python/Python312"} {
		must(t, os.MkdirAll(filepath.Join(lad, filepath.FromSlash(d)), 0o755))
	}
	writeFile(t, filepath.Join(lad, "Programs/desktop.ini"), "[.ShellClassInfo]\n")
	return Options{GOOS: "windows", Root: t.TempDir(), Home: t.TempDir(), LocalAppData: lad, Registry: reg, Run: noTools}
}

func TestWindowsUninstallKeys(t *testing.T) {
	rep := Collect(context.Background(), windowsAt(t, loadRegistry(t)))
	if len(rep.Failed) != 0 {
		t.Fatalf("failed: %v", rep.Failed)
	}
	wantRead := []protocol.SoftwareSource{protocol.SourceRegistryMachine, protocol.SourceRegistryUser, protocol.SourceWinPrograms}
	if !slices.Equal(rep.Read, wantRead) {
		t.Fatalf("read %v, want %v", rep.Read, wantRead)
	}
	m, u, p := protocol.SourceRegistryMachine, protocol.SourceRegistryUser, protocol.SourceWinPrograms
	want := []protocol.SoftwareEntry{
		{Name: "7-Zip 23.01", Version: "23.01", Publisher: "Igor Pavlov", Source: m, AppID: "7-Zip"},
		{Name: "Figma", Version: "124.6.5", Publisher: "Figma, Inc.", Source: u, PerUser: true, AppID: "Figma"},
		{Name: "Google Chrome", Version: "131.0.6778.86", Publisher: "Google LLC", Source: m, AppID: "{6F320B93-EE3C-4826-85E0-ADF79F8D4C61}"},
		{Name: "Microsoft 365 Apps for enterprise - en-us", Version: "16.0.17928.20156", Publisher: "Microsoft Corporation", Source: m, AppID: "O365ProPlusRetail - en-us"},
		{Name: "Microsoft Edge", Version: "131.0.2903.70", Publisher: "Microsoft Corporation", Source: m, AppID: "Microsoft Edge"},
		{Name: "Microsoft OneDrive", Version: "24.221.1103.0002", Publisher: "Microsoft Corporation", Source: u, PerUser: true, AppID: "OneDriveSetup.exe"},
		{Name: "Microsoft Visual C++ 2015-2022 Redistributable (x86) - 14.40.33810", Version: "14.40.33810.0", Publisher: "Microsoft Corporation", Source: m, AppID: "{D5D19E2F-7189-42FE-8103-92CD1FA457C2}"},
		{Name: "Microsoft Visual Studio Code (User)", Version: "1.95.3", Publisher: "Microsoft Corporation", Source: u, PerUser: true, AppID: "{771FD6B0-FA20-440A-A002-3B3BAC16DC50}_is1"},
		// Programs\Microsoft VS Code is the key above's InstallLocation: one app, not two.
		{Name: "Obsidian", Source: p, PerUser: true, AppID: "Obsidian"},
		{Name: "Python", Source: p, PerUser: true, AppID: "Python"},
		{Name: "Spotify", Version: "1.2.50.335.g3b2a4a7f", Publisher: "Spotify AB", Source: u, PerUser: true, AppID: "Spotify"},
		{Name: "Zoom Workplace", Version: "6.2.11 (53969)", Publisher: "Zoom Video Communications, Inc.", Source: u, PerUser: true, AppID: "ZoomUMX"},
		{Name: "Zoom Workplace (64-bit)", Version: "6.2.11.53969", Publisher: "Zoom Video Communications, Inc.", Source: m, AppID: "{B62E7D6A-7A1B-4F4B-9F1C-1E0E6C0B3F0A}"},
	}
	if !slices.Equal(rep.Entries, want) {
		t.Fatalf("entries:\n%s\nwant:\n%s", dump(rep.Entries), dump(want))
	}
	// The per-user and the machine-wide Zoom are one title for IT.
	if want[11].TitleID() != want[12].TitleID() {
		t.Fatalf("Zoom per user and per machine are two titles: %s, %s", want[11].TitleID(), want[12].TitleID())
	}
}

func TestWindowsRegistryFailures(t *testing.T) {
	reg := loadRegistry(t)
	reg.deny = "HKLM/32"
	rep := Collect(context.Background(), windowsAt(t, reg))
	assertFailed(t, rep, protocol.SourceRegistryMachine)
	if !slices.Contains(rep.Read, protocol.SourceRegistryUser) {
		t.Fatalf("HKCU is read on its own: %v", rep.Read)
	}

	// No registry (not Windows) and no %LOCALAPPDATA%: nothing, no failure.
	rep = Collect(context.Background(), Options{GOOS: "windows", Root: t.TempDir(), Home: t.TempDir(), Run: noTools})
	if len(rep.Read) != 0 || len(rep.Failed) != 0 || len(rep.Entries) != 0 {
		t.Fatalf("nothing to read: %+v", rep)
	}

	// A user who never installed per user has no HKCU Uninstall key.
	reg = loadRegistry(t)
	delete(reg.keys, "HKCU/64")
	rep = Collect(context.Background(), windowsAt(t, reg))
	if slices.Contains(rep.Read, protocol.SourceRegistryUser) || len(rep.Failed) != 0 {
		t.Fatalf("no HKCU key: absent; got read %v failed %v", rep.Read, rep.Failed)
	}
	if _, ok := find(rep.Entries, "Microsoft VS Code"); !ok {
		t.Fatalf("without its key, the Programs folder is listed: %s", dump(rep.Entries))
	}
}

func TestUninstallEntry(t *testing.T) {
	for _, c := range []struct {
		v  map[string]string
		ok bool
	}{
		{map[string]string{"DisplayName": "  App  ", "DisplayVersion": " 1 "}, true},
		{map[string]string{"DisplayName": "   "}, false},
		{map[string]string{"DisplayName": "Runtime", "SystemComponent": "1"}, false},
		{map[string]string{"DisplayName": "Runtime", "SystemComponent": "0"}, true},
		{map[string]string{"DisplayName": "KB1", "ParentKeyName": "Office"}, false},
	} {
		e, ok := uninstallEntry("k", c.v)
		if ok != c.ok || ok && (e.Name != "App" && e.Name != "Runtime" || e.AppID != "k") {
			t.Errorf("%v: %+v %v", c.v, e, ok)
		}
	}
}
