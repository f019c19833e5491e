// Package agentapi declares, once, what the agent process offers its user
// interfaces: the Backend interface (every user action and read), the domain
// types it speaks in, and the Error it refuses with. The agent core
// implements Backend; the local API serves any Backend and its Client is one
// again over the socket; agentapitest.Fake is one in memory. Each asserts it
// at compile time, so the surface cannot drift.
//
// Adding an action means: a method here, its implementation in the core, a
// route in the local API server, a method on the local API client, and one
// on the Fake.
package agentapi

import (
	"context"
	"errors"

	"github.com/deskside/deskside/shared/protocol"
)

// Backend is everything the tray, the windows and the CLI ask of the agent.
// Errors meant for the user are *Error.
type Backend interface {
	// Status returns the agent's link to the server with fresh counters.
	Status(ctx context.Context) (Connection, error)
	// Snapshot returns what IT can see: the last snapshot the server
	// acknowledged, or with fresh a newly collected (and sent) one.
	Snapshot(ctx context.Context, fresh bool) (*protocol.Snapshot, error)
	// Requests lists the user's requests, newest first, without threads.
	Requests(ctx context.Context) ([]Request, error)
	// Request returns one request with its thread and status history.
	Request(ctx context.Context, id string) (Request, error)
	// RaiseRequest saves a new request; when it returns nil the request is
	// on disk and will reach IT (Request.Sent tells whether it already has).
	RaiseRequest(ctx context.Context, r NewRequest) (Request, error)
	// Reply adds the user's message to a request's thread (saved, then sent).
	Reply(ctx context.Context, requestID, text string) (Message, error)
	// Rate records the user's satisfaction (1..5) with a resolved request.
	Rate(ctx context.Context, requestID string, rating int, comment string) error
	// Reopen reopens a resolved request, with an optional word why.
	Reopen(ctx context.Context, requestID, text string) error
	// MarkRead marks a request and its thread as read.
	MarkRead(ctx context.Context, requestID string) error
	// Announcements lists what IT announced, newest first.
	Announcements(ctx context.Context) ([]Announcement, error)
	// MarkAnnouncementRead marks one announcement as read.
	MarkAnnouncementRead(ctx context.Context, id string) error
	// Events streams live changes until ctx ends or the agent goes away;
	// the channel is then closed. The first event is the current
	// Connection (EventConnection), so a window can draw at once.
	Events(ctx context.Context) (<-chan Event, error)

	// Self-help (protocol revision 2).

	// SuggestArticles returns up to three articles for what the person
	// typed: the server's, for this computer's OS, when it answers
	// quickly, else the agent's offline copy (Suggestions.Source says
	// which). An unreachable server is not an error; text with no words
	// gives no articles.
	SuggestArticles(ctx context.Context, query string) (Suggestions, error)
	// Articles lists the articles kept on this computer (query "") or
	// searches them: the "Help articles" browser, offline as online.
	Articles(ctx context.Context, query string) ([]Article, error)
	// Article returns one article with its Markdown body.
	Article(ctx context.Context, id string) (Article, error)
	// ArticleFeedback records what the person did with an article
	// (protocol.ArticleViewed, ArticleSolved, ArticleStillNeedHelp); it
	// reaches IT through the outbox.
	ArticleFeedback(ctx context.Context, id, event string) error
	// KnownProblems lists IT's known problems that are not resolved yet
	// ("Is it this?"), newest first.
	KnownProblems(ctx context.Context) ([]Announcement, error)
	// MeToo says this person has the known problem too (once; saying it
	// again is not an error). They get the all-clear when IT resolves it.
	MeToo(ctx context.Context, announcementID string) error
	// Checks lists the heads-up checks' current results, in the order a
	// person reads them.
	Checks(ctx context.Context) ([]CheckItem, error)
	// CheckAction does what the person chose about a check (see
	// CheckAction); option is a restart's time for CheckFix.
	CheckAction(ctx context.Context, kind protocol.CheckKind, action CheckAction, option string) (CheckActionResult, error)

	// Software amnesty (protocol revision 3).

	// Software returns the installed software this computer reports
	// (InSync: exactly what the server holds).
	Software(ctx context.Context) (SoftwareInventory, error)
	// SoftwarePrompt returns the prompt to show now, or nil when there is
	// none or the throttle says not now.
	SoftwarePrompt(ctx context.Context) (*SoftwarePrompt, error)
	// AnswerSoftware records the person's answer to a prompt: for work it
	// raises a pre-filled software request (saved, then sent); never means
	// never ask about the title again.
	AnswerSoftware(ctx context.Context, titleID string, answer protocol.SoftwareAnswerKind) (SoftwareAnswerResult, error)
	// SoftwareNotes lists IT's thank-yous and notes, newest first.
	SoftwareNotes(ctx context.Context) ([]SoftwareNote, error)
	// Catalogue lists the apps IT offers (kept for offline use).
	Catalogue(ctx context.Context) ([]protocol.CatalogueItem, error)
	// RequestApp raises a software request for an app (saved, then sent).
	RequestApp(ctx context.Context, r AppRequest) (Request, error)
	// Composing says the person is typing a request (true) or stopped
	// (false), so no prompt interrupts them. It lapses on its own after a
	// while in case a window goes away without saying so.
	Composing(ctx context.Context, on bool) error
}

// Code says why an action was refused, for programs; the local API carries
// it as {"error": code}.
type Code string

const (
	CodeBadRequest  Code = "bad_request"
	CodeNotFound    Code = "not_found"
	CodeDiskFull    Code = "disk_full"
	CodeNotEnrolled Code = "not_enrolled"
	CodeInternal    Code = "internal"
	CodeUnavailable Code = "unavailable"
)

// Error is a refused action: a Code for programs and a Message, a plain
// sentence a window or the CLI may show the user as it is.
type Error struct {
	Code    Code   `json:"error"`
	Message string `json:"message"`
	// HTTPStatus is the local API's answer when the error came over it
	// (0 when the agent is unreachable or the error is in-process).
	HTTPStatus int `json:"-"`
	// Err is the technical cause, for logs; it never crosses the socket.
	Err error `json:"-"`
}

// NewError returns an Error with the code, the user's sentence and the
// technical cause (may be nil).
func NewError(code Code, msg string, err error) *Error {
	return &Error{Code: code, Message: msg, Err: err}
}

func (e *Error) Error() string {
	if e.Err != nil {
		return e.Message + ": " + e.Err.Error()
	}
	return e.Message
}

// Unwrap returns the technical cause.
func (e *Error) Unwrap() error { return e.Err }

// UserMessage is the sentence for the user.
func (e *Error) UserMessage() string { return e.Message }

// IsCode reports whether err is an *Error with the given code.
func IsCode(err error, code Code) bool {
	var e *Error
	return errors.As(err, &e) && e.Code == code
}

// UserMessage returns the sentence to show a person for err: the agent's own
// sentence when it has one, or a calm generic one.
func UserMessage(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) && e.Message != "" {
		return e.Message
	}
	return "Something went wrong on our side. Please try again in a moment."
}
