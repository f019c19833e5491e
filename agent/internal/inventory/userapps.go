package inventory

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/deskside/deskside/shared/protocol"
)

// appImageDirs are where people keep AppImages, under the home.
var appImageDirs = []string{"Applications", ".local/bin", "bin", "Apps"}

// readAppImages lists the AppImages in the usual folders of the home.
func readAppImages(ctx context.Context, o *Options) ([]protocol.SoftwareEntry, bool, error) {
	found, err := scanAppImages(ctx, o)
	if err != nil {
		return nil, false, err
	}
	out := make([]protocol.SoftwareEntry, 0, len(found))
	for _, a := range found {
		out = append(out, a.entry)
	}
	return out, false, nil
}

type appImage struct {
	path  string
	entry protocol.SoftwareEntry
}

// scanAppImages finds AppImages: files named *.AppImage, and executables
// with the AppImage magic (people rename them to "obsidian" in ~/.local/bin).
// errAbsent when none of the folders exists.
func scanAppImages(ctx context.Context, o *Options) ([]appImage, error) {
	var out []appImage
	present := false
	for _, rel := range appImageDirs {
		dir := o.homePath(rel)
		if err := statDir(dir); err != nil {
			continue
		}
		present = true
		files, err := os.ReadDir(dir)
		if err != nil {
			return nil, fmt.Errorf("list %s: %w", dir, err)
		}
		for _, f := range files {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			p := filepath.Join(dir, f.Name())
			if fi, err := os.Stat(p); err != nil || !fi.Mode().IsRegular() {
				continue
			}
			if !hasSuffixFold(f.Name(), ".appimage") && !isAppImage(p) {
				continue
			}
			name, version := appImageName(f.Name())
			if name == "" || len(out) >= maxPerSource {
				continue
			}
			out = append(out, appImage{p, protocol.SoftwareEntry{
				Name: name, Version: version, Source: protocol.SourceAppImage, PerUser: true, AppID: f.Name(),
			}})
		}
	}
	if !present {
		return nil, errAbsent
	}
	return out, nil
}

// isAppImage checks the magic of an AppImage (type 1 or 2): an ELF file
// with "AI" and the type at offset 8.
func isAppImage(path string) bool {
	f, err := openRegular(path)
	if err != nil {
		return false
	}
	defer f.Close()
	var b [11]byte
	if _, err := io.ReadFull(f, b[:]); err != nil {
		return false
	}
	return bytes.Equal(b[:4], []byte("\x7fELF")) && b[8] == 'A' && b[9] == 'I' && (b[10] == 1 || b[10] == 2)
}

func hasSuffixFold(s, suffix string) bool {
	return len(s) >= len(suffix) && strings.EqualFold(s[len(s)-len(suffix):], suffix)
}

var (
	// appImageTag is an architecture or platform tag at the end of a name.
	appImageTag = regexp.MustCompile(`(?i)[-_.](x86[-_]64|amd64|x64|aarch64|arm64|armhf|armv7l|i[36]86|x86|universal|linux(64)?|glibc[\d.]*)$`)
	// appImageVersion splits "Name-1.2.3" at the first separator before a digit.
	appImageVersion = regexp.MustCompile(`^(.+?)[-_ ]v?(\d[0-9A-Za-z.+~_-]*)$`)
)

// appImageName takes the name and version from an AppImage's file name:
// "MuseScore-Studio-4.2.1-x86_64.AppImage" is "MuseScore Studio" 4.2.1.
func appImageName(file string) (name, version string) {
	stem := file
	if hasSuffixFold(stem, ".appimage") {
		stem = stem[:len(stem)-len(".appimage")]
	}
	for {
		s := appImageTag.ReplaceAllString(stem, "")
		if s == stem || s == "" {
			break
		}
		stem = s
	}
	if m := appImageVersion.FindStringSubmatch(stem); m != nil {
		stem, version = m[1], m[2]
	}
	name = strings.Join(strings.FieldsFunc(stem, func(r rune) bool { return r == '-' || r == '_' || r == ' ' }), " ")
	if name == "" {
		// Only separators before the version ("  00"): no name to go with
		// it, so no version either (the caller skips such a file).
		return "", ""
	}
	return name, version
}

