// Package localapi is the agent process's local API: HTTP over a unix socket
// in the user's runtime dir (a named pipe on Windows), reachable only by the
// same user, as Tailscale's LocalAPI. The CLI and the short-lived window
// processes talk to the agent through Client; nothing listens on a TCP port.
package localapi

import (
	"context"
	"errors"
	"fmt"

	"github.com/deskside/deskside/agent/internal/model"
	"github.com/deskside/deskside/shared/protocol"
)

// Prefix is the path prefix of every endpoint; v0 while it settles.
const Prefix = "/localapi/v0/"

// Error codes carried in an error answer ({"error":code,"message":sentence}).
const (
	CodeBadRequest  = "bad_request"
	CodeNotFound    = "not_found"
	CodeDiskFull    = "disk_full"
	CodeNotEnrolled = "not_enrolled"
	CodeInternal    = "internal"
	CodeUnavailable = "unavailable"
)

// Error is a refused local API call. Message is a warm sentence that a window
// or the CLI may show to the user as is.
type Error struct {
	Status  int    `json:"-"`
	Code    string `json:"error"`
	Message string `json:"message"`
}

func (e *Error) Error() string { return e.Message }

// IsCode reports whether err is a local API error with the given code.
func IsCode(err error, code string) bool {
	var e *Error
	return errors.As(err, &e) && e.Code == code
}

// Backend is what the server serves; the agent core implements it. Errors
// that carry a user-facing sentence implement UserError.
type Backend interface {
	Status() model.Status
	// Snapshot returns what IT can see: the last snapshot the server
	// acknowledged, or with fresh a newly collected (and sent) one.
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
	// Subscribe returns live events until cancel is called.
	Subscribe() (events <-chan model.Event, cancel func())
}

// UserError is implemented by backend errors that carry a code and a
// sentence for the user (disk full, not found, not enrolled…).
type UserError interface {
	error
	Code() string
	UserMessage() string
}

// ErrClosed is returned by Client.Events when the agent process went away.
var ErrClosed = errors.New("the Deskside agent closed the connection")

func errorf(status int, code, format string, a ...any) *Error {
	return &Error{Status: status, Code: code, Message: fmt.Sprintf(format, a...)}
}
