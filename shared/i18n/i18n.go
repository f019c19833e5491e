// Package i18n holds Deskside's words in every language it speaks and picks
// the one a person reads: one TOML catalogue per language, English as the
// source and the fallback, CLDR plural rules through nicksnyder/go-i18n, and
// a pseudo-locale that tests use to catch untranslated and clipped text.
package i18n

import (
	"bytes"
	"embed"
	"fmt"
	"io/fs"
	"log/slog"
	"path"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/BurntSushi/toml"
	goi18n "github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"
)

// Source is the language the words are written in first; every other
// catalogue translates it, and any word missing elsewhere is read from it.
const Source = "en"

// Pseudo is the pseudo-locale: English made accented and 40 % longer
// ("[Ĝöţ íţ — Ŕöƀ íš öñ íţ ·········]"). It is built from the source at load
// time, never shipped as a file, and is offered only when asked for by name.
const Pseudo = "en-XA"

// Language is one language Deskside speaks.
type Language struct {
	Tag  string `json:"tag"`  // BCP 47: "de"
	Name string `json:"name"` // in the language itself: "Deutsch"
}

// Languages are the languages with a catalogue, in the order a person picks
// from (each named in its own words, so anyone can find theirs).
var Languages = []Language{
	{Tag: "en", Name: "English"},
	{Tag: "de", Name: "Deutsch"},
	{Tag: "es", Name: "Español"},
	{Tag: "fr", Name: "Français"},
}

//go:embed locales/*.toml
var embedded embed.FS

// Catalogue is every language's messages, loaded once and read concurrently.
type Catalogue struct {
	bundle  *goi18n.Bundle
	log     *slog.Logger
	loaded  map[string]bool                         // tags whose file parsed
	forms   map[string]map[string]map[string]string // tag → id → plural form → template (as written)
	matcher language.Matcher
	tags    []string // supported tags, matcher order
}

var (
	defaultOnce sync.Once
	defaultCat  *Catalogue
)

// Default is the catalogue built into this binary. A broken language file
// was already caught by the tests; should one slip through, that language
// falls back to English (with a log line), never a crash.
func Default() *Catalogue {
	defaultOnce.Do(func() { defaultCat = Load(embedded, slog.Default()) })
	return defaultCat
}

// Load reads every locales/<tag>.toml in fsys. A file that is missing or
// does not parse is logged and skipped: its language reads as English.
// The source language must parse; if it does not the catalogue is empty and
// every message reads as its id (tests catch that long before a release).
func Load(fsys fs.FS, log *slog.Logger) *Catalogue {
	if log == nil {
		log = slog.Default()
	}
	c := &Catalogue{
		bundle: goi18n.NewBundle(language.English),
		log:    log,
		loaded: map[string]bool{},
		forms:  map[string]map[string]map[string]string{},
	}
	c.bundle.RegisterUnmarshalFunc("toml", toml.Unmarshal)
	for _, l := range Languages {
		name := path.Join("locales", l.Tag+".toml")
		b, err := fs.ReadFile(fsys, name)
		if err == nil {
			err = c.add(l.Tag, name, b)
		}
		if err != nil {
			log.Error("language catalogue unusable; that language reads as English", "lang", l.Tag, "file", name, "err", err)
			continue
		}
		c.loaded[l.Tag] = true
	}
	if src := c.forms[Source]; src != nil {
		pseudo := map[string]map[string]string{}
		var msgs []*goi18n.Message
		for id, forms := range src {
			m := &goi18n.Message{ID: id}
			pf := map[string]string{}
			for form, tmpl := range forms {
				p := Pseudolocalize(tmpl)
				pf[form] = p
				setForm(m, form, p)
			}
			pseudo[id] = pf
			msgs = append(msgs, m)
		}
		if err := c.bundle.AddMessages(language.MustParse(Pseudo), msgs...); err == nil {
			c.forms[Pseudo] = pseudo
			c.loaded[Pseudo] = true
		}
	}
	tags := []language.Tag{language.English}
	c.tags = []string{Source}
	for _, l := range Languages {
		if l.Tag != Source && c.loaded[l.Tag] {
			tags = append(tags, language.MustParse(l.Tag))
			c.tags = append(c.tags, l.Tag)
		}
	}
	c.matcher = language.NewMatcher(tags)
	return c
}

