package checks

// Parsers of what the OS tools print. They are OS-neutral (compiled and
// tested everywhere, on outputs recorded in testdata) so a Windows or macOS
// parser is tested on the Linux CI box too.

import (
	"bufio"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

var errNoAnswer = errors.New("the tool's output had no answer we recognise")

// parseAptSimulate counts the upgrades `apt-get -s upgrade` would install:
// its "N upgraded, M newly installed" line, else its "Inst " lines.
func parseAptSimulate(out string) (int, error) {
	if m := regexp.MustCompile(`(?m)^(\d+) upgraded, (\d+) newly installed`).FindStringSubmatch(out); m != nil {
		up, _ := strconv.Atoi(m[1])
		nw, _ := strconv.Atoi(m[2])
		return up + nw, nil
	}
	n, seen := 0, false
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "Inst ") {
			n++
		}
		if strings.HasPrefix(line, "Reading package lists") {
			seen = true
		}
	}
	if n == 0 && !seen {
		return 0, errNoAnswer
	}
	return n, nil
}

// parseDnfCheckUpdate counts the packages `dnf check-update -q` lists (one
// per non-empty line, up to "Obsoleting Packages").
func parseDnfCheckUpdate(out string) int {
	n := 0
	for _, line := range strings.Split(out, "\n") {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "Obsoleting") {
			break
		}
		if line != "" && len(strings.Fields(line)) >= 3 {
			n++
		}
	}
	return n
}

// parseChage reads "Password expires : <date>" from `chage -l` (LC_ALL=C).
// never is true for "never"; a password that "must be changed" has expired.
func parseChage(out string) (expires time.Time, never bool, err error) {
	for _, line := range strings.Split(out, "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok || strings.TrimSpace(k) != "Password expires" {
			continue
		}
		v = strings.TrimSpace(v)
		switch {
		case v == "never":
			return time.Time{}, true, nil
		case strings.HasPrefix(v, "password must be changed"):
			return time.Unix(0, 0).UTC(), false, nil
		}
		t, err := time.ParseInLocation("Jan 02, 2006", v, time.Local)
		if err != nil {
			return time.Time{}, false, fmt.Errorf("chage: expiry date %q: %w", v, err)
		}
		return t, false, nil
	}
	return time.Time{}, false, fmt.Errorf("chage: %w", errNoAnswer)
}

// parseNetUser reads "Password expires <date>" from `net user NAME` on
// Windows. The date follows the system's locale: the common forms are
// tried, and a form not recognised is an error (couldn't check), never a
// guess.
func parseNetUser(out string) (expires time.Time, never bool, err error) {
	for _, line := range strings.Split(out, "\n") {
		line = strings.TrimSpace(strings.TrimSuffix(line, "\r"))
		if !strings.HasPrefix(line, "Password expires") {
			continue
		}
		v := strings.TrimSpace(strings.TrimPrefix(line, "Password expires"))
		if strings.EqualFold(v, "never") {
			return time.Time{}, true, nil
		}
		for _, layout := range []string{"1/2/2006 3:04:05 PM", "1/2/2006 15:04:05", "2006-01-02 15:04:05", "02.01.2006 15:04:05", "2/1/2006 15:04:05"} {
			if t, err := time.ParseInLocation(layout, v, time.Local); err == nil {
				return t, false, nil
			}
		}
		return time.Time{}, false, fmt.Errorf("net user: expiry date %q is in a form we don't read", v)
	}
	return time.Time{}, false, fmt.Errorf("net user: %w", errNoAnswer)
}

// parsePwpolicyDays reads how many days a macOS password lasts from
// `pwpolicy -u NAME -getaccountpolicies` (policyAttributeExpiresEveryNDays,
// or the older maxMinutesUntilChangePassword). found is false when no
// expiry policy applies.
func parsePwpolicyDays(out string) (days float64, found bool) {
	if m := regexp.MustCompile(`<key>policyAttributeExpiresEveryNDays</key>\s*<(?:integer|real)>([\d.]+)<`).FindStringSubmatch(out); m != nil {
		d, err := strconv.ParseFloat(m[1], 64)
		return d, err == nil && d > 0
	}
	if m := regexp.MustCompile(`maxMinutesUntilChangePassword(?:</key>\s*<(?:integer|string)>|=)(\d+)`).FindStringSubmatch(out); m != nil {
		mins, err := strconv.ParseFloat(m[1], 64)
		return mins / (24 * 60), err == nil && mins > 0
	}
	return 0, false
}

