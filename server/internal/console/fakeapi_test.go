package console

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/deskside/deskside/server/internal/sla"
	"github.com/deskside/deskside/shared/protocol"
)

// fakeAPI is a stand-in for the server that follows docs/api.md, with rich,
// fixed data. It lets the UI tests and the screenshots run without the
// store and hub; the end-to-end flow test uses the real server
// (server/servertest) instead.
type fakeAPI struct {
	t   *testing.T
	srv *httptest.Server

	mu        sync.Mutex
	signedIn  bool
	tech      map[string]string
	requests  []protocol.RequestSummary
	snapshots map[string]protocol.Snapshot // request id → snapshot when raised
	devices   []map[string]any
	now       map[string]protocol.Snapshot // device id → latest
	messages  map[string][]protocol.Message
	anns      []map[string]any
	releases  []map[string]any
	conns     []*websocket.Conn
}

const fakeCSRF = "csrf-fake-token"

// Snap is a sample device snapshot with the given load.
func Snap(host, user, osName, platform string, cpu, mem, disk float64, uptime uint64) protocol.Snapshot {
	return protocol.Snapshot{
		TakenAt: time.Now().UTC().Add(-20 * time.Minute), AgentVersion: "1.0.0",
		Host:    protocol.Host{Hostname: host, OS: osName, Platform: platform, PlatformVersion: "12.7", Arch: "amd64", UptimeSeconds: uptime, User: user, Model: "ThinkPad X1 Carbon"},
		CPU:     protocol.CPU{Model: "Intel(R) Core(TM) i7-1165G7", Cores: 4, Threads: 8, UsagePct: cpu},
		Memory:  protocol.Memory{TotalBytes: 16 << 30, UsedBytes: uint64(mem / 100 * float64(16<<30)), UsedPct: mem},
		Disks:   []protocol.Disk{{Mount: "/", FS: "ext4", TotalBytes: 500 << 30, FreeBytes: uint64((100 - disk) / 100 * float64(500<<30)), UsedPct: disk}},
		Network: []protocol.NetIf{{Name: "wlan0", Addrs: []string{"192.0.2.10/24"}, Up: true}},
		Battery: &protocol.Battery{Percent: 64, State: "discharging"},
		TopCPU:  []protocol.Proc{{Name: "Teams", CPUPct: 41}, {Name: "chrome", CPUPct: 18}},
	}
}

