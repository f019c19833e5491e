package build

import (
	"archive/tar"
	"compress/gzip"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/deskside/deskside/installer/internal/gen"
	"github.com/deskside/deskside/shared/enrollconf"
)

const testVersion = "1.2.3"

// The binaries under test are built once per test binary and shared by
// every test (only read, never changed): the agent, and the window app,
// whose cold cgo build with fyne takes minutes on a small CI machine. CI
// that builds them once for several packages can hand them over with
// DESKSIDE_TEST_AGENT_BIN and DESKSIDE_TEST_UI_BIN.
var (
	binsOnce sync.Once
	binsErr  error
	agentDir string // removed by TestMain
	bins     struct{ agent, ui string }
)

func TestMain(m *testing.M) {
	code := m.Run()
	if agentDir != "" {
		os.RemoveAll(agentDir)
	}
	os.Exit(code)
}

func root(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Dir(strings.TrimSpace(string(out)))
}

// agentPackageForTests is the real agent when agent/ has a main package,
// else the stub.
func agentPackageForTests(t *testing.T) string {
	p, err := Options{Root: root(t), AllowStub: true}.agentPackage()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// agentBinary is the shared linux/amd64 agent.
func agentBinary(t *testing.T) string { t.Helper(); buildBinaries(t); return bins.agent }

// uiBinary is the shared linux/amd64 window app.
func uiBinary(t *testing.T) string { t.Helper(); buildBinaries(t); return bins.ui }

// buildBinaries builds the agent (without cgo) and the window app (with
// cgo) side by side, as the packages ship them, once for all tests.
func buildBinaries(t *testing.T) {
	t.Helper()
	binsOnce.Do(func() {
		agentDir, binsErr = os.MkdirTemp("", "deskside-agent-test-")
		if binsErr != nil {
			return
		}
		agentPkg, uiPkg := agentPackageForTests(t), UIPkg
		if agentPkg == StubPkg {
			uiPkg = StubPkg
		}
		type job struct {
			dst        *string
			env, name  string
			pkg, cgoOn string
		}
		jobs := []job{
			{&bins.agent, "DESKSIDE_TEST_AGENT_BIN", "deskside-agent", agentPkg, "CGO_ENABLED=0"},
			{&bins.ui, "DESKSIDE_TEST_UI_BIN", "deskside-ui", uiPkg, "CGO_ENABLED=1"},
		}
		errs := make([]error, len(jobs))
		var wg sync.WaitGroup
		for i, j := range jobs {
			if p := os.Getenv(j.env); p != "" {
				*j.dst = p
				continue
			}
			*j.dst = filepath.Join(agentDir, j.name)
			wg.Add(1)
			go func() {
				defer wg.Done()
				start := time.Now()
				cmd := exec.Command("go", "build", "-trimpath", "-ldflags", "-X "+VersionVar+"="+testVersion, "-o", *j.dst, j.pkg)
				cmd.Dir = root(t)
				cmd.Env = append(os.Environ(), j.cgoOn)
				if out, err := cmd.CombinedOutput(); err != nil {
					errs[i] = fmt.Errorf("go build %s: %w\n%s", j.pkg, err, out)
				}
				t.Logf("built %s once for the tests in %v", j.pkg, time.Since(start).Round(time.Millisecond))
			}()
		}
		wg.Wait()
		binsErr = errors.Join(errs...)
	})
	if binsErr != nil {
		t.Fatalf("build the binaries under test: %v", binsErr)
	}
}

// testUpdateKey is a publisher key (public half only) baked into the test
// packages' enrolment config.
const testUpdateKey = "RWQyzZV8AvkIcyeApn4Fg5MJpJH3qt+kuk/ke8aM3QdE6rkuu3hVhjLg"

func testEnroll(t *testing.T) *enrollconf.Config {
	c, err := enrollconf.New("https://help.example.com", "dsk1_Abcdefghijklmnop0123", "")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.SetUpdateKey(testUpdateKey); err != nil {
		t.Fatal(err)
	}
	return &c
}

var (
	linuxMu    sync.Mutex
	linuxBuilt = map[bool]string{} // with enrolment? -> output dir, shared by tests
	installer  string
)

// buildLinux builds the Linux packages once per variant for all tests
// (tests only read the output), through the installer's command line as an
// admin runs it. A separate process also keeps the packaging out of the
// race detector, which makes compressing the packages ten times slower.
func buildLinux(t *testing.T, enroll *enrollconf.Config) string {
	t.Helper()
	agent, ui := agentBinary(t), uiBinary(t)
	linuxMu.Lock()
	defer linuxMu.Unlock()
	if out, ok := linuxBuilt[enroll != nil]; ok {
		return out
	}
	if installer == "" {
		bin := filepath.Join(agentDir, "installer")
		cmd := exec.Command("go", "build", "-o", bin, "./installer")
		cmd.Dir = root(t)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go build ./installer: %v\n%s", err, out)
		}
		installer = bin
	}
	out, err := os.MkdirTemp(agentDir, "dist-")
	if err != nil {
		t.Fatal(err)
	}
	args := []string{"build", "--version", testVersion, "--out", out, "--platforms", "linux", "--agent-bin", agent, "--ui-bin", ui}
	if enroll != nil {
		args = append(args, "--server", enroll.Server, "--token", enroll.Token)
		if enroll.UpdateKey != "" {
			args = append(args, "--update-key", enroll.UpdateKey)
		}
	}
	cmd := exec.Command(installer, args...)
	cmd.Dir = root(t)
	cmd.Env = append(os.Environ(), "DESKSIDE_SERVER=", "DESKSIDE_TOKEN=", "DESKSIDE_PIN=", "DESKSIDE_UPDATE_KEY=")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("installer %v: %v\n%s", args, err, b)
	}
	linuxBuilt[enroll != nil] = out
	return out
}

