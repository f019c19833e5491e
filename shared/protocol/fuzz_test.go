package protocol

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"
)

// The fuzz targets of the wire: what a device, a console or a hostile peer
// can put in a frame. Seeds are f.Add calls and testdata/fuzz/FuzzX/ (the
// golden frames); `make fuzz` runs each target.

// frameBodies maps every kind to the body the receiving side decodes it
// into. TestFuzzFrameCoversEveryKind keeps it equal to the kinds declared in
// this package, so a new kind cannot be left unfuzzed.
var frameBodies = map[Kind]func() any{
	KindHello:             func() any { return new(Hello) },
	KindRequestNew:        func() any { return new(RequestNew) },
	KindRequestReply:      func() any { return new(RequestReply) },
	KindRequestRate:       func() any { return new(RequestRate) },
	KindRequestReopen:     func() any { return new(RequestReopen) },
	KindSnapshot:          func() any { return new(Snapshot) },
	KindTelemetry:         func() any { return new(Telemetry) },
	KindUpdateReport:      func() any { return new(UpdateReport) },
	KindDeliveryCursor:    func() any { return new(DeliveryCursor) },
	KindCheckReport:       func() any { return new(CheckReport) },
	KindArticleFeedback:   func() any { return new(ArticleFeedback) },
	KindAnnouncementMeToo: func() any { return new(AnnouncementMeToo) },
	KindSoftwareInventory: func() any { return new(SoftwareInventory) },
	KindSoftwareAnswer:    func() any { return new(SoftwareAnswer) },
	KindDeviceLanguage:    func() any { return new(DeviceLanguage) },

	KindWelcome:         func() any { return new(Welcome) },
	KindAck:             func() any { return new(Ack) },
	KindError:           func() any { return new(Error) },
	KindMessage:         func() any { return new(Message) },
	KindRequestStatus:   func() any { return new(RequestStatus) },
	KindAnnouncement:    func() any { return new(Announcement) },
	KindSnapshotWant:    func() any { return new(struct{}) },
	KindTelemetryStart:  func() any { return new(TelemetryStart) },
	KindTelemetryStop:   func() any { return new(struct{}) },
	KindUpdateAvailable: func() any { return new(UpdateAvailable) },
	KindChecksPolicy:    func() any { return new(ChecksPolicy) },
	KindArticlesChanged: func() any { return new(ArticlesChanged) },
	KindSoftwareWant:    func() any { return new(SoftwareWant) },
	KindSoftwareAsk:     func() any { return new(SoftwareAsk) },
	KindSoftwareThanks:  func() any { return new(SoftwareThanks) },

	KindPresence:       func() any { return new(Presence) },
	KindRequestCreated: func() any { return new(RequestSummary) },
	KindRequestUpdated: func() any { return new(RequestSummary) },
	KindDeviceMessage:  func() any { return new(Message) },
	KindDeviceSnapshot: func() any { return new(DeviceSnapshot) },
	KindDeviceTelem:    func() any { return new(Telemetry) },
	KindConsoleHello:   func() any { return new(ConsoleHello) },
	KindPresenceBatch:  func() any { return new(PresenceBatch) },
	KindRequestThread:  func() any { return new(ThreadItem) },

	// Revision 2, console (issue 16).
	KindAnnouncementUpdated: func() any { return new(AnnouncementUpdated) },
	KindDeviceChecks:        func() any { return new(DeviceChecks) },
	// Revision 3, console.
	KindSoftwareUpdated: func() any { return new(SoftwareUpdated) },
	// Revision 4, console.
	KindRequestSlipping: func() any { return new(RequestSlipping) },
}

