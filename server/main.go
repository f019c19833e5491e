// Command server is the Deskside help desk server: the hub every desk's agent
// connects to, the REST API and the technician web console.
//
//	server [serve] [flags]                           run the server (default)
//	server admin create --email E --name N --password P [--role admin]
//	server token create [--group G] [--max-uses N] [--expires 72h]
//
// The store is embedded SQLite in --data unless --store postgres --database-url
// postgres://… (docs/api.md, "Running on PostgreSQL"). Several nodes on one
// database route live frames to each other with --bus nats --nats-url
// nats://… (docs/api.md, "Several server nodes on one database").
//
// Every flag has an environment variable: --data is DESKSIDE_DATA, --addr is
// DESKSIDE_ADDR, and so on (upper case, dashes as underscores).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/deskside/deskside/server/internal/api"
	"github.com/deskside/deskside/server/internal/app"
	"github.com/deskside/deskside/server/internal/identity"
	"github.com/deskside/deskside/server/internal/store"
	"github.com/deskside/deskside/shared/version"
)

func main() {
	args := os.Args[1:]
	cmd := "serve"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
		if (cmd == "admin" || cmd == "token") && len(args) > 0 && args[0] == "create" {
			args = args[1:]
		}
	}
	var err error
	switch cmd {
	case "serve":
		err = serve(args)
	case "admin":
		err = adminCreate(args)
	case "token":
		err = tokenCreate(args)
	case "version":
		fmt.Println(version.Version)
	default:
		err = fmt.Errorf("unknown command %q; try serve, admin create, token create or version", cmd)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "deskside server:", err)
		os.Exit(1)
	}
}

// flags builds a flag set whose defaults come from DESKSIDE_* variables.
type flags struct{ *flag.FlagSet }

func newFlags(name string) flags { return flags{flag.NewFlagSet(name, flag.ExitOnError)} }

