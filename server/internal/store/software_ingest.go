package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/deskside/deskside/shared/protocol"
)

// titleIDs memoises SoftwareTitleID (a SHA-256 over normalised strings)
// by an entry's title parts: a batch of fifty full lists asks for 75,000
// ids, mostly the same 1,500. Bounded: cleared when it grows past
// titleIDsMax, which a fleet's ~50,000 titles stay well under.
var titleIDs = struct {
	sync.Mutex
	m map[[3]string]string
}{m: map[[3]string]string{}}

const titleIDsMax = 400_000

func titleOf(e protocol.SoftwareEntry) string {
	k := [3]string{e.Name, e.Publisher, e.Source.Family()}
	titleIDs.Lock()
	id, ok := titleIDs.m[k]
	titleIDs.Unlock()
	if ok {
		return id
	}
	id = e.TitleID()
	titleIDs.Lock()
	if len(titleIDs.m) >= titleIDsMax {
		titleIDs.m = map[[3]string]string{}
	}
	titleIDs.m[k] = id
	titleIDs.Unlock()
	return id
}

// titleAgg is what one device's set says about one title.
type titleAgg struct {
	perUser bool
	vers    []string // distinct versions
	first   protocol.SoftwareEntry
}

func aggregate(entries []protocol.SoftwareEntry) map[string]*titleAgg {
	m := make(map[string]*titleAgg, len(entries))
	for _, e := range entries {
		id := titleOf(e)
		a := m[id]
		if a == nil {
			a = &titleAgg{first: e}
			m[id] = a
		}
		a.perUser = a.perUser || e.PerUser
		if !slices.Contains(a.vers, e.Version) {
			a.vers = append(a.vers, e.Version)
		}
	}
	return m
}

// devState is a device's inventory as the batch has left it so far.
type devState struct {
	num       int64 // device_software.num; 0 before the device has a row
	hash      string
	truncated bool
	blob      []byte
	entries   []protocol.SoftwareEntry
	decoded   bool
	changed   bool
	at        time.Time
}

func (d *devState) set() ([]protocol.SoftwareEntry, error) {
	if !d.decoded {
		e, err := decodeSoftware(d.blob)
		if err != nil {
			return nil, err
		}
		d.entries, d.decoded = e, true
	}
	return d.entries, nil
}

// titleDelta is what a batch does to one title.
type titleDelta struct {
	first    protocol.SoftwareEntry // name/publisher/source of a title the batch creates
	devices  int
	perUser  int
	at       time.Time
	presence map[string]bool // device id → has it after the batch
	by       int             // the update that first touched it (NewTitles)
}

type verKey struct{ title, version string }

type verDelta struct {
	devices int
	at      time.Time
}

type askWant struct {
	deviceID string
	entry    protocol.SoftwareEntry
	title    string
}

// ingest is one ApplyInventories transaction's working state.
type ingest struct {
	devices map[string]*devState
	titles  map[string]*titleDelta
	vers    map[verKey]*verDelta
	asks    []askWant
	prompt  bool
	text    string
}

