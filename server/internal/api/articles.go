package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/deskside/deskside/server/internal/httpjson"
	"github.com/deskside/deskside/server/internal/store"
	"github.com/deskside/deskside/shared/protocol"
)

// Self-help articles (issue 16): IT writes them in the console, devices
// are suggested them while a person types in Get help and keep the most
// read ones offline. See docs/self-help.md.

const (
	// maxArticleBody is the most Markdown one article may hold: 256 KB is
	// a very long how-to with tables; more is a manual, better split. A
	// bigger body is refused with 413, before it reaches the store.
	maxArticleBody = 256 << 10
	// maxArticleJSON bounds the request that carries it (JSON escaping
	// can double a body).
	maxArticleJSON   = 2*maxArticleBody + 16<<10
	maxArticleTitle  = 200
	maxArticleTags   = 20
	maxSuggestQuery  = 500
	maxSuggestResult = 3
)

// articleOSes are the OS values an article may name (GOOS, as devices
// report them in hello).
var articleOSes = []string{"windows", "darwin", "linux"}

// articleIn is what POST and PATCH take; PATCH applies the fields given.
type articleIn struct {
	Title     *string   `json:"title"`
	Body      *string   `json:"body"`
	Tags      *[]string `json:"tags"`
	OS        *[]string `json:"os"`
	Published *bool     `json:"published"`
	Pinned    *bool     `json:"pinned"`
}

// articleView is an article as the console sees it: with its body
// rendered and sanitised.
type articleView struct {
	store.Article
	HTML string `json:"html,omitempty"`
}

// decodeArticle reads an article body, answering 413 with the cap when it
// is over it.
func decodeArticle(w http.ResponseWriter, r *http.Request, in *articleIn) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxArticleJSON))
	dec.DisallowUnknownFields()
	err := dec.Decode(in)
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig) || (in.Body != nil && len(*in.Body) > maxArticleBody):
		httpjson.Error(w, http.StatusRequestEntityTooLarge, "too_large",
			fmt.Sprintf("An article can hold at most %d KB of Markdown; this one is bigger. Split it into shorter articles.", maxArticleBody>>10))
		return false
	case err != nil && !errors.Is(err, io.EOF):
		httpjson.Error(w, http.StatusBadRequest, "bad_body", fmt.Sprintf("The request body is not what this endpoint expects: %v.", err))
		return false
	}
	return true
}

// apply checks in and sets its fields on x; the message says what to fix.
func (in articleIn) apply(x *store.Article) error {
	if in.Title != nil {
		x.Title = trimmed(*in.Title)
	}
	if in.Body != nil {
		x.Body = *in.Body
	}
	if in.Tags != nil {
		x.Tags = nil
		for _, t := range *in.Tags {
			t = strings.Join(strings.Fields(t), " ")
			if t != "" && !slices.Contains(x.Tags, t) {
				x.Tags = append(x.Tags, t)
			}
		}
	}
	if in.OS != nil {
		x.OS = nil
		for _, o := range *in.OS {
			if !slices.Contains(articleOSes, o) {
				return fmt.Errorf("OS %q is not one of windows, darwin or linux", o)
			}
			if !slices.Contains(x.OS, o) {
				x.OS = append(x.OS, o)
			}
		}
	}
	if in.Published != nil {
		x.Published = *in.Published
	}
	if in.Pinned != nil {
		x.Pinned = *in.Pinned
	}
	switch {
	case x.Title == "":
		return errors.New("an article needs a title")
	case utf8.RuneCountInString(x.Title) > maxArticleTitle:
		return fmt.Errorf("a title can be at most %d characters", maxArticleTitle)
	case len(x.Tags) > maxArticleTags:
		return fmt.Errorf("an article can have at most %d tags", maxArticleTags)
	case !utf8.ValidString(x.Body) || !utf8.ValidString(x.Title):
		return errors.New("the text is not valid UTF-8")
	}
	return nil
}

func (a *API) view(x store.Article) articleView {
	html, err := a.md.HTML(x.Body)
	if err != nil {
		a.log.Warn("render article", "article", x.ID, "err", err)
	}
	return articleView{Article: x, HTML: html}
}

// listArticles: every article with its counts (drafts too), or with ?q=
// the ones matching, best first.
func (a *API) listArticles(w http.ResponseWriter, r *http.Request, _ *actor) {
	var as []store.Article
	var err error
	if q := r.URL.Query().Get("q"); q != "" {
		as, err = a.st.SearchArticles(r.Context(), store.ArticleSearch{Query: q, OS: r.URL.Query().Get("os"), Limit: 20, Drafts: true})
	} else {
		as, err = a.st.ListArticles(r.Context())
	}
	if err != nil {
		httpjson.Internal(a.log, w, r, err)
		return
	}
	rev, err := a.st.ArticlesRevision(r.Context())
	if err != nil {
		httpjson.Internal(a.log, w, r, err)
		return
	}
	// A list is titles and counts: bodies (up to 256 KB each) come with
	// GET /api/v1/articles/{id}.
	for i := range as {
		as[i].Body = ""
	}
	httpjson.Write(w, http.StatusOK, map[string]any{"articles": as, "revision": rev})
}

func (a *API) createArticle(w http.ResponseWriter, r *http.Request, ac *actor) {
	var in articleIn
	if !decodeArticle(w, r, &in) {
		return
	}
	now := time.Now()
	x := store.Article{ID: "art_" + uuid.NewString(), AuthorID: ac.ID, AuthorName: ac.Name, CreatedAt: now, UpdatedAt: now}
	if err := in.apply(&x); err != nil {
		httpjson.Error(w, http.StatusBadRequest, "bad_body", capitalise(err.Error())+".")
		return
	}
	x, rev, err := a.st.CreateArticle(r.Context(), x)
	if err != nil {
		httpjson.StoreError(a.log, w, r, err, "article")
		return
	}
	if x.Published {
		a.devices.ArticlesChanged(rev)
	}
	a.audit(r.Context(), ac.Email, "article.create", x.ID, x.Title)
	httpjson.Write(w, http.StatusCreated, a.view(x))
}

