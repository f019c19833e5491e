// Package deskside, the repository root, holds no code, only the tests of
// the layout's rules:
// which part may import which (this file) and that every package says its
// job (pkgdoc_test.go). They read the real import graph with `go list`, so a
// wrong import fails CI, not a review. agent/deps_test.go keeps its own
// stricter rule (no fyne linked into the agent binary at all).
package deskside

import (
	"encoding/json"
	"errors"
	"io"
	"os/exec"
	"slices"
	"sort"
	"strings"
	"testing"
)

// module is this repository's module path.
const module = "github.com/deskside/deskside"

// layoutGOOS lists the platforms whose import graphs are checked: a
// Windows- or macOS-only file can break a rule as well as a Linux one.
var layoutGOOS = []string{"linux", "windows", "darwin"}

// pkgInfo is what the layout tests need to know of one package.
type pkgInfo struct {
	ImportPath   string
	Name         string
	Doc          string
	GoFiles      []string
	Imports      []string // production imports
	TestImports  []string // the imports of its _test.go files (both packages)
	XTestImports []string
	Module       *struct{ Path string }
}

// graph is an import graph: every package known, with its production
// imports, and the test imports of this module's packages.
type graph struct {
	pkgs map[string]*pkgInfo
	own  []string // this module's packages, sorted
}

// loadGraph lists this module's packages and everything they or their tests
// import, for goos.
func loadGraph(t *testing.T, goos string) *graph {
	t.Helper()
	g := &graph{pkgs: map[string]*pkgInfo{}}
	fields := "-json=ImportPath,Name,Doc,GoFiles,Imports,TestImports,XTestImports,Module"
	for _, p := range goList(t, goos, fields, "./...") {
		g.pkgs[p.ImportPath] = p
	}
	// A test may import a package nothing in production does (fyne's test
	// driver, chromedp); list those too so their own imports are followed.
	var missing []string
	for _, p := range g.pkgs {
		if p.Module == nil || p.Module.Path != module {
			continue // other modules' tests are theirs
		}
		for _, imp := range slices.Concat(p.TestImports, p.XTestImports) {
			if _, ok := g.pkgs[imp]; !ok && !slices.Contains(missing, imp) {
				missing = append(missing, imp)
			}
		}
	}
	if len(missing) > 0 {
		for _, p := range goList(t, goos, fields, missing...) {
			if _, ok := g.pkgs[p.ImportPath]; !ok {
				g.pkgs[p.ImportPath] = p
			}
		}
	}
	for path, p := range g.pkgs {
		if p.Module != nil && p.Module.Path == module {
			g.own = append(g.own, path)
		}
	}
	sort.Strings(g.own)
	if len(g.own) == 0 {
		t.Fatalf("go list (GOOS=%s) found no package of %s", goos, module)
	}
	return g
}

// goList runs `go list -e -deps` for goos and decodes its JSON stream. -e
// keeps going past packages that cannot build on goos without cgo (fyne's GL
// driver); their imports are still listed.
func goList(t *testing.T, goos, fields string, args ...string) []*pkgInfo {
	t.Helper()
	cmd := exec.Command("go", append([]string{"list", "-e", "-deps", fields}, args...)...)
	cmd.Env = append(cmd.Environ(), "GOOS="+goos)
	out, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("go list (GOOS=%s): %v\n%s", goos, err, ee.Stderr)
		}
		t.Fatalf("go list (GOOS=%s): %v", goos, err)
	}
	var pkgs []*pkgInfo
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for {
		p := new(pkgInfo)
		if err := dec.Decode(p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("decode go list output: %v", err)
		}
		pkgs = append(pkgs, p)
	}
	return pkgs
}

// under reports whether path is dir of this module or inside it
// (dir is relative to the module root: "agent/internal").
func under(path, dir string) bool {
	full := module + "/" + dir
	return path == full || strings.HasPrefix(path, full+"/")
}

// isFyne matches fyne's toolkit (fyne.io/fyne/v2/...), not fyne.io/systray,
// which is pure Go on Linux and draws the agent's tray.
func isFyne(path string) bool {
	return path == "fyne.io/fyne" || strings.HasPrefix(path, "fyne.io/fyne/")
}

// rule is one rule of the layout: no package matched by from may depend,
// directly or through others, on a package matched by bans.
type rule struct {
	id    string // short, for tests
	name  string
	from  func(pkg string) bool
	bans  func(dep string) bool
	tests bool // the rule holds for the package's tests too
}

