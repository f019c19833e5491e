package inventory

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"

	"github.com/deskside/deskside/shared/protocol"
)

// rpmDatabases are the files of an RPM database (sqlite since RPM 4.16,
// Berkeley DB and ndb before), in the old and the new (sysimage) place.
var rpmDatabases = []string{
	"/var/lib/rpm/rpmdb.sqlite", "/var/lib/rpm/Packages", "/var/lib/rpm/Packages.db",
	"/usr/lib/sysimage/rpm/rpmdb.sqlite", "/usr/lib/sysimage/rpm/Packages", "/usr/lib/sysimage/rpm/Packages.db",
}

// rpmQueryFormat prints one package a line: name, epoch:version-release,
// vendor, architecture, split by tabs (which RPM's fields do not hold).
const rpmQueryFormat = `%{NAME}\t%|EPOCH?{%{EPOCH}:}|%{VERSION}-%{RELEASE}\t%{VENDOR}\t%{ARCH}\n`

// readRPM lists the RPM database with rpm itself: its formats change
// between versions, and rpm reads all of them. Debian ships rpm with an
// empty database, so the source is present only when a database file is.
func readRPM(ctx context.Context, o *Options) ([]protocol.SoftwareEntry, bool, error) {
	found := false
	for _, p := range rpmDatabases {
		if _, err := os.Stat(o.path(p)); err == nil {
			found = true
			break
		}
	}
	if !found {
		return nil, false, errAbsent
	}
	args := []string{"-qa", "--queryformat", rpmQueryFormat}
	if o.Root != "/" && o.Root != "" {
		args = append(args, "--root", o.Root)
	}
	out, err := o.Run(ctx, "rpm", args...)
	if errors.Is(err, exec.ErrNotFound) {
		return nil, false, errAbsent
	}
	if err != nil {
		return nil, false, fmt.Errorf("rpm -qa: %w", err)
	}
	entries, truncated := parseRPMOutput(out)
	return entries, truncated, nil
}

// parseRPMOutput reads rpmQueryFormat's lines.
func parseRPMOutput(out []byte) ([]protocol.SoftwareEntry, bool) {
	var entries []protocol.SoftwareEntry
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		f := strings.Split(sc.Text(), "\t")
		if len(f) < 2 || strings.TrimSpace(f[0]) == "" || f[0] == "gpg-pubkey" {
			continue // gpg-pubkey "packages" are the keys rpm trusts, not software
		}
		e := protocol.SoftwareEntry{Name: f[0], Version: f[1], Source: protocol.SourceRPM, AppID: f[0]}
		if len(f) > 2 && f[2] != "(none)" {
			e.Publisher = f[2]
		}
		if len(f) > 3 && f[3] != "(none)" && f[3] != "noarch" {
			e.AppID = f[0] + "." + f[3] // as rpm names a multilib package: glibc.i686
		}
		if len(entries) >= maxPerSource {
			return entries, true
		}
		entries = append(entries, e)
	}
	// A line past the scanner's 1 MiB is not rpm's output; what came
	// before it stands.
	return entries, false
}
