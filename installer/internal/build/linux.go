package build

import (
	"archive/tar"
	"compress/gzip"
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"github.com/goreleaser/nfpm/v2"
	_ "github.com/goreleaser/nfpm/v2/deb" // registers the deb packager
	"github.com/goreleaser/nfpm/v2/files"
	_ "github.com/goreleaser/nfpm/v2/rpm" // registers the rpm packager

	"github.com/deskside/deskside/installer/internal/gen"
	"github.com/deskside/deskside/shared/enrollconf"
)

// Where the Linux packages put things. The agent and the window app sit
// side by side in /usr/bin: the agent finds deskside-ui next to its own
// executable (and /usr/bin is on $PATH as well), and the menu entry runs
// deskside-ui directly.
const (
	LinuxBin       = "/usr/bin/deskside-agent"
	LinuxUIBin     = "/usr/bin/deskside-ui"
	LinuxDesktop   = "/usr/share/applications/deskside.desktop"
	LinuxAutostart = "/etc/xdg/autostart/deskside-agent.desktop"
	LinuxUnit      = "/usr/lib/systemd/user/deskside-agent.service"
	LinuxIcon      = "/usr/share/icons/hicolor/scalable/apps/deskside.svg"
	PackageName    = "deskside-agent"
)

// EnrollFileMode is the mode of /etc/deskside/enroll.json. It is
// world-readable because the agent runs as each desktop user, not as root,
// and every user's agent must read it. The token it holds only lets a
// machine join a group (the device secret each agent gets in return lives
// in a 0600 file in the user's config dir), so issue package tokens with an
// expiry and revoke them after the rollout.
const EnrollFileMode = 0o644

func (b *builder) linux() error {
	dir := filepath.Join(b.Out, "build", "linux-amd64")
	bin := filepath.Join(dir, "deskside-agent")
	ui := filepath.Join(dir, "deskside-ui")
	setup := filepath.Join(dir, "deskside-setup")
	// The three builds are independent: run them side by side (the window
	// app's cgo build is the long one).
	builds := []func() error{
		func() error { return b.prebuiltOr(b.AgentBin, bin, b.agentPkg, false) },
		func() error { return b.prebuiltOr(b.UIBin, ui, b.uiPkg, true) },
		func() error { return b.goBuild(SetupPkg, "linux", "amd64", setup, false, nil) },
	}
	errs := make([]error, len(builds))
	var wg sync.WaitGroup
	for i, f := range builds {
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = f() }()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	gens := map[string][]byte{
		"deskside.desktop":       gen.DesktopEntry(LinuxUIBin),
		"deskside-agent.desktop": gen.AutostartEntry(LinuxBin),
		"deskside-agent.service": gen.SystemdUserUnit(LinuxBin),
		"deskside.svg":           gen.Icon(),
		"postinstall.sh":         gen.PostInstall(),
		"postremove.sh":          gen.PostRemove(),
	}
	if b.Enroll != nil {
		gens["enroll.json"] = b.Enroll.Marshal()
	}
	for name, data := range gens {
		if err := writeFile(filepath.Join(dir, name), data, 0o644); err != nil {
			return err
		}
	}
	for _, format := range []string{"deb", "rpm"} {
		if err := b.nfpmPackage(format, dir, bin, ui); err != nil {
			return fmt.Errorf("%s: %w", format, err)
		}
	}
	return b.tarball(dir, bin, ui, setup)
}

// prebuiltOr copies prebuilt to dst, or builds pkg for linux/amd64 there:
// the agent without cgo (it must not link fyne or GL), the window app with.
func (b *builder) prebuiltOr(prebuilt, dst, pkg string, cgo bool) error {
	if prebuilt != "" {
		if err := copyFile(prebuilt, dst, 0o755); err != nil {
			return fmt.Errorf("use prebuilt %s: %w", filepath.Base(dst), err)
		}
		return nil
	}
	err := b.goBuild(pkg, "linux", "amd64", dst, cgo && pkg != StubPkg, nil)
	if err != nil && cgo {
		return fmt.Errorf("%w\n(the window app needs cgo and fyne's headers: apt-get install gcc libgl1-mesa-dev xorg-dev; scripts/package.sh does this)", err)
	}
	return err
}

