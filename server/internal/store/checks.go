package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/deskside/deskside/shared/protocol"
)

// Heads-up checks (issue 14). IT keeps one policy per enrolment group; the
// "" group's policy applies to every group without its own, and the
// built-in protocol.DefaultChecksPolicy (revision 0) applies until IT saves
// one. Revisions come from one counter for all groups, so a device that
// changes policy (its group gains or loses its own) never sees a revision
// go backwards.
//
// Sizing: 19,000 devices × 6 checks is ~114,000 device_checks rows, keyed
// (device, check) and indexed (check, state) so the summary is one grouped
// scan of an index and a check's device list one range; check_history
// holds only state changes, indexed by time, for the 30-day trend.

// ChecksPolicy is a group's heads-up policy as stored.
type ChecksPolicy struct {
	Group     string                `json:"group"`
	Revision  int64                 `json:"revision"`
	Policy    protocol.ChecksPolicy `json:"policy"`
	UpdatedAt time.Time             `json:"updated_at,omitzero"`
	UpdatedBy string                `json:"updated_by,omitempty"`
	// Inherited is true when the group has no policy of its own: this is
	// the default group's, or the built-in one (Revision 0).
	Inherited bool `json:"inherited"`
}

// DeviceCheck is one check's current state on one device.
type DeviceCheck struct {
	DeviceID  string
	Hostname  string // joined from the device (CheckDevices)
	User      string // joined from the device (CheckDevices)
	Report    protocol.CheckReport
	UpdatedAt time.Time
}

// ToWire is the item as consoles and scripts see it (device.checks,
// GET /api/v1/devices/{id}, GET /api/v1/checks/{check}/devices).
func (c DeviceCheck) ToWire() protocol.DeviceCheck {
	return protocol.DeviceCheck{DeviceID: c.DeviceID, Hostname: c.Hostname, User: c.User, CheckReport: c.Report, UpdatedAt: c.UpdatedAt}
}

// CheckSummary counts one check across the fleet (revoked devices left out).
type CheckSummary struct {
	Check       protocol.CheckKind `json:"check"`
	Affected    int                `json:"affected"` // warn + snoozed + asked_it now
	Warning     int                `json:"warning"`  // warn now (nobody acted yet)
	FixedByUser int                `json:"fixed_by_user"`
	AskedIT     int                `json:"asked_it"`
	Snoozed     int                `json:"snoozed"`
	Unknown     int                `json:"unknown"`
	OK          int                `json:"ok"`
	Trend       []CheckDay         `json:"trend"` // oldest day first
}

// CheckDay counts one day's state changes of a check (UTC days).
type CheckDay struct {
	Day     string `json:"day"` // 2006-01-02
	Warned  int    `json:"warned"`
	Fixed   int    `json:"fixed"`
	AskedIT int    `json:"asked_it"`
	Snoozed int    `json:"snoozed"`
}

// TrendDays is how many days the summary's trend covers.
const TrendDays = 30

// affectedStates are the states that count as "affected now".
var affectedStates = []protocol.CheckState{protocol.CheckWarn, protocol.CheckSnoozed, protocol.CheckAskedIT}

// AffectedStates lists the states that count as affected, for callers
// that filter a check's devices.
func AffectedStates() []protocol.CheckState {
	return append([]protocol.CheckState(nil), affectedStates...)
}

const dayMS = int64(24 * time.Hour / time.Millisecond)

// policyWhere selects the devices a group's policy applies to: the group's
// own, or for the default group every device whose group has none.
func policyWhere(group string) (string, []any) {
	if group != "" {
		return " AND grp = ?", []any{group}
	}
	return " AND grp NOT IN (SELECT grp FROM checks_policies WHERE grp <> '')", nil
}