// ApplyInventories absorbs a batch of inventories in one transaction (see
// software.go for the storage): each device's new set is computed and
// diffed against the stored one, the diffs of all devices are folded into
// per-title and per-version deltas, and each touched title is written once.
func (s *SQL) ApplyInventories(ctx context.Context, updates []InventoryUpdate) ([]InventoryOutcome, error) {
	if len(updates) == 0 {
		return nil, nil
	}
	var out []InventoryOutcome
	err := s.tx(ctx, func(tx handle) error {
		var err error
		out, err = s.applyInventoriesTx(ctx, tx, updates)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store %d inventories: %w", len(updates), err)
	}
	return out, nil
}

func (s *SQL) applyInventoriesTx(ctx context.Context, tx handle, updates []InventoryUpdate) ([]InventoryOutcome, error) {
	out := make([]InventoryOutcome, len(updates))
	in := &ingest{devices: map[string]*devState{}, titles: map[string]*titleDelta{}, vers: map[verKey]*verDelta{}}
	if err := in.loadPolicy(ctx, tx); err != nil {
		return nil, err
	}
	if err := in.loadDevices(ctx, tx, updates); err != nil {
		return nil, err
	}
	claimed := map[[2]string]bool{}
	for i, u := range updates {
		d := in.devices[u.DeviceID]
		k := [2]string{u.DeviceID, u.FrameID}
		if claimed[k] {
			out[i].Hash = d.hash
			continue
		}
		var seen int
		err := tx.QueryRowContext(ctx, "SELECT 1 FROM seen_frames WHERE device_id = ? AND frame_id = ?", u.DeviceID, u.FrameID).Scan(&seen)
		if err == nil {
			out[i].Hash = d.hash
			continue
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return nil, err
		}
		stored, err := in.apply(i, u, &out[i])
		if err != nil {
			return nil, fmt.Errorf("inventory of %s: %w", u.DeviceID, err)
		}
		if !stored {
			continue
		}
		claimed[k] = true
		_, err = tx.ExecContext(ctx, "INSERT INTO seen_frames(device_id, frame_id, ref, at) VALUES(?,?,?,?)",
			u.DeviceID, u.FrameID, d.hash, ms(time.Now()))
		if err != nil {
			return nil, err
		}
	}
	if err := in.writeDevices(ctx, tx); err != nil {
		return nil, err
	}
	created, status, err := in.writeTitles(ctx, tx)
	if err != nil {
		return nil, err
	}
	for id := range created {
		out[in.titles[id].by].NewTitles++
	}
	if err := in.writeVersions(ctx, tx); err != nil {
		return nil, err
	}
	return out, in.ask(ctx, tx, status, updates, out)
}

// loadPolicy reads IT's amnesty policy, which the console half stores in
// meta under "software.policy" (JSON of SoftwarePolicy); absent: prompt off.
func (in *ingest) loadPolicy(ctx context.Context, tx handle) error {
	var v string
	err := tx.QueryRowContext(ctx, "SELECT value FROM meta WHERE key = 'software.policy'").Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read software policy: %w", err)
	}
	var p SoftwarePolicy
	if err := json.Unmarshal([]byte(v), &p); err != nil {
		return fmt.Errorf("read software policy: %w", err)
	}
	in.prompt, in.text = p.Prompt, p.PromptText
	return nil
}

