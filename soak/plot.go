package main

import (
	"fmt"
	"html"
	"strings"
	"time"
)

// plot draws the run as an SVG: requests, 503s and wrong verdicts per
// second, then each replica's memory, goroutines and open files, under
// the fault windows (shaded) and events (lines).
func (r *report) plot(n int) string {
	const w, left, right, panelH, gap, top = 1000.0, 60.0, 20.0, 150.0, 40.0, 130.0
	colors := []string{"#1f77b4", "#2ca02c", "#9467bd", "#8c564b"}
	type line struct {
		name, color string
		y           func(row) float64
	}
	panels := []struct {
		title string
		lines []line
	}{
		{"requests per second (blue), 503 (orange), wrong (red)", []line{
			{"requests", "#1f77b4", func(x row) float64 { return float64(x.requests) }},
			{"503", "#ff7f0e", func(x row) float64 { return float64(x.unavailable) }},
			{"wrong", "#d62728", func(x row) float64 { return float64(x.wrong) }},
		}},
		{"RSS per replica (MB)", nil}, {"goroutines per replica, less client connections", nil}, {"open files per replica, less client connections", nil},
	}
	for i := range r.cfg.replicas {
		c := colors[i%len(colors)]
		panels[1].lines = append(panels[1].lines, line{fmt.Sprint(i), c, func(x row) float64 { return float64(x.rss[i]) / 1e6 }})
		panels[2].lines = append(panels[2].lines, line{fmt.Sprint(i), c, func(x row) float64 { return float64(x.goroutines[i] - x.conns[i]) }})
		panels[3].lines = append(panels[3].lines, line{fmt.Sprint(i), c, func(x row) float64 { return float64(x.files[i] - x.conns[i]) }})
	}
	h := top + float64(len(panels))*(panelH+gap)
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%.0f" height="%.0f" font-family="sans-serif" font-size="11">`+"\n", w, h)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="white"/>`+"\n")
	fmt.Fprintf(&b, `<text x="%.0f" y="18" font-size="13">soak: %v at %d requests/s, %d replicas, Redis %s; shaded: authority faults (orange), Redis down (red), replica restarting (blue)</text>`+"\n", left, r.elapsed.Round(time.Second), r.cfg.rate, r.cfg.replicas, r.cfg.redis)
	x := func(sec float64) float64 { return left + (w-left-right)*sec/max(float64(n), 1) }
	for _, win := range r.windows {
		from, to := win.from.Sub(time.Time{}).Seconds(), win.to.Sub(time.Time{}).Seconds()
		color := map[string]string{"authority": "#ff7f0e", "redis": "#d62728", "replica": "#1f77b4"}[win.kind]
		fmt.Fprintf(&b, `<rect x="%.1f" y="%.0f" width="%.1f" height="%.0f" fill="%s" opacity="0.12"><title>%s</title></rect>`+"\n",
			x(from), top-10, max(x(to)-x(from), 1), h-top, color, html.EscapeString(win.name))
	}
	for _, m := range r.series.marks {
		sec := m.at.Seconds()
		if m.name == "rotation" {
			fmt.Fprintf(&b, `<line x1="%.1f" x2="%.1f" y1="%.0f" y2="%.0f" stroke="#999" stroke-dasharray="2,3"><title>key rotation</title></line>`+"\n", x(sec), x(sec), top-10, h)
			continue
		}
		fmt.Fprintf(&b, `<line x1="%.1f" x2="%.1f" y1="%.0f" y2="%.0f" stroke="#555"/><text x="%.1f" y="%.0f" transform="rotate(-45 %.1f %.0f)" font-size="9">%s</text>`+"\n",
			x(sec), x(sec), top-10, h, x(sec)+2, top-14, x(sec)+2, top-14, html.EscapeString(m.name))
	}
	rows := r.series.rows[:n]
	for pi, panel := range panels {
		y0 := top + float64(pi)*(panelH+gap) + 10
		hi := 0.0
		for _, l := range panel.lines {
			for _, row := range rows {
				hi = max(hi, l.y(row))
			}
		}
		hi = max(hi*1.1, 1)
		fmt.Fprintf(&b, `<text x="%.0f" y="%.0f">%s</text>`+"\n", left, y0-4, html.EscapeString(panel.title))
		fmt.Fprintf(&b, `<rect x="%.0f" y="%.0f" width="%.0f" height="%.0f" fill="none" stroke="#ccc"/>`+"\n", left, y0, w-left-right, panelH)
		fmt.Fprintf(&b, `<text x="%.0f" y="%.0f" text-anchor="end">%.0f</text><text x="%.0f" y="%.0f" text-anchor="end">0</text>`+"\n", left-4, y0+10, hi, left-4, y0+panelH)
		for _, l := range panel.lines {
			var pts []string
			for sec, row := range rows {
				v := l.y(row)
				if v == 0 && pi > 0 {
					continue // no sample: the replica was restarting
				}
				pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(float64(sec)+0.5), y0+panelH-panelH*v/hi))
			}
			fmt.Fprintf(&b, `<polyline fill="none" stroke="%s" stroke-width="1.2" points="%s"><title>%s</title></polyline>`+"\n", l.color, strings.Join(pts, " "), html.EscapeString(l.name))
		}
	}
	for sec := 0; sec <= n; sec += max(n/10, 1) {
		fmt.Fprintf(&b, `<text x="%.1f" y="%.0f" text-anchor="middle">%ds</text>`+"\n", x(float64(sec)), h-4, sec)
	}
	b.WriteString("</svg>\n")
	return b.String()
}