// layoutRules are the rules of DESIGN.md and STYLE.md's "Layout shows the
// architecture".
var layoutRules = []rule{
	{
		id: "shared", name: "shared/ imports neither agent/, server/ nor installer/: both sides import it",
		from:  func(p string) bool { return under(p, "shared") },
		bans:  func(d string) bool { return under(d, "agent") || under(d, "server") || under(d, "installer") },
		tests: true,
	},
	{
		id: "server", name: "server/ never imports agent/, installer/ or fyne",
		from: func(p string) bool { return under(p, "server") },
		bans: func(d string) bool {
			return under(d, "agent") || under(d, "installer") || isFyne(d)
		},
		tests: true,
	},
	{
		id: "core", name: "agent/internal/... never imports agent/ui/..., installer/ or fyne: the core knows no UI and no packager",
		from: func(p string) bool { return under(p, "agent/internal") },
		bans: func(d string) bool {
			return under(d, "agent/ui") || under(d, "installer") || isFyne(d)
		},
		tests: true,
	},
	{
		id: "installer", name: "nothing outside installer/ imports installer/: the enrolment contract is shared/enrollconf",
		from:  func(p string) bool { return strings.HasPrefix(p, module) && !under(p, "installer") },
		bans:  func(d string) bool { return under(d, "installer") },
		tests: true,
	},
	{
		// Agent tests do run the real server (server/servertest); the
		// agent's own code never links server code.
		id: "agent-server", name: "agent/ never imports server/ outside its tests",
		from: func(p string) bool { return under(p, "agent") },
		bans: func(d string) bool { return under(d, "server") },
	},
}

// violations checks every rule on every package of g and returns one line
// per broken rule and package, with the import chain that breaks it.
func violations(g *graph, rules []rule) []string {
	var out []string
	for _, path := range g.own {
		p := g.pkgs[path]
		for _, r := range rules {
			if !r.from(path) {
				continue
			}
			if chain := findDep(g, []string{path}, r.bans); chain != nil {
				out = append(out, r.id+": "+r.name+": "+strings.Join(chain, " → "))
				continue
			}
			if !r.tests {
				continue
			}
			roots := slices.Concat(p.TestImports, p.XTestImports)
			if chain := findDep(g, roots, r.bans); chain != nil {
				out = append(out, r.id+": "+r.name+": "+path+" (tests) → "+strings.Join(chain, " → "))
			}
		}
	}
	return out
}

// findDep walks the production imports breadth first from roots (roots
// included) and returns the shortest chain to a package bans matches, or nil.
func findDep(g *graph, roots []string, bans func(string) bool) []string {
	parent := map[string]string{}
	queue := []string{}
	for _, r := range roots {
		if _, seen := parent[r]; !seen {
			parent[r] = ""
			queue = append(queue, r)
		}
	}
	for len(queue) > 0 {
		cur := queue[0]
		queue = queue[1:]
		if bans(cur) {
			var chain []string
			for n := cur; n != ""; n = parent[n] {
				chain = append(chain, n)
			}
			slices.Reverse(chain)
			return chain
		}
		p := g.pkgs[cur]
		if p == nil {
			continue
		}
		for _, imp := range p.Imports {
			if _, seen := parent[imp]; !seen {
				parent[imp] = cur
				queue = append(queue, imp)
			}
		}
	}
	return nil
}

func TestLayoutRules(t *testing.T) {
	for _, goos := range layoutGOOS {
		t.Run(goos, func(t *testing.T) {
			g := loadGraph(t, goos)
			// The rules must see the parts they guard, or they pass on nothing.
			for _, dir := range []string{"agent/internal", "server", "shared", "installer"} {
				if !slices.ContainsFunc(g.own, func(p string) bool { return under(p, dir) }) {
					t.Fatalf("go list found no package under %s/", dir)
				}
			}
			for _, v := range violations(g, layoutRules) {
				t.Error(v)
			}
		})
	}
}

// fakeGraph builds a graph from "pkg: imp imp" lines; paths starting with
// "./" are this module's packages, "+test" after a package marks the
// imports that follow as test imports.
func fakeGraph(lines ...string) *graph {
	g := &graph{pkgs: map[string]*pkgInfo{}}
	expand := func(s string) string {
		if rest, ok := strings.CutPrefix(s, "./"); ok {
			return module + "/" + rest
		}
		return s
	}
	for _, line := range lines {
		head, imps, _ := strings.Cut(line, ":")
		path := expand(strings.TrimSpace(head))
		p := &pkgInfo{ImportPath: path}
		test := false
		for _, imp := range strings.Fields(imps) {
			if imp == "+test" {
				test = true
				continue
			}
			if test {
				p.TestImports = append(p.TestImports, expand(imp))
			} else {
				p.Imports = append(p.Imports, expand(imp))
			}
		}
		g.pkgs[path] = p
		if strings.HasPrefix(path, module+"/") {
			g.own = append(g.own, path)
		}
	}
	sort.Strings(g.own)
	return g
}

