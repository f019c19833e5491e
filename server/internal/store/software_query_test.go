package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/deskside/deskside/server/internal/store/pgtest"
	"github.com/deskside/deskside/server/internal/store/softwaretest"
	"github.com/deskside/deskside/shared/protocol"
)

var swTests = []struct {
	name string
	fn   func(t *testing.T, s Store)
}{
	{"SoftwareList", testSoftwareList},
	{"SoftwareDetail", testSoftwareDetail},
	{"SoftwareUpdate", testSoftwareUpdate},
	{"SoftwareParallelApprove", testSoftwareParallelApprove},
	{"SoftwareLinkRequest", testSoftwareLinkRequest},
	{"SoftwareCatalogueAndPolicy", testSoftwareCatalogueAndPolicy},
	{"SoftwareFromInventories", testSoftwareFromInventories},
}

func TestSoftwareSQLite(t *testing.T) {
	for _, tc := range swTests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, openSQLite(t, t.TempDir()))
		})
	}
}

func TestSoftwarePostgres(t *testing.T) {
	pgtest.URL(t)
	for _, tc := range swTests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, openPostgres(t, pgtest.URL(t)))
		})
	}
}

// seedFleet enrolls devices and seeds a small, realistic registry:
//
//	Figma         windows  new           3 devices, 2 per user, first seen 2 days ago
//	Zoom          windows  approved      4 devices
//	7-Zip         windows  under_review  2 devices
//	Obsidian      flatpak  new           1 device, per user, first seen 30 days ago
//	Slack         snap     not_for_work  2 devices
//	Spotify       macos    new           1 device, per user
//	firefox-esr   dpkg     approved      4 devices
func seedFleet(t *testing.T, s Store) map[string]string {
	t.Helper()
	ctx := context.Background()
	enroll(t, s, map[string]string{"ana": "windows", "ben": "windows", "cai": "linux", "dee": "darwin"})
	now := time.Now()
	titles := []softwaretest.Title{
		{Name: "Figma", Publisher: "Figma, Inc.", Source: protocol.SourceRegistryUser, Devices: []string{"ana", "ben", "dee"}, PerUser: 2,
			Versions: map[string]int{"124.5.4": 2, "124.4.0": 1}, FirstSeen: now.Add(-48 * time.Hour)},
		{Name: "Zoom Workplace", Publisher: "Zoom Video Communications, Inc.", Source: protocol.SourceRegistryMachine,
			Status: protocol.SoftwareApproved, Devices: []string{"ana", "ben", "cai", "dee"}, FirstSeen: now.Add(-40 * 24 * time.Hour)},
		{Name: "7-Zip 24.08 (x64)", Publisher: "Igor Pavlov", Source: protocol.SourceRegistryMachine, Status: protocol.SoftwareUnderReview,
			Devices: []string{"ana", "ben"}, FirstSeen: now.Add(-20 * 24 * time.Hour)},
		{Name: "Obsidian", Publisher: "Dynalist Inc.", Source: protocol.SourceFlatpak, Devices: []string{"cai"}, PerUser: 1,
			FirstSeen: now.Add(-30 * 24 * time.Hour)},
		{Name: "Slack", Publisher: "Slack Technologies", Source: protocol.SourceSnap, Status: protocol.SoftwareNotForWork,
			Devices: []string{"cai", "dee"}, FirstSeen: now.Add(-10 * 24 * time.Hour)},
		{Name: "Spotify", Publisher: "Spotify AB", Source: protocol.SourceAppBundle, Devices: []string{"dee"}, PerUser: 1,
			FirstSeen: now.Add(-1 * time.Hour)},
		{Name: "firefox-esr", Source: protocol.SourceDpkg, Status: protocol.SoftwareApproved, Devices: []string{"ana", "ben", "cai", "dee"},
			FirstSeen: now.Add(-90 * 24 * time.Hour)},
	}
	ids, err := softwaretest.Seed(ctx, s.(*SQL), titles...)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for i, tt := range titles {
		out[tt.Name] = ids[i]
	}
	return out
}

