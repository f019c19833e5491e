package console

import (
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"path"
	"regexp"
	"strings"
	"testing"
)

// TestFilesServedWithTypes fetches every embedded file through Handler and
// checks its content type: a browser refuses an ES module served as
// text/plain, and nosniff makes it strict.
func TestFilesServedWithTypes(t *testing.T) {
	srv := httptest.NewServer(Handler())
	defer srv.Close()
	want := map[string]string{
		".html": "text/html",
		".css":  "text/css",
		".js":   "text/javascript",
		".svg":  "image/svg+xml",
	}
	n := 0
	err := fs.WalkDir(Files(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		n++
		ct, ok := want[path.Ext(p)]
		if !ok {
			t.Errorf("%s: no expected content type for this extension; add one", p)
			return nil
		}
		res, err := http.Get(srv.URL + "/" + p)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Errorf("%s: status %d", p, res.StatusCode)
		}
		if got := res.Header.Get("Content-Type"); !strings.HasPrefix(got, ct) {
			t.Errorf("%s: Content-Type %q, want %s", p, got, ct)
		}
		if res.Header.Get("X-Content-Type-Options") != "nosniff" || res.Header.Get("Content-Security-Policy") == "" {
			t.Errorf("%s: security headers missing: %v", p, res.Header)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 5 {
		t.Errorf("only %d files embedded", n)
	}
}

// TestRootIsIndex checks "/" serves the console page.
func TestRootIsIndex(t *testing.T) {
	srv := httptest.NewServer(Handler())
	defer srv.Close()
	res, err := http.Get(srv.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if !strings.Contains(string(b), `<script type="module" src="js/app.js">`) {
		t.Errorf("/ did not serve index.html: %.200s", b)
	}
}

// TestImportsResolve checks that every relative ES module import names an
// embedded file, so a typo fails here rather than as a blank page.
func TestImportsResolve(t *testing.T) {
	re := regexp.MustCompile(`(?m)^\s*import\s[^'"]*['"](\./[^'"]+)['"]`)
	files := Files()
	matches, err := fs.Glob(files, "js/*.js")
	if err != nil || len(matches) == 0 {
		t.Fatalf("no modules: %v", err)
	}
	for _, m := range matches {
		src, err := fs.ReadFile(files, m)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range re.FindAllStringSubmatch(string(src), -1) {
			target := path.Join(path.Dir(m), imp[1])
			if _, err := fs.Stat(files, target); err != nil {
				t.Errorf("%s imports %s, which is not embedded", m, imp[1])
			}
		}
	}
}

// TestNoInnerHTML keeps user text from ever being parsed as HTML: pages
// build DOM with util.h, which sets text as text.
func TestNoInnerHTML(t *testing.T) {
	matches, _ := fs.Glob(Files(), "js/*.js")
	for _, m := range matches {
		src, _ := fs.ReadFile(Files(), m)
		if strings.Contains(string(src), "innerHTML") || strings.Contains(string(src), "insertAdjacentHTML") {
			t.Errorf("%s uses innerHTML; build elements with h() instead", m)
		}
	}
}
