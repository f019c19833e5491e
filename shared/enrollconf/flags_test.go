package enrollconf

import (
	"flag"
	"strings"
	"testing"
)

func TestFlags(t *testing.T) {
	for _, v := range []string{"DESKSIDE_SERVER", "DESKSIDE_TOKEN", "DESKSIDE_PIN", "DESKSIDE_UPDATE_KEY"} {
		t.Setenv(v, "")
	}
	parse := func(args ...string) Flags {
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		f := AddFlags(fs)
		if err := fs.Parse(args); err != nil {
			t.Fatal(err)
		}
		return f
	}
	if c, err := parse().Optional(); c != nil || err != nil {
		t.Fatalf("no flags: got %v, %v; want nil, nil", c, err)
	}
	if _, err := parse("--server", "https://help.example.com").Optional(); err == nil || !strings.Contains(err.Error(), "without --token") {
		t.Fatalf("server without token: err = %v", err)
	}
	if _, err := parse("--server", "https://help.example.com", "--token", "nope").Required(); err == nil {
		t.Fatal("malformed token accepted")
	}
	if _, err := parse("--server", "https://help.example.com", "--token", "dsk1_abcdefghijklmnopqrstuvwx", "--update-key", "garbage").Optional(); err == nil || !strings.Contains(err.Error(), "--update-key") {
		t.Fatalf("bad update key: err = %v", err)
	}
	c, err := parse("--server", "https://help.example.com", "--token", "dsk1_abcdefghijklmnopqrstuvwx").Optional()
	if err != nil || c == nil || c.Server != "https://help.example.com" {
		t.Fatalf("valid flags: got %+v, %v", c, err)
	}
}
