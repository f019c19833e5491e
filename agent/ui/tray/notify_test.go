package tray

import (
	"encoding/xml"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// hostile is text a message could carry that breaks naive quoting in every
// target: XML, CDATA, AppleScript strings, PowerShell here-strings, shells.
const hostile = `He said "hi" \ 'there' ]]> <b>&amp;</b> $(calc) "@ ` + "`x`\nsecond line\ttab\x00nul\x1b[31m\u2028"

func TestPrintable(t *testing.T) {
	for in, want := range map[string]string{
		"plain":                  "plain",
		"a\nb\tc":                "a\nb\tc",
		"nul\x00bell\x07esc\x1b": "nulbellesc",
		"crlf\r\nline":           "crlf\nline",
		"bad \xff utf8":          "bad \uFFFD utf8",
		"non\uFFFEchar\uFFFF":    "nonchar",
		"C1\u0085 ok é 😀":        "C1 ok é 😀",
	} {
		if got := printable(in); got != want {
			t.Errorf("printable(%q) = %q, want %q", in, got, want)
		}
	}
}

// toastTexts parses a toast as Windows does and returns its texts.
func toastTexts(t *testing.T, doc string) (launch string, texts []string) {
	t.Helper()
	var toast struct {
		Launch string `xml:"launch,attr"`
		Texts  []struct {
			Placement string `xml:"placement,attr"`
			Value     string `xml:",chardata"`
		} `xml:"visual>binding>text"`
	}
	if err := xml.Unmarshal([]byte(doc), &toast); err != nil {
		t.Fatalf("the toast is not well-formed XML: %v\n%s", err, doc)
	}
	for _, x := range toast.Texts {
		texts = append(texts, x.Placement+":"+x.Value)
	}
	return toast.Launch, texts
}

func TestToastXMLCarriesHostileTextAsText(t *testing.T) {
	doc := toastXML(Notification{Title: "Rob replied " + hostile, Body: hostile}, "deskside-notification-7", `Acme "IT" <&>`)
	launch, texts := toastTexts(t, doc)
	if launch != "deskside-notification-7" {
		t.Errorf("launch = %q", launch)
	}
	clean := strings.TrimSpace(printable(hostile))
	want := []string{":Rob replied " + clean, ":" + clean, `attribution:Acme "IT" <&>`}
	if !slices.Equal(texts, want) {
		t.Errorf("texts =\n%q\nwant\n%q", texts, want)
	}
	if strings.Contains(doc, "<b>") || strings.Contains(doc, "CDATA") {
		t.Errorf("markup from the message reached the toast XML:\n%s", doc)
	}
}

func TestToastXMLWithoutClickOrBrand(t *testing.T) {
	doc := toastXML(Notification{Title: "Your request is resolved", Body: "  "}, "", "")
	launch, texts := toastTexts(t, doc)
	if launch != "" || !slices.Equal(texts, []string{":Your request is resolved"}) {
		t.Errorf("launch %q, texts %q", launch, texts)
	}
}

func TestOsascriptArgsNeverBecomeScript(t *testing.T) {
	args := osascriptArgs("Acme IT", Notification{Title: "Rob replied\n" + hostile, Body: hostile})
	// The script is the same whatever the texts: they are arguments.
	var script []string
	for i := 0; i+1 < len(args) && args[i] == "-e"; i += 2 {
		script = append(script, args[i+1])
	}
	if !slices.Equal(script, osascriptScript) {
		t.Fatalf("script = %q", script)
	}
	rest := args[2*len(script):]
	want := []string{"deskside", "Acme IT", oneLine("Rob replied " + hostile), strings.TrimSpace(printable(hostile))}
	if !slices.Equal(rest, want) {
		t.Fatalf("arguments =\n%q\nwant\n%q", rest, want)
	}
	for _, a := range rest {
		if strings.ContainsRune(a, 0) {
			t.Errorf("argument %q holds a NUL, which exec refuses", a)
		}
	}
	if strings.Contains(rest[2], "\n") {
		t.Errorf("subtitle %q spans lines", rest[2])
	}
	if !strings.Contains(rest[3], "\n") {
		t.Errorf("body %q lost its line break", rest[3])
	}
}

func TestClickTable(t *testing.T) {
	var tbl clickTable
	opened := ""
	first := tbl.add(func() { opened = "first" })
	second := tbl.add(func() { opened = "second" })
	if first == second || strings.ContainsAny(first, `"<>& `) {
		t.Fatalf("tokens %q %q must differ and be safe in an XML attribute", first, second)
	}
	tbl.take(second)()
	if opened != "second" {
		t.Errorf("opened %q", opened)
	}
	if tbl.take(second) != nil || tbl.take("deskside-notification-999") != nil {
		t.Error("a token opens once, an unknown one never")
	}
	for i := range maxPendingClicks {
		tbl.add(func() { opened = fmt.Sprint(i) })
	}
	if tbl.take(first) != nil {
		t.Error("the oldest click is kept past the limit")
	}
	if len(tbl.fns) != maxPendingClicks {
		t.Errorf("%d remembered, want %d", len(tbl.fns), maxPendingClicks)
	}
	tbl.clear()
	if len(tbl.fns) != 0 {
		t.Error("clear kept clicks")
	}
}