// parseDsclLastSet reads passwordLastSetTime (seconds since 1970) from
// `dscl . -read /Users/NAME accountPolicyData`.
func parseDsclLastSet(out string) (time.Time, error) {
	m := regexp.MustCompile(`<key>passwordLastSetTime</key>\s*<real>([\d.]+)</real>`).FindStringSubmatch(out)
	if m == nil {
		return time.Time{}, fmt.Errorf("dscl: %w", errNoAnswer)
	}
	f, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("dscl: %w", err)
	}
	return time.Unix(int64(f), 0), nil
}

// parseSoftwareUpdate counts the updates `softwareupdate -l` lists and says
// whether one needs a restart.
func parseSoftwareUpdate(out string) (count int, restart bool, err error) {
	if strings.Contains(out, "No new software available") {
		return 0, false, nil
	}
	seen := false
	for _, line := range strings.Split(out, "\n") {
		t := strings.TrimSpace(line)
		if strings.HasPrefix(t, "Software Update found the following") || strings.HasPrefix(t, "Finding available software") {
			seen = true
		}
		if strings.HasPrefix(t, "* ") {
			count++
		}
		if strings.Contains(t, "Action: restart") || strings.HasSuffix(t, "[restart]") {
			restart = true
		}
	}
	if count == 0 && !seen {
		return 0, false, fmt.Errorf("softwareupdate: %w", errNoAnswer)
	}
	return count, restart, nil
}

// parseWUACount reads the number the Windows Update Agent query prints.
func parseWUACount(out string) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(out))
	if err != nil || n < 0 {
		return 0, fmt.Errorf("windows update: %w", errNoAnswer)
	}
	return n, nil
}

// parseManageBde reads `manage-bde -status C:`: whether BitLocker protects
// the volume, and its conversion status in words.
func parseManageBde(out string) (on bool, conversion string, err error) {
	found := false
	for _, line := range strings.Split(out, "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(strings.TrimSuffix(line, "\r")), ":")
		if !ok {
			continue
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		switch k {
		case "Protection Status":
			found = true
			on = strings.HasPrefix(v, "Protection On")
		case "Conversion Status":
			conversion = v
		}
	}
	if !found {
		return false, "", fmt.Errorf("manage-bde: %w", errNoAnswer)
	}
	return on, conversion, nil
}

// parseFdesetup reads `fdesetup status`: FileVault on (or turning on).
func parseFdesetup(out string) (on bool, err error) {
	switch {
	case strings.Contains(out, "FileVault is On"), strings.Contains(out, "Encryption in progress"):
		return true, nil
	case strings.Contains(out, "FileVault is Off"), strings.Contains(out, "Decryption in progress"):
		return false, nil
	}
	return false, fmt.Errorf("fdesetup: %w", errNoAnswer)
}

// parseIoregBattery reads a Mac battery's full-charge and design capacity
// (mAh) from `ioreg -r -c AppleSmartBattery`. Newer Macs give MaxCapacity
// as a percentage; AppleRawMaxCapacity is the mAh figure then.
func parseIoregBattery(out string) (full, design int, err error) {
	get := func(key string) int {
		m := regexp.MustCompile(`"` + key + `" = (\d+)`).FindStringSubmatch(out)
		if m == nil {
			return 0
		}
		n, err := strconv.Atoi(m[1])
		if err != nil || n > 1e9 {
			return 0
		}
		return n
	}
	design = get("DesignCapacity")
	full = get("AppleRawMaxCapacity")
	if full == 0 {
		if mc := get("MaxCapacity"); mc > 100 {
			full = mc
		}
	}
	if full == 0 {
		full = get("NominalChargeCapacity")
	}
	if design == 0 || full == 0 {
		return 0, 0, fmt.Errorf("ioreg: %w", errNoAnswer)
	}
	return full, design, nil
}

// parsePowercfgXML reads design and full-charge capacity (mWh) from
// `powercfg /batteryreport /xml`, summed over the batteries.
func parsePowercfgXML(out string) (full, design int, err error) {
	sum := func(tag string) int {
		n := 0
		for _, m := range regexp.MustCompile(`<`+tag+`>(\d+)</`+tag+`>`).FindAllStringSubmatch(out, -1) {
			if v, err := strconv.Atoi(m[1]); err == nil && v < 1e9 {
				n += v
			}
		}
		return n
	}
	full, design = sum("FullChargeCapacity"), sum("DesignCapacity")
	if full <= 0 || design <= 0 || full > 1e9 || design > 1e9 {
		return 0, 0, fmt.Errorf("powercfg: %w", errNoAnswer)
	}
	return full, design, nil
}
