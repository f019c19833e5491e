package devicelink_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/deskside/deskside/server/internal/store"
	"github.com/deskside/deskside/server/servertest"
	"github.com/deskside/deskside/shared/protocol"
)

// Software inventories through the real gateway, hub and store, over real
// WebSockets (issue 15).

func connectSoftware(t *testing.T, d *servertest.Device) protocol.Welcome {
	t.Helper()
	return d.ConnectWith(t, protocol.Hello{AgentVersion: "1.2.0", OS: "linux", Arch: "amd64", Revision: protocol.Revision,
		Capabilities: []string{protocol.CapTelemetry, protocol.CapSoftware}})
}

// openStore opens a second handle on the server's store (SQLite allows
// it; on PostgreSQL it is the shared database), to look at what was kept.
func openStore(t *testing.T, s *servertest.Server) store.Store {
	t.Helper()
	var st *store.SQL
	var err error
	if s.Store() == "postgres" {
		st, err = store.OpenPostgres(context.Background(), s.DatabaseURL())
	} else {
		st, err = store.Open(context.Background(), s.DataDir())
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func inventory(n int, prefix string) protocol.SoftwareInventory {
	var es []protocol.SoftwareEntry
	for i := range n {
		es = append(es, protocol.SoftwareEntry{Name: fmt.Sprintf("%s-%04d", prefix, i), Version: "1.0", Source: protocol.SourceDpkg})
	}
	es, _ = protocol.NormalizeSoftware(es)
	return protocol.SoftwareInventory{Full: true, Hash: protocol.SoftwareHash(es), Entries: es, CollectedAt: time.Now().UTC()}
}

// waitReply reads frames until the ack, error or software.want that
// answers frame id.
func waitReply(t *testing.T, d *servertest.Device, id string) protocol.Envelope {
	t.Helper()
	for {
		env := d.Next(t)
		switch env.Type {
		case protocol.KindAck:
			var a protocol.Ack
			if env.Decode(&a) == nil && a.ID == id {
				return env
			}
		case protocol.KindError:
			var e protocol.Error
			if env.Decode(&e) == nil && e.Ref == id {
				return env
			}
		case protocol.KindSoftwareWant:
			return env
		}
	}
}

// expectEnded reads until the link ends: with close code, or reset while
// the client was still writing the frame the server refused.
func expectEnded(t *testing.T, c *websocket.Conn, code int) {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		_, _, err := c.ReadMessage()
		if err == nil {
			continue
		}
		var ce *websocket.CloseError
		var ne net.Error
		switch {
		case errors.As(err, &ce) && ce.Code != code:
			t.Fatalf("close code %d (%q), want %d", ce.Code, ce.Text, code)
		case errors.As(err, &ne) && ne.Timeout():
			t.Fatal("the link is still open")
		}
		return
	}
}

func ackRef(t *testing.T, env protocol.Envelope) string {
	t.Helper()
	var a protocol.Ack
	if env.Type != protocol.KindAck || env.Decode(&a) != nil {
		t.Fatalf("want an ack, got %s %s", env.Type, env.Body)
	}
	return a.Ref
}

func TestSoftwareInventoryAckWantWelcome(t *testing.T) {
	s := servertest.New(t)
	d := s.Enroll(t, "ana-laptop")
	if w := connectSoftware(t, d); w.SoftwareHash != "" || !strings.Contains(strings.Join(w.Capabilities, ","), protocol.CapSoftware) {
		t.Fatalf("welcome before any inventory: %+v", w)
	}
	full := inventory(1500, "pkg")
	id := d.Send(t, protocol.KindSoftwareInventory, full)
	if ref := ackRef(t, waitReply(t, d, id)); ref != full.Hash {
		t.Fatalf("ack ref %q, want %q", ref, full.Hash)
	}
	d.Close()
	if w := connectSoftware(t, d); w.SoftwareHash != full.Hash {
		t.Fatalf("welcome hash %q, want %q", w.SoftwareHash, full.Hash)
	}
	// A change list against a base the server does not hold: software.want.
	other := inventory(3, "zzz")
	added := []protocol.SoftwareEntry{{Name: "emacs", Version: "29", Source: protocol.SourceDpkg}}
	next := protocol.ApplySoftwareChanges(other.Entries, added, nil)
	id = d.Send(t, protocol.KindSoftwareInventory, protocol.SoftwareInventory{BaseHash: other.Hash, Hash: protocol.SoftwareHash(next), Added: added})
	env := waitReply(t, d, id)
	var want protocol.SoftwareWant
	if env.Type != protocol.KindSoftwareWant || env.Decode(&want) != nil || want.Reason != "base_unknown" || want.Have != full.Hash {
		t.Fatalf("stale base answered %s %s", env.Type, env.Body)
	}
	// A change list against what it holds: stored.
	next = protocol.ApplySoftwareChanges(full.Entries, added, nil)
	id = d.Send(t, protocol.KindSoftwareInventory, protocol.SoftwareInventory{BaseHash: full.Hash, Hash: protocol.SoftwareHash(next), Added: added})
	if ref := ackRef(t, waitReply(t, d, id)); ref != protocol.SoftwareHash(next) {
		t.Fatalf("change acked %q", ref)
	}
	st := openStore(t, s)
	if h, es, err := st.DeviceSoftware(context.Background(), d.ID); err != nil || h != protocol.SoftwareHash(next) || len(es) != 1501 {
		t.Fatalf("stored %q with %d entries, %v", h, len(es), err)
	}
}

// Bad inventories get a clear error (or a close for a frame over the size
// limit); the link stays usable and another desk's request goes through.
func TestSoftwareBadInput(t *testing.T) {
	s := servertest.New(t)
	bystander := s.Enroll(t, "bystander")
	bystander.Connect(t, 0)
	d := s.Enroll(t, "ana-laptop")
	connectSoftware(t, d)
	entry := func(name string) protocol.SoftwareEntry {
		return protocol.SoftwareEntry{Name: name, Version: "1", Source: protocol.SourceDpkg}
	}
	hash := "sha256:" + strings.Repeat("0", 64)
	many := make([]protocol.SoftwareEntry, 100_000)
	for i := range many {
		many[i] = protocol.SoftwareEntry{Name: fmt.Sprint(i), Source: protocol.SourceSnap}
	}
	for _, tc := range []struct {
		name, raw, words string
		inv              protocol.SoftwareInventory
	}{
		{name: "100,000 entries", inv: protocol.SoftwareInventory{Full: true, Hash: hash, Entries: many}, words: "at most 20000"},
		{name: "10 KB name", inv: protocol.SoftwareInventory{Full: true, Hash: hash, Entries: []protocol.SoftwareEntry{entry(strings.Repeat("n", 10_000))}}, words: "at most 200"},
		{name: "duplicates", inv: protocol.SoftwareInventory{Full: true, Hash: hash, Entries: []protocol.SoftwareEntry{entry("vim"), entry("vim")}}, words: "listed twice"},
		{name: "invalid UTF-8", raw: `{"v":1,"type":"software.inventory","id":"bad-utf8","ts":"2026-01-01T00:00:00Z","body":{"full":true,"hash":"` + hash + `","entries":[{"name":"caf` + "\xe9" + `","source":"dpkg"}]}}`, words: "UTF-8"},
		{name: "change list without base", inv: protocol.SoftwareInventory{Hash: hash, Added: []protocol.SoftwareEntry{entry("vim")}}, words: "base_hash"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id := "bad-utf8"
			if tc.raw != "" {
				if err := d.Conn.WriteMessage(websocket.TextMessage, []byte(tc.raw)); err != nil {
					t.Fatal(err)
				}
			} else {
				id = d.Send(t, protocol.KindSoftwareInventory, tc.inv)
			}
			env := waitReply(t, d, id)
			var e protocol.Error
			if env.Type != protocol.KindError || env.Decode(&e) != nil || e.Code != protocol.ErrBadBody || !strings.Contains(e.Message, tc.words) {
				t.Fatalf("answered %s %s, want bad_body saying %q", env.Type, env.Body, tc.words)
			}
			bystander.RaiseRequest(t, "my printer is jammed") // nothing else disturbed
			// The link stays usable: a good inventory is stored.
			good := inventory(3, tc.name)
			if ref := ackRef(t, waitReply(t, d, d.Send(t, protocol.KindSoftwareInventory, good))); ref != good.Hash {
				t.Fatalf("good inventory acked %q", ref)
			}
		})
	}
	t.Run("over the frame limit", func(t *testing.T) {
		big := make([]protocol.SoftwareEntry, 100_000)
		for i := range big {
			big[i] = entry(fmt.Sprintf("%s-%06d", strings.Repeat("x", 40), i))
		}
		env, err := protocol.New(protocol.KindSoftwareInventory, protocol.SoftwareInventory{Full: true, Hash: hash, Entries: big})
		if err != nil {
			t.Fatal(err)
		}
		frame, _ := env.Marshal()
		if len(frame) <= protocol.MaxFrameBytes {
			t.Fatalf("frame of %d bytes is within the limit", len(frame))
		}
		_ = d.Conn.WriteMessage(websocket.TextMessage, frame) // the server may close before it has read it all
		expectEnded(t, d.Conn, websocket.CloseMessageTooBig)
		bystander.RaiseRequest(t, "still fine")
		connectSoftware(t, d) // the desk reconnects and carries on
		good := inventory(2, "after")
		if ref := ackRef(t, waitReply(t, d, d.Send(t, protocol.KindSoftwareInventory, good))); ref != good.Hash {
			t.Fatalf("good inventory acked %q", ref)
		}
	})
	// Not the server's to change: the bad frames stored nothing.
	st := openStore(t, s)
	if h, _ := st.DeviceSoftwareHash(context.Background(), d.ID); h != inventory(2, "after").Hash {
		t.Fatalf("held hash %q", h)
	}
}

