package httpstatus_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"golm/lmutil/protocol"
	"golm/lmutil/server/httpstatus"
)

// TestGrafanaDashboard checks that contrib/grafana's dashboard asks only
// for metrics that /metrics has, so that it cannot fall behind a rename.
func TestGrafanaDashboard(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "contrib", "grafana", "golm-dashboard.json"))
	if err != nil {
		t.Fatal(err)
	}
	var dash any
	if err := json.Unmarshal(b, &dash); err != nil {
		t.Fatalf("the dashboard is not JSON: %v", err)
	}
	var exprs []string
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				if s, ok := x.(string); ok && (k == "expr" || k == "definition") {
					exprs = append(exprs, s)
				}
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	walk(dash)
	if len(exprs) < 5 {
		t.Fatalf("found %d queries in the dashboard, want its panels' ones", len(exprs))
	}
	// Every series there is: a vendor daemon with a report log, in a
	// triad.
	ext := &protocol.VendorStatsExt{QueueWaitBounds: []uint64{1000}, QueueWaitCounts: []uint64{1, 0}, ReportLog: true, TriadRole: protocol.TriadMaster}
	stats := &protocol.VendorStats{Denials: []protocol.DenialCount{{Code: -4, Count: 1}}, LatencyBounds: []uint64{100}, LatencyCounts: []uint64{1, 0}}
	fams := scrape(t, start(t, httpstatus.Config{}, func() (httpstatus.Conn, error) {
		return &statsConn{fakeConn: workload(), stats: stats, ext: ext}, nil
	}).url)
	name := regexp.MustCompile(`\bgolm_[a-z_]+`)
	for _, e := range exprs {
		for _, m := range name.FindAllString(e, -1) {
			if fams[m] == nil && fams[strings.TrimSuffix(m, "_bucket")] == nil {
				t.Errorf("the dashboard asks for %s, which /metrics does not have (in %s)", m, e)
			}
		}
	}
}