// desktopDirs are the folders whose entries are a system's, a Flatpak's
// or a snap's: a user's file with the same id only overrides one of them.
var desktopDirs = []string{"/usr/share/applications", "/usr/local/share/applications",
	"/var/lib/flatpak/exports/share/applications", "/var/lib/snapd/desktop/applications"}

// maxDesktopDepth bounds the walk of ~/.local/share/applications (the
// spec allows subfolders; Wine nests its menus three deep).
const maxDesktopDepth = 5

// readDesktopEntries lists the user's own desktop entries: apps that put
// themselves in the menu from the home (Wine programs, tarball installs).
func readDesktopEntries(ctx context.Context, o *Options) ([]protocol.SoftwareEntry, bool, error) {
	dir := o.homePath(".local/share/applications")
	if err := statDir(dir); err != nil {
		return nil, false, err
	}
	images, err := scanAppImages(ctx, o)
	if err != nil && !errors.Is(err, errAbsent) {
		images = nil // the AppImage source reports its own failure
	}
	launched := make(map[string]bool, 2*len(images))
	for _, a := range images {
		launched[a.path] = true
		launched[strings.ToLower(filepath.Base(a.path))] = true
	}
	others := make([]string, 0, len(desktopDirs)+1)
	for _, d := range desktopDirs {
		others = append(others, o.path(d))
	}
	others = append(others, o.homePath(".local/share/flatpak/exports/share/applications"))
	system := func(id string) bool {
		for _, d := range others {
			if _, err := os.Stat(filepath.Join(d, id)); err == nil {
				return true
			}
		}
		return false
	}
	// WalkDir does not follow a symlink, not even the one it starts at, and
	// dotfile managers often make this folder one.
	if real, err := filepath.EvalSymlinks(dir); err == nil {
		dir = real
	}
	var out []protocol.SoftwareEntry
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == dir {
				return err
			}
			return nil // an unreadable subfolder: skip it, keep the rest
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if d.IsDir() {
			if p != dir && strings.Count(rel, string(filepath.Separator)) >= maxDesktopDepth {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(d.Name(), ".desktop") || len(out) >= maxPerSource {
			return nil
		}
		id := strings.ReplaceAll(filepath.ToSlash(rel), "/", "-") // the spec's desktop file id
		if system(id) {
			return nil
		}
		b, err := readSmall(p)
		if err != nil {
			return nil
		}
		e, ok := desktopApp(b, launched)
		if !ok {
			return nil
		}
		e.AppID = strings.TrimSuffix(id, ".desktop")
		out = append(out, e)
		return nil
	})
	if err != nil {
		return nil, false, fmt.Errorf("walk %s: %w", dir, err)
	}
	return out, false, nil
}

// desktopApp is the entry of one .desktop file, false when it is not an
// app a person sees, is a package's export, or launches a listed AppImage.
func desktopApp(b []byte, launched map[string]bool) (protocol.SoftwareEntry, bool) {
	d, err := parseDesktopEntry(b)
	if err != nil || d.Name == "" || d.NoDisplay || d.Hidden || d.FromPackage {
		return protocol.SoftwareEntry{}, false
	}
	if d.Type != "Application" && d.Type != "" {
		return protocol.SoftwareEntry{}, false
	}
	for _, prog := range []string{execProgram(d.Exec), d.TryExec} {
		if prog == "" {
			continue
		}
		if launched[filepath.Clean(prog)] || hasSuffixFold(prog, ".appimage") && launched[strings.ToLower(filepath.Base(prog))] {
			return protocol.SoftwareEntry{}, false
		}
	}
	return protocol.SoftwareEntry{Name: d.Name, Version: d.AppImageVersion, Source: protocol.SourceDesktop, PerUser: true}, true
}
