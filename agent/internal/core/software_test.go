package core

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/deskside/deskside/agent/agentapi"
	"github.com/deskside/deskside/agent/internal/store"
	"github.com/deskside/deskside/agent/internal/sysinfo"
	"github.com/deskside/deskside/shared/protocol"
)

// swHarness is a Core on a real store whose link is driven by the test:
// the test plays the server (welcome, ack, error, want, sequenced frames)
// through the handler, and reads the frames the core sent.
type swHarness struct {
	*Core
	st          *store.Store
	db          string
	sent        chan protocol.Envelope
	events      <-chan agentapi.Event
	unsubscribe func()

	mu      sync.Mutex
	report  SoftwareReport
	collErr error
	clock   time.Time
	seq     uint64
}

func newSW(t *testing.T, db string, opt store.Options, mod func(*Config)) *swHarness {
	t.Helper()
	if db == "" {
		db = filepath.Join(t.TempDir(), "agent.db")
	}
	st, err := store.Open(db, opt)
	if err != nil {
		t.Fatal(err)
	}
	h := &swHarness{st: st, db: db, sent: make(chan protocol.Envelope, 64), clock: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)}
	if last, _ := st.LastSeq(context.Background()); last > 0 {
		h.seq = last
	}
	cfg := Config{Store: st, Collector: sysinfo.New(sysinfo.Options{AgentVersion: "1.0.0-test"}),
		Software: &SoftwareConfig{
			Collect: func(context.Context) (SoftwareReport, error) {
				h.mu.Lock()
				defer h.mu.Unlock()
				return h.report, h.collErr
			},
			StartJitter: -1, RetryBase: time.Millisecond, RetryCap: 10 * time.Millisecond,
			Now: func() time.Time { h.mu.Lock(); defer h.mu.Unlock(); return h.clock },
		}}
	if mod != nil {
		mod(&cfg)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	c.sw.send = func(env protocol.Envelope) error { h.sent <- env; return nil }
	h.Core = c
	events, cancel := c.subscribe()
	h.events, h.unsubscribe = events, cancel
	t.Cleanup(func() { cancel(); c.Close(); st.Close() })
	return h
}

func (h *swHarness) setReport(r SoftwareReport) { h.mu.Lock(); h.report = r; h.mu.Unlock() }
func (h *swHarness) advance(d time.Duration)    { h.mu.Lock(); h.clock = h.clock.Add(d); h.mu.Unlock() }

// connect plays the server's welcome (with the capability and the hash
// it holds) and the link coming up.
func (h *swHarness) connect(serverHash string) {
	hd := (*handler)(h.Core)
	hd.Welcome(context.Background(), protocol.Welcome{Capabilities: []string{protocol.CapSoftware}, SoftwareHash: serverHash, Revision: protocol.Revision})
	h.setState(agentapi.ConnOnline, nil, time.Time{}) // not via handler: the test sends itself
}

func (h *swHarness) frame(t *testing.T) (protocol.Envelope, protocol.SoftwareInventory) {
	t.Helper()
	select {
	case env := <-h.sent:
		var inv protocol.SoftwareInventory
		if env.Type != protocol.KindSoftwareInventory {
			t.Fatalf("sent a %s", env.Type)
		}
		if err := env.Decode(&inv); err != nil {
			t.Fatal(err)
		}
		if err := inv.Validate(); err != nil {
			t.Fatalf("the agent sent an invalid inventory: %v", err)
		}
		return env, inv
	case <-time.After(20 * time.Second):
		t.Fatal("no inventory frame sent")
	}
	return protocol.Envelope{}, protocol.SoftwareInventory{}
}

func (h *swHarness) noFrame(t *testing.T) {
	t.Helper()
	select {
	case env := <-h.sent:
		t.Fatalf("sent %s unexpectedly", env.Body)
	default:
	}
}

func (h *swHarness) ack(env protocol.Envelope, ref string) {
	(*handler)(h.Core).Ack(context.Background(), protocol.Ack{ID: env.ID, Ref: ref})
}

