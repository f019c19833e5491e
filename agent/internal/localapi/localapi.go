// Package localapi is the agent process's local API: HTTP over a unix socket
// in the user's runtime dir (a named pipe on Windows), reachable only by the
// same user, as Tailscale's LocalAPI. The server serves any agentapi.Backend
// (the core); Client is an agentapi.Backend over the socket, for the CLI and
// the short-lived window processes. Nothing listens on a TCP port.
package localapi

import (
	"fmt"

	"github.com/deskside/deskside/agent/agentapi"
)

// Prefix is the path prefix of every endpoint; v0 while it settles.
const Prefix = "/localapi/v0/"

func errorf(status int, code agentapi.Code, format string, a ...any) *agentapi.Error {
	return &agentapi.Error{HTTPStatus: status, Code: code, Message: fmt.Sprintf(format, a...)}
}
