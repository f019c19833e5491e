package store

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/deskside/deskside/shared/protocol"
)

// A device's inventory is kept as one blob (device_software.blob): a
// compact binary list, deflated. Why not gzip'd JSON: the server decodes
// the stored set whenever a change list arrives and for every diff, and a
// hand-laid list decodes several times faster than encoding/json (no
// reflection, no field names, no quoting) while deflate squeezes what
// remains — sorted entries share long prefixes (lib…, versions) — to about
// 15–20 bytes an entry, so 19,000 desks × 1,500 entries fit in ~0.5 GB.
//
// Layout before deflate: "S1", uvarint count, then per entry a byte
// (source index << 1 | per_user) and four uvarint-length strings: name,
// version, publisher, app id.
const blobMagic = "S1"

// flateWriters pools deflate writers: each holds ~600 KB of tables, and a
// batch of fifty inventories would otherwise allocate thirty megabytes.
var flateWriters = sync.Pool{New: func() any {
	w, _ := flate.NewWriter(nil, flate.BestSpeed)
	return w
}}

func sourceIndex(s protocol.SoftwareSource) (byte, bool) {
	for i, k := range protocol.SoftwareSources {
		if k == s {
			return byte(i), true
		}
	}
	return 0, false
}

// encodeSoftware packs entries into a blob.
func encodeSoftware(entries []protocol.SoftwareEntry) ([]byte, error) {
	raw := make([]byte, 0, 2+binary.MaxVarintLen64+len(entries)*48)
	raw = append(raw, blobMagic...)
	raw = binary.AppendUvarint(raw, uint64(len(entries)))
	for _, e := range entries {
		si, ok := sourceIndex(e.Source)
		if !ok {
			return nil, fmt.Errorf("encode inventory: source %q is not known", e.Source)
		}
		raw = append(raw, si<<1|byte(b2i(e.PerUser)))
		for _, s := range [4]string{e.Name, e.Version, e.Publisher, e.AppID} {
			raw = binary.AppendUvarint(raw, uint64(len(s)))
			raw = append(raw, s...)
		}
	}
	var buf bytes.Buffer
	buf.Grow(len(raw) / 3)
	w := flateWriters.Get().(*flate.Writer)
	defer flateWriters.Put(w)
	w.Reset(&buf)
	if _, err := w.Write(raw); err != nil {
		return nil, fmt.Errorf("encode inventory: %w", err)
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("encode inventory: %w", err)
	}
	return buf.Bytes(), nil
}

var errBadBlob = errors.New("stored inventory is damaged")

// decodeSoftware unpacks a blob (empty: no entries).
func decodeSoftware(blob []byte) ([]protocol.SoftwareEntry, error) {
	if len(blob) == 0 {
		return nil, nil
	}
	// Limit what a damaged blob could inflate to: the largest list
	// allowed, at its longest entries.
	const maxRaw = protocol.MaxSoftwareEntries * (1 + 4*binary.MaxVarintLen64 + 4*4*protocol.MaxSoftwareNameRunes)
	raw, err := io.ReadAll(io.LimitReader(flate.NewReader(bytes.NewReader(blob)), maxRaw))
	if err != nil {
		return nil, fmt.Errorf("decode inventory: %w", err)
	}
	if !bytes.HasPrefix(raw, []byte(blobMagic)) {
		return nil, errBadBlob
	}
	raw = raw[len(blobMagic):]
	n, k := binary.Uvarint(raw)
	if k <= 0 || n > protocol.MaxSoftwareEntries {
		return nil, errBadBlob
	}
	raw = raw[k:]
	out := make([]protocol.SoftwareEntry, 0, n)
	for range n {
		if len(raw) == 0 {
			return nil, errBadBlob
		}
		flags := raw[0]
		raw = raw[1:]
		if int(flags>>1) >= len(protocol.SoftwareSources) {
			return nil, errBadBlob
		}
		e := protocol.SoftwareEntry{Source: protocol.SoftwareSources[flags>>1], PerUser: flags&1 == 1}
		for _, dst := range [4]*string{&e.Name, &e.Version, &e.Publisher, &e.AppID} {
			l, k := binary.Uvarint(raw)
			if k <= 0 || l > uint64(len(raw)-k) {
				return nil, errBadBlob
			}
			*dst = string(raw[k : k+int(l)])
			raw = raw[k+int(l):]
		}
		out = append(out, e)
	}
	return out, nil
}
