// Package version holds the build version of Deskside programs and compares
// versions, so updates can refuse a downgrade.
package version

import (
	"fmt"
	"strconv"
	"strings"
)

// Version is set at build time with
// -ldflags "-X github.com/deskside/deskside/shared/version.Version=1.2.3".
var Version = "0.1.0-dev"

// Semver is a parsed major.minor.patch[-pre] version.
type Semver struct {
	Major, Minor, Patch int
	Pre                 string
}

// Parse reads "1.2.3", "v1.2.3" or "1.2.3-beta.1".
func Parse(s string) (Semver, error) {
	s = strings.TrimPrefix(strings.TrimSpace(s), "v")
	core, pre, _ := strings.Cut(s, "-")
	core, _, _ = strings.Cut(core, "+")
	parts := strings.Split(core, ".")
	if len(parts) != 3 {
		return Semver{}, fmt.Errorf("version %q is not major.minor.patch", s)
	}
	var n [3]int
	for i, p := range parts {
		v, err := strconv.Atoi(p)
		if err != nil || v < 0 {
			return Semver{}, fmt.Errorf("version %q: %q is not a number", s, p)
		}
		n[i] = v
	}
	return Semver{Major: n[0], Minor: n[1], Patch: n[2], Pre: pre}, nil
}

// Compare returns -1, 0 or 1. A pre-release sorts before its release.
func Compare(a, b Semver) int {
	for _, d := range [][2]int{{a.Major, b.Major}, {a.Minor, b.Minor}, {a.Patch, b.Patch}} {
		if d[0] != d[1] {
			if d[0] < d[1] {
				return -1
			}
			return 1
		}
	}
	switch {
	case a.Pre == b.Pre:
		return 0
	case a.Pre == "":
		return 1
	case b.Pre == "":
		return -1
	case a.Pre < b.Pre:
		return -1
	}
	return 1
}

// Newer reports whether candidate is newer than current. Unparsable
// versions are never newer.
func Newer(candidate, current string) bool {
	c, err1 := Parse(candidate)
	cur, err2 := Parse(current)
	if err1 != nil || err2 != nil {
		return false
	}
	return Compare(c, cur) > 0
}
