// Command deskside-server is the Deskside help desk server: the hub every
// desk's agent connects to, the REST API and the technician web console.
//
//	deskside-server [serve] [flags]                           run the server (default)
//	deskside-server admin create --email E --name N --password P [--role admin]
//	deskside-server admin list
//	deskside-server token create [--group G] [--max-uses N] [--expires 72h]
//	deskside-server token list
//
// The store is embedded SQLite in --data unless --store postgres --database-url
// postgres://… (docs/api.md, "Running on PostgreSQL"). Several nodes on one
// database route live frames to each other with --bus nats --nats-url
// nats://… (docs/api.md, "Several server nodes on one database"). The admin
// commands work on the data of a server that has started at least once and
// never create a new store (a token from a fresh store would belong to no
// running help desk).
//
// Every flag has an environment variable: --data is DESKSIDE_DATA, --addr is
// DESKSIDE_ADDR, and so on (upper case, dashes as underscores).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/deskside/deskside/server/internal/api"
	"github.com/deskside/deskside/server/internal/app"
	"github.com/deskside/deskside/server/internal/identity"
	"github.com/deskside/deskside/server/internal/store"
	"github.com/deskside/deskside/shared/version"
)

// subcommand is one `deskside-server <name>` (or `<name> <sub>`).
type subcommand struct {
	name, summary string
	run           func(args []string) error
}

var subcommands = []subcommand{
	{"serve", "run the server (the default when no command is given)", serve},
	{"admin create", "add a technician: --email E --name N --password P [--role admin|technician|viewer]", adminCreate},
	{"admin list", "list the technicians", adminList},
	{"token create", "make an enrolment token for desks: [--group G] [--max-uses N] [--expires 72h]", tokenCreate},
	{"token list", "list the enrolment tokens (their secrets are not kept)", tokenList},
	{"version", "print the server version", func([]string) error { fmt.Println(version.Version); return nil }},
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "deskside-server — the Deskside help desk server.\n\nUsage: deskside-server [command] [flags]   (deskside-server <command> -h: its flags)\n\nCommands:")
	for _, c := range subcommands {
		fmt.Fprintf(w, "  %-13s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nThe admin and token commands work on a server's data: --data DIR as the server was started with\n"+
		"(make run: --data .deskside/server). Every flag can also be set as DESKSIDE_<FLAG> (e.g. DESKSIDE_DATA).")
}

// lookup finds the subcommand args name and returns it with the arguments
// after its name. No command, or flags first, is serve; `admin` and
// `token` followed by flags are their create, as they always were.
func lookup(args []string) (subcommand, []string, error) {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		return subcommands[0], args, nil
	}
	name, rest := args[0], args[1:]
	if name == "admin" || name == "token" {
		switch {
		case len(rest) == 0 || strings.HasPrefix(rest[0], "-"):
			name += " create"
		default:
			name, rest = name+" "+rest[0], rest[1:]
		}
	}
	for _, c := range subcommands {
		if c.name == name {
			return c, rest, nil
		}
	}
	return subcommand{}, nil, fmt.Errorf("unknown command %q; deskside-server --help lists them", name)
}

func main() {
	args := os.Args[1:]
	if len(args) > 0 && (args[0] == "help" || args[0] == "-h" || args[0] == "--help" || args[0] == "-help") {
		usage(os.Stdout)
		return
	}
	c, rest, err := lookup(args)
	if err == nil {
		err = c.run(rest)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "deskside-server:", err)
		os.Exit(1)
	}
}

// flags builds a flag set whose defaults come from DESKSIDE_* variables.
// configuredURL is --public-url, or the URL --addr gives, for links the
// server writes (webhooks, emails) before it listens.
func configuredURL(public, addr string, tls bool) string {
	if public != "" {
		return strings.TrimRight(public, "/")
	}
	if tls {
		return "https://" + addr
	}
	return "http://" + addr
}

type flags struct{ *flag.FlagSet }

