//go:build darwin

package checks

import (
	"context"
	"errors"
	"time"

	"github.com/deskside/deskside/shared/protocol"
)

// probeRestart: a pending update that needs a restart, or the uptime.
func probeRestart(ctx context.Context, env *Env, p protocol.CheckPolicy) (Finding, error) {
	var reasons []string
	if f, err := softwareUpdates(ctx, env); err == nil && f.Evidence["needs_restart"] == "yes" {
		reasons = append(reasons, "softwareupdate")
	}
	up, err := env.Uptime(ctx)
	if err != nil {
		return Finding{}, err
	}
	return restartFinding(reasons, up, p), nil
}

func probeUpdates(ctx context.Context, env *Env, _ protocol.CheckPolicy) (Finding, error) {
	return softwareUpdates(ctx, env)
}

// softwareUpdates asks Apple's catalogue (slow, over the network) at most
// every six hours, for both the updates and the restart check.
func softwareUpdates(ctx context.Context, env *Env) (Finding, error) {
	key := slowKey(env.Now())
	if f, ok := env.memo.get("softwareupdate", key); ok {
		return f, nil
	}
	out, err := env.Cmd.Run(ctx, "softwareupdate", "-l")
	if err != nil && len(out) == 0 {
		return Finding{}, err
	}
	n, restart, err := parseSoftwareUpdate(string(out))
	if err != nil {
		return Finding{}, err
	}
	f := updatesFinding(n, restart)
	env.memo.put("softwareupdate", key, f)
	return f, nil
}

// probePassword combines the account policy's days (pwpolicy) with when
// the password was last set (dscl).
func probePassword(ctx context.Context, env *Env, p protocol.CheckPolicy) (Finding, error) {
	if env.User == "" {
		return Finding{}, errors.New("no signed-in user")
	}
	pol, err := env.Cmd.Run(ctx, "pwpolicy", "-u", env.User, "-getaccountpolicies")
	if err != nil && len(pol) == 0 {
		return Finding{}, err
	}
	days, found := parsePwpolicyDays(string(pol))
	if !found {
		return passwordFinding(env.Now(), time.Time{}, true, p), nil
	}
	data, err := env.Cmd.Run(ctx, "dscl", ".", "-read", "/Users/"+env.User, "accountPolicyData")
	if err != nil {
		return Finding{}, err
	}
	last, err := parseDsclLastSet(string(data))
	if err != nil {
		return Finding{}, err
	}
	exp := last.Add(time.Duration(days * 24 * float64(time.Hour)))
	return passwordFinding(env.Now(), exp, false, p), nil
}

func probeBattery(ctx context.Context, env *Env, p protocol.CheckPolicy) (Finding, error) {
	out, err := env.Cmd.Run(ctx, "ioreg", "-r", "-c", "AppleSmartBattery")
	if err != nil {
		return Finding{}, err
	}
	if len(out) == 0 {
		return noBattery(), nil
	}
	full, design, err := parseIoregBattery(string(out))
	if err != nil {
		return Finding{}, err
	}
	return batteryFinding(full, design, p), nil
}

func probeEncryption(ctx context.Context, env *Env, _ protocol.CheckPolicy) (Finding, error) {
	out, err := env.Cmd.Run(ctx, "fdesetup", "status")
	if err != nil && len(out) == 0 {
		return Finding{}, err
	}
	on, err := parseFdesetup(string(out))
	if err != nil {
		return Finding{}, err
	}
	return encryptionFinding(on, "FileVault"), nil
}
