package identity

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/deskside/deskside/server/internal/httpjson"
)

// Route is one HTTP route: a handler for a signed-in technician, checked
// against Access by Wrap, or a Public handler that checks its own
// credentials. The API registers its routes and these from one table,
// which the role matrix test walks.
type Route struct {
	Pattern string // "METHOD /path"
	Access  Access
	Handler Handler          // when Access is not Public
	Public  http.HandlerFunc // when Access is Public
}

// Routes are the sign-in and account routes.
func (s *Sessions) Routes() []Route {
	return []Route{
		{Pattern: "POST /api/v1/setup", Public: s.setup},
		{Pattern: "POST /api/v1/login", Public: s.login},
		{Pattern: "POST /api/v1/logout", Access: Reader, Handler: s.logout},
		{Pattern: "GET /api/v1/session", Access: Reader, Handler: s.session},
		// A viewer keeps their own name and password too: that is their
		// account, not the help desk's data.
		{Pattern: "PATCH /api/v1/me", Access: Reader, Handler: s.patchMe},
		{Pattern: "GET /api/v1/technicians", Access: Admin, Handler: s.listTechs},
		{Pattern: "POST /api/v1/technicians", Access: Admin, Handler: s.createTech},
		{Pattern: "PATCH /api/v1/technicians/{id}", Access: Admin, Handler: s.patchTech},
		{Pattern: "PUT /api/v1/technicians/{id}/break-glass", Access: Admin, Handler: s.putBreakGlass},
	}
}

// HandlerFunc is r's handler, wrapped with its access check.
func (s *Sessions) HandlerFunc(r Route) http.HandlerFunc {
	if r.Access == Public {
		return r.Public
	}
	return s.Wrap(r.Access, r.Handler)
}

// retryLater refuses an attempt for now, saying when to come back.
func retryLater(w http.ResponseWriter, status int, wait time.Duration, code, msg string) {
	secs := max(1, int((wait+time.Second-1)/time.Second))
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	httpjson.Error(w, status, code, msg)
}

// maxBody is far more than any account form needs.
const maxBody = 64 << 10

func capitalise(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func itoa(n int) string { return strconv.Itoa(n) }

// decode reads an account form of at most maxBody into v (see httpjson.Decode).
func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	return httpjson.Decode(w, r, v, maxBody)
}
