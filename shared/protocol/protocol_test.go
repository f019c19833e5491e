package protocol

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite golden files")

var (
	t0  = time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	rob = Person{Name: "Rob", Greeting: "Hi, I'm Rob — I'll take care of this"}
)

func sampleSnapshot() Snapshot {
	return Snapshot{
		TakenAt: t0, AgentVersion: "1.0.0",
		Host: Host{Hostname: "ana-laptop", OS: "linux", Platform: "debian", PlatformVersion: "12.7",
			Kernel: "6.1.0-27-amd64", Arch: "amd64", BootTime: t0.Add(-time.Hour), UptimeSeconds: 3600, User: "ana", Model: "ThinkPad X1"},
		CPU:       CPU{Model: "Intel(R) Core(TM) i7", Cores: 4, Threads: 8, UsagePct: 12.5, Load1: 0.5, Load5: 0.4, Load15: 0.3},
		Memory:    Memory{TotalBytes: 16 << 30, UsedBytes: 8 << 30, UsedPct: 50, SwapTotalBytes: 2 << 30, SwapUsedBytes: 0},
		Disks:     []Disk{{Mount: "/", FS: "ext4", TotalBytes: 500 << 30, FreeBytes: 100 << 30, UsedPct: 80}},
		Network:   []NetIf{{Name: "wlan0", Addrs: []string{"192.0.2.10/24"}, MAC: "00:11:22:33:44:55", Up: true}},
		Battery:   &Battery{Percent: 81, State: "discharging"},
		TopCPU:    []Proc{{Name: "chrome", PID: 4242, CPUPct: 30.5, MemBytes: 1 << 30}},
		TopMemory: []Proc{{Name: "chrome", PID: 4242, CPUPct: 30.5, MemBytes: 1 << 30}},
		Problems:  map[string]string{"model": "not readable without root"},
	}
}

