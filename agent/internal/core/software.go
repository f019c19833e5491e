package core

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/deskside/deskside/agent/agentapi"
	"github.com/deskside/deskside/agent/internal/store"
	"github.com/deskside/deskside/shared/protocol"
)

// Software amnesty, the person's side: what this computer reports, IT's
// "Is it for your work?" asked kindly and rarely, the answer (a software
// request in one click for work), IT's thank-you, and the catalogue with
// "Request an app".

const (
	// promptEvery: at most one question a week.
	promptEvery = 7 * 24 * time.Hour
	// composeLapse: Composing(true) holds questions this long unless
	// renewed, in case a window goes away without saying so.
	composeLapse = 15 * time.Minute
)

// The words a person reads. Warm, plain, never blaming.
const (
	msgAnswerWork     = "Thanks for telling us — IT will have a look."
	msgAnswerPersonal = "Thanks — we won't ask about %s again."
	msgAnswerNever    = "Okay — we won't ask about %s again."
	msgAskGone        = "That question has already been answered, or IT doesn't need to know any more. Nothing else to do."
	msgBadAnswer      = "Please choose one: it's for work, it's personal, or don't ask again."
	msgAppName        = "Which app do you need? Type its name."
	msgAppNameLong    = "That name is a bit long — the app's name is enough, and you can say more below."
	msgAppTitle       = "We couldn't tell which app from the catalogue you mean. Please pick it again."
)

// PromptText is the question for a title: IT's words when it gave some,
// else the agent's.
func PromptText(name, itText string) string {
	if t := strings.TrimSpace(itText); t != "" {
		return t
	}
	return fmt.Sprintf("You use %s. Is it for your work? Telling IT helps us keep it safe and supported — you're not in any trouble.", name)
}

// NoteWords words IT's decision about a title for the person who told it:
// a thank-you when approved; the reason, the supported alternative and an
// offer of help when not for work. IT's own Text replaces the body.
func NoteWords(t protocol.SoftwareThanks) (title, text string) {
	switch t.Status {
	case protocol.SoftwareApproved:
		title = "Thanks for telling IT"
		text = fmt.Sprintf("Thanks for telling us about %s — it's approved for work, so you're all set.", t.Name)
	default:
		title = "About " + t.Name
		var b strings.Builder
		fmt.Fprintf(&b, "About %s:", t.Name)
		if r := strings.TrimSpace(t.Reason); r != "" {
			b.WriteString(" " + sentence(r))
		}
		help := "tell IT through Get help and we'll help you move over."
		if t.RequestID != "" {
			help = "reply to your request and we'll help you move over."
		}
		if alt := strings.TrimSpace(t.Alternative); alt != "" {
			fmt.Fprintf(&b, " %s is supported instead — %s", alt, help)
		} else {
			b.WriteString(" " + upperFirst(help))
		}
		text = b.String()
	}
	if it := strings.TrimSpace(t.Text); it != "" {
		text = it
	}
	return title, text
}

// sentence ends s with a full stop unless it has one.
func sentence(s string) string {
	if strings.HasSuffix(s, ".") || strings.HasSuffix(s, "!") || strings.HasSuffix(s, "?") {
		return s
	}
	return s + "."
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	r, n := utf8.DecodeRuneInString(s)
	return strings.ToUpper(string(r)) + s[n:]
}

func noteOf(t store.SoftwareThanks) agentapi.SoftwareNote {
	title, text := NoteWords(t.SoftwareThanks)
	return agentapi.SoftwareNote{TitleID: t.TitleID, Name: t.Name, Status: t.Status, Title: title, Text: text,
		Alternative: t.Alternative, RequestID: t.RequestID, At: t.At}
}

func promptOf(a store.SoftwareAsk) agentapi.SoftwarePrompt {
	return agentapi.SoftwarePrompt{TitleID: a.TitleID, Name: a.Name, Publisher: a.Publisher, Version: a.Version,
		Text: PromptText(a.Name, a.Text), AskedAt: a.AskedAt}
}

// Software implements agentapi.Backend.
func (c *Core) Software(ctx context.Context) (agentapi.SoftwareInventory, error) {
	inv, err := LocalSoftware(ctx, c.st)
	return inv, storeErr(err)
}

// LocalSoftware is what st says this computer reports: the list the
// server acknowledged when it is the current one (InSync), else the
// current one, about to be sent. `deskside-agent software` reads it when
// the agent is not running.
func LocalSoftware(ctx context.Context, st *store.Store) (agentapi.SoftwareInventory, error) {
	inv := agentapi.SoftwareInventory{Entries: []protocol.SoftwareEntry{}}
	cur, err := st.SoftwareCurrent(ctx)
	if err != nil || cur == nil {
		return inv, err
	}
	acked, err := st.SoftwareAcked(ctx)
	if err != nil {
		return inv, err
	}
	inv.Entries, inv.Hash = cur.Entries, cur.Hash
	inv.CollectedAt, inv.Truncated, inv.Unreadable = cur.CollectedAt, cur.Truncated, cur.Unreadable
	if acked != nil && acked.Hash == cur.Hash {
		inv.Entries, inv.InSync = acked.Entries, true
	}
	if inv.Entries == nil {
		inv.Entries = []protocol.SoftwareEntry{}
	}
	return inv, nil
}