// serverFrame delivers a sequenced server frame as the link does.
func (h *swHarness) serverFrame(t *testing.T, k protocol.Kind, body any) {
	t.Helper()
	env, err := protocol.New(k, body)
	if err != nil {
		t.Fatal(err)
	}
	h.mu.Lock()
	h.seq++
	env.Seq = h.seq
	h.mu.Unlock()
	if err := (*handler)(h.Core).Store(context.Background(), env); err != nil {
		t.Fatal(err)
	}
}

// nextEvent returns the next event of type typ (others are skipped), or
// fails; none returns false when none is queued.
func (h *swHarness) nextEvent(t *testing.T, typ agentapi.EventType) agentapi.Event {
	t.Helper()
	timeout := time.After(20 * time.Second)
	for {
		select {
		case ev := <-h.events:
			if ev.Type == typ {
				return ev
			}
		case <-timeout:
			t.Fatalf("no %s event", typ)
		}
	}
}

func (h *swHarness) noEvent(t *testing.T, typ agentapi.EventType) {
	t.Helper()
	for {
		select {
		case ev := <-h.events:
			if ev.Type == typ {
				t.Fatalf("unexpected %s event: %+v", typ, ev)
			}
		default:
			return
		}
	}
}

var (
	eFirefox  = protocol.SoftwareEntry{Name: "firefox-esr", Version: "115.9", Publisher: "Debian Mozilla Maintainers", Source: protocol.SourceDpkg}
	eWriter   = protocol.SoftwareEntry{Name: "libreoffice-writer", Version: "7.4.7", Source: protocol.SourceDpkg}
	eCurl     = protocol.SoftwareEntry{Name: "curl", Version: "7.88.1", Source: protocol.SourceDpkg}
	eGIMP     = protocol.SoftwareEntry{Name: "GIMP", Version: "2.10.38", Source: protocol.SourceFlatpak, AppID: "org.gimp.GIMP"}
	eFigma    = protocol.SoftwareEntry{Name: "Figma", Version: "124.1.2", Publisher: "Figma, Inc.", Source: protocol.SourceAppImage, PerUser: true}
	eObsidian = protocol.SoftwareEntry{Name: "Obsidian", Version: "1.5.12", Source: protocol.SourceDesktop, PerUser: true}
)

func norm(in ...protocol.SoftwareEntry) []protocol.SoftwareEntry {
	out, _ := protocol.NormalizeSoftware(in)
	return out
}

// The full list, its ack, then a change list (one added, one removed, one
// new version) that takes the server's copy to exactly the agent's.
func TestSoftwareFullThenChanges(t *testing.T) {
	ctx := context.Background()
	h := newSW(t, "", store.Options{}, nil)
	// Duplicates and a nameless entry are the collectors' noise: normalised away.
	h.setReport(SoftwareReport{Entries: []protocol.SoftwareEntry{eFirefox, eWriter, eCurl, eFigma, eFigma, {Source: protocol.SourceDpkg}}})
	h.connect("")
	if err := h.CollectSoftware(ctx); err != nil {
		t.Fatal(err)
	}
	env, full := h.frame(t)
	if !full.Full || !reflect.DeepEqual(full.Entries, norm(eFirefox, eWriter, eCurl, eFigma)) || full.Hash != protocol.SoftwareHash(full.Entries) {
		t.Fatalf("first frame: %+v", full)
	}
	server := full.Entries // what the server holds once it acks
	if inv, _ := h.Software(ctx); inv.InSync || inv.Hash != full.Hash {
		t.Fatalf("before the ack: %+v", inv)
	}
	h.ack(env, full.Hash)
	inv, _ := h.Software(ctx)
	if !inv.InSync || !reflect.DeepEqual(inv.Entries, server) {
		t.Fatalf("after the ack: %+v", inv)
	}
	acked, _ := h.st.SoftwareAcked(ctx)
	if acked == nil || acked.Hash != full.Hash {
		t.Fatalf("acked set: %+v", acked)
	}

	// One removed (curl), one added (GIMP), one new version (firefox).
	newFF := eFirefox
	newFF.Version = "128.5"
	h.setReport(SoftwareReport{Entries: []protocol.SoftwareEntry{newFF, eWriter, eGIMP, eFigma}})
	if err := h.CollectSoftware(ctx); err != nil {
		t.Fatal(err)
	}
	env, ch := h.frame(t)
	if ch.Full || ch.BaseHash != full.Hash {
		t.Fatalf("second frame is not a change list on the acked base: %+v", ch)
	}
	if !reflect.DeepEqual(ch.Added, norm(newFF, eGIMP)) || !reflect.DeepEqual(ch.Removed, norm(eFirefox, eCurl)) {
		t.Fatalf("changes: added %+v removed %+v", ch.Added, ch.Removed)
	}
	server = protocol.ApplySoftwareChanges(server, ch.Added, ch.Removed)
	if protocol.SoftwareHash(server) != ch.Hash {
		t.Fatal("the server's copy after the changes does not hash to the agent's hash")
	}
	h.ack(env, ch.Hash)
	if inv, _ := h.Software(ctx); !inv.InSync || inv.Hash != protocol.SoftwareHash(server) || !reflect.DeepEqual(inv.Entries, server) {
		t.Fatalf("after the second ack: %+v", inv)
	}
	// Nothing changed: nothing is sent.
	if err := h.CollectSoftware(ctx); err != nil {
		t.Fatal(err)
	}
	h.noFrame(t)
}

