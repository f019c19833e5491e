//go:build windows

package checks

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/windows/registry"

	"github.com/deskside/deskside/shared/protocol"
)

// probeRestart reads the keys Windows Update and the servicing stack set
// while a restart is pending, and the uptime.
func probeRestart(ctx context.Context, env *Env, p protocol.CheckPolicy) (Finding, error) {
	var reasons []string
	for _, k := range []struct{ path, name string }{
		{`SOFTWARE\Microsoft\Windows\CurrentVersion\WindowsUpdate\Auto Update\RebootRequired`, "RebootRequired"},
		{`SOFTWARE\Microsoft\Windows\CurrentVersion\Component Based Servicing\RebootPending`, "RebootPending"},
	} {
		if key, err := registry.OpenKey(registry.LOCAL_MACHINE, k.path, registry.QUERY_VALUE); err == nil {
			key.Close()
			reasons = append(reasons, k.name)
		}
	}
	if key, err := registry.OpenKey(registry.LOCAL_MACHINE, `SYSTEM\CurrentControlSet\Control\Session Manager`, registry.QUERY_VALUE); err == nil {
		if v, _, err := key.GetStringsValue("PendingFileRenameOperations"); err == nil && len(v) > 0 {
			reasons = append(reasons, "PendingFileRenameOperations")
		}
		key.Close()
	}
	up, err := env.Uptime(ctx)
	if err != nil {
		return Finding{}, fmt.Errorf("uptime: %w", err)
	}
	return restartFinding(reasons, up, p), nil
}

// wuaQuery counts the updates the Windows Update Agent has found and not
// installed, through its COM API from PowerShell (no cgo).
const wuaQuery = `(New-Object -ComObject Microsoft.Update.Session).CreateUpdateSearcher().Search('IsInstalled=0 and IsHidden=0 and Type=''Software''').Updates.Count`

func probeUpdates(ctx context.Context, env *Env, _ protocol.CheckPolicy) (Finding, error) {
	key := slowKey(env.Now())
	if f, ok := env.memo.get("wua", key); ok {
		return f, nil
	}
	out, err := env.Cmd.Run(ctx, "powershell", "-NoProfile", "-NonInteractive", "-Command", wuaQuery)
	if err != nil {
		return Finding{}, err
	}
	n, err := parseWUACount(string(out))
	if err != nil {
		return Finding{}, err
	}
	f := updatesFinding(n, false)
	env.memo.put("wua", key, f)
	return f, nil
}

// probePassword reads "Password expires" from `net user`, asking the
// domain for a domain account.
func probePassword(ctx context.Context, env *Env, p protocol.CheckPolicy) (Finding, error) {
	if env.User == "" {
		return Finding{}, errors.New("no signed-in user")
	}
	name, args := env.User, []string{"user"}
	if dom, user, ok := strings.Cut(env.User, `\`); ok {
		name = user
		if !strings.EqualFold(dom, os.Getenv("COMPUTERNAME")) {
			args = append(args, name, "/domain")
		}
	}
	if len(args) == 1 {
		args = append(args, name)
	}
	out, err := env.Cmd.Run(ctx, "net", args...)
	if err != nil {
		return Finding{}, err
	}
	exp, never, err := parseNetUser(string(out))
	if err != nil {
		return Finding{}, err
	}
	return passwordFinding(env.Now(), exp, never, p), nil
}

// probeBattery reads powercfg's battery report (XML).
func probeBattery(ctx context.Context, env *Env, p protocol.CheckPolicy) (Finding, error) {
	dir, err := os.MkdirTemp("", "deskside-battery")
	if err != nil {
		return Finding{}, err
	}
	defer os.RemoveAll(dir)
	file := filepath.Join(dir, "battery.xml")
	if _, err := env.Cmd.Run(ctx, "powercfg", "/batteryreport", "/xml", "/output", file); err != nil {
		return Finding{}, err
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return Finding{}, err
	}
	if !strings.Contains(string(b), "<DesignCapacity>") {
		return noBattery(), nil
	}
	full, design, err := parsePowercfgXML(string(b))
	if err != nil {
		return Finding{}, err
	}
	return batteryFinding(full, design, p), nil
}

// probeEncryption asks manage-bde about the system drive (it needs an
// administrator: otherwise the check says it couldn't check).
func probeEncryption(ctx context.Context, env *Env, _ protocol.CheckPolicy) (Finding, error) {
	drive := os.Getenv("SystemDrive")
	if drive == "" {
		drive = "C:"
	}
	out, err := env.Cmd.Run(ctx, "manage-bde", "-status", drive)
	if err != nil && len(out) == 0 {
		return Finding{}, err
	}
	on, conv, err := parseManageBde(string(out))
	if err != nil {
		return Finding{}, err
	}
	return encryptionFinding(on, "BitLocker: "+conv), nil
}
