package build

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/deskside/deskside/installer/internal/gen"
)

// MinGWCC is the C cross-compiler of Debian's gcc-mingw-w64-x86-64.
const MinGWCC = "x86_64-w64-mingw32-gcc"

func (b *builder) windows() error {
	dir := filepath.Join(b.Out, "build", "windows-amd64")
	agent := filepath.Join(dir, "deskside-agent.exe")
	// -H windowsgui: started at login, the agent must not open a console.
	// It links neither fyne nor GL, so it builds without cgo.
	if err := b.goBuild(b.agentPkg, "windows", "amd64", agent, false, nil, "-H", "windowsgui"); err != nil {
		return err
	}
	setup := filepath.Join(dir, "deskside-setup.exe")
	if err := b.goBuild(SetupPkg, "windows", "amd64", setup, false, nil); err != nil {
		return err
	}
	exes := []string{agent, setup}
	// The window app needs cgo: mingw-w64, minutes for a cold build, so
	// only with --windows-gui. Without it the MSI has no deskside-ui.exe and
	// no Start-menu entry; the tray's window items then say to tell IT.
	ui := ""
	switch {
	case b.WindowsUIBin != "":
		ui = filepath.Join(dir, "deskside-ui.exe")
		if err := copyFile(b.WindowsUIBin, ui, 0o755); err != nil {
			return fmt.Errorf("use prebuilt deskside-ui.exe: %w", err)
		}
	case b.WindowsGUI:
		if err := need(MinGWCC, "gcc-mingw-w64-x86-64"); err != nil {
			return err
		}
		ui = filepath.Join(dir, "deskside-ui.exe")
		cgo := b.uiPkg != StubPkg
		if err := b.goBuild(b.uiPkg, "windows", "amd64", ui, cgo, []string{"CC=" + MinGWCC}, "-H", "windowsgui"); err != nil {
			return err
		}
	default:
		b.logf("NOTE: no --windows-gui: the MSI carries no deskside-ui.exe (the agent's windows) and no Start-menu entry")
	}
	if ui != "" {
		exes = append(exes, ui)
	}
	for _, exe := range exes {
		if err := b.sign(exe, "Deskside Agent"); err != nil {
			return err
		}
	}
	// wixl resolves sources relative to its working directory only.
	w := gen.WXS{Version: b.Version, AgentExe: filepath.Base(agent), SetupExe: filepath.Base(setup)}
	if ui != "" {
		w.UIExe = filepath.Base(ui)
	}
	if b.Enroll != nil {
		w.Server, w.Token, w.Pin, w.UpdateKey = b.Enroll.Server, b.Enroll.Token, b.Enroll.Pin, b.Enroll.UpdateKey
	}
	wxs := filepath.Join(dir, "deskside.wxs")
	if err := writeFile(wxs, w.Render(), 0o644); err != nil {
		return err
	}
	if err := need("wixl", "wixl"); err != nil {
		return err
	}
	msi := filepath.Join(b.Out, fmt.Sprintf("%s_%s_windows_amd64.msi", PackageName, b.Version))
	b.logf("== wixl -> %s", b.rel(msi))
	cmd := exec.Command("wixl", "-a", "x64", "-o", msi, filepath.Base(wxs))
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("wixl: %w\n%s", err, out)
	}
	if err := b.sign(msi, "Deskside Agent installer"); err != nil {
		return err
	}
	b.add(msi)
	exeOut := filepath.Join(b.Out, fmt.Sprintf("%s_%s_windows_amd64.exe", PackageName, b.Version))
	if err := copyFile(agent, exeOut, 0o755); err != nil {
		return err
	}
	b.add(exeOut)
	return nil
}

// sign Authenticode-signs file in place with osslsigncode, when a
// certificate was given.
func (b *builder) sign(file, desc string) error {
	if b.SignCert == "" {
		return nil
	}
	if err := need("osslsigncode", "osslsigncode"); err != nil {
		return err
	}
	signed := file + ".signed"
	args := []string{"sign", "-certs", b.SignCert, "-key", b.SignKey, "-h", "sha256",
		"-n", desc, "-i", "https://github.com/deskside/deskside"}
	if b.SignPass != "" {
		args = append(args, "-pass", b.SignPass)
	}
	if ts := os.Getenv("DESKSIDE_SIGN_TIMESTAMP_URL"); ts != "" {
		args = append(args, "-ts", ts)
	}
	args = append(args, "-in", file, "-out", signed)
	b.logf("== osslsigncode sign %s", b.rel(file))
	if out, err := exec.Command("osslsigncode", args...).CombinedOutput(); err != nil {
		os.Remove(signed)
		return fmt.Errorf("sign %s: %w\n%s", filepath.Base(file), err, out)
	}
	return os.Rename(signed, file)
}