func envName(name string) string {
	return "DESKSIDE_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}

func (f flags) str(name, def, usage string) *string {
	if v, ok := os.LookupEnv(envName(name)); ok {
		def = v
	}
	return f.String(name, def, usage+" ($"+envName(name)+")")
}

func (f flags) boolean(name string, def bool, usage string) *bool {
	if v, ok := os.LookupEnv(envName(name)); ok {
		def = v == "1" || strings.EqualFold(v, "true")
	}
	return f.Bool(name, def, usage+" ($"+envName(name)+")")
}

func (f flags) dur(name string, def time.Duration, usage string) *time.Duration {
	if v, ok := os.LookupEnv(envName(name)); ok {
		if d, err := time.ParseDuration(v); err == nil {
			def = d
		}
	}
	return f.Duration(name, def, usage+" ($"+envName(name)+")")
}

func (f flags) num(name string, def int, usage string) *int {
	if v, ok := os.LookupEnv(envName(name)); ok {
		_, _ = fmt.Sscan(v, &def)
	}
	return f.Int(name, def, usage+" ($"+envName(name)+")")
}

// storeFlags are --store and --database-url, for every command that opens
// the store.
func (f flags) storeFlags() (kind, url *string) {
	kind = f.str("store", "sqlite", "sqlite (embedded, in the data directory) or postgres (--database-url; several server nodes may share it)")
	url = f.str("database-url", "", "PostgreSQL URL for --store postgres, e.g. postgres://deskside@db.example.com/deskside")
	return kind, url
}

func serve(args []string) error {
	f := newFlags("serve")
	data := f.str("data", "data", "data directory (database, certificate, token files)")
	storeKind, dbURL := f.storeFlags()
	busKind := f.str("bus", "local", "local (one node) or nats (--nats-url; live routing between nodes on one PostgreSQL database)")
	natsURL := f.str("nats-url", "", "NATS server URL(s) for --bus nats, e.g. nats://nats.example.com:4222")
	cluster := f.str("cluster", "default", "bus subject namespace shared by the nodes of one help desk")
	nodeID := f.str("node-id", "", "this node's name on the bus (default: host name and a random suffix)")
	addr := f.str("addr", "127.0.0.1:8080", "address to listen on")
	publicURL := f.str("public-url", "", "URL people and agents use to reach the server (default: from --addr)")
	cert := f.str("tls-cert", "", "PEM certificate file")
	key := f.str("tls-key", "", "PEM key file")
	selfSigned := f.boolean("tls-self-signed", false, "generate and use a self-signed certificate; its pin goes into enrolment tokens")
	origins := f.str("allowed-origin", "", "comma-separated extra origins allowed to open the console socket")
	name := f.str("server-name", "IT help desk", "how the help desk calls itself to users")
	ping := f.dur("ping-interval", 120*time.Second, "how often links are pinged")
	rateN := f.num("device-rate", 20, "frames per second a device may send")
	logLevel := f.str("log-level", "info", "debug, info, warn or error")
	relKey := f.str("release-public-key", "", "publisher's minisign public key(s) (RWQ…, comma-separated to rotate) for agent updates; without one the releases API answers 503")
	metricsToken := f.str("metrics-token", "", "bearer token GET /metrics asks for (default: /metrics is open to whoever reaches the port)")
	relKeyFile := f.str("release-public-key-file", "", "file with the publisher's minisign public key(s), e.g. deskside-release.pub")
	oidcFlags := f.oidcFlags()
	_ = f.Parse(args)
	oidcCfg, err := oidcFlags.config(*publicURL)
	if err != nil {
		return err
	}
	pubKeys, err := releaseKeys(*relKey, *relKeyFile)
	if err != nil {
		return err
	}

	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(*logLevel)); err != nil {
		return fmt.Errorf("--log-level: %w", err)
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: lvl}))
	var allowed []string
	for _, o := range strings.Split(*origins, ",") {
		if o = strings.TrimRight(strings.TrimSpace(o), "/"); o != "" {
			allowed = append(allowed, o)
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	a, err := app.New(ctx, app.Config{DataDir: *data, Store: *storeKind, DatabaseURL: *dbURL,
		Bus: *busKind, NATSURL: *natsURL, Cluster: *cluster, NodeID: *nodeID, TLSCert: *cert, TLSKey: *key, TLSSelfSigned: *selfSigned,
		AllowedOrigins: allowed, ServerName: *name, PingInterval: *ping, DeviceRate: float64(*rateN), Log: log,
		ReleasePublicKeys: pubKeys, MetricsToken: *metricsToken, OIDC: oidcCfg})
	if err != nil {
		return err
	}
	defer a.Close()
	boot, err := a.Bootstrap(ctx)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", *addr, err)
	}
	base := *publicURL
	if base == "" {
		scheme := "http"
		if a.TLS != nil {
			scheme = "https"
		}
		base = scheme + "://" + ln.Addr().String()
	}
	base = strings.TrimRight(base, "/")
	printWelcome(base, *data, boot)

	srv := &http.Server{Handler: a.Handler, TLSConfig: a.TLS, ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout: 2 * time.Minute, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	errc := make(chan error, 1)
	go func() {
		if a.TLS != nil {
			errc <- srv.ServeTLS(ln, "", "")
		} else {
			errc <- srv.Serve(ln)
		}
	}()
	log.Info("serving", "url", base, "data", *data, "store", *storeKind, "bus", *busKind, "version", version.Version)
	if a.Releases == nil {
		log.Warn("agent updates are off: no publisher key (--release-public-key or --release-public-key-file)")
	}
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down")
	return shutdown(srv, a)
}

// shutdown stops accepting first, so no reconnect lands on a closing
// server (hijacked WebSocket links are not tracked by srv, so Shutdown
// only waits for REST calls in flight), then closes every link in
// parallel, applies the delivery cursors still in memory, and closes the
// store.
func shutdown(srv *http.Server, a *app.App) error {
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := srv.Shutdown(sctx)
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	if err != nil {
		err = fmt.Errorf("shut down: %w", err)
	}
	return errors.Join(err, a.Close())
}

// releaseKeys joins the key given inline and the one in a file (both may
// be set while rotating keys).
func releaseKeys(inline, file string) (string, error) {
	keys := strings.TrimSpace(inline)
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return "", fmt.Errorf("--release-public-key-file: %w", err)
		}
		keys = strings.TrimSpace(keys + "\n" + string(b))
	}
	return keys, nil
}

