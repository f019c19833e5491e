package console

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// chromiumPath is Debian's Chromium, which CI installs.
const chromiumPath = "/usr/bin/chromium"

// Browser is one headless Chromium tab with a fresh profile. JavaScript
// exceptions in the page fail the test: a console that throws is broken
// even when the assertion at hand passes.
type Browser struct {
	t   *testing.T
	ctx context.Context

	mu         sync.Mutex
	exceptions []string
}

// NewBrowser starts headless Chromium (skipping when it is absent outside CI).
func NewBrowser(t *testing.T) *Browser {
	t.Helper()
	exe := chromiumPath
	if _, err := os.Stat(exe); err != nil {
		if p, err := exec.LookPath("chromium"); err == nil {
			exe = p
		} else if os.Getenv("CI") == "" {
			t.Skip("Chromium is not installed (apt-get install chromium); the browser tests run in CI")
		} else {
			t.Fatalf("CI is set but Chromium is missing at %s: install Debian's chromium package", chromiumPath)
		}
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("autoplay-policy", "no-user-gesture-required"),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1366, 768),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 90*time.Second)
	b := &Browser{t: t, ctx: ctx}
	t.Cleanup(func() {
		cancelTimeout()
		cancelCtx()
		cancelAlloc()
		b.mu.Lock()
		defer b.mu.Unlock()
		for _, e := range b.exceptions {
			t.Errorf("JavaScript exception in the console: %s", e)
		}
	})
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1366, 768)); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	if err := chromedp.Listen(ctx, func(ev any) {
		var ex *runtime.EventExceptionThrown
		switch e := ev.(type) {
		case *runtime.EventExceptionThrown:
			ex = e
		case runtime.EventExceptionThrown:
			ex = &e
		}
		if ex == nil || ex.ExceptionDetails == nil {
			return
		}
		msg := ex.ExceptionDetails.Text
		if ex.ExceptionDetails.Exception != nil && ex.ExceptionDetails.Exception.Description != "" {
			msg = ex.ExceptionDetails.Exception.Description
		}
		b.mu.Lock()
		b.exceptions = append(b.exceptions, msg)
		b.mu.Unlock()
	}); err != nil {
		t.Fatalf("listen: %v", err)
	}
	return b
}

// Do runs steps and fails the test with what was being done.
func (b *Browser) Do(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, steps...); err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
}

// Click clicks the element a CSS selector finds. A page that redraws a
// list (after a save, or its 30 s refresh) can replace the node between
// chromedp's query and its click ("Could not find node with given id");
// a person would simply click the new button, so Click queries again, a
// few times, only for that error.
func (b *Browser) Click(what, sel string) {
	b.t.Helper()
	var err error
	for range 5 {
		if err = chromedp.Do(b.ctx, chromedp.Click(chromedp.CSS(sel))); err == nil {
			return
		}
		if !strings.Contains(err.Error(), "Could not find node") && !strings.Contains(err.Error(), "No node with given id") {
			break
		}
	}
	b.t.Fatalf("%s: %v", what, err)
}

// Text returns the visible text of the first element matching a CSS selector,
// waiting for it to be visible.
func (b *Browser) Text(sel string) string {
	b.t.Helper()
	s, err := chromedp.Run(b.ctx, chromedp.Text(chromedp.CSS(sel), chromedp.NodeVisible))
	if err != nil {
		b.t.Fatalf("read text of %s: %v", sel, err)
	}
	return s
}

// WaitText waits until the element's text contains want.
func (b *Browser) WaitText(sel, want string) {
	b.t.Helper()
	js := fmt.Sprintf(`(() => { const el = document.querySelector(%q); return !!el && el.innerText.includes(%q); })()`, sel, want)
	if _, err := chromedp.Run(b.ctx, chromedp.Poll[bool](js, chromedp.WithPollingTimeout(15*time.Second))); err != nil {
		got, _ := chromedp.Run(b.ctx, chromedp.Evaluate[string](fmt.Sprintf(`(document.querySelector(%q) || {}).innerText || "(no element)"`, sel)))
		b.t.Fatalf("waiting for %q in %s: %v; it says: %.400s", want, sel, err, got)
	}
}

// Eval evaluates JavaScript in the page.
func Eval[T any](b *Browser, js string) T {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[T](js, chromedp.EvalAwaitPromise))
	if err != nil {
		b.t.Fatalf("eval %q: %v", js, err)
	}
	return v
}

// Screenshot saves the viewport as docs/screenshots/console-<name>.png when
// DESKSIDE_SCREENSHOTS is set (make screenshots), else into the test's
// temp dir so the path is exercised anyway.
func (b *Browser) Screenshot(name string) {
	b.t.Helper()
	dir := b.t.TempDir()
	if os.Getenv("DESKSIDE_SCREENSHOTS") != "" {
		dir = filepath.Join("..", "..", "..", "docs", "screenshots")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			b.t.Fatal(err)
		}
	}
	// Let animations (the "fresh row" highlight) settle first.
	b.Do("settle", chromedp.Evaluate[chromedp.Void](`document.getElementById('toasts').replaceChildren()`), chromedp.Sleep(300*time.Millisecond))
	png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Fatalf("screenshot %s: %v", name, err)
	}
	p := filepath.Join(dir, "console-"+strings.ToLower(name)+".png")
	if err := os.WriteFile(p, png, 0o644); err != nil {
		b.t.Fatal(err)
	}
	b.t.Logf("screenshot %s", p)
}

// DarkMode makes the page see prefers-color-scheme: dark (or light again).
func (b *Browser) DarkMode(on bool) {
	b.t.Helper()
	v := "light"
	if on {
		v = "dark"
	}
	if _, err := chromedp.Call(b.ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
		Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: v}}}); err != nil {
		b.t.Fatalf("emulate %s scheme: %v", v, err)
	}
}

// WaitTrue waits until the JavaScript expression is true in the page.
func (b *Browser) WaitTrue(what, js string) {
	b.t.Helper()
	if _, err := chromedp.Run(b.ctx, chromedp.Poll[bool](js, chromedp.WithPollingTimeout(15*time.Second))); err != nil {
		b.t.Fatalf("waiting for %s (%s): %v", what, js, err)
	}
}
