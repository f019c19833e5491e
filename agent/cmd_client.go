package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/deskside/deskside/agent/agentapi"
	"github.com/deskside/deskside/agent/internal/core"
	"github.com/deskside/deskside/agent/internal/enroll"
	"github.com/deskside/deskside/agent/internal/localapi"
	"github.com/deskside/deskside/agent/internal/store"
	"github.com/deskside/deskside/agent/internal/sysinfo"
	"github.com/deskside/deskside/agent/internal/update"
	"github.com/deskside/deskside/shared/enrollconf"
	"github.com/deskside/deskside/shared/protocol"
	"github.com/deskside/deskside/shared/version"
)

// userFacingError is an error whose message is already what the user
// should read; main prints only that.
type userFacingError struct {
	msg string
	err error
}

func (e *userFacingError) Error() string       { return e.msg + " (" + e.err.Error() + ")" }
func (e *userFacingError) Unwrap() error       { return e.err }
func (e *userFacingError) UserMessage() string { return e.msg }

func cmdEnroll(ctx context.Context, args []string) error {
	fs := newFlags("enrol")
	server := fs.String("server", "", "the help desk's address, e.g. https://help.example.com")
	token := fs.String("token", "", "the enrolment code from IT (dsk1_…)")
	pin := fs.String("pin", "", "SHA-256 of the server certificate (hex), when not inside the code")
	force := fs.Bool("force", false, "enrol again even if this computer already is")
	updateKey := fs.String("update-key", "", "publisher public key(s) for self-updates (RWQ…, comma separated), instead of the built-in one")
	updateChannel := fs.String("update-channel", "", "self-update channel: stable (default) or beta")
	dryRun := fs.Bool("dry-run", false, "say which enrolment settings would be used, and whether they are valid, without enrolling")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := checkUpdateTrust(*updateKey, *updateChannel); err != nil {
		return err
	}
	if *dryRun {
		return enrollDryRun(os.Stdout, *server, *token, *pin, *updateKey)
	}
	p, err := agentPaths()
	if err != nil {
		return err
	}
	if c, err := enroll.Load(p.creds); err == nil && !*force {
		fmt.Printf("This computer is already set up with %s (device %s). Use --force to enrol again.\n", c.Server, c.DeviceID)
		return nil
	}
	if *server == "" && *token == "" {
		ec, where, err := enrollconf.Find(runtime.GOOS)
		if err != nil {
			return &userFacingError{"Please give the help desk address and the enrolment code: deskside-agent enrol --server https://… --token dsk1_…", err}
		}
		fmt.Printf("Using the enrolment settings in %s\n", where)
		*server, *token, *pin = ec.Server, ec.Token, ec.Pin
		*updateKey = firstNonEmpty(*updateKey, ec.UpdateKey)
	}
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	creds, err := enroll.Enroll(ctx, *server, *token, enroll.Options{Pin: *pin})
	if err != nil {
		return &userFacingError{enrollProblem(*server, err), err}
	}
	creds.UpdateKeys, creds.UpdateChannel = *updateKey, *updateChannel
	if err := enroll.Save(p.creds, creds); err != nil {
		return &userFacingError{core.Words(err), err}
	}
	name := creds.ServerName
	if name == "" {
		name = creds.Server
	}
	fmt.Printf("All set — this computer is now connected to %s.\n", name)
	return nil
}

