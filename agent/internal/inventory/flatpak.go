package inventory

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/deskside/deskside/shared/protocol"
)

// readFlatpak reads the apps of the system installation and the user's.
// It reads Flatpak's own layout rather than run flatpak: the layout is
// stable (app/<id>/current → arch/branch, its "active" → the deploy), and
// the deploy holds all there is to know.
func readFlatpak(ctx context.Context, o *Options) ([]protocol.SoftwareEntry, bool, error) {
	installs := []struct {
		dir     string
		perUser bool
	}{
		{o.path("/var/lib/flatpak/app"), false},
		{o.homePath(".local/share/flatpak/app"), true},
	}
	var out []protocol.SoftwareEntry
	found := false
	for _, in := range installs {
		entries, err := readFlatpakInstall(ctx, in.dir, in.perUser)
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

// readFlatpakInstall reads the apps of one installation's app directory.
func readFlatpakInstall(ctx context.Context, dir string, perUser bool) ([]protocol.SoftwareEntry, error) {
	if err := statDir(dir); err != nil {
		return nil, err
	}
	ids, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("list flatpak apps: %w", err)
	}
	var out []protocol.SoftwareEntry
	for _, d := range ids {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if !d.IsDir() || strings.HasPrefix(d.Name(), ".") {
			continue
		}
		e, ok := flatpakApp(filepath.Join(dir, d.Name()), d.Name())
		if !ok || len(out) >= maxPerSource {
			continue
		}
		e.PerUser = perUser
		out = append(out, e)
	}
	return out, nil
}

// flatpakApp reads one app's active deploy. An app with no active deploy
// is being installed or removed, and is not listed.
func flatpakApp(appDir, id string) (protocol.SoftwareEntry, bool) {
	deploy := filepath.Join(appDir, "current", "active")
	if statDir(deploy) != nil {
		return protocol.SoftwareEntry{}, false
	}
	e := protocol.SoftwareEntry{Name: id, Source: protocol.SourceFlatpak, AppID: id}
	if b, err := readSmall(filepath.Join(deploy, "metadata")); err == nil {
		if k, err := parseKeyfile(b); err == nil {
			if n := k.get("Application", "name"); n != "" {
				e.AppID, e.Name = n, n
			} else if k.has("Runtime", "name") {
				return protocol.SoftwareEntry{}, false // a runtime under app/ is not an app
			}
		}
	}
	if b, err := readSmall(filepath.Join(deploy, "export", "share", "applications", e.AppID+".desktop")); err == nil {
		if d, err := parseDesktopEntry(b); err == nil && d.Name != "" {
			e.Name = d.Name
		}
	}
	for _, p := range []string{
		"files/share/metainfo/" + e.AppID + ".metainfo.xml",
		"files/share/metainfo/" + e.AppID + ".appdata.xml",
		"files/share/appdata/" + e.AppID + ".appdata.xml",
	} {
		b, err := readSmall(filepath.Join(deploy, filepath.FromSlash(p)))
		if err != nil {
			continue
		}
		if m, err := parseMetainfo(b); err == nil {
			e.Version, e.Publisher = m.Version, m.Developer
			if e.Name == e.AppID && m.Name != "" {
				e.Name = m.Name
			}
		}
		break
	}
	return e, true
}

// metainfo is what the inventory needs of an AppStream metainfo file.
type metainfo struct {
	Name, Version, Developer string
}

// parseMetainfo reads an AppStream metainfo (appdata) file: the name
// without a language, the newest release (releases are listed newest
// first) and the developer's name.
func parseMetainfo(b []byte) (metainfo, error) {
	type text struct {
		Lang  string `xml:"http://www.w3.org/XML/1998/namespace lang,attr"`
		Value string `xml:",chardata"`
	}
	var doc struct {
		Names         []text `xml:"name"`
		DeveloperName []text `xml:"developer_name"`
		Developer     struct {
			Names []text `xml:"name"`
		} `xml:"developer"`
		Releases struct {
			Release []struct {
				Version string `xml:"version,attr"`
			} `xml:"release"`
		} `xml:"releases"`
	}
	dec := xml.NewDecoder(io.LimitReader(bytes.NewReader(b), maxSmallFile))
	dec.Strict = false
	if err := dec.Decode(&doc); err != nil {
		return metainfo{}, fmt.Errorf("parse metainfo: %w", err)
	}
	unlocalised := func(ts []text) string {
		for _, t := range ts {
			if t.Lang == "" {
				return strings.TrimSpace(t.Value)
			}
		}
		return ""
	}
	m := metainfo{Name: unlocalised(doc.Names)}
	if len(doc.Releases.Release) > 0 {
		m.Version = strings.TrimSpace(doc.Releases.Release[0].Version)
	}
	m.Developer = unlocalised(doc.Developer.Names)
	if m.Developer == "" {
		m.Developer = unlocalised(doc.DeveloperName)
	}
	return m, nil
}
