package localapi

import (
	"context"
	"net/http"
	"net/url"

	"github.com/deskside/deskside/agent/agentapi"
)

// Self-help routes (protocol revision 2): suggestions, the offline
// articles, feedback, known problems and "Me too".

func (h *handler) suggestArticles(w http.ResponseWriter, r *http.Request) {
	s, err := h.b.SuggestArticles(r.Context(), r.URL.Query().Get("q"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if s.Articles == nil {
		s.Articles = []agentapi.Article{}
	}
	writeJSON(w, s)
}

func (h *handler) articles(w http.ResponseWriter, r *http.Request) {
	as, err := h.b.Articles(r.Context(), r.URL.Query().Get("q"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if as == nil {
		as = []agentapi.Article{}
	}
	writeJSON(w, map[string]any{"articles": as})
}

func (h *handler) article(w http.ResponseWriter, r *http.Request) {
	a, err := h.b.Article(r.Context(), r.PathValue("id"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, a)
}

func (h *handler) articleFeedback(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Event string `json:"event"`
	}
	if !h.decode(w, r, &in) {
		return
	}
	h.done(w, r, h.b.ArticleFeedback(r.Context(), r.PathValue("id"), in.Event))
}

func (h *handler) knownProblems(w http.ResponseWriter, r *http.Request) {
	kp, err := h.b.KnownProblems(r.Context())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if kp == nil {
		kp = []agentapi.Announcement{}
	}
	writeJSON(w, map[string]any{"announcements": kp})
}

func (h *handler) meToo(w http.ResponseWriter, r *http.Request) {
	h.done(w, r, h.b.MeToo(r.Context(), r.PathValue("id")))
}

// SuggestArticles returns up to three articles for what the person typed
// (the server's, else the agent's offline copy; Source says which).
func (c *Client) SuggestArticles(ctx context.Context, query string) (agentapi.Suggestions, error) {
	var s agentapi.Suggestions
	err := c.do(ctx, http.MethodGet, "articles/suggest?q="+url.QueryEscape(query), nil, &s)
	return s, err
}

// Articles lists (query "") or searches the articles kept on this computer.
func (c *Client) Articles(ctx context.Context, query string) ([]agentapi.Article, error) {
	var out struct {
		Articles []agentapi.Article `json:"articles"`
	}
	p := "articles"
	if query != "" {
		p += "?q=" + url.QueryEscape(query)
	}
	err := c.do(ctx, http.MethodGet, p, nil, &out)
	return out.Articles, err
}

// Article returns one article with its Markdown body.
func (c *Client) Article(ctx context.Context, id string) (agentapi.Article, error) {
	var a agentapi.Article
	err := c.do(ctx, http.MethodGet, "articles/"+url.PathEscape(id), nil, &a)
	return a, err
}

// ArticleFeedback records viewed, solved or still_need_help for an article.
func (c *Client) ArticleFeedback(ctx context.Context, id, event string) error {
	return c.do(ctx, http.MethodPost, "articles/"+url.PathEscape(id)+"/feedback", map[string]string{"event": event}, nil)
}

// KnownProblems lists IT's unresolved known problems.
func (c *Client) KnownProblems(ctx context.Context) ([]agentapi.Announcement, error) {
	var out struct {
		Announcements []agentapi.Announcement `json:"announcements"`
	}
	err := c.do(ctx, http.MethodGet, "known-problems", nil, &out)
	return out.Announcements, err
}

// MeToo says this person has the known problem too.
func (c *Client) MeToo(ctx context.Context, announcementID string) error {
	return c.do(ctx, http.MethodPost, "announcements/"+url.PathEscape(announcementID)+"/metoo", nil, nil)
}
