package protocol

import (
	"errors"
	"fmt"
	"time"
)

// Self-help (protocol revision 2): articles suggested while a person types,
// kept on the agent for offline search, and "is it just me?" known problems.
// The agent fetches articles over REST with its device credentials (the
// paths below); the link carries only small frames.

// Self-help paths (device credentials in the Authorization header).
const (
	// ArticleSuggestPath answers GET ?q=WORDS&os=GOOS with ArticleList
	// (at most three, published, for that OS).
	ArticleSuggestPath = "/api/v1/articles/suggest"
	// ArticleOfflinePath answers GET with ArticleList: the published
	// articles a device keeps for offline search (the most viewed and all
	// pinned), with the revision they are at.
	ArticleOfflinePath = "/api/v1/articles/offline"
)

// Announcement kinds.
const (
	AnnouncementNews         = "news"          // something to know
	AnnouncementKnownProblem = "known_problem" // an outage: Get help offers "Me too"
)

// ArticleSummary is an article as a list or a suggestion shows it.
type ArticleSummary struct {
	ID        string    `json:"id"`
	Title     string    `json:"title"`
	Snippet   string    `json:"snippet,omitempty"` // plain text around the match
	Tags      []string  `json:"tags,omitempty"`
	OS        []string  `json:"os,omitempty"` // GOOS values; empty: every OS
	Pinned    bool      `json:"pinned,omitempty"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Article is an article with its Markdown body (rendered by the reader:
// goldmark + bluemonday in the console, fyne's rich text on the agent).
type Article struct {
	ArticleSummary
	Body string `json:"body"`
}

// ArticleList answers the suggest and offline paths.
type ArticleList struct {
	// Revision changes whenever a published article changes; the agent
	// compares it with ArticlesChanged and Welcome to know it is behind.
	Revision int64     `json:"revision"`
	Articles []Article `json:"articles"`
}

// ArticlesChanged (server → device, not sequenced: a hint) says the
// published articles are now at Revision; an agent behind it fetches
// ArticleOfflinePath. Welcome carries the same revision at connect.
type ArticlesChanged struct {
	Revision int64 `json:"revision"`
}

// Article feedback events.
const (
	ArticleViewed        = "viewed"          // the person opened it
	ArticleSolved        = "solved"          // "This solved it": a deflection, no request
	ArticleStillNeedHelp = "still_need_help" // back to Get help, text intact
)

// ArticleFeedback is what a person did with a suggested article (device →
// server, acked after it is stored; counted once per envelope id).
type ArticleFeedback struct {
	ArticleID string    `json:"article_id"`
	Event     string    `json:"event"`
	At        time.Time `json:"at"`
}

// Validate checks the id and the event.
func (f *ArticleFeedback) Validate() error {
	if f.ArticleID == "" || len(f.ArticleID) > 64 {
		return errors.New("article_id is empty or longer than 64 characters")
	}
	switch f.Event {
	case ArticleViewed, ArticleSolved, ArticleStillNeedHelp:
		return nil
	}
	return fmt.Errorf("event %q is not viewed, solved or still_need_help", f.Event)
}

// AnnouncementMeToo is a person saying a known problem hits them too
// (device → server, acked after it is stored; once per device counts).
// They get the all-clear when IT resolves it.
type AnnouncementMeToo struct {
	AnnouncementID string    `json:"announcement_id"`
	At             time.Time `json:"at"`
}

// Validate checks the id.
func (m *AnnouncementMeToo) Validate() error {
	if m.AnnouncementID == "" || len(m.AnnouncementID) > 64 {
		return errors.New("announcement_id is empty or longer than 64 characters")
	}
	return nil
}

// AnnouncementUpdated (server → console) is an announcement's live
// counts: MeToo devices said "me too"; Who is the one that just did
// (empty when the change was a resolve).
type AnnouncementUpdated struct {
	AnnouncementID string    `json:"announcement_id"`
	MeToo          int       `json:"me_too"`
	Who            *Presence `json:"who,omitempty"`
	ResolvedAt     time.Time `json:"resolved_at,omitzero"`
}