// A reconnect to a server that holds another list (a mismatch) gets the
// full list; one that holds the agent's list gets nothing; one that holds
// the acked list gets the changes; software.want gets the full list.
func TestSoftwareResync(t *testing.T) {
	ctx := context.Background()
	h := newSW(t, "", store.Options{}, nil)
	h.setReport(SoftwareReport{Entries: []protocol.SoftwareEntry{eFirefox, eWriter}})
	h.connect("")
	if err := h.CollectSoftware(ctx); err != nil {
		t.Fatal(err)
	}
	env, first := h.frame(t)
	h.ack(env, first.Hash)

	h.setState(agentapi.ConnOffline, nil, time.Time{})
	h.softwareOffline()
	h.setReport(SoftwareReport{Entries: []protocol.SoftwareEntry{eFirefox, eWriter, eCurl}})
	if err := h.CollectSoftware(ctx); err != nil {
		t.Fatal(err)
	}
	h.noFrame(t) // offline: kept, not sent
	cur, _ := h.st.SoftwareCurrent(ctx)

	h.connect(cur.Hash) // the server has it already (an earlier frame landed)
	(*handler)(h.Core).State(agentapi.ConnOnline, nil, time.Time{})
	waitUntil(t, "the acked set to become the current one", func() bool {
		a, _ := h.st.SoftwareAcked(ctx)
		return a != nil && a.Hash == cur.Hash
	})
	h.noFrame(t)

	h.connect("sha256:" + fmt.Sprintf("%064d", 7)) // a mismatch
	h.softwareOnline(ctx)
	_, inv := h.frame(t)
	if !inv.Full || inv.Hash != cur.Hash {
		t.Fatalf("after a mismatch: %+v", inv)
	}

	// software.want while the loop runs: collect at once, send it whole.
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); h.runSoftware(runCtx) }()
	defer func() { stop(); <-done }()
	h.connect(cur.Hash) // the loop's first collection finds the same list: nothing to send
	want, _ := protocol.New(protocol.KindSoftwareWant, protocol.SoftwareWant{Reason: "base_unknown"})
	(*handler)(h.Core).Control(ctx, want)
	_, inv = h.frame(t)
	if !inv.Full || len(inv.Entries) != 3 {
		t.Fatalf("after software.want: %+v", inv)
	}
}

// A source that could not be read keeps its entries from before, and is
// listed as unreadable; nothing of it is reported removed.
func TestSoftwareFailedSourceKeepsEntries(t *testing.T) {
	ctx := context.Background()
	h := newSW(t, "", store.Options{}, nil)
	h.setReport(SoftwareReport{Entries: []protocol.SoftwareEntry{eFirefox, eGIMP}})
	h.connect("")
	if err := h.CollectSoftware(ctx); err != nil {
		t.Fatal(err)
	}
	env, full := h.frame(t)
	h.ack(env, full.Hash)

	// Flatpak fails (GIMP missing, and a half-read flatpak entry too); dpkg
	// gained curl.
	half := protocol.SoftwareEntry{Name: "Half", Source: protocol.SourceFlatpak}
	h.setReport(SoftwareReport{Entries: []protocol.SoftwareEntry{eFirefox, eCurl, half}, Failed: []protocol.SoftwareSource{protocol.SourceFlatpak}})
	if err := h.CollectSoftware(ctx); err != nil {
		t.Fatal(err)
	}
	_, ch := h.frame(t)
	if len(ch.Removed) != 0 || !reflect.DeepEqual(ch.Added, norm(eCurl)) {
		t.Fatalf("changes with flatpak unreadable: added %+v removed %+v", ch.Added, ch.Removed)
	}
	inv, _ := h.Software(ctx)
	if !slices.Equal(inv.Unreadable, []protocol.SoftwareSource{protocol.SourceFlatpak}) || !slices.Contains(inv.Entries, norm(eGIMP)[0]) {
		t.Fatalf("inventory: %+v", inv)
	}
}