func names(p SoftwarePage) []string {
	var out []string
	for _, t := range p.Titles {
		out = append(out, t.Name)
	}
	return out
}

// Every filter of the Software page narrows the list and the total; the
// sorts order it; pages do not overlap.
func testSoftwareList(t *testing.T, s Store) {
	ctx := context.Background()
	seedFleet(t, s)
	week := time.Now().Add(-7 * 24 * time.Hour)
	for _, c := range []struct {
		name string
		f    SoftwareFilter
		want []string
	}{
		{"status list", SoftwareFilter{Status: []protocol.SoftwareStatus{protocol.SoftwareNew, protocol.SoftwareUnderReview}, Sort: "name"},
			[]string{"7-Zip 24.08 (x64)", "Figma", "Obsidian", "Spotify"}},
		{"new this week", SoftwareFilter{NewSince: week, Sort: "first_seen"}, []string{"Spotify", "Figma"}},
		{"per-user only", SoftwareFilter{PerUserOnly: true, Sort: "per_user"}, []string{"Figma", "Obsidian", "Spotify"}},
		{"source family", SoftwareFilter{Source: "windows", Sort: "name"}, []string{"7-Zip 24.08 (x64)", "Figma", "Zoom Workplace"}},
		{"search ignores case", SoftwareFilter{Query: "FIGMA"}, []string{"Figma"}},
		{"search the publisher", SoftwareFilter{Query: "video"}, []string{"Zoom Workplace"}},
		{"every word must match", SoftwareFilter{Query: "zoom inc"}, []string{"Zoom Workplace"}},
		{"wildcards are literal", SoftwareFilter{Query: "%"}, nil},
		{"underscore is literal", SoftwareFilter{Query: "_"}, nil},
		{"filters combine", SoftwareFilter{Source: "windows", PerUserOnly: true, Status: []protocol.SoftwareStatus{protocol.SoftwareNew}}, []string{"Figma"}},
	} {
		p, err := s.ListSoftware(ctx, c.f)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if !slices.Equal(names(p), c.want) || p.Total != len(c.want) {
			t.Errorf("%s: %v (total %d), want %v", c.name, names(p), p.Total, c.want)
		}
	}
	// The default view: most devices first, ties by id; pages of it do
	// not overlap and carry the total of all.
	all, err0 := s.ListSoftware(ctx, SoftwareFilter{})
	p1, err1 := s.ListSoftware(ctx, SoftwareFilter{Limit: 2})
	p2, err2 := s.ListSoftware(ctx, SoftwareFilter{Limit: 2, Offset: 2})
	past, err3 := s.ListSoftware(ctx, SoftwareFilter{Offset: 50})
	if err := errors.Join(err0, err1, err2, err3); err != nil {
		t.Fatal(err)
	}
	if all.Total != 7 || !slices.IsSortedFunc(all.Titles, func(a, b SoftwareTitle) int {
		if a.Devices != b.Devices {
			return b.Devices - a.Devices
		}
		return strings.Compare(a.ID, b.ID)
	}) {
		t.Errorf("default view: %v", names(all))
	}
	if !slices.Equal(append(names(p1), names(p2)...), names(all)[:4]) || p1.Total != 7 || p2.Total != 7 || len(past.Titles) != 0 || past.Total != 7 {
		t.Errorf("pages: %v %v %v (totals %d %d %d)", names(p1), names(p2), names(past), p1.Total, p2.Total, past.Total)
	}
	z := all.Titles[slices.IndexFunc(all.Titles, func(x SoftwareTitle) bool { return x.Name == "Zoom Workplace" })]
	if z.Source != "windows" || z.Status != protocol.SoftwareApproved || z.Devices != 4 || z.FirstSeen.IsZero() || z.Publisher == "" {
		t.Errorf("a listed title: %+v", z)
	}
	// A search counts every match, on a short page and past the end.
	if p, err := s.ListSoftware(ctx, SoftwareFilter{Query: "inc", Limit: 1}); err != nil || len(p.Titles) != 1 || p.Total != 3 {
		t.Errorf("search, one per page: %v total %d %v", names(p), p.Total, err)
	}
	if p, err := s.ListSoftware(ctx, SoftwareFilter{Query: "inc", Offset: 10}); err != nil || len(p.Titles) != 0 || p.Total != 3 {
		t.Errorf("search past the end: %v total %d %v", names(p), p.Total, err)
	}
	var bad *SoftwareInputError
	if _, err := s.ListSoftware(ctx, SoftwareFilter{Status: []protocol.SoftwareStatus{"banned"}}); !errors.As(err, &bad) {
		t.Errorf("unknown status: %v, want an input error", err)
	}
	if _, err := s.ListSoftware(ctx, SoftwareFilter{Sort: "price"}); !errors.As(err, &bad) {
		t.Errorf("unknown sort: %v, want an input error", err)
	}
	if p, err := s.ListSoftware(ctx, SoftwareFilter{Limit: 5000}); err != nil || len(p.Titles) != 7 {
		t.Errorf("a limit over 1000 is cut, not refused: %v %v", names(p), err)
	}
}

