// Package gen renders the files Deskside's packages install: desktop and
// XDG autostart entries, the systemd user unit, the launchd agent plist and
// the macOS Info.plist, the MSI source for wixl, maintainer scripts and the
// icon. Every output has a golden test under testdata/.
package gen

import (
	"bytes"
	"embed"
	"encoding/xml"
	"fmt"
	"strings"
	"text/template"
)

//go:embed templates
var files embed.FS

// BundleID names the agent to launchd and macOS.
const BundleID = "com.deskside.agent"

// Fixed Windows Installer GUIDs. The UpgradeCode ties every version of the
// MSI together so that a new one replaces the old; never change them.
const (
	UpgradeCode = "6D0C2C6B-3F7A-4E0B-9B7E-5A2D1E8C4F10"
	agentGUID   = "6D0C2C6B-3F7A-4E0B-9B7E-5A2D1E8C4F11"
	setupGUID   = "6D0C2C6B-3F7A-4E0B-9B7E-5A2D1E8C4F12"
	dataGUID    = "6D0C2C6B-3F7A-4E0B-9B7E-5A2D1E8C4F13"
	uiGUID      = "6D0C2C6B-3F7A-4E0B-9B7E-5A2D1E8C4F14"
)

var tmpl = template.Must(template.New("").Funcs(template.FuncMap{
	"xml":  xmlEscape,
	"exec": execArg,
}).ParseFS(files, "templates/*.tmpl"))

func render(name string, data any) []byte {
	var b bytes.Buffer
	if err := tmpl.ExecuteTemplate(&b, name, data); err != nil {
		// Templates are embedded and their data are plain structs: a failure
		// is a programming error, caught by the golden tests.
		panic(fmt.Sprintf("render %s: %v", name, err))
	}
	return b.Bytes()
}

func xmlEscape(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s)) // writes to a strings.Builder: cannot fail
	return b.String()
}

// execArg quotes a path for the Exec key of a desktop entry when needed
// (Desktop Entry Specification, "The Exec key").
func execArg(s string) string {
	s = strings.ReplaceAll(s, "%", "%%")
	if !strings.ContainsAny(s, " \t\n\"'\\><~|&;$*?#()`") {
		return s
	}
	r := strings.NewReplacer(`\`, `\\\\`, `"`, `\\"`, "`", "\\\\`", `$`, `\\$`)
	return `"` + r.Replace(s) + `"`
}

type binData struct{ Bin string }

// DesktopEntry is the menu entry that opens the "get help" window. uiBin
// is the window app (deskside-ui), run directly rather than through
// `deskside-agent ui`, which would only exec it: one process start fewer.
func DesktopEntry(uiBin string) []byte { return render("desktop.tmpl", binData{uiBin}) }

// AutostartEntry is the XDG autostart entry that starts the agent at login.
func AutostartEntry(bin string) []byte { return render("autostart.tmpl", binData{bin}) }

// SystemdUserUnit is the optional systemd user service.
func SystemdUserUnit(bin string) []byte { return render("systemd-user.tmpl", binData{bin}) }

// LaunchdPlist is the launchd agent (~/Library/LaunchAgents or
// /Library/LaunchAgents) that starts bin at login on macOS.
func LaunchdPlist(bin string) []byte {
	return render("launchd.plist.tmpl", struct{ Bin, BundleID string }{bin, BundleID})
}

// InfoPlist is Deskside.app/Contents/Info.plist.
func InfoPlist(version string) []byte {
	return render("Info.plist.tmpl", struct{ Version, ShortVersion, BundleID string }{version, NumericVersion(version), BundleID})
}

// PostInstall and PostRemove are the maintainer scripts of the deb and rpm.
func PostInstall() []byte { return render("postinstall.sh.tmpl", nil) }

// PostRemove cleans what the package created; see the script's comment.
func PostRemove() []byte { return render("postremove.sh.tmpl", nil) }

// Icon is the scalable application icon.
func Icon() []byte {
	b, _ := files.ReadFile("templates/deskside.svg") // embedded: cannot fail
	return b
}

// WXS describes the MSI to build.
type WXS struct {
	Version            string // the agent's version, e.g. 1.2.3-beta.1
	AgentExe, SetupExe string // paths of the files to put in the MSI
	// UIExe is the window app, deskside-ui.exe; empty when it was not built
	// (it needs mingw-w64): the MSI then has no Start-menu shortcut either.
	UIExe              string
	Server, Token, Pin string // default enrolment properties; empty = none
	UpdateKey          string // default UPDATEKEY property (publisher key); empty = none
}

// Render returns the WiX source.
func (w WXS) Render() []byte {
	return render("deskside.wxs.tmpl", struct {
		WXS
		MSIVersion, UpgradeCode, AgentGUID, SetupGUID, DataGUID, UIGUID string
	}{w, NumericVersion(w.Version), UpgradeCode, agentGUID, setupGUID, dataGUID, uiGUID})
}

// NumericVersion returns the major.minor.patch part of a version, which is
// all that Windows Installer and CFBundleShortVersionString accept.
// Anything unparsable becomes 0.0.0.
func NumericVersion(v string) string {
	v = strings.TrimPrefix(v, "v")
	core, _, _ := strings.Cut(v, "-")
	core, _, _ = strings.Cut(core, "+")
	parts := strings.Split(core, ".")
	if len(parts) != 3 {
		return "0.0.0"
	}
	for _, p := range parts {
		if p == "" || strings.Trim(p, "0123456789") != "" {
			return "0.0.0"
		}
	}
	return core
}