// golden lists one frame of every kind. A kind added to the protocol must be
// added here; TestEveryKindHasGolden enforces it.
func golden() map[Kind]any {
	snap := sampleSnapshot()
	return map[Kind]any{
		KindHello: Hello{AgentVersion: "1.0.0", OS: "linux", Arch: "amd64", Capabilities: []string{CapTelemetry, CapScreenshot, CapChecks, CapArticles, CapLanguage}, LastSeq: 41, Revision: Revision, Language: "de"},
		KindWelcome: Welcome{DeviceID: "dev_1", ServerVersion: "1.0.0", Capabilities: []string{CapTelemetry}, PingSeconds: 120, ReplayFrom: 42, ReplayTo: 44, ServerName: "Acme IT", Revision: Revision, ArticlesRevision: 7, SoftwareHash: "sha256:" + strings.Repeat("ab", 32),
			Expectations: []Expectation{{Urgency: UrgencyBlocking, FirstResponseMinutes: 120, Working: true, NextOpen: t0.Add(14 * time.Hour)},
				{Urgency: UrgencyWhenYouCan, FirstResponseMinutes: 960, Working: true}}, DefaultLanguage: "de"},
		KindAck:            Ack{ID: "f1c0ffee-0000-4000-8000-000000000001", Ref: "req_1"},
		KindError:          Error{Code: ErrUnknownType, Message: "unknown message type \"bogus\"", Ref: "abc"},
		KindRequestNew:     RequestNew{RequestID: "req_1", Category: CategorySoftware, Urgency: UrgencyWhenYouCan, Text: "I installed Figma for my work", Screenshot: &Attachment{Name: "screen.png", Type: "image/png", Data: []byte{0x89, 'P', 'N', 'G'}}, Snapshot: &snap, CreatedAt: t0, ShownArticles: []string{"art_1"}, SoftwareTitle: "sw_0123456789abcdef"},
		KindRequestReply:   RequestReply{RequestID: "req_1", MessageID: "msg_1", Text: "Thanks!", CreatedAt: t0},
		KindRequestRate:    RequestRate{RequestID: "req_1", Rating: 5, Comment: "Quick and kind"},
		KindRequestReopen:  RequestReopen{RequestID: "req_1", Text: "It came back"},
		KindSnapshot:       snap,
		KindTelemetry:      Telemetry{At: t0, CPUPct: 12.5, MemPct: 50, DiskPct: 80, NetRxBps: 1000, NetTxBps: 200},
		KindUpdateReport:   UpdateReport{FromVersion: "1.0.0", ToVersion: "1.1.0", OK: true},
		KindDeliveryCursor: DeliveryCursor{Seq: 44},
		KindCheckReport: CheckReport{Check: CheckDiskSpace, State: CheckWarn, Summary: "Your disk is almost full: 3.1 GB left.",
			Evidence: map[string]string{"mount": "/home", "free_gb": "3.1", "free_pct": "4.2"}, ObservedAt: t0},
		KindArticleFeedback:   ArticleFeedback{ArticleID: "art_1", Event: ArticleSolved, At: t0},
		KindAnnouncementMeToo: AnnouncementMeToo{AnnouncementID: "ann_1", At: t0},
		KindChecksPolicy: ChecksPolicy{Revision: 3, Group: "sales", UpdatedAt: t0, Checks: []CheckPolicy{
			DefaultCheckPolicy(CheckDiskSpace),
			{Kind: CheckPasswordExpiry, Enabled: true, PasswordDays: 10, RemindHours: 24, Text: "Your password expires in {days} days.", FixURL: "https://id.example.com/password"},
		}},
		KindArticlesChanged: ArticlesChanged{Revision: 7},
		KindSoftwareInventory: SoftwareInventory{BaseHash: "sha256:" + strings.Repeat("ab", 32), Hash: "sha256:" + strings.Repeat("cd", 32), CollectedAt: t0,
			Added:   []SoftwareEntry{{Name: "Figma", Version: "124.1.2", Publisher: "Figma, Inc.", Source: SourceRegistryUser, PerUser: true, AppID: "Figma"}},
			Removed: []SoftwareEntry{{Name: "firefox-esr", Version: "115.9.1esr-1", Publisher: "Debian Mozilla Maintainers", Source: SourceDpkg}}},
		KindDeviceLanguage: DeviceLanguage{Language: "fr-CA"},
		KindSoftwareAnswer: SoftwareAnswer{TitleID: "sw_0123456789abcdef", Answer: AnswerForWork, RequestID: "req_1", At: t0},
		KindSoftwareWant:   SoftwareWant{Reason: "base_unknown", Have: "sha256:" + strings.Repeat("ab", 32)},
		KindSoftwareAsk:    SoftwareAsk{TitleID: "sw_0123456789abcdef", Name: "Figma", Publisher: "Figma, Inc.", Version: "124.1.2"},
		KindSoftwareThanks: SoftwareThanks{TitleID: "sw_0123456789abcdef", Name: "Figma", Status: SoftwareNotForWork, Reason: "It keeps files outside our storage.",
			Alternative: "Penpot (in the catalogue)", RequestID: "req_1"},
		KindSoftwareUpdated: SoftwareUpdated{Titles: []string{"sw_0123456789abcdef"}, NewTitles: 3},
		KindRequestSlipping: RequestSlipping{Request: RequestSummary{RequestID: "req_1", DeviceID: "dev_1", Hostname: "ws-anna", User: "anna",
			Category: "email", Urgency: UrgencyBlocking, Status: StatusInProgress, Text: "Outlook won't start", Assignee: "tech_1",
			CreatedAt: t0, UpdatedAt: t0, FirstResponseDue: t0.Add(2 * time.Hour), ResolutionDue: t0.Add(8 * time.Hour)},
			Target: "first_response", Due: t0.Add(2 * time.Hour), AssigneeName: "Rob"},
		KindMessage:         Message{RequestID: "req_1", MessageID: "msg_2", Author: rob, Text: "On it!", CreatedAt: t0},
		KindRequestStatus:   RequestStatus{RequestID: "req_1", Status: StatusInProgress, Assignee: &rob, Text: "Rob picked up your request", ChangedAt: t0},
		KindAnnouncement:    Announcement{AnnouncementID: "ann_1", Title: "Email is slow", Text: "We're on it.", Severity: "outage", Author: rob, CreatedAt: t0, ExpiresAt: t0.Add(4 * time.Hour), Kind: AnnouncementKnownProblem},
		KindSnapshotWant:    struct{}{},
		KindTelemetryStart:  TelemetryStart{IntervalMS: 2000},
		KindTelemetryStop:   struct{}{},
		KindUpdateAvailable: UpdateAvailable{Version: "1.1.0", Channel: "stable", ManifestURL: "/api/v1/releases/rel_1/manifest", BinaryURL: "/api/v1/releases/rel_1/binary"},
		KindPresence:        Presence{DeviceID: "dev_1", Hostname: "ana-laptop", User: "ana", OS: "linux", Online: true, At: t0},
		KindRequestCreated:  RequestSummary{RequestID: "req_1", DeviceID: "dev_1", Hostname: "ana-laptop", User: "ana", Category: CategoryProblem, Urgency: UrgencyBlocking, Status: StatusNew, Text: "Wi-Fi drops", CreatedAt: t0, UpdatedAt: t0},
		KindRequestUpdated: RequestSummary{RequestID: "req_1", DeviceID: "dev_1", Hostname: "ana-laptop", Category: CategoryProblem, Urgency: UrgencyBlocking, Status: StatusResolved, Assignee: "tech_1", Rating: 5, CreatedAt: t0, UpdatedAt: t0,
			FirstResponseDue: t0.Add(2 * time.Hour), ResolutionDue: t0.Add(8 * time.Hour), FirstResponseAt: t0.Add(30 * time.Minute),
			ResolvedAt: t0.Add(3 * time.Hour)},
		KindDeviceMessage:  Message{RequestID: "req_1", MessageID: "msg_1", DeviceID: "dev_1", Author: Person{Name: "ana"}, FromUser: true, Text: "Thanks!", CreatedAt: t0},
		KindDeviceSnapshot: DeviceSnapshot{DeviceID: "dev_1", Snapshot: snap},
		KindDeviceTelem:    Telemetry{DeviceID: "dev_1", At: t0, CPUPct: 12.5, MemPct: 50, DiskPct: 80},
		KindConsoleHello:   ConsoleHello{TechnicianID: "tech_1", Name: "Rob", ServerVersion: "1.0.0"},
		KindRequestThread:  ThreadItem{RequestID: "req_1", Item: ThreadNote, ID: "note_1", Author: "Rob", At: t0},
		KindDeviceChecks: DeviceChecks{Checks: []DeviceCheck{{DeviceID: "dev_1", Hostname: "ana-laptop", User: "ana", UpdatedAt: t0, CheckReport: CheckReport{Check: CheckDiskSpace,
			State: CheckAskedIT, Summary: "Your disk is almost full: 3.1 GB left.", Evidence: map[string]string{"free_gb": "3.1"}, RequestID: "req_1", ObservedAt: t0}}}},
		KindPresenceBatch: PresenceBatch{Devices: []Presence{{DeviceID: "dev_1", Hostname: "ana-laptop", User: "ana", OS: "linux", Online: true, At: t0},
			{DeviceID: "dev_2", Hostname: "bo-desktop", OS: "windows", Online: false, At: t0}}},
		KindAnnouncementUpdated: AnnouncementUpdated{AnnouncementID: "ann_1", MeToo: 12,
			Who: &Presence{DeviceID: "dev_1", Hostname: "ana-laptop", User: "ana", OS: "linux", Online: true, At: t0}},
	}
}

