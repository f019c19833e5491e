package api

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/deskside/deskside/server/internal/auth"
	"github.com/deskside/deskside/server/internal/httpjson"
	"github.com/deskside/deskside/shared/protocol"
	"github.com/deskside/deskside/shared/version"
)

var consoleUpgrader = websocket.Upgrader{
	ReadBufferSize:  1024,
	WriteBufferSize: 4096,
	WriteBufferPool: &sync.Pool{},
	CheckOrigin:     func(*http.Request) bool { return true }, // checked in consoleWS, with a readable answer
}

// originAllowed accepts the server's own host or a configured origin. A
// browser always sends Origin on a WebSocket; a missing one is refused too.
func (a *API) originAllowed(r *http.Request) bool {
	o := r.Header.Get("Origin")
	if o == "" {
		return false
	}
	if slices.Contains(a.opt.AllowedOrigins, strings.TrimRight(o, "/")) {
		return true
	}
	u, err := url.Parse(o)
	return err == nil && strings.EqualFold(u.Host, r.Host)
}

// consoleWS opens the technician's live event stream. Three checks stop
// cross-site WebSocket hijacking: the session cookie (SameSite=Strict), the
// Origin allow-list, and the CSRF token in the query, which a foreign page
// cannot read. The link is tied to its session: signing out, a disabled
// account or a changed role or password closes it (CloseSessionEnded).
// Every event on it is about the queue and the devices, which every role
// may read; the console sends nothing but pongs and closes.
func (a *API) consoleWS(w http.ResponseWriter, r *http.Request, ac *actor) {
	if !a.originAllowed(r) {
		a.log.Warn("console socket refused: origin not allowed", "origin", r.Header.Get("Origin"), "technician", ac.ID)
		httpjson.Error(w, http.StatusForbidden, "origin", "This page's origin may not open the console socket. An admin can allow it with --allowed-origin.")
		return
	}
	if !auth.Equal([]byte(r.URL.Query().Get("csrf")), []byte(ac.CSRF)) {
		httpjson.Error(w, http.StatusForbidden, "csrf", "The console socket needs the csrf token from GET /api/v1/session.")
		return
	}
	ws, err := consoleUpgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	ws.SetReadLimit(4096)
	p := a.hub.AddSessionConsole(ws, ac.ID, ac.Session)
	hello, err := protocol.New(protocol.KindConsoleHello, protocol.ConsoleHello{TechnicianID: ac.ID, Name: ac.Name, ServerVersion: version.Version})
	if err == nil {
		var data []byte
		if data, err = hello.Marshal(); err == nil {
			p.Send(data)
		}
	}
	if err != nil {
		a.log.Error("encode console.hello", "err", err) // our own body: a bug
	}
	go func() {
		defer func() {
			a.hub.RemoveConsole(p)
			p.CloseNow(websocket.CloseNormalClosure, "")
		}()
		timeout := a.hub.Config().ReadTimeout()
		ws.SetPongHandler(func(string) error { return ws.SetReadDeadline(time.Now().Add(timeout)) })
		for {
			// The console speaks over REST; reading keeps pongs and closes flowing.
			_ = ws.SetReadDeadline(time.Now().Add(timeout))
			if _, _, err := ws.ReadMessage(); err != nil {
				return
			}
		}
	}()
}
