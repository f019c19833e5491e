// Command deskside-ui is Deskside's window app: it draws one fyne window —
// get-help, requests, what-it-sees, news, about, help-articles, heads-up,
// software or software-prompt — talks to the agent
// process over the local API and exits when the window closes. The tray's
// clicks and `deskside-agent ui <view>` start it; it lives apart from the agent so the
// process that runs all day on every desk links neither fyne nor GL.
//
//	deskside-ui <view> [--request ID] [--tab TAB] [--socket PATH]
//
// Flags default to DESKSIDE_<FLAG> from the environment, as the agent's do;
// DESKSIDE_COMPANY_NAME names the help desk.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/deskside/deskside/agent/internal/localapi"
	"github.com/deskside/deskside/agent/internal/location"
	"github.com/deskside/deskside/agent/ui/uiapp"
	"github.com/deskside/deskside/agent/ui/windows"
)

func main() {
	// An agent that keeps its files elsewhere (make run's) may have said
	// where it is; see package location.
	location.Apply()
	if err := run(os.Args[1:], os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, err)
		}
		os.Exit(2)
	}
}

func run(args []string, stderr io.Writer) error {
	views := strings.Join(uiapp.Views, "|")
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			fmt.Fprintf(stderr, "Usage: deskside-ui %s [--request ID] [--tab TAB] [--socket PATH]\n", views)
			return flag.ErrHelp
		}
		return fmt.Errorf("which window? deskside-ui %s", views)
	}
	view := args[0]
	if !uiapp.IsView(view) {
		return fmt.Errorf("no window called %q: deskside-ui %s", view, views)
	}
	fs := flag.NewFlagSet("deskside-ui "+view, flag.ContinueOnError)
	fs.SetOutput(stderr)
	request := fs.String("request", os.Getenv("DESKSIDE_REQUEST"), "in `requests`, show this request")
	tab := fs.String("tab", os.Getenv("DESKSIDE_TAB"), "in `software`, open this tab: get-app, installed or from-it")
	socket := fs.String("socket", os.Getenv("DESKSIDE_SOCKET"), "local API socket or pipe (default: the user's runtime dir)")
	fs.String("log-level", os.Getenv("DESKSIDE_LOG_LEVEL"), "accepted for the agent's sake; the window logs nothing")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected %q after the flags", fs.Arg(0))
	}
	if err := uiapp.CheckDisplay(view); err != nil {
		return err
	}
	return windows.Run(view, localapi.NewClient(*socket), windows.Options{
		Request:  *request,
		Tab:      *tab,
		HelpDesk: strings.TrimSpace(os.Getenv("DESKSIDE_COMPANY_NAME")),
	})
}
