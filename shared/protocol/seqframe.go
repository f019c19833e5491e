package protocol

import (
	"bytes"
	"fmt"
	"io"
	"strconv"
)

// SeqFrame is one frame encoded once for many devices. Every device's copy
// differs only in its seq, which is spliced in when the frame is written:
// an announcement to 19,000 desks is encoded and stored once, not 19,000
// times. The bytes it produces are exactly Envelope.Marshal's with Seq set.
type SeqFrame struct {
	head, tail []byte // the seq-less encoding, split where ,"seq":N goes
}

var bodyKey = []byte(`,"body":`)

// NewSeqFrame encodes env (whose Seq is ignored) as a template.
func NewSeqFrame(env Envelope) (*SeqFrame, error) {
	env.Seq = 0
	b, err := env.Marshal()
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w", env.Type, err)
	}
	return ParseSeqFrame(b)
}

// ParseSeqFrame reads back a template from Template. The seq goes
// where Marshal puts it: after ts, before body (the first ,"body": is the
// key, since no earlier field can hold an unescaped quote).
func ParseSeqFrame(b []byte) (*SeqFrame, error) {
	if len(b) < 2 || b[0] != '{' || b[len(b)-1] != '}' {
		return nil, fmt.Errorf("not a frame template")
	}
	i := bytes.Index(b, bodyKey)
	if i < 0 {
		i = len(b) - 1
	}
	if bytes.Contains(b[:i], []byte(`"seq":`)) {
		return nil, fmt.Errorf("frame template already has a seq")
	}
	return &SeqFrame{head: b[:i:i], tail: b[i:]}, nil
}

// Template is the seq-less encoding, for storing once.
func (f *SeqFrame) Template() []byte {
	return append(append(make([]byte, 0, len(f.head)+len(f.tail)), f.head...), f.tail...)
}

// AppendTo appends the frame with seq to dst.
func (f *SeqFrame) AppendTo(dst []byte, seq uint64) []byte {
	dst = append(dst, f.head...)
	dst = append(dst, `,"seq":`...)
	dst = strconv.AppendUint(dst, seq, 10)
	return append(dst, f.tail...)
}

// Frame returns the frame with seq as a new slice.
func (f *SeqFrame) Frame(seq uint64) []byte {
	return f.AppendTo(make([]byte, 0, len(f.head)+len(f.tail)+28), seq)
}

// WriteTo writes the frame with seq to w without building it first (w is
// typically a WebSocket frame writer over a pooled buffer).
func (f *SeqFrame) WriteTo(w io.Writer, seq uint64) error {
	var num [28]byte
	if _, err := w.Write(f.head); err != nil {
		return err
	}
	if _, err := w.Write(strconv.AppendUint(append(num[:0], `,"seq":`...), seq, 10)); err != nil {
		return err
	}
	_, err := w.Write(f.tail)
	return err
}
