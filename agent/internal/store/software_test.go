package store

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/deskside/deskside/shared/protocol"
)

func sampleSet(n int) SoftwareSet {
	var in []protocol.SoftwareEntry
	for i := range n {
		in = append(in, protocol.SoftwareEntry{Name: fmt.Sprintf("pkg-%05d", i), Version: "1.0", Source: protocol.SourceDpkg})
	}
	in = append(in, protocol.SoftwareEntry{Name: "Figma", Version: "124.1", Publisher: "Figma, Inc.", Source: protocol.SourceAppImage, PerUser: true})
	entries, _ := protocol.NormalizeSoftware(in)
	return SoftwareSet{Entries: entries, Hash: protocol.SoftwareHash(entries), CollectedAt: time.Now().UTC().Truncate(time.Millisecond),
		Unreadable: []protocol.SoftwareSource{protocol.SourceSnap}}
}

// The current and acknowledged inventories survive closing the store.
func TestSoftwareSetsSurviveReopen(t *testing.T) {
	ctx := context.Background()
	s, p := open(t, Options{})
	if cur, err := s.SoftwareCurrent(ctx); cur != nil || err != nil {
		t.Fatalf("empty store: %+v, %v", cur, err)
	}
	cur := sampleSet(50)
	acked := sampleSet(10)
	acked.Unreadable, acked.CollectedAt = nil, time.Time{}
	if err := s.SaveSoftwareCurrent(ctx, cur); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveSoftwareAcked(ctx, acked); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s2, err := Open(p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	gotCur, err := s2.SoftwareCurrent(ctx)
	if err != nil || !reflect.DeepEqual(*gotCur, cur) {
		t.Fatalf("current after reopen: %+v, %v", gotCur, err)
	}
	gotAcked, err := s2.SoftwareAcked(ctx)
	if err != nil || gotAcked.Hash != acked.Hash || !reflect.DeepEqual(gotAcked.Entries, acked.Entries) || gotAcked.Unreadable != nil {
		t.Fatalf("acked after reopen: %+v, %v", gotAcked, err)
	}
	if protocol.SoftwareHash(gotAcked.Entries) != gotAcked.Hash {
		t.Fatal("the kept entries do not hash to the kept hash")
	}
}

// A full disk refuses a new inventory whole: the one before stays.
func TestSoftwareSaveDiskFullKeepsThePrevious(t *testing.T) {
	ctx := context.Background()
	s, _ := open(t, Options{MaxPages: 80})
	small := sampleSet(5)
	if err := s.SaveSoftwareCurrent(ctx, small); err != nil {
		t.Fatal(err)
	}
	big := sampleSet(20000)
	err := s.SaveSoftwareCurrent(ctx, big)
	if !errors.Is(err, ErrDiskFull) {
		t.Fatalf("saving 20,000 entries in 80 pages: %v", err)
	}
	got, err := s.SoftwareCurrent(ctx)
	if err != nil || got.Hash != small.Hash || len(got.Entries) != len(small.Entries) {
		t.Fatalf("after the failed save: %+v, %v", got, err)
	}
}

func askFrame(t *testing.T, seq uint64, a protocol.SoftwareAsk) protocol.Envelope {
	t.Helper()
	env, err := protocol.New(protocol.KindSoftwareAsk, a)
	if err != nil {
		t.Fatal(err)
	}
	env.Seq = seq
	return env
}

// A question is kept once per title; shown, answered, closed; "never"
// lists the title and queues the answer with it.
func TestSoftwareAsksLifecycle(t *testing.T) {
	ctx := context.Background()
	s, _ := open(t, Options{})
	figma := protocol.SoftwareTitleID("Figma", "Figma, Inc.", protocol.SourceAppImage)
	obs := protocol.SoftwareTitleID("Obsidian", "", protocol.SourceDesktop)
	a, err := s.ApplyServerFrame(ctx, askFrame(t, 1, protocol.SoftwareAsk{TitleID: figma, Name: "Figma"}))
	if err != nil || a.SoftwareAsk == nil || a.SoftwareAsk.Name != "Figma" {
		t.Fatalf("first ask: %+v, %v", a, err)
	}
	// The same title again (a new seq): not asked twice.
	if a, err := s.ApplyServerFrame(ctx, askFrame(t, 2, protocol.SoftwareAsk{TitleID: figma, Name: "Figma", Text: "again"})); err != nil || a.SoftwareAsk != nil {
		t.Fatalf("second ask for the title: %+v, %v", a, err)
	}
	// A malformed one is skipped, and the sequence moves on.
	if a, err := s.ApplyServerFrame(ctx, askFrame(t, 3, protocol.SoftwareAsk{TitleID: "nope", Name: "X"})); err != nil || a.SoftwareAsk != nil {
		t.Fatalf("malformed ask: %+v, %v", a, err)
	}
	if seq, _ := s.LastSeq(ctx); seq != 3 {
		t.Fatalf("last seq %d, want 3", seq)
	}
	if _, err := s.ApplyServerFrame(ctx, askFrame(t, 4, protocol.SoftwareAsk{TitleID: obs, Name: "Obsidian"})); err != nil {
		t.Fatal(err)
	}
	pend, err := s.SoftwareAsksPending(ctx)
	if err != nil || len(pend) != 2 || pend[0].TitleID != figma || pend[1].TitleID != obs {
		t.Fatalf("pending: %+v, %v", pend, err)
	}
	now := time.Now().UTC().Truncate(time.Millisecond)
	if err := s.ShowSoftwareAsk(ctx, figma, now); err != nil {
		t.Fatal(err)
	}
	if err := s.ShowSoftwareAsk(ctx, figma, now); !errors.Is(err, ErrNotFound) {
		t.Fatalf("showing it twice: %v", err)
	}
	if last, _ := s.LastSoftwarePromptShown(ctx); !last.Equal(now) {
		t.Fatalf("last shown %v, want %v", last, now)
	}
	// Showing another closes the unanswered one.
	if err := s.ShowSoftwareAsk(ctx, obs, now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.SoftwareAskFor(ctx, figma); got.Outcome != OutcomeUnanswered {
		t.Fatalf("figma after obsidian was shown: %+v", got)
	}
	env, _ := protocol.New(protocol.KindSoftwareAnswer, protocol.SoftwareAnswer{TitleID: obs, Answer: protocol.AnswerNever, At: now})
	if err := s.AnswerSoftwareAsk(ctx, obs, protocol.AnswerNever, env); err != nil {
		t.Fatal(err)
	}
	if err := s.AnswerSoftwareAsk(ctx, obs, protocol.AnswerPersonal, env); !errors.Is(err, ErrNotFound) {
		t.Fatalf("answering twice: %v", err)
	}
	if never, _ := s.SoftwareNever(ctx, obs); !never {
		t.Fatal("never did not list the title")
	}
	items, _ := s.Pending(ctx)
	if len(items) != 1 || items[0].Kind != protocol.KindSoftwareAnswer || items[0].Ref != obs {
		t.Fatalf("outbox: %+v", items)
	}
	if pend, _ := s.SoftwareAsksPending(ctx); len(pend) != 0 {
		t.Fatalf("still pending: %+v", pend)
	}
	if closed, err := s.CloseSoftwareAsk(ctx, figma, OutcomeGone); closed || err != nil {
		t.Fatalf("closing a settled question: %v, %v", closed, err)
	}
}

func TestSoftwareThanksAndCatalogue(t *testing.T) {
	ctx := context.Background()
	s, p := open(t, Options{})
	figma := protocol.SoftwareTitleID("Figma", "", protocol.SourceAppImage)
	env, _ := protocol.New(protocol.KindSoftwareThanks, protocol.SoftwareThanks{TitleID: figma, Name: "Figma", Status: protocol.SoftwareApproved, RequestID: "r1"})
	env.Seq = 7
	a, err := s.ApplyServerFrame(ctx, env)
	if err != nil || a.SoftwareThanks == nil || a.SoftwareThanks.RequestID != "r1" {
		t.Fatalf("thanks: %+v, %v", a, err)
	}
	bad, _ := protocol.New(protocol.KindSoftwareThanks, protocol.SoftwareThanks{TitleID: figma, Name: "Figma", Status: protocol.SoftwareNew})
	bad.Seq = 8
	if a, err := s.ApplyServerFrame(ctx, bad); err != nil || a.SoftwareThanks != nil {
		t.Fatalf("thanks for a status that has none: %+v, %v", a, err)
	}
	notes, err := s.SoftwareNotes(ctx)
	if err != nil || len(notes) != 1 || notes[0].Status != protocol.SoftwareApproved || notes[0].At.IsZero() {
		t.Fatalf("notes: %+v, %v", notes, err)
	}

	items := []protocol.CatalogueItem{{TitleID: figma, Name: "Figma", How: protocol.CatalogueLink, URL: "https://figma.com/downloads"}}
	at := time.Now().UTC().Truncate(time.Millisecond)
	if err := s.SaveSoftwareCatalogue(ctx, items, at); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s2, err := Open(p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	got, when, err := s2.SoftwareCatalogue(ctx)
	if err != nil || !reflect.DeepEqual(got, items) || !when.Equal(at) {
		t.Fatalf("catalogue after reopen: %+v %v %v", got, when, err)
	}
}

// FuzzApplySoftwareFrame: whatever body a software.ask or software.thanks
// carries, storing it never fails (a bad one is skipped and the sequence
// moves on), and what is kept is valid.
func FuzzApplySoftwareFrame(f *testing.F) {
	f.Add(true, []byte(`{"title_id":"sw_0011223344556677","name":"Figma"}`))
	f.Add(false, []byte(`{"title_id":"sw_1","name":"Figma","status":"approved"}`))
	f.Add(true, []byte(`{"title_id":"sw_1","name":"\xff"}`))
	f.Add(false, []byte(`[1,2`))
	ctx := context.Background()
	s, err := Open(fmt.Sprintf("%s/agent.db", f.TempDir()), Options{})
	if err != nil {
		f.Fatal(err)
	}
	defer s.Close()
	var seq uint64
	f.Fuzz(func(t *testing.T, ask bool, body []byte) {
		seq++
		env := protocol.Envelope{V: protocol.Version, Type: protocol.KindSoftwareThanks, ID: protocol.NewID(), Seq: seq, Body: body}
		if ask {
			env.Type = protocol.KindSoftwareAsk
		}
		a, err := s.ApplyServerFrame(ctx, env)
		if err != nil {
			t.Fatalf("store %s %q: %v", env.Type, body, err)
		}
		if a.SoftwareAsk != nil && a.SoftwareAsk.Validate() != nil {
			t.Fatalf("kept an invalid ask: %+v", a.SoftwareAsk)
		}
		if a.SoftwareThanks != nil && a.SoftwareThanks.Validate() != nil {
			t.Fatalf("kept invalid thanks: %+v", a.SoftwareThanks)
		}
		if last, _ := s.LastSeq(ctx); last != seq {
			t.Fatalf("last seq %d, want %d", last, seq)
		}
	})
}
