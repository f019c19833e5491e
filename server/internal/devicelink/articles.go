package devicelink

import (
	"context"
	"errors"
	"slices"
	"sync"
	"time"

	"github.com/deskside/deskside/server/internal/store"
	"github.com/deskside/deskside/shared/protocol"
)

// Self-help frames (protocol revision 2): what a person did with an
// article, and "me too" on a known problem. Both are stored before the
// ack, and a repeated frame is acked as a duplicate.

func (l *link) articleFeedback(ctx context.Context, env protocol.Envelope) {
	var b protocol.ArticleFeedback
	if !l.decode(env, &b) {
		return
	}
	if err := b.Validate(); err != nil {
		l.refuse(protocol.ErrBadBody, err.Error(), env.ID)
		return
	}
	res, err := l.g.st.ArticleFeedback(ctx, env.ID, l.dev.ID, b)
	if err != nil {
		l.storeFailed(env, err)
		return
	}
	l.ack(env, res)
}

func (l *link) meToo(ctx context.Context, env protocol.Envelope) {
	var b protocol.AnnouncementMeToo
	if !l.decode(env, &b) {
		return
	}
	if err := b.Validate(); err != nil {
		l.refuse(protocol.ErrBadBody, err.Error(), env.ID)
		return
	}
	res, err := l.g.st.MeToo(ctx, env.ID, l.dev.ID, b.AnnouncementID, time.Now().UTC())
	if errors.Is(err, store.ErrNotFound) {
		l.refuse(protocol.ErrNotFound, "There is no such announcement; IT may have removed it.", env.ID)
		return
	}
	if err != nil {
		l.storeFailed(env, err)
		return
	}
	l.ack(env, res)
	if res.Duplicate {
		return
	}
	who, err := l.g.st.MeToos(ctx, b.AnnouncementID)
	if err != nil {
		l.g.log.Warn("count me toos", "announcement", b.AnnouncementID, "err", err)
		return
	}
	l.g.hub.Broadcast(protocol.KindAnnouncementUpdated, protocol.AnnouncementUpdated{AnnouncementID: b.AnnouncementID, MeToo: len(who),
		Who: &protocol.Presence{DeviceID: l.dev.ID, Hostname: l.dev.Hostname, User: l.dev.User, OS: l.dev.OS, Online: true, At: time.Now().UTC()}})
}

// articlesRev caches the published articles' revision for welcome, so a
// reconnect storm is not a store read per hello; ArticlesChanged sets it
// on this node, and it is re-read after revTTL for changes made on another.
type articlesRev struct {
	mu  sync.Mutex
	rev int64
	at  time.Time
}

const revTTL = 5 * time.Second

func (g *Gateway) articlesRevision(ctx context.Context) int64 {
	g.artRev.mu.Lock()
	defer g.artRev.mu.Unlock()
	if time.Since(g.artRev.at) < revTTL {
		return g.artRev.rev
	}
	rev, err := g.st.ArticlesRevision(ctx)
	if err != nil {
		g.log.Warn("read articles revision", "err", err)
		return g.artRev.rev
	}
	g.artRev.rev, g.artRev.at = rev, time.Now()
	return rev
}

// ArticlesChanged tells the connected devices that speak articles that the
// published articles are now at rev (a hint, not stored: a device that
// misses it learns the revision from its next welcome).
func (g *Gateway) ArticlesChanged(rev int64) int {
	g.artRev.mu.Lock()
	g.artRev.rev, g.artRev.at = max(rev, g.artRev.rev), time.Now()
	g.artRev.mu.Unlock()
	frame := encodeFrame(protocol.KindArticlesChanged, protocol.ArticlesChanged{Revision: rev})
	g.linked.mu.Lock()
	var to []string
	for id, e := range g.linked.m {
		if slices.Contains(e.d.Caps, protocol.CapArticles) {
			to = append(to, id)
		}
	}
	g.linked.mu.Unlock()
	sent := 0
	for _, id := range to {
		if g.hub.SendLive(id, frame) {
			sent++
		}
	}
	return sent
}