func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %v: %v\n%s", name, args, err, out)
	}
	return string(out)
}

func have(tool string) bool { _, err := exec.LookPath(tool); return err == nil }

var debName = "deskside-agent_" + testVersion + "_amd64.deb"
var rpmName = "deskside-agent_" + testVersion + "_linux_amd64.rpm"

func TestLinuxPackages(t *testing.T) {
	out := buildLinux(t, testEnroll(t))
	deb, rpm := filepath.Join(out, debName), filepath.Join(out, rpmName)
	want := []string{LinuxBin, LinuxUIBin, LinuxDesktop, LinuxAutostart, LinuxUnit, LinuxIcon, "/etc/deskside/enroll.json"}
	if have("dpkg-deb") {
		list := run(t, "dpkg-deb", "-c", deb)
		for _, p := range want {
			if !strings.Contains(list, "."+p+"\n") {
				t.Errorf("deb lacks %s:\n%s", p, list)
			}
		}
		if !strings.Contains(list, "-rwxr-xr-x root/root") || !strings.Contains(list, "-rw-r--r-- root/root") {
			t.Errorf("deb modes:\n%s", list)
		}
		if v := strings.TrimSpace(run(t, "dpkg-deb", "-f", deb, "Version")); v != testVersion {
			t.Errorf("deb version %q", v)
		}
		ctrl := run(t, "sh", "-c", "dpkg-deb --ctrl-tarfile "+deb+" | tar -xO ./conffiles")
		if ctrl != "/etc/deskside/enroll.json\n/etc/xdg/autostart/deskside-agent.desktop\n" {
			t.Errorf("conffiles: %q", ctrl)
		}
		cfg := run(t, "sh", "-c", "dpkg-deb --fsys-tarfile "+deb+" | tar -xO ./etc/deskside/enroll.json")
		if c, err := enrollconf.Parse([]byte(cfg)); err != nil || c != *testEnroll(t) {
			t.Errorf("enroll.json in the deb: %q %v", cfg, err)
		}
		auto := run(t, "sh", "-c", "dpkg-deb --fsys-tarfile "+deb+" | tar -xO ."+LinuxAutostart)
		if auto != string(gen.AutostartEntry(LinuxBin)) {
			t.Errorf("autostart entry in the deb:\n%s", auto)
		}
		menu := run(t, "sh", "-c", "dpkg-deb --fsys-tarfile "+deb+" | tar -xO ."+LinuxDesktop)
		if menu != string(gen.DesktopEntry(LinuxUIBin)) || !strings.Contains(menu, "Exec="+LinuxUIBin+" get-help\n") {
			t.Errorf("menu entry in the deb:\n%s", menu)
		}
		// The window app's GL and X11 libraries, which nfpm does not find
		// by itself; the agent is static and adds nothing.
		deps := run(t, "dpkg-deb", "-f", deb, "Depends")
		if agentPackageForTests(t) == AgentPkg {
			for _, d := range []string{"libc6", "libgl1", "libx11-6", "libxcursor1", "libxrandr2", "libxi6"} {
				if !strings.Contains(", "+strings.TrimSpace(deps)+",", " "+d+",") {
					t.Errorf("deb Depends lacks %s: %s", d, deps)
				}
			}
		}
	} else {
		t.Log("dpkg-deb not installed: deb contents not inspected")
	}
	if have("rpm") {
		list := run(t, "rpm", "-qlp", rpm)
		for _, p := range want {
			if !strings.Contains(list, p+"\n") {
				t.Errorf("rpm lacks %s:\n%s", p, list)
			}
		}
		if v := run(t, "rpm", "-qp", "--queryformat", "%{VERSION}", rpm); v != testVersion {
			t.Errorf("rpm version %q", v)
		}
		if cfgs := run(t, "rpm", "-qcp", rpm); !strings.Contains(cfgs, "/etc/deskside/enroll.json") {
			t.Errorf("rpm config files: %s", cfgs)
		}
		if req := run(t, "rpm", "-qRp", rpm); agentPackageForTests(t) == AgentPkg &&
			(!strings.Contains(req, "libGL.so.1()(64bit)") || !strings.Contains(req, "libXcursor.so.1()(64bit)")) {
			t.Errorf("rpm requires:\n%s", req)
		}
	} else {
		t.Log("rpm not installed: rpm contents not inspected")
	}
	names := tarNames(t, filepath.Join(out, "deskside-agent_"+testVersion+"_linux_amd64.tar.gz"))
	for _, n := range []string{"deskside-agent", "deskside-ui", "deskside-setup", "enroll.json"} {
		if !names["deskside-agent_"+testVersion+"_linux_amd64/"+n] {
			t.Errorf("tarball lacks %s: %v", n, names)
		}
	}
	sums, err := os.ReadFile(filepath.Join(out, "SHA256SUMS"))
	if err != nil || !strings.Contains(string(sums), debName) {
		t.Errorf("SHA256SUMS: %q %v", sums, err)
	}
}

