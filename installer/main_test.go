package main

import (
	"strings"
	"testing"
)

// Bad input is refused before anything is built, with a message an admin
// can act on.
func TestBuildRefusesBadInput(t *testing.T) {
	const tok = "dsk1_Abcdefghijklmnop0123"
	t.Setenv("DESKSIDE_SERVER", "")
	t.Setenv("DESKSIDE_TOKEN", "")
	t.Setenv("DESKSIDE_PIN", "")
	t.Setenv("DESKSIDE_UPDATE_KEY", "")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--token", tok}, "server URL is required"},
		{[]string{"--server", "https://help.example.com"}, "without --token"},
		{[]string{"--server", "https://help.example.com", "--token", "dsk1_short"}, "too short"},
		{[]string{"--server", "https://help.example.com", "--token", "abc_Abcdefghijklmnop0123"}, "start with dsk1_"},
		{[]string{"--server", "https://help.example.com", "--token", tok + ".00ff"}, "pin"},
		{[]string{"--server", "http://help.example.com", "--token", tok}, "over https"},
		{[]string{"--server", "help.example.com", "--token", tok}, "not a URL"},
		{[]string{"--version", "one"}, "--version"},
		{[]string{"--update-key", "RWQyzZV8AvkIcyeApn4Fg5MJpJH3qt+kuk/ke8aM3QdE6rkuu3hVhjLg"}, "without --token"},
		{[]string{"--server", "https://help.example.com", "--token", tok, "--update-key", "RWQnotakey"}, "minisign public key"},
		{[]string{"--platforms", "beos"}, "unknown platform"},
	} {
		err := run(append([]string{"build", "--out", t.TempDir()}, tc.args...))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("build %v: got %v, want an error containing %q", tc.args, err, tc.want)
		}
	}
}

func TestUnknownCommand(t *testing.T) {
	if err := run([]string{"frobnicate"}); err == nil || !strings.Contains(err.Error(), "unknown command") {
		t.Fatal(err)
	}
}
