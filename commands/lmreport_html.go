package commands

import (
	"fmt"
	"html/template"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"

	"golm/lmutil/server/reportlog"
)

// Geometry of lmreport -html's charts, in SVG user units.
const (
	chartW, chartH  = 720, 180
	chartL, chartR  = 44, 12 // left and right margins
	chartT, chartB  = 12, 24 // top and bottom margins
	denialBins      = 48     // bars of the denials chart
	userBarH        = 22     // height of a top user's bar
	userLabelW      = 160    // width of the users' names
	userChartW      = 720
	htmlChartTicksX = 4 // time labels between the two ends
)

// htmlReport is what the page template shows.
type htmlReport struct {
	Title    string
	Summary  string
	Window   string
	Zone     string
	Features []htmlFeature
}

type htmlFeature struct {
	Name      string
	Checkouts int
	Denials   int
	Codes     []htmlCode
	Queued    int
	Peak      int
	PeakAt    string
	SeatHours string
	Total     int
	Seats     htmlSeats
	Deny      htmlBars
	Users     []htmlUser
	UsersH    int
}

type htmlCode struct {
	Text  string
	Count int
}

// htmlAxis is a chart's frame: its size, value labels and time labels.
type htmlAxis struct {
	W, H, L, T, PlotW, PlotH, Bottom int
	R, LabelX, TopY, TimeY           int
	YMax                             int
	TimeTicks                        []htmlTick
}

type htmlTick struct {
	X     string
	Label string
}

type htmlSeats struct {
	Axis   htmlAxis
	Path   string // step line of the seats out
	Area   string // the same, closed along the time axis
	TotalY string // y of the licensed count, "" when unknown
}

type htmlBars struct {
	Axis htmlAxis
	Bars []htmlBar
}

type htmlBar struct {
	X, Y, W, H string
	Title      string
}

type htmlUser struct {
	Name      string
	Y, TextY  int
	LabelX    string
	W         string
	SeatHours string
	Text      string // what the bar stands for
}

func f1(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }

// writeReportHTML prints rep as one self-contained HTML page: inline
// CSS and SVG, no script, nothing fetched.
func writeReportHTML(w io.Writer, rep *usageReport, loc *time.Location) error {
	zone := "UTC"
	if loc != time.UTC {
		zone = loc.String()
	}
	start, end := rep.First, rep.Last
	if !rep.Filter.From.IsZero() {
		start = rep.Filter.From
	}
	if !rep.Filter.To.IsZero() {
		end = rep.Filter.To
	}
	if !end.After(start) {
		end = start.Add(time.Hour)
	}
	page := htmlReport{
		Title: "License usage",
		Summary: fmt.Sprintf("%d %s, %d records, %s to %s", rep.Files, plural(rep.Files, "file", "files"),
			rep.Records, fmtTime(rep.First, loc), fmtTime(rep.Last, loc)),
		Zone: zone,
	}
	if !rep.Filter.From.IsZero() || !rep.Filter.To.IsZero() {
		page.Window = orOpen(fmtTime(rep.Filter.From, loc)) + " to " + orOpen(fmtTime(rep.Filter.To, loc))
	}
	if rep.Filter.Feature != "" {
		page.Title += " of " + rep.Filter.Feature
	}
	for _, f := range rep.Features {
		hf := htmlFeature{Name: f.Feature, Checkouts: f.Checkouts, Denials: f.DenialCount(), Queued: f.Queued,
			Peak: f.Peak, SeatHours: fmtHours(f.SeatHours), Total: f.Total}
		if f.Peak > 0 {
			hf.PeakAt = fmtTime(f.PeakAt, loc)
		}
		for _, code := range f.DenialCodes() {
			hf.Codes = append(hf.Codes, htmlCode{denialText(code), f.Denials[code]})
		}
		hf.Seats = seatsChart(f, start, end, loc)
		hf.Deny = denialsChart(f, start, end, loc)
		hf.Users, hf.UsersH = usersChart(f)
		page.Features = append(page.Features, hf)
	}
	return reportPage().Execute(w, page)
}

// axis is the frame of a chart over [start, end] whose values go up to
// ymax.
func axis(start, end time.Time, ymax int, loc *time.Location) htmlAxis {
	a := htmlAxis{W: chartW, H: chartH, L: chartL, T: chartT, PlotW: chartW - chartL - chartR, PlotH: chartH - chartT - chartB, YMax: max(ymax, 1)}
	a.Bottom = a.T + a.PlotH
	a.R, a.LabelX, a.TopY, a.TimeY = a.L+a.PlotW, a.L-4, a.T+4, a.Bottom+16
	span := end.Sub(start)
	for i := 0; i <= htmlChartTicksX+1; i++ {
		t := start.Add(span * time.Duration(i) / time.Duration(htmlChartTicksX+1))
		label := t.In(loc).Format("01-02 15:04")
		a.TimeTicks = append(a.TimeTicks, htmlTick{X: f1(float64(a.L) + float64(a.PlotW)*float64(i)/float64(htmlChartTicksX+1)), Label: label})
	}
	return a
}

