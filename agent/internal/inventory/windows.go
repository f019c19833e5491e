package inventory

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/deskside/deskside/shared/protocol"
)

// RegistryHive is a root key of the Windows registry.
type RegistryHive string

const (
	HKLM RegistryHive = "HKLM" // HKEY_LOCAL_MACHINE
	HKCU RegistryHive = "HKCU" // HKEY_CURRENT_USER
)

// RegistryView is the registry view a key is read in: a 64-bit Windows
// keeps 32-bit programs' HKLM\SOFTWARE under WOW6432Node.
type RegistryView int

const (
	View64 RegistryView = 64
	View32 RegistryView = 32
)

// RegistryReader reads the registry. It keeps the Uninstall logic
// OS-independent: the real one is registry_windows.go, tests replay
// recorded keys.
type RegistryReader interface {
	// SubKeys lists the names of the subkeys of hive\path in view; an
	// error matching fs.ErrNotExist when the key is not there.
	SubKeys(hive RegistryHive, view RegistryView, path string) ([]string, error)
	// Values reads the string and integer values of hive\path in view;
	// integers (REG_DWORD, REG_QWORD) as decimal text. Values not there
	// are not in the map.
	Values(hive RegistryHive, view RegistryView, path string) (map[string]string, error)
}

// UninstallPath is where installers register what they installed.
const UninstallPath = `SOFTWARE\Microsoft\Windows\CurrentVersion\Uninstall`

// readRegistryMachine reads HKLM's Uninstall key in the 64- and 32-bit views.
func readRegistryMachine(ctx context.Context, o *Options) ([]protocol.SoftwareEntry, bool, error) {
	var out []protocol.SoftwareEntry
	found := false
	for _, view := range []RegistryView{View64, View32} {
		entries, err := readUninstall(ctx, o.Registry, HKLM, view)
		if errors.Is(err, errAbsent) {
			continue
		}
		if err != nil {
			return nil, false, err
		}
		found = true
		out = append(out, entries...)
	}
	if !found {
		return nil, false, errAbsent
	}
	return out, false, nil
}

// readRegistryUser reads HKCU's Uninstall key: per-user installs (Figma,
// Slack, VS Code User), the strongest sign of software a person brought.
// HKCU\SOFTWARE is not split into views.
func readRegistryUser(ctx context.Context, o *Options) ([]protocol.SoftwareEntry, bool, error) {
	out, err := readUninstall(ctx, o.Registry, HKCU, View64)
	return out, false, err
}

// readUninstall reads one Uninstall key's subkeys.
func readUninstall(ctx context.Context, r RegistryReader, hive RegistryHive, view RegistryView) ([]protocol.SoftwareEntry, error) {
	if r == nil {
		return nil, errAbsent
	}
	keys, err := r.SubKeys(hive, view, UninstallPath)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, errAbsent
		}
		return nil, fmt.Errorf("list %s\\%s (%d-bit): %w", hive, UninstallPath, view, err)
	}
	source, perUser := protocol.SourceRegistryMachine, false
	if hive == HKCU {
		source, perUser = protocol.SourceRegistryUser, true
	}
	var out []protocol.SoftwareEntry
	for _, k := range keys {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		v, err := r.Values(hive, view, UninstallPath+`\`+k)
		if err != nil {
			continue // removed while we read, or locked down: not this key's business to fail the rest
		}
		e, ok := uninstallEntry(k, v)
		if !ok || len(out) >= maxPerSource {
			continue
		}
		e.Source, e.PerUser = source, perUser
		out = append(out, e)
	}
	return out, nil
}

// uninstallEntry is the entry of one Uninstall subkey, false for what
// "Apps & features" does not show either: no DisplayName, a system
// component, or an update of another entry (ParentKeyName).
func uninstallEntry(key string, v map[string]string) (protocol.SoftwareEntry, bool) {
	name := strings.TrimSpace(v["DisplayName"])
	if name == "" || v["SystemComponent"] == "1" || v["ParentKeyName"] != "" {
		return protocol.SoftwareEntry{}, false
	}
	return protocol.SoftwareEntry{
		Name:      name,
		Version:   strings.TrimSpace(v["DisplayVersion"]),
		Publisher: strings.TrimSpace(v["Publisher"]),
		AppID:     key,
	}, true
}

// readWinPrograms lists the folders of %LOCALAPPDATA%\Programs, where
// per-user installers put apps. A folder an Uninstall key already names as
// its InstallLocation is that key's app, not a second one.
func readWinPrograms(ctx context.Context, o *Options) ([]protocol.SoftwareEntry, bool, error) {
	if o.LocalAppData == "" {
		return nil, false, errAbsent
	}
	dir := filepath.Join(o.LocalAppData, "Programs")
	if err := statDir(dir); err != nil {
		return nil, false, err
	}
	folders, err := os.ReadDir(dir)
	if err != nil {
		return nil, false, fmt.Errorf("list %s: %w", dir, err)
	}
	registered := installLocations(ctx, o.Registry)
	var out []protocol.SoftwareEntry
	for _, f := range folders {
		// Common holds shared files of several apps (a known folder).
		if !f.IsDir() || strings.EqualFold(f.Name(), "Common") || strings.HasPrefix(f.Name(), ".") {
			continue
		}
		if registered[strings.ToLower(f.Name())] || len(out) >= maxPerSource {
			continue
		}
		out = append(out, protocol.SoftwareEntry{Name: f.Name(), Source: protocol.SourceWinPrograms, PerUser: true, AppID: f.Name()})
	}
	return out, false, nil
}

// installLocations are the folder names (lower case) under a Programs
// folder that Uninstall keys give as their InstallLocation.
func installLocations(ctx context.Context, r RegistryReader) map[string]bool {
	out := map[string]bool{}
	if r == nil {
		return out
	}
	for _, hv := range []struct {
		hive RegistryHive
		view RegistryView
	}{{HKCU, View64}, {HKLM, View64}, {HKLM, View32}} {
		keys, err := r.SubKeys(hv.hive, hv.view, UninstallPath)
		if err != nil {
			continue
		}
		for _, k := range keys {
			if ctx.Err() != nil {
				return out
			}
			v, err := r.Values(hv.hive, hv.view, UninstallPath+`\`+k)
			if err != nil {
				continue
			}
			loc := strings.ToLower(strings.TrimRight(strings.ReplaceAll(v["InstallLocation"], `\`, "/"), `/" `))
			loc = strings.TrimLeft(loc, `"`)
			if parent, folder, ok := cutLast(loc, "/"); ok && strings.HasSuffix(parent, "/programs") && folder != "" {
				out[folder] = true
			}
		}
	}
	return out
}

func cutLast(s, sep string) (before, after string, ok bool) {
	i := strings.LastIndex(s, sep)
	if i < 0 {
		return s, "", false
	}
	return s[:i], s[i+len(sep):], true
}
