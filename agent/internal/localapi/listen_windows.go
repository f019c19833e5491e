//go:build windows

package localapi

import (
	"context"
	"fmt"
	"net"
	"os"

	"github.com/Microsoft/go-winio"
	"golang.org/x/sys/windows"
)

// DefaultSocketPath is the agent's named pipe: $DESKSIDE_SOCKET, else
// \\.\pipe\deskside-agent-<user>.
func DefaultSocketPath() (string, error) {
	if p := os.Getenv("DESKSIDE_SOCKET"); p != "" {
		return p, nil
	}
	u := os.Getenv("USERNAME")
	if u == "" {
		u = "user"
	}
	return `\\.\pipe\deskside-agent-` + u, nil
}

// Listen opens the named pipe with a security descriptor that grants access
// to the current user only.
func Listen(path string) (net.Listener, error) {
	tok := windows.GetCurrentProcessToken()
	tu, err := tok.GetTokenUser()
	if err != nil {
		return nil, fmt.Errorf("find current user: %w", err)
	}
	sddl := "D:P(A;;GA;;;" + tu.User.Sid.String() + ")"
	l, err := winio.ListenPipe(path, &winio.PipeConfig{SecurityDescriptor: sddl, InputBufferSize: 64 << 10, OutputBufferSize: 64 << 10})
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", path, err)
	}
	return l, nil
}

func dial(ctx context.Context, path string) (net.Conn, error) {
	return winio.DialPipeContext(ctx, path)
}
