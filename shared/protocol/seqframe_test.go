package protocol

import (
	"bytes"
	"testing"
	"time"
)

// A spliced frame is byte for byte what Marshal gives with the seq set, so
// devices cannot tell a shared announcement from one encoded for them.
func TestSeqFrameMatchesMarshal(t *testing.T) {
	body := Announcement{AnnouncementID: "ann_1", Title: `Email "slow", body":`, Text: `,"body":{"seq":1}`, Severity: "outage",
		Author: Person{Name: "Rob"}, CreatedAt: time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)}
	env, err := NewWithID(KindAnnouncement, `id,"body":x`, body)
	if err != nil {
		t.Fatal(err)
	}
	f, err := NewSeqFrame(env)
	if err != nil {
		t.Fatal(err)
	}
	back, err := ParseSeqFrame(f.Template())
	if err != nil {
		t.Fatal(err)
	}
	for _, seq := range []uint64{1, 42, 1 << 40} {
		env.Seq = seq
		want, _ := env.Marshal()
		var w bytes.Buffer
		if err := back.WriteTo(&w, seq); err != nil {
			t.Fatal(err)
		}
		for name, got := range map[string][]byte{"Frame": f.Frame(seq), "WriteTo": w.Bytes(), "AppendTo": back.AppendTo([]byte("x"), seq)[1:]} {
			if !bytes.Equal(got, want) {
				t.Errorf("%s(%d) =\n%s\nwant\n%s", name, seq, got, want)
			}
		}
		if p, err := Parse(f.Frame(seq)); err != nil || p.Seq != seq {
			t.Errorf("parse spliced frame: %v seq %d", err, p.Seq)
		}
	}
	// A frame without a body splices too.
	env, _ = NewWithID(KindSnapshotWant, "x", nil)
	f, err = NewSeqFrame(env)
	if err != nil {
		t.Fatal(err)
	}
	env.Seq = 7
	if want, _ := env.Marshal(); !bytes.Equal(f.Frame(7), want) {
		t.Errorf("no body: %s, want %s", f.Frame(7), want)
	}
	if _, err := ParseSeqFrame(f.Frame(7)); err == nil {
		t.Error("a frame that has a seq parsed as a template")
	}
}
