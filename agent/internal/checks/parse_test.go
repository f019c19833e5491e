package checks

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func fixture(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestParseAptSimulate(t *testing.T) {
	for name, want := range map[string]int{"apt-get-s-upgrade.txt": 3, "apt-get-s-upgrade-none.txt": 0} {
		n, err := parseAptSimulate(fixture(t, name))
		if err != nil || n != want {
			t.Errorf("%s: %d, %v; want %d", name, n, err, want)
		}
	}
	if _, err := parseAptSimulate("E: Could not open lock file"); err == nil {
		t.Error("an apt error parsed as an answer")
	}
}

func TestParseChage(t *testing.T) {
	exp, never, err := parseChage(fixture(t, "chage-l.txt"))
	if err != nil || never || exp.Format("2006-01-02") != "2026-12-10" {
		t.Errorf("chage: %v %v %v", exp, never, err)
	}
	if _, never, err := parseChage(fixture(t, "chage-l-never.txt")); err != nil || !never {
		t.Errorf("never: %v %v", never, err)
	}
	if _, _, err := parseChage("chage: user 'x' does not exist in /etc/passwd"); err == nil {
		t.Error("an error parsed as an answer")
	}
	exp, _, err = parseChage("Password expires : password must be changed\n")
	if err != nil || exp.After(time.Now()) {
		t.Errorf("must be changed: %v %v", exp, err)
	}
}

func TestParseNetUser(t *testing.T) {
	exp, never, err := parseNetUser(fixture(t, "net-user.txt"))
	if err != nil || never || exp.Format("2006-01-02 15:04") != "2026-12-10 09:14" {
		t.Errorf("net user: %v %v %v", exp, never, err)
	}
	if _, never, err := parseNetUser(fixture(t, "net-user-never.txt")); err != nil || !never {
		t.Errorf("never: %v %v", never, err)
	}
	if _, _, err := parseNetUser("Password expires             jeudi 10 décembre\r\n"); err == nil {
		t.Error("a date in an unknown form was guessed")
	}
}

func TestParseMacPassword(t *testing.T) {
	days, found := parsePwpolicyDays(fixture(t, "pwpolicy-getaccountpolicies.txt"))
	if !found || days != 90 {
		t.Errorf("pwpolicy: %v %v", days, found)
	}
	if _, found := parsePwpolicyDays("Getting account policies for user <ada>\n<plist><dict></dict></plist>"); found {
		t.Error("no policy parsed as one")
	}
	if d, found := parsePwpolicyDays("maxMinutesUntilChangePassword=86400"); !found || d != 60 {
		t.Errorf("legacy: %v %v", d, found)
	}
	last, err := parseDsclLastSet(fixture(t, "dscl-accountPolicyData.txt"))
	if err != nil || last.Unix() != 1758000000 {
		t.Errorf("dscl: %v %v", last, err)
	}
}

func TestParseSoftwareUpdate(t *testing.T) {
	n, restart, err := parseSoftwareUpdate(fixture(t, "softwareupdate-l.txt"))
	if err != nil || n != 2 || !restart {
		t.Errorf("updates: %d %v %v", n, restart, err)
	}
	n, restart, err = parseSoftwareUpdate(fixture(t, "softwareupdate-l-none.txt"))
	if err != nil || n != 0 || restart {
		t.Errorf("none: %d %v %v", n, restart, err)
	}
	if _, _, err := parseSoftwareUpdate("softwareupdate: connection refused"); err == nil {
		t.Error("an error parsed as an answer")
	}
}

func TestParseEncryption(t *testing.T) {
	on, conv, err := parseManageBde(fixture(t, "manage-bde-on.txt"))
	if err != nil || !on || conv != "Fully Encrypted" {
		t.Errorf("bde on: %v %q %v", on, conv, err)
	}
	on, _, err = parseManageBde(fixture(t, "manage-bde-off.txt"))
	if err != nil || on {
		t.Errorf("bde off: %v %v", on, err)
	}
	if _, _, err := parseManageBde("ERROR: An attempt to access a required resource was denied."); err == nil {
		t.Error("access denied parsed as an answer")
	}
	for name, want := range map[string]bool{"fdesetup-on.txt": true, "fdesetup-off.txt": false} {
		on, err := parseFdesetup(fixture(t, name))
		if err != nil || on != want {
			t.Errorf("%s: %v %v", name, on, err)
		}
	}
}

func TestParseBattery(t *testing.T) {
	full, design, err := parseIoregBattery(fixture(t, "ioreg-battery.txt"))
	if err != nil || full != 4382 || design != 6075 {
		t.Errorf("ioreg: %d %d %v", full, design, err)
	}
	full, design, err = parsePowercfgXML(fixture(t, "powercfg-batteryreport.xml"))
	if err != nil || full != 29120 || design != 56000 {
		t.Errorf("powercfg: %d %d %v", full, design, err)
	}
	if n, err := parseWUACount(" 4\r\n"); err != nil || n != 4 {
		t.Errorf("wua: %d %v", n, err)
	}
}

// FuzzParsers feeds every parser of a tool's output arbitrary text: a tool
// may print anything (another language, an error, garbage); a parser must
// answer or refuse, never panic.
func FuzzParsers(f *testing.F) {
	for _, name := range []string{"apt-get-s-upgrade.txt", "chage-l.txt", "net-user.txt", "pwpolicy-getaccountpolicies.txt",
		"dscl-accountPolicyData.txt", "softwareupdate-l.txt", "manage-bde-on.txt", "fdesetup-on.txt", "ioreg-battery.txt", "powercfg-batteryreport.xml"} {
		f.Add(fixture(f, name))
	}
	f.Fuzz(func(t *testing.T, s string) {
		_, _ = parseAptSimulate(s)
		_ = parseDnfCheckUpdate(s)
		_, _, _ = parseChage(s)
		_, _, _ = parseNetUser(s)
		_, _ = parsePwpolicyDays(s)
		_, _ = parseDsclLastSet(s)
		_, _, _ = parseSoftwareUpdate(s)
		_, _ = parseWUACount(s)
		_, _, _ = parseManageBde(s)
		_, _ = parseFdesetup(s)
		if full, design, err := parseIoregBattery(s); err == nil && (full <= 0 || design <= 0) {
			t.Errorf("ioreg accepted capacities %d/%d", full, design)
		}
		if full, design, err := parsePowercfgXML(s); err == nil && (full <= 0 || design <= 0) {
			t.Errorf("powercfg accepted capacities %d/%d", full, design)
		}
	})
}
