package i18n

import (
	"bytes"
	"log/slog"
	"regexp"
	"sort"
	"strings"
	"testing"
	"testing/fstest"
	"time"
)

// The checks every catalogue must pass; docs/translating.md points here.

var placeholderRE = regexp.MustCompile(`\{\{\s*\.(\w+)\s*\}\}`)

func placeholders(s string) []string {
	var out []string
	for _, m := range placeholderRE.FindAllStringSubmatch(s, -1) {
		out = append(out, m[1])
	}
	sort.Strings(out)
	return out
}

// union of the placeholders over every plural form, Count aside (a language
// may say "one" without the number: "a minute").
func messagePlaceholders(forms map[string]string) string {
	set := map[string]bool{}
	for _, s := range forms {
		for _, p := range placeholders(s) {
			if p != "Count" {
				set[p] = true
			}
		}
	}
	var out []string
	for p := range set {
		out = append(out, p)
	}
	sort.Strings(out)
	return strings.Join(out, ",")
}

func TestEveryLanguageLoads(t *testing.T) {
	c := Default()
	for _, l := range Languages {
		if !c.Loaded(l.Tag) {
			t.Errorf("%s.toml did not load (see the log line above)", l.Tag)
		}
	}
	if !c.Loaded(Pseudo) {
		t.Error("the pseudo-locale was not built")
	}
	if len(c.IDs(Source)) < 19 {
		t.Errorf("source has only %d ids", len(c.IDs(Source)))
	}
}

func TestCataloguesMatchTheSource(t *testing.T) {
	c := Default()
	src := c.IDs(Source)
	for _, l := range Languages {
		if l.Tag == Source {
			continue
		}
		have := map[string]bool{}
		for _, id := range c.IDs(l.Tag) {
			have[id] = true
		}
		for _, id := range src {
			if !have[id] {
				t.Errorf("%s.toml lacks %q", l.Tag, id)
				continue
			}
			delete(have, id)
			if a, b := messagePlaceholders(c.Forms(Source, id)), messagePlaceholders(c.Forms(l.Tag, id)); a != b {
				t.Errorf("%s.toml %q has placeholders {%s}, the source {%s}", l.Tag, id, b, a)
			}
			srcPlural := len(c.Forms(Source, id)) > 1
			if plural := len(c.Forms(l.Tag, id)) > 1; plural != srcPlural {
				t.Errorf("%s.toml %q: plural in one language and not the other", l.Tag, id)
			}
		}
		for id := range have {
			t.Errorf("%s.toml has %q, which the source does not", l.Tag, id)
		}
	}
}

// TestPluralFormsCoverCLDR forms every plural message with counts that reach
// each CLDR category of each language (French and Spanish "many" comes at a
// million): a missing form would fall back to English mid-sentence.
func TestPluralFormsCoverCLDR(t *testing.T) {
	var logs bytes.Buffer
	c := Load(embedded, slog.New(slog.NewTextHandler(&logs, nil)))
	counts := []int{0, 1, 2, 3, 4, 5, 11, 21, 22, 100, 101, 1000000}
	for _, l := range Languages {
		p := c.For(l.Tag)
		for _, id := range c.IDs(Source) {
			if len(c.Forms(Source, id)) < 2 {
				continue
			}
			for _, n := range counts {
				logs.Reset()
				if s := p.T(id, "Count", n); s == "" || logs.Len() > 0 {
					t.Errorf("%s %q with Count=%d: %q (%s)", l.Tag, id, n, s, strings.TrimSpace(logs.String()))
				}
			}
		}
	}
}

func TestMatch(t *testing.T) {
	c := Default()
	for _, tc := range []struct {
		prefs []string
		want  string
	}{
		{nil, "en"},
		{[]string{"de"}, "de"},
		{[]string{"de-AT"}, "de"},
		{[]string{"de_DE.UTF-8"}, "de"},
		{[]string{"fr_CA.UTF-8@euro"}, "fr"},
		{[]string{"es-419"}, "es"},
		{[]string{"C"}, "en"},
		{[]string{"POSIX", "fr"}, "fr"},
		{[]string{"xx-garbage!!"}, "en"},
		{[]string{"ja", "zh"}, "en"},
		{[]string{"", "es"}, "es"},
		{[]string{"fr-CH, fr;q=0.9, en;q=0.8, de;q=0.7"}, "fr"},
		{[]string{"ja,de;q=0.5"}, "de"},
		{[]string{"en-XA"}, Pseudo},
		{[]string{"EN-xa"}, Pseudo},
	} {
		if got := c.Match(tc.prefs...); got != tc.want {
			t.Errorf("Match(%q) = %q, want %q", tc.prefs, got, tc.want)
		}
	}
}

