package sso

import (
	"html/template"
	"net/http"
)

// page is what a person sees when sign-in stops: a title, what happened
// and what to do, and the ways back.
type page struct{ title, text string }

var (
	pageDown = page{title: "Your company sign-in is not answering",
		text: "Your company sign-in is not answering — try again in a minute, or use the break-glass account."}
	pageExpired = page{title: "This sign-in has expired",
		text: "This sign-in was already used, took too long, or was started in another browser. Start again from the sign-in page."}
)

// The page has no script and no outside resources, so the console's
// strict content security policy applies as is.
var pageTmpl = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}} · Deskside</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:34rem;margin:4rem auto;padding:0 1rem;color:#1f2328}
a{color:#0b57d0}</style></head>
<body><main><h1 id="sso-title">{{.Title}}</h1><p id="sso-message">{{.Text}}</p>
<p><a href="{{.Start}}" id="sso-retry">Try again</a> · <a href="/">Back to sign-in</a></p></main></body></html>
`))

func writePage(w http.ResponseWriter, status int, p page) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = pageTmpl.Execute(w, struct{ Title, Text, Start string }{p.title, p.text, StartPath})
}
