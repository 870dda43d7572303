package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"html"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// The plots are hand-written SVG: a strip chart per distribution (every
// sample a dot, p50 and p95 marked) and a line chart of calls per hour
// against the number of standbys.

var palette = []string{"#1f77b4", "#2ca02c", "#ff7f0e", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf"}

// stripRow is one distribution of a strip chart.
type stripRow struct {
	label   string
	samples []float64 // seconds
	p50     float64
	p95     float64
	color   string
}

type svg struct{ b strings.Builder }

func (s *svg) f(format string, a ...any) { fmt.Fprintf(&s.b, format, a...); s.b.WriteByte('\n') }

func (s *svg) text(x, y float64, anchor, size, body string) {
	s.f(`<text x="%.1f" y="%.1f" text-anchor="%s" font-size="%s">%s</text>`, x, y, anchor, size, html.EscapeString(body))
}

func svgStart(w, h float64, title, subtitle string) *svg {
	s := &svg{}
	s.f(`<svg xmlns="http://www.w3.org/2000/svg" width="%.0f" height="%.0f" viewBox="0 0 %.0f %.0f" font-family="sans-serif">`, w, h, w, h)
	s.f(`<rect width="100%%" height="100%%" fill="white"/>`)
	s.text(w/2, 22, "middle", "15", title)
	if subtitle != "" {
		s.text(w/2, 40, "middle", "11", subtitle)
	}
	return s
}

func (s *svg) end() string { s.f(`</svg>`); return s.b.String() }

// niceMax rounds v up to a round number (1, 1.5, 2, 2.5, 3, 4, 5, 6 or 8
// times a power of ten).
func niceMax(v float64) float64 {
	if v <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10} {
		if m*p >= v {
			return m * p
		}
	}
	return 10 * p
}

// niceStep rounds v up to 1, 2, 2.5 or 5 times a power of ten.
func niceStep(v float64) float64 {
	if v <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if m*p >= v {
			return m * p
		}
	}
	return 10 * p
}

// stripChart draws rows on a shared x axis in seconds: linear from 0, or
// logarithmic (then the axis reads in ms and s). ref, if positive, draws a
// labelled vertical line there.
func stripChart(title, subtitle, xlabel string, rows []stripRow, logX bool, ref float64, refLabel string) string {
	const left, right, top, rowH = 230.0, 30.0, 60.0, 46.0
	w := 860.0
	h := top + rowH*float64(len(rows)) + 60
	s := svgStart(w, h, title, subtitle)
	lo, hi := 0.0, ref
	minPos := math.Inf(1)
	for _, r := range rows {
		for _, v := range r.samples {
			hi = max(hi, v)
			if v > 0 {
				minPos = min(minPos, v)
			}
		}
	}
	var ticks []float64
	if logX {
		if math.IsInf(minPos, 1) {
			minPos = 0.001
		}
		lo = math.Pow(10, math.Floor(math.Log10(minPos)))
		hi = math.Pow(10, math.Ceil(math.Log10(max(hi, lo*10))))
		for t := lo; t <= hi*1.0001; t *= 10 {
			ticks = append(ticks, t)
		}
	} else {
		hi = niceMax(hi * 1.05)
		step := niceStep(hi / 8)
		for t := 0.0; t <= hi+1e-9; t += step {
			ticks = append(ticks, t)
		}
	}
	plotW := w - left - right
	x := func(v float64) float64 {
		if logX {
			v = max(v, lo)
			return left + plotW*(math.Log10(v)-math.Log10(lo))/(math.Log10(hi)-math.Log10(lo))
		}
		return left + plotW*(v-lo)/(hi-lo)
	}
	bottom := top + rowH*float64(len(rows))
	for _, t := range ticks {
		s.f(`<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#ddd"/>`, x(t), top, x(t), bottom)
		label := fmt.Sprintf("%g s", t)
		if logX && t < 1 {
			label = fmt.Sprintf("%g ms", t*1000)
		}
		s.text(x(t), bottom+16, "middle", "11", label)
	}
	s.text(left+plotW/2, bottom+38, "middle", "12", xlabel)
	if ref > 0 {
		s.f(`<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#555" stroke-dasharray="4 3"/>`, x(ref), top-6, x(ref), bottom)
		s.text(x(ref), top-9, "middle", "11", refLabel)
	}
	for i, r := range rows {
		cy := top + rowH*float64(i) + rowH/2
		s.text(left-10, cy+4, "end", "12", fmt.Sprintf("%s (n=%d)", r.label, len(r.samples)))
		for j, v := range r.samples {
			// Spread the dots vertically by their index, deterministically.
			dy := (float64((j*7)%11) - 5) * 2.2
			s.f(`<circle cx="%.1f" cy="%.1f" r="3.2" fill="%s" fill-opacity="0.55"/>`, x(v), cy+dy, r.color)
		}
		if len(r.samples) > 0 {
			s.f(`<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="black" stroke-width="2.5"/>`, x(r.p50), cy-16, x(r.p50), cy+16)
			s.f(`<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="black" stroke-width="1.5" stroke-dasharray="3 2"/>`, x(r.p95), cy-16, x(r.p95), cy+16)
		}
	}
	s.f(`<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="black"/>`, left, bottom, w-right, bottom)
	s.text(w-right, h-6, "end", "10", "dots: runs; solid bar: p50; dashed bar: p95")
	return s.end()
}

