package core

import (
	"context"
	"time"

	"github.com/deskside/deskside/agent/agentapi"
	"github.com/deskside/deskside/shared/protocol"
)

// The self-updater's view of the core: when it may restart the agent, how
// its reports reach the server, and how the user hears from it.

// stuckAfter is how long a queued frame counts as "a send in flight": past
// it, the frame is stuck on something a restart cannot make worse (the
// outbox is durable), and it must not hold updates back forever.
const stuckAfter = time.Minute

// Busy reports whether restarting the agent now would interrupt the user:
// a window did something in the last BusyQuiet (asked, replied, rated,
// opened a request, looked at "what IT can see"), or a send is in flight
// (online, with a frame queued in the last minute). The tray's own reads
// (status, news, the request list) do not count, and nothing counts while
// offline, so a version that cannot connect is still rolled back.
func (c *Core) Busy() bool {
	if last := c.lastUser.Load(); last != 0 && time.Since(time.Unix(0, last)) < c.cfg.BusyQuiet {
		return true
	}
	c.mu.Lock()
	l := c.link
	c.mu.Unlock()
	if l == nil || !l.Online() {
		return false
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	at, ok, err := c.st.OldestPending(ctx)
	if err != nil {
		return true // the store is struggling: not the moment to restart
	}
	return ok && time.Since(at) < stuckAfter
}

// touch records that a window (the user) just did something.
func (c *Core) touch() { c.lastUser.Store(time.Now().UnixNano()) }

// SendUpdateReport queues an update.report in the durable outbox and kicks
// the link; when it returns nil the report will reach the server, across
// restarts if need be.
func (c *Core) SendUpdateReport(ctx context.Context, r protocol.UpdateReport) error {
	env, err := protocol.New(protocol.KindUpdateReport, r)
	if err != nil {
		return err
	}
	if err := c.st.AddUpdateReport(ctx, env); err != nil {
		return err
	}
	c.log.Info("update report queued", "from", r.FromVersion, "to", r.ToVersion, "ok", r.OK, "rolled_back", r.RolledBack)
	c.kickLink()
	return nil
}

// NoticeAuthor signs the agent's own notes in News.
var NoticeAuthor = protocol.Person{Name: "Deskside"}

// Notify tells the user something in a friendly way: the note is kept in
// News (as a local announcement, so the tray notifies and a window can show
// it later) and published as an announcement event.
func (c *Core) Notify(text string) {
	now := time.Now().UTC().Truncate(time.Millisecond)
	a := agentapi.Announcement{ID: "local_" + protocol.NewID(), Title: "Deskside", Text: text, Severity: "info",
		Author: NoticeAuthor, CreatedAt: now}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := c.st.AddLocalAnnouncement(ctx, a); err != nil {
		c.log.Warn("save notice", "err", err)
	}
	c.publish(agentapi.Event{Type: agentapi.EventAnnouncement, Announcement: &a})
}

// updateAvailable passes an update.available body to the updater.
func (c *Core) updateAvailable(env protocol.Envelope) {
	if c.cfg.UpdateAvailable == nil {
		c.log.Debug("update offered but no updater is wired", "id", env.ID)
		return
	}
	var offer protocol.UpdateAvailable
	if err := env.Decode(&offer); err != nil {
		c.log.Warn("unreadable update.available", "id", env.ID, "err", err)
		return
	}
	c.log.Info("update offered", "version", offer.Version, "channel", offer.Channel)
	c.cfg.UpdateAvailable(offer)
}
