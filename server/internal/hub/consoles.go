package hub

import (
	"bytes"
	"encoding/json"
)

// Consoles picks console links to close when sign-in sessions end: those
// of Technician (every technician when ""), opened with Session (any when
// ""), except those opened with Except.
type Consoles struct {
	Technician string `json:"technician,omitempty"`
	Session    string `json:"session,omitempty"`
	Except     string `json:"except,omitempty"`
	Code       int    `json:"code"`
	Reason     string `json:"reason"`
}

func (c Consoles) match(p *Peer) bool {
	return (c.Technician == "" || p.ID == c.Technician) &&
		(c.Session == "" || p.session == c.Session) &&
		(c.Except == "" || p.session != c.Except)
}

// consoleCloseMark starts a bus console message that is an order to close
// consoles rather than an event for them. Events are JSON objects and
// start with '{', so the mark cannot be mistaken for one; the bus needs no
// new message type.
const consoleCloseMark = 0

// CloseConsoles closes the matching console links on every node with
// c.Code and c.Reason: a technician disabled, signed out or changed loses
// the live feed at once, not at the next reconnect.
func (h *Hub) CloseConsoles(c Consoles) {
	h.closeConsoles(c)
	if h.route.b == nil {
		return
	}
	body, err := json.Marshal(c)
	if err != nil {
		h.log.Error("encode console close", "err", err)
		return
	}
	if err := h.route.b.Console(append([]byte{consoleCloseMark}, body...)); err != nil {
		h.log.Warn("bus: console close", "technician", c.Technician, "err", err)
	}
}

func (h *Hub) closeConsoles(c Consoles) {
	h.mu.RLock()
	var peers []*Peer
	for p := range h.consoles {
		if c.match(p) {
			peers = append(peers, p)
		}
	}
	h.mu.RUnlock()
	for _, p := range peers {
		p.CloseNow(c.Code, c.Reason)
	}
}

// parseConsoleClose reads an order written by CloseConsoles.
func parseConsoleClose(frame []byte) (Consoles, bool) {
	var c Consoles
	if len(frame) == 0 || frame[0] != consoleCloseMark {
		return c, false
	}
	dec := json.NewDecoder(bytes.NewReader(frame[1:]))
	if err := dec.Decode(&c); err != nil {
		return c, false
	}
	return c, true
}
