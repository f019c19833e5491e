package inventory

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"howett.net/plist"

	"github.com/deskside/deskside/shared/protocol"
)

// readAppBundles lists the .app bundles in /Applications (and its
// subfolders one level down, like Utilities) and in ~/Applications.
func readAppBundles(ctx context.Context, o *Options) ([]protocol.SoftwareEntry, bool, error) {
	var out []protocol.SoftwareEntry
	found := false
	for _, place := range []struct {
		dir     string
		perUser bool
	}{{o.path("/Applications"), false}, {o.homePath("Applications"), true}} {
		entries, err := readAppFolder(ctx, place.dir, place.perUser, 1)
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

// readAppFolder lists the bundles in dir, and in its plain subfolders while
// depth is above zero. A bundle's own insides are never searched: an app's
// helper apps are part of it.
func readAppFolder(ctx context.Context, dir string, perUser bool, depth int) ([]protocol.SoftwareEntry, error) {
	if err := statDir(dir); err != nil {
		return nil, err
	}
	list, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", dir, err)
	}
	var out []protocol.SoftwareEntry
	for _, d := range list {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		p := filepath.Join(dir, d.Name())
		if statDir(p) != nil || strings.HasPrefix(d.Name(), ".") {
			continue
		}
		if !strings.HasSuffix(d.Name(), ".app") {
			if depth > 0 {
				sub, err := readAppFolder(ctx, p, perUser, depth-1)
				if err == nil {
					out = append(out, sub...)
				}
			}
			continue
		}
		if len(out) >= maxPerSource {
			continue
		}
		e := appBundle(p)
		e.PerUser = perUser
		out = append(out, e)
	}
	return out, nil
}

// appBundle is the entry of one bundle. A bundle whose Info.plist cannot be
// read is still an app on the disk: it is listed by its folder's name.
func appBundle(path string) protocol.SoftwareEntry {
	e := protocol.SoftwareEntry{Name: strings.TrimSuffix(filepath.Base(path), ".app"), Source: protocol.SourceAppBundle}
	b, err := readSmall(filepath.Join(path, "Contents", "Info.plist"))
	if err != nil {
		return e
	}
	info, err := parseInfoPlist(b)
	if err != nil {
		return e
	}
	if info.Name != "" {
		e.Name = info.Name
	}
	e.Version, e.AppID, e.Publisher = info.Version, info.BundleID, info.Publisher
	return e
}

// bundleInfo is what the inventory needs of an Info.plist.
type bundleInfo struct {
	Name, Version, BundleID, Publisher string
}

// parseInfoPlist reads an Info.plist, XML or binary. Keys of the wrong type
// are ignored rather than fail the bundle: a number where a version string
// belongs still says the version.
func parseInfoPlist(b []byte) (bundleInfo, error) {
	var m map[string]any
	if _, err := plist.Unmarshal(b, &m); err != nil {
		return bundleInfo{}, fmt.Errorf("parse Info.plist: %w", err)
	}
	str := func(key string) string {
		switch v := m[key].(type) {
		case string:
			return strings.TrimSpace(v)
		case uint64:
			return strconv.FormatUint(v, 10)
		case int64:
			return strconv.FormatInt(v, 10)
		case float64:
			return strconv.FormatFloat(v, 'f', -1, 64)
		}
		return ""
	}
	first := func(keys ...string) string {
		for _, k := range keys {
			if v := str(k); v != "" {
				return v
			}
		}
		return ""
	}
	return bundleInfo{
		Name:      first("CFBundleDisplayName", "CFBundleName"),
		Version:   first("CFBundleShortVersionString", "CFBundleVersion"),
		BundleID:  str("CFBundleIdentifier"),
		Publisher: copyrightHolder(str("NSHumanReadableCopyright")),
	}, nil
}

var (
	copyrightWords = regexp.MustCompile(`(?i)^(copyright|\(c\)|©|\s|[0-9]{4}(\s*[-–,]\s*([0-9]{4}|present))?|,|\.)+`)
	copyrightTail  = regexp.MustCompile(`(?i)[.,]?\s*(all rights reserved|alle rechte vorbehalten)\.?.*$`)
)

// copyrightHolder takes the holder from "Copyright © 2016-2024 Figma, Inc.
// All rights reserved.", "" when the line does not look like one: a
// wrong publisher would split a title, a missing one does not.
func copyrightHolder(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return ""
	}
	rest := copyrightWords.ReplaceAllString(s, "")
	if rest == s { // no "Copyright", "©" or year: not a copyright line
		return ""
	}
	rest = strings.TrimSpace(copyrightTail.ReplaceAllString(rest, ""))
	rest = strings.TrimRight(rest, ". ")
	if rest == "" || len(rest) > 80 || strings.ContainsAny(rest, "\n") {
		return ""
	}
	return rest
}