// The acked base survives a restart: the next connect sends changes
// against it, not a full list.
func TestSoftwareRestartKeepsAckedBase(t *testing.T) {
	ctx := context.Background()
	h := newSW(t, "", store.Options{}, nil)
	h.setReport(SoftwareReport{Entries: []protocol.SoftwareEntry{eFirefox, eWriter}})
	h.connect("")
	if err := h.CollectSoftware(ctx); err != nil {
		t.Fatal(err)
	}
	env, full := h.frame(t)
	h.ack(env, full.Hash)
	h.Close()
	h.st.Close()

	h2 := newSW(t, h.db, store.Options{}, nil)
	h2.setReport(SoftwareReport{Entries: []protocol.SoftwareEntry{eFirefox, eWriter, eCurl}})
	if err := h2.CollectSoftware(ctx); err != nil { // offline: kept
		t.Fatal(err)
	}
	h2.connect(full.Hash)
	h2.softwareOnline(ctx)
	_, ch := h2.frame(t)
	if ch.Full || ch.BaseHash != full.Hash || !reflect.DeepEqual(ch.Added, norm(eCurl)) {
		t.Fatalf("after a restart: %+v", ch)
	}
}

// The server is busy: the inventory is tried again later (backoff with
// jitter), not dropped; a refused change list is followed by the full
// list.
func TestSoftwareRateLimitedAndRefused(t *testing.T) {
	ctx := context.Background()
	h := newSW(t, "", store.Options{}, nil)
	h.setReport(SoftwareReport{Entries: []protocol.SoftwareEntry{eFirefox}})
	h.connect("")
	if err := h.CollectSoftware(ctx); err != nil {
		t.Fatal(err)
	}
	env, first := h.frame(t)
	(*handler)(h.Core).Refused(ctx, protocol.Error{Code: protocol.ErrRateLimited, Ref: env.ID})
	env2, again := h.frame(t)
	if env2.ID == env.ID || !again.Full || again.Hash != first.Hash {
		t.Fatalf("retry: %+v", again)
	}
	h.ack(env2, again.Hash)

	h.setReport(SoftwareReport{Entries: []protocol.SoftwareEntry{eFirefox, eCurl}})
	if err := h.CollectSoftware(ctx); err != nil {
		t.Fatal(err)
	}
	env3, ch := h.frame(t)
	if ch.Full {
		t.Fatalf("expected a change list: %+v", ch)
	}
	(*handler)(h.Core).Refused(ctx, protocol.Error{Code: protocol.ErrBadBody, Ref: env3.ID})
	_, inv := h.frame(t)
	if !inv.Full || len(inv.Entries) != 2 {
		t.Fatalf("after a refused change list: %+v", inv)
	}
}

// A full disk when keeping a collection: the error says so, the list
// before stays (what Software shows), and nothing is sent.
func TestSoftwareDiskFull(t *testing.T) {
	ctx := context.Background()
	h := newSW(t, "", store.Options{MaxPages: 120}, nil)
	h.setReport(SoftwareReport{Entries: []protocol.SoftwareEntry{eFirefox}})
	h.connect("")
	if err := h.CollectSoftware(ctx); err != nil {
		t.Fatal(err)
	}
	env, full := h.frame(t)
	h.ack(env, full.Hash)
	var many []protocol.SoftwareEntry
	for i := range 20000 {
		many = append(many, protocol.SoftwareEntry{Name: fmt.Sprintf("package-with-a-longish-name-%05d", i), Version: "1.2.3-4ubuntu5", Source: protocol.SourceDpkg})
	}
	h.setReport(SoftwareReport{Entries: many})
	err := h.CollectSoftware(ctx)
	if !errors.Is(err, store.ErrDiskFull) {
		t.Fatalf("collect onto a full disk: %v", err)
	}
	h.noFrame(t)
	inv, err := h.Software(ctx)
	if err != nil || !inv.InSync || inv.Hash != full.Hash {
		t.Fatalf("after the failed save: %+v, %v", inv, err)
	}
}