// TestLayoutRulesCatch shows each rule failing on a graph that breaks it,
// directly, through another package, or in a test, and a clean graph passing.
func TestLayoutRulesCatch(t *testing.T) {
	clean := []string{
		"./shared/protocol: encoding/json",
		"./shared/enrollconf: ./shared/protocol",
		"./server/internal/hub: ./shared/protocol +test ./server/servertest",
		"./server/servertest: ./server/internal/hub",
		"./agent/internal/core: ./shared/protocol ./shared/enrollconf fyne.io/systray +test ./server/servertest",
		"./agent/ui/tray: ./agent/internal/core fyne.io/systray",
		"./agent/ui/windows: fyne.io/fyne/v2/widget",
		"./agent: ./agent/ui/tray ./agent/internal/core",
		"./installer/internal/build: ./shared/enrollconf github.com/goreleaser/nfpm/v2",
		"./installer: ./installer/internal/build",
		"fyne.io/fyne/v2/widget: fyne.io/fyne/v2",
		"github.com/some/lib: fyne.io/fyne/v2",
	}
	if v := violations(fakeGraph(clean...), layoutRules); len(v) > 0 {
		t.Fatalf("a clean graph breaks rules:\n%s", strings.Join(v, "\n"))
	}
	cases := []struct {
		name  string
		rules []string // ids of the rules it breaks
		add   []string
	}{
		{"shared imports agent", []string{"shared"}, []string{"./shared/version: ./agent/internal/core"}},
		{"shared imports server via a package", []string{"shared"}, []string{"./shared/version: ./shared/x", "./shared/x: ./server/internal/hub"}},
		{"shared imports installer", []string{"shared", "installer"}, []string{"./shared/version: ./installer/internal/build"}},
		{"shared test imports server", []string{"shared"}, []string{"./shared/version: +test ./server/servertest"}},
		{"server imports agent", []string{"server"}, []string{"./server/internal/api: ./agent/internal/core"}},
		{"server imports fyne", []string{"server"}, []string{"./server/internal/api: fyne.io/fyne/v2"}},
		{"server links fyne through a library", []string{"server"}, []string{"./server/internal/api: github.com/some/lib"}},
		{"server imports installer", []string{"server", "installer"}, []string{"./server/internal/api: ./installer/internal/gen", "./installer/internal/gen: fmt"}},
		{"server test imports agent", []string{"server"}, []string{"./server/internal/api: +test ./agent/internal/core"}},
		{"agent core imports the UI", []string{"core"}, []string{"./agent/internal/link: ./agent/ui/tray"}},
		{"agent core imports fyne", []string{"core"}, []string{"./agent/internal/link: fyne.io/fyne/v2/widget"}},
		{"agent core imports installer", []string{"core", "installer"}, []string{"./agent/internal/enroll: ./installer/internal/build"}},
		{"agent core test imports the UI", []string{"core"}, []string{"./agent/internal/link: +test ./agent/ui/windows"}},
		{"agent main imports installer", []string{"installer"}, []string{"./agent/cmd/x: ./installer"}},
		{"release tool test imports installer", []string{"installer"}, []string{"./cmd/deskside-release: +test ./installer/internal/gen", "./installer/internal/gen: fmt"}},
		{"agent links the server", []string{"agent-server"}, []string{"./agent/ui/backend: ./server/servertest"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g := fakeGraph(append(slices.Clone(clean), c.add...)...)
			v := violations(g, layoutRules)
			var got []string
			for _, line := range v {
				id, _, _ := strings.Cut(line, ":")
				if !slices.Contains(got, id) {
					got = append(got, id)
				}
			}
			sort.Strings(got)
			want := slices.Sorted(slices.Values(c.rules))
			if !slices.Equal(got, want) {
				t.Fatalf("broken rules = %v, want %v:\n%s", got, want, strings.Join(v, "\n"))
			}
			t.Logf("caught: %s", strings.Join(v, "; "))
		})
	}
}
