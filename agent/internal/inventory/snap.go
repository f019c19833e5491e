package inventory

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/deskside/deskside/shared/protocol"
)

// snapPlatform are snaps that are the system itself, not software a person
// uses: the snap daemon and the base runtimes other snaps run on.
var snapPlatform = map[string]bool{"snapd": true, "core": true, "bare": true}

// readSnap reads each mounted snap's meta/snap.yaml under /snap.
func readSnap(ctx context.Context, o *Options) ([]protocol.SoftwareEntry, bool, error) {
	dir := o.path("/snap")
	if err := statDir(dir); err != nil {
		return nil, false, err
	}
	names, err := os.ReadDir(dir)
	if err != nil {
		return nil, false, fmt.Errorf("list snaps: %w", err)
	}
	var out []protocol.SoftwareEntry
	found := false
	for _, d := range names {
		if err := ctx.Err(); err != nil {
			return nil, false, err
		}
		// /snap/bin holds the commands, not a snap.
		if d.Name() == "bin" || strings.HasPrefix(d.Name(), ".") {
			continue
		}
		b, err := readSmall(filepath.Join(dir, d.Name(), "current", "meta", "snap.yaml"))
		if err != nil {
			continue // not mounted, or not a snap
		}
		found = true
		e, ok := parseSnapYAML(b)
		if !ok || len(out) >= maxPerSource {
			continue
		}
		out = append(out, e)
	}
	// /snap exists on systems where snapd was once installed; without a
	// single snap in it, the source is not in use.
	if !found {
		return nil, false, errAbsent
	}
	return out, false, nil
}

// parseSnapYAML reads a snap.yaml: the name, version and type. Platform
// snaps (type base, core, snapd, os, kernel, gadget) are not listed.
func parseSnapYAML(b []byte) (protocol.SoftwareEntry, bool) {
	var y struct {
		Name    string `yaml:"name"`
		Version string `yaml:"version"`
		Type    string `yaml:"type"`
	}
	if err := yaml.Unmarshal(b, &y); err != nil {
		return protocol.SoftwareEntry{}, false
	}
	name := strings.TrimSpace(y.Name)
	if name == "" || snapPlatform[name] || strings.HasPrefix(name, "core") && isDigits(name[4:]) {
		return protocol.SoftwareEntry{}, false
	}
	switch y.Type {
	case "", "app":
	default:
		return protocol.SoftwareEntry{}, false
	}
	return protocol.SoftwareEntry{Name: name, Version: y.Version, Source: protocol.SourceSnap, AppID: name}, true
}

func isDigits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}