func TestGoldenWireForm(t *testing.T) {
	for kind, body := range golden() {
		t.Run(string(kind), func(t *testing.T) {
			env, err := NewWithID(kind, "f1c0ffee-0000-4000-8000-000000000001", body)
			if err != nil {
				t.Fatal(err)
			}
			env.TS = t0
			if kind == KindMessage || kind == KindAnnouncement || kind == KindRequestStatus || kind == KindChecksPolicy || kind == KindSoftwareAsk || kind == KindSoftwareThanks {
				env.Seq = 42
			}
			got, err := json.MarshalIndent(env, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, '\n')
			path := filepath.Join("testdata", string(kind)+".json")
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("read golden (run go test -update): %v", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("wire form of %s changed; if on purpose, bump Version or run -update\n got: %s\nwant: %s", kind, got, want)
			}
			// Round trip: the golden file parses back to the same body.
			parsed, err := Parse(want)
			if err != nil {
				t.Fatal(err)
			}
			if parsed.Type != kind || parsed.Seq != env.Seq {
				t.Errorf("parsed envelope = %+v", parsed)
			}
			ptr := reflect.New(reflect.TypeOf(body))
			if err := json.Unmarshal(parsed.Body, ptr.Interface()); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(ptr.Elem().Interface(), body) {
				t.Errorf("round trip changed body:\n got %#v\nwant %#v", ptr.Elem().Interface(), body)
			}
		})
	}
}

