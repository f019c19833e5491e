package build

import (
	"path/filepath"

	"github.com/deskside/deskside/installer/internal/gen"
)

// MacAppBin is where the .app keeps the agent; the launchd plist runs it.
// The window app, deskside-ui, goes next to it in Contents/MacOS, where the
// agent looks for it.
const MacAppBin = "/Applications/Deskside.app/Contents/MacOS/deskside-agent"

// macos lays out Deskside.app and the launchd agent. The binaries need cgo
// with Apple's SDK, and signing and notarising need Apple's tools:
// docs/install.md gives the steps to finish on a Mac.
func (b *builder) macos() error {
	dir := filepath.Join(b.Out, "macos")
	app := filepath.Join(dir, "Deskside.app", "Contents")
	gens := map[string][]byte{
		filepath.Join(app, "Info.plist"):                       gen.InfoPlist(b.Version),
		filepath.Join(app, "Resources", "deskside.svg"):        gen.Icon(),
		filepath.Join(app, "MacOS", "PUT-deskside-agent-HERE"): []byte("Build the agent on a Mac: see docs/install.md, \"macOS\".\n"),
		filepath.Join(app, "MacOS", "PUT-deskside-ui-HERE"):    []byte("Build the window app (./agent/cmd/deskside-ui) on a Mac: see docs/install.md, \"macOS\".\n"),
		filepath.Join(dir, gen.BundleID+".plist"):              gen.LaunchdPlist(MacAppBin),
	}
	if b.Enroll != nil {
		gens[filepath.Join(dir, "enroll.json")] = b.Enroll.Marshal()
	}
	for p, data := range gens {
		if err := writeFile(p, data, 0o644); err != nil {
			return err
		}
	}
	b.add(filepath.Join(app, "Info.plist"))
	b.add(filepath.Join(dir, gen.BundleID+".plist"))
	return nil
}