// add parses one catalogue file and remembers its forms as written, which
// the console export and the completeness tests read.
func (c *Catalogue) add(tag, name string, b []byte) error {
	mf, err := c.bundle.ParseMessageFileBytes(b, name)
	if err != nil {
		return fmt.Errorf("parse %s: %w", name, err)
	}
	if mf.Tag != language.MustParse(tag) {
		return fmt.Errorf("parse %s: file says %s", name, mf.Tag)
	}
	forms := map[string]map[string]string{}
	for _, m := range mf.Messages {
		forms[m.ID] = messageForms(m)
	}
	c.forms[tag] = forms
	return nil
}

func messageForms(m *goi18n.Message) map[string]string {
	f := map[string]string{}
	for form, s := range map[string]string{"zero": m.Zero, "one": m.One, "two": m.Two, "few": m.Few, "many": m.Many, "other": m.Other} {
		if s != "" {
			f[form] = s
		}
	}
	return f
}

func setForm(m *goi18n.Message, form, s string) {
	switch form {
	case "zero":
		m.Zero = s
	case "one":
		m.One = s
	case "two":
		m.Two = s
	case "few":
		m.Few = s
	case "many":
		m.Many = s
	default:
		m.Other = s
	}
}

// Loaded reports whether tag's catalogue is in use (its file parsed).
func (c *Catalogue) Loaded(tag string) bool { return c.loaded[tag] }