func (a htmlAxis) x(t, start, end time.Time) float64 {
	fr := float64(t.Sub(start)) / float64(end.Sub(start))
	fr = min(max(fr, 0), 1)
	return float64(a.L) + fr*float64(a.PlotW)
}

func (a htmlAxis) y(n int) float64 {
	return float64(a.Bottom) - float64(n)/float64(a.YMax)*float64(a.PlotH)
}

// seatsChart draws the seats out over time as a step line, against the
// licensed count when the log says it.
func seatsChart(f *reportlog.FeatureUsage, start, end time.Time, loc *time.Location) htmlSeats {
	c := htmlSeats{Axis: axis(start, end, max(f.Peak, f.Total), loc)}
	var b strings.Builder
	fmt.Fprintf(&b, "M%s %s", f1(float64(c.Axis.L)), f1(c.Axis.y(0)))
	for _, p := range f.InUse {
		x := f1(c.Axis.x(p.Time, start, end))
		fmt.Fprintf(&b, " H%s V%s", x, f1(c.Axis.y(p.N)))
	}
	fmt.Fprintf(&b, " H%s", f1(float64(c.Axis.L+c.Axis.PlotW)))
	c.Path = b.String()
	c.Area = c.Path + fmt.Sprintf(" V%s Z", f1(c.Axis.y(0)))
	if f.Total > 0 {
		c.TotalY = f1(c.Axis.y(f.Total))
	}
	return c
}

// denialsChart draws the denials as bars of equal spans of time.
func denialsChart(f *reportlog.FeatureUsage, start, end time.Time, loc *time.Location) htmlBars {
	var bins [denialBins]int
	span := end.Sub(start)
	for _, p := range f.DenialsAt {
		i := int(float64(p.Time.Sub(start)) / float64(span) * denialBins)
		bins[min(max(i, 0), denialBins-1)] += p.N
	}
	most := 0
	for _, n := range bins {
		most = max(most, n)
	}
	c := htmlBars{Axis: axis(start, end, most, loc)}
	w := float64(c.Axis.PlotW) / denialBins
	for i, n := range bins {
		if n == 0 {
			continue
		}
		from := start.Add(span * time.Duration(i) / denialBins)
		to := start.Add(span * time.Duration(i+1) / denialBins)
		y := c.Axis.y(n)
		c.Bars = append(c.Bars, htmlBar{X: f1(float64(c.Axis.L) + float64(i)*w + 0.5), Y: f1(y), W: f1(max(w-1, 0.5)), H: f1(float64(c.Axis.Bottom) - y),
			Title: fmt.Sprintf("%d %s, %s to %s", n, plural(n, "denial", "denials"), fmtTime(from, loc), fmtTime(to, loc))})
	}
	return c
}

// usersChart draws the users with the most seat-hours as bars.
func usersChart(f *reportlog.FeatureUsage) ([]htmlUser, int) {
	users := f.Users[:min(len(f.Users), reportTopUsers)]
	most := 0.0
	for _, u := range users {
		most = max(most, u.SeatHours)
	}
	var out []htmlUser
	for i, u := range users {
		w := 0.0
		if most > 0 {
			w = u.SeatHours / most * float64(userChartW-userLabelW-170)
		}
		y := i * userBarH
		out = append(out, htmlUser{Name: reportlog.Escape(u.User), Y: y + 3, TextY: y + 16, W: f1(w), LabelX: f1(float64(userLabelW) + w + 6),
			SeatHours: fmtHours(u.SeatHours),
			Text: fmt.Sprintf("%s h, %d %s, %d %s", fmtHours(u.SeatHours), u.Checkouts, plural(u.Checkouts, "checkout", "checkouts"),
				u.Denials, plural(u.Denials, "denial", "denials"))})
	}
	return out, len(out) * userBarH
}

// reportPage is the HTML report's template, parsed the first time a report
// is written, so that the daemons and the other commands, which share the
// binary, do not parse it at start-up.
var reportPage = sync.OnceValue(func() *template.Template {
	t := template.Must(template.New("report").Parse(reportPageText))
	template.Must(t.New("frame").Parse(reportFrameText))
	return t
})

