package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/deskside/deskside/server/loadtest/sim"
)

// run is the coordinator: server, workers, technicians, scenarios.
func run(ctx context.Context, args []string) error {
	f := flags{flag.NewFlagSet("run", flag.ExitOnError)}
	devices := f.num("devices", 1000, "simulated devices")
	perWorker := f.num("per-worker", 4000, "devices per worker process (each process stays well under 20,000 open files)")
	inProcess := f.num("in-process-max", 1000, "up to this many devices run in the coordinator itself, without workers")
	serverBin := f.str("server-bin", "self", `server to start: a path to the built server binary, or "self" (this program's server mode, which adds /debug/pprof and /debug/gc)`)
	serverURL := f.str("server-url", "", "use a running server instead of starting one (no storm, no forced GC); needs --token, --admin-email, --admin-password")
	data := f.str("data", "", "server data directory (default: a fresh temporary one)")
	addr := f.str("addr", "127.0.0.1:18080", "loopback address for the server this program starts")
	token := f.str("token", "", "enrolment token (default: made through the admin REST API)")
	email := f.str("admin-email", "loadtest@example.com", "technician account (created on a fresh server)")
	password := f.str("admin-password", "loadtest-password-1", "its password")
	out := f.str("results", "results/loadtest.json", "where the JSON results go")
	scenarios := f.str("scenarios", strings.Join(sim.DefaultScenarios, ","), "comma-separated: "+strings.Join(sim.AllScenarios, ","))
	hold := f.dur("hold", 60*time.Second, "idle hold duration")
	ping := f.dur("ping-interval", 60*time.Second, "server ping interval (for a server this program starts)")
	telem := f.float("telemetry-rate", 1000, "background telemetry frames per second (device → console, in memory)")
	probes := f.float("probe-rate", 20, "stored request probes per second (device → technician → device)")
	loadFor := f.dur("load-for", 20*time.Second, "duration of each load phase (route, slow A, slow B)")
	slowFrac := f.float("slow-fraction", 0.01, "fraction of devices that stop reading in the slow scenario")
	pushes := f.num("slow-pushes", 10, "messages sent to each slow device per phase")
	pushBytes := f.num("push-bytes", 8000, "size of each of those messages")
	stormTimeout := f.dur("storm-timeout", 180*time.Second, "how long the storm waits for every device")
	perIP := f.num("per-source-ip", 500, "devices per 127.x.y.z source address")
	backoff := f.dur("backoff-base", time.Second, "reconnect backoff base (full jitter over min(60 s, base·2^n), as the agent)")
	profBroadcast := f.str("profile-broadcast", "", "save a 3 s CPU profile of the server (server-bin self) taken across the broadcast to this file")
	broadcasts := f.num("broadcasts", 1, "announcements the broadcast scenario sends, one after another")
	swWindow := f.dur("software-window", 180*time.Second, "window within which every device sends its first software inventory (scenario software)")
	_ = f.Parse(args)

	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	if err := os.MkdirAll(filepath.Dir(*out), 0o755); err != nil {
		return fmt.Errorf("results directory: %w", err)
	}
	var target sim.Target
	setupToken := ""
	credsDir := ""
	if *serverURL != "" {
		target = remoteTarget{url: strings.TrimRight(*serverURL, "/")}
	} else {
		dir := *data
		if dir == "" {
			tmp, err := os.MkdirTemp("", "deskside-loadtest-")
			if err != nil {
				return fmt.Errorf("data directory: %w", err)
			}
			defer os.RemoveAll(tmp)
			dir = tmp
		}
		credsDir = dir
		logf, err := os.Create(strings.TrimSuffix(*out, ".json") + ".server.log")
		if err != nil {
			return fmt.Errorf("server log: %w", err)
		}
		defer logf.Close()
		p := &serverProc{bin: *serverBin, data: dir, addr: *addr, ping: *ping, log: logf}
		log.Info("starting server", "bin", *serverBin, "addr", *addr, "data", dir)
		if err := p.start(ctx); err != nil {
			return err
		}
		defer p.stop()
		target = p
		if b, err := os.ReadFile(filepath.Join(dir, "setup-token")); err == nil {
			setupToken = strings.TrimSpace(string(b))
		}
	}
	var techs []*sim.Tech
	for i := range 2 {
		st := ""
		if i == 0 {
			st = setupToken
		}
		t, err := sim.SetupAndLogin(ctx, target.URL(), st, *email, *password)
		if err != nil {
			return err
		}
		if err := t.Open(ctx, 8); err != nil {
			return err
		}
		defer t.Close()
		techs = append(techs, t)
	}
	tok := *token
	if tok == "" {
		var err error
		if tok, err = techs[0].CreateToken(ctx); err != nil {
			return err
		}
	}
	shards, err := startShards(*devices, *perWorker, *inProcess, target.URL(), credsDir, *perIP, *backoff, log)
	if err != nil {
		return err
	}
	defer func() {
		for _, s := range shards {
			_ = s.Close()
		}
	}()
	log.Info("fleet", "devices", *devices, "shards", len(shards))
	r := &sim.Runner{Target: target, Shards: shards, Techs: techs, Out: os.Stdout, Cfg: sim.RunConfig{Devices: *devices,
		Scenarios: strings.Split(*scenarios, ","), Hold: *hold, TelemetryRate: *telem, ProbeRate: *probes, LoadFor: *loadFor,
		SlowFraction: *slowFrac, SlowPushes: *pushes, PushBytes: *pushBytes, StormTimeout: *stormTimeout, Token: tok,
		ProfileBroadcast: *profBroadcast, Broadcasts: *broadcasts, SoftwareWindow: *swWindow}}
	rep, runErr := r.Run(ctx)
	if rep != nil {
		if err := rep.Save(*out); err != nil {
			return err
		}
		fmt.Printf("\n== all\n")
		rep.Print(os.Stdout, "")
		for _, f := range rep.Failures {
			fmt.Println("FAILURE:", f)
		}
		fmt.Println("\nresults:", *out)
	}
	return runErr
}

// startShards puts small fleets in this process and spreads big ones over
// worker processes of perWorker devices each.
func startShards(n, perWorker, inProcess int, url, credsDir string, perIP int, backoff time.Duration, log *slog.Logger) ([]sim.Shard, error) {
	cfg := func(first, count int) sim.FleetConfig {
		c := sim.FleetConfig{URL: url, First: first, Count: count, PerSourceIP: perIP, BackoffBase: backoff, Log: log}
		if credsDir != "" {
			c.CredsFile = filepath.Join(credsDir, fmt.Sprintf("sim-creds-%d-%d.json", first, count))
		}
		return c
	}
	if n <= inProcess {
		return []sim.Shard{sim.LocalShard{F: sim.NewFleet(cfg(0, n))}}, nil
	}
	k := (n + perWorker - 1) / perWorker
	var shards []sim.Shard
	for i := range k {
		first, last := i*n/k, (i+1)*n/k
		w, err := startWorker(cfg(first, last-first))
		if err != nil {
			for _, s := range shards {
				_ = s.Close()
			}
			return nil, err
		}
		shards = append(shards, w)
	}
	return shards, nil
}