// TestTarballUserInstall unpacks the per-user tarball and installs from it
// as a user would, with no flags: the enroll.json inside is used.
func TestTarballUserInstall(t *testing.T) {
	out := buildLinux(t, testEnroll(t))
	dir := t.TempDir()
	run(t, "tar", "-xzf", filepath.Join(out, "deskside-agent_"+testVersion+"_linux_amd64.tar.gz"), "-C", dir)
	setup := filepath.Join(dir, "deskside-agent_"+testVersion+"_linux_amd64", "deskside-setup")
	home := t.TempDir()
	env := append(os.Environ(), "HOME="+home, "XDG_CONFIG_HOME=", "XDG_DATA_HOME=")
	cmd := exec.Command(setup, "user-install")
	cmd.Env = env
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("user-install: %v\n%s", err, b)
	}
	bin := filepath.Join(home, ".local/bin/deskside-agent")
	auto, err := os.ReadFile(filepath.Join(home, ".config/autostart/deskside-agent.desktop"))
	if err != nil || string(auto) != string(gen.AutostartEntry(bin)) {
		t.Errorf("autostart entry: %v\n%s", err, auto)
	}
	// The installed agent finds its window app next to itself, with
	// nothing on $PATH to help.
	ui := filepath.Join(home, ".local/bin/deskside-ui")
	if got := whichUI(t, bin, env); got != ui {
		t.Errorf("`deskside-agent ui --which` = %q, want %q", got, ui)
	}
	menu, err := os.ReadFile(filepath.Join(home, ".local/share/applications/deskside.desktop"))
	if err != nil || string(menu) != string(gen.DesktopEntry(ui)) {
		t.Errorf("menu entry: %v\n%s", err, menu)
	}
	st, err := os.Stat(filepath.Join(home, ".config/deskside/enroll.json"))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("user enrolment config: %v", err)
	}
	if c, err := enrollconf.Load(filepath.Join(home, ".config/deskside/enroll.json")); err != nil || c != *testEnroll(t) {
		t.Errorf("user enrolment config: %+v %v", c, err)
	}
	cmd = exec.Command(setup, "user-uninstall", "--purge")
	cmd.Env = env
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("user-uninstall: %v\n%s", err, b)
	}
	filepath.WalkDir(home, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			t.Errorf("left after user-uninstall: %s", p)
		}
		return nil
	})
}