// The same inventory frame sent 40 times at once is stored once; every
// copy is acked with the same hash.
func TestSoftwareSameFrameFortyTimes(t *testing.T) {
	s := servertest.New(t)
	d := s.Enroll(t, "ana-laptop")
	connectSoftware(t, d)
	peer := s.Enroll(t, "ben-laptop")
	connectSoftware(t, peer)
	inv := inventory(200, "shared")
	env, err := protocol.New(protocol.KindSoftwareInventory, inv)
	if err != nil {
		t.Fatal(err)
	}
	frame, _ := env.Marshal()
	errs := make(chan error, 40)
	for range 40 {
		go func() { errs <- d.Conn.WriteMessage(websocket.TextMessage, frame) }()
		if err := <-errs; err != nil { // gorilla allows one writer at a time
			t.Fatal(err)
		}
	}
	peerID := peer.Send(t, protocol.KindSoftwareInventory, inv)
	for range 40 {
		if ref := ackRef(t, waitReply(t, d, env.ID)); ref != inv.Hash {
			t.Fatalf("ack ref %q", ref)
		}
	}
	ackRef(t, waitReply(t, peer, peerID))
	peer.RaiseRequest(t, "and my request")
	st := openStore(t, s).(*store.SQL)
	var devices int
	var at int64
	err = st.DB().QueryRowContext(context.Background(), st.Rebind("SELECT devices, (SELECT count(*) FROM seen_frames WHERE frame_id = ?) FROM software_titles WHERE id = ?"),
		env.ID, inv.Entries[0].TitleID()).Scan(&devices, &at)
	if err != nil || devices != 2 || at != 1 {
		t.Fatalf("title on %d devices, frame seen %d times, %v", devices, at, err)
	}
}