// callsChart draws value (of all members together) against the number of
// standbys, one line per system; billedOnly leaves out systems without a
// price.
func callsChart(title, subtitle, ylabel string, value func(costResult) float64, billedOnly bool, cs []costResult, systems []system) string {
	const left, right, top, bottom = 80.0, 220.0, 60.0, 60.0
	w, h := 860.0, 440.0
	s := svgStart(w, h, title, subtitle)
	type line struct {
		name   string
		billed bool
		color  string
		pts    [][2]float64
	}
	var lines []line
	maxN, maxY := 1.0, 0.01
	for i, sys := range systems {
		if billedOnly && !sys.Billed {
			continue
		}
		l := line{name: sys.Name, billed: sys.Billed, color: palette[i%len(palette)]}
		for _, c := range cs {
			if c.System == sys.Name && c.Err == "" {
				l.pts = append(l.pts, [2]float64{float64(c.Standbys), value(c)})
				maxN, maxY = max(maxN, float64(c.Standbys)), max(maxY, value(c))
			}
		}
		if len(l.pts) > 1 { // a line needs two standby counts
			slices.SortFunc(l.pts, func(a, b [2]float64) int { return int(a[0] - b[0]) })
			lines = append(lines, l)
		}
	}
	maxN, maxY = math.Ceil(maxN), niceMax(maxY*1.05)
	pw, ph := w-left-right, h-top-bottom
	x := func(n float64) float64 { return left + pw*n/maxN }
	y := func(v float64) float64 { return top + ph*(1-v/maxY) }
	for i := 0; i <= 4; i++ {
		v := maxY * float64(i) / 4
		s.f(`<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#ddd"/>`, left, y(v), left+pw, y(v))
		label := fmt.Sprintf("%.0f", v)
		if maxY < 100 {
			label = fmt.Sprintf("%.2f", v)
		}
		s.text(left-6, y(v)+4, "end", "11", label)
	}
	stepN := max(1, math.Ceil(maxN/10))
	for n := 0.0; n <= maxN+1e-9; n += stepN {
		s.text(x(n), top+ph+16, "middle", "11", fmt.Sprintf("%g", n))
	}
	s.text(left+pw/2, top+ph+38, "middle", "12", "standbys (besides the leader)")
	s.f(`<text x="16" y="%.1f" font-size="12" text-anchor="middle" transform="rotate(-90 16 %.1f)">%s</text>`, top+ph/2, top+ph/2, html.EscapeString(ylabel))
	s.f(`<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="none" stroke="black"/>`, left, top, pw, ph)
	for i, l := range lines {
		color := l.color
		dash := ""
		if !l.billed {
			dash = ` stroke-dasharray="6 4"`
		}
		var pts []string
		for _, p := range l.pts {
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(p[0]), y(p[1])))
		}
		s.f(`<polyline points="%s" fill="none" stroke="%s" stroke-width="2"%s/>`, strings.Join(pts, " "), color, dash)
		for _, p := range l.pts {
			s.f(`<circle cx="%.1f" cy="%.1f" r="3.5" fill="%s"/>`, x(p[0]), y(p[1]), color)
		}
		ly := top + 10 + 36*float64(i)
		s.f(`<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s" stroke-width="2"%s/>`, left+pw+12, ly, left+pw+36, ly, color, dash)
		s.text(left+pw+42, ly+4, "start", "12", l.name)
		if !l.billed {
			s.text(left+pw+42, ly+18, "start", "10", "gRPC requests, not billed")
		}
	}
	return s.end()
}

