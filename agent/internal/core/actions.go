package core

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/deskside/deskside/agent/agentapi"
	"github.com/deskside/deskside/agent/internal/store"
	"github.com/deskside/deskside/agent/internal/sysinfo"
	"github.com/deskside/deskside/shared/protocol"
)

func randFloat() float64 { return rand.Float64() }

func badInput(msg string) error { return userErr(agentapi.CodeBadRequest, msg, nil) }

// checkText applies the protocol's one text rule (protocol.CheckText) and
// turns its verdict into a sentence for the person typing.
func checkText(text string, required bool) error {
	err := protocol.CheckText("text", text, required)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, protocol.ErrTextEmpty):
		return badInput("Please write a few words first.")
	case errors.Is(err, protocol.ErrTextTooLong):
		return badInput(fmt.Sprintf("That's a bit long — please keep it under %d characters.", protocol.MaxTextRunes))
	default:
		return badInput("Some of that text couldn't be read. Please type it again.")
	}
}

// RaiseRequest saves a new request, with a snapshot of the device as it is
// now and the optional screenshot, and queues it for IT. When it returns
// nil the request is on disk: the UI may say "sent" (Sent tells whether
// the server already has it).
func (c *Core) RaiseRequest(ctx context.Context, in agentapi.NewRequest) (agentapi.Request, error) {
	c.touch()
	r, err := SaveRequest(ctx, c.st, c.sys, in)
	if err != nil {
		return r, err
	}
	c.log.Info("request saved", "request", r.ID, "category", r.Category, "screenshot", r.HasScreenshot)
	c.kickLink()
	c.promise(&r)
	return r, nil
}

// SaveRequest is RaiseRequest without a running agent: it checks the new
// request, takes a snapshot of the device and saves both, with the
// request.new frame, in st's outbox. `agent ask` uses it when the agent
// process is not running; the agent sends the request when it starts.
func SaveRequest(ctx context.Context, st *store.Store, sys sysinfo.Collector, in agentapi.NewRequest) (agentapi.Request, error) {
	if in.Category == "" {
		in.Category = protocol.CategoryProblem
	}
	if in.Urgency == "" {
		in.Urgency = protocol.UrgencyWhenYouCan
	}
	if !in.Category.Valid() {
		return agentapi.Request{}, badInput("Please pick what kind of help you need: a problem, a question, software, or an idea.")
	}
	if !in.Urgency.Valid() {
		return agentapi.Request{}, badInput("Please say whether this is blocking your work or can wait.")
	}
	if err := checkText(in.Text, true); err != nil {
		return agentapi.Request{}, err
	}
	if in.SoftwareTitle != "" && (in.Category != protocol.CategorySoftware || !strings.HasPrefix(in.SoftwareTitle, "sw_") || len(in.SoftwareTitle) > 64) {
		return agentapi.Request{}, badInput("We couldn't tell which app this is about. Please pick it again.")
	}
	var shot *protocol.Attachment
	if len(in.Screenshot) > 0 {
		if len(in.Screenshot) > protocol.MaxScreenshotBytes {
			return agentapi.Request{}, badInput(fmt.Sprintf("That screenshot is too large to send (the limit is %d MB).", protocol.MaxScreenshotBytes>>20))
		}
		typ := http.DetectContentType(in.Screenshot)
		if typ != "image/png" && typ != "image/jpeg" {
			return agentapi.Request{}, badInput("The screenshot must be a PNG or JPEG picture.")
		}
		name := in.ScreenshotName
		if name == "" {
			name = "screenshot." + strings.TrimPrefix(typ, "image/")
		}
		shot = &protocol.Attachment{Name: name, Type: typ, Data: in.Screenshot}
	}
	snap := sys.Snapshot(ctx)
	now := time.Now().UTC().Truncate(time.Millisecond)
	r := agentapi.Request{ID: protocol.NewID(), Category: in.Category, Urgency: in.Urgency, Text: in.Text,
		Status: protocol.StatusNew, CreatedAt: now, UpdatedAt: now, HasScreenshot: shot != nil}
	body := protocol.RequestNew{RequestID: r.ID, Category: r.Category, Urgency: r.Urgency, Text: r.Text,
		Screenshot: shot, Snapshot: &snap, CreatedAt: now, ShownArticles: shownArticles(in.ShownArticles), Check: in.Check,
		SoftwareTitle: in.SoftwareTitle}
	env, err := protocol.New(protocol.KindRequestNew, body)
	if err != nil {
		return agentapi.Request{}, err
	}
	if err := st.AddRequest(ctx, r, env); err != nil {
		return agentapi.Request{}, storeErr(err)
	}
	return r, nil
}

// Reply adds the user's message to a thread (saved, then sent).
func (c *Core) Reply(ctx context.Context, requestID, text string) (agentapi.Message, error) {
	c.touch()
	if err := checkText(text, true); err != nil {
		return agentapi.Message{}, err
	}
	m := agentapi.Message{ID: protocol.NewID(), RequestID: requestID, FromUser: true, Text: text,
		CreatedAt: time.Now().UTC().Truncate(time.Millisecond), Read: true}
	env, err := protocol.New(protocol.KindRequestReply, protocol.RequestReply{RequestID: requestID, MessageID: m.ID, Text: text, CreatedAt: m.CreatedAt})
	if err != nil {
		return m, err
	}
	if err := c.st.AddReply(ctx, m, env); err != nil {
		return agentapi.Message{}, storeErr(err)
	}
	c.kickLink()
	return m, nil
}