// LinuxContents lists what the deb and rpm install, from the staging dir.
func LinuxContents(dir string, enroll bool) files.Contents {
	f := func(mode os.FileMode) *files.ContentFileInfo {
		return &files.ContentFileInfo{Mode: mode, Owner: "root", Group: "root"}
	}
	c := files.Contents{
		{Source: filepath.Join(dir, "deskside-agent"), Destination: LinuxBin, FileInfo: f(0o755)},
		{Source: filepath.Join(dir, "deskside-ui"), Destination: LinuxUIBin, FileInfo: f(0o755)},
		{Source: filepath.Join(dir, "deskside.desktop"), Destination: LinuxDesktop, FileInfo: f(0o644)},
		// A conffile, so an admin's edit (e.g. Hidden=true) survives upgrades.
		{Source: filepath.Join(dir, "deskside-agent.desktop"), Destination: LinuxAutostart, Type: files.TypeConfigNoReplace, FileInfo: f(0o644)},
		{Source: filepath.Join(dir, "deskside-agent.service"), Destination: LinuxUnit, FileInfo: f(0o644)},
		{Source: filepath.Join(dir, "deskside.svg"), Destination: LinuxIcon, FileInfo: f(0o644)},
	}
	if enroll {
		c = append(c,
			&files.Content{Destination: "/etc/deskside", Type: files.TypeDir, FileInfo: f(0o755)},
			&files.Content{Source: filepath.Join(dir, "enroll.json"), Destination: enrollconf.SystemPath("linux"),
				Type: files.TypeConfigNoReplace, FileInfo: f(EnrollFileMode)})
	}
	return c
}

func (b *builder) nfpmPackage(format, dir string, bins ...string) error {
	debDeps, rpmDeps, unknown, err := linkedDeps(bins...)
	if err != nil {
		return err
	}
	for _, so := range unknown {
		b.logf("WARNING: the package's binaries link %s, which has no known deb package: add it to debPackageOf in installer/internal/build/linux.go", so)
	}
	info := &nfpm.Info{
		Name:        PackageName,
		Arch:        "amd64",
		Platform:    "linux",
		Version:     b.Version,
		Section:     "utils",
		Priority:    "optional",
		Maintainer:  "Deskside <deskside@example.org>",
		Description: "Deskside help desk agent\nA tray icon that makes IT reachable in one click, and a small agent\nthat keeps the device connected to the organisation's Deskside server.",
		Vendor:      "Deskside",
		Homepage:    "https://github.com/deskside/deskside",
		License:     "Apache-2.0",
		Overridables: nfpm.Overridables{
			Contents: LinuxContents(dir, b.Enroll != nil),
			Scripts: nfpm.Scripts{
				PostInstall: filepath.Join(dir, "postinstall.sh"),
				PostRemove:  filepath.Join(dir, "postremove.sh"),
			},
		},
	}
	if format == "deb" {
		info.Depends = debDeps
	} else {
		info.Depends = rpmDeps
	}
	info = nfpm.WithDefaults(info)
	pkgr, err := nfpm.Get(format)
	if err != nil {
		return err
	}
	name := pkgr.ConventionalFileName(info)
	if format == "rpm" {
		// One name scheme for every artefact.
		name = fmt.Sprintf("%s_%s_linux_amd64.rpm", PackageName, b.Version)
	}
	dst := filepath.Join(b.Out, name)
	f, err := os.Create(dst)
	if err != nil {
		return err
	}
	if err := pkgr.Package(info, f); err != nil {
		f.Close()
		os.Remove(dst)
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	b.add(dst)
	return nil
}

// linkedDeps maps the shared libraries the binaries need to package
// dependencies: those each binary names (DT_NEEDED) and, for the window
// app, those GLFW opens at run time (dlopenedByUI). rpm understands soname
// dependencies directly; deb needs package names. nfpm itself reads no
// binary, so without this the packages would depend on nothing.
func linkedDeps(bins ...string) (deb, rpm, unknown []string, err error) {
	var libs []string
	for _, bin := range bins {
		l, err := neededLibs(bin)
		if err != nil {
			return nil, nil, nil, err
		}
		libs = append(libs, l...)
		if filepath.Base(bin) == "deskside-ui" && len(l) > 0 {
			libs = append(libs, dlopenedByUI...)
		}
	}
	seenSO, seenPkg := map[string]bool{}, map[string]bool{}
	for _, so := range libs {
		if seenSO[so] {
			continue
		}
		seenSO[so] = true
		rpm = append(rpm, so+"()(64bit)")
		p, ok := debPackageOf[so]
		if !ok {
			unknown = append(unknown, so)
			continue
		}
		if !seenPkg[p] {
			seenPkg[p] = true
			deb = append(deb, p)
		}
	}
	sort.Strings(deb)
	sort.Strings(rpm)
	return deb, rpm, unknown, nil
}

// neededLibs lists the shared libraries bin names; none for a static binary.
func neededLibs(bin string) ([]string, error) {
	ef, err := elf.Open(bin)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", filepath.Base(bin), err)
	}
	defer ef.Close()
	libs, err := ef.ImportedLibraries()
	if err != nil {
		return nil, fmt.Errorf("read the libraries of %s: %w", filepath.Base(bin), err)
	}
	return libs, nil
}

