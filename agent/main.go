// Command deskside-agent is the Deskside agent: `deskside-agent run` is the
// process that stays up all day (core, local API, tray); the other
// subcommands are small clients of it (`ask`, `requests`, `status`,
// `snapshot`) or one-shot setup (`enrol`).
//
// Plugging in (for the tray/window code in package main, in its own file):
//
//	func init() {
//		startTray = func(ctx context.Context, b agentapi.Backend) error { … }   // `run` calls it unless --headless
//		commands["ui"] = command{summary: "open a window", run: runUI}        // adds `deskside-agent ui …`
//	}
//
// startTray runs in the agent process after the local API is listening,
// with the agent core itself as its backend (the tray calls it directly,
// not through the socket), and must return when ctx is cancelled; an error it returns is logged and the
// agent keeps running headless.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"syscall"

	"github.com/deskside/deskside/agent/agentapi"
	"github.com/deskside/deskside/agent/internal/enroll"
	"github.com/deskside/deskside/agent/internal/location"
)

// command is one subcommand. run gets the arguments after its name.
type command struct {
	summary string
	run     func(ctx context.Context, args []string) error
}

// commands is the subcommand registry; other files in package main add to
// it from init().
var commands = map[string]command{
	"enrol":    {"trade an enrolment code for this computer's credentials", cmdEnroll},
	"run":      {"run the agent (core, local API and tray; --headless for none)", cmdRun},
	"ask":      {`ask IT for help: ask "text" [--category --urgency --screenshot]`, cmdAsk},
	"requests": {"list your requests, or read one with IT's replies: requests [--id ID] [--json]", cmdRequests},
	"status":   {"show whether the agent is connected to IT (--verbose: technical details)", cmdStatus},
	"snapshot": {"print exactly what IT can see about this computer (--json)", cmdSnapshot},
	"version":  {"print the agent and protocol versions", cmdVersion},
}

// startTray, when set (by the tray's file) and `run` is not --headless, is
// started once the local API listens. See the package comment.
var startTray func(ctx context.Context, b agentapi.Backend) error

// verbose is --verbose of the command that ran: errors then show their
// technical cause after the sentence for the user.
var verbose bool

func main() {
	// An agent started elsewhere (make run's, under .deskside/) may have
	// said where it is; see package location.
	location.Apply()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := dispatch(ctx, os.Args[1:])
	stop()
	if errors.Is(err, flag.ErrHelp) {
		return // -h: the command's usage is printed, and asking for it is no failure
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, errorText(err, verbose))
		os.Exit(1)
	}
}

// errorText is the sentence for the user when err has one; with verbose,
// the technical cause follows it.
func errorText(err error, verbose bool) string {
	var ue interface{ UserMessage() string }
	if !errors.As(err, &ue) {
		return err.Error()
	}
	if verbose && err.Error() != ue.UserMessage() {
		return ue.UserMessage() + "\n(details: " + err.Error() + ")"
	}
	return ue.UserMessage()
}

func dispatch(ctx context.Context, args []string) error {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(os.Stdout)
		return nil
	}
	if args[0] == "enroll" {
		args[0] = "enrol"
	}
	c, ok := commands[args[0]]
	if !ok {
		usage(os.Stderr)
		return fmt.Errorf("unknown command %q", args[0])
	}
	return c.run(ctx, args[1:])
}

func usage(w *os.File) {
	fmt.Fprintln(w, "deskside-agent — ask IT for help from your desk.\n\nUsage: deskside-agent <command> [flags]   (deskside-agent <command> -h: its flags)\n\nCommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-9s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w, "\nEvery flag can also be set with an environment variable DESKSIDE_<FLAG> (e.g. DESKSIDE_SERVER).\n"+
		"Also: DESKSIDE_CONFIG_DIR (credentials and history), DESKSIDE_SOCKET (local API), DESKSIDE_ENROLL_FILE.")
}

// newFlags returns a FlagSet whose flags default to DESKSIDE_<NAME> from the
// environment; call envDefaults after defining them.
func newFlags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet("deskside-agent "+name, flag.ContinueOnError)
	fs.String("log-level", "info", "log level: debug (everything), info (connections, saves), warn (trouble), error (failures)")
	fs.BoolVar(&verbose, "verbose", false, "show the technical details of an error")
	fs.Usage = func() {
		syn, ok := synopsis[name]
		if !ok {
			syn = " [flags]"
		}
		fmt.Fprintf(fs.Output(), "Usage: deskside-agent %s%s\n\nFlags:\n", name, syn)
		fs.PrintDefaults()
	}
	return fs
}

// synopsis is what follows a command's name in its usage line.
var synopsis = map[string]string{
	"ask":      ` "what you need help with" [flags]`,
	"enrol":    " --server URL --token TOKEN [flags]",
	"requests": " [--id ID] [--json]",
}

// parse applies environment defaults (DESKSIDE_FLAG_NAME) and then args.
func parse(fs *flag.FlagSet, args []string) error {
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		env := "DESKSIDE_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v, ok := os.LookupEnv(env); ok {
			if e := f.Value.Set(v); e != nil && err == nil {
				err = fmt.Errorf("%s=%q: %w", env, v, e)
			}
			f.DefValue = v
		}
	})
	if err != nil {
		return err
	}
	// Allow flags after positional arguments (ask "text" --urgency blocking).
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return err
		}
		if fs.NArg() == 0 {
			break
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
	return fs.Parse(append([]string{"--"}, pos...))
}

func logger(fs *flag.FlagSet) *slog.Logger {
	var lvl slog.Level
	_ = lvl.UnmarshalText([]byte(fs.Lookup("log-level").Value.String()))
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: lvl}))
}

// paths are where the agent keeps its files.
type paths struct{ dir, creds, db string }

func agentPaths() (paths, error) {
	dir, err := enroll.ConfigDir()
	if err != nil {
		return paths{}, err
	}
	return paths{dir: dir, creds: filepath.Join(dir, "credentials.json"), db: filepath.Join(dir, "agent.db")}, nil
}
