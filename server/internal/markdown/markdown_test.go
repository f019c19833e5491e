package markdown

import (
	"html"
	"regexp"
	"strings"
	"testing"
)

var (
	tagRE     = regexp.MustCompile(`<[^>]*>`)
	onAttrRE  = regexp.MustCompile(`\son[a-z]+\s*=`)
	urlAttrRE = regexp.MustCompile(`\s(?:href|src|action|formaction|xlink:href)\s*=\s*"([^"]*)"`)
)

// What a browser would run never survives: raw HTML, javascript: and
// data: links, event handlers; Markdown itself renders.
func TestHTMLSanitises(t *testing.T) {
	r := New()
	for _, c := range []struct {
		src     string
		want    []string
		mustNot []string
	}{
		{"# Printer\n\n**Turn it off** and on.", []string{"<h1", "Printer</h1>", "<strong>Turn it off</strong>"}, nil},
		{"<script>alert(1)</script>hi", nil, []string{"<script", "alert(1)"}},
		{"[click](javascript:alert(1))", []string{"click"}, []string{"javascript:"}},
		{"[click](JaVaScRiPt:alert(1))", nil, []string{"alert(1)\""}},
		{"[x](data:text/html;base64,PHNjcmlwdD4=)", nil, []string{"data:"}},
		{`<img src=x onerror="alert(1)">`, nil, []string{"onerror", "<img"}},
		{`<a href="javascript:alert(1)">x</a>`, nil, []string{"javascript:"}},
		{"![logo](https://example.com/a.png)", []string{`<img src="https://example.com/a.png"`}, nil},
		{"[docs](https://example.com)", []string{`href="https://example.com"`, `rel="nofollow noreferrer noopener"`}, nil},
		{"| a | b |\n|---|---|\n| 1 | 2 |", []string{"<table>", "<td>1</td>"}, nil},
		{"<iframe src=https://evil.example></iframe><style>body{}</style>", nil, []string{"<iframe", "<style"}},
	} {
		got, err := r.HTML(c.src)
		if err != nil {
			t.Fatalf("%q: %v", c.src, err)
		}
		for _, w := range c.want {
			if !strings.Contains(got, w) {
				t.Errorf("%q → %q: missing %q", c.src, got, w)
			}
		}
		for _, w := range c.mustNot {
			if strings.Contains(strings.ToLower(got), strings.ToLower(w)) {
				t.Errorf("%q → %q: still has %q", c.src, got, w)
			}
		}
	}
}

func FuzzHTML(f *testing.F) {
	for _, s := range []string{"<script>x</script>", "[a](javascript:x)", "# t\n\n*b*", "<a href=\"java\tscript:x\">y</a>"} {
		f.Add(s)
	}
	r := New()
	f.Fuzz(func(t *testing.T, src string) {
		got, err := r.HTML(src)
		if err != nil {
			t.Fatal(err)
		}
		// Text may say anything (it is escaped); tags may not run code.
		for _, tag := range tagRE.FindAllString(strings.ToLower(got), -1) {
			if strings.HasPrefix(tag, "<script") || onAttrRE.MatchString(tag) {
				t.Fatalf("%q → %q: tag %q", src, got, tag)
			}
			for _, m := range urlAttrRE.FindAllStringSubmatch(tag, -1) {
				if s := urlScheme(m[1]); s == "javascript" || s == "vbscript" || s == "data" {
					t.Fatalf("%q → %q: tag %q links to a %s: URL", src, got, tag, s)
				}
			}
		}
	})
}

// urlScheme is the scheme a browser reads from an attribute's value: the
// entities decoded, the tabs, newlines and controls it ignores removed, and
// the letters before a ':' that comes before any '/', '?' or '#'. A relative
// URL whose path or fragment says "javascript:" has no scheme.
func urlScheme(attr string) string {
	v := strings.Map(func(r rune) rune {
		if r <= ' ' {
			return -1
		}
		return r
	}, html.UnescapeString(attr))
	if i := strings.IndexAny(v, ":/?#"); i > 0 && v[i] == ':' {
		return strings.ToLower(v[:i])
	}
	return ""
}

// The fuzz oracle itself: it must see the schemes a browser would run.
func TestURLSchemeOracle(t *testing.T) {
	for in, want := range map[string]string{
		"javascript:alert(1)":        "javascript",
		" JaVa&#x09;Script:alert(1)": "javascript",
		"java\nscript:x":             "javascript",
		"data:text/html,x":           "data",
		"00#0jAvAsCript:0":           "",
		"/path/javascript:x":         "",
		"?q=javascript:x":            "",
		"https://example.com":        "https",
	} {
		if got := urlScheme(in); got != want {
			t.Errorf("urlScheme(%q) = %q, want %q", in, got, want)
		}
	}
}
