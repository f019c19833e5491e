package core

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/deskside/deskside/agent/agentapi"
	"github.com/deskside/deskside/agent/internal/enroll"
	"github.com/deskside/deskside/agent/internal/link"
	"github.com/deskside/deskside/agent/internal/store"
	"github.com/deskside/deskside/shared/protocol"
)

// Self-help: suggestions while the person types (the server's, else the
// offline copy), the offline set kept in step with the server, feedback
// and "Me too" through the outbox, and the all-clear for those who said it.

const (
	// suggestWait is how long a suggestion may wait for the server before
	// the offline copy answers (Config.SuggestWait's default): the person
	// is typing and a late answer is a useless one.
	suggestWait = 2 * time.Second
	// syncWait bounds one fetch of the offline set.
	syncWait = 2 * time.Minute
	// Response caps: three articles (each capped by the server) for a
	// suggestion; the offline set for a sync. Larger answers are refused.
	maxSuggestResponse = 16 << 20
	maxOfflineResponse = 64 << 20
	maxSuggestions     = 3
	maxShownArticles   = 10
)

// articlesHTTP is the core's HTTPS client for the article paths: the same
// trust as the link (the enrolment pin, else the system roots) and the
// device credentials in the Authorization header.
type articlesHTTP struct {
	mu     sync.Mutex
	hc     *http.Client
	forPin string
}

// client returns the HTTP client for creds, made once per server pin.
func (a *articlesHTTP) client(creds *enroll.Credentials, roots *x509.CertPool) *http.Client {
	a.mu.Lock()
	defer a.mu.Unlock()
	pin := string(creds.PinBytes())
	if a.hc == nil || a.forPin != pin {
		a.hc = &http.Client{Transport: &http.Transport{
			Proxy: http.ProxyFromEnvironment, TLSClientConfig: link.TLSConfig(creds.PinBytes(), roots),
			TLSHandshakeTimeout: 10 * time.Second, IdleConnTimeout: 90 * time.Second, MaxIdleConnsPerHost: 2}}
		a.forPin = pin
	}
	return a.hc
}

// getArticles GETs path (with query) from the server as this device and
// decodes an ArticleList of at most limit bytes.
func (c *Core) getArticles(ctx context.Context, path string, q url.Values, limit int64) (protocol.ArticleList, error) {
	var list protocol.ArticleList
	resp, err := c.deviceGet(ctx, path, q)
	if err != nil {
		return list, err
	}
	defer resp.Body.Close()
	list, err = decodeArticleList(resp.Body, limit)
	if err != nil {
		return list, fmt.Errorf("get %s: %w", path, err)
	}
	return list, nil
}

// decodeArticleList reads the server's ArticleList, refusing an answer of
// more than limit bytes.
func decodeArticleList(r io.Reader, limit int64) (protocol.ArticleList, error) {
	var list protocol.ArticleList
	lr := &io.LimitedReader{R: r, N: limit + 1}
	if err := json.NewDecoder(lr).Decode(&list); err != nil {
		if lr.N <= 0 {
			return list, fmt.Errorf("answer larger than %d bytes", limit)
		}
		return list, err
	}
	return list, nil
}

// SuggestArticles implements agentapi.Backend: the server's suggestions
// when online and it answers within suggestWait, else the offline copy's.
func (c *Core) SuggestArticles(ctx context.Context, query string) (agentapi.Suggestions, error) {
	out := agentapi.Suggestions{Query: query, Source: agentapi.SourceOffline, Articles: []agentapi.Article{}}
	if store.MatchQuery(query, nil) == "" {
		return out, nil // nothing to look for: no words
	}
	if c.online() {
		sctx, cancel := context.WithTimeout(ctx, c.cfg.SuggestWait)
		list, err := c.getArticles(sctx, protocol.ArticleSuggestPath, url.Values{"q": {query}, "os": {runtime.GOOS}}, maxSuggestResponse)
		cancel()
		if err == nil {
			if len(list.Articles) > maxSuggestions {
				list.Articles = list.Articles[:maxSuggestions]
			}
			// Keep them, so opening one works even if the server goes now.
			if err := c.st.PutArticles(ctx, list.Articles); err != nil {
				c.log.Warn("cache suggested articles", "err", err)
			}
			out.Source = agentapi.SourceServer
			for _, a := range list.Articles {
				if a.ID == "" {
					continue
				}
				out.Articles = append(out.Articles, summaryFromWire(a))
			}
			return out, nil
		}
		if ctx.Err() != nil {
			return out, ctx.Err() // the caller moved on (a newer query)
		}
		c.log.Info("article suggestions from the offline copy", "err", err)
	}
	found, err := c.st.SearchArticles(ctx, query, runtime.GOOS, maxSuggestions)
	if err != nil {
		return out, storeErr(err)
	}
	out.Articles = append(out.Articles, found...)
	return out, nil
}

// summaryFromWire is a suggested article as the agent shows it in a list.
func summaryFromWire(a protocol.Article) agentapi.Article {
	return agentapi.Article{ID: a.ID, Title: a.Title, Snippet: a.Snippet, Tags: a.Tags, OS: a.OS, Pinned: a.Pinned, UpdatedAt: a.UpdatedAt}
}

