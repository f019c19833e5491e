package store

import (
	"context"
	"fmt"
)

// DevicesSeen records many devices' hellos in one transaction: the API
// coalesces hellos in memory and writes them every ~500 ms, so a reconnect
// storm costs one commit per round instead of one per handshake. Of each
// Device only ID, AgentVersion, OS, Arch and LastSeen are used; an empty
// string keeps the stored value, as in DeviceSeen.
func (s *SQL) DevicesSeen(ctx context.Context, seen []Device) error {
	if len(seen) == 0 {
		return nil
	}
	err := s.tx(ctx, func(tx handle) error {
		for _, d := range seen {
			_, err := tx.ExecContext(ctx, `UPDATE devices SET last_seen = ?,
				agent_version = CASE WHEN ? = '' THEN agent_version ELSE ? END,
				os = CASE WHEN ? = '' THEN os ELSE ? END, arch = CASE WHEN ? = '' THEN arch ELSE ? END WHERE id = ?`,
				ms(d.LastSeen), d.AgentVersion, d.AgentVersion, d.OS, d.OS, d.Arch, d.Arch, d.ID)
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("record %d devices seen: %w", len(seen), err)
	}
	return nil
}
