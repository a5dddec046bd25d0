package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseGoBench(t *testing.T) {
	out := `goos: linux
pkg: golm/lmutil/server/reportlog
BenchmarkAppendBatched-2   	  100	  3000 ns/op	  330000 records/s	  10 B/op	  1 allocs/op
BenchmarkAppendBatched-2   	  100	  3100 ns/op	  320000 records/s	  10 B/op	  1 allocs/op
pkg: golm/lmutil/protocol
BenchmarkEncode/CHECKOUT-2 	  5000	  41.5 ns/op	  0 B/op	  0 allocs/op
PASS
`
	got := parseGoBench([]byte(out))
	if len(got) != 2 {
		t.Fatalf("got %d benchmarks, want 2: %+v", len(got), got)
	}
	tests := []struct {
		i          int
		pkg, name  string
		unit       string
		runs       int
		median     float64
		firstUnits string
	}{
		{0, "golm/lmutil/server/reportlog", "BenchmarkAppendBatched", "records/s", 2, 325000, "ns/op records/s B/op allocs/op"},
		{1, "golm/lmutil/protocol", "BenchmarkEncode/CHECKOUT", "ns/op", 1, 41.5, "ns/op B/op allocs/op"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := got[tt.i]
			if b.Pkg != tt.pkg || b.Name != tt.name {
				t.Errorf("got %s %s, want %s %s", b.Pkg, b.Name, tt.pkg, tt.name)
			}
			r := b.metric(tt.unit)
			if len(r) != tt.runs || r.Median() != tt.median {
				t.Errorf("%s: got %v (median %v), want %d runs, median %v", tt.unit, r, r.Median(), tt.runs, tt.median)
			}
			if units := strings.Join(b.order, " "); units != tt.firstUnits {
				t.Errorf("units %q, want %q", units, tt.firstUnits)
			}
		})
	}
}

func TestKeepAnalysis(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "B.md")
	empty := "<!-- analysis -->\n<!-- end analysis -->\n"
	if got := keepAnalysis(p); got != empty {
		t.Errorf("no file: got %q, want %q", got, empty)
	}
	kept := "<!-- analysis -->\n## Analysis\n\ntext\n<!-- end analysis -->"
	if err := os.WriteFile(p, []byte("# old\n| table |\n\n"+kept+"\n\n## Method\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := keepAnalysis(p); got != kept+"\n" {
		t.Errorf("got %q, want %q", got, kept+"\n")
	}
}

func TestExchanges(t *testing.T) {
	for i, x := range exchanges() {
		if x.Request < 6 || x.Reply < 6 {
			t.Errorf("exchange %d = %+v, want frames of at least a header and a field", i, x)
		}
	}
}
