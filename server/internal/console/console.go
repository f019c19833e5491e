// Package console serves the technician web console: static HTML, CSS and
// JavaScript embedded in the server binary, with no build step.
//
// The console is a single page (hash routes) of plain ES modules. It talks to
// the server only through the documented REST API (/api/v1) and the console
// WebSocket (/ws/console); this package has no server-side logic beyond
// serving its files with safe headers.
package console

import (
	"embed"
	"io/fs"
	"net/http"
)

//go:embed static
var static embed.FS

// contentSecurityPolicy allows only the console's own files, the API and the
// WebSocket on the same origin; no inline script, no third parties.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; " +
	"img-src 'self' data: blob:; connect-src 'self' ws: wss:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

// Files returns the console's files, rooted at the directory that holds
// index.html.
func Files() fs.FS {
	sub, err := fs.Sub(static, "static")
	if err != nil {
		panic(err) // the embed above guarantees the directory
	}
	return sub
}

// Handler serves the console's files. The server mounts it at "/".
func Handler() http.Handler {
	files := http.FileServerFS(Files())
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		// Revalidate every time: a server upgrade must never leave a
		// technician on stale JavaScript that speaks an older API.
		h.Set("Cache-Control", "no-cache")
		files.ServeHTTP(w, r)
	})
}