// Rate records the user's satisfaction, 1..5.
func (c *Core) Rate(ctx context.Context, requestID string, rating int, comment string) error {
	c.touch()
	if rating < 1 || rating > 5 {
		return badInput("Please pick between 1 and 5 stars.")
	}
	if err := checkText(comment, false); err != nil {
		return err
	}
	env, err := protocol.New(protocol.KindRequestRate, protocol.RequestRate{RequestID: requestID, Rating: rating, Comment: comment})
	if err != nil {
		return err
	}
	if err := c.st.AddRating(ctx, requestID, rating, env); err != nil {
		return storeErr(err)
	}
	c.kickLink()
	return nil
}

// Reopen reopens a request, with an optional word why.
func (c *Core) Reopen(ctx context.Context, requestID, text string) error {
	c.touch()
	if err := checkText(text, false); err != nil {
		return err
	}
	env, err := protocol.New(protocol.KindRequestReopen, protocol.RequestReopen{RequestID: requestID, Text: text})
	if err != nil {
		return err
	}
	if err := c.st.AddReopen(ctx, requestID, text, env); err != nil {
		return storeErr(err)
	}
	c.kickLink()
	return nil
}

// MarkRead marks a request and its thread read.
func (c *Core) MarkRead(ctx context.Context, requestID string) error {
	c.touch()
	return storeErr(c.st.MarkRead(ctx, requestID))
}

// MarkAnnouncementRead marks an announcement read.
func (c *Core) MarkAnnouncementRead(ctx context.Context, id string) error {
	return storeErr(c.st.MarkAnnouncementRead(ctx, id))
}

// Requests lists the user's requests.
func (c *Core) Requests(ctx context.Context) ([]agentapi.Request, error) {
	rs, err := c.st.Requests(ctx)
	c.promiseAll(rs)
	return rs, storeErr(err)
}

// Request returns one request with its thread and history.
func (c *Core) Request(ctx context.Context, id string) (agentapi.Request, error) {
	c.touch()
	r, err := c.st.Request(ctx, id)
	if err == nil {
		c.promise(&r)
	}
	return r, storeErr(err)
}

// Announcements lists what IT announced.
func (c *Core) Announcements(ctx context.Context) ([]agentapi.Announcement, error) {
	as, err := c.st.Announcements(ctx)
	return as, storeErr(err)
}

// Snapshot returns what IT can see: exactly the last snapshot the server
// acknowledged. With fresh, a new one is collected, sent, and returned once
// the server has it (up to 15 s; longer and the user hears we're offline).
func (c *Core) Snapshot(ctx context.Context, fresh bool) (*protocol.Snapshot, error) {
	c.touch()
	if fresh {
		id, err := c.queueSnapshot(ctx, time.Time{})
		if err != nil {
			return nil, err
		}
		if err := c.waitAck(ctx, id, 15*time.Second); err != nil {
			return nil, userErr(agentapi.CodeUnavailable,
				"We took a fresh snapshot but couldn't reach IT yet; it will go out when we're back. Here is what IT had before.", err)
		}
	}
	snap, err := c.st.LastSnapshot(ctx)
	if err != nil {
		return nil, storeErr(err)
	}
	if snap == nil {
		return nil, userErr(agentapi.CodeNotFound, "IT hasn't received any details from this computer yet.", nil)
	}
	return snap, nil
}

// queueSnapshot collects a snapshot and puts it in the outbox (replacing
// an older unsent one). Unless unless is zero, it does nothing ("" and
// nil) when a snapshot was queued after that moment: the connect-time
// snapshot must not land after the fresh one a person just asked for, or
// "What IT can see" would show an older snapshot than IT has.
func (c *Core) queueSnapshot(ctx context.Context, unless time.Time) (string, error) {
	// One at a time, so the snapshot queued last is the one collected last
	// (AddSnapshot replaces whatever is still waiting).
	c.snapMu.Lock()
	defer c.snapMu.Unlock()
	if !unless.IsZero() {
		c.mu.Lock()
		newer := c.lastSnap.After(unless)
		c.mu.Unlock()
		if newer {
			return "", nil
		}
	}
	snap := c.sys.Snapshot(ctx)
	env, err := protocol.New(protocol.KindSnapshot, snap)
	if err != nil {
		return "", err
	}
	ch := make(chan struct{})
	c.mu.Lock()
	c.ackWait[env.ID] = ch
	c.lastSnap = time.Now()
	c.mu.Unlock()
	if err := c.st.AddSnapshot(ctx, env); err != nil {
		c.mu.Lock()
		delete(c.ackWait, env.ID)
		c.mu.Unlock()
		return "", storeErr(err)
	}
	c.kickLink()
	return env.ID, nil
}

func (c *Core) waitAck(ctx context.Context, id string, d time.Duration) error {
	c.mu.Lock()
	ch := c.ackWait[id]
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		delete(c.ackWait, id)
		c.mu.Unlock()
	}()
	if ch == nil {
		return errors.New("no such frame")
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ch:
		return nil
	case <-t.C:
		return errors.New("not acknowledged in time")
	case <-ctx.Done():
		return ctx.Err()
	}
}

// shownArticles keeps the article ids the wire accepts (non-empty, at most
// 64 bytes, no repeats, at most ten): a bad id must not cost the request.
func shownArticles(in []string) []string {
	var out []string
	for _, id := range in {
		if id == "" || len(id) > 64 || slices.Contains(out, id) {
			continue
		}
		out = append(out, id)
		if len(out) == maxShownArticles {
			break
		}
	}
	return out
}
