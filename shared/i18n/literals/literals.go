// Package literals finds string literals that read like words for a person
// in Go source, so a test can fail when a user-facing sentence is written
// outside the catalogues. It is a heuristic with an allow-list, for tests.
package literals

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"unicode"
)

// Literal is one sentence-like string literal.
type Literal struct {
	Pos  string // file:line
	Text string // the literal's value
	Call string // the function or method it is an argument of ("" when none): "Info", "fmt.Errorf"
}

func (l Literal) String() string { return fmt.Sprintf("%s: %q (in %s)", l.Pos, l.Text, l.Call) }

// Options narrows what Find reports.
type Options struct {
	// SkipCalls are calls whose literal arguments are not read by a person:
	// log lines and wrapped internal errors. Matched against the call's
	// selector name ("Info") and its full form ("slog.Info", "fmt.Errorf").
	SkipCalls []string
	// Allow returns true for a literal that may stay (a brand name, a
	// command-line flag's help for admins, …).
	Allow func(Literal) bool
}

// DefaultSkipCalls are log and error-wrapping calls: their text is for
// people reading logs, who read English.
var DefaultSkipCalls = []string{
	"Debug", "Info", "Warn", "Error", "DebugContext", "InfoContext", "WarnContext", "ErrorContext",
	"Log", "LogAttrs", "Logf", "Printf", "Println", "Print", "Fatalf", "Fatal", "Panicf",
	"fmt.Errorf", "errors.New", "panic", "Skip", "Skipf", "Errorf", "Fatalf",
	"regexp.MustCompile", "exec.Command", "exec.CommandContext", "filepath.Join", "Getenv", "LookupEnv",
	"String", "Bool", "Int", "Duration", "StringVar", "BoolVar", "IntVar", "DurationVar", // flag help
}

// Find scans the non-test .go files in dirs (not recursive) and returns
// the literals with at least two words of letters and a space, which is
// what a sentence a person reads looks like; struct tags, imports and
// calls in opts.SkipCalls are left out.
func Find(dirs []string, opts Options) ([]Literal, error) {
	if opts.SkipCalls == nil {
		opts.SkipCalls = DefaultSkipCalls
	}
	skip := map[string]bool{}
	for _, s := range opts.SkipCalls {
		skip[s] = true
	}
	var out []Literal
	fset := token.NewFileSet()
	for _, dir := range dirs {
		entries, err := os.ReadDir(dir)
		if err != nil {
			return nil, fmt.Errorf("scan %s: %w", dir, err)
		}
		for _, e := range entries {
			name := e.Name()
			if e.IsDir() || !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
				continue
			}
			path := filepath.Join(dir, name)
			f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
			if err != nil {
				return nil, fmt.Errorf("scan %s: %w", path, err)
			}
			out = append(out, scanFile(fset, f, skip, opts.Allow)...)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Pos < out[j].Pos })
	return out, nil
}

func scanFile(fset *token.FileSet, f *ast.File, skip map[string]bool, allow func(Literal) bool) []Literal {
	var out []Literal
	var stack []ast.Node
	ast.Inspect(f, func(n ast.Node) bool {
		if n == nil {
			stack = stack[:len(stack)-1]
			return true
		}
		stack = append(stack, n)
		switch n := n.(type) {
		case *ast.ImportSpec, *ast.Field:
			// imports and struct tags (a field's Tag) are never words for a person
			if fl, ok := n.(*ast.Field); ok && fl.Tag != nil {
				stack = stack[:len(stack)-1]
				return false
			}
			if _, ok := n.(*ast.ImportSpec); ok {
				stack = stack[:len(stack)-1]
				return false
			}
		case *ast.BasicLit:
			if n.Kind != token.STRING {
				return true
			}
			s, err := strconv.Unquote(n.Value)
			if err != nil || !sentence(s) {
				return true
			}
			call := enclosingCall(stack)
			if skip[call] || skip[lastPart(call)] {
				return true
			}
			l := Literal{Pos: fmt.Sprintf("%s:%d", filepath.Base(fset.Position(n.Pos()).Filename), fset.Position(n.Pos()).Line), Text: s, Call: call}
			if allow != nil && allow(l) {
				return true
			}
			out = append(out, l)
		}
		return true
	})
	return out
}

// enclosingCall names the nearest call the literal is an argument of.
func enclosingCall(stack []ast.Node) string {
	for i := len(stack) - 2; i >= 0; i-- {
		switch c := stack[i].(type) {
		case *ast.CallExpr:
			return exprName(c.Fun)
		case *ast.FuncLit, *ast.FuncDecl, *ast.BlockStmt:
			return ""
		}
	}
	return ""
}

func exprName(e ast.Expr) string {
	switch e := e.(type) {
	case *ast.Ident:
		return e.Name
	case *ast.SelectorExpr:
		if x, ok := e.X.(*ast.Ident); ok {
			return x.Name + "." + e.Sel.Name
		}
		return e.Sel.Name
	case *ast.IndexExpr:
		return exprName(e.X)
	}
	return ""
}

func lastPart(s string) string {
	if i := strings.LastIndexByte(s, '.'); i >= 0 {
		return s[i+1:]
	}
	return s
}

// sentence: two or more words of at least two letters, separated by a
// space, and no sign of being code (a path, a format-only string, SQL).
func sentence(s string) bool {
	if !strings.Contains(s, " ") || strings.HasPrefix(s, "/") || strings.Contains(s, "://") {
		return false
	}
	words := 0
	for _, w := range strings.Fields(s) {
		letters := 0
		for _, r := range w {
			if unicode.IsLetter(r) {
				letters++
			}
		}
		if letters >= 2 {
			words++
		}
	}
	if words < 2 {
		return false
	}
	up := strings.ToUpper(s)
	for _, sql := range []string{"SELECT ", "INSERT ", "UPDATE ", "DELETE ", "CREATE ", " WHERE "} {
		if strings.Contains(up, sql) && s == strings.ToUpper(s[:len(sql)])+s[len(sql):] {
			return false
		}
	}
	return true
}