// ChecksPolicy returns the policy a group's devices follow: its own, else
// the default group's, else the built-in one.
func (s *SQL) ChecksPolicy(ctx context.Context, group string) (ChecksPolicy, error) {
	rows, err := s.r.QueryContext(ctx, "SELECT grp, revision, policy, updated_at, updated_by FROM checks_policies WHERE grp = ? OR grp = ''", group)
	if err != nil {
		return ChecksPolicy{}, fmt.Errorf("read heads-up policy of %q: %w", group, err)
	}
	defer rows.Close()
	var own, def *ChecksPolicy
	for rows.Next() {
		var p ChecksPolicy
		var raw []byte
		var at int64
		if err := rows.Scan(&p.Group, &p.Revision, &raw, &at, &p.UpdatedBy); err != nil {
			return ChecksPolicy{}, fmt.Errorf("read heads-up policy of %q: %w", group, err)
		}
		if err := json.Unmarshal(raw, &p.Policy); err != nil {
			return ChecksPolicy{}, fmt.Errorf("read heads-up policy of %q: %w", p.Group, err)
		}
		p.UpdatedAt = fromMS(at)
		if p.Group == group {
			own = &p
		} else {
			def = &p
		}
	}
	if err := rows.Err(); err != nil {
		return ChecksPolicy{}, fmt.Errorf("read heads-up policy of %q: %w", group, err)
	}
	switch {
	case own != nil:
		return *own, nil
	case def != nil:
		def.Inherited = true
		def.Policy.Group = group
		return *def, nil
	}
	p := protocol.DefaultChecksPolicy()
	p.Group = group
	return ChecksPolicy{Group: group, Policy: p, Inherited: true}, nil
}

