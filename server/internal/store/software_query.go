package store

import (
	"context"
	"time"

	"github.com/deskside/deskside/shared/protocol"
)

func (s *SQL) ListSoftware(ctx context.Context, f SoftwareFilter) (SoftwarePage, error) {
	return SoftwarePage{}, errSoftwareNotYet
}

func (s *SQL) SoftwareTitleDetail(ctx context.Context, id string, devicesLimit int) (SoftwareTitleDetail, error) {
	return SoftwareTitleDetail{}, errSoftwareNotYet
}

func (s *SQL) UpdateSoftware(ctx context.Context, id string, ch SoftwareChange, by Technician, now time.Time,
	out func(t SoftwareTitle, a SoftwareAnswer) Outgoing) (SoftwareTitle, []Delivery, error) {
	return SoftwareTitle{}, nil, errSoftwareNotYet
}

func (s *SQL) LinkRequestSoftware(ctx context.Context, requestID, titleID string) error {
	return errSoftwareNotYet
}

func (s *SQL) SoftwareCatalogue(ctx context.Context) ([]protocol.CatalogueItem, error) {
	return nil, errSoftwareNotYet
}

func (s *SQL) SoftwarePolicy(ctx context.Context) (SoftwarePolicy, error) {
	return SoftwarePolicy{}, errSoftwareNotYet
}

func (s *SQL) PutSoftwarePolicy(ctx context.Context, p SoftwarePolicy) (SoftwarePolicy, error) {
	return SoftwarePolicy{}, errSoftwareNotYet
}

func (s *SQL) SoftwareFigures(ctx context.Context, now time.Time) (SoftwareFigures, error) {
	return SoftwareFigures{}, errSoftwareNotYet
}