// whichUI asks the agent at bin where it finds its window app, with an
// empty $PATH so that only "next to the agent" counts.
func whichUI(t *testing.T, bin string, env []string) string {
	t.Helper()
	cmd := exec.Command(bin, "ui", "--which")
	cmd.Env = append(env, "PATH=")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Errorf("%s ui --which: %v\n%s", bin, err, out)
	}
	return strings.TrimSpace(string(out))
}

// TestLinkedDeps: the agent is static and needs no library; the window app
// needs GL and X11, named in its ELF header or opened by GLFW at run time.
func TestLinkedDeps(t *testing.T) {
	if agentPackageForTests(t) != AgentPkg {
		t.Skip("agent/ has no main package yet")
	}
	deb, rpm, unknown, err := linkedDeps(agentBinary(t))
	if err != nil || len(deb)+len(rpm)+len(unknown) != 0 {
		t.Errorf("the agent should be static (CGO_ENABLED=0): deb %v rpm %v unknown %v %v", deb, rpm, unknown, err)
	}
	deb, rpm, unknown, err = linkedDeps(agentBinary(t), uiBinary(t))
	if err != nil || len(unknown) != 0 {
		t.Fatalf("window app: unknown libraries %v, %v", unknown, err)
	}
	want := []string{"libc6", "libgl1", "libx11-6", "libxcursor1", "libxi6", "libxinerama1", "libxrandr2", "libxxf86vm1"}
	if strings.Join(deb, " ") != strings.Join(want, " ") {
		t.Errorf("deb deps %v, want %v", deb, want)
	}
	if !strings.Contains(strings.Join(rpm, " "), "libX11.so.6()(64bit)") {
		t.Errorf("rpm deps %v", rpm)
	}
}

func TestLinuxWithoutEnrolment(t *testing.T) {
	for _, c := range LinuxContents("/stage", false) {
		if strings.HasPrefix(c.Destination, "/etc/deskside") {
			t.Errorf("packages built without --token would carry %s", c.Destination)
		}
	}
	if len(LinuxContents("/stage", true)) != len(LinuxContents("/stage", false))+2 {
		t.Error("packages built with --token should add /etc/deskside and its enroll.json")
	}
}

func tarNames(t *testing.T, path string) map[string]bool {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	names := map[string]bool{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return names
		}
		if err != nil {
			t.Fatal(err)
		}
		names[h.Name] = true
	}
}

// selfSigned writes a code-signing certificate and key as PEM files.
func selfSigned(t *testing.T) (cert, key string) {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Deskside Test Signing"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cert, key = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(cert, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(key, pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)}), 0o600)
	return cert, key
}

