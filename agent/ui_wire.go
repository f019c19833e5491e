package main

// Wiring of the tray (in the agent process) and of `deskside-agent ui <view>`, which
// hands over to the window app, the separate deskside-ui program
// (agent/cmd/deskside-ui). The agent must not link fyne: it runs all day on
// every desk, and fyne brings GL, X11 and ~25 MB of resident pages with it
// (deps_test.go checks). The UI lives in agent/ui; this file only plugs it in.

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/deskside/deskside/agent/agentapi"
	"github.com/deskside/deskside/agent/ui/hotkey"
	"github.com/deskside/deskside/agent/ui/tray"
	"github.com/deskside/deskside/agent/ui/uiapp"
)

func init() {
	startTray = runTray
	commands["ui"] = command{
		summary: "open a window: ui " + strings.Join(uiapp.Views, "|") + " [--request ID] [--tab TAB]",
		run:     cmdUI,
	}
}

// runHotkey is the global shortcut that opens "Get help", from `deskside-agent run
// --hotkey` or DESKSIDE_HOTKEY; a bad value stops `run` at start with the
// parser's reason.
var runHotkey = hotkey.Default

// addUIFlags adds the tray's flags to `deskside-agent run`.
func addUIFlags(fs *flag.FlagSet) {
	runHotkey = hotkey.Default
	fs.Var(&runHotkey, "hotkey", `global shortcut that opens Get help, like ctrl+alt+h or ctrl+shift+f1; "off" for none`)
}

// runTray runs the tray over the agent core b until ctx ends. Quit in the menu stops the whole
// agent for this session, as the user asked.
func runTray(ctx context.Context, b agentapi.Backend) error {
	err := tray.Run(ctx, b, tray.Options{Brand: branding(), Log: slog.Default(), Hotkey: runHotkey})
	if errors.Is(err, tray.ErrQuit) {
		stopAgent()
		return nil
	}
	return err
}

// stopAgent asks this process to stop as Ctrl+C would, so the agent closes
// its store cleanly; where a process cannot signal itself, it just exits.
func stopAgent() {
	p, err := os.FindProcess(os.Getpid())
	if err == nil {
		err = p.Signal(os.Interrupt)
	}
	if err != nil {
		os.Exit(0)
	}
}

// branding reads the optional company look: DESKSIDE_COMPANY_NAME,
// DESKSIDE_HELP_URL and DESKSIDE_ICON (a PNG file).
func branding() tray.Branding {
	b := tray.Branding{
		CompanyName: strings.TrimSpace(os.Getenv("DESKSIDE_COMPANY_NAME")),
		HelpURL:     strings.TrimSpace(os.Getenv("DESKSIDE_HELP_URL")),
	}
	if p := os.Getenv("DESKSIDE_ICON"); p != "" {
		if data, err := os.ReadFile(p); err == nil {
			b.Icon = data
		}
	}
	return b
}

// cmdUI opens a window: it becomes the window app (deskside-ui) with the
// same arguments and environment, which draws the window, talks to the agent
// process over the local API and exits when the window closes.
//
// `deskside-agent ui --which` (not in the usage) prints where the window app was
// found, or fails as opening a window would: the installers' tests check
// with it that a package puts deskside-ui where the agent looks.
func cmdUI(_ context.Context, args []string) error {
	if len(args) == 1 && args[0] == "--which" {
		p, err := uiapp.Find()
		if err != nil {
			return err
		}
		fmt.Println(p)
		return nil
	}
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		return fmt.Errorf("which window? deskside-agent ui %s", strings.Join(uiapp.Views, "|"))
	}
	if !uiapp.IsView(args[0]) {
		return fmt.Errorf("no window called %q: deskside-agent ui %s", args[0], strings.Join(uiapp.Views, "|"))
	}
	if err := uiapp.CheckDisplay(args[0]); err != nil {
		return err
	}
	return uiapp.Exec(args)
}
