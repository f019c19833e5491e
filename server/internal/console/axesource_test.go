package console

import "testing"

// AxeSource is the pinned axe-core, for the browser tests outside this
// package's internal tests (the real-server ones in package console_test).
func AxeSource(t *testing.T) string { return loadAxe(t) }
