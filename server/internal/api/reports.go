package api

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/deskside/deskside/server/internal/httpjson"
	"github.com/deskside/deskside/server/internal/reports"
	"github.com/deskside/deskside/server/internal/store"
)

// IT's month: the Reports page's figures as JSON, each of its tables as
// CSV and its charts as SVG, for one calendar month in a time zone (tz,
// default UTC).

// monthReport reads ?month= and ?tz= and the month's figures; false means
// the answer (400 or 500) is written.
func (a *API) monthReport(w http.ResponseWriter, r *http.Request) (store.Report, reports.Month, bool) {
	q := r.URL.Query()
	m, err := reports.ParseMonth(q.Get("month"), q.Get("tz"), time.Now())
	if err != nil {
		code := "bad_month"
		if errors.Is(err, reports.ErrBadZone) {
			code = "bad_time_zone"
		}
		httpjson.Error(w, http.StatusBadRequest, code, capitalise(err.Error())+".")
		return store.Report{}, m, false
	}
	rep, err := a.st.MonthReport(r.Context(), m.From, m.To, m.Loc)
	if err != nil {
		httpjson.Internal(a.log, w, r, err)
		return rep, m, false
	}
	rep.Month = m.Label
	return rep, m, true
}

// getMonthReport answers GET /api/v1/reports/month.
func (a *API) getMonthReport(w http.ResponseWriter, r *http.Request, _ *actor) {
	rep, _, ok := a.monthReport(w, r)
	if !ok {
		return
	}
	httpjson.Write(w, http.StatusOK, rep)
}

// monthReportCSV answers GET /api/v1/reports/month.csv?table=…: one
// table of the page as a download.
func (a *API) monthReportCSV(w http.ResponseWriter, r *http.Request, _ *actor) {
	name := r.URL.Query().Get("table")
	if _, ok := reports.Table(store.Report{}, name); !ok {
		httpjson.Error(w, http.StatusBadRequest, "bad_table", "table is one of "+strings.Join(reports.Tables, ", ")+".")
		return
	}
	rep, m, ok := a.monthReport(w, r)
	if !ok {
		return
	}
	rows, _ := reports.Table(rep, name)
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="deskside-`+m.Label+`-`+name+`.csv"`)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if err := reports.WriteCSV(w, rows); err != nil {
		a.log.Warn("report csv cut short", "table", name, "err", err)
	}
}

// monthReportChart answers GET /api/v1/reports/month/{chart}.svg with a
// chart drawn on the server. The SVG may not run or fetch anything (CSP
// default-src 'none'), nor be read as another type (nosniff).
func (a *API) monthReportChart(w http.ResponseWriter, r *http.Request, _ *actor) {
	name, ok := strings.CutSuffix(r.PathValue("chart"), ".svg")
	if _, known := reports.Chart(store.Report{}, name); !ok || !known {
		httpjson.Error(w, http.StatusNotFound, "not_found", "There is no such chart: try "+strings.Join(reports.Charts, ".svg, ")+".svg.")
		return
	}
	rep, _, ok := a.monthReport(w, r)
	if !ok {
		return
	}
	svg, _ := reports.Chart(rep, name)
	h := w.Header()
	h.Set("Content-Type", "image/svg+xml")
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "private, max-age=60")
	_, _ = w.Write(svg)
}