func newFlags(name string) flags {
	return flags{flag.NewFlagSet("deskside-server "+name, flag.ExitOnError)}
}

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
	if f.NArg() > 0 {
		return fmt.Errorf("unexpected %q; deskside-server --help lists the commands", f.Arg(0))
	}
	// Before anything else, so nobody wonders which help desk this is.
	fmt.Println(whereData(*data, *storeKind))
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
		AllowedOrigins: allowed, ServerName: *name, PublicURL: configuredURL(*publicURL, *addr, *cert != "" || *selfSigned), PingInterval: *ping, DeviceRate: float64(*rateN), Log: log,
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

// whereData is serve's first line: which data this server uses.
func whereData(data, kind string) string {
	if kind == "postgres" || kind == "postgresql" {
		return "deskside-server: data in PostgreSQL (--database-url); files (setup token, certificate) in " + data
	}
	abs, err := filepath.Abs(data)
	if err != nil {
		abs = data
	}
	return "deskside-server: data in " + abs + " (--data to change)"
}

// printWelcome prints the server's own short start note; the commands in it
// work as printed (with this server's --data).
func printWelcome(base, data string, b app.Bootstrap) {
	fmt.Printf("\nDeskside server is up.\n  Console:  %s/\n", base)
	dataFlag := " --data " + shellQuote(data)
	if b.SetupToken != "" {
		fmt.Printf("  First admin: open %s/#/setup?token=%s\n", base, b.SetupToken)
		fmt.Printf("    (one-time link; or run `deskside-server admin create%s --email … --name … --password …`; the token is also in %s)\n",
			dataFlag, filepath.Join(data, app.SetupTokenFile))
	}
	if b.EnrollToken != "" {
		fmt.Printf("  Enrolment token for desks: %s\n", b.EnrollToken)
		fmt.Printf("    (expires %s, in %d days)\n", b.EnrollTokenExpires.Local().Format("Mon 2 Jan 2006 15:04"), int(app.FirstTokenTTL.Hours()/24))
		fmt.Printf("    (also in %s; make more with `deskside-server token create%s`)\n", filepath.Join(data, app.EnrollTokenFile), dataFlag)
	}
	fmt.Println()
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r == '/' || r == '.' || r == '-' || r == '_' || r == ':' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z')
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// makeRunData is where `make run` keeps the server's data, relative to the
// repository; the admin commands point there when ./data has none.
var makeRunData = filepath.Join(".deskside", "server")

// openStore opens an existing store for an admin command and never
// creates one: on SQLite the data directory must hold a server's
// database. dataSet is whether --data (or DESKSIDE_DATA) was given.
func openStore(data string, dataSet bool, kind, url string) (store.Store, error) {
	if kind == "" || kind == "sqlite" {
		if _, err := os.Stat(filepath.Join(data, store.SQLiteFile)); err != nil {
			shown := data
			if !filepath.IsAbs(shown) && !strings.HasPrefix(shown, ".") {
				shown = "." + string(filepath.Separator) + shown
			}
			if _, merr := os.Stat(filepath.Join(makeRunData, store.SQLiteFile)); merr == nil && !dataSet {
				return nil, fmt.Errorf("no Deskside data at %s — did you mean --data %s?", shown, makeRunData)
			}
			return nil, fmt.Errorf("no Deskside data at %s — pass --data with the directory the server runs with (start it once first: deskside-server serve --data DIR)", shown)
		}
	}
	return app.OpenStore(context.Background(), app.Config{DataDir: data, Store: kind, DatabaseURL: url})
}

// dataFlag is --data of an admin command, and whether it was given (on the
// command line or as DESKSIDE_DATA).
func (f flags) dataFlag() func() (string, bool) {
	_, env := os.LookupEnv(envName("data"))
	data := f.str("data", "data", "the server's data directory, as it runs with (make run: .deskside/server)")
	return func() (string, bool) {
		set := env
		f.Visit(func(fl *flag.Flag) {
			if fl.Name == "data" {
				set = true
			}
		})
		return *data, set
	}
}

// existingStore is what every admin command shares: --data, --store and
// --database-url, and opening the running server's store with them.
type existingStore struct {
	data      func() (string, bool)
	kind, url *string
}

func (f flags) existingStore() existingStore {
	data := f.dataFlag()
	kind, url := f.storeFlags()
	return existingStore{data: data, kind: kind, url: url}
}

// open parses args, once the command has defined its own flags on f, and
// opens the store (never creating one); dir is the data directory.
func (e existingStore) open(f flags, args []string) (store.Store, string, error) {
	if err := f.parseNoArgs(args); err != nil {
		return nil, "", err
	}
	dir, set := e.data()
	st, err := openStore(dir, set, *e.kind, *e.url)
	return st, dir, err
}

// parseNoArgs parses args and refuses words left over: a mistyped
// subcommand must not run as something else.
func (f flags) parseNoArgs(args []string) error {
	_ = f.Parse(args)
	if f.NArg() > 0 {
		return fmt.Errorf("unexpected %q in %s; deskside-server --help lists the commands", f.Arg(0), f.Name())
	}
	return nil
}

func adminCreate(args []string) error {
	f := newFlags("admin create")
	where := f.existingStore()
	email := f.String("email", "", "email address (sign-in name)")
	name := f.String("name", "", "name users see")
	password := f.String("password", "", "password (at least 10 characters)")
	role := f.String("role", "admin", "admin, technician or viewer")
	st, dir, err := where.open(f, args)
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
	_ = os.Remove(filepath.Join(dir, app.SetupTokenFile))
	_ = st.Audit(ctx, store.AuditEntry{At: time.Now(), Actor: "cli", Action: "technician.create", Target: t.ID, Detail: t.Email + " as " + t.Role})
	fmt.Printf("Created %s %s <%s>.\n", t.Role, t.Name, t.Email)
	return nil
}

func adminList(args []string) error {
	f := newFlags("admin list")
	where := f.existingStore()
	st, _, err := where.open(f, args)
	if err != nil {
		return err
	}
	defer st.Close()
	ts, err := st.ListTechnicians(context.Background())
	if err != nil {
		return err
	}
	if len(ts) == 0 {
		fmt.Println("No technicians yet: open the server's setup link, or deskside-server admin create --email … --name … --password ….")
		return nil
	}
	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "EMAIL\tNAME\tROLE\tSTATE\tSINCE")
	for _, t := range ts {
		state := "active"
		if t.Disabled {
			state = "disabled"
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", t.Email, t.Name, t.Role, state, t.CreatedAt.Local().Format("2006-01-02"))
	}
	return w.Flush()
}

func tokenCreate(args []string) error {
	f := newFlags("token create")
	where := f.existingStore()
	group := f.String("group", "default", "group the enrolled devices join")
	maxUses := f.Int("max-uses", 0, "how many devices may use it (0: unlimited)")
	expires := f.Duration("expires", 0, "how long it stays valid, e.g. 72h (0: forever)")
	selfSigned := f.boolean("tls-self-signed", false, "add the pin of the self-signed certificate in the data directory")
	st, dir, err := where.open(f, args)
	if err != nil {
		return err
	}
	defer st.Close()
	var pin []byte
	if *selfSigned {
		if _, pin, err = app.SelfSigned(filepath.Join(dir, "tls")); err != nil {
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

func tokenList(args []string) error {
	f := newFlags("token list")
	where := f.existingStore()
	st, _, err := where.open(f, args)
	if err != nil {
		return err
	}
	defer st.Close()
	ts, err := st.ListTokens(context.Background())
	if err != nil {
		return err
	}
	if len(ts) == 0 {
		fmt.Println("No enrolment tokens: deskside-server token create makes one.")
		return nil
	}
	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "ID\tGROUP\tUSES\tEXPIRES\tSTATE")
	for _, t := range ts {
		uses := fmt.Sprint(t.Uses)
		if t.MaxUses > 0 {
			uses += fmt.Sprintf(" of %d", t.MaxUses)
		}
		exp, state := "never", "valid"
		if t.ExpiresAt != nil {
			exp = t.ExpiresAt.Local().Format("2006-01-02 15:04")
			if time.Now().After(*t.ExpiresAt) {
				state = "expired"
			}
		}
		switch {
		case t.Revoked:
			state = "revoked"
		case t.MaxUses > 0 && t.Uses >= t.MaxUses:
			state = "used up"
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", t.ID, t.Group, uses, exp, state)
	}
	return w.Flush()
}