// mergeInventory cuts a list that would not fit one frame, and says so.
func TestSoftwareFitsOneFrame(t *testing.T) {
	long := string(make([]rune, 0))
	for range protocol.MaxSoftwareNameRunes - 10 {
		long += "é"
	}
	var in []protocol.SoftwareEntry
	for i := range 8000 { // ~6 MB of JSON
		in = append(in, protocol.SoftwareEntry{Name: fmt.Sprintf("%s%05d", long, i), Publisher: long, Source: protocol.SourceDpkg})
	}
	set := mergeInventory(nil, SoftwareReport{Entries: in}, time.Now())
	if !set.Truncated || len(set.Entries) == 0 || len(set.Entries) >= len(in) {
		t.Fatalf("kept %d of %d, truncated %v", len(set.Entries), len(in), set.Truncated)
	}
	env, err := protocol.New(protocol.KindSoftwareInventory, protocol.SoftwareInventory{Full: true, Hash: set.Hash, Entries: set.Entries})
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := env.Marshal(); len(b) > protocol.MaxFrameBytes {
		t.Fatalf("frame is %d bytes", len(b))
	}
}

func figmaID() string    { return eFigma.TitleID() }
func obsidianID() string { return eObsidian.TitleID() }

// The throttle: one question shown at a time and at most one a week;
// never while typing a request (shown when typing stops); never about a
// title on the never-ask list or no longer installed.
func TestSoftwarePromptThrottle(t *testing.T) {
	ctx := context.Background()
	h := newSW(t, "", store.Options{}, nil)
	h.setReport(SoftwareReport{Entries: []protocol.SoftwareEntry{eFirefox, eFigma, eObsidian}})
	if err := h.CollectSoftware(ctx); err != nil {
		t.Fatal(err)
	}
	h.serverFrame(t, protocol.KindSoftwareAsk, protocol.SoftwareAsk{TitleID: figmaID(), Name: "Figma", Publisher: "Figma, Inc."})
	ev := h.nextEvent(t, agentapi.EventSoftwarePrompt)
	want := "You use Figma. Is it for your work? Telling IT helps us keep it safe and supported — you're not in any trouble."
	if ev.Prompt.TitleID != figmaID() || ev.Prompt.Text != want {
		t.Fatalf("prompt: %+v", ev.Prompt)
	}
	if p, _ := h.SoftwarePrompt(ctx); p == nil || p.TitleID != figmaID() {
		t.Fatalf("SoftwarePrompt: %+v", p)
	}
	// A second question within the week is held.
	h.serverFrame(t, protocol.KindSoftwareAsk, protocol.SoftwareAsk{TitleID: obsidianID(), Name: "Obsidian", Text: "Obsidian: for work?"})
	h.noEvent(t, agentapi.EventSoftwarePrompt)
	if res, err := h.AnswerSoftware(ctx, figmaID(), protocol.AnswerPersonal); err != nil || res.Text != "Thanks — we won't ask about Figma again." || res.Request != nil {
		t.Fatalf("answer: %+v, %v", res, err)
	}
	if p, _ := h.SoftwarePrompt(ctx); p != nil {
		t.Fatalf("a second prompt in the same week: %+v", p)
	}
	h.advance(6 * 24 * time.Hour)
	h.checkPrompts(ctx)
	h.noEvent(t, agentapi.EventSoftwarePrompt)

	// A week on, but the person is typing a request: held.
	h.advance(24*time.Hour + time.Minute)
	if err := h.Composing(ctx, true); err != nil {
		t.Fatal(err)
	}
	h.checkPrompts(ctx)
	if p, _ := h.SoftwarePrompt(ctx); p != nil {
		t.Fatalf("prompt while composing: %+v", p)
	}
	h.noEvent(t, agentapi.EventSoftwarePrompt)
	// They send it: the held question comes, in IT's words.
	if err := h.Composing(ctx, false); err != nil {
		t.Fatal(err)
	}
	ev = h.nextEvent(t, agentapi.EventSoftwarePrompt)
	if ev.Prompt.TitleID != obsidianID() || ev.Prompt.Text != "Obsidian: for work?" {
		t.Fatalf("prompt after composing: %+v", ev.Prompt)
	}
	// Composing lapses by itself after 15 minutes.
	if err := h.Composing(ctx, true); err != nil {
		t.Fatal(err)
	}
	if p, _ := h.SoftwarePrompt(ctx); p != nil {
		t.Fatal("prompt while composing")
	}
	h.advance(16 * time.Minute)
	if p, _ := h.SoftwarePrompt(ctx); p == nil || p.TitleID != obsidianID() {
		t.Fatalf("after composing lapsed: %+v", p)
	}

	// Never: listed, and the title is not asked about again.
	if res, err := h.AnswerSoftware(ctx, obsidianID(), protocol.AnswerNever); err != nil || res.Text != "Okay — we won't ask about Obsidian again." {
		t.Fatalf("never: %+v, %v", res, err)
	}
	if never, _ := h.st.SoftwareNever(ctx, obsidianID()); !never {
		t.Fatal("not on the never-ask list")
	}
	h.advance(8 * 24 * time.Hour)
	h.serverFrame(t, protocol.KindSoftwareAsk, protocol.SoftwareAsk{TitleID: obsidianID(), Name: "Obsidian"})
	h.noEvent(t, agentapi.EventSoftwarePrompt)
	if _, err := h.AnswerSoftware(ctx, obsidianID(), protocol.AnswerPersonal); !agentapi.IsCode(err, agentapi.CodeNotFound) {
		t.Fatalf("answering again: %v", err)
	}

	// A question about a title that is not installed for the person (a
	// machine-wide package) is closed, not shown.
	h.serverFrame(t, protocol.KindSoftwareAsk, protocol.SoftwareAsk{TitleID: eFirefox.TitleID(), Name: "firefox-esr"})
	h.noEvent(t, agentapi.EventSoftwarePrompt)
	if a, _ := h.st.SoftwareAskFor(ctx, eFirefox.TitleID()); a.Outcome != store.OutcomeGone {
		t.Fatalf("firefox question: %+v", a)
	}
	// The answers went into the outbox.
	items, _ := h.st.Pending(ctx)
	var answers []string
	for _, it := range items {
		if it.Kind == protocol.KindSoftwareAnswer {
			var env protocol.Envelope
			var a protocol.SoftwareAnswer
			if json.Unmarshal(it.Frame, &env) != nil || env.Decode(&a) != nil {
				t.Fatalf("outbox frame %s", it.Frame)
			}
			answers = append(answers, a.TitleID+" "+string(a.Answer))
		}
	}
	if !slices.Equal(answers, []string{figmaID() + " personal", obsidianID() + " never"}) {
		t.Fatalf("answers in the outbox: %v", answers)
	}
}

