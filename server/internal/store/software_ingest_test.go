package store

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/deskside/deskside/server/internal/store/pgtest"
	"github.com/deskside/deskside/shared/protocol"
)

// The software ingest half of the conformance suite, run on both backends.
func testSoftwareIngest(t *testing.T, open func(t *testing.T) *SQL) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s *SQL)
	}{
		{"FullChangeResync", testSoftwareFullChangeResync},
		{"BatchFoldsTitles", testSoftwareBatchFoldsTitles},
		{"DuplicateFrames", testSoftwareDuplicateFrames},
		{"Asks", testSoftwareAsks},
		{"Answers", testSoftwareAnswers},
		{"ParallelBatches", testSoftwareParallelBatches},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, open(t))
		})
	}
}

func TestSoftwareIngestSQLite(t *testing.T) {
	testSoftwareIngest(t, func(t *testing.T) *SQL { return openSQLite(t, t.TempDir()) })
}

func TestSoftwareIngestPostgres(t *testing.T) {
	pgtest.URL(t)
	testSoftwareIngest(t, func(t *testing.T) *SQL { return openPostgres(t, pgtest.URL(t)) })
}

func swEntry(name, version string, src protocol.SoftwareSource, perUser bool) protocol.SoftwareEntry {
	return protocol.SoftwareEntry{Name: name, Version: version, Source: src, PerUser: perUser}
}

func fullInv(entries ...protocol.SoftwareEntry) protocol.SoftwareInventory {
	e, _ := protocol.NormalizeSoftware(entries)
	return protocol.SoftwareInventory{Full: true, Hash: protocol.SoftwareHash(e), Entries: e, CollectedAt: time.Now()}
}

func changeInv(base []protocol.SoftwareEntry, added, removed []protocol.SoftwareEntry) protocol.SoftwareInventory {
	next := protocol.ApplySoftwareChanges(base, added, removed)
	return protocol.SoftwareInventory{BaseHash: protocol.SoftwareHash(base), Hash: protocol.SoftwareHash(next),
		Added: added, Removed: removed, CollectedAt: time.Now()}
}

type titleRow struct {
	name, publisher, source, status string
	devices, perUser, told          int
	nums                            []uint32
}

func readTitle(t *testing.T, s *SQL, id string) (titleRow, bool) {
	t.Helper()
	var r titleRow
	var set []byte
	err := s.r.QueryRowContext(context.Background(), `SELECT name, publisher, source, status, devices, per_user_devices, told, device_set
		FROM software_titles WHERE id = ?`, id).Scan(&r.name, &r.publisher, &r.source, &r.status, &r.devices, &r.perUser, &r.told, &set)
	if err != nil {
		return r, false
	}
	bm := roaring.New()
	if len(set) > 0 {
		if err := bm.UnmarshalBinary(set); err != nil {
			t.Fatal(err)
		}
	}
	r.nums = bm.ToArray()
	return r, true
}

