package inventory

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/deskside/deskside/shared/protocol"
)

// flatpakDeploy lays out one Flatpak app as flatpak does: app/<id>/current
// → x86_64/stable, its active → the commit's deploy.
func flatpakDeploy(t *testing.T, base, id, metadata string, files map[string]string) {
	t.Helper()
	app := filepath.Join(base, id)
	deploy := filepath.Join(app, "x86_64", "stable", "0123abcd")
	writeFile(t, filepath.Join(deploy, "metadata"), metadata)
	for rel, text := range files {
		writeFile(t, filepath.Join(deploy, filepath.FromSlash(rel)), text)
	}
	must(t, os.Symlink("x86_64/stable", filepath.Join(app, "current")))
	must(t, os.Symlink("0123abcd", filepath.Join(app, "x86_64", "stable", "active")))
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

const notesMetainfo = `<?xml version="1.0" encoding="UTF-8"?>
<component type="desktop-application">
  <id>org.example.Notes</id>
  <name>Notes</name>
  <name xml:lang="de">Notizen</name>
  <developer id="org.example"><name>Example Foundation</name></developer>
  <releases>
    <release version="2.4.1" date="2026-10-01"/>
    <release version="2.4.0" date="2026-08-01"/>
  </releases>
</component>`

// userFixture builds a root with a system Flatpak and an overridden system
// entry, and a home with a user Flatpak, desktop entries and AppImages.
func userFixture(t *testing.T) (root, home string) {
	root, home = t.TempDir(), t.TempDir()
	flatpakDeploy(t, filepath.Join(root, "var/lib/flatpak/app"), "org.gimp.GIMP",
		"[Application]\nname=org.gimp.GIMP\nruntime=org.gnome.Platform/x86_64/46\n",
		map[string]string{
			"export/share/applications/org.gimp.GIMP.desktop": "[Desktop Entry]\nType=Application\nName=GNU Image Manipulation Program\nName[de]=GIMP\nExec=/usr/bin/flatpak run org.gimp.GIMP %U\nX-Flatpak=org.gimp.GIMP\n",
			"files/share/metainfo/org.gimp.GIMP.metainfo.xml": `<component><name>GIMP</name><developer_name>The GIMP Team</developer_name><releases><release version="2.10.38"/></releases></component>`,
		})
	// A runtime that wandered into app/ is not an app; nor is an app
	// without an active deploy (being installed).
	flatpakDeploy(t, filepath.Join(root, "var/lib/flatpak/app"), "org.example.Runtime", "[Runtime]\nname=org.example.Runtime\n", nil)
	writeFile(t, filepath.Join(root, "var/lib/flatpak/app/org.example.Half/x86_64/stable/x/metadata"), "[Application]\nname=org.example.Half\n")
	flatpakDeploy(t, filepath.Join(home, ".local/share/flatpak/app"), "org.example.Notes",
		"[Application]\nname=org.example.Notes\n",
		map[string]string{
			"export/share/applications/org.example.Notes.desktop": "[Desktop Entry]\nType=Application\nName=Example Notes\n",
			"files/share/metainfo/org.example.Notes.metainfo.xml": notesMetainfo,
		})
	writeFile(t, filepath.Join(root, "usr/share/applications/firefox.desktop"), "[Desktop Entry]\nName=Firefox\n")

	apps := filepath.Join(home, ".local/share/applications")
	desktop := map[string]string{
		"mytool.desktop":      "# My tool, installed from a tarball\n[Desktop Entry]\nType=Application\nName=C# Studio; Pro\nName[fr]=Studio\nExec=\"/home/ana/opt/my tool/bin/studio\" --new %F\nVersion=1.5\n\n[Desktop Action new]\nName=New\nExec=studio --new\n",
		"hidden.desktop":      "[Desktop Entry]\nType=Application\nName=Helper\nNoDisplay=true\nExec=helper\n",
		"gone.desktop":        "[Desktop Entry]\nType=Application\nName=Removed\nHidden=true\n",
		"link.desktop":        "[Desktop Entry]\nType=Link\nName=Intranet\nURL=https://intranet.example\n",
		"noname.desktop":      "[Desktop Entry]\nType=Application\nExec=x\n",
		"firefox.desktop":     "[Desktop Entry]\nType=Application\nName=Firefox (my flags)\nExec=firefox --private\n",
		"flatpak-app.desktop": "[Desktop Entry]\nType=Application\nName=Exported\nExec=flatpak run com.example.App\n",
		"snap-app.desktop":    "[Desktop Entry]\nType=Application\nName=Snapped\nExec=env BAMF_DESKTOP_FILE_HINT=/var/lib/snapd/desktop/applications/x_x.desktop /snap/bin/x %U\n",
		"appimagekit_0c1d-Obsidian.desktop": "[Desktop Entry]\nType=Application\nName=Obsidian\nExec=\"" + filepath.Join(home, "Applications/Obsidian-1.5.3.AppImage") +
			"\" %U\nX-AppImage-Version=1.5.3\n",
		"wine/Programs/Notepad++/Notepad++.desktop": "[Desktop Entry]\nName=Notepad++\nExec=env WINEPREFIX=\"/home/ana/.wine\" wine C:\\\\Program\\ Files\\\\Notepad++\\\\notepad++.exe\nType=Application\n",
		"notes.txt": "not an entry",
	}
	for rel, text := range desktop {
		writeFile(t, filepath.Join(apps, filepath.FromSlash(rel)), text)
	}

	writeFile(t, filepath.Join(home, "Applications/Obsidian-1.5.3.AppImage"), "\x7fELF\x02\x01\x01\x00AI\x02 rest of an AppImage")
	writeFile(t, filepath.Join(home, "Apps/MuseScore-Studio-4.2.1.240230938-x86_64.AppImage"), "ELF-ish, named as an AppImage")
	writeFile(t, filepath.Join(home, ".local/bin/nvim"), "\x7fELF\x02\x01\x01\x00AI\x02 renamed AppImage")
	writeFile(t, filepath.Join(home, ".local/bin/script"), "#!/bin/sh\necho not an AppImage\n")
	writeFile(t, filepath.Join(home, ".local/bin/ls"), "\x7fELF\x02\x01\x01\x00\x00\x00\x00 an ordinary program")
	return root, home
}

func TestUserAppsFixture(t *testing.T) {
	root, home := userFixture(t)
	rep := Collect(context.Background(), linuxAt(root, home))
	if len(rep.Failed) != 0 {
		t.Fatalf("failed: %v", rep.Failed)
	}
	// dpkg, rpm and snap are not there: absent, neither read nor failed.
	wantRead := []protocol.SoftwareSource{protocol.SourceFlatpak, protocol.SourceAppImage, protocol.SourceDesktop}
	if !slices.Equal(rep.Read, wantRead) {
		t.Fatalf("read %v, want %v", rep.Read, wantRead)
	}
	want := []protocol.SoftwareEntry{
		{Name: "C# Studio; Pro", Source: protocol.SourceDesktop, PerUser: true, AppID: "mytool"},
		{Name: "Example Notes", Version: "2.4.1", Publisher: "Example Foundation", Source: protocol.SourceFlatpak, PerUser: true, AppID: "org.example.Notes"},
		{Name: "GNU Image Manipulation Program", Version: "2.10.38", Publisher: "The GIMP Team", Source: protocol.SourceFlatpak, AppID: "org.gimp.GIMP"},
		{Name: "MuseScore Studio", Version: "4.2.1.240230938", Source: protocol.SourceAppImage, PerUser: true, AppID: "MuseScore-Studio-4.2.1.240230938-x86_64.AppImage"},
		{Name: "Notepad++", Source: protocol.SourceDesktop, PerUser: true, AppID: "wine-Programs-Notepad++-Notepad++"},
		{Name: "Obsidian", Version: "1.5.3", Source: protocol.SourceAppImage, PerUser: true, AppID: "Obsidian-1.5.3.AppImage"},
		{Name: "nvim", Source: protocol.SourceAppImage, PerUser: true, AppID: "nvim"},
	}
	if !slices.Equal(rep.Entries, want) {
		t.Fatalf("entries:\n%s\nwant:\n%s", dump(rep.Entries), dump(want))
	}
}

// TestDesktopFolderSymlink: ~/.local/share/applications kept elsewhere (a
// dotfile manager's symlink) is read the same.
func TestDesktopFolderSymlink(t *testing.T) {
	root, home := userFixture(t)
	want := Collect(context.Background(), linuxAt(root, home)).Entries
	apps := filepath.Join(home, ".local/share/applications")
	moved := filepath.Join(home, "dotfiles", "applications")
	must(t, os.MkdirAll(filepath.Dir(moved), 0o755))
	must(t, os.Rename(apps, moved))
	must(t, os.Symlink(moved, apps))
	if got := Collect(context.Background(), linuxAt(root, home)).Entries; !slices.Equal(got, want) {
		t.Fatalf("through a symlink:\n%s\nwant:\n%s", dump(got), dump(want))
	}
}

func dump(es []protocol.SoftwareEntry) string {
	var b strings.Builder
	for _, e := range es {
		b.WriteString("  ")
		b.WriteString(strings.Join([]string{e.Name, e.Version, e.Publisher, string(e.Source), e.AppID}, " | "))
		if e.PerUser {
			b.WriteString(" | per user")
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// TestUserAppsUnreadable: an unreadable applications folder fails the
// desktop source only; the others are still read.
func TestUserAppsUnreadable(t *testing.T) {
	root, home := userFixture(t)
	apps := filepath.Join(home, ".local/share/applications")
	must(t, os.RemoveAll(apps))
	writeFile(t, apps, "a file where a folder belongs")
	rep := Collect(context.Background(), linuxAt(root, home))
	if len(rep.Failed) != 0 || slices.Contains(rep.Read, protocol.SourceDesktop) {
		t.Fatalf("a file in place of the folder is no folder: absent; got %+v", rep)
	}
	// A symlink loop is there but cannot be read, even by root.
	must(t, os.Remove(apps))
	must(t, os.Symlink("applications", apps))
	assertFailed(t, Collect(context.Background(), linuxAt(root, home)), protocol.SourceDesktop)

	must(t, os.Remove(apps))
	must(t, os.MkdirAll(apps, 0o755))
	must(t, os.Chmod(apps, 0))
	t.Cleanup(func() { _ = os.Chmod(apps, 0o755) })
	if _, err := os.ReadDir(apps); err == nil {
		t.Skip("this user reads folders without permission (root)")
	}
	rep = Collect(context.Background(), linuxAt(root, home))
	assertFailed(t, rep, protocol.SourceDesktop)
}

func TestSnap(t *testing.T) {
	root := t.TempDir()
	snap := func(name, yaml string) {
		writeFile(t, filepath.Join(root, "snap", name, "1234", "meta", "snap.yaml"), yaml)
		must(t, os.Symlink("1234", filepath.Join(root, "snap", name, "current")))
	}
	snap("spotify", "name: spotify\nversion: 1.2.31.1205.g4d59ad7c\nsummary: Music for everyone\napps:\n  spotify:\n    command: spotify.wrapper\n")
	snap("code", "name: code\nversion: '1.95'\ntype: app\n")
	snap("numeric", "name: numeric\nversion: 1.10\n")
	snap("core22", "name: core22\nversion: '20240111'\ntype: base\n")
	snap("core", "name: core\nversion: '16-2.61'\ntype: os\n")
	snap("snapd", "name: snapd\nversion: '2.61'\ntype: snapd\n")
	snap("gnome-42-2204", "name: gnome-42-2204\nversion: 0+git\n") // a content snap is still listed: it is what a person installed with an app
	snap("broken", "name: [unclosed\n")
	must(t, os.MkdirAll(filepath.Join(root, "snap", "bin"), 0o755))
	rep := Collect(context.Background(), linuxAt(root, t.TempDir()))
	want := []protocol.SoftwareEntry{
		{Name: "code", Version: "1.95", Source: protocol.SourceSnap, AppID: "code"},
		{Name: "gnome-42-2204", Version: "0+git", Source: protocol.SourceSnap, AppID: "gnome-42-2204"},
		{Name: "numeric", Version: "1.10", Source: protocol.SourceSnap, AppID: "numeric"},
		{Name: "spotify", Version: "1.2.31.1205.g4d59ad7c", Source: protocol.SourceSnap, AppID: "spotify"},
	}
	if !slices.Equal(rep.Entries, want) || !slices.Equal(rep.Read, []protocol.SoftwareSource{protocol.SourceSnap}) {
		t.Fatalf("entries:\n%s\nwant:\n%s\nread %v failed %v", dump(rep.Entries), dump(want), rep.Read, rep.Failed)
	}
	// /snap with nothing mounted in it: snapd was here once; absent.
	empty := t.TempDir()
	must(t, os.MkdirAll(filepath.Join(empty, "snap", "bin"), 0o755))
	if rep := Collect(context.Background(), linuxAt(empty, t.TempDir())); len(rep.Read) != 0 || len(rep.Failed) != 0 {
		t.Fatalf("empty /snap: %+v", rep)
	}
}

func TestRPM(t *testing.T) {
	root := t.TempDir()
	writeFile(t, filepath.Join(root, "var/lib/rpm/rpmdb.sqlite"), "sqlite")
	out := "bash\t5.2.26-3.fc40\tFedora Project\tx86_64\n" +
		"gpg-pubkey\ta15b79cc-63d04c2c\t(none)\t(none)\n" +
		"glibc\t2.39-22.fc40\tFedora Project\ti686\n" +
		"tzdata\t1:2024a-5.fc40\t(none)\tnoarch\n" +
		"\n\tno name\n"
	var gotArgs []string
	o := linuxAt(root, t.TempDir())
	o.Run = func(_ context.Context, name string, args ...string) ([]byte, error) {
		gotArgs = append([]string{name}, args...)
		return []byte(out), nil
	}
	rep := Collect(context.Background(), o)
	want := []protocol.SoftwareEntry{
		{Name: "bash", Version: "5.2.26-3.fc40", Publisher: "Fedora Project", Source: protocol.SourceRPM, AppID: "bash.x86_64"},
		{Name: "glibc", Version: "2.39-22.fc40", Publisher: "Fedora Project", Source: protocol.SourceRPM, AppID: "glibc.i686"},
		{Name: "tzdata", Version: "1:2024a-5.fc40", Source: protocol.SourceRPM, AppID: "tzdata"},
	}
	if !slices.Equal(rep.Entries, want) {
		t.Fatalf("entries:\n%s\nwant:\n%s", dump(rep.Entries), dump(want))
	}
	if len(gotArgs) < 4 || gotArgs[0] != "rpm" || gotArgs[1] != "-qa" || !slices.Contains(gotArgs, "--root") {
		t.Fatalf("ran %q", gotArgs)
	}

	o.Run = noTools
	if rep := Collect(context.Background(), o); len(rep.Read) != 0 || len(rep.Failed) != 0 {
		t.Fatalf("no rpm binary: absent, got %+v", rep)
	}
	o.Run = func(context.Context, string, ...string) ([]byte, error) { return nil, errors.New("rpmdb: locked") }
	assertFailed(t, Collect(context.Background(), o), protocol.SourceRPM)
	// rpm installed on Debian, with no database: absent, rpm not run.
	o.Root = t.TempDir()
	if rep := Collect(context.Background(), o); len(rep.Read) != 0 || len(rep.Failed) != 0 {
		t.Fatalf("no rpm database: absent, got %+v", rep)
	}
}

func TestAppImageName(t *testing.T) {
	for _, c := range []struct{ file, name, version string }{
		{"Obsidian-1.5.3.AppImage", "Obsidian", "1.5.3"},
		{"balenaEtcher-1.18.11-x64.AppImage", "balenaEtcher", "1.18.11"},
		{"FreeCAD_0.21.2-Linux-x86_64.AppImage", "FreeCAD", "0.21.2"},
		{"MuseScore-Studio-4.2.1.240230938-x86_64.AppImage", "MuseScore Studio", "4.2.1.240230938"},
		{"krita-5.2.2-x86_64.appimage", "krita", "5.2.2"},
		{"LM-Studio-0.3.5-2-x64.AppImage", "LM Studio", "0.3.5-2"},
		{"Joplin-v2.13.4.AppImage", "Joplin", "2.13.4"},
		{"appimagetool-x86_64.AppImage", "appimagetool", ""},
		{"nvim.appimage", "nvim", ""},
		{"Cursor-0.42.3-aarch64.AppImage", "Cursor", "0.42.3"},
		{"nvim", "nvim", ""},
	} {
		name, version := appImageName(c.file)
		if name != c.name || version != c.version {
			t.Errorf("%s: %q %q, want %q %q", c.file, name, version, c.name, c.version)
		}
	}
}

func TestExecProgram(t *testing.T) {
	for _, c := range []struct{ exec, want string }{
		{`"/home/ana/Applications/My App.AppImage" %U`, "/home/ana/Applications/My App.AppImage"},
		{`env GDK_BACKEND=x11 FOO="a b" /opt/app/run --flag`, "/opt/app/run"},
		{`/usr/bin/env A=1 "/x/y z"`, "/x/y z"},
		{`"/path/with \"quote\"" arg`, `/path/with "quote"`},
		{`   `, ""},
		{`env`, ""},
	} {
		if got := execProgram(c.exec); got != c.want {
			t.Errorf("%s: %q, want %q", c.exec, got, c.want)
		}
	}
}

// FuzzDesktopEntry: any .desktop bytes parse without panic, and an entry
// desktopApp lists has a name, the desktop source and is per user.
func FuzzDesktopEntry(f *testing.F) {
	f.Add([]byte("[Desktop Entry]\nType=Application\nName=C# Studio; Pro\nExec=\"/opt/x y/z\" %F\n"))
	f.Add([]byte("[Desktop Entry]\nName=`multi\nline`\nExec=env A=1 flatpak run x\nX-Flatpak=x\n"))
	f.Add([]byte("[Desktop Entry\nName=\"\"\"\n[Desktop Entry]\nName=\xff\x00\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		e, ok := desktopApp(b, map[string]bool{"/a.appimage": true, "a.appimage": true})
		if !ok {
			return
		}
		if strings.TrimSpace(e.Name) == "" || e.Source != protocol.SourceDesktop || !e.PerUser {
			t.Fatalf("entry %+v", e)
		}
		norm, _ := protocol.NormalizeSoftware([]protocol.SoftwareEntry{e})
		for _, n := range norm {
			if err := n.Validate(); err != nil {
				t.Fatalf("%+v: %v", n, err)
			}
		}
	})
}

// FuzzMetainfo: any metainfo bytes parse without panic, and a version that
// comes out is one the file held.
func FuzzMetainfo(f *testing.F) {
	f.Add([]byte(notesMetainfo))
	f.Add([]byte(`<component><releases><release version="1"/></releases></component>`))
	f.Add([]byte(`<!DOCTYPE x [<!ENTITY a "aaaa">]><component><name>&a;&a;</name></component>`))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := parseMetainfo(b)
		if err != nil {
			return
		}
		if m.Version != "" && !strings.Contains(string(b), "release") {
			t.Fatalf("version %q from a file without a release", m.Version)
		}
	})
}

// FuzzSnapYAML: any snap.yaml parses without panic; a listed snap has a
// name and is never a platform snap.
func FuzzSnapYAML(f *testing.F) {
	f.Add([]byte("name: spotify\nversion: 1.2\n"))
	f.Add([]byte("name: core22\ntype: base\n"))
	f.Add([]byte("a: &a [*a, *a]\nname: *a\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		e, ok := parseSnapYAML(b)
		if !ok {
			return
		}
		if strings.TrimSpace(e.Name) == "" || e.Source != protocol.SourceSnap || snapPlatform[e.Name] || e.AppID != e.Name {
			t.Fatalf("entry %+v", e)
		}
	})
}

// FuzzRPMOutput: whatever rpm prints, entries have names and the rpm
// source, and never a gpg-pubkey.
func FuzzRPMOutput(f *testing.F) {
	f.Add([]byte("bash\t5.2-1\tFedora\tx86_64\ngpg-pubkey\t1-2\t(none)\t(none)\n"))
	f.Add([]byte("\t\t\t\n\n\x00\tx"))
	f.Fuzz(func(t *testing.T, b []byte) {
		got, _ := parseRPMOutput(b)
		for _, e := range got {
			if strings.TrimSpace(e.Name) == "" || e.Source != protocol.SourceRPM || e.Name == "gpg-pubkey" {
				t.Fatalf("entry %+v", e)
			}
		}
	})
}

// FuzzAppImageName: a file name always gives a name or nothing, never a
// version without a name, and both come from the file name itself.
func FuzzAppImageName(f *testing.F) {
	f.Add("MuseScore-Studio-4.2.1.240230938-x86_64.AppImage")
	f.Add("-1.0.AppImage")
	f.Add("x86_64")
	f.Fuzz(func(t *testing.T, file string) {
		name, version := appImageName(file)
		if name == "" && version != "" {
			t.Fatalf("%q: version %q without a name", file, version)
		}
		if version != "" && !strings.Contains(file, version) {
			t.Fatalf("%q: version %q is not in the name", file, version)
		}
		for _, w := range strings.Fields(name) {
			if !strings.Contains(file, w) {
				t.Fatalf("%q: name %q is not made of the file's words", file, name)
			}
		}
	})
}