// enrollProblem is what went wrong with enrolling at server, for the person
// who typed the address: a wrong address is not "offline", and nothing
// is saved when enrolment fails.
func enrollProblem(server string, err error) string {
	var dnsErr *net.DNSError
	switch {
	case errors.Is(err, enrollconf.ErrBadServerURL):
		if !strings.Contains(server, "://") {
			return fmt.Sprintf("The address %q needs https:// (or http:// for this computer), e.g. --server https://help.example.com. Nothing was set up.", server)
		}
		if strings.HasPrefix(strings.ToLower(server), "http://") {
			return fmt.Sprintf("The address %q must start with https:// — http:// works only for a server on this computer. Nothing was set up.", server)
		}
		return fmt.Sprintf("%q doesn't look like a help desk address; it should be like https://help.example.com (http:// only for this computer). Nothing was set up.", server)
	case errors.As(err, &dnsErr) && dnsErr.IsNotFound:
		return fmt.Sprintf("There is no computer called %q, so we couldn't reach the help desk. Check the address with IT and try again. Nothing was set up.", dnsErr.Name)
	case errors.Is(err, syscall.ECONNREFUSED):
		return fmt.Sprintf("Nothing is answering at %s. Check the address and port with IT (or that the server is running), then try again. Nothing was set up.", server)
	case errors.Is(err, enroll.ErrServerDown):
		return fmt.Sprintf("We couldn't reach the help desk at %s. Check the address and your network, then try again. Nothing was set up.", server)
	}
	return core.Words(err)
}

// enrollDryRun reports the enrolment settings `deskside-agent enrol` would use —
// the flags, else the first enrolment config found — and checks them as
// enrolment would (server URL, token, pin, update key) without contacting
// the server. Installers and admins use it to check a deployment; it fails
// when there is nothing usable. Its "key: value" lines are a contract with
// the installer's tests.
func enrollDryRun(w io.Writer, server, token, pin, updateKey string) error {
	source := "flags"
	var ec enrollconf.Config
	var err error
	if server == "" && token == "" {
		ec, source, err = enrollconf.Find(runtime.GOOS)
		if errors.Is(err, enrollconf.ErrNotFound) {
			fmt.Fprintf(w, "enrol config: none (looked in %s)\n", strings.Join(enrollconf.Candidates(runtime.GOOS), ", "))
			return err
		}
	} else {
		ec, err = enrollconf.New(server, token, pin)
	}
	fmt.Fprintf(w, "enrol config: %s\n", source)
	if err != nil {
		fmt.Fprintf(w, "valid: no: %v\n", err)
		return fmt.Errorf("enrolment settings in %s: %w", source, err)
	}
	key := firstNonEmpty(updateKey, ec.UpdateKey)
	fmt.Fprintf(w, "server: %s\ntoken: ok\npinned: %t\nupdate key: %s\nvalid: yes (dry run: not enrolled)\n",
		ec.Server, ec.Pin != "", yesNo(key != ""))
	return nil
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no (the built-in one)"
}

func cmdAsk(ctx context.Context, args []string) error {
	fs := newFlags("ask")
	category := fs.String("category", "problem", "problem, question, software or idea")
	urgency := fs.String("urgency", "when_you_can", "blocking or when_you_can")
	screenshot := fs.String("screenshot", "", "a PNG or JPEG file to attach")
	if err := parse(fs, args); err != nil {
		return err
	}
	if c := protocol.Category(*category); !c.Valid() {
		return &userFacingError{fmt.Sprintf("--category %q isn't one we know: use problem, question, software or idea.", *category), errors.New("bad category")}
	}
	if u := protocol.Urgency(*urgency); !u.Valid() {
		return &userFacingError{fmt.Sprintf("--urgency %q isn't one we know: use blocking (it stops your work) or when_you_can.", *urgency), errors.New("bad urgency")}
	}
	text := strings.TrimSpace(strings.Join(fs.Args(), " "))
	if text == "" || text == "-" {
		b, err := readStdin()
		if err != nil {
			return err
		}
		text = strings.TrimSpace(string(b))
	}
	in := agentapi.NewRequest{Category: protocol.Category(*category), Urgency: protocol.Urgency(*urgency), Text: text}
	if *screenshot != "" {
		b, err := os.ReadFile(*screenshot)
		if err != nil {
			return &userFacingError{"We couldn't open that screenshot file.", err}
		}
		in.Screenshot, in.ScreenshotName = b, *screenshot
	}
	if err := checkEnrolled(); err != nil {
		return err
	}
	client := localapi.NewClient(os.Getenv("DESKSIDE_SOCKET"))
	r, err := client.RaiseRequest(ctx, in)
	agentRunning := true
	if agentapi.IsCode(err, agentapi.CodeUnavailable) {
		// The agent is not running: save straight into its store; it goes
		// out when the agent starts.
		agentRunning = false
		r, err = askOffline(ctx, in)
	}
	if err != nil {
		return err
	}
	switch {
	case r.Sent:
		fmt.Println("Sent to IT. We'll let you know when someone picks it up.")
	case agentRunning && isOnline(ctx, client):
		// Saved and the link is up: the server's ack is moments away.
		fmt.Println("Got it — it's on its way to IT. We'll let you know when someone picks it up.")
	default:
		fmt.Println("Saved — it goes to IT as soon as we're connected.")
	}
	fmt.Printf("Request %s\n", r.ID)
	return nil
}

