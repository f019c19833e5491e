package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/deskside/deskside/shared/protocol"
)

const devCols = "id, secret_hash, hostname, usr, os, platform, arch, grp, agent_version, revoked, enrolled_at, last_seen"

func scanDevice(row interface{ Scan(...any) error }) (Device, error) {
	var d Device
	var enrolled, seen int64
	err := row.Scan(&d.ID, &d.SecretHash, &d.Hostname, &d.User, &d.OS, &d.Platform, &d.Arch, &d.Group, &d.AgentVersion,
		&d.Revoked, &enrolled, &seen)
	d.EnrolledAt, d.LastSeen = fromMS(enrolled), fromMS(seen)
	return d, err
}

// Device returns one device by id, revoked or not.
func (s *SQL) Device(ctx context.Context, id string) (Device, error) {
	d, err := scanDevice(s.r.QueryRowContext(ctx, "SELECT "+devCols+" FROM devices WHERE id = ?", id))
	if err != nil {
		return d, notFound(err, "device "+id)
	}
	return d, nil
}

// ListDevices returns devices whose hostname, user or OS contains q.
func (s *SQL) ListDevices(ctx context.Context, q string) ([]Device, error) {
	like := "%" + strings.NewReplacer("%", `\%`, "_", `\_`).Replace(q) + "%"
	rows, err := s.r.QueryContext(ctx, "SELECT "+devCols+" FROM devices WHERE "+
		strings.ReplaceAll(`hostname LIKE ?1 ESCAPE '\' OR usr LIKE ?1 ESCAPE '\' OR os LIKE ?1 ESCAPE '\' OR platform LIKE ?1 ESCAPE '\'`, "LIKE", s.d.like)+
		" ORDER BY hostname", like)
	if err != nil {
		return nil, fmt.Errorf("list devices: %w", err)
	}
	defer rows.Close()
	out := []Device{}
	for rows.Next() {
		d, err := scanDevice(rows)
		if err != nil {
			return nil, fmt.Errorf("list devices: %w", err)
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// RevokeDevice refuses the device from now on.
func (s *SQL) RevokeDevice(ctx context.Context, id string) error {
	res, err := s.w.ExecContext(ctx, "UPDATE devices SET revoked = 1 WHERE id = ?", id)
	if err != nil {
		return fmt.Errorf("revoke device %s: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("revoke device %s: %w", id, ErrNotFound)
	}
	return nil
}

// DeviceSeen records the facts a device states in hello.
func (s *SQL) DeviceSeen(ctx context.Context, id, agentVersion, os, arch string, at time.Time) error {
	_, err := s.w.ExecContext(ctx, `UPDATE devices SET last_seen = ?,
		agent_version = CASE WHEN ? = '' THEN agent_version ELSE ? END,
		os = CASE WHEN ? = '' THEN os ELSE ? END, arch = CASE WHEN ? = '' THEN arch ELSE ? END WHERE id = ?`,
		ms(at), agentVersion, agentVersion, os, os, arch, arch, id)
	if err != nil {
		return fmt.Errorf("record device %s seen: %w", id, err)
	}
	return nil
}

// DeviceSnapshot returns the latest snapshot (nil when none yet).
func (s *SQL) DeviceSnapshot(ctx context.Context, id string) (json.RawMessage, error) {
	var snap []byte
	err := s.r.QueryRowContext(ctx, "SELECT snapshot FROM devices WHERE id = ?", id).Scan(&snap)
	if err != nil {
		return nil, notFound(err, "device "+id)
	}
	return snap, nil
}

// deviceOp runs fn once per (device, frame id): a repeated frame id returns
// the first answer with Duplicate set and changes nothing.
func (s *SQL) deviceOp(ctx context.Context, deviceID, frameID string, fn func(tx handle) (string, error)) (Result, error) {
	var res Result
	err := s.tx(ctx, func(tx handle) error {
		res = Result{}
		var ref string
		err := tx.QueryRowContext(ctx, "SELECT ref FROM seen_frames WHERE device_id = ? AND frame_id = ?", deviceID, frameID).Scan(&ref)
		if err == nil {
			res = Result{Ref: ref, Duplicate: true}
			return nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if ref, err = fn(tx); err != nil {
			return err
		}
		res.Ref = ref
		_, err = tx.ExecContext(ctx, "INSERT INTO seen_frames(device_id, frame_id, ref, at) VALUES(?,?,?,?)",
			deviceID, frameID, ref, ms(time.Now()))
		return err
	})
	return res, err
}

// SaveSnapshot keeps the device's latest snapshot.
func (s *SQL) SaveSnapshot(ctx context.Context, frameID, deviceID string, snap json.RawMessage) (Result, error) {
	res, err := s.deviceOp(ctx, deviceID, frameID, func(tx handle) (string, error) {
		_, err := tx.ExecContext(ctx, "UPDATE devices SET snapshot = ? WHERE id = ?", []byte(snap), deviceID)
		return "", err
	})
	if err != nil {
		return res, fmt.Errorf("save snapshot of %s: %w", deviceID, err)
	}
	return res, nil
}

// appendOutbox gives the frame the device's next seq and stores it.
func appendOutbox(ctx context.Context, tx handle, deviceID string, out Outgoing, annID string) (Delivery, error) {
	var seq uint64
	err := tx.QueryRowContext(ctx, "UPDATE devices SET next_seq = next_seq + 1 WHERE id = ? RETURNING next_seq", deviceID).Scan(&seq)
	if err != nil {
		return Delivery{}, notFound(err, "device "+deviceID)
	}
	env, err := protocol.NewWithID(out.Kind, out.ID, out.Body)
	if err != nil {
		return Delivery{}, err
	}
	env.Seq = seq
	frame, err := env.Marshal()
	if err != nil {
		return Delivery{}, fmt.Errorf("encode %s: %w", out.Kind, err)
	}
	var ann any
	if annID != "" {
		ann = annID
	}
	_, err = tx.ExecContext(ctx, "INSERT INTO outbox(device_id, seq, frame, announcement_id, created_at) VALUES(?,?,?,?,?)",
		deviceID, seq, frame, ann, ms(time.Now()))
	if err != nil {
		return Delivery{}, fmt.Errorf("store frame for %s: %w", deviceID, err)
	}
	return Delivery{DeviceID: deviceID, Seq: seq, Frame: frame}, nil
}

// PruneCursors applies many devices' delivery cursors in one transaction
// (one commit for a whole broadcast's worth of cursors, not one each).
// Set-based: the cursors go in as one JSON object {device id: seq}.
func (s *SQL) PruneCursors(ctx context.Context, cursors map[string]uint64) error {
	if len(cursors) == 0 {
		return nil
	}
	arg, err := json.Marshal(cursors)
	if err != nil {
		return fmt.Errorf("prune outboxes: %w", err)
	}
	const acked = `SELECT o.device_id, o.seq, o.announcement_id FROM json_each(?1) c
		JOIN outbox o ON o.device_id = c.key AND o.seq <= c.value`
	err = s.tx(ctx, func(tx handle) error {
		if s.d.postgres {
			_, err := tx.ExecContext(ctx, pgPruneCursors, string(arg))
			return err
		}
		_, err := tx.ExecContext(ctx, `WITH a AS (`+acked+` WHERE o.announcement_id IS NOT NULL)
			UPDATE announcements SET delivered = delivered + (SELECT count(*) FROM a WHERE a.announcement_id = announcements.id)
			WHERE id IN (SELECT announcement_id FROM a)`, string(arg))
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM outbox WHERE (device_id, seq) IN (SELECT device_id, seq FROM (`+acked+`))`, string(arg))
		return err
	})
	if err != nil {
		return fmt.Errorf("prune %d outboxes: %w", len(cursors), err)
	}
	return nil
}

// Enqueue stores a frame for the device with its next seq.
func (s *SQL) Enqueue(ctx context.Context, deviceID string, out Outgoing) (Delivery, error) {
	var d Delivery
	err := s.tx(ctx, func(tx handle) error {
		var err error
		d, err = appendOutbox(ctx, tx, deviceID, out, "")
		return err
	})
	if err != nil {
		return Delivery{}, fmt.Errorf("queue %s for %s: %w", out.Kind, deviceID, err)
	}
	return d, nil
}

// Replay returns the frames after seq, oldest first. An announcement's row
// and a heads-up policy's row have no frame of their own: it is built from
// the announcement's or the policy revision's template.
func (s *SQL) Replay(ctx context.Context, deviceID string, after uint64) ([]Delivery, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT o.seq, o.frame, o.announcement_id, COALESCE(a.frame, p.frame) FROM outbox o
		LEFT JOIN announcements a ON a.id = o.announcement_id AND length(o.frame) = 0
		LEFT JOIN checks_policy_frames p ON p.revision = o.policy_rev AND length(o.frame) = 0
		WHERE o.device_id = ? AND o.seq > ? ORDER BY o.seq`, deviceID, after)
	if err != nil {
		return nil, fmt.Errorf("replay for %s: %w", deviceID, err)
	}
	defer rows.Close()
	var out []Delivery
	for rows.Next() {
		d := Delivery{DeviceID: deviceID}
		var annID sql.NullString
		var tmpl []byte
		if err := rows.Scan(&d.Seq, &d.Frame, &annID, &tmpl); err != nil {
			return nil, fmt.Errorf("replay for %s: %w", deviceID, err)
		}
		if len(d.Frame) == 0 {
			f, err := protocol.ParseSeqFrame(tmpl)
			if err != nil {
				return nil, fmt.Errorf("replay for %s: shared frame (announcement %q) at seq %d: %w", deviceID, annID.String, d.Seq, err)
			}
			d.Frame = f.Frame(d.Seq)
		}
		out = append(out, d)
	}
	return out, rows.Err()
}
