package api_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/deskside/deskside/server/internal/store"
	"github.com/deskside/deskside/server/internal/store/softwaretest"
	"github.com/deskside/deskside/server/servertest"
	"github.com/deskside/deskside/shared/protocol"
)

// storeOf opens a second handle on the test server's database, to seed
// what the ingest side would have stored.
func storeOf(t *testing.T, srv *servertest.Server) *store.SQL {
	t.Helper()
	var st *store.SQL
	var err error
	if srv.Store() == "postgres" {
		st, err = store.OpenPostgres(context.Background(), srv.DatabaseURL())
	} else {
		st, err = store.Open(context.Background(), srv.DataDir())
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// raiseSoftwareRequest sends a "Software I use or need" request and
// waits for its ack.
func raiseSoftwareRequest(t *testing.T, d *servertest.Device, text string) string {
	t.Helper()
	id := protocol.NewID()
	fid := d.Send(t, protocol.KindRequestNew, protocol.RequestNew{RequestID: id, Category: protocol.CategorySoftware,
		Urgency: protocol.UrgencyWhenYouCan, Text: text, CreatedAt: time.Now().UTC()})
	waitFrameAck(t, d, fid)
	return id
}

type fleet struct {
	srv        *servertest.Server
	admin      *servertest.Tech
	st         *store.SQL
	ana, ben   *servertest.Device
	figma      string
	zoom       string
	formulaRow string
}

func newFleet(t *testing.T) *fleet {
	srv := servertest.New(t)
	f := &fleet{srv: srv, admin: srv.Tech(t), st: storeOf(t, srv)}
	f.ana, f.ben = srv.Enroll(t, "ana-laptop"), srv.Enroll(t, "ben-desktop")
	ctx := context.Background()
	ids, err := softwaretest.Seed(ctx, f.st,
		softwaretest.Title{Name: "Figma", Publisher: "Figma, Inc.", Source: protocol.SourceRegistryUser, Devices: []string{f.ana.ID, f.ben.ID},
			PerUser: 2, Versions: map[string]int{"124.5.4": 2}, FirstSeen: time.Now().Add(-time.Hour)},
		softwaretest.Title{Name: "Zoom Workplace", Publisher: "Zoom Video Communications, Inc.", Source: protocol.SourceRegistryMachine,
			Status: protocol.SoftwareApproved, Devices: []string{f.ana.ID, f.ben.ID}, FirstSeen: time.Now().Add(-60 * 24 * time.Hour)},
		softwaretest.Title{Name: "=HYPERLINK(\"https://evil.example\",\"Click\")", Publisher: "@evil", Source: protocol.SourceDesktop,
			Devices: []string{f.ben.ID}, FirstSeen: time.Now().Add(-30 * 24 * time.Hour)},
	)
	if err != nil {
		t.Fatal(err)
	}
	f.figma, f.zoom, f.formulaRow = ids[0], ids[1], ids[2]
	for _, d := range []*servertest.Device{f.ana, f.ben} {
		if err := softwaretest.Answer(ctx, f.st, f.figma, d.ID, d.Hostname, protocol.AnswerForWork, "", time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

func TestSoftwareList(t *testing.T) {
	f := newFleet(t)
	list := func(q string) (int, store.SoftwarePage) {
		var p store.SoftwarePage
		st := f.admin.Do(t, "GET", "/api/v1/software"+q, nil, &p)
		return st, p
	}
	for q, want := range map[string]int{
		"":                               3,
		"?status=new":                    2,
		"?status=new,approved":           3,
		"?new=7":                         1,
		"?per_user=1":                    1,
		"?source=windows&sort=name":      2,
		"?q=ZOOM":                        1,
		"?q=video+inc":                   1,
		"?catalogue=1":                   0,
		"?limit=1&offset=1&sort=name":    3,
		"?status=approved&source=dpkg":   0,
		"?sort=first_seen&per_user=true": 1,
	} {
		st, p := list(q)
		if st != http.StatusOK || p.Total != want {
			t.Errorf("GET %s: %d, total %d, want %d", q, st, p.Total, want)
		}
	}
	if _, p := list("?limit=1&offset=1&sort=name"); len(p.Titles) != 1 || p.Titles[0].Name != "Figma" {
		t.Errorf("page 2 by name: %+v", p.Titles)
	}
	for _, q := range []string{"?status=banned", "?new=week", "?new=0", "?source=apt", "?sort=price", "?limit=5000", "?offset=-1",
		"?q=" + strings.Repeat("x", 201)} {
		if st, _ := list(q); st != http.StatusBadRequest {
			t.Errorf("GET %s: %d, want 400", q, st)
		}
	}

	// The CSV export: every matching title, one row each, formulas
	// defused; asked for by format or by Accept.
	for _, how := range []struct{ q, accept string }{{"?format=csv", ""}, {"", "text/csv"}} {
		req, _ := http.NewRequest("GET", f.srv.URL()+"/api/v1/software"+how.q, nil)
		if how.accept != "" {
			req.Header.Set("Accept", how.accept)
		}
		resp, err := f.admin.Client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		rows, err := csv.NewReader(resp.Body).ReadAll()
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") || len(rows) != 4 {
			t.Fatalf("CSV %+v: %d %s, %d rows, %v", how, resp.StatusCode, resp.Header.Get("Content-Type"), len(rows), err)
		}
		if strings.Join(rows[0], ",") != "id,name,publisher,source,status,devices,per_user_devices,told,first_seen,last_seen,reason,alternative" {
			t.Errorf("CSV header: %v", rows[0])
		}
		for _, r := range rows[1:] {
			if r[0] == f.formulaRow && (!strings.HasPrefix(r[1], "'=") || r[2] != "'@evil") {
				t.Errorf("formula row not defused: %v", r)
			}
			if r[0] == f.figma && (r[1] != "Figma" || r[4] != "new" || r[5] != "2" || r[7] != "2") {
				t.Errorf("Figma row: %v", r)
			}
		}
	}
}

// IT approves a title: the people who told IT are thanked (online now,
// offline at their next hello), consoles hear of it, the audit log has it;
// bad changes are refused with a clear reason.
func TestSoftwareApproveThanks(t *testing.T) {
	f := newFleet(t)
	f.ana.ConnectWith(t, protocol.Hello{AgentVersion: "1.5.0", OS: "windows", Arch: "amd64", Capabilities: []string{protocol.CapSoftware}})
	con := f.admin.Console(t)
	path := "/api/v1/software/" + f.figma

	var e protocol.APIError
	for name, body := range map[string]map[string]any{
		"unknown status":          {"status": "banned"},
		"not for work, no reason": {"status": "not_for_work"},
		"10 KB reason":            {"status": "not_for_work", "reason": strings.Repeat("Licences are per seat. ", 450)},
		"http catalogue link":     {"catalogue_url": "http://www.figma.com/downloads/"},
		"catalogue, not approved": {"catalogue": true, "catalogue_how": "link", "catalogue_url": "https://www.figma.com/downloads/"},
		"unknown field":           {"colour": "green"},
	} {
		e = protocol.APIError{}
		b, _ := json.Marshal(body)
		st, out := f.admin.DoRaw(t, "PATCH", path, "application/json", bytes.NewReader(b))
		if json.Unmarshal(out, &e); st != http.StatusBadRequest || e.Msg == "" {
			t.Errorf("%s: %d %s, want 400 with a reason", name, st, out)
		}
	}
	if st := f.admin.Do(t, "PATCH", "/api/v1/software/sw_0000000000000000", map[string]any{"status": "approved"}, nil); st != http.StatusNotFound {
		t.Errorf("unknown title: %d", st)
	}
	csrf := f.admin.CSRF
	f.admin.CSRF = ""
	if st := f.admin.Do(t, "PATCH", path, map[string]any{"status": "approved"}, nil); st != http.StatusForbidden {
		t.Errorf("PATCH without CSRF: %d", st)
	}
	f.admin.CSRF = csrf

	var out struct {
		store.SoftwareTitle
		Thanked  int `json:"thanked"`
		SentLive int `json:"sent_live"`
	}
	msg := "Thanks for telling us! Figma is now supported; ask us for a licence any time."
	if st := f.admin.Do(t, "PATCH", path, map[string]any{"status": "approved", "message": msg}, &out); st != http.StatusOK {
		t.Fatalf("approve: %d", st)
	}
	if out.Status != protocol.SoftwareApproved || out.Thanked != 2 || out.SentLive != 1 || out.CameInAt.IsZero() || out.StatusBy != servertest.AdminName {
		t.Fatalf("approve answered %+v", out)
	}
	var th protocol.SoftwareThanks
	if err := f.ana.WaitFor(t, protocol.KindSoftwareThanks).Decode(&th); err != nil || th.TitleID != f.figma || th.Status != protocol.SoftwareApproved || th.Text != msg {
		t.Fatalf("ana's thanks: %+v %v", th, err)
	}
	var ev protocol.SoftwareUpdated
	if err := con.WaitFor(t, protocol.KindSoftwareUpdated).Decode(&ev); err != nil || len(ev.Titles) != 1 || ev.Titles[0] != f.figma {
		t.Fatalf("console event: %+v %v", ev, err)
	}
	// Ben was offline: his thanks waits for him.
	f.ben.Connect(t, 0)
	if err := f.ben.WaitFor(t, protocol.KindSoftwareThanks).Decode(&th); err != nil || th.TitleID != f.figma {
		t.Fatalf("ben's thanks: %+v %v", th, err)
	}

	var page struct {
		Title   store.SoftwareTitle          `json:"title"`
		Devices []store.SoftwareDevice       `json:"devices"`
		Answers []store.SoftwareAnswer       `json:"answers"`
		History []store.SoftwareStatusChange `json:"history"`
	}
	if st := f.admin.Do(t, "GET", path, nil, &page); st != http.StatusOK || page.Title.Devices != 2 || len(page.Devices) != 2 ||
		len(page.Answers) != 2 || len(page.History) != 1 || page.History[0].ByName != servertest.AdminName {
		t.Fatalf("title page: %d %+v", st, page)
	}
	if st := f.admin.Do(t, "GET", "/api/v1/software/sw_0000000000000000", nil, nil); st != http.StatusNotFound {
		t.Errorf("unknown title page: %d", st)
	}
	var fig store.SoftwareFigures
	if st := f.admin.Do(t, "GET", "/api/v1/software/figures", nil, &fig); st != http.StatusOK || fig.CameInThisMonth != 1 || fig.ThankedMonth != 2 || fig.Titles != 3 {
		t.Errorf("figures: %d %+v", st, fig)
	}
	var audit struct {
		Entries []store.AuditEntry `json:"entries"`
	}
	f.admin.Do(t, "GET", "/api/v1/audit", nil, &audit)
	found := false
	for _, a := range audit.Entries {
		found = found || (a.Action == "software.update" && a.Target == f.figma)
	}
	if !found {
		t.Errorf("no software.update in the audit log: %+v", audit.Entries)
	}
}

// Forty technicians approve at once: one history row, each person thanked once.
func TestSoftwareFortyParallelApprovals(t *testing.T) {
	f := newFleet(t)
	var wg sync.WaitGroup
	codes := make(chan int, 40)
	for range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest("PATCH", f.srv.URL()+"/api/v1/software/"+f.figma, strings.NewReader(`{"status":"approved"}`))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("X-CSRF-Token", f.admin.CSRF)
			resp, err := f.admin.Client.Do(req)
			if err != nil {
				codes <- 0
				return
			}
			resp.Body.Close()
			codes <- resp.StatusCode
		}()
	}
	wg.Wait()
	close(codes)
	for c := range codes {
		if c != http.StatusOK {
			t.Errorf("a parallel approval answered %d", c)
		}
	}
	var page struct {
		History []store.SoftwareStatusChange `json:"history"`
	}
	if f.admin.Do(t, "GET", "/api/v1/software/"+f.figma, nil, &page); len(page.History) != 1 {
		t.Errorf("history: %+v, want one row", page.History)
	}
	for _, d := range []*servertest.Device{f.ana, f.ben} {
		rep, err := f.st.Replay(context.Background(), d.ID, 0)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, x := range rep {
			if env, err := protocol.Parse(x.Bytes()); err == nil && env.Type == protocol.KindSoftwareThanks {
				n++
			}
		}
		if n != 1 {
			t.Errorf("%s was thanked %d times, want once", d.Hostname, n)
		}
	}
}

func TestSoftwarePolicy(t *testing.T) {
	f := newFleet(t)
	var p store.SoftwarePolicy
	if st := f.admin.Do(t, "GET", "/api/v1/software/policy", nil, &p); st != http.StatusOK || p.Prompt {
		t.Fatalf("default policy: %d %+v", st, p)
	}
	if st := f.admin.Do(t, "POST", "/api/v1/technicians", map[string]string{"email": "sam@example.com", "name": "Sam",
		"password": "a long enough password", "role": "technician"}, nil); st != http.StatusCreated {
		t.Fatalf("create technician: %d", st)
	}
	sam := f.srv.Login(t, "sam@example.com", "a long enough password")
	if st := sam.Do(t, "PUT", "/api/v1/software/policy", map[string]any{"prompt": true}, nil); st != http.StatusForbidden {
		t.Errorf("technician sets the policy: %d, want 403", st)
	}
	if st := sam.Do(t, "GET", "/api/v1/software/policy", nil, nil); st != http.StatusOK {
		t.Errorf("technician reads the policy: %d", st)
	}
	if st := f.admin.Do(t, "PUT", "/api/v1/software/policy", map[string]any{"prompt": true, "prompt_text": strings.Repeat("Is it for work? ", 40)}, nil); st != http.StatusBadRequest {
		t.Errorf("long prompt text: %d", st)
	}
	if st := f.admin.Do(t, "PUT", "/api/v1/software/policy", map[string]any{"prompt": true}, &p); st != http.StatusOK || !p.Prompt || p.UpdatedBy != servertest.AdminName {
		t.Fatalf("admin sets the policy: %d %+v", st, p)
	}
	if got, _ := f.st.SoftwarePolicy(context.Background()); !got.Prompt {
		t.Errorf("policy not stored: %+v", got)
	}
}

// A software request links to a title, re-links and unlinks; the request
// view and the title page show it.
func TestSoftwareRequestLink(t *testing.T) {
	f := newFleet(t)
	f.ana.Connect(t, 0)
	req := raiseSoftwareRequest(t, f.ana, "I use Figma for the brand refresh. Can we get it supported?")
	other := f.ana.RaiseRequest(t, "My printer is offline")
	link := func(id, title string) int {
		return f.admin.Do(t, "PUT", "/api/v1/requests/"+id+"/software", map[string]string{"title_id": title}, nil)
	}
	linked := func() string {
		var out struct {
			Software *store.SoftwareTitle `json:"software"`
		}
		f.admin.Do(t, "GET", "/api/v1/requests/"+req, nil, &out)
		if out.Software == nil {
			return ""
		}
		return out.Software.ID
	}
	if st := link(req, f.figma); st != http.StatusOK || linked() != f.figma {
		t.Fatalf("link: %d %q", st, linked())
	}
	var page struct {
		Requests []store.RequestSummaryLite `json:"requests"`
	}
	if f.admin.Do(t, "GET", "/api/v1/software/"+f.figma, nil, &page); len(page.Requests) != 1 || page.Requests[0].ID != req {
		t.Errorf("title page requests: %+v", page.Requests)
	}
	if st := link(req, f.zoom); st != http.StatusOK || linked() != f.zoom {
		t.Errorf("re-link: %d %q", st, linked())
	}
	if st := link(other, f.figma); st != http.StatusConflict {
		t.Errorf("a problem request: %d, want 409", st)
	}
	if st := link(req, "sw_0000000000000000"); st != http.StatusNotFound {
		t.Errorf("unknown title: %d", st)
	}
	if st := link(req, "figma"); st != http.StatusBadRequest {
		t.Errorf("not a title id: %d", st)
	}
	if st := link("req_none", f.figma); st != http.StatusNotFound {
		t.Errorf("unknown request: %d", st)
	}
	if st := link(req, ""); st != http.StatusOK || linked() != "" {
		t.Errorf("unlink: %d %q", st, linked())
	}
}

// The catalogue answers a device with its own credentials.
func TestSoftwareCatalogue(t *testing.T) {
	f := newFleet(t)
	if st := f.admin.Do(t, "PATCH", "/api/v1/software/"+f.zoom, map[string]any{"catalogue": true, "catalogue_how": "link",
		"catalogue_url": "https://zoom.us/download", "description": "Video meetings"}, nil); st != http.StatusOK {
		t.Fatalf("put Zoom in the catalogue: %d", st)
	}
	st, body := f.ana.Get(t, protocol.SoftwareCataloguePath)
	var c protocol.SoftwareCatalogue
	if st != http.StatusOK || json.Unmarshal(body, &c) != nil || len(c.Items) != 1 || c.Items[0].TitleID != f.zoom || c.Items[0].URL != "https://zoom.us/download" {
		t.Fatalf("catalogue: %d %s", st, body)
	}
	resp, err := http.Get(f.srv.URL() + protocol.SoftwareCataloguePath)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("catalogue without credentials: %d", resp.StatusCode)
	}
}