// Articles implements agentapi.Backend: the offline copy, listed or searched.
func (c *Core) Articles(ctx context.Context, query string) ([]agentapi.Article, error) {
	var (
		list []agentapi.Article
		err  error
	)
	if strings.TrimSpace(query) == "" {
		list, err = c.st.ListArticles(ctx, runtime.GOOS, 0)
	} else {
		list, err = c.st.SearchArticles(ctx, query, runtime.GOOS, 50)
	}
	if list == nil {
		list = []agentapi.Article{}
	}
	return list, storeErr(err)
}

// Article implements agentapi.Backend: the article from the agent's copy
// (suggested articles are cached as they are suggested).
func (c *Core) Article(ctx context.Context, id string) (agentapi.Article, error) {
	c.touch()
	a, err := c.st.Article(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return a, userErr(agentapi.CodeNotFound, "That article isn't on this computer any more. Please search again.", err)
	}
	return a, storeErr(err)
}

// ArticleFeedback implements agentapi.Backend: saved, then sent.
func (c *Core) ArticleFeedback(ctx context.Context, id, event string) error {
	c.touch()
	fb := protocol.ArticleFeedback{ArticleID: id, Event: event, At: time.Now().UTC().Truncate(time.Millisecond)}
	if err := fb.Validate(); err != nil {
		return userErr(agentapi.CodeBadRequest, "That isn't something we can record about an article.", err)
	}
	env, err := protocol.New(protocol.KindArticleFeedback, fb)
	if err != nil {
		return err
	}
	if err := c.st.AddArticleFeedback(ctx, env); err != nil {
		return storeErr(err)
	}
	c.kickLink()
	return nil
}

// KnownProblems implements agentapi.Backend.
func (c *Core) KnownProblems(ctx context.Context) ([]agentapi.Announcement, error) {
	kp, err := c.st.KnownProblems(ctx)
	if kp == nil {
		kp = []agentapi.Announcement{}
	}
	return kp, storeErr(err)
}

// MeToo implements agentapi.Backend: remembered and queued together, once.
func (c *Core) MeToo(ctx context.Context, announcementID string) error {
	c.touch()
	m := protocol.AnnouncementMeToo{AnnouncementID: announcementID, At: time.Now().UTC().Truncate(time.Millisecond)}
	if err := m.Validate(); err != nil {
		return badInput("We couldn't tell which problem you mean. Please try again.")
	}
	env, err := protocol.New(protocol.KindAnnouncementMeToo, m)
	if err != nil {
		return err
	}
	added, err := c.st.AddMeToo(ctx, announcementID, env)
	if errors.Is(err, store.ErrNotFound) {
		return userErr(agentapi.CodeNotFound, "IT has taken that notice down — it may be fixed already.", err)
	}
	if err != nil {
		return storeErr(err)
	}
	if added {
		c.log.Info("me too", "announcement", announcementID)
		c.kickLink()
	}
	return nil
}

// online reports whether the link is up (welcome received).
func (c *Core) online() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.conn.State == agentapi.ConnOnline
}

// articlesBehind starts a sync of the offline set when the server's
// revision is newer than the cache's (from welcome or articles.changed).
func (c *Core) articlesBehind(ctx context.Context, serverRev int64) {
	have, err := c.st.ArticlesRevision(ctx)
	if err != nil {
		c.log.Warn("read articles revision", "err", err)
		return
	}
	if serverRev <= have {
		return
	}
	go func() {
		if err := c.SyncArticles(context.WithoutCancel(ctx)); err != nil {
			c.log.Warn("sync articles", "want", serverRev, "have", have, "err", err)
		}
	}()
}

// SyncArticles fetches the offline set and makes it the cache's, one sync
// at a time (a hint arriving during a sync waits, then finds itself done
// or fetches the newer set).
func (c *Core) SyncArticles(ctx context.Context) error {
	c.syncMu.Lock()
	defer c.syncMu.Unlock()
	ctx, cancel := context.WithTimeout(ctx, syncWait)
	defer cancel()
	list, err := c.getArticles(ctx, protocol.ArticleOfflinePath, nil, maxOfflineResponse)
	if err != nil {
		return err
	}
	if have, err := c.st.ArticlesRevision(ctx); err == nil && have > list.Revision {
		return nil // an older answer (a slow server): keep what we have
	}
	if err := c.st.ReplaceArticles(ctx, list.Revision, list.Articles); err != nil {
		return err
	}
	c.log.Info("articles synced", "revision", list.Revision, "articles", len(list.Articles))
	return nil
}

// allClear tells a person who said "Me too" that IT resolved the problem.
func (c *Core) allClear(a *agentapi.Announcement) {
	text := strings.TrimSpace(a.ResolvedText)
	if text == "" {
		text = fmt.Sprintf("%s — it's fixed. Thanks for your patience.", a.Title)
	}
	c.Notify(text)
}