func rob() Technician { return Technician{ID: "tech_rob", Name: "Rob"} }

func thanksOut(t SoftwareTitle, a SoftwareAnswer) Outgoing {
	return Outgoing{Kind: protocol.KindSoftwareThanks, ID: "thanks-" + t.ID + "-" + a.DeviceID + "-" + string(t.Status),
		Body: protocol.SoftwareThanks{TitleID: t.ID, Name: t.Name, Status: t.Status, Reason: t.Reason, Alternative: t.Alternative, RequestID: a.RequestID}}
}

func softwareRequest(t *testing.T, s Store, id, device string) {
	t.Helper()
	r := newRequest(id, device)
	r.Category, r.Text = protocol.CategorySoftware, "I use Figma for the new brand work, can it be supported?"
	if _, err := s.CreateRequest(context.Background(), "f-"+id, r, nil); err != nil {
		t.Fatal(err)
	}
}

// A title page holds versions (most devices first), its devices by name,
// who told IT, linked requests and the status history.
func testSoftwareDetail(t *testing.T, s Store) {
	ctx := context.Background()
	ids := seedFleet(t, s)
	figma := ids["Figma"]
	softwareRequest(t, s, "req_ana", "ana")
	if err := s.LinkRequestSoftware(ctx, "req_ana", figma); err != nil {
		t.Fatal(err)
	}
	if err := softwaretest.Answer(ctx, s.(*SQL), figma, "ana", "ana.lopez", protocol.AnswerForWork, "req_ana", time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := softwaretest.Answer(ctx, s.(*SQL), figma, "ben", "ben.okafor", protocol.AnswerPersonal, "", time.Now().Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	reason := "We are moving design work to Penpot."
	if _, _, err := s.UpdateSoftware(ctx, figma, SoftwareChange{Status: ptr(protocol.SoftwareUnderReview)}, rob(), time.Now(), thanksOut); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.UpdateSoftware(ctx, figma, SoftwareChange{Status: ptr(protocol.SoftwareNotForWork), Reason: &reason},
		Technician{ID: "tech_mia", Name: "Mia"}, time.Now(), thanksOut); err != nil {
		t.Fatal(err)
	}
	d, err := s.SoftwareTitleDetail(ctx, figma, 2)
	if err != nil {
		t.Fatal(err)
	}
	if d.Name != "Figma" || d.SoftwareTitle.Devices != 3 || d.Told != 1 || d.Status != protocol.SoftwareNotForWork || d.StatusBy != "Mia" {
		t.Errorf("title: %+v", d.SoftwareTitle)
	}
	if len(d.Versions) != 2 || d.Versions[0].Version != "124.5.4" || d.Versions[0].Devices != 2 {
		t.Errorf("versions: %+v", d.Versions)
	}
	if len(d.Devices) != 2 || d.Devices[0].Hostname == "" || d.Devices[0].DeviceID == d.Devices[1].DeviceID {
		t.Errorf("devices (limit 2): %+v", d.Devices)
	}
	if all, _ := s.SoftwareTitleDetail(ctx, figma, 0); len(all.Devices) != 3 {
		t.Errorf("devices (default limit): %+v", all.Devices)
	}
	if len(d.Answers) != 2 || d.Answers[0].User != "ana.lopez" || d.Answers[0].Answer != protocol.AnswerForWork ||
		d.Answers[0].Hostname != "ana" || d.Answers[0].ThankedAt.IsZero() || !d.Answers[1].ThankedAt.IsZero() {
		t.Errorf("answers: %+v", d.Answers)
	}
	if len(d.Requests) != 1 || d.Requests[0].ID != "req_ana" || d.Requests[0].Hostname != "ana" || d.Requests[0].Status != "new" {
		t.Errorf("requests: %+v", d.Requests)
	}
	if len(d.History) != 2 || d.History[0].To != protocol.SoftwareNotForWork || d.History[0].From != protocol.SoftwareUnderReview ||
		d.History[0].ByName != "Mia" || d.History[0].Reason != reason || d.History[1].ByName != "Rob" || d.History[1].From != protocol.SoftwareNew {
		t.Errorf("history: %+v", d.History)
	}
	if _, err := s.SoftwareTitleDetail(ctx, "sw_0000000000000000", 10); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown title: %v", err)
	}
	// An empty title (no devices left) has a page too.
	none, err := softwaretest.Seed(ctx, s.(*SQL), softwaretest.Title{Name: "Old Tool", Source: protocol.SourceDpkg})
	if err != nil {
		t.Fatal(err)
	}
	if d, err := s.SoftwareTitleDetail(ctx, none[0], 10); err != nil || len(d.Devices) != 0 || d.Versions == nil || d.History == nil {
		t.Errorf("empty title: %+v %v", d, err)
	}
}

func ptr[T any](v T) *T { return &v }

// IT's decisions: bad changes are refused with a clear reason and change
// nothing; approving thanks everyone who told IT (once), marks the title
// as come in from the cold, and the figures count it.
func testSoftwareUpdate(t *testing.T, s Store) {
	ctx := context.Background()
	ids := seedFleet(t, s)
	figma := ids["Figma"]
	for _, d := range []string{"ana", "dee"} {
		if err := softwaretest.Answer(ctx, s.(*SQL), figma, d, d+".user", protocol.AnswerForWork, "", time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	if err := softwaretest.Answer(ctx, s.(*SQL), figma, "ben", "ben.user", protocol.AnswerPersonal, "", time.Now()); err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("We cannot support this. ", 430) // 10 KB
	for name, ch := range map[string]SoftwareChange{
		"unknown status":           {Status: ptr(protocol.SoftwareStatus("banned"))},
		"not for work, no reason":  {Status: ptr(protocol.SoftwareNotForWork)},
		"10 KB reason":             {Status: ptr(protocol.SoftwareNotForWork), Reason: &long},
		"http catalogue link":      {CatalogueURL: ptr("http://figma.com/download")},
		"catalogue, not approved":  {Catalogue: ptr(true), CatalogueHow: ptr("link"), CatalogueURL: ptr("https://figma.com/download")},
		"catalogue without how":    {Status: ptr(protocol.SoftwareApproved), Catalogue: ptr(true)},
		"link without URL":         {Status: ptr(protocol.SoftwareApproved), Catalogue: ptr(true), CatalogueHow: ptr("link")},
		"unknown catalogue kind":   {CatalogueHow: ptr("carrier-pigeon")},
		"unknown catalogue system": {CatalogueOS: ptr([]string{"plan9"})},
		"invalid UTF-8":            {Reason: ptr("caf\xe9")},
	} {
		var bad *SoftwareInputError
		if _, _, err := s.UpdateSoftware(ctx, figma, ch, rob(), time.Now(), thanksOut); !errors.As(err, &bad) || bad.Msg == "" {
			t.Errorf("%s: %v, want an input error", name, err)
		}
	}
	if d, _ := s.SoftwareTitleDetail(ctx, figma, 0); d.Status != protocol.SoftwareNew || len(d.History) != 0 {
		t.Fatalf("refused changes left a trace: %+v %+v", d.SoftwareTitle, d.History)
	}
	if _, _, err := s.UpdateSoftware(ctx, "sw_0000000000000000", SoftwareChange{Status: ptr(protocol.SoftwareApproved)}, rob(), time.Now(), thanksOut); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown title: %v", err)
	}

	now := time.Now()
	tt, ds, err := s.UpdateSoftware(ctx, figma, SoftwareChange{Status: ptr(protocol.SoftwareApproved), Catalogue: ptr(true),
		CatalogueHow: ptr("link"), CatalogueURL: ptr("https://www.figma.com/downloads/"), Description: ptr("Design and prototyping"),
		CatalogueOS: ptr([]string{"windows", "darwin"})}, rob(), now, thanksOut)
	if err != nil {
		t.Fatal(err)
	}
	if tt.Status != protocol.SoftwareApproved || !tt.Catalogue || tt.CameInAt.IsZero() || tt.StatusBy != "Rob" || !slices.Equal(tt.CatalogueOS, []string{"windows", "darwin"}) {
		t.Errorf("approved title: %+v", tt)
	}
	var got []string
	for _, d := range ds {
		got = append(got, d.DeviceID)
		env, err := protocol.Parse(d.Bytes())
		var th protocol.SoftwareThanks
		if err != nil || env.Type != protocol.KindSoftwareThanks || env.Seq != d.Seq || env.Decode(&th) != nil || th.Status != protocol.SoftwareApproved || th.Name != "Figma" {
			t.Errorf("thanks frame for %s: %+v %v", d.DeviceID, env, err)
		}
		if rep, err := s.Replay(ctx, d.DeviceID, 0); err != nil || len(rep) != 1 || rep[0].Seq != d.Seq {
			t.Errorf("thanks for %s not stored for replay: %d frames %v", d.DeviceID, len(rep), err)
		}
	}
	if !slices.Equal(got, []string{"ana", "dee"}) {
		t.Errorf("thanked %v, want ana and dee (ben said personal)", got)
	}
	// The same decision again: no history, no second thanks; a catalogue
	// edit keeps the status.
	if tt, ds, err := s.UpdateSoftware(ctx, figma, SoftwareChange{Status: ptr(protocol.SoftwareApproved), CataloguePackage: ptr("figma")}, rob(), now, thanksOut); err != nil || len(ds) != 0 || tt.CataloguePackage != "figma" || !tt.Catalogue {
		t.Errorf("approve again: %d deliveries, %+v %v", len(ds), tt, err)
	}
	d, _ := s.SoftwareTitleDetail(ctx, figma, 0)
	if len(d.History) != 1 || d.History[0].From != protocol.SoftwareNew || d.History[0].To != protocol.SoftwareApproved || d.History[0].ByID != "tech_rob" {
		t.Errorf("history: %+v", d.History)
	}
	f, err := s.SoftwareFigures(ctx, now)
	if err != nil {
		t.Fatal(err)
	}
	if (f != SoftwareFigures{Titles: 7, NewThisWeek: 2, Unreviewed: 2, PerUser: 3, CameInThisMonth: 1, ThankedMonth: 2, Devices: 4}) {
		t.Errorf("figures: %+v", f)
	}
	// Not for work: leaves the catalogue, thanks the same people with the
	// reason (a new status), and the title stays "came in" once.
	why, alt := "Licences are per seat and we have none left.", "Penpot (in the catalogue)"
	tt, ds, err = s.UpdateSoftware(ctx, figma, SoftwareChange{Status: ptr(protocol.SoftwareNotForWork), Reason: &why, Alternative: &alt}, rob(), now, thanksOut)
	if err != nil || len(ds) != 2 || tt.Catalogue || tt.Reason != why {
		t.Fatalf("not for work: %d deliveries, %+v %v", len(ds), tt, err)
	}
	// A title nobody told IT about does not come in from the cold.
	if tt, _, err := s.UpdateSoftware(ctx, ids["7-Zip 24.08 (x64)"], SoftwareChange{Status: ptr(protocol.SoftwareApproved)}, rob(), now, thanksOut); err != nil || !tt.CameInAt.IsZero() {
		t.Errorf("approve 7-Zip: %+v %v", tt, err)
	}
	if f, _ := s.SoftwareFigures(ctx, now); f.CameInThisMonth != 1 || f.ThankedMonth != 2 || f.Unreviewed != 2 {
		t.Errorf("figures after: %+v", f)
	}
	// Next month the month's figures start again.
	if f, _ := s.SoftwareFigures(ctx, now.AddDate(0, 1, 1)); f.CameInThisMonth != 0 || f.ThankedMonth != 0 {
		t.Errorf("figures next month: %+v", f)
	}
}

// Forty technicians approve the same title at once: one history row, and
// each person who told IT is thanked exactly once.
func testSoftwareParallelApprove(t *testing.T, s Store) {
	ctx := context.Background()
	ids := seedFleet(t, s)
	figma := ids["Figma"]
	for _, d := range []string{"ana", "ben", "dee"} {
		if err := softwaretest.Answer(ctx, s.(*SQL), figma, d, d, protocol.AnswerForWork, "", time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	thanked := map[string]int{}
	errs := make(chan error, 40)
	for i := range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, ds, err := s.UpdateSoftware(ctx, figma, SoftwareChange{Status: ptr(protocol.SoftwareApproved)},
				Technician{ID: fmt.Sprintf("tech_%d", i), Name: fmt.Sprintf("Tech %d", i)}, time.Now(), thanksOut)
			if err != nil {
				errs <- err
				return
			}
			mu.Lock()
			for _, d := range ds {
				thanked[d.DeviceID]++
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if len(thanked) != 3 || thanked["ana"] != 1 || thanked["ben"] != 1 || thanked["dee"] != 1 {
		t.Errorf("thanked %v, want each of ana, ben, dee once", thanked)
	}
	d, err := s.SoftwareTitleDetail(ctx, figma, 0)
	if err != nil || len(d.History) != 1 {
		t.Fatalf("history after 40 approvals: %+v %v", d.History, err)
	}
	for _, dev := range []string{"ana", "ben", "dee"} {
		if rep, err := s.Replay(ctx, dev, 0); err != nil || len(rep) != 1 {
			t.Errorf("%s has %d stored frames, want one thanks (%v)", dev, len(rep), err)
		}
	}
}

// A software request links to a title, re-links, unlinks; other requests
// and unknown titles are refused.
func testSoftwareLinkRequest(t *testing.T, s Store) {
	ctx := context.Background()
	ids := seedFleet(t, s)
	softwareRequest(t, s, "req_sw", "ana")
	if _, err := s.CreateRequest(ctx, "f-mail", newRequest("req_mail", "ana"), nil); err != nil {
		t.Fatal(err)
	}
	linked := func() string {
		st, err := s.RequestSoftware(ctx, "req_sw")
		if err != nil {
			t.Fatal(err)
		}
		if st == nil {
			return ""
		}
		return st.ID
	}
	if linked() != "" {
		t.Fatal("a fresh request is linked")
	}
	if err := s.LinkRequestSoftware(ctx, "req_sw", ids["Figma"]); err != nil || linked() != ids["Figma"] {
		t.Fatalf("link: %v %q", err, linked())
	}
	if err := s.LinkRequestSoftware(ctx, "req_sw", ids["Obsidian"]); err != nil || linked() != ids["Obsidian"] {
		t.Fatalf("re-link: %v %q", err, linked())
	}
	if d, _ := s.SoftwareTitleDetail(ctx, ids["Figma"], 0); len(d.Requests) != 0 {
		t.Errorf("Figma still lists the re-linked request: %+v", d.Requests)
	}
	if err := s.LinkRequestSoftware(ctx, "req_sw", "sw_0000000000000000"); !errors.Is(err, ErrNotFound) || linked() != ids["Obsidian"] {
		t.Errorf("unknown title: %v, linked %q", err, linked())
	}
	if err := s.LinkRequestSoftware(ctx, "req_mail", ids["Figma"]); !errors.Is(err, ErrConflict) {
		t.Errorf("an email request: %v, want ErrConflict", err)
	}
	if err := s.LinkRequestSoftware(ctx, "req_none", ids["Figma"]); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown request: %v", err)
	}
	if err := s.LinkRequestSoftware(ctx, "req_sw", ""); err != nil || linked() != "" {
		t.Errorf("unlink: %v %q", err, linked())
	}
}

// The catalogue lists approved titles IT put in it, by name; the policy
// round-trips through the meta key the ingest side reads.
func testSoftwareCatalogueAndPolicy(t *testing.T, s Store) {
	ctx := context.Background()
	ids := seedFleet(t, s)
	if c, err := s.SoftwareCatalogue(ctx); err != nil || len(c) != 0 {
		t.Fatalf("empty catalogue: %+v %v", c, err)
	}
	for _, ch := range []struct {
		id string
		ch SoftwareChange
	}{
		{ids["Zoom Workplace"], SoftwareChange{Catalogue: ptr(true), CatalogueHow: ptr("link"), CatalogueURL: ptr("https://zoom.us/download")}},
		{ids["firefox-esr"], SoftwareChange{Catalogue: ptr(true), CatalogueHow: ptr("package"), CataloguePackage: ptr("firefox-esr"),
			CatalogueOS: ptr([]string{"linux"})}},
	} {
		if _, _, err := s.UpdateSoftware(ctx, ch.id, ch.ch, rob(), time.Now(), thanksOut); err != nil {
			t.Fatal(err)
		}
	}
	c, err := s.SoftwareCatalogue(ctx)
	if err != nil || len(c) != 2 || c[0].Name != "firefox-esr" || c[0].How != "package" || c[0].Package != "firefox-esr" ||
		!slices.Equal(c[0].OS, []string{"linux"}) || c[1].URL != "https://zoom.us/download" {
		t.Fatalf("catalogue: %+v %v", c, err)
	}
	if p, _ := s.ListSoftware(ctx, SoftwareFilter{Catalogue: true, Sort: "name"}); !slices.Equal(names(p), []string{"firefox-esr", "Zoom Workplace"}) {
		t.Errorf("catalogue filter: %v", names(p))
	}

	if p, err := s.SoftwarePolicy(ctx); err != nil || p.Prompt {
		t.Fatalf("default policy: %+v %v", p, err)
	}
	p, err := s.PutSoftwarePolicy(ctx, SoftwarePolicy{Prompt: true, PromptText: "  Is this app part of your work? Tell us, no trouble at all. ", UpdatedBy: "Rob"})
	if err != nil || p.UpdatedAt.IsZero() || p.PromptText != "Is this app part of your work? Tell us, no trouble at all." {
		t.Fatalf("put policy: %+v %v", p, err)
	}
	if got, err := s.SoftwarePolicy(ctx); err != nil || got != p {
		t.Errorf("policy read back %+v %v, want %+v", got, err, p)
	}
	if raw, _ := s.GetMeta(ctx, SoftwarePolicyKey); raw == "" {
		t.Error("policy not under its meta key")
	}
	var bad *SoftwareInputError
	if _, err := s.PutSoftwarePolicy(ctx, SoftwarePolicy{PromptText: strings.Repeat("Is it for work? ", 40)}); !errors.As(err, &bad) {
		t.Errorf("long prompt: %v", err)
	}
}

// The registry as the real ingest leaves it: inventories absorbed with
// ApplyInventories and an answer recorded with RecordSoftwareAnswer are
// what the list, the title page (versions and per-user installs read from
// the desks' stored inventories) and IT's approval see.
func testSoftwareFromInventories(t *testing.T, s Store) {
	ctx := context.Background()
	enroll(t, s, map[string]string{"ana": "windows", "ben": "windows", "cai": "linux"})
	now := time.Now()
	inv := func(dev string, es ...protocol.SoftwareEntry) InventoryUpdate {
		es, _ = protocol.NormalizeSoftware(es)
		return InventoryUpdate{FrameID: "inv-" + dev, DeviceID: dev, At: now,
			Inventory: protocol.SoftwareInventory{Full: true, Hash: protocol.SoftwareHash(es), Entries: es, CollectedAt: now}}
	}
	figmaUser := protocol.SoftwareEntry{Name: "Figma", Version: "124.5.4", Publisher: "Figma, Inc.", Source: protocol.SourceRegistryUser, PerUser: true}
	figmaMachine := protocol.SoftwareEntry{Name: "Figma (x64)", Version: "124.4.0", Publisher: "Figma Inc", Source: protocol.SourceRegistryMachine}
	zoom := protocol.SoftwareEntry{Name: "Zoom Workplace", Version: "6.2.5", Publisher: "Zoom Video Communications, Inc.", Source: protocol.SourceRegistryMachine}
	gimp := protocol.SoftwareEntry{Name: "GIMP", Version: "2.10.38", Source: protocol.SourceFlatpak, AppID: "org.gimp.GIMP"}
	outs, err := s.ApplyInventories(ctx, []InventoryUpdate{inv("ana", figmaUser, zoom), inv("ben", figmaMachine, zoom), inv("cai", gimp)})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range outs {
		if o.Err != nil || o.Resync {
			t.Fatalf("ingest: %+v", o)
		}
	}
	figma := figmaUser.TitleID()
	if figmaMachine.TitleID() != figma {
		t.Fatal("the two Figma installs are not one title")
	}
	p, err := s.ListSoftware(ctx, SoftwareFilter{PerUserOnly: true})
	if err != nil || !slices.Equal(names(p), []string{"Figma"}) || p.Titles[0].Devices != 2 || p.Titles[0].PerUserDevices != 1 || p.Titles[0].Source != "windows" {
		t.Fatalf("per-user list after ingest: %+v %v", p, err)
	}
	if p, _ := s.ListSoftware(ctx, SoftwareFilter{Source: "flatpak"}); !slices.Equal(names(p), []string{"GIMP"}) {
		t.Errorf("flatpak: %v", names(p))
	}
	if _, err := s.RecordSoftwareAnswer(ctx, "ans-1", "ana", protocol.SoftwareAnswer{TitleID: figma, Answer: protocol.AnswerForWork, At: now}, now); err != nil {
		t.Fatal(err)
	}
	d, err := s.SoftwareTitleDetail(ctx, figma, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Devices) != 2 || d.Devices[0].DeviceID != "ana" || !d.Devices[0].PerUser || d.Devices[0].Version != "124.5.4" ||
		d.Devices[0].Source != string(protocol.SourceRegistryUser) || d.Devices[1].Version != "124.4.0" || d.Devices[1].PerUser {
		t.Errorf("devices (per-user first, versions from the inventories): %+v", d.Devices)
	}
	if len(d.Versions) != 2 || d.SoftwareTitle.Told != 1 || len(d.Answers) != 1 {
		t.Errorf("versions %+v, told %d, answers %+v", d.Versions, d.SoftwareTitle.Told, d.Answers)
	}
	tt, ds, err := s.UpdateSoftware(ctx, figma, SoftwareChange{Status: ptr(protocol.SoftwareApproved)}, rob(), now, thanksOut)
	if err != nil || len(ds) != 1 || ds[0].DeviceID != "ana" || tt.CameInAt.IsZero() {
		t.Fatalf("approve: %+v %d deliveries %v", tt, len(ds), err)
	}
	if f, _ := s.SoftwareFigures(ctx, now); f.Devices != 3 || f.Titles != 3 || f.CameInThisMonth != 1 || f.ThankedMonth != 1 {
		t.Errorf("figures: %+v", f)
	}
}
