package httpstatus

import (
	"fmt"
	"strings"
	"time"

	"golm/lmutil/protocol"
)

// The charts' drawing area: a viewBox of chartW × chartH, stretched to
// the card's width by the style sheet.
const (
	chartW = 600
	chartH = 100
)

// chartView is one usage chart of a feature: the seats in use over the
// window as a step area, and the licensed seats as a line.
type chartView struct {
	Window string // "24h" or "7d"
	Title  string
	// Area is the SVG path of the seats in use, TotalY the height of
	// the licensed seats' line ("" when the count is unknown).
	Area   string
	TotalY string
	Peak   int
	Total  int
	Points int // buckets drawn
}

// chartWindows are the windows drawn, one per series of a
// UsageHistory, in its order.
var chartWindows = []struct {
	name, title string
	span        time.Duration
}{
	{"24h", "Last 24 hours", 24 * time.Hour},
	{"7d", "Last 7 days", 7 * 24 * time.Hour},
}

// chartsOf are the charts of a feature's usage history up to now;
// issued is the feature's count now, drawn as its line (the report log's
// count when the status has none).
func chartsOf(h *protocol.UsageHistory, issued int, now time.Time) []chartView {
	if h == nil {
		return nil
	}
	var charts []chartView
	for i, s := range h.Series {
		if i >= len(chartWindows) || s.Step == 0 || len(s.InUse) == 0 {
			continue
		}
		w := chartWindows[i]
		total := issued
		if total <= 0 {
			total = int(min(h.Total, 1<<31-1))
		}
		charts = append(charts, chart(w.name, w.title, s, now.Add(-w.span), w.span, total))
	}
	return charts
}

// chart draws series s over [from, from+span).
func chart(name, title string, s protocol.UsageSeries, from time.Time, span time.Duration, total int) chartView {
	c := chartView{Window: name, Title: title, Total: total}
	for _, v := range s.InUse {
		c.Peak = max(c.Peak, int(min(v, 1<<31-1)))
	}
	top := max(c.Peak, total, 1)
	x := func(t time.Time) float64 {
		f := float64(t.Sub(from)) / float64(span) * chartW
		return min(max(f, 0), chartW)
	}
	y := func(v int) float64 { return chartH - float64(v)/float64(top)*chartH*0.95 }
	step := time.Duration(s.Step) * time.Second
	start := time.Unix(s.Start, 0)
	var b strings.Builder
	last := -1
	x0 := -1.0
	for i, v := range s.InUse {
		t0 := start.Add(time.Duration(i) * step)
		if !t0.Add(step).After(from) {
			continue
		}
		n := int(min(v, 1<<31-1))
		c.Points++
		if x0 < 0 {
			x0 = x(t0)
			fmt.Fprintf(&b, "M%.1f %d V%.1f", x0, chartH, y(n))
		} else if n != last {
			fmt.Fprintf(&b, " H%.1f V%.1f", x(t0), y(n))
		}
		last = n
	}
	if x0 < 0 {
		return c
	}
	end := start.Add(time.Duration(len(s.InUse)) * step)
	fmt.Fprintf(&b, " H%.1f V%d Z", x(end), chartH)
	c.Area = b.String()
	if total > 0 {
		c.TotalY = fmt.Sprintf("%.1f", y(total))
	}
	return c
}