// writePlots writes failover.svg, handover.svg, calls.svg, cost.svg and
// rolling.svg (those it has figures for) into dir and
// returns their paths.
func writePlots(dir string, res results, systems []system) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	color := func(name string) string {
		i := slices.IndexFunc(systems, func(s system) bool { return s.Name == name })
		return palette[max(i, 0)%len(palette)]
	}
	sub := fmt.Sprintf("L = %v, Azurite on loopback; %s", settingDefaults.Lease, res.Meta.Started)
	var files []string
	write := func(name, body string) error {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			return err
		}
		files = append(files, p)
		return nil
	}
	if len(res.Crash) > 0 {
		var rows []stripRow
		for _, r := range res.Crash {
			rows = append(rows, stripRow{label: r.System, samples: r.Samples, p50: r.Failover.P50, p95: r.Failover.P95, color: color(r.System)})
		}
		if err := write("failover.svg", stripChart("Crash failover: leader crash to standby leading", sub, "seconds", rows, false, settingDefaults.Lease.Seconds(), "L")); err != nil {
			return files, err
		}
	}
	if len(res.Handoff) > 0 {
		var rows []stripRow
		for _, r := range res.Handoff {
			label := r.System
			if r.Kind != "election" {
				label += " (" + r.Kind + ")"
			}
			rows = append(rows, stripRow{label: label, samples: r.Samples, p50: r.Latency.P50, p95: r.Latency.P95, color: color(r.System)})
		}
		if err := write("handover.svg", stripChart("Graceful hand-over: give-up to the next leader", sub, "time (log scale)", rows, true, 0, "")); err != nil {
			return files, err
		}
	}
	if len(res.Cost) > 0 {
		calls := func(c costResult) float64 { return c.TotalPerHour }
		if err := write("calls.svg", callsChart("Calls per hour against the number of standbys", sub,
			"calls per hour, leader and standbys together", calls, false, res.Cost, systems)); err != nil {
			return files, err
		}
		usd := func(c costResult) float64 { return c.TotalDollarsPerMo }
		if err := write("cost.svg", callsChart("Dollars a month against the number of standbys", sub+"; assumed list prices",
			"US$ a month, leader and standbys together", usd, true, res.Cost, systems)); err != nil {
			return files, err
		}
	}
	if len(res.Rolling) > 0 {
		var rows []stripRow
		for _, r := range res.Rolling {
			var xs []float64
			for _, sm := range r.Samples {
				xs = append(xs, sm.LeaderlessS)
			}
			rows = append(rows, stripRow{label: r.System, samples: xs, p50: r.Leaderless.P50, p95: r.Leaderless.P95, color: color(r.System)})
		}
		if err := write("rolling.svg", stripChart("Rolling restart: leaderless time per rollout", sub+"; every candidate restarted once",
			"seconds without a leader, summed over the rollout", rows, false, 3, "3 s")); err != nil {
			return files, err
		}
	}
	return files, nil
}

// runPlot redraws the plots from a results file: `leasebench plot -in
// results.json -plots dir`.
func runPlot(args []string) error {
	fs := flag.NewFlagSet("plot", flag.ContinueOnError)
	in := fs.String("in", "results.json", "results file written by a bench run")
	dir := fs.String("plots", "plots", "directory for the SVG plots")
	if err := fs.Parse(args); err != nil {
		return err
	}
	b, err := os.ReadFile(*in)
	if err != nil {
		return err
	}
	var res results
	if err := json.Unmarshal(b, &res); err != nil {
		return fmt.Errorf("%s: %w", *in, err)
	}
	// The systems in the order the run measured them.
	var systems []system
	add := func(name string, billed bool) {
		if !slices.ContainsFunc(systems, func(s system) bool { return s.Name == name }) {
			systems = append(systems, system{Name: name, Billed: billed})
		}
	}
	for _, r := range res.Crash {
		add(r.System, r.System != "etcd")
	}
	for _, r := range res.Cost {
		add(r.System, r.Billed)
	}
	for _, r := range res.Handoff {
		add(r.System, r.System != "etcd")
	}
	for _, r := range res.Rolling {
		add(r.System, r.System != "etcd")
	}
	files, err := writePlots(*dir, res, systems)
	for _, f := range files {
		fmt.Println(f)
	}
	return err
}
