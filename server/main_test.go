package main

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The server's command line, by running the real program (issue 20): the
// admin commands never make a store of their own and point at make run's
// data; --help lists the commands; serve says first where its data is and
// prints commands that work as printed.
func TestServerCommandLine(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the server binary")
	}
	bin := filepath.Join(t.TempDir(), "deskside-server")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	work := t.TempDir()
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "DESKSIDE_") {
			env = append(env, kv)
		}
	}
	run := func(args ...string) (string, int) {
		t.Helper()
		cmd := exec.Command(bin, args...)
		cmd.Dir, cmd.Env = work, env
		out, err := cmd.CombinedOutput()
		if ee, ok := err.(*exec.ExitError); ok {
			return string(out), ee.ExitCode()
		}
		if err != nil {
			t.Fatal(err)
		}
		return string(out), 0
	}
	check := func(what, out string, code int, wantFail bool, want ...string) {
		t.Helper()
		if (code != 0) != wantFail {
			t.Errorf("%s: exit code %d\n%s", what, code, out)
		}
		for _, w := range want {
			if !strings.Contains(out, w) {
				t.Errorf("%s: output lacks %q:\n%s", what, w, out)
			}
		}
	}
	noData := func(what string) {
		t.Helper()
		if _, err := os.Stat(filepath.Join(work, "data")); !os.IsNotExist(err) {
			t.Fatalf("%s made ./data: %v", what, err)
		}
	}

	out, code := run("--help")
	check("--help", out, code, false, "Usage: deskside-server", "token create", "token list", "admin create", "admin list", "serve")

	for _, args := range [][]string{{"token", "create"}, {"token", "list"}, {"admin", "list"}} {
		out, code = run(args...)
		check(strings.Join(args, " ")+" with no data", out, code, true, "no Deskside data at ./data")
		noData(strings.Join(args, " "))
	}
	out, code = run("token", "lst")
	check("token lst", out, code, true, `unknown command "token lst"`)
	noData("token lst")

	// A server as make run starts it; its banner's commands work as printed.
	srv := exec.Command(bin, "serve", "--data", ".deskside/server", "--addr", "127.0.0.1:0")
	srv.Dir, srv.Env = work, env
	stdout, err := srv.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = srv.Process.Kill(); _ = srv.Wait() }()
	sc := bufio.NewScanner(stdout)
	var banner []string
	for sc.Scan() {
		banner = append(banner, sc.Text())
		if strings.Contains(sc.Text(), "make more with") {
			break
		}
	}
	if len(banner) == 0 || !strings.HasPrefix(banner[0], "deskside-server: data in "+filepath.Join(work, ".deskside", "server")) {
		t.Fatalf("first line should say where the data is:\n%s", strings.Join(banner, "\n"))
	}
	text := strings.Join(banner, "\n")
	const printed = "deskside-server token create --data .deskside/server"
	if !strings.Contains(text, printed) || !strings.Contains(text, "deskside-server admin create --data .deskside/server") {
		t.Fatalf("banner lacks working commands:\n%s", text)
	}

	out, code = run("token", "create")
	check("token create, make run's data there", out, code, true, "no Deskside data at ./data — did you mean --data .deskside/server?")
	noData("token create")
	out, code = run(strings.Fields(printed)[1:]...)
	check(printed, out, code, false, "dsk1_")
	out, code = run("token", "list", "--data", ".deskside/server")
	check("token list", out, code, false, "GROUP", "default")
	out, code = run("admin", "list", "--data", ".deskside/server")
	check("admin list", out, code, false, "No technicians yet")
	out, code = run("admin", "create", "--data", ".deskside/server", "--email", "rob@example.com", "--name", "Rob", "--password", "correct horse battery")
	check("admin create", out, code, false, "Created admin Rob")
	out, code = run("admin", "list", "--data", ".deskside/server")
	check("admin list", out, code, false, "rob@example.com", "Rob", "admin")
	noData("the admin commands")
}
