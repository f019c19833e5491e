package reports

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"strings"

	"github.com/deskside/deskside/server/internal/store"
	"github.com/deskside/deskside/shared/protocol"
)

// Charts are the names of the charts the server draws.
var Charts = []string{"by_kind", "satisfaction", "hours"}

// The console's palette (app.css), so a chart sits well on a light panel;
// the charts carry their own white background for dark mode and email.
const (
	colText    = "#1f2a2a"
	colMuted   = "#55625f"
	colLine    = "#d8ddd8"
	colAccent  = "#2f6f6a"
	colWarm    = "#c27a1a"
	colHeat0   = "#eef1ee"
	colGood    = "#23703d"
	colBad     = "#a12a2a"
	chartFont  = "system-ui, -apple-system, Segoe UI, sans-serif"
	chartWidth = 640
)

// svg writes an SVG document; every text goes through xml.EscapeText, so
// nothing a person typed (a kind, a check name) can become markup.
type svg struct{ b bytes.Buffer }

func (s *svg) open(w, h int, title string) {
	fmt.Fprintf(&s.b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" role="img" font-family="%s" font-size="12">`,
		w, h, w, h, chartFont)
	s.b.WriteString("<title>")
	s.esc(title)
	s.b.WriteString("</title>")
	fmt.Fprintf(&s.b, `<rect width="%d" height="%d" fill="#ffffff"/>`, w, h)
}

func (s *svg) esc(text string) { _ = xml.EscapeText(&s.b, []byte(text)) }