func TestBrokenOrMissingCatalogueFallsBackToEnglish(t *testing.T) {
	src, err := embedded.ReadFile("locales/en.toml")
	if err != nil {
		t.Fatal(err)
	}
	fsys := fstest.MapFS{
		"locales/en.toml": {Data: src},
		"locales/de.toml": {Data: []byte("[common.weekday\nmonday = \"Montag")}, // broken
		// fr.toml and es.toml missing
	}
	var logs bytes.Buffer
	c := Load(fsys, slog.New(slog.NewTextHandler(&logs, nil)))
	for _, tag := range []string{"de", "fr", "es"} {
		if c.Loaded(tag) {
			t.Errorf("%s loaded from a broken or missing file", tag)
		}
		p := c.For(tag)
		if p.Lang() != "en" {
			t.Errorf("For(%s).Lang() = %s, want en", tag, p.Lang())
		}
		if got := p.Weekday(time.Monday); got != "Monday" {
			t.Errorf("%s Monday = %q, want English", tag, got)
		}
		if !strings.Contains(logs.String(), "lang="+tag) {
			t.Errorf("no log line names %s: %s", tag, logs.String())
		}
	}
}

func TestUnknownIDReadsAsItsIDAndIsLogged(t *testing.T) {
	var logs bytes.Buffer
	c := Load(embedded, slog.New(slog.NewTextHandler(&logs, nil)))
	if got := c.For("de").T("no.such.id"); got != "no.such.id" {
		t.Errorf("got %q", got)
	}
	if !strings.Contains(logs.String(), "no.such.id") {
		t.Error("not logged")
	}
}

func TestPrinterSpeaksItsLanguage(t *testing.T) {
	c := Default()
	for tag, want := range map[string]string{"en": "Monday", "de": "Montag", "es": "lunes", "fr": "lundi"} {
		if got := c.For(tag).Weekday(time.Monday); got != want {
			t.Errorf("%s: %q, want %q", tag, got, want)
		}
	}
	if got := c.For("de").Month(time.March); got != "März" {
		t.Errorf("de March = %q", got)
	}
	if got := c.For(Pseudo).Weekday(time.Monday); !strings.HasPrefix(got, "[Ṁöñđàý") {
		t.Errorf("pseudo Monday = %q", got)
	}
}

func TestPseudolocalize(t *testing.T) {
	got := Pseudolocalize("Got it — {{.Name}} is on it.")
	if !strings.HasPrefix(got, "[Ĝöţ íţ — {{.Name}} íš öñ íţ. ") || !strings.HasSuffix(got, "·]") {
		t.Errorf("got %q", got)
	}
	// 40 % longer than the source's visible characters, rounded up.
	src := "Connected to IT."
	if n, want := strings.Count(Pseudolocalize(src), "·"), (len("ConnectedtoIT.")*4+9)/10; n != want {
		t.Errorf("padding %d, want %d", n, want)
	}
	if Pseudolocalize("") != "[]" {
		t.Errorf("empty: %q", Pseudolocalize(""))
	}
}

func TestExportFallsBackPerID(t *testing.T) {
	c := Default()
	de := c.Export("de-DE", "common.")
	if de["common.weekday.monday"]["other"] != "Montag" {
		t.Errorf("de export: %v", de["common.weekday.monday"])
	}
	if len(c.Export("zz", "common.")) != len(c.Export("en", "common.")) {
		t.Error("unknown language does not export the English set")
	}
	if len(c.Export("de", "nothing.")) != 0 {
		t.Error("prefix not applied")
	}
}

func FuzzMatch(f *testing.F) {
	for _, s := range []string{"de", "de_DE.UTF-8", "fr-CH, fr;q=0.9", "", "en-XA", "x;q=abc,,", "C"} {
		f.Add(s)
	}
	c := Default()
	f.Fuzz(func(t *testing.T, s string) {
		got := c.Match(s)
		ok := got == Pseudo
		for _, l := range Languages {
			ok = ok || got == l.Tag
		}
		if !ok {
			t.Fatalf("Match(%q) = %q, not a supported language", s, got)
		}
		_ = c.For(s).T("common.weekday.monday")
	})
}
