package enrollconf

import (
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/deskside/deskside/shared/protocol"
)

const (
	fuzzKey1 = "RWQyzZV8AvkIcyeApn4Fg5MJpJH3qt+kuk/ke8aM3QdE6rkuu3hVhjLg"
	fuzzKey2 = "RWQCQsfeoZEa9mBKaQTBsJuKSW34XPLgAk9CHm05Eivv3wCJZzJQdD80"
)

// checkNormal asserts what every config this package hands out satisfies:
// the agent can use it as it is, and reading it back changes nothing.
func checkNormal(t *testing.T, c Config) {
	t.Helper()
	if c.Version != CurrentVersion {
		t.Fatalf("version %d", c.Version)
	}
	srv, err := CheckServerURL(c.Server)
	if err != nil || srv != c.Server {
		t.Fatalf("server %q is not normal: CheckServerURL gives %q, %v", c.Server, srv, err)
	}
	u, err := url.Parse(c.Server)
	if err != nil || (u.Scheme != "https" && !(u.Scheme == "http" && isLoopback(u.Hostname()))) {
		t.Fatalf("server %q is neither https nor http to loopback (%v)", c.Server, err)
	}
	tok, err := protocol.ParseToken(c.Token)
	if err != nil || tok.String() != c.Token {
		t.Fatalf("token %q is not normal (%v)", c.Token, err)
	}
	if c.Pin != "" {
		if b, err := hex.DecodeString(c.Pin); err != nil || len(b) != 32 || strings.ToLower(c.Pin) != c.Pin {
			t.Fatalf("pin %q is not 64 lowercase hex digits", c.Pin)
		}
	}
	if len(tok.Pin) > 0 && c.Pin != hex.EncodeToString(tok.Pin) {
		t.Fatalf("pin %q differs from the token's", c.Pin)
	}
	back, err := Parse(c.Marshal())
	if err != nil {
		t.Fatalf("a normal config, marshalled, is refused: %v\n%s", err, c.Marshal())
	}
	if back != c {
		t.Fatalf("marshal → parse changed the config:\n%+v\n%+v", c, back)
	}
}

// FuzzParse is the enrolment config loader (Load is os.ReadFile + Parse):
// the agent reads a file an installer or an admin wrote. Whatever it
// accepts is normal (see checkNormal) and survives Marshal → Parse.
func FuzzParse(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no golden configs: %v", err)
	}
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"version":1,"server":"http://[::1]:8080/x//","token":" dsk1_Abcdefghijklmnop0123 ","pin":"SHA256:9F:86"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse(data)
		if err != nil {
			return
		}
		checkNormal(t, c)
	})
}

// FuzzNew is what an admin types into the installer (server, token, pin,
// update key). A config New and SetUpdateKey accept is normal (see
// checkNormal), so what the installer writes the agent reads back unchanged;
// a key SetUpdateKey accepts is stored.
func FuzzNew(f *testing.F) {
	tok := "dsk1_Abcdefghijklmnop0123"
	pin := "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
	f.Add("https://help.example.com/", tok, "", "")
	f.Add("https://10.0.0.5:8443", tok+"."+pin, "sha256:"+strings.ToUpper(pin), fuzzKey1+", "+fuzzKey2)
	f.Add("http://127.0.0.1:8080/a%2fb/", tok, "", "")
	f.Add("http://localhost.", tok, "", "untrusted comment: x\n"+fuzzKey1)
	f.Add("https://h/%zz", tok, pin[:62], "")
	f.Fuzz(func(t *testing.T, server, token, pin, key string) {
		c, err := New(server, token, pin)
		if err != nil {
			return
		}
		if err := c.SetUpdateKey(key); err != nil {
			key = ""
		}
		checkNormal(t, c)
		if strings.TrimSpace(key) == "" {
			return // none
		}
		if c.UpdateKey == "" {
			t.Fatalf("SetUpdateKey(%q) accepted and stored nothing", key)
		}
	})
}
