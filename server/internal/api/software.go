package api

import (
	"encoding/csv"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/deskside/deskside/server/internal/httpjson"
	"github.com/deskside/deskside/server/internal/store"
	"github.com/deskside/deskside/shared/protocol"
)

// The registry IT keeps (software amnesty): the Software page's list and
// its CSV export, a title page, IT's decisions (which thank the people who
// told IT), request links, the policy, the figures, and the catalogue the
// agents read with their own credentials.

const (
	maxSoftwareQuery = 200 // characters of a search
	maxNewDays       = 366
	csvPage          = 1000 // titles per store call while exporting
)

// softwareFilter reads the list's query parameters; false means the answer
// (400) is written.
func softwareFilter(w http.ResponseWriter, r *http.Request) (store.SoftwareFilter, bool) {
	q := r.URL.Query()
	var f store.SoftwareFilter
	bad := func(msg string) (store.SoftwareFilter, bool) {
		httpjson.Error(w, http.StatusBadRequest, "bad_query", msg)
		return f, false
	}
	if v := q.Get("status"); v != "" {
		for _, s := range strings.Split(v, ",") {
			st := protocol.SoftwareStatus(strings.TrimSpace(s))
			if !st.Valid() {
				return bad(fmt.Sprintf("Status %.40q is not new, approved, under_review or not_for_work.", st))
			}
			if !slices.Contains(f.Status, st) {
				f.Status = append(f.Status, st)
			}
		}
	}
	if v := q.Get("new"); v != "" {
		days, err := strconv.Atoi(v)
		if err != nil || days < 1 || days > maxNewDays {
			return bad("new is a number of days from 1 to 366 (new=7 is new this week).")
		}
		f.NewSince = time.Now().Add(-time.Duration(days) * 24 * time.Hour)
	}
	f.PerUserOnly = q.Get("per_user") == "1" || q.Get("per_user") == "true"
	f.Catalogue = q.Get("catalogue") == "1" || q.Get("catalogue") == "true"
	if f.Source = q.Get("source"); f.Source != "" && !slices.Contains(protocol.SoftwareFamilies, f.Source) {
		return bad("source is one of " + strings.Join(protocol.SoftwareFamilies, ", ") + ".")
	}
	if f.Query = q.Get("q"); len(f.Query) > maxSoftwareQuery {
		return bad("A search can be at most 200 characters.")
	}
	switch f.Sort = q.Get("sort"); f.Sort {
	case "", "devices", "name", "first_seen", "per_user":
	default:
		return bad("sort is devices, name, first_seen or per_user.")
	}
	for _, p := range []struct {
		name string
		dst  *int
	}{{"limit", &f.Limit}, {"offset", &f.Offset}} {
		if v := q.Get(p.name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				return bad(p.name + " is a whole number of 0 or more.")
			}
			*p.dst = n
		}
	}
	if f.Limit > 1000 {
		return bad("limit is at most 1000 (the CSV export, format=csv, has every title).")
	}
	return f, true
}

func wantsCSV(r *http.Request) bool {
	return r.URL.Query().Get("format") == "csv" || strings.Contains(r.Header.Get("Accept"), "text/csv")
}

// listSoftware answers GET /api/v1/software: one page of titles with the
// total, or (format=csv) every matching title as CSV.
func (a *API) listSoftware(w http.ResponseWriter, r *http.Request, _ *actor) {
	f, ok := softwareFilter(w, r)
	if !ok {
		return
	}
	if wantsCSV(r) {
		a.softwareCSV(w, r, f)
		return
	}
	p, err := a.st.ListSoftware(r.Context(), f)
	if !a.softwareErr(w, r, err, "software title") {
		return
	}
	httpjson.Write(w, http.StatusOK, p)
}

// csvCell guards a spreadsheet against formula injection: a cell that
// starts with = + - @ (or a tab or carriage return) is read as text.
func csvCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

var softwareCSVHeader = []string{"id", "name", "publisher", "source", "status", "devices", "per_user_devices", "told",
	"first_seen", "last_seen", "reason", "alternative"}

