package release

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/deskside/deskside/shared/protocol"
	srel "github.com/deskside/deskside/shared/release"
)

// Offer records the device's platform, channel and version and returns the
// release it should run, or nil. Call it when a device connects (then send
// the result as update.available) and for the agent's periodic check.
// An empty Channel keeps the one recorded last (stable at first).
func (s *Service) Offer(ctx context.Context, d Device) (*protocol.UpdateAvailable, error) {
	if d.Channel == "" {
		var ch string
		err := s.db.QueryRowContext(ctx, `SELECT channel FROM release_devices WHERE device_id = ?`, d.ID).Scan(&ch)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return nil, fmt.Errorf("offer: %w", err)
		}
		d.Channel = srel.Channel(ch)
	}
	if !d.Channel.Valid() {
		d.Channel = srel.ChannelStable
	}
	if err := s.recordDevice(ctx, d); err != nil {
		return nil, err
	}
	rels, err := s.all(ctx)
	if err != nil {
		return nil, err
	}
	return toOffer(choose(d, rels)), nil
}

func (s *Service) recordDevice(ctx context.Context, d Device) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO release_devices (device_id, os, arch, channel, version, seen_at)
		VALUES (?,?,?,?,?,?) ON CONFLICT (device_id) DO UPDATE SET os = excluded.os, arch = excluded.arch,
		channel = excluded.channel, version = excluded.version, seen_at = excluded.seen_at`,
		d.ID, d.OS, d.Arch, string(d.Channel), d.Version, s.now())
	if err != nil {
		return fmt.Errorf("record device %s: %w", d.ID, err)
	}
	return nil
}

func toOffer(r *Release) *protocol.UpdateAvailable {
	if r == nil {
		return nil
	}
	base := "/api/v1/releases/" + r.ID
	return &protocol.UpdateAvailable{Version: r.Version, Channel: string(r.Channel),
		ManifestURL: base + "/manifest", BinaryURL: base + "/binary", Rollback: r.Rollback}
}

// nudgeConnected offers the current releases to every connected device.
func (s *Service) nudgeConnected(ctx context.Context) {
	if s.cfg.Connected == nil || s.cfg.Send == nil {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	rels, err := s.all(ctx)
	if err != nil {
		s.log.Warn("nudge devices", "err", err)
		return
	}
	for _, d := range s.cfg.Connected() {
		if d.Channel == "" {
			var ch string
			_ = s.db.QueryRowContext(ctx, `SELECT channel FROM release_devices WHERE device_id = ?`, d.ID).Scan(&ch)
			d.Channel = srel.Channel(ch)
		}
		if !d.Channel.Valid() {
			d.Channel = srel.ChannelStable
		}
		if o := toOffer(choose(d, rels)); o != nil {
			if err := s.cfg.Send(ctx, d.ID, *o); err != nil {
				s.log.Debug("nudge device", "device", d.ID, "err", err)
			}
		}
	}
}