func isOnline(ctx context.Context, c agentapi.Backend) bool {
	s, err := c.Status(ctx)
	return err == nil && s.State == agentapi.ConnOnline
}

func readStdin() ([]byte, error) {
	if fi, err := os.Stdin.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
		return nil, &userFacingError{`Please say what you need help with: deskside-agent ask "my printer won't print"`, errors.New("no text")}
	}
	b := make([]byte, 0, 4096)
	buf := make([]byte, 4096)
	for len(b) < protocol.MaxTextRunes*4 {
		n, err := os.Stdin.Read(buf)
		b = append(b, buf[:n]...)
		if err != nil {
			break
		}
	}
	return b, nil
}

// msgEnrolFirst is `ask` on a computer that is not enrolled: nothing could
// ever send the request, so it is not saved.
const msgEnrolFirst = "This computer isn't connected to IT's help desk yet, so nothing was sent. " +
	"Set it up first with: deskside-agent enrol --server URL --token TOKEN (IT gives you both)."

// checkEnrolled refuses `ask` on a computer that is not enrolled and has
// no enrolment config the agent would enrol with on start, whether or not
// the agent runs: the request would wait for ever, so it is not "saved".
func checkEnrolled() error {
	p, err := agentPaths()
	if err != nil {
		return err
	}
	if _, err := enroll.Load(p.creds); errors.Is(err, enroll.ErrNotEnrolled) {
		if _, _, ferr := enrollconf.Find(runtime.GOOS); ferr != nil {
			return &userFacingError{msgEnrolFirst, err}
		}
	}
	return nil
}

// askOffline saves the request straight into the agent's store, as the
// agent would, with nothing else of the agent started.
func askOffline(ctx context.Context, in agentapi.NewRequest) (agentapi.Request, error) {
	p, err := agentPaths()
	if err != nil {
		return agentapi.Request{}, err
	}
	st, err := store.Open(p.db, store.Options{})
	if err != nil {
		return agentapi.Request{}, &userFacingError{core.Words(err), err}
	}
	defer st.Close()
	return core.SaveRequest(ctx, st, sysinfo.New(sysinfo.Options{AgentVersion: version.Version}), in)
}

func cmdStatus(ctx context.Context, args []string) error {
	fs := newFlags("status")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parse(fs, args); err != nil {
		return err
	}
	s, err := localapi.NewClient(os.Getenv("DESKSIDE_SOCKET")).Status(ctx)
	if err != nil {
		if agentapi.IsCode(err, agentapi.CodeUnavailable) {
			p, _ := agentPaths()
			if _, lerr := enroll.Load(p.creds); errors.Is(lerr, enroll.ErrNotEnrolled) {
				return &userFacingError{core.MsgNotEnrolled + " Then: deskside-agent enrol --server URL --token TOKEN", errors.Join(lerr, err)}
			}
		}
		return err
	}
	if *asJSON {
		return printJSON(s)
	}
	fmt.Println(s.Detail)
	if s.ServerName != "" || s.Server != "" {
		fmt.Printf("Help desk:  %s %s\n", s.ServerName, s.Server)
	}
	fmt.Printf("State:      %s since %s\n", s.State, s.Since.Local().Format(time.Stamp))
	printExpectations(os.Stdout, s.Expectations)
	if s.Pending > 0 {
		fmt.Printf("Waiting:    %d saved, not yet with IT\n", s.Pending)
	}
	if s.Unread > 0 {
		fmt.Printf("Unread:     %d\n", s.Unread)
	}
	if s.LastError != "" && s.State != agentapi.ConnOnline {
		fmt.Printf("Details:    %s\n", s.LastError)
	}
	return nil
}