// composingNow reports whether the person is typing a request.
func (c *Core) composingNow(now time.Time) bool {
	c.sw.mu.Lock()
	defer c.sw.mu.Unlock()
	return now.Before(c.sw.composing)
}

// Composing implements agentapi.Backend.
func (c *Core) Composing(ctx context.Context, on bool) error {
	c.touch()
	c.sw.mu.Lock()
	if c.sw.composeT != nil {
		c.sw.composeT.Stop()
		c.sw.composeT = nil
	}
	c.sw.composing = time.Time{}
	if on {
		c.sw.composing = c.now().Add(composeLapse)
		// When it lapses unrenewed, a held question may come.
		c.sw.composeT = time.AfterFunc(composeLapse+time.Second, func() { c.checkPrompts(context.Background()) })
	}
	c.sw.mu.Unlock()
	if !on {
		c.checkPrompts(ctx)
	}
	return nil
}

// checkPrompts settles the questions that no longer apply (the title is
// gone, or on the never-ask list, or shown a week ago and not answered)
// and, when the throttle allows, shows the oldest held one: nothing shown
// in the last week, the person is not typing a request, the title still
// installed for them. It is quick (a few reads), and runs when a question
// arrives, the inventory changes, composing ends, and on a timer.
func (c *Core) checkPrompts(ctx context.Context) {
	if !c.sw.on {
		return
	}
	c.sw.promptMu.Lock()
	defer c.sw.promptMu.Unlock()
	pending, err := c.st.SoftwareAsksPending(ctx)
	if err != nil || len(pending) == 0 {
		if err != nil {
			c.log.Warn("read software questions", "err", err)
		}
		return
	}
	cur, err := c.st.SoftwareCurrent(ctx)
	if err != nil {
		c.log.Warn("read software inventory", "err", err)
		return
	}
	installed := perUserTitles(cur)
	now := c.now()
	var next *store.SoftwareAsk
	shown := false
	for i := range pending {
		p := &pending[i]
		outcome := ""
		never, err := c.st.SoftwareNever(ctx, p.TitleID)
		switch {
		case err != nil:
			c.log.Warn("read never-ask list", "err", err)
			return
		case never:
			outcome = store.OutcomeNeverList
		case cur != nil && !installed[p.TitleID]:
			outcome = store.OutcomeGone
		case !p.ShownAt.IsZero() && now.Sub(p.ShownAt) >= promptEvery:
			outcome = store.OutcomeUnanswered
		case !p.ShownAt.IsZero():
			shown = true
		case cur != nil && next == nil:
			next = p
		}
		if outcome != "" {
			if _, err := c.st.CloseSoftwareAsk(ctx, p.TitleID, outcome); err != nil {
				c.log.Warn("close software question", "title", p.TitleID, "err", err)
			} else {
				c.log.Info("software question closed", "title", p.TitleID, "outcome", outcome)
			}
		}
	}
	if shown || next == nil || c.composingNow(now) || !c.hasSubscribers() {
		// Nobody to show it to (no tray, no window listening): held, so the
		// week's one question is not spent on an empty room.
		return
	}
	last, err := c.st.LastSoftwarePromptShown(ctx)
	if err != nil {
		c.log.Warn("read last software prompt", "err", err)
		return
	}
	if !last.IsZero() && now.Sub(last) < promptEvery {
		return
	}
	if err := c.st.ShowSoftwareAsk(ctx, next.TitleID, now); err != nil {
		c.log.Warn("show software question", "title", next.TitleID, "err", err)
		return
	}
	next.ShownAt = now
	p := promptOf(*next)
	c.log.Info("software question shown", "title", next.TitleID)
	c.publish(agentapi.Event{Type: agentapi.EventSoftwarePrompt, Prompt: &p})
}

// hasSubscribers reports whether anything listens to the core's events
// (the tray, a window through the local API).
func (c *Core) hasSubscribers() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.subs) > 0
}

// perUserTitles are the titles installed for the person (per-user
// entries) in set; nil set: none known.
func perUserTitles(set *store.SoftwareSet) map[string]bool {
	out := map[string]bool{}
	if set == nil {
		return out
	}
	for _, e := range set.Entries {
		if e.PerUser {
			out[e.TitleID()] = true
		}
	}
	return out
}

// SoftwarePrompt implements agentapi.Backend: the question shown and not
// yet answered, or one the throttle allows now; nil while the person is
// typing a request.
func (c *Core) SoftwarePrompt(ctx context.Context) (*agentapi.SoftwarePrompt, error) {
	if !c.sw.on || c.composingNow(c.now()) {
		return nil, nil
	}
	c.checkPrompts(ctx)
	pending, err := c.st.SoftwareAsksPending(ctx)
	if err != nil {
		return nil, storeErr(err)
	}
	for _, a := range pending {
		if !a.ShownAt.IsZero() {
			p := promptOf(a)
			return &p, nil
		}
	}
	return nil, nil
}

