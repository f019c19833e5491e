// Package softwaretest seeds the software registry with plain SQL for
// tests and benchmarks: titles with their device bitmaps, versions,
// answers and inventories' device rows, as the ingest side would leave them.
package softwaretest

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/deskside/deskside/shared/protocol"
)

// DB is what the seeders need of a store (store.SQL has both).
type DB interface {
	DB() *sql.DB
	Rebind(query string) string
}

// Title is a title to seed. Devices are device ids already enrolled;
// PerUser of them (the first ones) count as per-user installs.
type Title struct {
	Name      string
	Publisher string
	Source    protocol.SoftwareSource
	Status    protocol.SoftwareStatus // "" is new
	Devices   []string
	PerUser   int
	Versions  map[string]int // version → devices
	FirstSeen time.Time      // zero: now
}

// ID is the title's id, as the protocol computes it.
func (t Title) ID() string { return protocol.SoftwareTitleID(t.Name, t.Publisher, t.Source) }

type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// Seed inserts the titles (and a device_software row for each device that
// has none) in one transaction and returns their ids in order.
func Seed(ctx context.Context, db DB, titles ...Title) ([]string, error) {
	tx, err := db.DB().BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("seed software: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // after Commit it is a no-op
	ids := make([]string, 0, len(titles))
	nums := map[string]uint32{}
	for _, t := range titles {
		id, err := seedTitle(ctx, db, tx, t, nums)
		if err != nil {
			return nil, fmt.Errorf("seed software %q: %w", t.Name, err)
		}
		ids = append(ids, id)
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("seed software: %w", err)
	}
	return ids, nil
}

// deviceNum returns the device's device_software.num, adding its row.
func deviceNum(ctx context.Context, db DB, tx execer, deviceID string, nums map[string]uint32) (uint32, error) {
	if n, ok := nums[deviceID]; ok {
		return n, nil
	}
	if _, err := tx.ExecContext(ctx, db.Rebind(`INSERT INTO device_software(device_id, hash, updated_at) VALUES(?,?,?)
		ON CONFLICT(device_id) DO NOTHING`), deviceID, "sha256:seeded", time.Now().UnixMilli()); err != nil {
		return 0, err
	}
	var n int64
	if err := tx.QueryRowContext(ctx, db.Rebind("SELECT num FROM device_software WHERE device_id = ?"), deviceID).Scan(&n); err != nil {
		return 0, err
	}
	nums[deviceID] = uint32(n)
	return uint32(n), nil
}

func seedTitle(ctx context.Context, db DB, tx execer, t Title, nums map[string]uint32) (string, error) {
	bm := roaring.New()
	for _, d := range t.Devices {
		n, err := deviceNum(ctx, db, tx, d, nums)
		if err != nil {
			return "", err
		}
		bm.Add(n)
	}
	set, err := bm.MarshalBinary()
	if err != nil {
		return "", err
	}
	if t.Status == "" {
		t.Status = protocol.SoftwareNew
	}
	first := t.FirstSeen
	if first.IsZero() {
		first = time.Now()
	}
	id := t.ID()
	_, err = tx.ExecContext(ctx, db.Rebind(`INSERT INTO software_titles(id, name, publisher, source, status, devices,
		per_user_devices, first_seen, last_seen, device_set) VALUES(?,?,?,?,?,?,?,?,?,?)`),
		id, t.Name, t.Publisher, t.Source.Family(), string(t.Status), len(t.Devices), t.PerUser, first.UnixMilli(),
		time.Now().UnixMilli(), set)
	if err != nil {
		return "", err
	}
	for v, n := range t.Versions {
		if _, err := tx.ExecContext(ctx, db.Rebind(`INSERT INTO software_versions(title_id, version, devices, first_seen, last_seen)
			VALUES(?,?,?,?,?)`), id, v, n, first.UnixMilli(), time.Now().UnixMilli()); err != nil {
			return "", err
		}
	}
	return id, nil
}

// Answer records a person's answer about a title as the ingest side
// would (and counts a "work" answer in the title's told).
func Answer(ctx context.Context, db DB, titleID, deviceID, user string, answer protocol.SoftwareAnswerKind, requestID string, at time.Time) error {
	_, err := db.DB().ExecContext(ctx, db.Rebind(`INSERT INTO software_answers(title_id, device_id, usr, answer, request_id, at)
		VALUES(?,?,?,?,?,?)`), titleID, deviceID, user, string(answer), requestID, at.UnixMilli())
	if err != nil {
		return fmt.Errorf("seed answer on %s: %w", titleID, err)
	}
	if answer == protocol.AnswerForWork {
		if _, err := db.DB().ExecContext(ctx, db.Rebind("UPDATE software_titles SET told = told + 1 WHERE id = ?"), titleID); err != nil {
			return fmt.Errorf("seed answer on %s: %w", titleID, err)
		}
	}
	return nil
}
