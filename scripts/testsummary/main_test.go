package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// sample is a module whose tests pass, fail, skip and do not build.
var sample = map[string]string{
	"go.mod": "module example.com/m\n\ngo 1.21\n",
	"a/a_test.go": `package a

import "testing"

func TestPass(t *testing.T) {}

func TestFail(t *testing.T) { t.Log("boom"); t.Fail() }

func TestSkip(t *testing.T) { t.Skip("no database here") }

func TestParent(t *testing.T) {
	t.Run("one", func(t *testing.T) { t.Log("quiet when it passes") })
}
`,
	"b/b_test.go": "package b\n\nimport \"testing\"\n\nfunc TestX(t *testing.T) { undefined() }\n",
	"c/c.go":      "package c\n",
}

func sampleModule(t *testing.T) {
	t.Helper()
	dir := t.TempDir()
	for name, text := range sample {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Chdir(dir)
	t.Setenv("GOFLAGS", "")
	t.Setenv("GOTOOLCHAIN", "local")
	t.Setenv("GOPROXY", "off")
}

func TestSummary(t *testing.T) {
	sampleModule(t)
	var out, errs bytes.Buffer
	code := run([]string{"go", "test", "-count=1", "-json", "./..."}, nil, &out, &errs)
	if code == 0 {
		t.Errorf("exit status 0 with a failing test and a package that does not build")
	}
	got := out.String()
	t.Logf("output:\n%s\nstderr:\n%s", got, errs.String())
	for _, want := range []string{
		"--- FAIL: TestFail",
		"boom",
		"FAIL\texample.com/m/a",
		"undefined: undefined", // b's compile error
		"?   \texample.com/m/c\t[no test files]",
		"Skipped, by package and reason:\n  a: 1 test (TestSkip): no database here\n",
		"Failed:\n",
		"\n  a TestFail\n",
		"  b (the package failed outside its tests",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	for _, notWant := range []string{"=== RUN", "--- PASS", "quiet when it passes", "--- SKIP"} {
		if strings.Contains(got, notWant) {
			t.Errorf("output has %q, which go test without -v does not print", notWant)
		}
	}
	// TestPass, TestParent and TestParent/one pass; TestFail and b fail.
	if last := lastLine(got); last != "3 passed, 2 failed, 1 skipped" {
		t.Errorf("last line %q", last)
	}
}

func TestSummaryPassing(t *testing.T) {
	sampleModule(t)
	var out, errs bytes.Buffer
	if code := run([]string{"go", "test", "-count=1", "-json", "-run", "TestPass|TestSkip", "./a"}, nil, &out, &errs); code != 0 {
		t.Errorf("exit status %d for a passing run:\n%s%s", code, out.String(), errs.String())
	}
	got := out.String()
	if !strings.HasPrefix(got, "ok  \texample.com/m/a\t") {
		t.Errorf("a passing package is not one ok line:\n%s\nstderr:\n%s", got, errs.String())
	}
	if last := lastLine(got); last != "1 passed, 0 failed, 1 skipped" {
		t.Errorf("last line %q", last)
	}
}

// A command that fails before writing any JSON (go test with a bad flag, a
// module it cannot download) still fails the run, with its own status.
func TestSummaryCommandFails(t *testing.T) {
	var out, errs bytes.Buffer
	if code := run([]string{"sh", "-c", "echo 'go: something is wrong' >&2; exit 3"}, nil, &out, &errs); code != 3 {
		t.Errorf("exit status %d, want 3; output:\n%s%s", code, out.String(), errs.String())
	}
	if !strings.Contains(errs.String(), "go: something is wrong") {
		t.Errorf("the command's stderr was not passed on: %q", errs.String())
	}
	if last := lastLine(out.String()); last != "0 passed, 0 failed, 0 skipped" {
		t.Errorf("last line %q", last)
	}
}

// A package that go test cannot even set up counts as a failure.
func TestSummarySetupFails(t *testing.T) {
	sampleModule(t)
	var out, errs bytes.Buffer
	if code := run([]string{"go", "test", "-json", "./no-such-dir"}, nil, &out, &errs); code == 0 {
		t.Errorf("exit status 0; output:\n%s%s", out.String(), errs.String())
	}
	if last := lastLine(out.String()); last != "0 passed, 1 failed, 0 skipped" {
		t.Errorf("last line %q", last)
	}
}

// Read from stdin, a failure in the JSON alone fails the run.
func TestSummaryStdin(t *testing.T) {
	in := strings.NewReader(`{"Action":"run","Package":"p","Test":"TestA"}
{"Action":"output","Package":"p","Test":"TestA","Output":"--- FAIL: TestA (0.00s)\n"}
{"Action":"fail","Package":"p","Test":"TestA"}
{"Action":"output","Package":"p","Output":"FAIL\tp\t0.01s\n"}
{"Action":"fail","Package":"p"}
`)
	var out bytes.Buffer
	if code := run(nil, in, &out, os.Stderr); code != 1 {
		t.Errorf("exit status %d, want 1:\n%s", code, out.String())
	}
	if last := lastLine(out.String()); last != "0 passed, 1 failed, 0 skipped" {
		t.Errorf("last line %q", last)
	}
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return lines[len(lines)-1]
}
