// Package markdown turns an article's Markdown into HTML the console can
// show: goldmark (CommonMark plus tables, strikethrough, autolinks and
// task lists) renders, then bluemonday's UGC policy removes anything a
// browser would run — script and style elements, event handlers,
// javascript: and data: links — because an article is text from a person
// and the console shows it to every technician.
package markdown

import (
	"bytes"
	"fmt"

	"github.com/microcosm-cc/bluemonday"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
)

// Renderer renders and sanitises. Create with New; safe for concurrent use.
type Renderer struct {
	md     goldmark.Markdown
	policy *bluemonday.Policy
}

// New returns a Renderer.
func New() *Renderer {
	p := bluemonday.UGCPolicy()
	p.RequireNoFollowOnLinks(true)
	p.RequireNoReferrerOnLinks(true)
	p.AddTargetBlankToFullyQualifiedLinks(true)
	p.AllowURLSchemes("http", "https", "mailto")
	// goldmark without html.WithUnsafe already drops raw HTML; the policy
	// is the second line, for links and anything goldmark lets through.
	return &Renderer{md: goldmark.New(goldmark.WithExtensions(extension.GFM)), policy: p}
}

// HTML is src rendered and sanitised.
func (r *Renderer) HTML(src string) (string, error) {
	var b bytes.Buffer
	if err := r.md.Convert([]byte(src), &b); err != nil {
		return "", fmt.Errorf("render markdown: %w", err)
	}
	return r.policy.SanitizeReader(&b).String(), nil
}
