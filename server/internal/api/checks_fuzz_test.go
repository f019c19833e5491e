package api

import (
	"bytes"
	"encoding/json"
	"net/url"
	"testing"

	"github.com/deskside/deskside/shared/protocol"
)

// FuzzPolicyBody decodes a PUT /api/v1/checks/policy body as the handler
// does (unknown fields refused) and checks what policyFromView accepts:
// only known kinds, each once, thresholds in range, https links with a
// host; and an accepted policy is accepted again after a round trip
// through its own encoding (what the store keeps and the desks get).
func FuzzPolicyBody(f *testing.F) {
	def, _ := json.Marshal(map[string]any{"checks": protocol.DefaultChecksPolicy().Checks})
	f.Add(def)
	f.Add([]byte(`{"checks":[{"kind":"password_expiry","enabled":true,"fix_url":"https://id.example.com/pw","text":"In {days} days"}]}`))
	f.Add([]byte(`{"checks":[{"kind":"coffee","enabled":true}]}`))
	f.Add([]byte(`{"checks":[{"kind":"disk_space","disk_free_pct":95}]}`))
	f.Add([]byte(`{"checks":[{"kind":"os_updates","how_to_url":"http://x"}]}`))
	f.Add([]byte(`{"group":"x","revision":3,"inherited":true,"checks":[]}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		var in policyView
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.DisallowUnknownFields()
		if dec.Decode(&in) != nil {
			return // 400 bad_body
		}
		p, msg := policyFromView(in)
		if msg != "" {
			if p.Checks != nil {
				t.Fatalf("refused (%s) but returned a policy", msg)
			}
			return
		}
		seen := map[protocol.CheckKind]bool{}
		for _, c := range p.Checks {
			if !c.Kind.Known() || seen[c.Kind] {
				t.Fatalf("accepted kind %q (twice: %v)", c.Kind, seen[c.Kind])
			}
			seen[c.Kind] = true
			for _, u := range []string{c.HowToURL, c.FixURL} {
				if u == "" {
					continue
				}
				pu, err := url.Parse(u)
				if err != nil || pu.Scheme != "https" || pu.Hostname() == "" || pu.User != nil {
					t.Fatalf("accepted link %q", u)
				}
			}
			if c.DiskFreePct < 0 || c.DiskFreePct > 90 || c.RemindHours < 0 || c.RemindHours > 720 || c.PasswordDays > 90 {
				t.Fatalf("accepted thresholds %+v", c)
			}
		}
		enc, err := json.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		var again protocol.ChecksPolicy
		if err := json.Unmarshal(enc, &again); err != nil {
			t.Fatal(err)
		}
		if err := again.ValidateStrict(); err != nil {
			t.Fatalf("accepted policy refused after a round trip: %v\n%s", err, enc)
		}
	})
}