// dlopenedByUI are the X11 extension libraries GLFW (fyne's window layer)
// loads with dlopen rather than links, so they are not in deskside-ui's
// DT_NEEDED: go-gl/glfw's build.go asks for them with -l, and the linker's
// --as-needed drops them. Windows still open without some of them, but with
// the wrong cursors or monitor sizes: the packages depend on all of them.
var dlopenedByUI = []string{"libXcursor.so.1", "libXrandr.so.2", "libXinerama.so.1", "libXi.so.6", "libXxf86vm.so.1"}

// debPackageOf names the Debian package of each library the binaries may
// link (fyne's and the C library's).
var debPackageOf = map[string]string{
	"libc.so.6": "libc6", "libpthread.so.0": "libc6", "libdl.so.2": "libc6", "libm.so.6": "libc6", "libresolv.so.2": "libc6",
	"librt.so.1": "libc6",
	"libGL.so.1": "libgl1", "libEGL.so.1": "libegl1", "libX11.so.6": "libx11-6", "libXcursor.so.1": "libxcursor1",
	"libXrandr.so.2": "libxrandr2", "libXinerama.so.1": "libxinerama1", "libXi.so.6": "libxi6",
	"libXxf86vm.so.1": "libxxf86vm1", "libXext.so.6": "libxext6", "libxkbcommon.so.0": "libxkbcommon0",
	"libwayland-client.so.0": "libwayland-client0", "libwayland-cursor.so.0": "libwayland-cursor0",
	"libwayland-egl.so.1": "libwayland-egl1",
}

// tarball is the per-user install: unpack anywhere, run ./deskside-setup user-install.
func (b *builder) tarball(dir, bin, ui, setup string) error {
	dst := filepath.Join(b.Out, fmt.Sprintf("%s_%s_linux_amd64.tar.gz", PackageName, b.Version))
	f, err := os.Create(dst)
	if err != nil {
		return fmt.Errorf("tarball: %w", err)
	}
	defer f.Close()
	zw := gzip.NewWriter(f)
	tw := tar.NewWriter(zw)
	top := fmt.Sprintf("%s_%s_linux_amd64/", PackageName, b.Version)
	entries := []struct {
		name, src string
		mode      int64
	}{{"deskside-agent", bin, 0o755}, {"deskside-ui", ui, 0o755}, {"deskside-setup", setup, 0o755}}
	if b.Enroll != nil {
		entries = append(entries, struct {
			name, src string
			mode      int64
		}{enrollconf.FileName, filepath.Join(dir, "enroll.json"), 0o600})
	}
	now := time.Now().UTC().Truncate(time.Second)
	if err := tw.WriteHeader(&tar.Header{Name: top, Mode: 0o755, Typeflag: tar.TypeDir, ModTime: now}); err != nil {
		return fmt.Errorf("tarball: %w", err)
	}
	for _, e := range entries {
		if err := addTar(tw, top+e.name, e.src, e.mode, now); err != nil {
			return fmt.Errorf("tarball: %w", err)
		}
	}
	if err := tw.Close(); err != nil {
		return fmt.Errorf("tarball: %w", err)
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("tarball: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("tarball: %w", err)
	}
	b.add(dst)
	return nil
}

func addTar(tw *tar.Writer, name, src string, mode int64, mtime time.Time) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	st, err := in.Stat()
	if err != nil {
		return err
	}
	if err := tw.WriteHeader(&tar.Header{Name: name, Mode: mode, Size: st.Size(), ModTime: mtime, Typeflag: tar.TypeReg}); err != nil {
		return err
	}
	_, err = io.Copy(tw, in)
	return err
}

func copyFile(src, dst string, mode os.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
