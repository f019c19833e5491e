// Package console serves the technician web console: static HTML, CSS and
// JavaScript embedded in the server binary, with no build step.
package console

import (
	"embed"
	"io/fs"
	"net/http"
)

//go:embed static
var static embed.FS

// Handler serves the console's files. The server mounts it at "/".
func Handler() http.Handler {
	sub, err := fs.Sub(static, "static")
	if err != nil {
		panic(err) // the embed above guarantees the directory
	}
	return http.FileServerFS(sub)
}
