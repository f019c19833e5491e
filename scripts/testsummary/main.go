// Command testsummary shows `go test -json` the way plain `go test` shows its
// output (an "ok" line per passing package, the whole output of what failed)
// and ends with a summary: which tests were skipped and why, grouped by
// package and reason, which failed, and a last line
//
//	N passed, N failed, N skipped
//
// so a run that skipped the PostgreSQL or NATS tests says so where people
// look. It reads the JSON from stdin, or runs the command it is given:
//
//	go test -json ./shared/... | go run ./scripts/testsummary
//	go run ./scripts/testsummary go test -race -json ./...
//
// It exits non-zero when a test or a package failed, and, running a
// command, with that command's status when it failed, so a go test that
// fails before any JSON (a bad flag, a missing module) still fails the run.
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
)

func main() { os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) }

// run reads go test's JSON from stdin, or from the command args when there
// is one, and returns the exit status.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	in := stdin
	var cmd *exec.Cmd
	if len(args) > 0 {
		cmd = exec.Command(args[0], args[1:]...)
		cmd.Stdin, cmd.Stderr = stdin, stderr
		out, err := cmd.StdoutPipe()
		if err == nil {
			err = cmd.Start()
		}
		if err != nil {
			fmt.Fprintln(stderr, "testsummary:", err)
			return 2
		}
		in = out
	}
	s := newSummary(modulePath())
	if err := s.read(in, stdout); err != nil {
		fmt.Fprintln(stderr, "testsummary: read:", err)
	}
	code := 0
	if cmd != nil {
		if err := cmd.Wait(); err != nil {
			code = 1
			if ee := (*exec.ExitError)(nil); errors.As(err, &ee) && ee.ExitCode() > 0 {
				code = ee.ExitCode()
			}
			if s.packages == 0 {
				fmt.Fprintf(stderr, "testsummary: %s: %v\n", strings.Join(args, " "), err)
			}
		}
	}
	s.report(stdout)
	if code == 0 && s.failed > 0 {
		code = 1
	}
	return code
}

// modulePath is the module in ./go.mod, trimmed from package names in the
// summary; "" when there is none.
func modulePath() string {
	b, err := os.ReadFile("go.mod")
	if err != nil {
		return ""
	}
	for l := range strings.SplitSeq(string(b), "\n") {
		if m, ok := strings.CutPrefix(strings.TrimSpace(l), "module "); ok {
			return strings.Trim(strings.TrimSpace(m), `"`)
		}
	}
	return ""
}

// event is one line of `go test -json` (cmd/test2json).
type event struct {
	Action     string
	Package    string
	ImportPath string // build-output and build-fail
	Test       string
	Output     string
}

type line struct{ test, text string }

// pkg is what has been seen of one package so far.
type pkg struct {
	lines  []line
	result map[string]string // test -> pass, fail, skip
	failed bool              // a test in it failed
}

type skip struct{ pkg, reason string }

type summary struct {
	module   string
	pkgs     map[string]*pkg
	packages int // packages that finished

	passed, failed, skipped int
	skips                   map[skip][]string // tests, by package and reason
	skipOrder               []skip
	failures                []string // "pkg TestX", or "pkg (reason)" for a package that failed outside its tests
}

func newSummary(module string) *summary {
	return &summary{module: module, pkgs: map[string]*pkg{}, skips: map[skip][]string{}}
}

func (s *summary) pkg(name string) *pkg {
	p := s.pkgs[name]
	if p == nil {
		p = &pkg{result: map[string]string{}}
		s.pkgs[name] = p
	}
	return p
}

// read handles every event in r, writing go test's usual output to w.
func (s *summary) read(r io.Reader, w io.Writer) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 16*1024*1024)
	for sc.Scan() {
		var e event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil || e.Action == "" {
			fmt.Fprintln(w, sc.Text()) // not test2json: show it as it came
			continue
		}
		s.handle(e, w)
	}
	return sc.Err()
}