func (in *ingest) loadDevices(ctx context.Context, tx handle, updates []InventoryUpdate) error {
	var ids []string
	for _, u := range updates {
		if in.devices[u.DeviceID] == nil {
			in.devices[u.DeviceID] = &devState{decoded: true}
			ids = append(ids, u.DeviceID)
		}
	}
	slices.Sort(ids) // lock order on PostgreSQL
	arg, err := json.Marshal(ids)
	if err != nil {
		return err
	}
	rows, err := tx.QueryContext(ctx, "SELECT device_id, num, hash, truncated, blob FROM device_software WHERE device_id IN ("+
		jsonStrings(tx.d)+") ORDER BY device_id"+tx.d.lock(""), string(arg))
	if err != nil {
		return fmt.Errorf("read inventories: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		d := &devState{}
		if err := rows.Scan(&id, &d.num, &d.hash, &d.truncated, &d.blob); err != nil {
			return fmt.Errorf("read inventories: %w", err)
		}
		in.devices[id] = d
	}
	return rows.Err()
}

// apply computes update i's new set and folds its diff into the deltas. It
// reports whether the update was stored (false: refused or a resync).
func (in *ingest) apply(i int, u InventoryUpdate, o *InventoryOutcome) (bool, error) {
	d := in.devices[u.DeviceID]
	inv := &u.Inventory
	o.Hash = d.hash
	if err := inv.Validate(); err != nil {
		o.Err = err
		return false, nil
	}
	if inv.Full && inv.Hash == d.hash && d.num != 0 {
		return true, nil // the same set again: nothing to change
	}
	old, err := d.set()
	if err != nil {
		return false, err
	}
	var next []protocol.SoftwareEntry
	if inv.Full {
		next = slices.Clone(inv.Entries)
		slices.SortFunc(next, func(a, b protocol.SoftwareEntry) int {
			switch {
			case a.Less(b):
				return -1
			case b.Less(a):
				return 1
			}
			return 0
		})
	} else {
		if inv.BaseHash != d.hash || d.hash == "" {
			o.Resync = true
			return false, nil
		}
		next = protocol.ApplySoftwareChanges(old, inv.Added, inv.Removed)
	}
	if protocol.SoftwareHash(next) != inv.Hash {
		o.Resync = true
		return false, nil
	}
	in.fold(i, u.DeviceID, old, next, u.At)
	d.entries, d.hash, d.truncated, d.changed, d.at = next, inv.Hash, inv.Truncated, true, u.At
	o.Hash = d.hash
	return true, nil
}

// fold adds one device's change from old to next to the batch's deltas.
func (in *ingest) fold(i int, deviceID string, old, next []protocol.SoftwareEntry, at time.Time) {
	oa, na := aggregate(old), aggregate(next)
	touch := func(id string, first protocol.SoftwareEntry) *titleDelta {
		t := in.titles[id]
		if t == nil {
			t = &titleDelta{first: first, presence: map[string]bool{}, by: i}
			in.titles[id] = t
		}
		if at.After(t.at) {
			t.at = at
		}
		return t
	}
	ver := func(id, v string, n int) {
		k := verKey{id, v}
		vd := in.vers[k]
		if vd == nil {
			vd = &verDelta{}
			in.vers[k] = vd
		}
		vd.devices += n
		if at.After(vd.at) {
			vd.at = at
		}
	}
	for id, n := range na {
		o := oa[id]
		if o == nil {
			t := touch(id, n.first)
			t.devices++
			t.perUser += b2i(n.perUser)
			t.presence[deviceID] = true
			for _, v := range n.vers {
				ver(id, v, 1)
			}
			continue
		}
		if o.perUser == n.perUser && slices.Equal(o.vers, n.vers) {
			continue
		}
		t := touch(id, n.first)
		t.perUser += b2i(n.perUser) - b2i(o.perUser)
		for _, v := range n.vers {
			if !slices.Contains(o.vers, v) {
				ver(id, v, 1)
			}
		}
		for _, v := range o.vers {
			if !slices.Contains(n.vers, v) {
				ver(id, v, -1)
			}
		}
	}
	for id, o := range oa {
		if na[id] != nil {
			continue
		}
		t := touch(id, o.first)
		t.devices--
		t.perUser -= b2i(o.perUser)
		t.presence[deviceID] = false
		for _, v := range o.vers {
			ver(id, v, -1)
		}
	}
	if !in.prompt {
		return
	}
	had := map[protocol.SoftwareEntry]bool{}
	for _, e := range old {
		if e.PerUser {
			had[e] = true
		}
	}
	for _, e := range next {
		if e.PerUser && !had[e] {
			in.asks = append(in.asks, askWant{deviceID: deviceID, entry: e, title: titleOf(e)})
		}
	}
}

// writeDevices stores each changed device's set as one blob and learns
// the numbers of devices new to the table (the bitmaps need them).
func (in *ingest) writeDevices(ctx context.Context, tx handle) error {
	ids := make([]string, 0, len(in.devices))
	for id, d := range in.devices {
		if d.changed {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	for _, id := range ids {
		d := in.devices[id]
		blob, err := encodeSoftware(d.entries)
		if err != nil {
			return err
		}
		err = tx.QueryRowContext(ctx, `INSERT INTO device_software(device_id, hash, entries, truncated, blob, updated_at)
			VALUES(?,?,?,?,?,?) ON CONFLICT(device_id) DO UPDATE SET hash = excluded.hash, entries = excluded.entries,
			truncated = excluded.truncated, blob = excluded.blob, updated_at = excluded.updated_at RETURNING num`,
			id, d.hash, len(d.entries), b2i(d.truncated), blob, ms(d.at)).Scan(&d.num)
		if err != nil {
			return fmt.Errorf("store inventory of %s: %w", id, err)
		}
	}
	return nil
}

// storedTitle is a title row as the batch reads it.
type storedTitle struct {
	status           protocol.SoftwareStatus
	devices, perUser int
	set              []byte
}

// writeTitles applies the title deltas: titles new to the registry are
// inserted, the others read (locked) and written once each. It returns
// the ids it created and every touched title's status.
func (in *ingest) writeTitles(ctx context.Context, tx handle) (map[string]bool, map[string]protocol.SoftwareStatus, error) {
	ids := make([]string, 0, len(in.titles))
	for id := range in.titles {
		ids = append(ids, id)
	}
	for _, a := range in.asks {
		if in.titles[a.title] == nil {
			ids = append(ids, a.title) // its status decides the ask
		}
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	stored, err := readTitles(ctx, tx, ids)
	if err != nil {
		return nil, nil, err
	}
	status := make(map[string]protocol.SoftwareStatus, len(ids))
	var missing []string
	for _, id := range ids {
		if st, ok := stored[id]; ok {
			status[id] = st.status
		} else if in.titles[id] != nil {
			missing = append(missing, id)
		}
	}
	created, err := in.insertTitles(ctx, tx, missing)
	if err != nil {
		return nil, nil, err
	}
	var raced []string
	for _, id := range missing {
		status[id] = protocol.SoftwareNew
		if !created[id] {
			raced = append(raced, id) // another node created it meanwhile
		}
	}
	if len(raced) > 0 {
		more, err := readTitles(ctx, tx, raced)
		if err != nil {
			return nil, nil, err
		}
		for id, st := range more {
			stored[id] = st
			status[id] = st.status
		}
	}
	// The titles that were there: one multi-row upsert that lands on the
	// update path (the rows exist and are locked).
	type row struct {
		id  string
		t   *titleDelta
		st  storedTitle
		set []byte
	}
	var rows []row
	for _, id := range ids {
		t, st := in.titles[id], stored[id]
		if t == nil || created[id] {
			continue
		}
		if _, ok := stored[id]; !ok {
			continue
		}
		set, err := applyPresence(st.set, t.presence, in.devices)
		if err != nil {
			return nil, nil, fmt.Errorf("title %s: %w", id, err)
		}
		rows = append(rows, row{id, t, st, set})
	}
	for part := range slices.Chunk(rows, 400) {
		args := make([]any, 0, len(part)*8)
		for _, r := range part {
			args = append(args, r.id, r.t.first.Name, r.t.first.Source.Family(), ms(r.t.at), ms(r.t.at),
				max(0, r.st.devices+r.t.devices), max(0, r.st.perUser+r.t.perUser), r.set)
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO software_titles(id, name, source, first_seen, last_seen, devices, per_user_devices, device_set)
			VALUES `+strings.TrimSuffix(strings.Repeat("(?,?,?,?,?,?,?,?),", len(part)), ",")+`
			ON CONFLICT(id) DO UPDATE SET devices = excluded.devices, per_user_devices = excluded.per_user_devices,
			last_seen = excluded.last_seen, device_set = excluded.device_set`, args...)
		if err != nil {
			return nil, nil, fmt.Errorf("update %d titles: %w", len(part), err)
		}
	}
	return created, status, nil
}

func readTitles(ctx context.Context, tx handle, ids []string) (map[string]storedTitle, error) {
	out := make(map[string]storedTitle, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	arg, err := json.Marshal(ids)
	if err != nil {
		return nil, err
	}
	rows, err := tx.QueryContext(ctx, "SELECT id, status, devices, per_user_devices, device_set FROM software_titles WHERE id IN ("+
		jsonStrings(tx.d)+") ORDER BY id"+tx.d.lock(""), string(arg))
	if err != nil {
		return nil, fmt.Errorf("read titles: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var st storedTitle
		if err := rows.Scan(&id, &st.status, &st.devices, &st.perUser, &st.set); err != nil {
			return nil, fmt.Errorf("read titles: %w", err)
		}
		out[id] = st
	}
	return out, rows.Err()
}

// jsonStrings is a subquery of the strings in a JSON array passed as one
// parameter: one statement for thousands of ids, and one plan (a list of
// placeholders makes PostgreSQL plan each length anew, and its generic
// plan for a long list turned into a scan of the whole table).
func jsonStrings(d *dialect) string {
	if d.postgres {
		return "SELECT json_array_elements_text(?::json)"
	}
	return "SELECT value FROM json_each(?)"
}

// insertTitles creates titles new to the registry with the batch's counts
// and reports which it created (on PostgreSQL another node may have won).
func (in *ingest) insertTitles(ctx context.Context, tx handle, ids []string) (map[string]bool, error) {
	created := make(map[string]bool, len(ids))
	for part := range slices.Chunk(ids, 400) {
		args := make([]any, 0, len(part)*9)
		for _, id := range part {
			t := in.titles[id]
			set, err := applyPresence(nil, t.presence, in.devices)
			if err != nil {
				return nil, fmt.Errorf("title %s: %w", id, err)
			}
			args = append(args, id, t.first.Name, t.first.Publisher, t.first.Source.Family(), ms(t.at), ms(t.at),
				max(0, t.devices), max(0, t.perUser), set)
		}
		rows, err := tx.QueryContext(ctx, `INSERT INTO software_titles(id, name, publisher, source, first_seen, last_seen, devices,
			per_user_devices, device_set) VALUES `+strings.TrimSuffix(strings.Repeat("(?,?,?,?,?,?,?,?,?),", len(part)), ",")+`
			ON CONFLICT(id) DO NOTHING RETURNING id`, args...)
		if err != nil {
			return nil, fmt.Errorf("create %d titles: %w", len(part), err)
		}
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return nil, fmt.Errorf("create titles: %w", err)
			}
			created[id] = true
		}
		if err := rows.Close(); err != nil {
			return nil, err
		}
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return created, nil
}

// applyPresence returns a title's device bitmap with the batch's changes.
func applyPresence(set []byte, presence map[string]bool, devices map[string]*devState) ([]byte, error) {
	bm := roaring.New()
	if len(set) > 0 {
		if err := bm.UnmarshalBinary(set); err != nil {
			return nil, fmt.Errorf("device set: %w", err)
		}
	}
	for id, has := range presence {
		num := uint32(devices[id].num)
		if has {
			bm.Add(num)
		} else {
			bm.Remove(num)
		}
	}
	bm.RunOptimize()
	b, err := bm.ToBytes()
	if err != nil {
		return nil, fmt.Errorf("device set: %w", err)
	}
	return b, nil
}

// writeVersions adds the per-version deltas (additive, so two nodes'
// batches add up on PostgreSQL without reading first).
func (in *ingest) writeVersions(ctx context.Context, tx handle) error {
	keys := make([]verKey, 0, len(in.vers))
	for k, v := range in.vers {
		if v.devices != 0 {
			keys = append(keys, k)
		}
	}
	slices.SortFunc(keys, func(a, b verKey) int {
		if c := strings.Compare(a.title, b.title); c != 0 {
			return c
		}
		return strings.Compare(a.version, b.version)
	})
	for part := range slices.Chunk(keys, 500) {
		args := make([]any, 0, len(part)*5)
		for _, k := range part {
			v := in.vers[k]
			args = append(args, k.title, k.version, v.devices, ms(v.at), ms(v.at))
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO software_versions(title_id, version, devices, first_seen, last_seen)
			VALUES `+strings.TrimSuffix(strings.Repeat("(?,?,?,?,?),", len(part)), ",")+`
			ON CONFLICT(title_id, version) DO UPDATE SET devices = software_versions.devices + excluded.devices,
			last_seen = excluded.last_seen`, args...)
		if err != nil {
			return fmt.Errorf("update %d versions: %w", len(part), err)
		}
	}
	return nil
}

// ask stores a software.ask for each per-user install the batch added of
// a title IT has not approved, once per title and device ever.
func (in *ingest) ask(ctx context.Context, tx handle, status map[string]protocol.SoftwareStatus, updates []InventoryUpdate, out []InventoryOutcome) error {
	if len(in.asks) == 0 {
		return nil
	}
	byDevice := map[string]int{} // the last stored update of each device carries its asks
	for i, u := range updates {
		if out[i].Err == nil && !out[i].Resync {
			byDevice[u.DeviceID] = i
		}
	}
	now := time.Now()
	done := map[[2]string]bool{}
	for _, a := range in.asks {
		st := status[a.title]
		if st != protocol.SoftwareNew && st != protocol.SoftwareUnderReview {
			continue
		}
		if k := [2]string{a.title, a.deviceID}; done[k] {
			continue
		} else {
			done[k] = true
		}
		// Still installed after the whole batch?
		if t := in.titles[a.title]; t != nil {
			if has, touched := t.presence[a.deviceID]; touched && !has {
				continue
			}
		}
		res, err := tx.ExecContext(ctx, "INSERT INTO software_asks(title_id, device_id, at) VALUES(?,?,?) ON CONFLICT(title_id, device_id) DO NOTHING",
			a.title, a.deviceID, ms(now))
		if err != nil {
			return fmt.Errorf("store ask: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			if err != nil {
				return err
			}
			continue
		}
		body := protocol.SoftwareAsk{TitleID: a.title, Name: a.entry.Name, Publisher: a.entry.Publisher, Version: a.entry.Version, Text: in.text}
		d, err := appendOutbox(ctx, tx, a.deviceID, Outgoing{Kind: protocol.KindSoftwareAsk, ID: "ask_" + a.title + "_" + a.deviceID, Body: body}, "")
		if err != nil {
			return fmt.Errorf("queue ask: %w", err)
		}
		i := byDevice[a.deviceID]
		out[i].Asks = append(out[i].Asks, d)
	}
	return nil
}

// DeviceSoftware returns the inventory the server holds for a device.
func (s *SQL) DeviceSoftware(ctx context.Context, deviceID string) (string, []protocol.SoftwareEntry, error) {
	var hash string
	var blob []byte
	err := s.r.QueryRowContext(ctx, "SELECT hash, blob FROM device_software WHERE device_id = ?", deviceID).Scan(&hash, &blob)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil, nil
	}
	if err != nil {
		return "", nil, fmt.Errorf("read inventory of %s: %w", deviceID, err)
	}
	entries, err := decodeSoftware(blob)
	if err != nil {
		return "", nil, fmt.Errorf("read inventory of %s: %w", deviceID, err)
	}
	return hash, entries, nil
}

// DeviceSoftwareHash returns the hash of the inventory held for a device.
func (s *SQL) DeviceSoftwareHash(ctx context.Context, deviceID string) (string, error) {
	var hash string
	err := s.r.QueryRowContext(ctx, "SELECT hash FROM device_software WHERE device_id = ?", deviceID).Scan(&hash)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read inventory hash of %s: %w", deviceID, err)
	}
	return hash, nil
}

// RecordSoftwareAnswer stores a person's answer (the last one wins), keeps
// the title's told count and links the request the agent raised with it.
func (s *SQL) RecordSoftwareAnswer(ctx context.Context, frameID, deviceID string, a protocol.SoftwareAnswer, now time.Time) (Result, error) {
	if a.At.IsZero() {
		a.At = now
	}
	res, err := s.deviceOp(ctx, deviceID, frameID, func(tx handle) (string, error) {
		var prev, usr string
		err := tx.QueryRowContext(ctx, "SELECT answer FROM software_answers WHERE title_id = ? AND device_id = ?"+tx.d.lock(""),
			a.TitleID, deviceID).Scan(&prev)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return "", err
		}
		if err := tx.QueryRowContext(ctx, "SELECT usr FROM devices WHERE id = ?", deviceID).Scan(&usr); err != nil {
			return "", notFound(err, "device "+deviceID)
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO software_answers(title_id, device_id, usr, answer, request_id, at) VALUES(?,?,?,?,?,?)
			ON CONFLICT(title_id, device_id) DO UPDATE SET usr = excluded.usr, answer = excluded.answer, at = excluded.at,
			request_id = CASE WHEN excluded.request_id <> '' THEN excluded.request_id ELSE software_answers.request_id END`,
			a.TitleID, deviceID, usr, string(a.Answer), a.RequestID, ms(a.At))
		if err != nil {
			return "", err
		}
		was, is := prev == string(protocol.AnswerForWork), a.Answer == protocol.AnswerForWork
		if was != is {
			_, err = tx.ExecContext(ctx, "UPDATE software_titles SET told = told + ? WHERE id = ?", b2i(is)-b2i(was), a.TitleID)
			if err != nil {
				return "", err
			}
		}
		if a.RequestID != "" {
			// Only the device's own request, and only a software one.
			_, err = tx.ExecContext(ctx, "UPDATE requests SET software_title = ? WHERE id = ? AND device_id = ? AND category = ?",
				a.TitleID, a.RequestID, deviceID, string(protocol.CategorySoftware))
		}
		return a.TitleID, err
	})
	if err != nil {
		return res, fmt.Errorf("record answer about %s: %w", a.TitleID, err)
	}
	return res, nil
}