func newFakeAPI(t *testing.T) *fakeAPI {
	f := &fakeAPI{t: t,
		tech:      map[string]string{"id": "tech_1", "email": "rob@example.com", "name": "Rob", "greeting": "Hi, I'm Rob — I'll take care of this", "role": "admin"},
		snapshots: map[string]protocol.Snapshot{}, now: map[string]protocol.Snapshot{}, messages: map[string][]protocol.Message{},
	}
	ago := func(d time.Duration) time.Time { return time.Now().UTC().Add(-d) }
	f.requests = []protocol.RequestSummary{
		{RequestID: "req_1", DeviceID: "dev_1", Hostname: "ana-laptop", User: "ana", Category: protocol.CategoryProblem, Urgency: protocol.UrgencyBlocking, Status: protocol.StatusNew, Text: "Wi-Fi keeps dropping every few minutes, I can't stay in the client call", CreatedAt: ago(6 * time.Minute), UpdatedAt: ago(6 * time.Minute)},
		{RequestID: "req_2", DeviceID: "dev_2", Hostname: "ben-desktop", User: "ben", Category: protocol.CategorySoftware, Urgency: protocol.UrgencyWhenYouCan, Status: protocol.StatusInProgress, Assignee: "tech_1", Text: "I installed Figma for the new brochure — can it be set up properly?", CreatedAt: ago(50 * time.Minute), UpdatedAt: ago(20 * time.Minute)},
		{RequestID: "req_3", DeviceID: "dev_3", Hostname: "chloe-mac", User: "chloe", Category: protocol.CategoryQuestion, Urgency: protocol.UrgencyWhenYouCan, Status: protocol.StatusWaitingOnUser, Assignee: "tech_2", Text: "How do I share my calendar with the team?", CreatedAt: ago(2 * time.Hour), UpdatedAt: ago(time.Hour)},
		{RequestID: "req_4", DeviceID: "dev_1", Hostname: "ana-laptop", User: "ana", Category: protocol.CategoryIdea, Urgency: protocol.UrgencyWhenYouCan, Status: protocol.StatusResolved, Assignee: "tech_1", Rating: 5, Text: "Could the printer on floor 2 be added for everyone?", CreatedAt: ago(26 * time.Hour), UpdatedAt: ago(20 * time.Hour)},
	}
	f.snapshots["req_1"] = Snap("ana-laptop", "ana", "linux", "debian", 22, 48, 71, 7200)
	f.now["dev_1"] = Snap("ana-laptop", "ana", "linux", "debian", 91, 83, 72, 7500)
	f.now["dev_2"] = Snap("ben-desktop", "ben", "windows", "Microsoft Windows 11 Pro", 12, 40, 55, 90000)
	f.now["dev_3"] = Snap("chloe-mac", "chloe", "darwin", "darwin", 8, 61, 44, 300000)
	f.messages["req_2"] = []protocol.Message{{RequestID: "req_2", MessageID: "m1", Author: protocol.Person{Name: "Rob"}, Text: "Hi Ben, happy to help — I'll set up the licence this afternoon.", CreatedAt: ago(20 * time.Minute)}}
	f.devices = []map[string]any{
		{"id": "dev_1", "hostname": "ana-laptop", "user": "ana", "os": "linux", "platform": "debian", "arch": "amd64", "group": "design", "agent_version": "1.0.0", "online": true, "last_seen": ago(0), "enrolled_at": ago(200 * time.Hour)},
		{"id": "dev_2", "hostname": "ben-desktop", "user": "ben", "os": "windows", "platform": "Windows 11 Pro", "arch": "amd64", "group": "design", "agent_version": "1.0.0", "online": true, "last_seen": ago(0), "enrolled_at": ago(100 * time.Hour)},
		{"id": "dev_3", "hostname": "chloe-mac", "user": "chloe", "os": "darwin", "platform": "macOS 15", "arch": "arm64", "group": "sales", "agent_version": "0.9.2", "online": false, "last_seen": ago(40 * time.Minute), "enrolled_at": ago(300 * time.Hour)},
	}
	f.anns = []map[string]any{
		{"id": "ann_1", "title": "Email is slow this morning", "text": "We know, and we're on it. Next update by 11:00.", "severity": "outage", "target": map[string]string{"kind": "all"}, "recipients": 42, "delivered": 39, "created_at": ago(90 * time.Minute), "expires_at": time.Now().Add(3 * time.Hour)},
		{"id": "ann_2", "title": "Windows updates tonight", "text": "Please leave your computer on and plugged in.", "severity": "info", "target": map[string]string{"kind": "os", "value": "windows"}, "recipients": 17, "delivered": 17, "created_at": ago(26 * time.Hour)},
	}
	f.releases = []map[string]any{
		{"id": "rel_win140", "version": "1.4.0", "os": "windows", "arch": "amd64", "channel": "stable", "percent": 25, "paused": false,
			"uploaded": ago(26 * time.Hour), "uploaded_by": "rob@example.com", "devices": 96, "updated": 96, "failed": 0},
		{"id": "rel_mac140", "version": "1.4.0", "os": "darwin", "arch": "arm64", "channel": "stable", "percent": 10, "paused": true,
			"halted_reason": "halted: rolled back on device dev_3: 1.4.0 did not report healthy within 5m0s",
			"uploaded":      ago(26 * time.Hour), "uploaded_by": "rob@example.com", "devices": 11, "updated": 11, "failed": 2},
		{"id": "rel_lin140", "version": "1.4.0", "os": "linux", "arch": "amd64", "channel": "beta", "percent": 100, "paused": false,
			"uploaded": ago(50 * time.Hour), "uploaded_by": "rob@example.com", "devices": 40, "updated": 39, "failed": 0},
		{"id": "rel_win132rb", "version": "1.3.2", "os": "windows", "arch": "amd64", "channel": "stable", "rollback": true, "percent": 0, "paused": false,
			"uploaded": ago(3 * time.Hour), "uploaded_by": "rob@example.com", "devices": 310, "updated": 0, "failed": 0},
	}
	mux := http.NewServeMux()
	mux.Handle("/", Handler())
	mux.HandleFunc("/api/v1/", f.api)
	mux.HandleFunc("/ws/console", f.ws)
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeAPI) json(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}