func (a *API) getArticle(w http.ResponseWriter, r *http.Request, _ *actor) {
	x, err := a.st.Article(r.Context(), r.PathValue("id"))
	if err != nil {
		httpjson.StoreError(a.log, w, r, err, "article")
		return
	}
	httpjson.Write(w, http.StatusOK, a.view(x))
}

// patchArticle edits, publishes or unpublishes, pins or unpins.
func (a *API) patchArticle(w http.ResponseWriter, r *http.Request, ac *actor) {
	var in articleIn
	if !decodeArticle(w, r, &in) {
		return
	}
	var bad error
	x, rev, changed, err := a.st.UpdateArticle(r.Context(), r.PathValue("id"), func(x *store.Article) error {
		x.UpdatedAt = time.Now()
		bad = in.apply(x)
		return bad
	})
	if bad != nil {
		httpjson.Error(w, http.StatusBadRequest, "bad_body", capitalise(bad.Error())+".")
		return
	}
	if err != nil {
		httpjson.StoreError(a.log, w, r, err, "article")
		return
	}
	if changed {
		a.devices.ArticlesChanged(rev)
	}
	action := "article.update"
	if in.Published != nil {
		action = map[bool]string{true: "article.publish", false: "article.unpublish"}[*in.Published]
	}
	a.audit(r.Context(), ac.Email, action, x.ID, x.Title)
	httpjson.Write(w, http.StatusOK, a.view(x))
}

func (a *API) deleteArticle(w http.ResponseWriter, r *http.Request, ac *actor) {
	id := r.PathValue("id")
	rev, changed, err := a.st.DeleteArticle(r.Context(), id)
	if err != nil {
		httpjson.StoreError(a.log, w, r, err, "article")
		return
	}
	if changed {
		a.devices.ArticlesChanged(rev)
	}
	a.audit(r.Context(), ac.Email, "article.delete", id, "")
	w.WriteHeader(http.StatusNoContent)
}

// previewArticle renders Markdown as the console shows it, for the
// editor's live preview.
func (a *API) previewArticle(w http.ResponseWriter, r *http.Request, _ *actor) {
	var in articleIn
	if !decodeArticle(w, r, &in) {
		return
	}
	html, err := a.md.HTML(deref(in.Body))
	if err != nil {
		httpjson.Internal(a.log, w, r, err)
		return
	}
	httpjson.Write(w, http.StatusOK, map[string]string{"html": html})
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// selfHelpCaller lets a device (its credentials, as on its WebSocket) or a
// signed-in technician through; false when neither (answered 401).
func (a *API) selfHelpCaller(w http.ResponseWriter, r *http.Request) bool {
	if _, ok := a.DeviceAuth(r); ok {
		return true
	}
	if _, _, ok := a.StaffAuth(r); ok {
		return true
	}
	httpjson.Error(w, http.StatusUnauthorized, "unauthorized", "Sign in, or call with this device's credentials (Authorization: Device …).")
	return false
}

// suggestArticles answers protocol.ArticleSuggestPath: at most three
// published articles for the OS matching the words, best first. An empty
// query finds nothing.
func (a *API) suggestArticles(w http.ResponseWriter, r *http.Request) {
	if !a.selfHelpCaller(w, r) {
		return
	}
	q := r.URL.Query().Get("q")
	if len(q) > maxSuggestQuery {
		q = q[:maxSuggestQuery] // a pasted log still suggests from its start
	}
	as, err := a.st.SearchArticles(r.Context(), store.ArticleSearch{Query: q, OS: r.URL.Query().Get("os"), Limit: maxSuggestResult})
	if err != nil {
		httpjson.Internal(a.log, w, r, err)
		return
	}
	rev, err := a.st.ArticlesRevision(r.Context())
	if err != nil {
		httpjson.Internal(a.log, w, r, err)
		return
	}
	httpjson.Write(w, http.StatusOK, toList(as, rev))
}

// offlineArticles answers protocol.ArticleOfflinePath.
func (a *API) offlineArticles(w http.ResponseWriter, r *http.Request) {
	if !a.selfHelpCaller(w, r) {
		return
	}
	as, rev, err := a.st.OfflineArticles(r.Context())
	if err != nil {
		httpjson.Internal(a.log, w, r, err)
		return
	}
	httpjson.Write(w, http.StatusOK, toList(as, rev))
}

func toList(as []store.Article, rev int64) protocol.ArticleList {
	out := protocol.ArticleList{Revision: rev, Articles: make([]protocol.Article, 0, len(as))}
	for _, x := range as {
		out.Articles = append(out.Articles, x.ToWire())
	}
	return out
}

// shownArticle is an article suggested while a request was typed, as the
// request view lists it.
type shownArticle struct {
	ID    string `json:"id"`
	Title string `json:"title"` // "" when it has been deleted since
}

// shownArticles lists what the person was suggested before asking; a
// failure is logged and shows as none (it only adds context).
func (a *API) shownArticles(r *http.Request, requestID string) []shownArticle {
	ids, err := a.st.ShownArticles(r.Context(), requestID)
	if err != nil {
		a.log.Warn("read shown articles", "request", requestID, "err", err)
		return []shownArticle{}
	}
	out := make([]shownArticle, 0, len(ids))
	for _, id := range ids {
		x, _ := a.st.Article(r.Context(), id)
		out = append(out, shownArticle{ID: id, Title: x.Title})
	}
	return out
}
