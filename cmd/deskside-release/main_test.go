package main

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func runCmd(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out, errb bytes.Buffer
	err := run(args, &out, &errb)
	return out.String() + errb.String(), err
}

func TestKeygenSignVerify(t *testing.T) {
	dir := t.TempDir()
	if out, err := runCmd(t, "keygen", "--dir", dir, "--no-password"); err != nil {
		t.Fatalf("keygen: %v\n%s", err, out)
	}
	key, pub := filepath.Join(dir, "deskside-release.key"), filepath.Join(dir, "deskside-release.pub")
	if fi, err := os.Stat(key); err != nil || fi.Mode().Perm() != 0o600 && runtime.GOOS != "windows" {
		t.Fatalf("secret key file: %v %v", fi, err)
	}
	if _, err := runCmd(t, "keygen", "--dir", dir, "--no-password"); err == nil || !strings.Contains(err.Error(), "refusing to overwrite") {
		t.Fatalf("keygen over an existing key: %v", err)
	}

	bin := filepath.Join(dir, "deskside-agent")
	os.WriteFile(bin, []byte("pretend agent binary"), 0o755)
	out, err := runCmd(t, "sign", "--key", key, "--binary", bin, "--version", "1.4.0", "--os", "windows", "--arch", "amd64", "--channel", "beta")
	if err != nil {
		t.Fatalf("sign: %v\n%s", err, out)
	}
	man := bin + ".manifest.json"
	out, err = runCmd(t, "verify", "--pub", pub, "--manifest", man, "--binary", bin)
	if err != nil || !strings.Contains(out, "OK: 1.4.0 windows/amd64 beta rollback=false") {
		t.Fatalf("verify: %v\n%s", err, out)
	}

	// A changed binary, another key, or an edited manifest: refused.
	other := filepath.Join(dir, "other")
	os.Mkdir(other, 0o755)
	runCmd(t, "keygen", "--dir", other, "--no-password")
	if _, err := runCmd(t, "verify", "--pub", filepath.Join(other, "deskside-release.pub"), "--manifest", man); err == nil {
		t.Error("verified with another key")
	}
	os.WriteFile(bin, []byte("pretend agent binarY"), 0o755)
	if _, err := runCmd(t, "verify", "--pub", pub, "--manifest", man, "--binary", bin); err == nil {
		t.Error("verified a changed binary")
	}
	b, _ := os.ReadFile(man)
	os.WriteFile(man, bytes.Replace(b, []byte(`"windows"`), []byte(`"linux"`), 1), 0o644)
	if _, err := runCmd(t, "verify", "--pub", pub, "--manifest", man); err == nil {
		t.Error("verified an edited manifest")
	}
}

func TestSignChecksTheBinaryVersion(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("uses a shell script as the binary")
	}
	dir := t.TempDir()
	runCmd(t, "keygen", "--dir", dir, "--no-password")
	bin := filepath.Join(dir, "agent")
	os.WriteFile(bin, []byte("#!/bin/sh\necho deskside-agent 1.3.0\n"), 0o755)
	args := []string{"sign", "--key", filepath.Join(dir, "deskside-release.key"), "--binary", bin, "--os", runtime.GOOS, "--arch", runtime.GOARCH}
	if _, err := runCmd(t, append(args, "--version", "1.4.0")...); err == nil || !strings.Contains(err.Error(), "not 1.4.0") {
		t.Fatalf("signed a 1.3.0 binary as 1.4.0: %v", err)
	}
	if out, err := runCmd(t, append(args, "--version", "1.3.0")...); err != nil {
		t.Fatalf("sign: %v\n%s", err, out)
	}
}

func TestUsage(t *testing.T) {
	for _, args := range [][]string{nil, {"frobnicate"}, {"sign"}, {"verify"}} {
		if _, err := runCmd(t, args...); err == nil {
			t.Errorf("%v: no error", args)
		}
	}
}