func TestWindowsMSI(t *testing.T) {
	if !have("wixl") {
		t.Skip("wixl not installed (apt-get install wixl): MSI not built")
	}
	o := Options{Version: testVersion, Out: t.TempDir(), Root: root(t), Enroll: testEnroll(t), Windows: true,
		AgentPkg: StubPkg} // the MSI's layout is under test here; TestWindowsAgentBuilds builds the real agent
	if have("osslsigncode") {
		o.SignCert, o.SignKey = selfSigned(t)
	}
	if _, err := Run(o); err != nil {
		t.Fatal(err)
	}
	msi := filepath.Join(o.Out, "deskside-agent_"+testVersion+"_windows_amd64.msi")
	exe := filepath.Join(o.Out, "deskside-agent_"+testVersion+"_windows_amd64.exe")
	if o.SignCert != "" {
		for _, f := range []string{msi, exe, filepath.Join(o.Out, "build", "windows-amd64", "deskside-setup.exe")} {
			if out := run(t, "osslsigncode", "verify", "-CAfile", o.SignCert, "-in", f); !strings.Contains(out, "Signature verification: ok") {
				t.Errorf("%s: signature not verified:\n%s", filepath.Base(f), out)
			}
		}
	}
	if !have("msiinfo") {
		t.Skip("msiinfo not installed: MSI tables not inspected")
	}
	// Without --windows-gui: no window app, and no Start-menu entry to it.
	if files := run(t, "msiinfo", "export", msi, "File"); strings.Contains(files, "deskside-ui") {
		t.Errorf("MSI built without --windows-gui carries deskside-ui.exe:\n%s", files)
	}
	if sc := run(t, "msiinfo", "export", msi, "Shortcut"); strings.Contains(sc, "get-help") {
		t.Errorf("MSI built without --windows-gui has a shortcut to the window app:\n%s", sc)
	}
	for table, want := range map[string][]string{
		"Registry":     {`Software\Microsoft\Windows\CurrentVersion\Run`, `"[#AgentExe]" run`},
		"Property":     {"SERVER\thttps://help.example.com", "TOKEN\tdsk1_Abcdefghijklmnop0123", "UPDATEKEY\t" + testUpdateKey, "MsiHiddenProperties\tTOKEN", "ProductVersion\t" + testVersion},
		"CustomAction": {"write-config --system", "remove-config --system", `--update-key "[UPDATEKEY]"`},
		"File":         {"deskside-agent.exe", "deskside-setup.exe"},
		"InstallExecuteSequence": {"StopAgents\tREMOVE~=\"ALL\"", "RemoveEnrollConfig\tREMOVE~=\"ALL\" AND NOT UPGRADINGPRODUCTCODE",
			"WriteEnrollConfig\tTOKEN AND NOT (REMOVE~=\"ALL\")"},
	} {
		got := run(t, "msiinfo", "export", msi, table)
		for _, w := range want {
			if !strings.Contains(got, w) {
				t.Errorf("MSI %s table lacks %q:\n%s", table, w, got)
			}
		}
	}
	// The old version is removed before the new one is installed; agents are
	// stopped, and the config removed, before the files go; the config is
	// written once the files are there; deferred actions run inside the
	// install script (after InstallInitialize).
	seq := sequence(t, msi)
	if !(seq["InstallValidate"] < seq["RemoveExistingProducts"] && seq["RemoveExistingProducts"] < seq["InstallInitialize"] &&
		seq["StopAgents"] < seq["RemoveEnrollConfig"] && seq["RemoveEnrollConfig"] < seq["RemoveFiles"] &&
		seq["InstallFiles"] < seq["WriteEnrollConfig"] && seq["WriteEnrollConfig"] < seq["InstallFinalize"] && seq["StopAgents"] > seq["InstallInitialize"]) {
		t.Errorf("MSI actions out of order: %v", seq)
	}
}

