package agentapitest

import (
	"context"
	"slices"
	"strings"

	"github.com/deskside/deskside/agent/agentapi"
	"github.com/deskside/deskside/shared/protocol"
)

// SampleArticles are a few self-help articles, for tests and demos.
func SampleArticles() []agentapi.Article {
	return []agentapi.Article{
		{ID: "art_printer", Title: "Printer says offline", Pinned: true, Tags: []string{"printing"},
			Snippet: "If the printer on your floor shows as offline, turn it off and on…",
			Body:    "# Printer says offline\n\nIf the **printer** on your floor shows as offline:\n\n1. Turn it off and on again.\n2. Wait for the green light.\n3. Pick it again in *Settings → Printers*.\n\nStill stuck? Press **I still need help** and IT will look."},
		{ID: "art_printer_jam", Title: "Paper jam on the 3rd floor printer", Tags: []string{"printing"},
			Snippet: "Open the front door, pull the green lever and remove the sheet gently…",
			Body:    "Open the front door, pull the green lever and remove the sheet gently."},
		{ID: "art_vpn", Title: "VPN says certificate expired", Tags: []string{"vpn"},
			Snippet: "Open the VPN app and choose Renew certificate…",
			Body:    "Open the VPN app and choose **Renew certificate**. You need to be in the office or on Wi-Fi."},
		{ID: "art_calendar", Title: "Share your calendar", Tags: []string{"outlook"},
			Snippet: "In Outlook, right-click the calendar and choose Sharing permissions…",
			Body:    "In Outlook, right-click the calendar and choose *Sharing permissions*."},
	}
}

// SetArticles sets the articles the Fake's self-help calls know (with
// bodies); SuggestArticles matches a query's words in title, tags and body.
func (f *Fake) SetArticles(as []agentapi.Article) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.articles = append([]agentapi.Article(nil), as...)
}

// HoldSuggestions makes SuggestArticles for exactly query wait until
// release is called (or its context ends), so a test can answer queries
// out of order, as a slow server would.
func (f *Fake) HoldSuggestions(query string) (release func()) {
	ch := make(chan struct{})
	f.mu.Lock()
	if f.held == nil {
		f.held = map[string]chan struct{}{}
	}
	f.held[query] = ch
	f.mu.Unlock()
	return func() {
		f.mu.Lock()
		defer f.mu.Unlock()
		if f.held[query] == ch {
			delete(f.held, query)
			close(ch)
		}
	}
}

func (f *Fake) match(query string, limit int) []agentapi.Article {
	words := strings.FieldsFunc(strings.ToLower(query), func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9')
	})
	var out []agentapi.Article
	for _, a := range f.articles {
		hay := strings.ToLower(a.Title + " " + strings.Join(a.Tags, " ") + " " + a.Body)
		if slices.ContainsFunc(words, func(w string) bool { return len(w) >= 3 && strings.Contains(hay, w) }) {
			a.Body = ""
			out = append(out, a)
		}
		if len(out) == limit {
			break
		}
	}
	if out == nil {
		out = []agentapi.Article{}
	}
	return out
}

// SuggestArticles implements agentapi.Backend: up to three matches, from
// the "server" when online, else "offline".
func (f *Fake) SuggestArticles(ctx context.Context, query string) (agentapi.Suggestions, error) {
	f.mu.Lock()
	f.rec.Suggested = append(f.rec.Suggested, query)
	hold := f.held[query]
	f.mu.Unlock()
	if hold != nil {
		select {
		case <-hold:
		case <-ctx.Done():
			return agentapi.Suggestions{}, ctx.Err()
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	src := agentapi.SourceOffline
	if f.status.State == agentapi.ConnOnline {
		src = agentapi.SourceServer
	}
	return agentapi.Suggestions{Query: query, Source: src, Articles: f.match(query, 3)}, nil
}

// Articles implements agentapi.Backend.
func (f *Fake) Articles(_ context.Context, query string) ([]agentapi.Article, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if strings.TrimSpace(query) == "" {
		out := make([]agentapi.Article, 0, len(f.articles))
		for _, a := range f.articles {
			a.Body = ""
			out = append(out, a)
		}
		return out, nil
	}
	return f.match(query, 50), nil
}

// Article implements agentapi.Backend.
func (f *Fake) Article(_ context.Context, id string) (agentapi.Article, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, a := range f.articles {
		if a.ID == id {
			return a, nil
		}
	}
	return agentapi.Article{}, agentapi.NewError(agentapi.CodeNotFound, "That article isn't on this computer any more. Please search again.", nil)
}

// ArticleFeedback implements agentapi.Backend.
func (f *Fake) ArticleFeedback(_ context.Context, id, event string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return f.err
	}
	f.rec.Feedback = append(f.rec.Feedback, id+": "+event)
	return nil
}

// KnownProblems implements agentapi.Backend: the unresolved known-problem
// announcements.
func (f *Fake) KnownProblems(context.Context) ([]agentapi.Announcement, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := []agentapi.Announcement{}
	for _, a := range f.anns {
		if a.Kind == protocol.AnnouncementKnownProblem && a.ResolvedAt.IsZero() {
			out = append(out, a)
		}
	}
	return out, nil
}

// MeToo implements agentapi.Backend.
func (f *Fake) MeToo(_ context.Context, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return f.err
	}
	for i := range f.anns {
		if f.anns[i].ID == id {
			if !f.anns[i].MeToo {
				f.anns[i].MeToo = true
				f.rec.MeToo = append(f.rec.MeToo, id)
			}
			return nil
		}
	}
	return agentapi.NewError(agentapi.CodeNotFound, "IT has taken that notice down — it may be fixed already.", nil)
}
