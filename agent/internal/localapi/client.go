package localapi

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/deskside/deskside/agent/agentapi"
	"github.com/deskside/deskside/shared/protocol"
)

// Client is the agent process seen through its socket: an
// agentapi.Backend for the CLI and the window process. The zero value is not usable; call
// NewClient. Methods are safe for concurrent use.
type Client struct {
	socket string
	hc     *http.Client
}

var _ agentapi.Backend = (*Client)(nil)

// NewClient returns a client for the socket (or pipe) at path; "" means
// DefaultSocketPath().
func NewClient(path string) *Client {
	if path == "" {
		p, err := DefaultSocketPath()
		if err == nil {
			path = p
		}
	}
	c := &Client{socket: path}
	c.hc = &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return dial(ctx, c.socket)
		},
		DisableCompression: true,
	}}
	return c
}

// SocketPath returns the socket or pipe the client dials.
func (c *Client) SocketPath() string { return c.socket }

// Status returns the agent's connection state and counters.
func (c *Client) Status(ctx context.Context) (agentapi.Connection, error) {
	var s agentapi.Connection
	err := c.do(ctx, http.MethodGet, "status", nil, &s)
	return s, err
}

// Snapshot returns exactly what IT can see: the last snapshot the server
// acknowledged. With fresh, the agent collects a new one and sends it first.
func (c *Client) Snapshot(ctx context.Context, fresh bool) (*protocol.Snapshot, error) {
	p := "snapshot"
	if fresh {
		p += "?fresh=1"
	}
	var s protocol.Snapshot
	if err := c.do(ctx, http.MethodGet, p, nil, &s); err != nil {
		return nil, err
	}
	return &s, nil
}

// Requests lists the user's requests, newest first (without threads).
func (c *Client) Requests(ctx context.Context) ([]agentapi.Request, error) {
	var out struct {
		Requests []agentapi.Request `json:"requests"`
	}
	err := c.do(ctx, http.MethodGet, "requests", nil, &out)
	return out.Requests, err
}

// Request returns one request with its thread and status history.
func (c *Client) Request(ctx context.Context, id string) (agentapi.Request, error) {
	var r agentapi.Request
	err := c.do(ctx, http.MethodGet, "requests/"+url.PathEscape(id), nil, &r)
	return r, err
}

// RaiseRequest saves a new request; when it returns nil the request is on
// disk and will reach IT (Request.Sent tells whether it already has). A
// snapshot of the device is taken and attached.
func (c *Client) RaiseRequest(ctx context.Context, r agentapi.NewRequest) (agentapi.Request, error) {
	var out agentapi.Request
	err := c.do(ctx, http.MethodPost, "requests", r, &out)
	return out, err
}

// Reply adds the user's message to a request's thread (saved, then sent).
func (c *Client) Reply(ctx context.Context, requestID, text string) (agentapi.Message, error) {
	var m agentapi.Message
	err := c.do(ctx, http.MethodPost, "requests/"+url.PathEscape(requestID)+"/reply",
		map[string]string{"text": text}, &m)
	return m, err
}

// Rate records the user's satisfaction (1..5) with a resolved request.
func (c *Client) Rate(ctx context.Context, requestID string, rating int, comment string) error {
	return c.do(ctx, http.MethodPost, "requests/"+url.PathEscape(requestID)+"/rate",
		map[string]any{"rating": rating, "comment": comment}, nil)
}

// Reopen reopens a resolved request, with an optional word why.
func (c *Client) Reopen(ctx context.Context, requestID, text string) error {
	return c.do(ctx, http.MethodPost, "requests/"+url.PathEscape(requestID)+"/reopen",
		map[string]string{"text": text}, nil)
}

// MarkRead marks a request and its thread as read.
func (c *Client) MarkRead(ctx context.Context, requestID string) error {
	return c.do(ctx, http.MethodPost, "requests/"+url.PathEscape(requestID)+"/read", nil, nil)
}

// Announcements lists announcements received, newest first.
func (c *Client) Announcements(ctx context.Context) ([]agentapi.Announcement, error) {
	var out struct {
		Announcements []agentapi.Announcement `json:"announcements"`
	}
	err := c.do(ctx, http.MethodGet, "announcements", nil, &out)
	return out.Announcements, err
}

// MarkAnnouncementRead marks one announcement as read.
func (c *Client) MarkAnnouncementRead(ctx context.Context, id string) error {
	return c.do(ctx, http.MethodPost, "announcements/"+url.PathEscape(id)+"/read", nil, nil)
}

// Events streams live events (server-sent events) until ctx is cancelled or
// the agent goes away; then the channel is closed. The first event is always
// the current state (EventState), so a window can draw at once.
func (c *Client) Events(ctx context.Context) (<-chan agentapi.Event, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://local"+Prefix+"events", nil)
	if err != nil {
		return nil, fmt.Errorf("events: %w", err)
	}
	req.Header.Set("Accept", "text/event-stream")
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, c.unreachable(ctx, err)
	}
	if resp.StatusCode != http.StatusOK {
		defer resp.Body.Close()
		return nil, decodeError(resp)
	}
	ch := make(chan agentapi.Event, 16)
	go func() {
		defer close(ch)
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 64<<10), 8<<20)
		for sc.Scan() {
			data, ok := strings.CutPrefix(sc.Text(), "data: ")
			if !ok {
				continue // comments (keepalives), event names, blank separators
			}
			var ev agentapi.Event
			if json.Unmarshal([]byte(data), &ev) != nil {
				continue
			}
			select {
			case ch <- ev:
			case <-ctx.Done():
				return
			}
		}
	}()
	return ch, nil
}

func (c *Client) do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("encode %s: %w", path, err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, "http://local"+Prefix+path, body)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return c.unreachable(ctx, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return decodeError(resp)
	}
	if out == nil {
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("decode %s answer: %w", path, err)
	}
	return nil
}

func (c *Client) unreachable(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("local api: %w", ctx.Err())
	}
	// The dial error stays in Err, for logs and `--verbose`, not in the sentence.
	return &agentapi.Error{Code: agentapi.CodeUnavailable,
		Message: "The Deskside agent isn't running. Start it with `deskside-agent run` (or sign out and in again).", Err: err}
}

func decodeError(resp *http.Response) error {
	e := &agentapi.Error{HTTPStatus: resp.StatusCode}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if json.Unmarshal(b, e) != nil || e.Message == "" {
		e.Code = agentapi.CodeInternal
		e.Message = fmt.Sprintf("The Deskside agent answered %s.", resp.Status)
	}
	return e
}
