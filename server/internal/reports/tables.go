package reports

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/deskside/deskside/server/internal/store"
)

// Tables are the names of the report's tables, as ?table= takes them.
var Tables = []string{"by_kind", "response", "satisfaction", "comments", "hours", "self_service", "heads_up", "articles"}

// Weekdays are the hours table's rows, Monday first as people read a week.
var Weekdays = []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday, time.Saturday, time.Sunday}

// Table is one of the report's tables as rows, the header first; false
// when there is no table of that name.
func Table(rep store.Report, name string) ([][]string, bool) {
	itoa, ftoa := strconv.Itoa, func(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }
	switch name {
	case "by_kind":
		rows := [][]string{{"kind", "urgency", "requests"}}
		for _, k := range rep.ByKind {
			rows = append(rows, []string{string(k.Kind), string(k.Urgency), itoa(k.Count)})
		}
		return rows, true
	case "response":
		rows := [][]string{{"measure", "requests", "median_minutes", "p90_minutes", "with_target", "met", "missed", "pending", "percent_met"}}
		for _, m := range []struct {
			name string
			d    store.Durations
			t    store.TargetFigure
		}{{"first_response", rep.FirstResponse, rep.Targets.FirstResponse}, {"resolution", rep.Resolution, rep.Targets.Resolution}} {
			rows = append(rows, []string{m.name, itoa(m.d.Count), ftoa(m.d.MedianMinutes), ftoa(m.d.P90Minutes), itoa(m.t.WithTarget),
				itoa(m.t.Met), itoa(m.t.Missed), itoa(m.t.Pending), ftoa(m.t.Percent)})
		}
		return rows, true
	case "satisfaction":
		rows := [][]string{{"rating", "requests"}}
		for i, n := range rep.Satisfaction.Distribution {
			rows = append(rows, []string{itoa(i + 1), itoa(n)})
		}
		return append(rows, []string{"average", ftoa(rep.Satisfaction.Average)}), true
	case "comments":
		rows := [][]string{{"created_at", "request_id", "kind", "rating", "comment"}}
		for _, c := range rep.Satisfaction.Comments {
			rows = append(rows, []string{c.CreatedAt.UTC().Format(time.RFC3339), c.RequestID, string(c.Kind), itoa(c.Rating), c.Comment})
		}
		return rows, true
	case "hours":
		head := []string{"weekday"}
		for h := range 24 {
			head = append(head, fmt.Sprintf("%02d", h))
		}
		rows := [][]string{head}
		for _, wd := range Weekdays {
			row := []string{wd.String()}
			for _, n := range rep.Hours[wd] {
				row = append(row, itoa(n))
			}
			rows = append(rows, row)
		}
		return rows, true
	case "self_service":
		return [][]string{{"what", "count"},
			{"software_came_in", itoa(rep.Software.CameIn)},
			{"software_answered_for_work", itoa(rep.Software.AnsweredForWork)},
			{"heads_up_fixed_by_people", itoa(rep.HeadsUp.Fixed)},
			{"questions_solved_by_articles", itoa(rep.Articles.Solved)}}, true
	case "heads_up":
		rows := [][]string{{"check", "fixed_by_people"}}
		for _, c := range rep.HeadsUp.ByCheck {
			rows = append(rows, []string{c.ID, itoa(c.Count)})
		}
		return rows, true
	case "articles":
		rows := [][]string{{"article_id", "title", "solved"}}
		for _, a := range rep.Articles.Top {
			rows = append(rows, []string{a.ID, a.Name, itoa(a.Count)})
		}
		return rows, true
	}
	return nil, false
}

// WriteCSV writes rows as CSV, every cell guarded against formula
// injection: a cell a spreadsheet would read as a formula (= + - @, a tab
// or a carriage return first) gets a leading apostrophe. Numbers are
// written by the server and never negative, so none is changed.
func WriteCSV(w io.Writer, rows [][]string) error {
	cw := csv.NewWriter(w)
	for _, row := range rows {
		safe := make([]string, len(row))
		for i, c := range row {
			safe[i] = Cell(c)
		}
		if err := cw.Write(safe); err != nil {
			return fmt.Errorf("write csv: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("write csv: %w", err)
	}
	return nil
}

// Cell guards one CSV cell against formula injection.
func Cell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