// cmdRequests lists this computer's requests, or shows one with its thread
// (IT's replies) and history: how to read IT's answer without a window.
func cmdRequests(ctx context.Context, args []string) error {
	fs := newFlags("requests")
	id := fs.String("id", "", "show this request with its messages")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 && *id == "" {
		*id = fs.Arg(0) // `requests ID` reads as --id ID
	}
	c := localapi.NewClient(os.Getenv("DESKSIDE_SOCKET"))
	if *id != "" {
		r, err := c.Request(ctx, *id)
		if err != nil {
			return err
		}
		if *asJSON {
			return printJSON(r)
		}
		printThread(os.Stdout, r)
		return nil
	}
	rs, err := c.Requests(ctx)
	if err != nil {
		return err
	}
	if *asJSON {
		if rs == nil {
			rs = []agentapi.Request{}
		}
		return printJSON(rs)
	}
	printRequests(os.Stdout, rs)
	return nil
}

func cmdSnapshot(ctx context.Context, args []string) error {
	fs := newFlags("snapshot")
	asJSON := fs.Bool("json", false, "print the snapshot as JSON, exactly as IT has it")
	fresh := fs.Bool("fresh", false, "take and send a fresh snapshot first")
	if err := parse(fs, args); err != nil {
		return err
	}
	snap, err := localapi.NewClient(os.Getenv("DESKSIDE_SOCKET")).Snapshot(ctx, *fresh)
	if agentapi.IsCode(err, agentapi.CodeUnavailable) {
		snap, err = snapshotOffline(ctx)
	}
	if err != nil {
		return err
	}
	if *asJSON {
		return printJSON(snap)
	}
	printSnapshot(os.Stdout, snap)
	return nil
}

func snapshotOffline(ctx context.Context) (*protocol.Snapshot, error) {
	p, err := agentPaths()
	if err != nil {
		return nil, err
	}
	st, err := store.Open(p.db, store.Options{})
	if err != nil {
		return nil, err
	}
	defer st.Close()
	snap, err := st.LastSnapshot(ctx)
	if err != nil {
		return nil, err
	}
	if snap == nil {
		return nil, &userFacingError{"IT hasn't received any details from this computer yet.", errors.New("no snapshot")}
	}
	return snap, nil
}

// cmdVersion prints "deskside-agent 1.4.0 (protocol v1, linux/amd64,
// go1.x)". The self-updater smoke-runs a downloaded binary with `version`
// and DESKSIDE_SMOKE_TEST=1 and wants the signed version as a word of the
// output; `deskside-release sign` checks the same. In a smoke run the
// binary also checks what it would need to update itself again (its built-in
// publisher key parses) and fails loudly otherwise, so a build that could
// never be updated again is refused before it is installed.
func cmdVersion(ctx context.Context, args []string) error {
	if os.Getenv("DESKSIDE_SMOKE_TEST") == "1" {
		if err := checkUpdateTrust(update.TrustedKeys, ""); err != nil {
			return fmt.Errorf("smoke test: %w", err)
		}
	}
	fmt.Printf("deskside-agent %s (protocol v%d, %s/%s, %s)\n", version.Version, protocol.Version, runtime.GOOS, runtime.GOARCH, runtime.Version())
	return nil
}

func printJSON(v any) error { return writeJSON(os.Stdout, v) }

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
