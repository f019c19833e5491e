package webhooks

import (
	"errors"
	"net/netip"
	"net/url"
	"strings"
	"testing"
)

func TestValidateURL(t *testing.T) {
	for _, c := range []struct {
		url     string
		private bool
		ok      bool
	}{
		{"https://hooks.example.com/deskside", false, true},
		{"https://hooks.slack.com/services/T0/B0/xyz", false, true},
		{"https://example.com:8443/x?y=1", false, true},
		{"http://example.com/x", false, false},    // plain http off this machine
		{"http://127.0.0.1:8080/x", false, false}, // loopback needs the opt-in
		{"http://127.0.0.1:8080/x", true, true},   // …and then plain http is fine
		{"http://localhost/x", true, true},        //
		{"http://[::1]/x", true, true},            //
		{"https://localhost/x", false, false},     //
		{"https://api.localhost/x", false, false}, //
		{"https://10.1.2.3/x", false, false},      // private
		{"https://10.1.2.3/x", true, true},        //
		{"https://169.254.169.254/latest", false, false},
		{"https://100.64.0.1/", false, false},         // CGNAT
		{"https://[fc00::1]/", false, false},          // unique local
		{"https://[::ffff:127.0.0.1]/", false, false}, // mapped loopback
		{"https://[fe80::1%25eth0]/", true, false},    // zone
		{"https://0.0.0.0/", false, false},
		{"https://user:pw@example.com/", false, false},
		{"https://example.com/#frag", false, false},
		{"ftp://example.com/", false, false},
		{"javascript:alert(1)", false, false},
		{"example.com/x", false, false},
		{"https:///nohost", false, false},
		{"https://example.com:99999/", false, false},
		{"https://exa mple.com/", false, false},
		{"", false, false},
		{"https://127.1/", false, false},
		{"https://2130706433/", false, false},
		{"https://0x7f.0x1/", false, false},
		{"https://10.0.0.1.example.com/", false, true}, // a real name; checked at dial
		{"https://cafe.example/", false, true},
		{"https://" + strings.Repeat("a", 2100) + ".com/", false, false},
	} {
		err := ValidateURL(c.url, c.private)
		if (err == nil) != c.ok {
			t.Errorf("ValidateURL(%q, private=%v) = %v, want ok=%v", c.url, c.private, err, c.ok)
		}
	}
	if err := ValidateURL("https://10.0.0.1/", false); !errors.Is(err, ErrPrivateTarget) {
		t.Errorf("a private target should be ErrPrivateTarget, got %v", err)
	}
}

// The dial-time check sees the address DNS gave, whatever the URL said.
func TestDialGuard(t *testing.T) {
	for addr, refused := range map[string]bool{
		"127.0.0.1:443":         true,
		"127.8.9.1:443":         true,
		"10.20.30.40:443":       true,
		"172.16.0.1:443":        true,
		"192.168.1.1:443":       true,
		"169.254.169.254:80":    true,
		"100.64.0.1:443":        true,
		"0.0.0.0:443":           true,
		"[::1]:443":             true,
		"[fc00::1]:443":         true,
		"[fd12:3456::1]:443":    true,
		"[fe80::1]:443":         true,
		"[::ffff:10.0.0.1]:443": true,
		"[64:ff9b::a00:1]:443":  true,
		"93.184.216.34:443":     false,
		"[2606:4700::1111]:443": false,
		"1.1.1.1:443":           false,
	} {
		err := checkDialAddress("tcp", addr)
		if (err != nil) != refused {
			t.Errorf("dial %s: %v, want refused=%v", addr, err, refused)
		}
		if refused && !errors.Is(err, ErrPrivateTarget) {
			t.Errorf("dial %s: %v should wrap ErrPrivateTarget", addr, err)
		}
		if err := dialControl(true)(t.Context(), "tcp", addr, nil); err != nil {
			t.Errorf("with the opt-in, dial %s refused: %v", addr, err)
		}
	}
	if err := checkDialAddress("udp", "1.1.1.1:53"); err == nil {
		t.Error("udp dial allowed")
	}
}

// FuzzValidateURL: whatever it accepts is an absolute https (or loopback
// http) URL with a host and no credentials, and without the opt-in never
// a literal private address.
func FuzzValidateURL(f *testing.F) {
	for _, s := range []string{"https://hooks.example.com/x", "http://127.0.0.1:1/", "https://[::1]/", "https://10.0.0.1/",
		"https://user@example.com/", "https://example.com:0/", "https://[::ffff:a9fe:a9fe]/", "HTTPS://EXAMPLE.COM/",
		"https://0x7f.1/", "https://2130706433/", "https://example.com\\@10.0.0.1/"} {
		f.Add(s, false)
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, raw string, private bool) {
		if ValidateURL(raw, private) != nil {
			return
		}
		u, err := url.Parse(raw)
		if err != nil {
			t.Fatalf("accepted %q that url.Parse refuses: %v", raw, err)
		}
		if u.User != nil || u.Hostname() == "" || (u.Scheme != "https" && u.Scheme != "http") {
			t.Fatalf("accepted %q: scheme %q host %q user %v", raw, u.Scheme, u.Hostname(), u.User)
		}
		ip, ipErr := netip.ParseAddr(u.Hostname())
		if u.Scheme == "http" && !isLoopbackName(u.Hostname()) && (ipErr != nil || !ip.Unmap().IsLoopback()) {
			t.Fatalf("accepted plain http to %q", u.Hostname())
		}
		if !private && ipErr == nil && Private(ip) {
			t.Fatalf("accepted private %q without the opt-in", raw)
		}
	})
}
