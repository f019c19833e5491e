package inventory

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/textproto"
	"strings"

	"github.com/deskside/deskside/shared/protocol"
)

const dpkgStatus = "/var/lib/dpkg/status"

// readDpkg reads dpkg's status database.
func readDpkg(ctx context.Context, o *Options) ([]protocol.SoftwareEntry, bool, error) {
	f, err := openRegular(o.path(dpkgStatus))
	if err != nil {
		return nil, false, absent(err)
	}
	defer f.Close()
	return parseDpkgStatus(ctx, f)
}

// parseDpkgStatus reads the stanzas of a dpkg status file (RFC 822-style
// fields, continuation lines indented, stanzas split by a blank line) and
// returns the installed packages. A malformed stanza is skipped, not fatal:
// one bad stanza should not hide the other thousand.
func parseDpkgStatus(ctx context.Context, r io.Reader) ([]protocol.SoftwareEntry, bool, error) {
	src := &ioErrReader{r: r}
	tp := textproto.NewReader(bufio.NewReaderSize(src, 64<<10))
	var out []protocol.SoftwareEntry
	for n := 0; ; n++ {
		if n%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, false, err
			}
		}
		h, err := tp.ReadMIMEHeader()
		if len(h) > 0 && (err == nil || errors.Is(err, io.EOF)) {
			if e, ok := dpkgEntry(h); ok {
				if len(out) >= maxPerSource {
					return out, true, nil
				}
				out = append(out, e)
			}
		}
		switch {
		case err == nil:
		case src.err != nil:
			return nil, false, fmt.Errorf("read dpkg status: %w", src.err)
		case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
			return out, false, nil
		default:
			// Not the file's fault to read but its content's: a malformed
			// line, or a first line indented too far for textproto to quote.
			if err := skipStanza(tp); err != nil {
				if src.err != nil {
					return nil, false, fmt.Errorf("read dpkg status: %w", src.err)
				}
				return out, false, nil // the bad stanza ran to the end of the file
			}
		}
	}
}

// ioErrReader remembers the error of the reader under textproto, so a
// failure to read the file (a failed source) is told apart from a stanza
// textproto refuses (skipped).
type ioErrReader struct {
	r   io.Reader
	err error
}

func (e *ioErrReader) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err != nil && err != io.EOF {
		e.err = err
	}
	return n, err
}

// skipStanza reads up to the blank line that ends the current stanza.
func skipStanza(tp *textproto.Reader) error {
	for {
		line, err := tp.ReadLineBytes()
		if err != nil {
			return err
		}
		if len(line) == 0 {
			return nil
		}
	}
}

// dpkgEntry is the entry of an installed package's stanza.
func dpkgEntry(h textproto.MIMEHeader) (protocol.SoftwareEntry, bool) {
	name := h.Get("Package")
	if name == "" || !dpkgInstalled(h.Get("Status")) {
		return protocol.SoftwareEntry{}, false
	}
	id := name
	// Multi-Arch packages are installed once per architecture; the app id
	// keeps libc6:amd64 and libc6:i386 two entries, as dpkg lists them.
	if arch := h.Get("Architecture"); arch != "" && arch != "all" {
		id = name + ":" + arch
	}
	return protocol.SoftwareEntry{
		Name:      name,
		Version:   h.Get("Version"),
		Publisher: maintainerName(h.Get("Maintainer")),
		Source:    protocol.SourceDpkg,
		AppID:     id,
	}, true
}

// dpkgInstalled reports whether a Status field ("want flag state") says the
// package is installed and not broken: "install ok installed", and also
// "hold ok installed" (installed and pinned) and the trigger states, which
// are installed packages waiting for another's trigger to run: a
// collection in the middle of an upgrade does not see them come and go.
func dpkgInstalled(status string) bool {
	f := strings.Fields(status)
	if len(f) != 3 || f[1] != "ok" {
		return false
	}
	switch f[2] {
	case "installed", "triggers-pending", "triggers-awaited":
		return true
	}
	return false
}

// maintainerName drops the e-mail address of "Name <address>": the
// publisher is the team, and addresses change more often than teams.
func maintainerName(m string) string {
	if name, _, ok := strings.Cut(m, "<"); ok && strings.TrimSpace(name) != "" {
		return strings.TrimSpace(name)
	}
	return strings.TrimSpace(m)
}
