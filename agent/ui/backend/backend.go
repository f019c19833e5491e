// Package backend is the seam between Deskside's UI and the agent process:
// the one interface the tray and the windows talk through, and an in-memory
// Fake for tests and demos. The real implementation is the local API client
// (agent/internal/localapi.Client), which satisfies Backend as it is.
package backend

import (
	"context"
	"errors"

	"github.com/deskside/deskside/agent/internal/localapi"
	"github.com/deskside/deskside/agent/internal/model"
	"github.com/deskside/deskside/shared/protocol"
)

// Backend is everything the UI asks of the agent process.
type Backend interface {
	Status(ctx context.Context) (model.Status, error)
	// Snapshot returns what IT can see: the last snapshot the server has.
	Snapshot(ctx context.Context, fresh bool) (*protocol.Snapshot, error)
	Requests(ctx context.Context) ([]model.Request, error)
	Request(ctx context.Context, id string) (model.Request, error)
	RaiseRequest(ctx context.Context, r model.NewRequest) (model.Request, error)
	Reply(ctx context.Context, requestID, text string) (model.Message, error)
	Rate(ctx context.Context, requestID string, rating int, comment string) error
	Reopen(ctx context.Context, requestID, text string) error
	MarkRead(ctx context.Context, requestID string) error
	Announcements(ctx context.Context) ([]model.Announcement, error)
	MarkAnnouncementRead(ctx context.Context, id string) error
	// Events streams live changes until ctx ends; the channel is then closed.
	// The first event is the current state.
	Events(ctx context.Context) (<-chan model.Event, error)
}

var _ Backend = (*localapi.Client)(nil)

// UserMessage returns the sentence to show a person for err: the agent's own
// warm sentence when it has one, or a calm generic one.
func UserMessage(err error) string {
	if err == nil {
		return ""
	}
	var e *localapi.Error
	if errors.As(err, &e) && e.Message != "" {
		return e.Message
	}
	return "Something went wrong on our side. Please try again in a moment."
}
