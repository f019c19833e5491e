package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"runtime/debug"
	"strings"
	"time"

	"github.com/deskside/deskside/server/internal/app"
)

// serve runs the server exactly as `server serve` wires it (app.New, the
// same http.Server settings) and adds, for measurement only, /debug/pprof/
// and POST /debug/gc (collect and return freed memory to the OS). It
// listens on loopback only.
func serve(ctx context.Context, args []string) error {
	f := flags{flag.NewFlagSet("server", flag.ExitOnError)}
	data := f.String("data", "data", "data directory")
	addr := f.String("addr", "127.0.0.1:8080", "loopback address to listen on")
	ping := f.Duration("ping-interval", 120*time.Second, "how often links are pinged")
	rateN := f.Int("device-rate", 20, "frames per second a device may send")
	logLevel := f.String("log-level", "warn", "debug, info, warn or error")
	_ = f.Parse(args)
	if host, _, err := net.SplitHostPort(*addr); err != nil || !net.ParseIP(host).IsLoopback() {
		return fmt.Errorf("--addr %s: the measuring server listens on loopback only", *addr)
	}
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(*logLevel)); err != nil {
		return fmt.Errorf("--log-level: %w", err)
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: lvl}))
	a, err := app.New(ctx, app.Config{DataDir: *data, PingInterval: *ping, DeviceRate: float64(*rateN), Log: log})
	if err != nil {
		return fmt.Errorf("start server: %w", err)
	}
	defer a.Close()
	if _, err := a.Bootstrap(ctx); err != nil {
		return fmt.Errorf("bootstrap: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	mux.HandleFunc("POST /debug/gc", func(w http.ResponseWriter, _ *http.Request) {
		debug.FreeOSMemory()
		w.WriteHeader(http.StatusNoContent)
	})
	mux.Handle("/", a.Handler)
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", *addr, err)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute,
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	log.Info("serving", "addr", ln.Addr().String(), "data", *data)
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	// As server/main.go: stop accepting, then close links, flush, close the store.
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err = srv.Shutdown(sctx)
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	if err != nil {
		err = fmt.Errorf("shut down: %w", err)
	}
	return errors.Join(err, a.Close())
}

// isSelf reports whether --server-bin names this program's own server mode.
func isSelf(bin string) bool { return bin == "" || strings.EqualFold(bin, "self") }
