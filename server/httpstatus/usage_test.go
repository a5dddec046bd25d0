package httpstatus_test

import (
	"context"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"golm/lmutil/protocol"
	"golm/lmutil/server/httpstatus"
)

// statsConn is the workload of fakeConn with the vendor daemons'
// counters and usage history.
type statsConn struct {
	*fakeConn
	stats *protocol.VendorStats
	ext   *protocol.VendorStatsExt
	usage map[string]*protocol.UsageHistory
}

func (c *statsConn) VendorStats(context.Context, string) (*protocol.VendorStats, error) {
	return c.stats, nil
}

func (c *statsConn) VendorExtras(_ context.Context, _ string, features []string) (*protocol.VendorStatsExt, map[string]*protocol.UsageHistory, error) {
	u := map[string]*protocol.UsageHistory{}
	for _, f := range features {
		if h := c.usage[f]; h != nil {
			u[f] = h
		}
	}
	return c.ext, u, nil
}

// dayOfF1 is f1's last day: none in use, then 4 from two hours ago, 1
// from half an hour ago; the report log says 10 seats.
func dayOfF1() *protocol.UsageHistory {
	s := protocol.UsageSeries{Start: now.Add(-1439 * time.Minute).Unix(), Step: 60, InUse: make([]uint64, 1440)}
	for i := 1440 - 120; i < 1440; i++ {
		s.InUse[i] = 4
		if i >= 1440-30 {
			s.InUse[i] = 1
		}
	}
	w := protocol.UsageSeries{Start: now.Add(-3 * 24 * time.Hour).Unix(), Step: 900, InUse: []uint64{2, 2, 0}}
	return &protocol.UsageHistory{Feature: "f1", Total: 10, InUse: 1, Series: []protocol.UsageSeries{s, w}}
}

func withStats(ext *protocol.VendorStatsExt) func() (httpstatus.Conn, error) {
	return func() (httpstatus.Conn, error) {
		return &statsConn{fakeConn: workload(), stats: &protocol.VendorStats{Checkouts: 7, Connections: 12}, ext: ext,
			usage: map[string]*protocol.UsageHistory{"f1": dayOfF1()}}, nil
	}
}

func TestUsageChart(t *testing.T) {
	ts := start(t, httpstatus.Config{}, withStats(&protocol.VendorStatsExt{Started: now.Add(-50 * time.Hour).Unix()}))
	_, page := get(t, ts.url+"/")
	for _, want := range []string{
		// The vendor daemon's uptime and clients.
		`<b>demo</b> UP v0.1.0 <span class="uptime">· up 2 d 2 h</span> <span class="clients">· 12 clients</span>`,
		`<figure class="chart" data-window="24h" data-points="1440" data-peak="4">`,
		// Over 24 h in 600 units: the first bucket starts 1 minute in,
		// 4 seats (of a scale of 10) from 119 minutes ago (550.4), 1
		// seat from 29 minutes ago (587.9), to the right edge.
		`<path class="chart-used" d="M0.4 100 V100.0 H550.4 V62.0 H587.9 V90.5 H600.0 V100 Z"/>`,
		`<line class="chart-total" x1="0" x2="600" y1="5.0" y2="5.0"/>`,
		`Last 24 hours · peak 4 of 10`,
		// Three quarter-hours from three days ago, in a week of 600 units.
		`<figure class="chart" data-window="7d" data-points="3" data-peak="2">`,
		`d="M342.9 100 V81.0 H344.6 V100.0 H345.5 V100 Z"`, // 2, 2, then 0
		`Last 7 days · peak 2 of 10`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %s", want)
		}
	}
	if t.Failed() {
		for _, l := range strings.Split(page, "\n") {
			if strings.Contains(l, "chart") {
				t.Log(l)
			}
		}
	}
	// f2 has no history: no chart.
	i := strings.Index(page, `data-feature="f2"`)
	j := strings.Index(page, `data-feature="f3"`)
	if i < 0 || j < i || strings.Contains(page[i:j], `class="chart"`) {
		t.Errorf("f2, which has no usage history, has a chart (or is missing)")
	}
	if strings.Contains(page, "style=") {
		t.Errorf("the chart has inline style, which the CSP forbids")
	}
	// The fragment the script refreshes the page with has the charts.
	if _, frag := get(t, ts.url+"/fragment"); !strings.Contains(frag, `data-window="24h"`) {
		t.Errorf("the fragment has no chart")
	}
}

func histogramOf(t *testing.T, f *dto.MetricFamily) *dto.Histogram {
	t.Helper()
	if f == nil || len(f.GetMetric()) != 1 {
		t.Fatalf("want one histogram, got %v", f)
	}
	return f.GetMetric()[0].GetHistogram()
}

func TestMetricsExt(t *testing.T) {
	ext := &protocol.VendorStatsExt{
		QueueWaitBounds: []uint64{1000, 60000}, QueueWaitCounts: []uint64{2, 1, 1}, QueueWaitSum: 92500,
		ReportLog: true, ReportRecords: 5021, ReportWriteErrors: 3,
		TriadRole: protocol.TriadStandby, TriadTerm: 12, TriadQuorum: true,
	}
	ts := start(t, httpstatus.Config{}, withStats(ext))
	fams := scrape(t, ts.url)
	h := histogramOf(t, fams["golm_checkout_queue_wait_seconds"])
	if h.GetSampleCount() != 4 || h.GetSampleSum() != 92.5 {
		t.Errorf("queue wait: count %d, sum %v; want 4, 92.5", h.GetSampleCount(), h.GetSampleSum())
	}
	bs := h.GetBucket()
	if len(bs) != 3 || bs[0].GetUpperBound() != 1 || bs[0].GetCumulativeCount() != 2 || bs[1].GetUpperBound() != 60 || bs[1].GetCumulativeCount() != 3 {
		t.Errorf("queue wait buckets: %v; want le=1: 2, le=60: 3, +Inf: 4", bs)
	}
	counter := func(name string) float64 {
		f := fams[name]
		if f == nil || len(f.GetMetric()) != 1 {
			t.Fatalf("%s: want one series, got %v", name, f)
		}
		m := f.GetMetric()[0]
		if m.GetCounter() != nil {
			return m.GetCounter().GetValue()
		}
		return m.GetGauge().GetValue()
	}
	for name, want := range map[string]float64{
		"golm_report_log_records_total": 5021, "golm_report_log_write_errors_total": 3,
		"golm_triad_role": 2, "golm_triad_term": 12, "golm_triad_quorum": 1,
	} {
		if got := counter(name); got != want {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	if fams["golm_report_log_records_total"].GetType() != dto.MetricType_COUNTER {
		t.Errorf("golm_report_log_records_total is a %v, want a counter", fams["golm_report_log_records_total"].GetType())
	}

	t.Run("outside a triad and without a report log", func(t *testing.T) {
		ts := start(t, httpstatus.Config{}, withStats(&protocol.VendorStatsExt{QueueWaitBounds: []uint64{1000}, QueueWaitCounts: []uint64{0, 0}}))
		fams := scrape(t, ts.url)
		for _, name := range []string{"golm_triad_role", "golm_triad_term", "golm_triad_quorum", "golm_report_log_records_total", "golm_report_log_write_errors_total"} {
			if fams[name] != nil {
				t.Errorf("%s has series: %v", name, fams[name])
			}
		}
		if fams["golm_checkout_queue_wait_seconds"] == nil {
			t.Errorf("no queue-wait histogram")
		}
	})
}