// "Yes, for work" raises a pre-filled software request linked to the
// title, and queues the answer with the request's id.
func TestSoftwareAnswerWorkRaisesRequest(t *testing.T) {
	ctx := context.Background()
	h := newSW(t, "", store.Options{}, nil)
	h.setReport(SoftwareReport{Entries: []protocol.SoftwareEntry{eFigma}})
	if err := h.CollectSoftware(ctx); err != nil {
		t.Fatal(err)
	}
	h.serverFrame(t, protocol.KindSoftwareAsk, protocol.SoftwareAsk{TitleID: figmaID(), Name: "Figma"})
	h.nextEvent(t, agentapi.EventSoftwarePrompt)
	if _, err := h.AnswerSoftware(ctx, figmaID(), "maybe"); !agentapi.IsCode(err, agentapi.CodeBadRequest) {
		t.Fatalf("a made-up answer: %v", err)
	}
	if _, err := h.AnswerSoftware(ctx, "sw_0000000000000000", protocol.AnswerForWork); !agentapi.IsCode(err, agentapi.CodeNotFound) {
		t.Fatalf("an unknown title: %v", err)
	}
	res, err := h.AnswerSoftware(ctx, figmaID(), protocol.AnswerForWork)
	if err != nil || res.Request == nil || res.Text != "Thanks for telling us — IT will have a look." {
		t.Fatalf("work: %+v, %v", res, err)
	}
	if r := res.Request; r.Category != protocol.CategorySoftware || r.Urgency != protocol.UrgencyWhenYouCan || r.Text != "I use Figma for my work." {
		t.Fatalf("request: %+v", r)
	}
	items, _ := h.st.Pending(ctx)
	if len(items) != 2 || items[0].Kind != protocol.KindRequestNew || items[1].Kind != protocol.KindSoftwareAnswer {
		t.Fatalf("outbox: %+v", items)
	}
	var env protocol.Envelope
	var rn protocol.RequestNew
	var ans protocol.SoftwareAnswer
	_ = json.Unmarshal(items[0].Frame, &env)
	if err := env.Decode(&rn); err != nil || rn.SoftwareTitle != figmaID() || rn.Validate() != nil {
		t.Fatalf("request.new: %+v, %v", rn, err)
	}
	_ = json.Unmarshal(items[1].Frame, &env)
	if err := env.Decode(&ans); err != nil || ans.Answer != protocol.AnswerForWork || ans.RequestID != res.Request.ID || ans.Validate() != nil {
		t.Fatalf("software.answer: %+v, %v", ans, err)
	}
	if _, err := h.AnswerSoftware(ctx, figmaID(), protocol.AnswerForWork); !agentapi.IsCode(err, agentapi.CodeNotFound) {
		t.Fatalf("answering twice: %v", err)
	}
}

