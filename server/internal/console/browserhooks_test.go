package console

import (
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// OnNewDocument runs js in every page before the page's own scripts (a
// test's hooks: a clock it can move, intervals it can fire). The page's
// CSP does not apply to it.
func (b *Browser) OnNewDocument(js string) {
	b.t.Helper()
	if _, err := chromedp.Call(b.ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: js}); err != nil {
		b.t.Fatalf("add a script to new documents: %v", err)
	}
}