// AnswerSoftware implements agentapi.Backend.
func (c *Core) AnswerSoftware(ctx context.Context, titleID string, answer protocol.SoftwareAnswerKind) (agentapi.SoftwareAnswerResult, error) {
	c.touch()
	var res agentapi.SoftwareAnswerResult
	switch answer {
	case protocol.AnswerForWork, protocol.AnswerPersonal, protocol.AnswerNever:
	default:
		return res, badInput(msgBadAnswer)
	}
	ask, err := c.st.SoftwareAskFor(ctx, titleID)
	if errors.Is(err, store.ErrNotFound) || err == nil && ask.Outcome != "" {
		return res, userErr(agentapi.CodeNotFound, msgAskGone, err)
	}
	if err != nil {
		return res, storeErr(err)
	}
	ans := protocol.SoftwareAnswer{TitleID: titleID, Answer: answer, At: time.Now().UTC().Truncate(time.Millisecond)}
	if answer == protocol.AnswerForWork {
		r, err := c.RaiseRequest(ctx, agentapi.NewRequest{Category: protocol.CategorySoftware, Urgency: protocol.UrgencyWhenYouCan,
			Text: fmt.Sprintf("I use %s for my work.", ask.Name), SoftwareTitle: titleID})
		if err != nil {
			return res, err
		}
		res.Request, ans.RequestID = &r, r.ID
	}
	env, err := protocol.New(protocol.KindSoftwareAnswer, ans)
	if err != nil {
		return res, err
	}
	if err := c.st.AnswerSoftwareAsk(ctx, titleID, answer, env); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return res, userErr(agentapi.CodeNotFound, msgAskGone, err)
		}
		return res, storeErr(err)
	}
	c.log.Info("software question answered", "title", titleID, "answer", answer, "request", ans.RequestID)
	c.kickLink()
	switch answer {
	case protocol.AnswerForWork:
		res.Text = msgAnswerWork
	case protocol.AnswerPersonal:
		res.Text = fmt.Sprintf(msgAnswerPersonal, ask.Name)
	default:
		res.Text = fmt.Sprintf(msgAnswerNever, ask.Name)
	}
	return res, nil
}

// softwareThanks tells the person IT's word on a title they told it about.
func (c *Core) softwareThanks(t store.SoftwareThanks) {
	n := noteOf(t)
	c.publish(agentapi.Event{Type: agentapi.EventSoftwareNote, Note: &n})
}

// SoftwareNotes implements agentapi.Backend.
func (c *Core) SoftwareNotes(ctx context.Context) ([]agentapi.SoftwareNote, error) {
	kept, err := c.st.SoftwareNotes(ctx)
	if err != nil {
		return nil, storeErr(err)
	}
	out := make([]agentapi.SoftwareNote, 0, len(kept))
	for _, t := range kept {
		out = append(out, noteOf(t))
	}
	return out, nil
}

// RequestApp implements agentapi.Backend: a software request, saved then
// sent, linked to the catalogue's title when the person picked one.
func (c *Core) RequestApp(ctx context.Context, a agentapi.AppRequest) (agentapi.Request, error) {
	c.touch()
	name := strings.Join(strings.Fields(a.Name), " ")
	switch {
	case name == "":
		return agentapi.Request{}, badInput(msgAppName)
	case !utf8.ValidString(name) || utf8.RuneCountInString(name) > protocol.MaxSoftwareNameRunes:
		return agentapi.Request{}, badInput(msgAppNameLong)
	case a.TitleID != "" && (!strings.HasPrefix(a.TitleID, "sw_") || len(a.TitleID) > 64):
		return agentapi.Request{}, badInput(msgAppTitle)
	}
	text := "Could I have " + name + "?"
	if words := strings.TrimSpace(a.Text); words != "" {
		text += "\n\n" + words
	}
	return c.RaiseRequest(ctx, agentapi.NewRequest{Category: protocol.CategorySoftware, Urgency: protocol.UrgencyWhenYouCan,
		Text: text, SoftwareTitle: a.TitleID})
}

// SoftwareNow collects what is installed without a running agent (for
// `deskside-agent software` on a computer whose agent never ran): as the
// agent would report it, not kept and not sent, so InSync is false.
func SoftwareNow(ctx context.Context) (agentapi.SoftwareInventory, error) {
	rep, err := CollectInstalled(ctx)
	if err != nil {
		return agentapi.SoftwareInventory{}, err
	}
	set := mergeInventory(nil, rep, time.Now().UTC().Truncate(time.Millisecond))
	return agentapi.SoftwareInventory{Entries: set.Entries, Hash: set.Hash, CollectedAt: set.CollectedAt,
		Truncated: set.Truncated, Unreadable: set.Unreadable}, nil
}
