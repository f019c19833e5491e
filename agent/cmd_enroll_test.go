package main

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/deskside/deskside/agent/internal/enroll"
	"github.com/deskside/deskside/server/servertest"
	"github.com/deskside/deskside/shared/enrollconf"
)

const testPublisherKey = "RWQyzZV8AvkIcyeApn4Fg5MJpJH3qt+kuk/ke8aM3QdE6rkuu3hVhjLg"

func TestEnrollDryRun(t *testing.T) {
	file := filepath.Join(t.TempDir(), "enroll.json")
	t.Setenv(enrollconf.EnvFile, file)
	var out strings.Builder
	if err := enrollDryRun(&out, "", "", "", ""); !errors.Is(err, enrollconf.ErrNotFound) {
		t.Fatalf("no file: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "enrol config: none (looked in "+file+")") {
		t.Errorf("no file:\n%s", out.String())
	}

	c, err := enrollconf.New("https://help.example.com", "dsk1_Abcdefghijklmnop0123", "")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.SetUpdateKey(testPublisherKey); err != nil {
		t.Fatal(err)
	}
	if err := enrollconf.Write(file, c, 0o600); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if err := enrollDryRun(&out, "", "", "", ""); err != nil {
		t.Fatal(err)
	}
	want := "enrol config: " + file + "\nserver: https://help.example.com\ntoken: ok\npinned: false\nupdate key: yes\nvalid: yes (dry run: not enrolled)\n"
	if out.String() != want {
		t.Errorf("got\n%s\nwant\n%s", out.String(), want)
	}

	// A token cut short is reported with the file, and fails.
	if err := os.WriteFile(file, []byte(`{"version":1,"server":"https://help.example.com","token":"dsk1_abc"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	err = enrollDryRun(&out, "", "", "", "")
	if err == nil || !strings.Contains(out.String(), "enrol config: "+file+"\nvalid: no:") || !strings.Contains(out.String(), "too short") {
		t.Errorf("short token: %v\n%s", err, out.String())
	}

	// Flags win over the file, and are checked the same way.
	out.Reset()
	if err := enrollDryRun(&out, "http://help.example.com", "dsk1_Abcdefghijklmnop0123", "", ""); err == nil || !strings.Contains(out.String(), "enrol config: flags") {
		t.Errorf("http flags: %v\n%s", err, out.String())
	}
}

// TestEnrollDryRunEnrollsNothing runs the command: no credentials appear.
func TestEnrollDryRunEnrollsNothing(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("DESKSIDE_CONFIG_DIR", dir)
	file := filepath.Join(dir, "enroll.json")
	t.Setenv(enrollconf.EnvFile, file)
	c, _ := enrollconf.New("https://127.0.0.1:1", "dsk1_Abcdefghijklmnop0123", "")
	if err := enrollconf.Write(file, c, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := cmdEnroll(context.Background(), []string{"--dry-run"}); err != nil {
		t.Fatal(err)
	}
	if _, err := enroll.Load(filepath.Join(dir, "credentials.json")); !errors.Is(err, enroll.ErrNotEnrolled) {
		t.Fatalf("credentials after a dry run: %v", err)
	}
}

// TestSilentEnrollmentKeepsTheUpdateKey enrols from an enrolment config that
// carries a publisher key, as `agent run` does at first start, and checks
// the key is kept with the credentials (where the updater reads it).
func TestSilentEnrollmentKeepsTheUpdateKey(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a server")
	}
	srv := servertest.New(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "enroll.json")
	t.Setenv(enrollconf.EnvFile, file)
	c, err := enrollconf.New(srv.URL(), srv.Token(t), "")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.SetUpdateKey(testPublisherKey); err != nil {
		t.Fatal(err)
	}
	if err := enrollconf.Write(file, c, 0o600); err != nil {
		t.Fatal(err)
	}
	p := paths{dir: dir, creds: filepath.Join(dir, "credentials.json")}
	if _, err := enrollFromConfig(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	creds, err := enroll.Load(p.creds)
	if err != nil || creds.UpdateKeys != testPublisherKey {
		t.Fatalf("saved credentials: %+v %v", creds, err)
	}
}
