package inventory

import (
	"fmt"
	"strings"

	"gopkg.in/ini.v1"
)

// keyfileOptions read the XDG "desktop entry" key file format that .desktop
// files and Flatpak's metadata use: '=' alone separates a key from its
// value (values hold ':', ';' and '#'), there are no continuation lines or
// inline comments, and keys are case-sensitive.
var keyfileOptions = ini.LoadOptions{
	IgnoreContinuation:      true,
	IgnoreInlineComment:     true,
	SkipUnrecognizableLines: true,
	PreserveSurroundedQuote: true,
	KeyValueDelimiters:      "=",
	ChildSectionDelimiter:   "\x00", // "Desktop Action new-window" has no parent section
}

// keyfile is one parsed key file.
type keyfile struct{ f *ini.File }

func parseKeyfile(b []byte) (keyfile, error) {
	f, err := ini.LoadSources(keyfileOptions, b)
	if err != nil {
		return keyfile{}, fmt.Errorf("parse key file: %w", err)
	}
	return keyfile{f}, nil
}

// get is the value of key in group, "" when either is missing.
func (k keyfile) get(group, key string) string {
	s, err := k.f.GetSection(group)
	if err != nil {
		return ""
	}
	v, err := s.GetKey(key)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(v.Value())
}

// has reports whether group holds key.
func (k keyfile) has(group, key string) bool {
	s, err := k.f.GetSection(group)
	return err == nil && s.HasKey(key)
}

// desktopEntry is what the inventory needs of a .desktop file.
type desktopEntry struct {
	Type, Name, Exec, TryExec string
	NoDisplay, Hidden         bool
	// FromPackage is true when Flatpak or Snap exported it: those apps
	// are listed by their own source.
	FromPackage bool
	// AppImageVersion is X-AppImage-Version, set by AppImage integration.
	AppImageVersion string
}

const desktopGroup = "Desktop Entry"

// parseDesktopEntry reads the [Desktop Entry] group of a .desktop file.
func parseDesktopEntry(b []byte) (desktopEntry, error) {
	k, err := parseKeyfile(b)
	if err != nil {
		return desktopEntry{}, err
	}
	d := desktopEntry{
		Type:            k.get(desktopGroup, "Type"),
		Name:            k.get(desktopGroup, "Name"),
		Exec:            k.get(desktopGroup, "Exec"),
		TryExec:         k.get(desktopGroup, "TryExec"),
		NoDisplay:       k.get(desktopGroup, "NoDisplay") == "true",
		Hidden:          k.get(desktopGroup, "Hidden") == "true",
		AppImageVersion: k.get(desktopGroup, "X-AppImage-Version"),
	}
	exe := execProgram(d.Exec)
	d.FromPackage = k.has(desktopGroup, "X-Flatpak") || k.has(desktopGroup, "X-SnapInstanceName") ||
		strings.HasSuffix(exe, "/flatpak") || exe == "flatpak" ||
		strings.HasPrefix(exe, "/snap/") || strings.Contains(d.Exec, "/var/lib/snapd/desktop/")
	return d, nil
}

// execProgram is the program an Exec line runs: its first word, with the
// spec's double quotes and backslash escapes removed, past a leading
// "env VAR=value" prefix.
func execProgram(exec string) string {
	words := execWords(exec)
	if len(words) > 0 && (words[0] == "env" || words[0] == "/usr/bin/env") {
		words = words[1:]
		for len(words) > 0 && strings.Contains(words[0], "=") {
			words = words[1:]
		}
	}
	if len(words) == 0 {
		return ""
	}
	return words[0]
}

// execWords splits an Exec value as the Desktop Entry spec quotes it.
func execWords(s string) []string {
	var words []string
	var cur strings.Builder
	inWord, quoted := false, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quoted && c == '\\' && i+1 < len(s):
			i++
			cur.WriteByte(s[i])
		case c == '"':
			quoted, inWord = !quoted, true
		case !quoted && (c == ' ' || c == '\t'):
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words
}