// TestWindowsMSIWithUI builds the MSI as --windows-gui does, with a
// prebuilt stand-in for deskside-ui.exe (the real one needs minutes of
// mingw-w64; its layout is under test here): the window app next to the
// agent and a Start-menu entry that opens get-help.
func TestWindowsMSIWithUI(t *testing.T) {
	if !have("wixl") || !have("msiinfo") {
		t.Skip("wixl or msiinfo not installed")
	}
	fake := filepath.Join(t.TempDir(), "deskside-ui.exe")
	if err := os.WriteFile(fake, []byte("MZ stand-in"), 0o755); err != nil {
		t.Fatal(err)
	}
	o := Options{Version: testVersion, Out: t.TempDir(), Root: root(t), Windows: true, AgentPkg: StubPkg, WindowsUIBin: fake}
	if _, err := Run(o); err != nil {
		t.Fatal(err)
	}
	msi := filepath.Join(o.Out, "deskside-agent_"+testVersion+"_windows_amd64.msi")
	files := run(t, "msiinfo", "export", msi, "File")
	if !strings.Contains(files, "UIExe\tUI\tdeskside-ui.exe") {
		t.Errorf("MSI File table lacks deskside-ui.exe:\n%s", files)
	}
	sc := run(t, "msiinfo", "export", msi, "Shortcut")
	if !strings.Contains(sc, "GetHelpShortcut\tProgramMenuFolder\tGet help from IT\tUI\t[#UIExe]\tget-help\t") {
		t.Errorf("MSI Shortcut table:\n%s", sc)
	}
	// deskside-ui.exe and deskside-agent.exe share a directory.
	comps := run(t, "msiinfo", "export", msi, "Component")
	for _, c := range []string{"Agent\t", "UI\t"} {
		if !strings.Contains(comps, c) || !strings.Contains(comps[strings.Index(comps, c):], "\tINSTALLDIR\t") {
			t.Errorf("component %s not in INSTALLDIR:\n%s", c, comps)
		}
	}
}

// sequence returns the InstallExecuteSequence numbers of the MSI's actions.
func sequence(t *testing.T, msi string) map[string]int {
	seq := map[string]int{}
	for _, line := range strings.Split(run(t, "msiinfo", "export", msi, "InstallExecuteSequence"), "\n") {
		f := strings.Split(strings.TrimRight(line, "\r"), "\t")
		if len(f) == 3 {
			var n int
			if _, err := fmt.Sscan(f[2], &n); err == nil {
				seq[f[0]] = n
			}
		}
	}
	return seq
}

// TestWindowsAgentBuilds cross-compiles the real agent the way the default
// build does (CGO_ENABLED=0), so CI notices when it stops building.
func TestWindowsAgentBuilds(t *testing.T) {
	pkg := agentPackageForTests(t)
	if pkg != AgentPkg {
		t.Skip("agent/ has no main package yet")
	}
	if testing.Short() {
		t.Skip("-short")
	}
	b := &builder{Options: Options{Version: testVersion, Root: root(t), Out: t.TempDir(), Log: io.Discard}}
	if err := b.goBuild(pkg, "windows", "amd64", filepath.Join(b.Out, "a.exe"), false, nil, "-H", "windowsgui"); err != nil {
		t.Fatalf("the agent does not cross-compile for Windows without cgo (the installer's default; --windows-gui uses mingw): %v", err)
	}
}

func TestMacLayout(t *testing.T) {
	o := Options{Version: testVersion, Out: t.TempDir(), Root: root(t), Mac: true, AgentPkg: StubPkg}
	if _, err := Run(o); err != nil {
		t.Fatal(err)
	}
	for p, want := range map[string][]byte{
		"macos/Deskside.app/Contents/Info.plist": gen.InfoPlist(testVersion),
		"macos/com.deskside.agent.plist":         gen.LaunchdPlist(MacAppBin),
	} {
		got, err := os.ReadFile(filepath.Join(o.Out, p))
		if err != nil || string(got) != string(want) {
			t.Errorf("%s: %v", p, err)
		}
	}
	// Both programs go in Contents/MacOS, side by side.
	for _, p := range []string{"PUT-deskside-agent-HERE", "PUT-deskside-ui-HERE"} {
		if _, err := os.Stat(filepath.Join(o.Out, "macos/Deskside.app/Contents/MacOS", p)); err != nil {
			t.Error(err)
		}
	}
}

func TestRefusals(t *testing.T) {
	_, err := Run(Options{Version: testVersion, Out: t.TempDir(), Root: root(t), SignCert: "c.pem"})
	if err == nil || !strings.Contains(err.Error(), "--sign-key") {
		t.Errorf("cert without key: %v", err)
	}
	if agentPackageForTests(t) == StubPkg {
		_, err := Run(Options{Version: testVersion, Out: t.TempDir(), Root: root(t), Linux: true})
		if err == nil || !strings.Contains(err.Error(), "--allow-stub") {
			t.Errorf("missing agent: %v", err)
		}
	}
}