// IDs lists the message ids of tag's catalogue as written, sorted.
func (c *Catalogue) IDs(tag string) []string {
	ids := make([]string, 0, len(c.forms[tag]))
	for id := range c.forms[tag] {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// Forms returns id's plural forms in tag's catalogue as written ("one",
// "other", …), nil when tag's catalogue lacks it.
func (c *Catalogue) Forms(tag, id string) map[string]string { return c.forms[tag][id] }

// Export returns every message whose id starts with prefix, in lang's words
// where it has them and English where it does not: id → plural form →
// template. The console's catalogue is this, served as JSON.
func (c *Catalogue) Export(lang, prefix string) map[string]map[string]string {
	lang = c.Match(lang)
	out := map[string]map[string]string{}
	for id, forms := range c.forms[Source] {
		if !strings.HasPrefix(id, prefix) {
			continue
		}
		if f, ok := c.forms[lang][id]; ok {
			forms = f
		}
		out[id] = forms
	}
	return out
}

// Match picks the supported language for what a person prefers: BCP 47
// tags ("de-AT"), Accept-Language headers ("fr-CH, fr;q=0.9, en;q=0.8") or
// POSIX locales ("de_DE.UTF-8", as in LANG), first preference first. An
// empty, unknown or garbled preference falls through to the next; nothing
// usable gives English. The pseudo-locale matches only its own name.
func (c *Catalogue) Match(prefs ...string) string {
	var tags []language.Tag
	for _, p := range prefs {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		if strings.EqualFold(p, Pseudo) {
			if c.loaded[Pseudo] {
				return Pseudo
			}
			continue
		}
		if strings.ContainsAny(p, ",;") {
			if ts, _, err := language.ParseAcceptLanguage(p); err == nil {
				tags = append(tags, ts...)
			}
			continue
		}
		if t, err := language.Parse(posixToBCP47(p)); err == nil {
			tags = append(tags, t)
		}
	}
	if len(tags) == 0 {
		return Source
	}
	_, i, conf := c.matcher.Match(tags...)
	if conf == language.No {
		return Source
	}
	return c.tags[i]
}

// posixToBCP47 turns "de_DE.UTF-8@euro" into "de-DE"; "C" and "POSIX" say
// nothing about a language.
func posixToBCP47(s string) string {
	if i := strings.IndexAny(s, ".@"); i >= 0 {
		s = s[:i]
	}
	if s == "C" || s == "POSIX" {
		return ""
	}
	return strings.ReplaceAll(s, "_", "-")
}

// Printer speaks one language. It is cheap; make one per person or request.
type Printer struct {
	c    *Catalogue
	lang string
	loc  *goi18n.Localizer
	src  *goi18n.Localizer
}

// For returns a Printer for the best match of prefs (see Match).
func (c *Catalogue) For(prefs ...string) *Printer {
	lang := c.Match(prefs...)
	return &Printer{c: c, lang: lang, loc: goi18n.NewLocalizer(c.bundle, lang, Source), src: goi18n.NewLocalizer(c.bundle, Source)}
}

// Lang is the language this Printer speaks ("en", "de", …, or Pseudo).
func (p *Printer) Lang() string { return p.lang }

// T returns message id with its placeholders filled from key/value pairs:
//
//	p.T("agent.picked_up", "Name", "Rob")          // "Rob picked up your request."
//	p.T("agent.requests_open", "Count", 3)         // plural form chosen by Count
//
// A "Count" pair chooses the plural form by the language's CLDR rules. A
// message this language lacks (or cannot form) reads in English; one English
// lacks too reads as its id and is logged, so a label is never empty.
func (p *Printer) T(id string, kv ...any) string {
	data := map[string]any{}
	for i := 0; i+1 < len(kv); i += 2 {
		if k, ok := kv[i].(string); ok {
			data[k] = kv[i+1]
		}
	}
	cfg := &goi18n.LocalizeConfig{MessageID: id, TemplateData: data}
	if n, ok := data["Count"]; ok {
		cfg.PluralCount = n
	}
	s, err := p.loc.Localize(cfg)
	if err == nil && s != "" {
		return s
	}
	if s, err2 := p.src.Localize(cfg); err2 == nil && s != "" {
		if p.lang != Source {
			p.c.log.Warn("message not in catalogue; read in English", "lang", p.lang, "id", id, "err", err)
		}
		return s
	}
	p.c.log.Error("message not in any catalogue", "lang", p.lang, "id", id, "err", err)
	return id
}

// Weekday names d ("Monday", "Montag", …).
func (p *Printer) Weekday(d time.Weekday) string {
	return p.T("common.weekday." + strings.ToLower(d.String()))
}

// Month names m ("January", "Januar", …).
func (p *Printer) Month(m time.Month) string {
	return p.T("common.month." + strings.ToLower(m.String()))
}

// Pseudolocalize accents s's letters, brackets it and pads it 40 % longer,
// leaving {{…}} placeholders and \n alone, so tests see at a glance which
// text did not come from a catalogue and which layouts clip longer words.
func Pseudolocalize(s string) string {
	var b bytes.Buffer
	b.WriteString("[")
	letters := 0
	for i := 0; i < len(s); {
		if strings.HasPrefix(s[i:], "{{") {
			j := strings.Index(s[i:], "}}")
			if j >= 0 {
				b.WriteString(s[i : i+j+2])
				i += j + 2
				continue
			}
		}
		r := rune(s[i])
		size := 1
		if r >= 0x80 {
			rr := []rune(s[i:])
			r = rr[0]
			size = len(string(r))
		}
		if a, ok := accents[r]; ok {
			b.WriteRune(a)
			letters++
		} else {
			b.WriteRune(r)
			if r != ' ' && r != '\n' {
				letters++
			}
		}
		i += size
	}
	pad := (letters*4 + 9) / 10
	if pad > 0 {
		b.WriteString(" ")
		b.WriteString(strings.Repeat("·", pad))
	}
	b.WriteString("]")
	return b.String()
}

var accents = func() map[rune]rune {
	from := "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	to := []rune("àƀçđéƒĝĥíĵķĺɱñöþʠŕšţüṽŵẋýžÀƁÇĐÉƑĜĤÍĴĶĹṀÑÖÞǪŔŠŢÜṼŴẊÝŽ")
	m := map[rune]rune{}
	for i, r := range from {
		m[r] = to[i]
	}
	return m
}()
