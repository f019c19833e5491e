// Command stubagent stands in for the Deskside agent while agent/ has no
// main package, so the packages can be built and tested end to end. It is
// packaged only with `installer build --allow-stub`, and says so when run.
// It implements the part of the agent's CLI that the installer relies on:
//
//	deskside-agent version          prints the version
//	deskside-agent enrol --dry-run  prints the enrolment config it would use
//	deskside-agent run              waits until stopped
//	deskside-agent ui --which       prints where the window app is (next to it)
//
// It also stands in for the window app, deskside-ui: it answers `<view>`
// with a message.
package main

import (
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"

	"github.com/deskside/deskside/shared/enrollconf"
	"github.com/deskside/deskside/shared/version"
)

func main() {
	cmd := ""
	if len(os.Args) > 1 {
		cmd = os.Args[1]
	}
	switch cmd {
	case "version":
		fmt.Println("deskside-agent", version.Version, "(installer stub: agent/ had no main package at build time)")
	case "enrol":
		if len(os.Args) < 3 || os.Args[2] != "--dry-run" {
			fmt.Fprintln(os.Stderr, "stub agent: only `enrol --dry-run` is implemented")
			os.Exit(2)
		}
		c, path, err := enrollconf.Find(runtime.GOOS)
		if err != nil {
			fmt.Fprintln(os.Stderr, "deskside-agent:", err)
			os.Exit(1)
		}
		fmt.Printf("enrol config: %s\nserver: %s\ntoken: ok\npinned: %t\n", path, c.Server, c.Pin != "")
	case "ui":
		exe, err := os.Executable()
		if err == nil {
			exe, err = filepath.EvalSymlinks(exe)
		}
		ui := filepath.Join(filepath.Dir(exe), "deskside-ui")
		if _, serr := os.Stat(ui); err != nil || serr != nil {
			fmt.Fprintln(os.Stderr, "stub agent: the window app is not next to the agent")
			os.Exit(1)
		}
		fmt.Println(ui)
	case "get-help", "requests", "what-it-sees", "news", "about":
		fmt.Println("stub window app: no window was built into this package")
	case "run":
		fmt.Fprintln(os.Stderr, "stub agent: running (no agent was built into this package)")
		ch := make(chan os.Signal, 1)
		signal.Notify(ch, os.Interrupt)
		<-ch
	default:
		fmt.Fprintln(os.Stderr, "stub agent: usage: deskside-agent version | enrol --dry-run | run")
		os.Exit(2)
	}
}