// declaredKinds reads the Kind constants declared in this package's source,
// independently of any list kept by hand.
func declaredKinds(t *testing.T) []Kind {
	t.Helper()
	fset := token.NewFileSet()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	var kinds []Kind
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, decl := range f.Decls {
			gd, ok := decl.(*ast.GenDecl)
			if !ok || gd.Tok != token.CONST {
				continue
			}
			for _, spec := range gd.Specs {
				vs := spec.(*ast.ValueSpec)
				if id, ok := vs.Type.(*ast.Ident); !ok || id.Name != "Kind" {
					continue
				}
				for i, v := range vs.Values {
					lit, ok := v.(*ast.BasicLit)
					if !ok || lit.Kind != token.STRING {
						t.Fatalf("%s: kind %s is not a string literal", name, vs.Names[i].Name)
					}
					s, err := strconv.Unquote(lit.Value)
					if err != nil {
						t.Fatal(err)
					}
					kinds = append(kinds, Kind(s))
				}
			}
		}
	}
	if len(kinds) == 0 {
		t.Fatal("found no Kind constants: has the declaration moved?")
	}
	return kinds
}

// TestFuzzFrameCoversEveryKind: FuzzFrame knows every declared kind, decodes
// each into the type its golden frame uses, and has an oracle for every body
// that validates itself.
func TestFuzzFrameCoversEveryKind(t *testing.T) {
	declared := declaredKinds(t)
	for _, k := range declared {
		if _, ok := frameBodies[k]; !ok {
			t.Errorf("kind %q is not in frameBodies: add it so FuzzFrame decodes it", k)
		}
	}
	g := golden()
	for k, newBody := range frameBodies {
		if !slices.Contains(declared, k) {
			t.Errorf("frameBodies lists %q, which the protocol does not declare", k)
		}
		typ := reflect.TypeOf(newBody()).Elem()
		if want := reflect.TypeOf(g[k]); typ != want {
			t.Errorf("frameBodies[%q] decodes into %v; its golden frame is a %v", k, typ, want)
		}
		if _, validates := newBody().(interface{ Validate() error }); validates {
			if _, ok := bodyRules[typ]; !ok {
				t.Errorf("%v has a Validate method but no rule in bodyRules", typ)
			}
		}
	}
}