// With IT's prompt on, a new per-user install brings a software.ask (a
// sequenced frame); the answer is acked and stored.
func TestSoftwareAskAndAnswer(t *testing.T) {
	s := servertest.New(t)
	st := openStore(t, s)
	pol, _ := json.Marshal(store.SoftwarePolicy{Prompt: true})
	if err := st.SetMeta(context.Background(), "software.policy", string(pol)); err != nil {
		t.Fatal(err)
	}
	d := s.Enroll(t, "ana-laptop")
	connectSoftware(t, d)
	figma := protocol.SoftwareEntry{Name: "Figma", Version: "124.1", Source: protocol.SourceAppImage, PerUser: true}
	es, _ := protocol.NormalizeSoftware([]protocol.SoftwareEntry{figma, {Name: "bash", Version: "5", Source: protocol.SourceDpkg}})
	d.Send(t, protocol.KindSoftwareInventory, protocol.SoftwareInventory{Full: true, Hash: protocol.SoftwareHash(es), Entries: es})
	env := d.WaitFor(t, protocol.KindSoftwareAsk)
	var ask protocol.SoftwareAsk
	if err := env.Decode(&ask); err != nil || ask.TitleID != figma.TitleID() || ask.Name != "Figma" || env.Seq == 0 {
		t.Fatalf("ask %+v seq %d: %v", ask, env.Seq, err)
	}
	id := d.Send(t, protocol.KindSoftwareAnswer, protocol.SoftwareAnswer{TitleID: ask.TitleID, Answer: protocol.AnswerPersonal, At: time.Now()})
	if ref := ackRef(t, waitReply(t, d, id)); ref != ask.TitleID {
		t.Fatalf("answer acked %q", ref)
	}
}
