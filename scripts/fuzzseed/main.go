// Command fuzzseed writes seed inputs for a Go fuzz target into its corpus
// directory (testdata/fuzz/FuzzX), in the "go test fuzz v1" format that
// `go test` reads as seeds and `go test -fuzz` starts from.
//
//	go run ./scripts/fuzzseed -dir shared/protocol/testdata/fuzz/FuzzParse -type bytes @frame.json '{"v":1}'
//	go run ./scripts/fuzzseed -dir shared/version/testdata/fuzz/FuzzCompare -type string -args 3 1.0.0 1.0.0-rc.1 v2.0.0
//
// Each group of -args values is one input; a value "@path" is that file's
// content. A file is named by the SHA-256 of what it holds, so writing the
// same seed twice leaves one file.
package main

import (
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

func main() {
	dir := flag.String("dir", "", "corpus directory, e.g. shared/protocol/testdata/fuzz/FuzzParse")
	typ := flag.String("type", "bytes", "type of every argument of the fuzz function: bytes or string")
	nargs := flag.Int("args", 1, "arguments of the fuzz function (values per input)")
	flag.Parse()
	if err := run(*dir, *typ, *nargs, flag.Args()); err != nil {
		fmt.Fprintln(os.Stderr, "fuzzseed:", err)
		os.Exit(1)
	}
}

func run(dir, typ string, nargs int, values []string) error {
	if dir == "" || nargs < 1 || len(values) == 0 || len(values)%nargs != 0 {
		return fmt.Errorf("want -dir and a multiple of %d values", nargs)
	}
	if typ != "bytes" && typ != "string" {
		return fmt.Errorf("-type %q is not bytes or string", typ)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create corpus dir: %w", err)
	}
	for i := 0; i < len(values); i += nargs {
		var b strings.Builder
		b.WriteString("go test fuzz v1\n")
		for _, v := range values[i : i+nargs] {
			if path, ok := strings.CutPrefix(v, "@"); ok {
				content, err := os.ReadFile(path)
				if err != nil {
					return fmt.Errorf("read seed: %w", err)
				}
				v = string(content)
			}
			if typ == "bytes" {
				fmt.Fprintf(&b, "[]byte(%q)\n", v)
			} else {
				fmt.Fprintf(&b, "string(%q)\n", v)
			}
		}
		sum := sha256.Sum256([]byte(b.String()))
		name := filepath.Join(dir, hex.EncodeToString(sum[:8]))
		if err := os.WriteFile(name, []byte(b.String()), 0o644); err != nil {
			return fmt.Errorf("write seed: %w", err)
		}
		fmt.Println(name)
	}
	return nil
}
