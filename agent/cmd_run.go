package main

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"runtime/debug"
	"sync"
	"time"

	"github.com/deskside/deskside/agent/internal/checks"
	"github.com/deskside/deskside/agent/internal/core"
	"github.com/deskside/deskside/agent/internal/enroll"
	"github.com/deskside/deskside/agent/internal/localapi"
	"github.com/deskside/deskside/agent/internal/location"
	"github.com/deskside/deskside/agent/internal/store"
	"github.com/deskside/deskside/agent/internal/sysinfo"
	"github.com/deskside/deskside/shared/enrollconf"
	"github.com/deskside/deskside/shared/version"
)

func cmdRun(ctx context.Context, args []string) error {
	fs := newFlags("run")
	headless := fs.Bool("headless", false, "run without the tray icon")
	socket := fs.String("socket", "", "local API socket or pipe (default: the user's runtime dir)")
	pointCLI := fs.Bool("point-cli", false, "while running, let plain deskside-agent commands (and deskside-ui) find this agent "+
		"although it keeps its files elsewhere (DESKSIDE_CONFIG_DIR, --socket); make run uses it")
	uf := addUpdateFlags(fs)
	addUIFlags(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := checkUpdateTrust(*uf.key, *uf.channel); err != nil {
		return err
	}
	log := logger(fs)
	p, err := agentPaths()
	if err != nil {
		return err
	}
	st, err := store.Open(p.db, store.Options{})
	if err != nil {
		return err
	}
	defer st.Close()
	creds, err := enroll.Load(p.creds)
	if err != nil && !errors.Is(err, enroll.ErrNotEnrolled) {
		return err
	}
	cfg := core.Config{Store: st, Collector: sysinfo.New(sysinfo.Options{AgentVersion: version.Version}), Creds: creds, Log: log}
	if creds == nil {
		if _, where, ferr := enrollconf.Find(runtime.GOOS); ferr == nil {
			log.Info("enrolment config found; enrolling silently", "file", where)
			cfg.Enroll = func(ctx context.Context) (*enroll.Credentials, error) { return enrollFromConfig(ctx, p) }
		} else if !errors.Is(ferr, enrollconf.ErrNotFound) {
			log.Warn("enrolment config unreadable", "err", ferr)
		}
	}
	// Heads-up checks run on every desk, with IT's policy once it comes.
	cfg.Checks = &checks.Config{}
	// The software inventory and amnesty: collected a few minutes after
	// start, then twice a day; IT's questions, notes and catalogue.
	cfg.Software = &core.SoftwareConfig{}
	su := &selfUpdate{flags: uf, dataDir: p.dir, log: log}
	su.hook(&cfg)
	c, err := core.New(cfg)
	if err != nil {
		return err
	}
	defer c.Close()
	su.core = c
	sock := *socket
	if sock == "" {
		if sock, err = localapi.DefaultSocketPath(); err != nil {
			return err
		}
	}
	l, err := localapi.Listen(sock)
	if err != nil {
		return err
	}
	log.Info("agent running", "version", version.Version, "socket", sock, "headless", *headless)
	if *pointCLI {
		remove, err := location.Write(p.dir, sock)
		if err != nil {
			// The agent runs all the same; only the plain commands won't find it.
			log.Warn("plain deskside-agent commands won't find this agent; set DESKSIDE_CONFIG_DIR and DESKSIDE_SOCKET for them", "err", err)
		} else {
			defer remove()
		}
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	errc := make(chan error, 2)
	wg.Add(2)
	go func() { defer wg.Done(); errc <- localapi.Serve(ctx, l, c, log) }()
	go func() { defer wg.Done(); errc <- c.Run(ctx) }()
	if !*headless && startTray != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := startTray(ctx, c); err != nil && ctx.Err() == nil {
				log.Error("tray stopped; the agent keeps running without it", "err", err)
			}
		}()
	}
	go releaseMemory(ctx)
	var first error
	select {
	case <-ctx.Done():
	case first = <-errc:
	}
	cancel()
	wg.Wait()
	if first != nil {
		return fmt.Errorf("agent stopped: %w", first)
	}
	return nil
}

// enrollFromConfig enrols with the installer's enrolment config and saves
// the credentials, with the config's publisher key for self-updates.
func enrollFromConfig(ctx context.Context, p paths) (*enroll.Credentials, error) {
	ec, _, err := enrollconf.Find(runtime.GOOS)
	if err != nil {
		return nil, err
	}
	creds, err := enroll.Enroll(ctx, ec.Server, ec.Token, enroll.Options{Pin: ec.Pin})
	if err != nil {
		return nil, err
	}
	// The admin's publisher key, kept as `deskside-agent enrol --update-key` keeps it.
	creds.UpdateKeys = ec.UpdateKey
	if err := enroll.Save(p.creds, creds); err != nil {
		return nil, err
	}
	return creds, nil
}

// releaseMemory hands the heap garbage of start-up (enrolment, the first
// snapshot's process walk) back to the OS once, so the all-day idle
// footprint stays small; Go's scavenger would get there only slowly.
func releaseMemory(ctx context.Context) {
	select {
	case <-ctx.Done():
	case <-time.After(30 * time.Second):
		debug.FreeOSMemory()
	}
}
