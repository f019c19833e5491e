package enrollconf

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files")

const (
	secret = "Abcdefghijklmnop0123"
	pinHex = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
)

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	p := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(p, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (run with -update)", err)
	}
	if string(got) != string(want) {
		t.Errorf("%s differs from golden:\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

func TestGolden(t *testing.T) {
	c, err := New("https://help.example.com/", "dsk1_"+secret, "")
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "enroll.json", c.Marshal())
	c, err = New("https://10.0.0.5:8443", " dsk1_"+secret+"."+pinHex+"\n", "")
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "enroll-pinned.json", c.Marshal())
	back, err := Parse(c.Marshal())
	if err != nil || back != c {
		t.Fatalf("round trip: %+v, %v", back, err)
	}
}

func TestBadInput(t *testing.T) {
	tok := "dsk1_" + secret
	cases := []struct{ name, server, token, pin, want string }{
		{"no server", "", tok, "", "server URL is required"},
		{"no token", "https://h.example", "", "", "token is required"},
		{"bad prefix", "https://h.example", "dsk2_" + secret, "", "should start with dsk1_"},
		{"short", "https://h.example", "dsk1_abc", "", "too short"},
		{"bad chars", "https://h.example", "dsk1_" + secret + "!", "", "characters"},
		{"bad pin in token", "https://h.example", tok + ".abcd", "", "pin"},
		{"http remote", "http://h.example", tok, "", "over https"},
		{"ftp", "ftp://h.example", tok, "", "not a URL"},
		{"no host", "https://", tok, "", "not a URL"},
		{"userinfo", "https://u:p@h.example", tok, "", "user"},
		{"bad pin", "https://h.example", tok, "zz", "64 hex"},
		{"pin mismatch", "https://h.example", tok + "." + pinHex, strings.Repeat("0", 64), "does not match"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(tc.server, tc.token, tc.pin)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("New(%q, %q, %q) = %v, want error containing %q", tc.server, tc.token, tc.pin, err, tc.want)
			}
		})
	}
}

func TestGoodInput(t *testing.T) {
	for _, srv := range []string{"http://localhost:8080", "http://127.0.0.1", "http://[::1]:9", "https://h.example/deskside/"} {
		if _, err := New(srv, "dsk1_"+secret, ""); err != nil {
			t.Errorf("New(%q): %v", srv, err)
		}
	}
	c, err := New("https://h.example", "dsk1_"+secret, "SHA256:"+strings.ToUpper(pinHex))
	if err != nil || c.Pin != pinHex {
		t.Fatalf("pin flag: %+v %v", c, err)
	}
}

func TestParseRefusesFutureVersion(t *testing.T) {
	_, err := Parse([]byte(`{"version":2,"server":"https://h.example","token":"dsk1_` + secret + `"}`))
	if err == nil || !strings.Contains(err.Error(), "version 2") {
		t.Fatalf("got %v", err)
	}
}

func TestWriteAndFind(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(home, ".config"))
	t.Setenv(EnvFile, "")
	c, _ := New("https://h.example", "dsk1_"+secret, "")
	up, err := UserPath()
	if err != nil {
		t.Fatal(err)
	}
	if err := Write(up, c, 0o600); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(up)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("mode: %v %v", st, err)
	}
	got, path, err := Find("linux")
	if err != nil || path != up || got != c {
		t.Fatalf("Find = %+v %q %v", got, path, err)
	}
	other := filepath.Join(t.TempDir(), "x.json")
	t.Setenv(EnvFile, other)
	if _, _, err := Find("linux"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("override to a missing file: %v", err)
	}
	if err := os.WriteFile(other, []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := Find("linux"); err == nil || !strings.Contains(err.Error(), other) {
		t.Fatalf("broken file should be reported with its path: %v", err)
	}
}

func TestSystemPaths(t *testing.T) {
	t.Setenv("ProgramData", `D:\PD`)
	for goos, want := range map[string]string{
		"linux":   "/etc/deskside/enroll.json",
		"darwin":  "/Library/Application Support/Deskside/enroll.json",
		"windows": `D:\PD\Deskside\enroll.json`,
	} {
		if got := SystemPath(goos); got != want {
			t.Errorf("SystemPath(%s) = %q, want %q", goos, got, want)
		}
	}
}

// Publisher keys for the update_key tests (public halves only).
const (
	keyA = "RWQyzZV8AvkIcyeApn4Fg5MJpJH3qt+kuk/ke8aM3QdE6rkuu3hVhjLg"
	keyB = "RWQCQsfeoZEa9mBKaQTBsJuKSW34XPLgAk9CHm05Eivv3wCJZzJQdD80"
)

func TestUpdateKey(t *testing.T) {
	c, err := New("https://help.example.com", "dsk1_"+secret, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.SetUpdateKey(" " + keyA + " , " + keyB + "\n"); err != nil {
		t.Fatal(err)
	}
	if c.UpdateKey != keyA+","+keyB {
		t.Fatalf("UpdateKey = %q", c.UpdateKey)
	}
	golden(t, "enroll-updatekey.json", c.Marshal())
	back, err := Parse(c.Marshal())
	if err != nil || back != c {
		t.Fatalf("round trip: %+v, %v", back, err)
	}
	for _, bad := range []string{"RWQnotakey", "dsk1_" + secret, keyA + ",x"} {
		if err := c.SetUpdateKey(bad); err == nil || !strings.Contains(err.Error(), "minisign public key") {
			t.Errorf("SetUpdateKey(%q) = %v", bad, err)
		}
		if _, err := Parse([]byte(`{"version":1,"server":"https://h.example","token":"dsk1_` + secret + `","update_key":"` + bad + `"}`)); err == nil {
			t.Errorf("Parse accepted update_key %q", bad)
		}
	}
	// Files written before the field existed still parse, with no key.
	old, err := Parse([]byte(`{"version":1,"server":"https://h.example","token":"dsk1_` + secret + `"}`))
	if err != nil || old.UpdateKey != "" {
		t.Fatalf("old file: %+v %v", old, err)
	}
}
