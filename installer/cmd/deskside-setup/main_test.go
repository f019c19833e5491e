package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/deskside/deskside/shared/enrollconf"
)

func TestWriteAndRemoveConfig(t *testing.T) {
	p := filepath.Join(t.TempDir(), "sub", "enroll.json")
	err := run([]string{"write-config", "--file", p, "--server", "https://help.example.com/", "--token", "dsk1_Abcdefghijklmnop0123", "--pin", ""})
	if err != nil {
		t.Fatal(err)
	}
	c, err := enrollconf.Load(p)
	if err != nil || c.Server != "https://help.example.com" {
		t.Fatalf("%+v %v", c, err)
	}
	if st, _ := os.Stat(p); st.Mode().Perm() != 0o600 {
		t.Errorf("mode %v", st.Mode().Perm())
	}
	key := "RWQyzZV8AvkIcyeApn4Fg5MJpJH3qt+kuk/ke8aM3QdE6rkuu3hVhjLg"
	err = run([]string{"write-config", "--file", p, "--server", "https://help.example.com", "--token", "dsk1_Abcdefghijklmnop0123", "--update-key", key})
	if c, lerr := enrollconf.Load(p); err != nil || lerr != nil || c.UpdateKey != key {
		t.Fatalf("with --update-key: %+v %v %v", c, err, lerr)
	}
	if err := run([]string{"remove-config", "--file", p}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Dir(p)); !os.IsNotExist(err) {
		t.Errorf("empty directory left: %v", err)
	}
}

// The MSI passes every property, set or not: an empty SERVER with a TOKEN
// must fail the install with a clear message.
func TestWriteConfigRefusesBadInput(t *testing.T) {
	p := filepath.Join(t.TempDir(), "enroll.json")
	for _, args := range [][]string{
		{"--file", p, "--server", "", "--token", "dsk1_Abcdefghijklmnop0123"},
		{"--file", p, "--server", "https://h.example", "--token", "dsk1_bad!"},
		{"--system", "--user", "--server", "https://h.example", "--token", "dsk1_Abcdefghijklmnop0123"},
		{"--file", p, "--server", "https://h.example", "--token", "dsk1_Abcdefghijklmnop0123", "--update-key", "RWQnotakey"},
	} {
		if err := run(append([]string{"write-config"}, args...)); err == nil {
			t.Errorf("write-config %v accepted", args)
		}
	}
	if _, err := os.Stat(p); !os.IsNotExist(err) {
		t.Error("a refused config was written")
	}
	if err := run([]string{"nope"}); err == nil || !strings.Contains(err.Error(), "usage") {
		t.Errorf("unknown command: %v", err)
	}
}
