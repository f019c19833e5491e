package deskside

import (
	"slices"
	"strings"
	"testing"
)

// docDirs are the parts whose every package must say its job.
var docDirs = []string{"agent", "server", "shared", "installer", "cmd"}

// docProblem returns what is wrong with p's package doc comment, or "".
// A package (not a command) starts its doc with "Package <name> ", as godoc
// and Tailscale's pkgdoc_test.go expect; a command needs some doc too.
// Test-only packages (no GoFiles) have nothing to document.
func docProblem(p *pkgInfo) string {
	if len(p.GoFiles) == 0 {
		return ""
	}
	if !slices.ContainsFunc(docDirs, func(d string) bool { return under(p.ImportPath, d) }) {
		return ""
	}
	if strings.TrimSpace(p.Doc) == "" {
		return "has no package doc comment saying its job"
	}
	if p.Name != "main" && !strings.HasPrefix(p.Doc, "Package "+p.Name+" ") {
		return "doc comment does not start with \"Package " + p.Name + " \": " + p.Doc
	}
	return ""
}

func TestPackageDocs(t *testing.T) {
	g := loadGraph(t, "linux")
	for _, path := range g.own {
		if problem := docProblem(g.pkgs[path]); problem != "" {
			t.Errorf("%s: %s", path, problem)
		}
	}
}

// TestPackageDocsCatch shows the doc rule failing where it should.
func TestPackageDocsCatch(t *testing.T) {
	pkg := func(path, name, doc string) *pkgInfo {
		return &pkgInfo{ImportPath: module + "/" + path, Name: name, Doc: doc, GoFiles: []string{"x.go"}}
	}
	cases := []struct {
		p   *pkgInfo
		bad bool
	}{
		{pkg("shared/version", "version", "Package version holds the build version."), false},
		{pkg("agent", "main", "Command agent is the Deskside agent."), false},
		{pkg("shared/version", "version", ""), true},
		{pkg("server/internal/hub", "hub", "Hub knows who is connected."), true},
		{pkg("agent/internal/core", "core", "Package corexyz is misnamed."), true},
		{pkg("installer/cmd/x", "main", ""), true},
		{&pkgInfo{ImportPath: module + "/server/t", Name: "t"}, false}, // test-only: no GoFiles
		{pkg("scripts/tool", "tool", ""), false},                       // outside the checked parts
	}
	for _, c := range cases {
		if got := docProblem(c.p); (got != "") != c.bad {
			t.Errorf("docProblem(%s %q) = %q, want a problem: %v", c.p.ImportPath, c.p.Doc, got, c.bad)
		}
	}
}
