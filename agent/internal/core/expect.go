package core

import (
	"context"
	"encoding/json"
	"slices"
	"time"

	"github.com/deskside/deskside/agent/agentapi"
	"github.com/deskside/deskside/shared/protocol"
)

// metaExpectations keeps the last expectations the help desk sent, so an
// offline agent still shows the last promise IT made (and none if it
// never made one).
const metaExpectations = "expectations"

// cleanExpectations keeps one expectation per known urgency (the first),
// dropping those that promise nothing.
func cleanExpectations(in []protocol.Expectation) []protocol.Expectation {
	var out []protocol.Expectation
	for _, e := range in {
		if !e.Urgency.Valid() || e.FirstResponseMinutes <= 0 ||
			slices.ContainsFunc(out, func(o protocol.Expectation) bool { return o.Urgency == e.Urgency }) {
			continue
		}
		out = append(out, e)
	}
	return out
}

// loadExpectations reads the kept expectations into memory (at New).
func (c *Core) loadExpectations(ctx context.Context) {
	v, err := c.st.Meta(ctx, metaExpectations)
	if err != nil || v == "" {
		if err != nil {
			c.log.Warn("read kept expectations", "err", err)
		}
		return
	}
	var list []protocol.Expectation
	if err := json.Unmarshal([]byte(v), &list); err != nil {
		c.log.Warn("kept expectations unreadable", "err", err)
		return
	}
	c.mu.Lock()
	c.expect = cleanExpectations(list)
	c.mu.Unlock()
}

// welcomeExpectations takes the expectations of a welcome: the newest
// word from IT replaces the kept one, and none (IT stopped promising, or
// a server before revision 4) clears it rather than leaving a stale one.
func (c *Core) welcomeExpectations(ctx context.Context, in []protocol.Expectation) {
	list := cleanExpectations(in)
	c.mu.Lock()
	same := slices.Equal(c.expect, list)
	c.expect = list
	c.mu.Unlock()
	if same {
		return
	}
	b, err := json.Marshal(list)
	if err == nil {
		err = c.st.SetMeta(ctx, metaExpectations, string(b))
	}
	if err != nil {
		// Still shown while the agent runs; only the offline copy is old.
		c.log.Warn("keep expectations", "err", err)
	}
	s := c.connection()
	c.publish(agentapi.Event{Type: agentapi.EventConnection, Connection: &s})
}

// expectations words the kept expectations for Status, in urgency order.
func (c *Core) expectations(list []protocol.Expectation, now time.Time) []agentapi.Expectation {
	var out []agentapi.Expectation
	for _, e := range list {
		if t := ExpectationWords(e, "", now, time.Local); t != "" {
			out = append(out, agentapi.Expectation{Urgency: e.Urgency, Text: t})
		}
	}
	return out
}

// promise sets r.Expectation: while the request waits for IT's first
// answer (new or being worked on, nobody wrote yet), the promise for its
// urgency and who is on it; else nothing.
func (c *Core) promise(r *agentapi.Request) {
	c.mu.Lock()
	list := c.expect
	c.mu.Unlock()
	r.Expectation = RequestExpectation(*r, list, time.Now(), time.Local)
}

// RequestExpectation is the expectation line for r given the help desk's
// expectations: "" once IT answered, when resolved or waiting on the
// person, or when there is no promise for its urgency.
func RequestExpectation(r agentapi.Request, list []protocol.Expectation, now time.Time, loc *time.Location) string {
	if r.Answered || (r.Status != protocol.StatusNew && r.Status != protocol.StatusInProgress) {
		return ""
	}
	i := slices.IndexFunc(list, func(e protocol.Expectation) bool { return e.Urgency == r.Urgency })
	if i < 0 {
		return ""
	}
	name := ""
	if r.Assignee != nil {
		name = r.Assignee.Name
	}
	return ExpectationWords(list[i], name, now, loc)
}

func (c *Core) promiseAll(rs []agentapi.Request) {
	for i := range rs {
		c.promise(&rs[i])
	}
}