// PutChecksPolicy stores a group's policy under the next revision and, in
// the same transaction, queues it once (one shared frame, set-based) to
// every device of the group whose agent said it runs checks. Devices that
// have not said so yet get it at their next hello (ChecksOnHello). The
// caller validated p (protocol.ChecksPolicy.ValidateStrict); envID is the
// frame's envelope id, the same for every device.
func (s *SQL) PutChecksPolicy(ctx context.Context, group string, p protocol.ChecksPolicy, by, envID string, now time.Time) (ChecksPolicy, []Delivery, error) {
	out := ChecksPolicy{Group: group, UpdatedAt: now.UTC().Truncate(time.Millisecond), UpdatedBy: by}
	var ds []Delivery
	err := s.tx(ctx, func(tx handle) error {
		ds = nil
		var rev string
		err := tx.QueryRowContext(ctx, `INSERT INTO meta(key, value) VALUES('checks.revision', '1')
			ON CONFLICT(key) DO UPDATE SET value = CAST(CAST(meta.value AS BIGINT) + 1 AS TEXT) RETURNING value`).Scan(&rev)
		if err != nil {
			return fmt.Errorf("next revision: %w", err)
		}
		if out.Revision, err = strconv.ParseInt(rev, 10, 64); err != nil {
			return fmt.Errorf("next revision %q: %w", rev, err)
		}
		p.Revision, p.Group, p.UpdatedAt = out.Revision, group, out.UpdatedAt
		out.Policy = p
		raw, err := json.Marshal(p)
		if err != nil {
			return err
		}
		env, err := protocol.NewWithID(protocol.KindChecksPolicy, envID, p)
		if err != nil {
			return err
		}
		shared, err := protocol.NewSeqFrame(env)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO checks_policies(grp, revision, policy, updated_at, updated_by) VALUES(?,?,?,?,?)
			ON CONFLICT(grp) DO UPDATE SET revision = excluded.revision, policy = excluded.policy,
			updated_at = excluded.updated_at, updated_by = excluded.updated_by`, group, out.Revision, raw, ms(out.UpdatedAt), by)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, "INSERT INTO checks_policy_frames(revision, frame) VALUES(?,?)", out.Revision, shared.Template()); err != nil {
			return err
		}
		gw, gargs := policyWhere(group)
		where := " WHERE revoked = 0 AND checks_cap = 1" + gw
		set := "UPDATE devices SET next_seq = next_seq + 1, checks_rev = ?"
		q := set + where + " RETURNING id, next_seq"
		args := append([]any{out.Revision}, gargs...)
		if s.d.postgres {
			// One statement, as in Announce: the outbox rows come from
			// the UPDATE's own RETURNING (read committed).
			q = `WITH s AS (` + set + where + ` RETURNING id, next_seq),
				o AS (INSERT INTO outbox(device_id, seq, frame, policy_rev, created_at) SELECT id, next_seq, ''::bytea, ?, ? FROM s)
				SELECT id, next_seq FROM s`
			args = append(args, out.Revision, ms(now))
		}
		rows, err := tx.QueryContext(ctx, q, args...)
		if err != nil {
			return err
		}
		for rows.Next() {
			d := Delivery{Shared: shared}
			if err := rows.Scan(&d.DeviceID, &d.Seq); err != nil {
				rows.Close()
				return err
			}
			ds = append(ds, d)
		}
		if err := errors.Join(rows.Err(), rows.Close()); err != nil || s.d.postgres {
			return err
		}
		// SQLite: the one writer, so the same WHERE (plus the revision
		// just set) names exactly the devices updated above.
		_, err = tx.ExecContext(ctx, "INSERT INTO outbox(device_id, seq, frame, policy_rev, created_at) SELECT id, next_seq, "+s.d.emptyBlob+
			", checks_rev, ? FROM devices"+where+" AND checks_rev = ?", append(append([]any{ms(now)}, gargs...), out.Revision)...)
		return err
	})
	if err != nil {
		return ChecksPolicy{}, nil, fmt.Errorf("store heads-up policy of %q: %w", group, err)
	}
	return out, ds, nil
}

// ChecksOnHello records whether a device's agent runs checks and, when it
// does and its group's policy is newer than the one it was last queued,
// queues that policy (the revision's shared frame) and returns it for live
// delivery. nil when nothing was queued. Call it under the device's hub
// lock, after the replay.
func (s *SQL) ChecksOnHello(ctx context.Context, deviceID string, capable bool) (*Delivery, error) {
	const q = `SELECT d.checks_cap, d.checks_rev, COALESCE(p.revision, dp.revision, 0), f.frame FROM devices d
			LEFT JOIN checks_policies p ON p.grp = d.grp
			LEFT JOIN checks_policies dp ON dp.grp = ''
			LEFT JOIN checks_policy_frames f ON f.revision = COALESCE(p.revision, dp.revision)
			WHERE d.id = ?`
	// Most hellos change nothing: decide on the read pool first, so a
	// reconnect storm does not queue 19,000 write transactions (SQLite
	// has one writer).
	var cap int
	var sent, rev int64
	var tmpl []byte
	if err := s.r.QueryRowContext(ctx, q, deviceID).Scan(&cap, &sent, &rev, &tmpl); err != nil {
		return nil, fmt.Errorf("heads-up policy at hello: %w", notFound(err, "device "+deviceID))
	}
	if capable == (cap == 1) && (!capable || rev <= sent || tmpl == nil) {
		return nil, nil
	}
	var out *Delivery
	err := s.tx(ctx, func(tx handle) error {
		out = nil
		err := tx.QueryRowContext(ctx, q+tx.d.lock("d"), deviceID).Scan(&cap, &sent, &rev, &tmpl)
		if err != nil {
			return notFound(err, "device "+deviceID)
		}
		switch {
		case !capable && cap == 0:
			return nil
		case !capable:
			_, err := tx.ExecContext(ctx, "UPDATE devices SET checks_cap = 0 WHERE id = ?", deviceID)
			return err
		case rev <= sent || tmpl == nil:
			if cap == 1 {
				return nil
			}
			_, err := tx.ExecContext(ctx, "UPDATE devices SET checks_cap = 1 WHERE id = ?", deviceID)
			return err
		}
		shared, err := protocol.ParseSeqFrame(tmpl)
		if err != nil {
			return fmt.Errorf("policy revision %d: %w", rev, err)
		}
		d := Delivery{DeviceID: deviceID, Shared: shared}
		err = tx.QueryRowContext(ctx, "UPDATE devices SET next_seq = next_seq + 1, checks_cap = 1, checks_rev = ? WHERE id = ? RETURNING next_seq",
			rev, deviceID).Scan(&d.Seq)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, "INSERT INTO outbox(device_id, seq, frame, policy_rev, created_at) VALUES(?,?,"+s.d.emptyBlob+",?,?)",
			deviceID, d.Seq, rev, ms(time.Now()))
		out = &d
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("heads-up policy at hello of %s: %w", deviceID, err)
	}
	return out, nil
}

// CheckItem is one check.report to store: the device, the frame's
// envelope id and the report.
type CheckItem struct {
	FrameID, DeviceID string
	Report            protocol.CheckReport
}

// CheckOutcome is what storing one CheckItem did. Result.Ref is the check;
// Check is the device's state of it as stored (or as reported, when the
// report was a duplicate or older than the stored one).
type CheckOutcome struct {
	Result Result
	Check  DeviceCheck
}

// ReportCheck stores one check.report (see ReportChecks).
func (s *SQL) ReportCheck(ctx context.Context, frameID, deviceID string, r protocol.CheckReport, now time.Time) (Result, DeviceCheck, error) {
	out, err := s.ReportChecks(ctx, []CheckItem{{FrameID: frameID, DeviceID: deviceID, Report: r}}, now)
	if err != nil {
		return Result{}, DeviceCheck{DeviceID: deviceID, Report: r}, err
	}
	return out[0].Result, out[0].Check, nil
}

// ReportChecks stores many devices' check.reports in one transaction (a
// group commit: one durable write for a batch, not one per report), each
// once per (device, frame id): the device's current state of the check,
// and a history row when the state changed. A report observed before the
// stored one (a late retry) changes nothing. Items are applied in order,
// so a device's later report wins over its earlier one in the same batch.
func (s *SQL) ReportChecks(ctx context.Context, items []CheckItem, now time.Time) ([]CheckOutcome, error) {
	now = now.UTC().Truncate(time.Millisecond)
	out := make([]CheckOutcome, len(items))
	evidence := make([][]byte, len(items))
	for i, it := range items {
		if it.Report.ObservedAt.IsZero() {
			items[i].Report.ObservedAt = now
		}
		if len(it.Report.Evidence) > 0 {
			var err error
			if evidence[i], err = json.Marshal(it.Report.Evidence); err != nil {
				return nil, fmt.Errorf("check report of %s: %w", it.DeviceID, err)
			}
		}
	}
	err := s.tx(ctx, func(tx handle) error {
		for i, it := range items {
			res, err := s.reportCheckTx(ctx, tx, it, evidence[i], now)
			if err != nil {
				return fmt.Errorf("%s/%s: %w", it.DeviceID, it.Report.Check, err)
			}
			out[i] = CheckOutcome{Result: res, Check: DeviceCheck{DeviceID: it.DeviceID, Report: it.Report, UpdatedAt: now}}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store %d check reports: %w", len(items), err)
	}
	return out, nil
}

func (s *SQL) reportCheckTx(ctx context.Context, tx handle, it CheckItem, evidence []byte, now time.Time) (Result, error) {
	r := it.Report
	res := Result{Ref: string(r.Check)}
	// One statement claims the frame id: a repeat inserts nothing.
	ins, err := tx.ExecContext(ctx, "INSERT INTO seen_frames(device_id, frame_id, ref, at) VALUES(?,?,?,?) ON CONFLICT(device_id, frame_id) DO NOTHING",
		it.DeviceID, it.FrameID, res.Ref, ms(now))
	if err != nil {
		return res, err
	}
	if n, err := ins.RowsAffected(); err != nil || n == 0 {
		res.Duplicate = true
		return res, err
	}
	var prev string
	var observed int64
	err = tx.QueryRowContext(ctx, "SELECT state, observed_at FROM device_checks WHERE device_id = ? AND check_kind = ?"+tx.d.lock(""),
		it.DeviceID, string(r.Check)).Scan(&prev, &observed)
	switch {
	case errors.Is(err, sql.ErrNoRows):
	case err != nil:
		return res, err
	case observed > ms(r.ObservedAt):
		return res, nil // older than what we have
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO device_checks(device_id, check_kind, state, summary, evidence, deadline, snoozed_until,
		request_id, observed_at, updated_at) VALUES(?,?,?,?,?,?,?,?,?,?)
		ON CONFLICT(device_id, check_kind) DO UPDATE SET state = excluded.state, summary = excluded.summary,
		evidence = excluded.evidence, deadline = excluded.deadline, snoozed_until = excluded.snoozed_until,
		request_id = excluded.request_id, observed_at = excluded.observed_at, updated_at = excluded.updated_at`,
		it.DeviceID, string(r.Check), string(r.State), r.Summary, evidence, ms(r.Deadline), ms(r.SnoozedUntil), r.RequestID,
		ms(r.ObservedAt), ms(now))
	if err != nil {
		return res, err
	}
	if prev != string(r.State) {
		_, err = tx.ExecContext(ctx, "INSERT INTO check_history(device_id, check_kind, state, at) VALUES(?,?,?,?)",
			it.DeviceID, string(r.Check), string(r.State), ms(r.ObservedAt))
	}
	return res, err
}

const dcCols = "dc.device_id, dc.check_kind, dc.state, dc.summary, dc.evidence, dc.deadline, dc.snoozed_until, dc.request_id, dc.observed_at, dc.updated_at"

func scanDeviceCheck(rows *sql.Rows, extra ...any) (DeviceCheck, error) {
	var c DeviceCheck
	var kind, state string
	var evidence []byte
	var deadline, snoozed, observed, updated int64
	err := rows.Scan(append([]any{&c.DeviceID, &kind, &state, &c.Report.Summary, &evidence, &deadline, &snoozed,
		&c.Report.RequestID, &observed, &updated}, extra...)...)
	if err != nil {
		return c, err
	}
	c.Report.Check, c.Report.State = protocol.CheckKind(kind), protocol.CheckState(state)
	if len(evidence) > 0 {
		if err := json.Unmarshal(evidence, &c.Report.Evidence); err != nil {
			return c, fmt.Errorf("evidence of %s/%s: %w", c.DeviceID, kind, err)
		}
	}
	c.Report.Deadline, c.Report.SnoozedUntil = fromMS(deadline), fromMS(snoozed)
	c.Report.ObservedAt, c.UpdatedAt = fromMS(observed), fromMS(updated)
	return c, nil
}

// DeviceChecks returns a device's current state of every check it
// reported, in the order a person sees the checks.
func (s *SQL) DeviceChecks(ctx context.Context, deviceID string) ([]DeviceCheck, error) {
	rows, err := s.r.QueryContext(ctx, "SELECT "+dcCols+" FROM device_checks dc WHERE dc.device_id = ?", deviceID)
	if err != nil {
		return nil, fmt.Errorf("heads-up items of %s: %w", deviceID, err)
	}
	defer rows.Close()
	out := []DeviceCheck{}
	for rows.Next() {
		c, err := scanDeviceCheck(rows)
		if err != nil {
			return nil, fmt.Errorf("heads-up items of %s: %w", deviceID, err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("heads-up items of %s: %w", deviceID, err)
	}
	sort.SliceStable(out, func(i, j int) bool { return kindOrder(out[i].Report.Check) < kindOrder(out[j].Report.Check) })
	return out, nil
}

func kindOrder(k protocol.CheckKind) int {
	for i, c := range protocol.CheckKinds {
		if c == k {
			return i
		}
	}
	return len(protocol.CheckKinds)
}

// CheckDevices lists the devices (not revoked) whose check is in one of
// states, most recently changed first, with hostname and user.
func (s *SQL) CheckDevices(ctx context.Context, check protocol.CheckKind, states []protocol.CheckState, limit int) ([]DeviceCheck, error) {
	if limit <= 0 || limit > 5000 {
		limit = 500
	}
	args := []any{string(check)}
	in := make([]string, len(states))
	for i, st := range states {
		in[i] = "?"
		args = append(args, string(st))
	}
	q := "SELECT " + dcCols + ", d.hostname, d.usr FROM device_checks dc JOIN devices d ON d.id = dc.device_id AND d.revoked = 0 WHERE dc.check_kind = ?"
	if len(states) > 0 {
		q += " AND dc.state IN (" + strings.Join(in, ",") + ")"
	}
	rows, err := s.r.QueryContext(ctx, q+" ORDER BY dc.updated_at DESC LIMIT ?", append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("devices with %s: %w", check, err)
	}
	defer rows.Close()
	out := []DeviceCheck{}
	for rows.Next() {
		var host, user string
		c, err := scanDeviceCheck(rows, &host, &user)
		if err != nil {
			return nil, fmt.Errorf("devices with %s: %w", check, err)
		}
		c.Hostname, c.User = host, user
		out = append(out, c)
	}
	return out, rows.Err()
}

// ChecksSummary counts every check's current states across the fleet and
// its state changes per UTC day for the TrendDays days up to now: two
// grouped queries, whatever the fleet's size. Every known check is listed
// (zeros included), then any other a newer agent reported.
func (s *SQL) ChecksSummary(ctx context.Context, now time.Time) ([]CheckSummary, error) {
	by := map[protocol.CheckKind]*CheckSummary{}
	var order []protocol.CheckKind
	today := ms(now) / dayMS
	first := today - TrendDays + 1
	get := func(k protocol.CheckKind) *CheckSummary {
		if c, ok := by[k]; ok {
			return c
		}
		c := &CheckSummary{Check: k, Trend: make([]CheckDay, TrendDays)}
		for i := range c.Trend {
			c.Trend[i].Day = time.UnixMilli((first + int64(i)) * dayMS).UTC().Format(time.DateOnly)
		}
		by[k] = c
		order = append(order, k)
		return c
	}
	for _, k := range protocol.CheckKinds {
		get(k)
	}
	rows, err := s.r.QueryContext(ctx, `SELECT dc.check_kind, dc.state, count(*) FROM device_checks dc
		JOIN devices d ON d.id = dc.device_id AND d.revoked = 0 GROUP BY dc.check_kind, dc.state`)
	if err != nil {
		return nil, fmt.Errorf("heads-up summary: %w", err)
	}
	for rows.Next() {
		var kind, state string
		var n int
		if err := rows.Scan(&kind, &state, &n); err != nil {
			rows.Close()
			return nil, fmt.Errorf("heads-up summary: %w", err)
		}
		c := get(protocol.CheckKind(kind))
		switch protocol.CheckState(state) {
		case protocol.CheckWarn:
			c.Warning += n
			c.Affected += n
		case protocol.CheckSnoozed:
			c.Snoozed += n
			c.Affected += n
		case protocol.CheckAskedIT:
			c.AskedIT += n
			c.Affected += n
		case protocol.CheckFixed:
			c.FixedByUser += n
		case protocol.CheckUnknown:
			c.Unknown += n
		case protocol.CheckOK:
			c.OK += n
		}
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return nil, fmt.Errorf("heads-up summary: %w", err)
	}
	rows, err = s.r.QueryContext(ctx, `SELECT check_kind, at / ? AS day, state, count(*) FROM check_history
		WHERE at >= ? AND state IN ('warn', 'fixed', 'asked_it', 'snoozed') GROUP BY 1, 2, 3`, dayMS, first*dayMS)
	if err != nil {
		return nil, fmt.Errorf("heads-up trend: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var kind, state string
		var day int64
		var n int
		if err := rows.Scan(&kind, &day, &state, &n); err != nil {
			return nil, fmt.Errorf("heads-up trend: %w", err)
		}
		i := day - first
		if i < 0 || i >= TrendDays {
			continue // observed in the future by a device's clock
		}
		d := &get(protocol.CheckKind(kind)).Trend[i]
		switch protocol.CheckState(state) {
		case protocol.CheckWarn:
			d.Warned += n
		case protocol.CheckFixed:
			d.Fixed += n
		case protocol.CheckAskedIT:
			d.AskedIT += n
		case protocol.CheckSnoozed:
			d.Snoozed += n
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("heads-up trend: %w", err)
	}
	out := make([]CheckSummary, 0, len(order))
	for _, k := range order {
		out = append(out, *by[k])
	}
	return out, nil
}

// PruneCheckHistory drops state changes older than before (the trend
// shows TrendDays days) and returns how many went.
func (s *SQL) PruneCheckHistory(ctx context.Context, before time.Time) (int64, error) {
	res, err := s.w.ExecContext(ctx, "DELETE FROM check_history WHERE at < ?", ms(before))
	if err != nil {
		return 0, fmt.Errorf("prune heads-up history: %w", err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}
