//go:build !linux && !windows && !darwin

package checks

import (
	"context"

	"github.com/deskside/deskside/shared/protocol"
)

// On other systems only disk_space runs; the rest say they couldn't check.

func probeRestart(context.Context, *Env, protocol.CheckPolicy) (Finding, error) {
	return Finding{}, errNoProbe
}
func probeUpdates(context.Context, *Env, protocol.CheckPolicy) (Finding, error) {
	return Finding{}, errNoProbe
}
func probePassword(context.Context, *Env, protocol.CheckPolicy) (Finding, error) {
	return Finding{}, errNoProbe
}
func probeBattery(context.Context, *Env, protocol.CheckPolicy) (Finding, error) {
	return Finding{}, errNoProbe
}
func probeEncryption(context.Context, *Env, protocol.CheckPolicy) (Finding, error) {
	return Finding{}, errNoProbe
}