// softwareCSV streams every title matching f, a page of the store at a
// time, so an export of 50,000 titles holds one page in memory. A store
// failure after the first row can only cut the file short (the status is
// sent); it is logged.
func (a *API) softwareCSV(w http.ResponseWriter, r *http.Request, f store.SoftwareFilter) {
	f.Limit, f.Offset = csvPage, 0
	p, err := a.st.ListSoftware(r.Context(), f)
	if !a.softwareErr(w, r, err, "software title") {
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="software-`+time.Now().UTC().Format("2006-01-02")+`.csv"`)
	cw := csv.NewWriter(w)
	_ = cw.Write(softwareCSVHeader)
	for {
		for _, t := range p.Titles {
			_ = cw.Write([]string{t.ID, csvCell(t.Name), csvCell(t.Publisher), t.Source, string(t.Status), strconv.Itoa(t.Devices),
				strconv.Itoa(t.PerUserDevices), strconv.Itoa(t.Told), t.FirstSeen.Format(time.RFC3339), t.LastSeen.Format(time.RFC3339),
				csvCell(t.Reason), csvCell(t.Alternative)})
		}
		f.Offset += len(p.Titles)
		if len(p.Titles) < f.Limit || f.Offset >= p.Total {
			break
		}
		if p, err = a.st.ListSoftware(r.Context(), f); err != nil {
			a.log.Error("software CSV export cut short", "offset", f.Offset, "err", err)
			break
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		a.log.Warn("software CSV export", "err", err)
	}
}

// softwareErr writes the answer for err (an input error is 400 with its
// message) and reports whether there was none.
func (a *API) softwareErr(w http.ResponseWriter, r *http.Request, err error, what string) bool {
	var bad *store.SoftwareInputError
	switch {
	case err == nil:
		return true
	case errors.As(err, &bad):
		httpjson.Error(w, http.StatusBadRequest, "bad_body", bad.Msg)
	default:
		httpjson.StoreError(a.log, w, r, err, what)
	}
	return false
}

// softwarePage is a title page as the API answers it: the title apart from
// its lists (store.SoftwareTitleDetail's Devices list hides the title's
// device count in JSON).
type softwarePage struct {
	Title    store.SoftwareTitle          `json:"title"`
	Versions []store.SoftwareVersion      `json:"versions"`
	Devices  []store.SoftwareDevice       `json:"devices"`
	Answers  []store.SoftwareAnswer       `json:"answers"`
	Requests []store.RequestSummaryLite   `json:"requests"`
	History  []store.SoftwareStatusChange `json:"history"`
}

// getSoftware answers GET /api/v1/software/{id}: the title page, with at
// most ?devices= devices (default 25, at most 1000; the first 25 with
// their version).
func (a *API) getSoftware(w http.ResponseWriter, r *http.Request, _ *actor) {
	n := 25
	if v := r.URL.Query().Get("devices"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 1 || n > 1000 {
			httpjson.Error(w, http.StatusBadRequest, "bad_query", "devices is a number from 1 to 1000.")
			return
		}
	}
	d, err := a.st.SoftwareTitleDetail(r.Context(), r.PathValue("id"), n)
	if !a.softwareErr(w, r, err, "software title") {
		return
	}
	httpjson.Write(w, http.StatusOK, softwarePage{Title: d.SoftwareTitle, Versions: d.Versions, Devices: d.Devices,
		Answers: d.Answers, Requests: d.Requests, History: d.History})
}

// patchSoftware answers PATCH /api/v1/software/{id}: IT's decision. When
// the title becomes approved or not for work, everyone who told IT about
// it is sent a software.thanks (sequenced: online desks now, the rest at
// their next hello), and consoles hear software.updated.
func (a *API) patchSoftware(w http.ResponseWriter, r *http.Request, ac *actor) {
	var ch store.SoftwareChange
	if !decode(w, r, &ch) {
		return
	}
	id := r.PathValue("id")
	msg := trimmed(ch.Message)
	thanks := func(t store.SoftwareTitle, an store.SoftwareAnswer) store.Outgoing {
		return store.Outgoing{Kind: protocol.KindSoftwareThanks, ID: protocol.NewID(), Body: protocol.SoftwareThanks{
			TitleID: t.ID, Name: t.Name, Status: t.Status, Reason: t.Reason, Alternative: t.Alternative, Text: msg, RequestID: an.RequestID}}
	}
	unlock := a.hub.LockAll()
	t, ds, err := a.st.UpdateSoftware(r.Context(), id, ch, ac.Technician, time.Now(), thanks)
	live := 0
	if err == nil {
		live = a.hub.Deliver(ds...)
	}
	unlock()
	if !a.softwareErr(w, r, err, "software title") {
		return
	}
	a.hub.Broadcast(protocol.KindSoftwareUpdated, protocol.SoftwareUpdated{Titles: []string{t.ID}})
	detail := "status=" + string(t.Status) + " thanked=" + strconv.Itoa(len(ds))
	if ch.Catalogue != nil {
		detail += " catalogue=" + strconv.FormatBool(t.Catalogue)
	}
	a.audit(r.Context(), ac.Email, "software.update", t.ID, detail)
	httpjson.Write(w, http.StatusOK, struct {
		store.SoftwareTitle
		Thanked  int `json:"thanked"`
		SentLive int `json:"sent_live"`
	}{t, len(ds), live})
}

func (a *API) softwareFigures(w http.ResponseWriter, r *http.Request, _ *actor) {
	f, err := a.st.SoftwareFigures(r.Context(), time.Now())
	if err != nil {
		httpjson.Internal(a.log, w, r, err)
		return
	}
	httpjson.Write(w, http.StatusOK, f)
}

func (a *API) getSoftwarePolicy(w http.ResponseWriter, r *http.Request, _ *actor) {
	p, err := a.st.SoftwarePolicy(r.Context())
	if err != nil {
		httpjson.Internal(a.log, w, r, err)
		return
	}
	httpjson.Write(w, http.StatusOK, p)
}

func (a *API) putSoftwarePolicy(w http.ResponseWriter, r *http.Request, ac *actor) {
	var in struct {
		Prompt     bool   `json:"prompt"`
		PromptText string `json:"prompt_text"`
	}
	if !decode(w, r, &in) {
		return
	}
	p, err := a.st.PutSoftwarePolicy(r.Context(), store.SoftwarePolicy{Prompt: in.Prompt, PromptText: in.PromptText,
		UpdatedAt: time.Now(), UpdatedBy: ac.Name})
	if !a.softwareErr(w, r, err, "policy") {
		return
	}
	a.audit(r.Context(), ac.Email, "software.policy", "", "prompt="+strconv.FormatBool(p.Prompt))
	httpjson.Write(w, http.StatusOK, p)
}

// linkRequestSoftware answers PUT /api/v1/requests/{id}/software: link a
// software request to a title, re-link it, or with "" unlink it.
func (a *API) linkRequestSoftware(w http.ResponseWriter, r *http.Request, ac *actor) {
	var in struct {
		TitleID string `json:"title_id"`
	}
	if !decode(w, r, &in) {
		return
	}
	if in.TitleID != "" && (!strings.HasPrefix(in.TitleID, "sw_") || len(in.TitleID) > 64) {
		httpjson.Error(w, http.StatusBadRequest, "bad_body", "title_id is a software title id (sw_…) or empty to unlink.")
		return
	}
	id := r.PathValue("id")
	err := a.st.LinkRequestSoftware(r.Context(), id, in.TitleID)
	if errors.Is(err, store.ErrConflict) {
		httpjson.Error(w, http.StatusConflict, "not_software", "Only a request about software can be linked to a title.")
		return
	}
	if !a.softwareErr(w, r, err, "request or software title") {
		return
	}
	a.audit(r.Context(), ac.Email, "request.software", id, "title="+in.TitleID)
	t, err := a.st.RequestSoftware(r.Context(), id)
	if err != nil {
		httpjson.Internal(a.log, w, r, err)
		return
	}
	a.hub.Broadcast(protocol.KindSoftwareUpdated, protocol.SoftwareUpdated{Titles: linkedTitles(in.TitleID)})
	httpjson.Write(w, http.StatusOK, map[string]any{"request_id": id, "software": t})
}

func linkedTitles(id string) []string {
	if id == "" {
		return nil
	}
	return []string{id}
}

// softwareCatalogue answers protocol.SoftwareCataloguePath for a device
// (or a signed-in technician, to see what desks see).
func (a *API) softwareCatalogue(w http.ResponseWriter, r *http.Request) {
	if !a.selfHelpCaller(w, r) {
		return
	}
	items, err := a.st.SoftwareCatalogue(r.Context())
	if err != nil {
		httpjson.Internal(a.log, w, r, err)
		return
	}
	httpjson.Write(w, http.StatusOK, protocol.SoftwareCatalogue{Items: items})
}