func TestEveryKindHasGolden(t *testing.T) {
	src, err := os.ReadFile("envelope.go")
	if err != nil {
		t.Fatal(err)
	}
	g := golden()
	for _, line := range strings.Split(string(src), "\n") {
		line = strings.TrimSpace(line)
		if !strings.HasPrefix(line, "Kind") || !strings.Contains(line, "Kind = \"") {
			continue
		}
		val := strings.Split(strings.Split(line, "\"")[1], "\"")[0]
		if _, ok := g[Kind(val)]; !ok {
			t.Errorf("kind %q has no golden wire-form test", val)
		}
	}
}

func TestParseRejects(t *testing.T) {
	cases := []struct {
		name, in string
		want     error
	}{
		{"wrong version", `{"v":2,"type":"hello","id":"x"}`, ErrVersion},
		{"no type", `{"v":1,"id":"x"}`, ErrNoType},
		{"no id", `{"v":1,"type":"hello"}`, ErrNoID},
	}
	for _, c := range cases {
		if _, err := Parse([]byte(c.in)); !errors.Is(err, c.want) {
			t.Errorf("%s: err = %v, want %v", c.name, err, c.want)
		}
	}
	if _, err := Parse([]byte(`{not json`)); err == nil {
		t.Error("invalid JSON parsed")
	}
}

func TestDecodeValidates(t *testing.T) {
	bad := []RequestNew{
		{RequestID: "r", Category: "rant", Urgency: UrgencyBlocking, Text: "x"},
		{RequestID: "r", Category: CategoryProblem, Urgency: "now!!", Text: "x"},
		{RequestID: "r", Category: CategoryProblem, Urgency: UrgencyBlocking, Text: "   "},
		{RequestID: "", Category: CategoryProblem, Urgency: UrgencyBlocking, Text: "x"},
		{RequestID: "r", Category: CategoryProblem, Urgency: UrgencyBlocking, Text: strings.Repeat("a", MaxTextRunes+1)},
		{RequestID: "r", Category: CategoryProblem, Urgency: UrgencyBlocking, Text: "x", Screenshot: &Attachment{Type: "image/png", Data: make([]byte, MaxScreenshotBytes+1)}},
		{RequestID: "r", Category: CategoryProblem, Urgency: UrgencyBlocking, Text: "x", Screenshot: &Attachment{Type: "application/x-msdownload", Data: []byte("MZ")}},
	}
	for i, b := range bad {
		env, _ := New(KindRequestNew, b)
		var got RequestNew
		if err := env.Decode(&got); err == nil {
			t.Errorf("case %d: invalid request accepted", i)
		}
	}
	if err := (&RequestRate{RequestID: "r", Rating: 6}).Validate(); err == nil {
		t.Error("rating 6 accepted")
	}
	env, _ := New(KindRequestNew, RequestNew{RequestID: "r", Category: CategoryIdea, Urgency: UrgencyWhenYouCan, Text: "ok"})
	var ok RequestNew
	if err := env.Decode(&ok); err != nil {
		t.Errorf("valid request refused: %v", err)
	}
}

func TestToken(t *testing.T) {
	pin := bytes.Repeat([]byte{0xab}, 32)
	tok := Token{Secret: "abcdefghijklmnopqrstuvwx", Pin: pin}
	got, err := ParseToken(" " + tok.String() + "\n")
	if err != nil {
		t.Fatal(err)
	}
	if got.Secret != tok.Secret || !bytes.Equal(got.Pin, pin) {
		t.Errorf("round trip = %+v", got)
	}
	for _, bad := range []string{"", "hello", "dsk1_short", "dsk1_abcdefghijklmnopqrstuvwx.zz", "dsk1_abcdefghijklmnop qrstuvwx", "dsk1_abcdefghijklmnopqrstuvwx.abcd"} {
		if _, err := ParseToken(bad); err == nil {
			t.Errorf("ParseToken(%q) accepted", bad)
		}
	}
}

func TestDeviceAuth(t *testing.T) {
	id, sec, err := ParseDeviceAuth(DeviceAuthHeader("dev_1", "s3cret"))
	if err != nil || id != "dev_1" || sec != "s3cret" {
		t.Fatalf("got %q %q %v", id, sec, err)
	}
	for _, bad := range []string{"", "Bearer x", DeviceAuthScheme + "nocolon", DeviceAuthScheme + ":x", DeviceAuthScheme + "x:"} {
		if _, _, err := ParseDeviceAuth(bad); err == nil {
			t.Errorf("ParseDeviceAuth(%q) accepted", bad)
		}
	}
}