func deviceNum(t *testing.T, s *SQL, id string) uint32 {
	t.Helper()
	var n uint32
	if err := s.r.QueryRowContext(context.Background(), "SELECT num FROM device_software WHERE device_id = ?", id).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func versionDevices(t *testing.T, s *SQL, title, version string) int {
	t.Helper()
	var n int
	err := s.r.QueryRowContext(context.Background(), "SELECT devices FROM software_versions WHERE title_id = ? AND version = ?", title, version).Scan(&n)
	if err != nil {
		return -1
	}
	return n
}

func apply(t *testing.T, s *SQL, us ...InventoryUpdate) []InventoryOutcome {
	t.Helper()
	out, err := s.ApplyInventories(context.Background(), us)
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != len(us) {
		t.Fatalf("%d outcomes for %d updates", len(out), len(us))
	}
	return out
}

func testSoftwareFullChangeResync(t *testing.T, s *SQL) {
	ctx := context.Background()
	enroll(t, s, map[string]string{"a": "linux", "b": "linux"})
	now := time.Now()
	if h, err := s.DeviceSoftwareHash(ctx, "a"); err != nil || h != "" {
		t.Fatalf("hash before any inventory = %q, %v", h, err)
	}
	full := fullInv(swEntry("firefox", "120", protocol.SourceDpkg, false), swEntry("vim", "9.0", protocol.SourceDpkg, false),
		swEntry("Figma", "1.0", protocol.SourceAppImage, true))
	out := apply(t, s, InventoryUpdate{FrameID: "f1", DeviceID: "a", Inventory: full, At: now})
	if o := out[0]; o.Err != nil || o.Resync || o.Hash != full.Hash || o.NewTitles != 3 {
		t.Fatalf("full list: %+v", o)
	}
	hash, got, err := s.DeviceSoftware(ctx, "a")
	if err != nil || hash != full.Hash || !slices.Equal(got, full.Entries) {
		t.Fatalf("stored = %q %+v %v, want %q %+v", hash, got, err, full.Hash, full.Entries)
	}
	ff := protocol.SoftwareTitleID("firefox", "", protocol.SourceDpkg)
	if r, ok := readTitle(t, s, ff); !ok || r.devices != 1 || r.status != "new" || r.source != "dpkg" || r.name != "firefox" ||
		!slices.Equal(r.nums, []uint32{deviceNum(t, s, "a")}) {
		t.Fatalf("firefox = %+v %v", r, ok)
	}
	figma := protocol.SoftwareTitleID("Figma", "", protocol.SourceAppImage)
	if r, _ := readTitle(t, s, figma); r.perUser != 1 || r.source != "user-app" {
		t.Fatalf("figma = %+v", r)
	}

	// A change: firefox 120 → 121, vim removed.
	ch := changeInv(full.Entries, []protocol.SoftwareEntry{swEntry("firefox", "121", protocol.SourceDpkg, false)},
		[]protocol.SoftwareEntry{swEntry("firefox", "120", protocol.SourceDpkg, false), swEntry("vim", "9.0", protocol.SourceDpkg, false)})
	out = apply(t, s, InventoryUpdate{FrameID: "f2", DeviceID: "a", Inventory: ch, At: now.Add(time.Minute)})
	if o := out[0]; o.Err != nil || o.Resync || o.Hash != ch.Hash || o.NewTitles != 0 {
		t.Fatalf("change: %+v", o)
	}
	if r, _ := readTitle(t, s, ff); r.devices != 1 {
		t.Fatalf("firefox after upgrade = %+v", r)
	}
	if n120, n121 := versionDevices(t, s, ff, "120"), versionDevices(t, s, ff, "121"); n120 != 0 || n121 != 1 {
		t.Fatalf("firefox versions 120: %d, 121: %d", n120, n121)
	}
	if r, _ := readTitle(t, s, protocol.SoftwareTitleID("vim", "", protocol.SourceDpkg)); r.devices != 0 || len(r.nums) != 0 {
		t.Fatalf("vim after removal = %+v", r)
	}

	// A change against a base the server does not hold: resync, nothing stored.
	stale := changeInv(full.Entries, []protocol.SoftwareEntry{swEntry("emacs", "29", protocol.SourceDpkg, false)}, nil)
	out = apply(t, s, InventoryUpdate{FrameID: "f3", DeviceID: "a", Inventory: stale, At: now})
	if o := out[0]; !o.Resync || o.Hash != ch.Hash {
		t.Fatalf("stale base: %+v", o)
	}
	// A change whose result does not hash to what the agent says: resync.
	_, cur, _ := s.DeviceSoftware(ctx, "a")
	lie := changeInv(cur, []protocol.SoftwareEntry{swEntry("emacs", "29", protocol.SourceDpkg, false)}, nil)
	lie.Hash = full.Hash
	out = apply(t, s, InventoryUpdate{FrameID: "f4", DeviceID: "a", Inventory: lie, At: now})
	if o := out[0]; !o.Resync || o.Hash != ch.Hash {
		t.Fatalf("wrong hash: %+v", o)
	}
	if _, ok := readTitle(t, s, protocol.SoftwareTitleID("emacs", "", protocol.SourceDpkg)); ok {
		t.Fatal("a resync stored a title")
	}
	// A change list for a device with nothing stored: resync.
	out = apply(t, s, InventoryUpdate{FrameID: "g1", DeviceID: "b", Inventory: ch, At: now})
	if o := out[0]; !o.Resync || o.Hash != "" {
		t.Fatalf("change without a base: %+v", o)
	}
	// A frame that breaks the limits is refused alone.
	bad := fullInv(swEntry("x", "1", protocol.SourceDpkg, false))
	bad.Entries = append(bad.Entries, bad.Entries[0])
	out = apply(t, s, InventoryUpdate{FrameID: "g2", DeviceID: "b", Inventory: bad, At: now},
		InventoryUpdate{FrameID: "g3", DeviceID: "b", Inventory: full, At: now})
	if out[0].Err == nil || out[1].Err != nil || out[1].Hash != full.Hash {
		t.Fatalf("bad then good: %+v", out)
	}
	if h, _ := s.DeviceSoftwareHash(ctx, "b"); h != full.Hash {
		t.Fatalf("b's hash = %q", h)
	}
}

func testSoftwareBatchFoldsTitles(t *testing.T, s *SQL) {
	devs := map[string]string{}
	for i := range 6 {
		devs[fmt.Sprintf("d%d", i)] = "linux"
	}
	enroll(t, s, devs)
	now := time.Now()
	var us []InventoryUpdate
	for i := range 6 {
		es := []protocol.SoftwareEntry{swEntry("bash", "5.2", protocol.SourceDpkg, false), swEntry("own-tool", "1", protocol.SourceDpkg, false)}
		if i%2 == 0 {
			es = append(es, swEntry("Slack", fmt.Sprint(10+i), protocol.SourceFlatpak, true))
		} else {
			es = append(es, swEntry("Slack", "4", protocol.SourceFlatpak, false))
		}
		es[1].Name = fmt.Sprintf("own-tool-%d", i)
		us = append(us, InventoryUpdate{FrameID: "f", DeviceID: fmt.Sprintf("d%d", i), Inventory: fullInv(es...), At: now})
	}
	out := apply(t, s, us...)
	newTitles := 0
	for _, o := range out {
		newTitles += o.NewTitles
	}
	if newTitles != 2+6 {
		t.Fatalf("new titles = %d, want 8", newTitles)
	}
	var nums []uint32
	for i := range 6 {
		nums = append(nums, deviceNum(t, s, fmt.Sprintf("d%d", i)))
	}
	slices.Sort(nums)
	slack := protocol.SoftwareTitleID("Slack", "", protocol.SourceFlatpak)
	if r, _ := readTitle(t, s, slack); r.devices != 6 || r.perUser != 3 || !slices.Equal(r.nums, nums) {
		t.Fatalf("slack = %+v, want 6 devices %v, 3 per user", r, nums)
	}
	if n := versionDevices(t, s, slack, "4"); n != 3 {
		t.Fatalf("slack 4 on %d devices", n)
	}
	// Half the fleet drops Slack in the next batch.
	us = us[:0]
	for i := range 3 {
		es := []protocol.SoftwareEntry{swEntry("bash", "5.2", protocol.SourceDpkg, false), swEntry(fmt.Sprintf("own-tool-%d", i), "1", protocol.SourceDpkg, false)}
		us = append(us, InventoryUpdate{FrameID: "g", DeviceID: fmt.Sprintf("d%d", i), Inventory: fullInv(es...), At: now})
	}
	apply(t, s, us...)
	if r, _ := readTitle(t, s, slack); r.devices != 3 || r.perUser != 1 || !slices.Equal(r.nums, nums[3:]) {
		t.Fatalf("slack after removal = %+v", r)
	}
	if r, _ := readTitle(t, s, protocol.SoftwareTitleID("bash", "", protocol.SourceDpkg)); r.devices != 6 || len(r.nums) != 6 {
		t.Fatalf("bash = %+v", r)
	}
}

func testSoftwareDuplicateFrames(t *testing.T, s *SQL) {
	enroll(t, s, map[string]string{"a": "linux"})
	inv := fullInv(swEntry("git", "2.43", protocol.SourceDpkg, false))
	u := InventoryUpdate{FrameID: "same", DeviceID: "a", Inventory: inv, At: time.Now()}
	out := apply(t, s, u, u, u)
	for _, o := range out {
		if o.Hash != inv.Hash || o.Resync || o.Err != nil {
			t.Fatalf("outcomes: %+v", out)
		}
	}
	// The same frame id later with other content: held, nothing changed.
	other := u
	other.Inventory = fullInv(swEntry("hg", "6", protocol.SourceDpkg, false))
	out = apply(t, s, other)
	if out[0].Hash != inv.Hash {
		t.Fatalf("duplicate frame id: %+v", out[0])
	}
	if r, _ := readTitle(t, s, protocol.SoftwareTitleID("git", "", protocol.SourceDpkg)); r.devices != 1 {
		t.Fatalf("git = %+v", r)
	}
	if _, ok := readTitle(t, s, protocol.SoftwareTitleID("hg", "", protocol.SourceDpkg)); ok {
		t.Fatal("a duplicate frame stored a title")
	}
}

func setPolicy(t *testing.T, s *SQL, p SoftwarePolicy) {
	t.Helper()
	b, _ := json.Marshal(p)
	if err := s.SetMeta(context.Background(), "software.policy", string(b)); err != nil {
		t.Fatal(err)
	}
}

func testSoftwareAsks(t *testing.T, s *SQL) {
	ctx := context.Background()
	enroll(t, s, map[string]string{"a": "linux", "b": "linux"})
	figma := swEntry("Figma", "1", protocol.SourceAppImage, true)
	dpkg := swEntry("curl", "8", protocol.SourceDpkg, false)
	// Prompt off (no policy): no asks.
	out := apply(t, s, InventoryUpdate{FrameID: "1", DeviceID: "a", Inventory: fullInv(figma, dpkg), At: time.Now()})
	if len(out[0].Asks) != 0 {
		t.Fatalf("asks with the prompt off: %+v", out[0].Asks)
	}
	setPolicy(t, s, SoftwarePolicy{Prompt: true, PromptText: "Tell us?"})
	// b installs Figma (per user) and curl: one ask, about Figma.
	out = apply(t, s, InventoryUpdate{FrameID: "1", DeviceID: "b", Inventory: fullInv(figma, dpkg), At: time.Now()})
	if len(out[0].Asks) != 1 {
		t.Fatalf("asks = %+v", out[0].Asks)
	}
	d := out[0].Asks[0]
	env, err := protocol.Parse(d.Bytes())
	if err != nil || env.Type != protocol.KindSoftwareAsk || env.Seq != d.Seq || d.DeviceID != "b" {
		t.Fatalf("ask frame %s: %+v %v", d.Bytes(), env, err)
	}
	var ask protocol.SoftwareAsk
	if err := json.Unmarshal(env.Body, &ask); err != nil || ask.TitleID != figma.TitleID() || ask.Text != "Tell us?" || ask.Name != "Figma" {
		t.Fatalf("ask = %+v %v", ask, err)
	}
	if rep, err := s.Replay(ctx, "b", 0); err != nil || len(rep) != 1 || rep[0].Seq != d.Seq {
		t.Fatalf("replay = %+v %v", rep, err)
	}
	// A new version of Figma on b: asked already, no second ask.
	_, cur, _ := s.DeviceSoftware(ctx, "b")
	figma2 := swEntry("Figma", "2", protocol.SourceAppImage, true)
	out = apply(t, s, InventoryUpdate{FrameID: "2", DeviceID: "b", Inventory: changeInv(cur, []protocol.SoftwareEntry{figma2}, []protocol.SoftwareEntry{figma}), At: time.Now()})
	if out[0].Resync || len(out[0].Asks) != 0 {
		t.Fatalf("second version: %+v", out[0])
	}
	// An approved title is never asked about.
	zoom := swEntry("Zoom", "5", protocol.SourceAppImage, true)
	if _, err := s.w.ExecContext(ctx, `INSERT INTO software_titles(id, name, source, status, first_seen, last_seen)
		VALUES(?, 'Zoom', 'user-app', 'approved', 1, 1)`, zoom.TitleID()); err != nil {
		t.Fatal(err)
	}
	_, cur, _ = s.DeviceSoftware(ctx, "a")
	out = apply(t, s, InventoryUpdate{FrameID: "2", DeviceID: "a", Inventory: changeInv(cur, []protocol.SoftwareEntry{zoom}, nil), At: time.Now()})
	if out[0].Resync || len(out[0].Asks) != 0 {
		t.Fatalf("approved title: %+v", out[0])
	}
	if r, _ := readTitle(t, s, zoom.TitleID()); r.devices != 1 || r.status != "approved" {
		t.Fatalf("zoom = %+v", r)
	}
}

func testSoftwareAnswers(t *testing.T, s *SQL) {
	ctx := context.Background()
	enroll(t, s, map[string]string{"a": "linux", "b": "linux"})
	figma := swEntry("Figma", "1", protocol.SourceAppImage, true)
	apply(t, s, InventoryUpdate{FrameID: "1", DeviceID: "a", Inventory: fullInv(figma), At: time.Now()})
	id := figma.TitleID()
	req := Request{ID: "req_1", DeviceID: "a", Category: protocol.CategorySoftware, Urgency: protocol.UrgencyWhenYouCan,
		Status: protocol.StatusNew, Text: "I use Figma for the mock-ups", SoftwareTitle: id, CreatedAt: time.Now(), UpdatedAt: time.Now()}
	if _, err := s.CreateRequest(ctx, "r1", req, nil); err != nil {
		t.Fatal(err)
	}
	var linked string
	if err := s.r.QueryRowContext(ctx, "SELECT software_title FROM requests WHERE id = 'req_1'").Scan(&linked); err != nil || linked != id {
		t.Fatalf("request.new linked %q, %v", linked, err)
	}
	if _, err := s.w.ExecContext(ctx, "UPDATE requests SET software_title = '' WHERE id = 'req_1'"); err != nil {
		t.Fatal(err)
	}
	res, err := s.RecordSoftwareAnswer(ctx, "ans1", "a", protocol.SoftwareAnswer{TitleID: id, Answer: protocol.AnswerForWork, RequestID: "req_1"}, time.Now())
	if err != nil || res.Duplicate || res.Ref != id {
		t.Fatalf("answer: %+v %v", res, err)
	}
	if res, err := s.RecordSoftwareAnswer(ctx, "ans1", "a", protocol.SoftwareAnswer{TitleID: id, Answer: protocol.AnswerForWork}, time.Now()); err != nil || !res.Duplicate {
		t.Fatalf("same frame again: %+v %v", res, err)
	}
	if r, _ := readTitle(t, s, id); r.told != 1 {
		t.Fatalf("told = %d", r.told)
	}
	if err := s.r.QueryRowContext(ctx, "SELECT software_title FROM requests WHERE id = 'req_1'").Scan(&linked); err != nil || linked != id {
		t.Fatalf("answer linked %q, %v", linked, err)
	}
	// b cannot link a's request.
	if _, err := s.RecordSoftwareAnswer(ctx, "x", "b", protocol.SoftwareAnswer{TitleID: "sw_other", Answer: protocol.AnswerForWork, RequestID: "req_1"}, time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := s.r.QueryRowContext(ctx, "SELECT software_title FROM requests WHERE id = 'req_1'").Scan(&linked); err != nil || linked != id {
		t.Fatalf("another device relinked to %q, %v", linked, err)
	}
	// The last answer wins; told follows it.
	if _, err := s.RecordSoftwareAnswer(ctx, "ans2", "a", protocol.SoftwareAnswer{TitleID: id, Answer: protocol.AnswerPersonal}, time.Now()); err != nil {
		t.Fatal(err)
	}
	var answer, reqID string
	if err := s.r.QueryRowContext(ctx, "SELECT answer, request_id FROM software_answers WHERE title_id = ? AND device_id = 'a'", id).Scan(&answer, &reqID); err != nil ||
		answer != "personal" || reqID != "req_1" {
		t.Fatalf("answer = %q %q %v", answer, reqID, err)
	}
	if r, _ := readTitle(t, s, id); r.told != 0 {
		t.Fatalf("told after personal = %d", r.told)
	}
}

// Batches from several callers at once (two nodes on PostgreSQL take the
// same path) add up: no lost counts.
func testSoftwareParallelBatches(t *testing.T, s *SQL) {
	devs := map[string]string{}
	for i := range 16 {
		devs[fmt.Sprintf("p%02d", i)] = "linux"
	}
	enroll(t, s, devs)
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for b := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var us []InventoryUpdate
			for i := b * 4; i < b*4+4; i++ {
				inv := fullInv(swEntry("shared", "1", protocol.SourceRPM, false), swEntry(fmt.Sprintf("tail-%d", i%3), "1", protocol.SourceRPM, false))
				us = append(us, InventoryUpdate{FrameID: "f", DeviceID: fmt.Sprintf("p%02d", i), Inventory: inv, At: time.Now()})
			}
			_, err := s.ApplyInventories(context.Background(), us)
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if r, _ := readTitle(t, s, protocol.SoftwareTitleID("shared", "", protocol.SourceRPM)); r.devices != 16 || len(r.nums) != 16 {
		t.Fatalf("shared = %+v", r)
	}
	total := 0
	for i := range 3 {
		r, _ := readTitle(t, s, protocol.SoftwareTitleID(fmt.Sprintf("tail-%d", i), "", protocol.SourceRPM))
		if len(r.nums) != r.devices {
			t.Fatalf("tail-%d: %d devices, bitmap %v", i, r.devices, r.nums)
		}
		total += r.devices
	}
	if total != 16 {
		t.Fatalf("tail titles hold %d devices, want 16", total)
	}
}

func TestSoftwareBlob(t *testing.T) {
	in, _ := protocol.NormalizeSoftware([]protocol.SoftwareEntry{
		{Name: "Visual Studio Code", Version: "1.95.3", Publisher: "Microsoft Corporation", Source: protocol.SourceRegistryUser, PerUser: true, AppID: "{771FD6B0}"},
		{Name: "zsh", Version: "5.9", Source: protocol.SourceDpkg},
		{Name: "Écran", Source: protocol.SourceAppBundle, AppID: "fr.ecran"},
	})
	blob, err := encodeSoftware(in)
	if err != nil {
		t.Fatal(err)
	}
	out, err := decodeSoftware(blob)
	if err != nil || !slices.Equal(in, out) {
		t.Fatalf("round trip: %+v %v, want %+v", out, err, in)
	}
	if out, err := decodeSoftware(nil); err != nil || len(out) != 0 {
		t.Fatalf("empty blob: %+v %v", out, err)
	}
	if _, err := decodeSoftware([]byte("not deflate")); err == nil {
		t.Fatal("garbage decoded")
	}
}

func FuzzDecodeSoftware(f *testing.F) {
	blob, _ := encodeSoftware([]protocol.SoftwareEntry{{Name: "a", Version: "1", Source: protocol.SourceSnap}})
	f.Add(blob)
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		es, err := decodeSoftware(b)
		if err != nil {
			return
		}
		again, err := encodeSoftware(es)
		if err != nil {
			t.Fatalf("decoded entries do not encode: %v", err)
		}
		if es2, err := decodeSoftware(again); err != nil || !slices.Equal(es, es2) {
			t.Fatalf("round trip changed %+v to %+v (%v)", es, es2, err)
		}
	})
}
