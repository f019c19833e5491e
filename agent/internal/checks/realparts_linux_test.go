//go:build linux

package checks

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/deskside/deskside/shared/protocol"
)

// needRoot skips a real-parts test off root on a desk; in CI (root) it
// must run, so there a missing root fails.
func needRoot(t *testing.T, tools ...string) {
	t.Helper()
	why := ""
	if os.Geteuid() != 0 {
		why = "this test needs root (a real user account, a real tmpfs)"
	}
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil && why == "" {
			why = tool + " is not installed"
		}
	}
	if why == "" {
		return
	}
	if os.Getenv("CI") != "" {
		t.Fatal(why + ", and CI is set: CI runs as root with these tools")
	}
	t.Skip(why)
}

func run(t *testing.T, name string, args ...string) {
	t.Helper()
	if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
}

// A real local account whose password expires in 5 days: chage -l, run
// for real, makes password_expiry warn with the date as the deadline.
func TestRealPasswordExpiry(t *testing.T) {
	needRoot(t, "useradd", "userdel", "chage")
	name := fmt.Sprintf("dsk%d", os.Getpid()%1000000)
	run(t, "useradd", "-M", "-s", "/usr/sbin/nologin", name)
	t.Cleanup(func() { _ = exec.Command("userdel", name).Run() })
	lastChange := time.Now().AddDate(0, 0, -25).Format("2006-01-02")
	run(t, "chage", "-d", lastChange, "-M", "30", name)

	env := &Env{User: name, Timeout: 10 * time.Second}
	env.Defaults()
	f := Probe(context.Background(), env, policy(protocol.CheckPasswordExpiry))
	if f.State != protocol.CheckWarn || f.Evidence["days_left"] != "5" && f.Evidence["days_left"] != "6" {
		t.Fatalf("expiring password: %+v", f)
	}
	if f.Deadline.Format("2006-01-02") != time.Now().AddDate(0, 0, 5).Format("2006-01-02") {
		t.Errorf("deadline %v", f.Deadline)
	}
	run(t, "chage", "-M", "-1", name)
	if f := Probe(context.Background(), env, policy(protocol.CheckPasswordExpiry)); f.State != protocol.CheckOK || f.Evidence["expires"] != "never" {
		t.Fatalf("password that never expires: %+v", f)
	}
}

// A real 8 MB tmpfs filled past the threshold: disk_space warns, and
// "Fix it for me" frees the space in the cache folder and only there.
func TestRealSmallDiskAndClean(t *testing.T) {
	needRoot(t, "mount", "umount")
	dir := t.TempDir()
	run(t, "mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", dir)
	t.Cleanup(func() { _ = exec.Command("umount", dir).Run() })

	home := filepath.Join(dir, "home")
	keep := filepath.Join(home, "Documents", "report.odt")
	writeFile(t, keep, strings.Repeat("k", 1<<20))
	writeFile(t, filepath.Join(home, ".cache", "thumbs", "big.bin"), strings.Repeat("c", 6<<20))

	env := Env{Home: home, Mounts: PathMounts(dir), Timeout: 10 * time.Second}
	rep := &reports{}
	r := NewRunner(Config{Env: env, Report: rep.add})
	r.SetPolicy(protocol.ChecksPolicy{Checks: []protocol.CheckPolicy{{Kind: protocol.CheckDiskSpace, Enabled: true, DiskFreePct: 25, DiskFreeGB: 0.001}}})
	ctx := context.Background()
	res := r.Round(ctx)
	if res[0].State != protocol.CheckWarn || res[0].Fix != FixClearTemp || res[0].Evidence["path"] != dir {
		t.Fatalf("full tmpfs: %+v", res[0])
	}
	plan, err := r.PlanFix(ctx, protocol.CheckDiskSpace)
	if err != nil || plan.Bytes != 6<<20 || !strings.Contains(plan.Description, "I can clear 6 MB") {
		t.Fatalf("plan %+v %v", plan, err)
	}
	out, err := r.ApplyFix(ctx, protocol.CheckDiskSpace, "")
	if err != nil || out.Freed != 6<<20 || out.Result.State != protocol.CheckFixed {
		t.Fatalf("fix: %+v %v", out, err)
	}
	if b, err := os.ReadFile(keep); err != nil || len(b) != 1<<20 {
		t.Fatalf("a document outside the cache was touched: %v", err)
	}
	r.Flush(ctx)
	if got := strings.Join(rep.states(protocol.CheckDiskSpace), ","); got != "fixed" {
		t.Fatalf("reported %s", got)
	}
}
