//go:build linux || darwin

package inventory

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/deskside/deskside/shared/protocol"
)

// TestFIFOsDoNotBlock: a named pipe where a desktop entry, an AppImage, a
// metainfo file or the dpkg database belongs is refused, not opened (open
// would wait for a writer forever).
func TestFIFOsDoNotBlock(t *testing.T) {
	root, home := userFixture(t)
	for _, p := range []string{
		filepath.Join(home, ".local/share/applications/pipe.desktop"),
		filepath.Join(home, ".local/bin/pipe"),
		filepath.Join(home, "Applications/pipe.AppImage"),
		filepath.Join(root, "var/lib/dpkg/status"),
	} {
		must(t, os.MkdirAll(filepath.Dir(p), 0o755))
		must(t, syscall.Mkfifo(p, 0o644))
	}
	rep := Collect(context.Background(), linuxAt(root, home))
	assertFailed(t, rep, protocol.SourceDpkg)
	if len(rep.Entries) != 7 {
		t.Fatalf("the fixture's 7 entries, no more: %s", dump(rep.Entries))
	}
}