const reportPageText = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<style>
body { font-family: sans-serif; margin: 1.5em auto; max-width: 760px; color: #222; padding: 0 1em; }
h1 { font-size: 1.4em; margin-bottom: 0.2em; }
h2 { font-size: 1.15em; margin-top: 2em; border-bottom: 1px solid #ccc; }
h3 { font-size: 1em; margin: 1.2em 0 0.3em; }
p.meta { color: #555; margin: 0.2em 0; }
table { border-collapse: collapse; margin: 0.5em 0; }
td, th { padding: 0.15em 0.8em 0.15em 0; text-align: left; vertical-align: top; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
svg { display: block; max-width: 100%; height: auto; }
svg text { font-size: 11px; fill: #444; }
.grid { stroke: #ddd; stroke-width: 1; }
.axis { stroke: #888; stroke-width: 1; }
.seats { fill: none; stroke: #1f5fa8; stroke-width: 2; }
.seatsarea { fill: #1f5fa8; fill-opacity: 0.12; stroke: none; }
.total { stroke: #c0392b; stroke-width: 1.5; stroke-dasharray: 6 4; }
.deny { fill: #d9822b; }
.user { fill: #4a8f4a; }
.key { display: inline-block; width: 1.5em; height: 0.25em; vertical-align: middle; margin: 0 0.3em 0 1em; }
.key.seats { background: #1f5fa8; }
.key.total { background: #c0392b; }
</style>
</head>
<body>
<h1>{{.Title}}</h1>
<p class="meta">Report log: {{.Summary}} ({{.Zone}})</p>
{{- if .Window}}
<p class="meta">Window: {{.Window}}</p>
{{- end}}
{{- if not .Features}}
<p>No license usage recorded.</p>
{{- end}}
{{- range .Features}}
<h2 id="feature-{{.Name}}">Feature {{.Name}}</h2>
<table>
<tr><th>Checkouts</th><td class="n">{{.Checkouts}}</td></tr>
<tr><th>Denials</th><td class="n">{{.Denials}}</td></tr>
{{- range .Codes}}
<tr><td>&ndash; {{.Text}}</td><td class="n">{{.Count}}</td></tr>
{{- end}}
{{- if .Queued}}
<tr><th>Queued</th><td class="n">{{.Queued}}</td></tr>
{{- end}}
<tr><th>Peak seats</th><td class="n">{{.Peak}}</td><td>{{if .PeakAt}}at {{.PeakAt}}{{end}}</td></tr>
{{- if .Total}}
<tr><th>Licensed seats</th><td class="n">{{.Total}}</td></tr>
{{- end}}
<tr><th>Seat-hours</th><td class="n">{{.SeatHours}}</td></tr>
</table>
<h3>Seats in use<span class="key seats"></span>seats out{{if .Total}}<span class="key total"></span>licensed ({{.Total}}){{end}}</h3>
{{- with .Seats}}
<svg viewBox="0 0 {{.Axis.W}} {{.Axis.H}}" width="{{.Axis.W}}" height="{{.Axis.H}}" role="img" aria-label="Seats in use over time">
{{- template "frame" .Axis}}
<path class="seatsarea" d="{{.Area}}"/>
<path class="seats" d="{{.Path}}"/>
{{- if .TotalY}}
<line class="total" x1="{{.Axis.L}}" y1="{{.TotalY}}" x2="{{.Axis.R}}" y2="{{.TotalY}}"/>
{{- end}}
</svg>
{{- end}}
<h3>Denials</h3>
{{- with .Deny}}
<svg viewBox="0 0 {{.Axis.W}} {{.Axis.H}}" width="{{.Axis.W}}" height="{{.Axis.H}}" role="img" aria-label="Denials over time">
{{- template "frame" .Axis}}
{{- range .Bars}}
<rect class="deny" x="{{.X}}" y="{{.Y}}" width="{{.W}}" height="{{.H}}"><title>{{.Title}}</title></rect>
{{- end}}
</svg>
{{- end}}
{{- if .Users}}
<h3>Top users by seat-hours</h3>
<svg viewBox="0 0 720 {{.UsersH}}" width="720" height="{{.UsersH}}" role="img" aria-label="Top users by seat-hours">
{{- range .Users}}
<text x="0" y="{{.TextY}}">{{.Name}}</text>
<rect class="user" x="160" y="{{.Y}}" width="{{.W}}" height="16"><title>{{.Name}}: {{.Text}}</title></rect>
<text x="{{.LabelX}}" y="{{.TextY}}">{{.Text}}</text>
{{- end}}
</svg>
{{- end}}
{{- end}}
</body>
</html>
`

// reportFrameText is the frame of a chart: the axes, the value range and
// the times.
const reportFrameText = `
<line class="grid" x1="{{.L}}" y1="{{.T}}" x2="{{.R}}" y2="{{.T}}"/>
<line class="axis" x1="{{.L}}" y1="{{.Bottom}}" x2="{{.R}}" y2="{{.Bottom}}"/>
<line class="axis" x1="{{.L}}" y1="{{.T}}" x2="{{.L}}" y2="{{.Bottom}}"/>
<text x="{{.LabelX}}" y="{{.TopY}}" text-anchor="end">{{.YMax}}</text>
<text x="{{.LabelX}}" y="{{.Bottom}}" text-anchor="end">0</text>
{{- range .TimeTicks}}
<text x="{{.X}}" y="{{$.TimeY}}" text-anchor="middle">{{.Label}}</text>
{{- end}}`