// addGoldenSeeds adds every golden frame as a seed, so each kind's real
// wire form is where the fuzzer starts.
func addGoldenSeeds(f *testing.F) {
	golden, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil || len(golden) == 0 {
		f.Fatalf("no golden frames in testdata: %v", err)
	}
	for _, p := range golden {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

// FuzzParse is the envelope decoder, the first thing a server does with a
// device's or a console's frame. A frame Parse accepts has a version, type
// and id; re-encoding it is stable (decode → encode → decode gives the same
// envelope, and a second encoding the same bytes); and its SeqFrame
// template splices a seq in exactly where Marshal puts it.
func FuzzParse(f *testing.F) {
	addGoldenSeeds(f)
	f.Add([]byte(`{"v":1,"type":"hello","id":"x","ts":"2026-11-23T09:00:00+01:00","seq":18446744073709551615,"body":null}`))
	f.Add([]byte(`{"v":1,"type":"a\",\"body\":","id":"\u003c\ud800","body":{ "x" : [1, 2] }}`))
	f.Add([]byte(`{"v":2,"type":"hello","id":"x"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		e, err := Parse(data)
		switch {
		case errors.Is(err, ErrVersion):
			if e.V == Version {
				t.Fatalf("ErrVersion for version %d", e.V)
			}
			return
		case errors.Is(err, ErrNoType):
			if e.Type != "" {
				t.Fatalf("ErrNoType with type %q", e.Type)
			}
			return
		case errors.Is(err, ErrNoID):
			if e.ID != "" {
				t.Fatalf("ErrNoID with id %q", e.ID)
			}
			return
		case err != nil:
			if json.Valid(data) && bytes.HasPrefix(bytes.TrimSpace(data), []byte("{")) && !hasTypeError(err) {
				t.Fatalf("a JSON object was refused with %v", err)
			}
			return
		}
		if e.V != Version || e.Type == "" || e.ID == "" {
			t.Fatalf("accepted an envelope without version, type or id: %+v", e)
		}
		b, err := e.Marshal()
		if err != nil {
			t.Fatalf("an accepted envelope does not encode: %v", err)
		}
		e2, err := Parse(b)
		if err != nil {
			t.Fatalf("re-encoded envelope refused: %v\n%s", err, b)
		}
		if e2.V != e.V || e2.Type != e.Type || e2.ID != e.ID || e2.Seq != e.Seq || !e2.TS.Equal(e.TS) {
			t.Fatalf("round trip changed the envelope:\n%+v\n%+v", e, e2)
		}
		if !bytes.Equal(e2.Body, compact(t, e.Body)) {
			t.Fatalf("round trip changed the body: %s → %s", e.Body, e2.Body)
		}
		if b2, _ := e2.Marshal(); !bytes.Equal(b, b2) {
			t.Fatalf("encoding is not stable:\n%s\n%s", b, b2)
		}

		sf, err := NewSeqFrame(e)
		if err != nil {
			t.Fatalf("no SeqFrame for an accepted envelope: %v", err)
		}
		withSeq := e
		withSeq.Seq = e.Seq | 1 // Marshal omits seq 0; the splice never does
		want, _ := withSeq.Marshal()
		if got := sf.Frame(withSeq.Seq); !bytes.Equal(got, want) {
			t.Fatalf("SeqFrame differs from Marshal:\n got %s\nwant %s", got, want)
		}
		back, err := ParseSeqFrame(sf.Template())
		if err != nil {
			t.Fatalf("a template does not read back: %v", err)
		}
		if got := back.Frame(withSeq.Seq); !bytes.Equal(got, want) {
			t.Fatalf("template read back differs:\n got %s\nwant %s", got, want)
		}
	})
}

// hasTypeError reports a well-formed JSON value of the wrong type (a string
// for v, a number for ts), which Parse rightly refuses.
func hasTypeError(err error) bool {
	var te *json.UnmarshalTypeError
	var pe *time.ParseError
	return errors.As(err, &te) || errors.As(err, &pe) || strings.Contains(err.Error(), "Time.UnmarshalJSON")
}

// compact is what Marshal makes of a raw body: the same JSON without
// spaces, with <, > and & escaped as \u003c, \u003e and \u0026.
func compact(t *testing.T, raw []byte) []byte {
	t.Helper()
	if len(raw) == 0 {
		return nil
	}
	var buf, esc bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		t.Fatalf("body %q is not JSON: %v", raw, err)
	}
	json.HTMLEscape(&esc, buf.Bytes())
	return esc.Bytes()
}

// FuzzFrame decodes a frame's body as its receiver does: Parse, then Decode
// into the kind's body type (which runs Validate). Every kind is reachable
// (the golden frame of each is a seed). It asserts that Decode accepts a
// body exactly when it is JSON of the right shape and the kind's rules in
// bodyRules hold, and that an accepted body survives encode → decode: it
// validates again, and its encoding is a fixed point.
func FuzzFrame(f *testing.F) {
	addGoldenSeeds(f)
	f.Add([]byte(`{"v":1,"type":"request.new","id":"x","body":{"request_id":"r","category":"idea","urgency":"blocking","text":" \u00a0"}}`))
	f.Add([]byte(`{"v":1,"type":"request.rate","id":"x","body":{"request_id":"r","rating":0}}`))
	f.Add([]byte(`{"v":1,"type":"request.new","id":"x","body":{"request_id":"r","category":"idea","urgency":"blocking","text":"t","screenshot":{"type":"image/png","data":""}}}`))
	f.Add([]byte(`{"v":1,"type":"snapshot.want","id":"x"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		env, err := Parse(data)
		if err != nil {
			return // FuzzParse's business
		}
		newBody, ok := frameBodies[env.Type]
		if !ok {
			return // the receiver answers unknown_type
		}
		v := newBody()
		err = env.Decode(v)

		// What Decode should have said.
		var want error
		shape := newBody()
		if len(env.Body) == 0 {
			want = errors.New("empty body")
		} else if jerr := json.Unmarshal(env.Body, shape); jerr != nil {
			want = jerr
		} else if rule, ok := bodyRules[reflect.TypeOf(shape).Elem()]; ok {
			want = rule(shape)
		}
		if (err == nil) != (want == nil) {
			t.Fatalf("%s: Decode said %v; the rules say %v\nbody: %s", env.Type, err, want, env.Body)
		}
		if err != nil {
			return
		}

		enc1, err := json.Marshal(v)
		if err != nil {
			t.Fatalf("%s: an accepted body does not encode: %v", env.Type, err)
		}
		again := Envelope{V: Version, Type: env.Type, ID: env.ID, Body: enc1}
		v2 := newBody()
		if err := again.Decode(v2); err != nil {
			t.Fatalf("%s: an accepted body, re-encoded, is refused: %v\n%s", env.Type, err, enc1)
		}
		enc2, _ := json.Marshal(v2)
		if !bytes.Equal(enc1, enc2) {
			t.Fatalf("%s: encoding is not stable:\n%s\n%s", env.Type, enc1, enc2)
		}
		v3 := newBody()
		if err := json.Unmarshal(enc2, v3); err != nil || !reflect.DeepEqual(v2, v3) {
			t.Fatalf("%s: decode → encode → decode changed the body (%v):\n%#v\n%#v", env.Type, err, v2, v3)
		}
	})
}

// bodyRules restates, for each body that validates itself, what a valid
// body is, written from the field comments rather than from Validate.
var bodyRules = map[reflect.Type]func(any) error{
	reflect.TypeFor[DeviceLanguage](): func(v any) error {
		l := v.(*DeviceLanguage).Language
		if len(l) > MaxLanguageBytes || strings.Trim(l, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") != "" {
			return errors.New("not a language tag")
		}
		return nil
	},
	reflect.TypeFor[RequestNew](): func(v any) error {
		r := v.(*RequestNew)
		switch {
		case r.RequestID == "":
			return errors.New("no request_id")
		case !slices.Contains([]Category{"problem", "question", "software", "idea"}, r.Category):
			return errors.New("unknown category")
		case !slices.Contains([]Urgency{"blocking", "when_you_can"}, r.Urgency):
			return errors.New("unknown urgency")
		}
		if err := textRule(r.Text, true); err != nil {
			return err
		}
		if len(r.ShownArticles) > 10 || slices.ContainsFunc(r.ShownArticles, func(id string) bool { return id == "" || len(id) > 64 }) {
			return errors.New("more than 10 shown articles, or an empty or long id")
		}
		if r.Check != "" && !nameRule(string(r.Check)) {
			return errors.New("check is not a name")
		}
		if r.SoftwareTitle != "" && (!titleRule(r.SoftwareTitle) || r.Category != "software") {
			return errors.New("software_title is not a title id, or the request is not about software")
		}
		if a := r.Screenshot; a != nil {
			switch {
			case a.Type != "image/png" && a.Type != "image/jpeg":
				return errors.New("screenshot is not PNG or JPEG")
			case len(a.Data) == 0 || len(a.Data) > MaxScreenshotBytes:
				return errors.New("screenshot empty or too large")
			}
		}
		return nil
	},
	reflect.TypeFor[RequestReply](): func(v any) error {
		r := v.(*RequestReply)
		if r.RequestID == "" || r.MessageID == "" {
			return errors.New("no request_id or message_id")
		}
		return textRule(r.Text, true)
	},
	reflect.TypeFor[RequestRate](): func(v any) error {
		r := v.(*RequestRate)
		if r.RequestID == "" || r.Rating < 1 || r.Rating > 5 {
			return errors.New("no request_id or rating outside 1..5")
		}
		return textRule(r.Comment, false)
	},
	reflect.TypeFor[RequestReopen](): func(v any) error {
		r := v.(*RequestReopen)
		if r.RequestID == "" {
			return errors.New("no request_id")
		}
		return textRule(r.Text, false)
	},
	reflect.TypeFor[CheckReport](): func(v any) error {
		r := v.(*CheckReport)
		switch {
		case !nameRule(string(r.Check)):
			return errors.New("check is not a name")
		case !slices.Contains([]CheckState{"ok", "warn", "unknown", "fixed", "snoozed", "asked_it"}, r.State):
			return errors.New("unknown state")
		case len(r.Evidence) > 32:
			return errors.New("too much evidence")
		case len(r.RequestID) > 64:
			return errors.New("long request_id")
		}
		for k, v := range r.Evidence {
			if !utf8.ValidString(k+v) || utf8.RuneCountInString(k) > 64 || utf8.RuneCountInString(v) > 512 {
				return errors.New("bad evidence")
			}
		}
		return textRule(r.Summary, false)
	},
	reflect.TypeFor[ArticleFeedback](): func(v any) error {
		f := v.(*ArticleFeedback)
		if f.ArticleID == "" || len(f.ArticleID) > 64 || !slices.Contains([]string{"viewed", "solved", "still_need_help"}, f.Event) {
			return errors.New("bad article feedback")
		}
		return nil
	},
	reflect.TypeFor[SoftwareInventory](): func(v any) error {
		s := v.(*SoftwareInventory)
		h, ok := strings.CutPrefix(s.Hash, "sha256:")
		if !ok || len(h) != 64 {
			return errors.New("hash is not sha256 hex")
		}
		lists := [][]SoftwareEntry{s.Entries, s.Added, s.Removed}
		if s.Full {
			if s.BaseHash != "" || len(s.Added)+len(s.Removed) > 0 || len(s.Entries) > 20000 {
				return errors.New("full list with changes or too many entries")
			}
		} else if s.BaseHash == "" || len(s.Entries) > 0 || len(s.Added)+len(s.Removed) > 20000 {
			return errors.New("change list without base, with entries, or too many changes")
		}
		for _, l := range lists {
			seen := map[SoftwareEntry]bool{}
			for _, e := range l {
				if seen[e] {
					return errors.New("duplicate entry")
				}
				seen[e] = true
				if strings.TrimSpace(e.Name) == "" {
					return errors.New("no name")
				}
				if !slices.Contains([]SoftwareSource{"dpkg", "rpm", "flatpak", "snap", "desktop", "appimage", "registry-machine", "registry-user", "programs-user", "app-bundle"}, e.Source) {
					return errors.New("unknown source")
				}
				for i, f := range []string{e.Name, e.Publisher, e.AppID, e.Version} {
					max := 200
					if i == 3 {
						max = 100
					}
					if !utf8.ValidString(f) || utf8.RuneCountInString(f) > max || strings.ContainsFunc(f, unicode.IsControl) {
						return errors.New("bad name, publisher, app id or version")
					}
				}
			}
		}
		return nil
	},
	reflect.TypeFor[SoftwareAsk](): func(v any) error {
		a := v.(*SoftwareAsk)
		if !strings.HasPrefix(a.TitleID, "sw_") {
			return errors.New("bad title id")
		}
		if err := textRule(a.Name, true); err != nil {
			return err
		}
		return textRule(a.Text, false)
	},
	reflect.TypeFor[SoftwareAnswer](): func(v any) error {
		a := v.(*SoftwareAnswer)
		if !titleRule(a.TitleID) || !slices.Contains([]SoftwareAnswerKind{"work", "personal", "never"}, a.Answer) || len(a.RequestID) > 64 {
			return errors.New("bad answer")
		}
		return nil
	},
	reflect.TypeFor[SoftwareThanks](): func(v any) error {
		t := v.(*SoftwareThanks)
		if !strings.HasPrefix(t.TitleID, "sw_") || (t.Status != "approved" && t.Status != "not_for_work") {
			return errors.New("bad title id or status")
		}
		if err := textRule(t.Name, true); err != nil {
			return err
		}
		for _, f := range []string{t.Reason, t.Alternative, t.Text} {
			if err := textRule(f, false); err != nil {
				return err
			}
		}
		return nil
	},
	reflect.TypeFor[AnnouncementMeToo](): func(v any) error {
		m := v.(*AnnouncementMeToo)
		if m.AnnouncementID == "" || len(m.AnnouncementID) > 64 {
			return errors.New("bad announcement_id")
		}
		return nil
	},
}

// titleRule: a software title id starts sw_ and is at most 64 bytes.
func titleRule(s string) bool { return strings.HasPrefix(s, "sw_") && len(s) <= 64 }

// nameRule: a check name is 1..40 of a-z, 0-9 and _.
func nameRule(s string) bool {
	return len(s) >= 1 && len(s) <= 40 && strings.Trim(s, "abcdefghijklmnopqrstuvwxyz0123456789_") == ""
}

// textRule: user text is valid UTF-8 of at most MaxTextRunes characters,
// and not blank where it is required.
func textRule(s string, required bool) error {
	switch {
	case required && strings.TrimFunc(s, unicode.IsSpace) == "":
		return errors.New("blank")
	case !utf8.ValidString(s):
		return errors.New("not UTF-8")
	case utf8.RuneCountInString(s) > MaxTextRunes:
		return errors.New("too long")
	}
	return nil
}

// FuzzParseToken is the enrolment token parser (what an admin pastes, what
// an installer writes). It accepts exactly "dsk1_" + a secret of at least
// 16 of [A-Za-z0-9_-] + optionally "." and a 64-hex-digit pin, around
// spaces; and String() gives back a token that parses to the same one.
func FuzzParseToken(f *testing.F) {
	f.Add("dsk1_Abcdefghijklmnop0123")
	f.Add(" dsk1_Abcdefghijklmnop0123.9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08\n")
	f.Add("dsk1_abcdefghijklmnop.zz")
	f.Add("dsk1_abcdefghijklmno\u00e9")
	f.Add("dsk1_.")
	f.Fuzz(func(t *testing.T, s string) {
		tok, err := ParseToken(s)
		if want := tokenRule(s); (err == nil) != want {
			t.Fatalf("ParseToken(%q) = %v; a valid token: %v", s, err, want)
		}
		if err != nil {
			return
		}
		if tok.Pin != nil && len(tok.Pin) != 32 {
			t.Fatalf("pin of %d bytes", len(tok.Pin))
		}
		back, err := ParseToken(tok.String())
		if err != nil {
			t.Fatalf("String() of an accepted token is refused: %v", err)
		}
		if back.Secret != tok.Secret || !bytes.Equal(back.Pin, tok.Pin) || back.String() != tok.String() {
			t.Fatalf("round trip changed the token: %+v → %+v", tok, back)
		}
	})
}

func tokenRule(s string) bool {
	rest, ok := strings.CutPrefix(strings.TrimSpace(s), "dsk1_")
	if !ok {
		return false
	}
	secret, pin, hasPin := strings.Cut(rest, ".")
	if len(secret) < 16 || strings.Trim(secret, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") != "" {
		return false
	}
	if hasPin {
		b, err := hex.DecodeString(pin)
		return err == nil && len(b) == 32
	}
	return true
}

// FuzzParseDeviceAuth is the Authorization header of a device upgrade:
// accepted exactly when it is the scheme, a non-empty id without ':', ':'
// and a non-empty secret, and then DeviceAuthHeader rebuilds it byte for byte.
func FuzzParseDeviceAuth(f *testing.F) {
	f.Add(DeviceAuthHeader("dev_1", "s3cret"))
	f.Add(DeviceAuthScheme + "a:b:c")
	f.Add(DeviceAuthScheme + ":x")
	f.Add("Bearer x")
	f.Fuzz(func(t *testing.T, h string) {
		id, secret, err := ParseDeviceAuth(h)
		rest, ok := strings.CutPrefix(h, DeviceAuthScheme)
		i := strings.IndexByte(rest, ':')
		valid := ok && i > 0 && i < len(rest)-1
		if (err == nil) != valid {
			t.Fatalf("ParseDeviceAuth(%q) = %v; valid: %v", h, err, valid)
		}
		if err != nil {
			return
		}
		if strings.Contains(id, ":") || id == "" || secret == "" {
			t.Fatalf("id %q secret %q", id, secret)
		}
		if got := DeviceAuthHeader(id, secret); got != h {
			t.Fatalf("DeviceAuthHeader(%q, %q) = %q, want %q", id, secret, got, h)
		}
	})
}

// policyRule restates what ValidateStrict accepts, from the field comments.
func policyRule(p *ChecksPolicy) error {
	seen := map[CheckKind]bool{}
	for _, c := range p.Checks {
		if !slices.Contains(CheckKinds, c.Kind) || seen[c.Kind] {
			return errors.New("unknown or repeated kind")
		}
		seen[c.Kind] = true
		switch {
		case c.DiskFreePct < 0 || c.DiskFreePct > 90, c.DiskFreeGB < 0 || c.DiskFreeGB > 10000,
			c.UptimeDays < 0 || c.UptimeDays > 365, c.UpdatesDays < 0 || c.UpdatesDays > 365,
			c.PasswordDays < 0 || c.PasswordDays > 90, c.BatteryHealthPct < 0 || c.BatteryHealthPct > 100,
			c.RemindHours < 0 || c.RemindHours > 720:
			return errors.New("threshold out of range")
		case !utf8.ValidString(c.Title) || !utf8.ValidString(c.Text),
			utf8.RuneCountInString(c.Title) > 1000 || utf8.RuneCountInString(c.Text) > 1000, len(c.ArticleID) > 64:
			return errors.New("bad words")
		}
		for _, s := range []string{c.HowToURL, c.FixURL} {
			if s == "" {
				continue
			}
			u, err := url.Parse(s)
			if err != nil || len(s) > 2048 || u.Scheme != "https" || u.Hostname() == "" || u.User != nil {
				return errors.New("not an https URL")
			}
		}
	}
	return nil
}

// FuzzChecksPolicy is the policy an admin PUTs (the server stores it only if
// ValidateStrict accepts it) and an agent reads (Usable keeps the items it
// can apply). ValidateStrict agrees with policyRule, and Usable keeps every
// item of a policy ValidateStrict accepts.
func FuzzChecksPolicy(f *testing.F) {
	b, _ := json.Marshal(DefaultChecksPolicy())
	f.Add(b)
	f.Add([]byte(`{"checks":[{"kind":"disk_space","disk_free_pct":95},{"kind":"teleport"}]}`))
	f.Add([]byte(`{"checks":[{"kind":"password_expiry","fix_url":"javascript:alert(1)"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var p ChecksPolicy
		if json.Unmarshal(data, &p) != nil {
			return
		}
		err := p.ValidateStrict()
		if want := policyRule(&p); (err == nil) != (want == nil) {
			t.Fatalf("ValidateStrict said %v; the rule says %v\npolicy: %s", err, want, data)
		}
		use, skipped := p.Usable()
		if len(use)+len(skipped) != len(p.Checks) {
			t.Fatalf("Usable kept %d and skipped %d of %d items", len(use), len(skipped), len(p.Checks))
		}
		if err == nil && len(skipped) != 0 {
			t.Fatalf("Usable skipped %v of a valid policy", skipped)
		}
	})
}