func (s *summary) handle(e event, w io.Writer) {
	switch e.Action {
	case "build-output":
		fmt.Fprint(w, e.Output) // compiler errors, as go test prints them
		return
	case "output":
		p := s.pkg(e.Package)
		p.lines = append(p.lines, line{e.Test, e.Output})
		return
	case "pass", "fail", "skip":
	default:
		return
	}
	p := s.pkg(e.Package)
	if e.Test != "" {
		p.result[e.Test] = e.Action
		switch e.Action {
		case "pass":
			s.passed++
		case "fail":
			s.failed++
			p.failed = true
			s.failures = append(s.failures, s.short(e.Package)+" "+e.Test)
		case "skip":
			s.skipped++
			k := skip{s.short(e.Package), skipReason(p.lines, e.Test)}
			if _, ok := s.skips[k]; !ok {
				s.skipOrder = append(s.skipOrder, k)
			}
			s.skips[k] = append(s.skips[k], e.Test)
		}
		return
	}
	// The package is done: print what go test without -json prints.
	s.packages++
	for _, l := range p.lines {
		if e.Action == "fail" && !framing(l.text) && (l.test == "" || p.result[l.test] != "pass" && p.result[l.test] != "skip") {
			fmt.Fprint(w, l.text)
		} else if e.Action != "fail" && l.test == "" && (strings.HasPrefix(l.text, "ok  ") || strings.HasPrefix(l.text, "?   ")) {
			fmt.Fprint(w, l.text)
		}
	}
	if e.Action == "fail" && !p.failed {
		// A build failure, a panic outside a test, a timeout: no test says
		// so, the package does.
		s.failed++
		s.failures = append(s.failures, s.short(e.Package)+" (the package failed outside its tests: see its output above)")
	}
	delete(s.pkgs, e.Package)
}

// framing is test2json's -v chatter that plain go test does not print.
func framing(text string) bool {
	for _, p := range []string{"=== RUN", "=== PAUSE", "=== CONT", "=== NAME"} {
		if strings.HasPrefix(text, p) {
			return true
		}
	}
	return text == "PASS\n"
}

// location is the "file_test.go:12: " go test puts before a t.Log line.
var location = regexp.MustCompile(`^\s*[\w.-]+\.go:\d+: `)

// skipReason is the first line a skipped test logged (t.Skip's message),
// without its file:line; its subtests' lines are not its reason.
func skipReason(lines []line, test string) string {
	for _, l := range lines {
		if l.test != test || framing(l.text) || strings.HasPrefix(strings.TrimSpace(l.text), "--- SKIP") {
			continue
		}
		if r := strings.TrimSpace(location.ReplaceAllString(l.text, "")); r != "" {
			return r
		}
	}
	return "(no reason given)"
}

func (s *summary) short(pkg string) string {
	if s.module != "" {
		if rest, ok := strings.CutPrefix(pkg, s.module+"/"); ok {
			return rest
		}
	}
	return pkg
}

// report writes the summary; its last line is "N passed, N failed, N
// skipped".
func (s *summary) report(w io.Writer) {
	// Packages that never finished (go test killed): their tests ran no
	// result, so say so rather than count nothing.
	names := make([]string, 0, len(s.pkgs))
	for name := range s.pkgs {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		if len(s.pkgs[name].lines) > 0 {
			s.failed++
			s.failures = append(s.failures, s.short(name)+" (no result: go test stopped before it finished)")
		}
	}
	fmt.Fprintln(w)
	if len(s.skipOrder) > 0 {
		fmt.Fprintln(w, "Skipped, by package and reason:")
		for _, k := range s.skipOrder {
			tests := s.skips[k]
			fmt.Fprintf(w, "  %s: %d %s (%s): %s\n", k.pkg, len(tests), plural(len(tests), "test", "tests"), list(tests, 3), k.reason)
		}
	}
	if len(s.failures) > 0 {
		fmt.Fprintln(w, "Failed:")
		for _, f := range s.failures {
			fmt.Fprintln(w, "  "+f)
		}
	}
	fmt.Fprintf(w, "%d passed, %d failed, %d skipped\n", s.passed, s.failed, s.skipped)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// list names up to n tests, then says how many more.
func list(tests []string, n int) string {
	if len(tests) <= n {
		return strings.Join(tests, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(tests[:n], ", "), len(tests)-n)
}
