package store

import (
	"context"
	"errors"
	"time"

	"github.com/deskside/deskside/shared/protocol"
)

// errSoftwareNotYet marks the software store methods still being built
// (wave 4); nothing calls them yet.
var errSoftwareNotYet = errors.New("software inventory is not available in this build")

func (s *SQL) ApplyInventories(ctx context.Context, updates []InventoryUpdate) ([]InventoryOutcome, error) {
	return nil, errSoftwareNotYet
}

func (s *SQL) DeviceSoftware(ctx context.Context, deviceID string) (string, []protocol.SoftwareEntry, error) {
	return "", nil, errSoftwareNotYet
}

func (s *SQL) DeviceSoftwareHash(ctx context.Context, deviceID string) (string, error) {
	return "", errSoftwareNotYet
}

func (s *SQL) RecordSoftwareAnswer(ctx context.Context, frameID, deviceID string, a protocol.SoftwareAnswer, now time.Time) (Result, error) {
	return Result{}, errSoftwareNotYet
}