func (f *fakeAPI) api(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	p := strings.TrimPrefix(r.URL.Path, "/api/v1/")
	if p == "login" {
		var in map[string]string
		json.NewDecoder(r.Body).Decode(&in)
		if in["password"] != "correct horse" {
			f.json(w, 401, protocol.APIError{Error: "bad_credentials", Msg: "Wrong email or password."})
			return
		}
		f.signedIn = true
		f.json(w, 200, map[string]any{"technician": f.tech, "csrf_token": fakeCSRF})
		return
	}
	if !f.signedIn {
		f.json(w, 401, protocol.APIError{Error: "signed_out", Msg: "Please sign in."})
		return
	}
	if r.Method != "GET" && r.Header.Get("X-CSRF-Token") != fakeCSRF {
		f.json(w, 403, protocol.APIError{Error: "csrf", Msg: "Missing CSRF token."})
		return
	}
	parts := strings.Split(p, "/")
	switch {
	case p == "session":
		f.json(w, 200, map[string]any{"technician": f.tech, "csrf_token": fakeCSRF})
	case p == "sla":
		f.json(w, 200, sla.Default("Europe/Berlin"))
	case p == "logout":
		f.signedIn = false
		w.WriteHeader(204)
	case p == "requests":
		f.json(w, 200, map[string]any{"requests": f.requests, "counts": map[string]int{}})
	case parts[0] == "requests" && len(parts) == 2 && r.Method == "GET":
		for _, q := range f.requests {
			if q.RequestID == parts[1] {
				s := f.snapshots[q.RequestID]
				f.json(w, 200, map[string]any{"request": q, "snapshot": s, "messages": f.messages[q.RequestID],
					"notes":      []map[string]any{{"id": "n1", "author": "Rob", "text": "Same access point as last week's drops on floor 3.", "created_at": time.Now().Add(-3 * time.Minute)}},
					"screenshot": q.RequestID == "req_1", "assignee": map[string]string{"id": q.Assignee}})
				return
			}
		}
		f.json(w, 404, protocol.APIError{Error: "not_found", Msg: "No such request."})
	case parts[0] == "requests" && len(parts) == 3 && parts[2] == "screenshot":
		w.Header().Set("Content-Type", "image/svg+xml")
		w.Write([]byte(`<svg xmlns="http://www.w3.org/2000/svg" width="640" height="400"><rect width="640" height="400" fill="#dfe7ef"/><rect x="120" y="120" width="400" height="150" rx="8" fill="#fff" stroke="#999"/><text x="150" y="200" font-family="sans-serif" font-size="22">No internet connection</text></svg>`))
	case parts[0] == "requests" && len(parts) == 3 && parts[2] == "messages":
		var in map[string]string
		json.NewDecoder(r.Body).Decode(&in)
		m := protocol.Message{RequestID: parts[1], MessageID: protocol.NewID(), Author: protocol.Person{Name: "Rob"}, Text: in["text"], CreatedAt: time.Now().UTC()}
		f.messages[parts[1]] = append(f.messages[parts[1]], m)
		f.json(w, 201, m)
	case parts[0] == "requests" && len(parts) == 3 && parts[2] == "notes":
		var in map[string]string
		json.NewDecoder(r.Body).Decode(&in)
		f.json(w, 201, map[string]any{"id": protocol.NewID(), "author": "Rob", "text": in["text"], "created_at": time.Now().UTC()})
	case parts[0] == "requests" && len(parts) == 2 && r.Method == "PATCH":
		var in map[string]string
		json.NewDecoder(r.Body).Decode(&in)
		for i, q := range f.requests {
			if q.RequestID == parts[1] {
				if s, ok := in["status"]; ok {
					q.Status = protocol.Status(s)
				}
				if a, ok := in["assignee"]; ok {
					if a == "me" {
						a = "tech_1"
					}
					q.Assignee = a
				}
				f.requests[i] = q
				f.json(w, 200, q)
				return
			}
		}
	case p == "devices":
		f.json(w, 200, map[string]any{"devices": f.devices})
	case parts[0] == "devices" && len(parts) == 2:
		for _, d := range f.devices {
			if d["id"] == parts[1] {
				out := map[string]any{"snapshot": f.now[parts[1]]}
				for k, v := range d {
					out[k] = v
				}
				f.json(w, 200, out)
				return
			}
		}
		f.json(w, 404, protocol.APIError{Error: "not_found", Msg: "No such device."})
	case parts[0] == "devices" && len(parts) == 3:
		w.WriteHeader(202)
	case p == "announcements" && r.Method == "GET":
		f.json(w, 200, map[string]any{"announcements": f.anns})
	case p == "announcements":
		var in map[string]any
		json.NewDecoder(r.Body).Decode(&in)
		in["id"], in["recipients"], in["delivered"], in["created_at"] = "ann_x", 3, 0, time.Now()
		f.anns = append([]map[string]any{in}, f.anns...)
		f.json(w, 201, in)
	case p == "replies":
		// The five saved replies a new server starts with (store migration 4).
		f.json(w, 200, map[string]any{"replies": []map[string]string{
			{"id": "rep_check", "title": "Check now?", "body": "Hi {{first_name}}, I've made a change on our side. Could you check whether it works for you now?"},
			{"id": "rep_looking", "title": "Looking into it", "body": "Hi {{first_name}}, thanks for letting us know — I'm looking into it now and will get back to you shortly."},
			{"id": "rep_resolved", "title": "Resolved", "body": "Hi {{first_name}}, this should be sorted now. If anything is still not right, just reply here and I'll pick it up again."},
			{"id": "rep_software", "title": "Software: on it", "body": "Hi {{first_name}}, happy to help with that software — I'll get it set up for you properly."},
			{"id": "rep_restart", "title": "Try a restart", "body": "Hi {{first_name}}, could you try closing the app and opening it again, then tell me if it still happens?"}}})
	case p == "audit":
		f.json(w, 200, map[string]any{"entries": []map[string]any{
			{"at": time.Now().Add(-time.Minute), "actor": "rob@example.com", "action": "login", "target": "rob@example.com", "detail": "password from 192.0.2.10"},
			{"at": time.Now().Add(-time.Hour), "actor": "rob@example.com", "action": "token.create", "target": "tok_1", "detail": "group design"}}})
	case p == "tokens" && r.Method == "GET":
		f.json(w, 200, map[string]any{"tokens": []map[string]any{{"id": "tok_1", "group": "design", "uses": 2, "max_uses": 10, "created_at": time.Now().Add(-time.Hour), "expires_at": time.Now().Add(48 * time.Hour)}}})
	case p == "tokens":
		f.json(w, 201, map[string]any{"id": "tok_2", "group": "default", "token": "dsk1_abcdefghijklmnopqrstuvwx"})
	case p == "releases" && r.Method == "GET":
		f.json(w, 200, map[string]any{"releases": f.releases, "versions": []map[string]any{
			{"version": "1.3.2", "os": "windows", "arch": "amd64", "devices": 310},
			{"version": "1.4.0", "os": "windows", "arch": "amd64", "devices": 96},
			{"version": "1.3.2", "os": "darwin", "arch": "arm64", "devices": 58},
			{"version": "1.4.0", "os": "linux", "arch": "amd64", "devices": 40},
			{"version": "1.4.0", "os": "darwin", "arch": "arm64", "devices": 11},
			{"version": "1.3.1", "os": "linux", "arch": "amd64", "devices": 6},
		}})
	case parts[0] == "releases" && len(parts) == 2:
		for _, rel := range f.releases {
			if rel["id"] != parts[1] {
				continue
			}
			if r.Method == "PATCH" {
				var in map[string]any
				json.NewDecoder(r.Body).Decode(&in)
				if v, ok := in["percent"].(float64); ok {
					rel["percent"] = int(v)
				}
				if v, ok := in["paused"].(bool); ok {
					rel["paused"] = v
					if !v {
						delete(rel, "halted_reason")
					}
				}
				f.json(w, 200, rel)
				return
			}
			var fails []map[string]any
			if rel["id"] == "rel_mac140" {
				fails = []map[string]any{
					{"release_id": "rel_mac140", "device_id": "dev_3", "from_version": "1.3.2", "to_version": "1.4.0", "ok": false, "rolled_back": true,
						"detail": "1.4.0 did not report healthy within 5m0s", "at": time.Now().Add(-40 * time.Minute)},
					{"release_id": "rel_mac140", "device_id": "dev_9", "from_version": "1.3.2", "to_version": "1.4.0", "ok": false,
						"detail": "refused: smoke run printed \"1.3.9\", want \"1.4.0\"", "at": time.Now().Add(-55 * time.Minute)},
				}
			}
			f.json(w, 200, map[string]any{"release": rel, "failures": fails})
			return
		}
		f.json(w, 404, protocol.APIError{Error: "not_found", Msg: "There is no such release."})
	case p == "me":
		var in map[string]string
		json.NewDecoder(r.Body).Decode(&in)
		for k, v := range in {
			if k != "password" {
				f.tech[k] = v
			}
		}
		f.json(w, 200, f.tech)
	case p == "profile/notifications":
		f.json(w, 200, map[string]any{"assigned": true, "slipping": true, "monthly_report": false, "email": "rob@example.com", "email_on": true})
	case p == "technicians":
		f.json(w, 200, map[string]any{"technicians": []any{f.tech, map[string]any{"id": "tech_2", "name": "Sam", "email": "sam@example.com", "role": "technician"}}})
	default:
		f.json(w, 404, protocol.APIError{Error: "not_found", Msg: "Not in the fake: " + p})
	}
}

func (f *fakeAPI) ws(w http.ResponseWriter, r *http.Request) {
	if r.URL.Query().Get("csrf") != fakeCSRF {
		http.Error(w, "no", http.StatusForbidden)
		return
	}
	c, err := (&websocket.Upgrader{}).Upgrade(w, r, nil)
	if err != nil {
		return
	}
	f.mu.Lock()
	f.conns = append(f.conns, c)
	f.mu.Unlock()
	f.send(protocol.KindConsoleHello, protocol.ConsoleHello{TechnicianID: "tech_1", Name: "Rob"})
	for {
		if _, _, err := c.ReadMessage(); err != nil {
			return
		}
	}
}

// send broadcasts a console frame to every open console link.
func (f *fakeAPI) send(k protocol.Kind, body any) {
	env, err := protocol.New(k, body)
	if err != nil {
		f.t.Fatal(err)
	}
	b, _ := env.Marshal()
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, c := range f.conns {
		c.WriteMessage(websocket.TextMessage, b)
	}
}