// IT's decision reaches the person who told it, as a note and an event,
// in warm words.
func TestSoftwareThanksNote(t *testing.T) {
	ctx := context.Background()
	h := newSW(t, "", store.Options{}, nil)
	h.serverFrame(t, protocol.KindSoftwareThanks, protocol.SoftwareThanks{TitleID: figmaID(), Name: "Figma", Status: protocol.SoftwareApproved, RequestID: "r1"})
	ev := h.nextEvent(t, agentapi.EventSoftwareNote)
	if ev.Note.Text != "Thanks for telling us about Figma — it's approved for work, so you're all set." || ev.Note.RequestID != "r1" {
		t.Fatalf("approved: %+v", ev.Note)
	}
	h.serverFrame(t, protocol.KindSoftwareThanks, protocol.SoftwareThanks{TitleID: obsidianID(), Name: "Obsidian", Status: protocol.SoftwareNotForWork,
		Reason: "It keeps notes outside our backed-up storage", Alternative: "OneNote", RequestID: "r2"})
	ev = h.nextEvent(t, agentapi.EventSoftwareNote)
	if ev.Note.Text != "About Obsidian: It keeps notes outside our backed-up storage. OneNote is supported instead — reply to your request and we'll help you move over." ||
		ev.Note.Title != "About Obsidian" || ev.Note.Alternative != "OneNote" {
		t.Fatalf("not for work: %+v", ev.Note)
	}
	notes, err := h.SoftwareNotes(ctx)
	if err != nil || len(notes) != 2 || notes[0].TitleID != obsidianID() || notes[1].Status != protocol.SoftwareApproved {
		t.Fatalf("notes: %+v, %v", notes, err)
	}
}