func printWelcome(base, data string, b app.Bootstrap) {
	fmt.Printf("\nDeskside is running.\n  Console:  %s/\n", base)
	if b.SetupToken != "" {
		fmt.Printf("  First admin: open %s/#/setup?token=%s\n", base, b.SetupToken)
		fmt.Printf("    (one-time link; or run `server admin create`; the token is also in %s/%s)\n", data, app.SetupTokenFile)
	}
	if b.EnrollToken != "" {
		fmt.Printf("  Enrolment token for desks: %s\n", b.EnrollToken)
		fmt.Printf("    (expires %s, in %d days)\n", b.EnrollTokenExpires.Local().Format("Mon 2 Jan 2006 15:04"), int(app.FirstTokenTTL.Hours()/24))
		fmt.Printf("    (also in %s/%s; make more with `server token create`)\n", data, app.EnrollTokenFile)
	}
	fmt.Println()
}

func openStore(data, kind, url string) (store.Store, error) {
	if kind == "" || kind == "sqlite" {
		if _, err := os.Stat(data); err != nil {
			return nil, fmt.Errorf("data directory %s: %w (start the server once, or pass --data)", data, err)
		}
	}
	return app.OpenStore(context.Background(), app.Config{DataDir: data, Store: kind, DatabaseURL: url})
}

func adminCreate(args []string) error {
	f := newFlags("admin create")
	data := f.str("data", "data", "data directory")
	storeKind, dbURL := f.storeFlags()
	email := f.String("email", "", "email address (sign-in name)")
	name := f.String("name", "", "name users see")
	password := f.String("password", "", "password (at least 10 characters)")
	role := f.String("role", "admin", "admin, technician or viewer")
	_ = f.Parse(args)
	st, err := openStore(*data, *storeKind, *dbURL)
	if err != nil {
		return err
	}
	defer st.Close()
	t, err := identity.NewTechnician(*email, *name, *password, *role)
	if err != nil {
		return err
	}
	// An admin made at the server's shell is break-glass like setup's: it
	// is the way back in when single sign-on is broken and password
	// sign-in is off.
	t.BreakGlass = t.Role == identity.RoleAdmin
	ctx := context.Background()
	if err := st.CreateTechnician(ctx, t); err != nil {
		return err
	}
	if err := st.SetMeta(ctx, identity.MetaSetupTokenHash, ""); err != nil {
		return err
	}
	_ = os.Remove(filepath.Join(*data, app.SetupTokenFile))
	_ = st.Audit(ctx, store.AuditEntry{At: time.Now(), Actor: "cli", Action: "technician.create", Target: t.ID, Detail: t.Email + " as " + t.Role})
	fmt.Printf("Created %s %s <%s>.\n", t.Role, t.Name, t.Email)
	return nil
}

func tokenCreate(args []string) error {
	f := newFlags("token create")
	data := f.str("data", "data", "data directory")
	storeKind, dbURL := f.storeFlags()
	group := f.String("group", "default", "group the enrolled devices join")
	maxUses := f.Int("max-uses", 0, "how many devices may use it (0: unlimited)")
	expires := f.Duration("expires", 0, "how long it stays valid, e.g. 72h (0: forever)")
	selfSigned := f.boolean("tls-self-signed", false, "add the pin of the self-signed certificate in the data directory")
	_ = f.Parse(args)
	st, err := openStore(*data, *storeKind, *dbURL)
	if err != nil {
		return err
	}
	defer st.Close()
	var pin []byte
	if *selfSigned {
		if _, pin, err = app.SelfSigned(filepath.Join(*data, "tls")); err != nil {
			return err
		}
	}
	t, tok, err := api.CreateToken(context.Background(), st, *group, *maxUses, *expires, pin)
	if err != nil {
		return err
	}
	_ = st.Audit(context.Background(), store.AuditEntry{At: time.Now(), Actor: "cli", Action: "token.create", Target: t.ID, Detail: "group=" + t.Group})
	fmt.Println(tok)
	return nil
}
