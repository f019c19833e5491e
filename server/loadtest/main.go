// Command loadtest is Deskside's fleet simulator and benchmark: it starts a
// server (or uses one), enrols and connects N simulated devices spread over
// many 127.x.y.z source addresses and over worker processes of itself,
// signs in simulated technicians, runs the scenarios of docs/benchmarks.md
// and prints a table and writes JSON.
//
//	loadtest [run] [flags]   the coordinator (default); see -help
//	loadtest worker          a shard of devices driven over stdin/stdout (started by run)
//	loadtest server [flags]  the real server wiring plus /debug/pprof and /debug/gc (loopback only)
//
// Every flag has an environment variable: --devices is DESKSIDE_LOADTEST_DEVICES, and so on.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

func main() {
	args := os.Args[1:]
	cmd := "run"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	raiseFileLimit()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	switch cmd {
	case "run":
		err = run(ctx, args)
	case "worker":
		err = worker(ctx, os.Stdin, os.Stdout)
	case "server":
		err = serve(ctx, args)
	default:
		err = fmt.Errorf("unknown command %q; try run, worker or server", cmd)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadtest:", err)
		os.Exit(1)
	}
}

// raiseFileLimit lifts the soft open-files limit to the hard one. Calling
// Setrlimit ourselves (not only the Go runtime's own raise) makes the
// children (server, workers) inherit it.
func raiseFileLimit() {
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err == nil && l.Cur < l.Max {
		l.Cur = l.Max
		_ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l)
	}
}

// flags builds a flag set whose defaults come from DESKSIDE_LOADTEST_* variables.
type flags struct{ *flag.FlagSet }

func envName(name string) string {
	return "DESKSIDE_LOADTEST_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}

func (f flags) str(name, def, usage string) *string {
	if v, ok := os.LookupEnv(envName(name)); ok {
		def = v
	}
	return f.String(name, def, usage+" ($"+envName(name)+")")
}

func (f flags) num(name string, def int, usage string) *int {
	if v, ok := os.LookupEnv(envName(name)); ok {
		_, _ = fmt.Sscan(v, &def)
	}
	return f.Int(name, def, usage+" ($"+envName(name)+")")
}

func (f flags) float(name string, def float64, usage string) *float64 {
	if v, ok := os.LookupEnv(envName(name)); ok {
		_, _ = fmt.Sscan(v, &def)
	}
	return f.Float64(name, def, usage+" ($"+envName(name)+")")
}

func (f flags) dur(name string, def time.Duration, usage string) *time.Duration {
	if v, ok := os.LookupEnv(envName(name)); ok {
		if d, err := time.ParseDuration(v); err == nil {
			def = d
		}
	}
	return f.Duration(name, def, usage+" ($"+envName(name)+")")
}