func TestNoteWords(t *testing.T) {
	for _, tc := range []struct {
		in          protocol.SoftwareThanks
		title, text string
	}{
		{protocol.SoftwareThanks{Name: "Figma", Status: protocol.SoftwareApproved}, "Thanks for telling IT",
			"Thanks for telling us about Figma — it's approved for work, so you're all set."},
		{protocol.SoftwareThanks{Name: "Figma", Status: protocol.SoftwareApproved, Text: "Figma is fine — enjoy!"}, "Thanks for telling IT", "Figma is fine — enjoy!"},
		{protocol.SoftwareThanks{Name: "Dropbox", Status: protocol.SoftwareNotForWork, Reason: "Company files must stay in our storage.", Alternative: "OneDrive"},
			"About Dropbox", "About Dropbox: Company files must stay in our storage. OneDrive is supported instead — tell IT through Get help and we'll help you move over."},
		{protocol.SoftwareThanks{Name: "Dropbox", Status: protocol.SoftwareNotForWork, RequestID: "r"},
			"About Dropbox", "About Dropbox: Reply to your request and we'll help you move over."},
	} {
		title, text := NoteWords(tc.in)
		if title != tc.title || text != tc.text {
			t.Errorf("%+v:\n got %q %q\nwant %q %q", tc.in, title, text, tc.title, tc.text)
		}
	}
	if got := PromptText("Figma", "  "); got != "You use Figma. Is it for your work? Telling IT helps us keep it safe and supported — you're not in any trouble." {
		t.Errorf("default prompt: %q", got)
	}
}

// "Request an app": a software request, linked to the catalogue's title.
func TestRequestApp(t *testing.T) {
	ctx := context.Background()
	h := newSW(t, "", store.Options{}, nil)
	for _, bad := range []agentapi.AppRequest{{Name: "  "}, {Name: "Figma", TitleID: "figma"}} {
		if _, err := h.RequestApp(ctx, bad); !agentapi.IsCode(err, agentapi.CodeBadRequest) {
			t.Errorf("%+v: %v", bad, err)
		}
	}
	r, err := h.RequestApp(ctx, agentapi.AppRequest{TitleID: figmaID(), Name: " Figma ", Text: "For the design reviews."})
	if err != nil || r.Text != "Could I have Figma?\n\nFor the design reviews." || r.Category != protocol.CategorySoftware {
		t.Fatalf("request: %+v, %v", r, err)
	}
	items, _ := h.st.Pending(ctx)
	var env protocol.Envelope
	var rn protocol.RequestNew
	_ = json.Unmarshal(items[0].Frame, &env)
	if err := env.Decode(&rn); err != nil || rn.SoftwareTitle != figmaID() {
		t.Fatalf("request.new: %+v, %v", rn, err)
	}
	if r, err := h.RequestApp(ctx, agentapi.AppRequest{Name: "Blender"}); err != nil || r.Text != "Could I have Blender?" {
		t.Fatalf("without a title: %+v, %v", r, err)
	}
}

// The real collectors on this machine: whatever it has, the report is
// normalised and a set made of it fits a frame.
func TestCollectInstalledOnThisMachine(t *testing.T) {
	rep, err := CollectInstalled(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, statErr := os.Stat("/var/lib/dpkg/status"); statErr == nil && runtime.GOOS == "linux" && len(rep.Entries) == 0 {
		t.Fatal("this machine has a dpkg database, yet nothing was found")
	}
	set := mergeInventory(nil, rep, time.Now())
	if set.Hash != protocol.SoftwareHash(set.Entries) || len(set.Entries) > protocol.MaxSoftwareEntries {
		t.Fatalf("set of %d entries, hash %s", len(set.Entries), set.Hash)
	}
	t.Logf("%d entries, unreadable %v", len(set.Entries), set.Unreadable)
}

// With nobody listening (no tray, no window), a question is held, not
// spent: it is shown once someone listens.
func TestSoftwarePromptWaitsForSomeoneToShowIt(t *testing.T) {
	ctx := context.Background()
	h := newSW(t, "", store.Options{}, nil)
	h.setReport(SoftwareReport{Entries: []protocol.SoftwareEntry{eFigma}})
	if err := h.CollectSoftware(ctx); err != nil {
		t.Fatal(err)
	}
	h.unsubscribe()
	h.serverFrame(t, protocol.KindSoftwareAsk, protocol.SoftwareAsk{TitleID: figmaID(), Name: "Figma"})
	if a, _ := h.st.SoftwareAskFor(ctx, figmaID()); !a.ShownAt.IsZero() {
		t.Fatalf("shown with nobody listening: %+v", a)
	}
	events, cancel := h.subscribe()
	defer cancel()
	h.checkPrompts(ctx)
	select {
	case ev := <-events:
		if ev.Type != agentapi.EventSoftwarePrompt || ev.Prompt.TitleID != figmaID() {
			t.Fatalf("event: %+v", ev)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("no prompt once someone listens")
	}
}
