package literals

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestFind(t *testing.T) {
	dir := t.TempDir()
	src := `package x

import (
	"errors"
	"fmt"
	"log/slog"
)

type T struct {
	A string ` + "`json:\"a,omitempty\" help:\"some words here\"`" + `
}

func f(log *slog.Logger) (string, error) {
	log.Info("update healthy now", "from", 1)
	_ = fmt.Errorf("enrol device: %w", errors.New("bad thing happened"))
	label := "Get help"
	_ = "ok"
	_ = "/usr/share/deskside data"
	_ = "allowed brand name"
	return show("We couldn't find that request."), nil
}

func show(s string) string { return s }
`
	if err := os.WriteFile(filepath.Join(dir, "x.go"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "x_test.go"), []byte("package x\nvar s = \"words in a test\"\n"), 0o644)
	got, err := Find([]string{dir}, Options{Allow: func(l Literal) bool { return l.Text == "allowed brand name" }})
	if err != nil {
		t.Fatal(err)
	}
	var texts []string
	for _, l := range got {
		texts = append(texts, l.Text+"|"+l.Call)
	}
	want := "Get help|,We couldn't find that request.|show"
	if strings.Join(texts, ",") != want {
		t.Errorf("got %q\nwant %q", strings.Join(texts, ","), want)
	}
	if _, err := Find([]string{filepath.Join(dir, "missing")}, Options{}); err == nil {
		t.Error("a missing dir is not an error")
	}
}