func (s *svg) rect(x, y, w, h float64, fill, tip string) {
	fmt.Fprintf(&s.b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" rx="2" fill="%s">`, x, y, w, h, fill)
	if tip != "" {
		s.b.WriteString("<title>")
		s.esc(tip)
		s.b.WriteString("</title>")
	}
	s.b.WriteString("</rect>")
}

func (s *svg) text(x, y float64, anchor, fill, text string) {
	fmt.Fprintf(&s.b, `<text x="%.1f" y="%.1f" text-anchor="%s" fill="%s">`, x, y, anchor, fill)
	s.esc(text)
	s.b.WriteString("</text>")
}

func (s *svg) bytes() []byte { s.b.WriteString("</svg>"); return s.b.Bytes() }

// Chart draws one chart of the report; false when there is none of that
// name.
func Chart(rep store.Report, name string) ([]byte, bool) {
	switch name {
	case "by_kind":
		return kindChart(rep), true
	case "satisfaction":
		return satisfactionChart(rep), true
	case "hours":
		return hoursChart(rep), true
	}
	return nil, false
}

// kindChart is a bar per kind, blocking and when-you-can stacked.
func kindChart(rep store.Report) []byte {
	type bar struct {
		kind            string
		blocking, other int
	}
	var bars []bar
	index := map[string]int{}
	for _, k := range rep.ByKind {
		i, ok := index[string(k.Kind)]
		if !ok {
			i = len(bars)
			index[string(k.Kind)] = i
			bars = append(bars, bar{kind: string(k.Kind)})
		}
		if k.Urgency == protocol.UrgencyBlocking {
			bars[i].blocking += k.Count
		} else {
			bars[i].other += k.Count
		}
	}
	most := 1
	for _, b := range bars {
		most = max(most, b.blocking+b.other)
	}
	const rowH, top, left, right = 30, 34, 190, 60
	h := top + max(len(bars), 1)*rowH + 10
	var s svg
	s.open(chartWidth, h, "Requests by kind and urgency, "+rep.Month)
	s.rect(left, 10, 10, 10, colWarm, "")
	s.text(left+14, 19, "start", colMuted, "blocking my work")
	s.rect(left+130, 10, 10, 10, colAccent, "")
	s.text(left+144, 19, "start", colMuted, "when you can")
	if len(bars) == 0 {
		s.text(chartWidth/2, top+18, "middle", colMuted, "No requests this month.")
	}
	scale := float64(chartWidth-left-right) / float64(most)
	for i, b := range bars {
		y := float64(top + i*rowH)
		s.text(left-8, y+16, "end", colText, kindLabel(b.kind))
		wb, wo := float64(b.blocking)*scale, float64(b.other)*scale
		s.rect(left, y+4, wb, rowH-10, colWarm, fmt.Sprintf("%s, blocking: %d", kindLabel(b.kind), b.blocking))
		s.rect(left+wb, y+4, wo, rowH-10, colAccent, fmt.Sprintf("%s, when you can: %d", kindLabel(b.kind), b.other))
		s.text(left+wb+wo+6, y+16, "start", colText, fmt.Sprint(b.blocking+b.other))
	}
	return s.bytes()
}

// kindLabel is a kind as the console names it (util.js CATEGORY).
func kindLabel(k string) string {
	switch protocol.Category(k) {
	case protocol.CategoryProblem:
		return "Something isn’t working"
	case protocol.CategoryQuestion:
		return "A question"
	case protocol.CategorySoftware:
		return "Software they use or need"
	case protocol.CategoryIdea:
		return "An idea"
	}
	return k
}

// satisfactionChart is a column per rating, 1 to 5.
func satisfactionChart(rep store.Report) []byte {
	const w, h, top, bottom, colW, gap, left = 420, 200, 24, 34, 56, 20, 30
	most := 1
	for _, n := range rep.Satisfaction.Distribution {
		most = max(most, n)
	}
	var s svg
	s.open(w, h, fmt.Sprintf("Satisfaction, %s: %d ratings averaging %.2f", rep.Month, rep.Satisfaction.Rated,
		rep.Satisfaction.Average))
	colours := []string{colBad, "#c0622f", colWarm, "#5c8f56", colGood}
	scale := float64(h-top-bottom) / float64(most)
	for i, n := range rep.Satisfaction.Distribution {
		x := float64(left + i*(colW+gap))
		bh := float64(n) * scale
		s.rect(x, float64(h-bottom)-bh, colW, bh, colours[i], fmt.Sprintf("%d rated %d", n, i+1))
		s.text(x+colW/2, float64(h-bottom)-bh-5, "middle", colText, fmt.Sprint(n))
		s.text(x+colW/2, h-bottom+18, "middle", colMuted, strings.Repeat("★", i+1))
	}
	fmt.Fprintf(&s.b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s"/>`, left-10, h-bottom, w-20, h-bottom, colLine)
	return s.bytes()
}

// hoursChart is a heat map of the week, Monday first, hour by hour.
func hoursChart(rep store.Report) []byte {
	const cell, gap, left, top = 22, 2, 44, 22
	h := top + 7*(cell+gap) + 8
	most := 0
	for _, day := range rep.Hours {
		for _, n := range day {
			most = max(most, n)
		}
	}
	var s svg
	s.open(chartWidth, h, "Busiest hours, "+rep.Month+" ("+rep.TimeZone+")")
	for hr := 0; hr < 24; hr += 3 {
		s.text(float64(left+hr*(cell+gap)+cell/2), 14, "middle", colMuted, fmt.Sprintf("%02d", hr))
	}
	for row, wd := range Weekdays {
		y := float64(top + row*(cell+gap))
		s.text(left-8, y+15, "end", colText, wd.String()[:3])
		for hr, n := range rep.Hours[wd] {
			fill := colHeat0
			if n > 0 && most > 0 {
				fill = heat(float64(n) / float64(most))
			}
			s.rect(float64(left+hr*(cell+gap)), y, cell, cell, fill, fmt.Sprintf("%s %02d:00: %d requests", wd, hr, n))
		}
	}
	return s.bytes()
}

// heat blends from the accent's soft tint to the accent: #dcefec → #2f6f6a.
func heat(f float64) string {
	f = 0.15 + 0.85*f
	mix := func(a, b int) int { return a + int(float64(b-a)*f) }
	return fmt.Sprintf("#%02x%02x%02x", mix(0xdc, 0x2f), mix(0xef, 0x6f), mix(0xec, 0x6a))
}
