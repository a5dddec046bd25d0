package main

import (
	"testing"
	"time"
)

func TestBeatCurve(t *testing.T) {
	tests := []struct {
		name    string
		beatCPU map[int]float64
		want    []row
	}{
		{"flat", map[int]float64{1000: 20, 10000: 22, 19700: 25},
			[]row{{"vendor daemon CPU per heartbeat, 19700 clients ÷ 1000", "1.25×", "0.70–1.30×", "yes"}}},
		{"steep", map[int]float64{1000: 20, 19700: 27},
			[]row{{"vendor daemon CPU per heartbeat, 19700 clients ÷ 1000", "1.35×", "0.70–1.30×", "no"}}},
		{"falls too far", map[int]float64{1000: 20, 10000: 13},
			[]row{{"vendor daemon CPU per heartbeat, 10000 clients ÷ 1000", "0.65×", "0.70–1.30×", "no"}}},
		{"no 1,000-client figure", map[int]float64{10000: 22, 19700: 25}, nil},
		{"only 1,000 clients", map[int]float64{1000: 20}, nil},
		{"nothing measured", nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &suite{beatCPU: tt.beatCPU}
			s.beatCurve()
			if len(s.rows) != len(tt.want) {
				t.Fatalf("rows %+v, want %+v", s.rows, tt.want)
			}
			for i := range tt.want {
				if s.rows[i] != tt.want[i] {
					t.Errorf("row %+v, want %+v", s.rows[i], tt.want[i])
				}
			}
		})
	}
}

func TestCPUSplitString(t *testing.T) {
	c := cpuSplit{server: 40 * time.Millisecond, clients: 30 * time.Millisecond,
		serverUser: 60 * time.Millisecond, serverSys: 40 * time.Millisecond,
		clientsUser: 50 * time.Millisecond, clientsSys: 50 * time.Millisecond, pairs: 1000}
	if got, want := c.String(), "40.0 µs (kernel 16.0) + 30.0 µs (kernel 15.0)"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	if got := (cpuSplit{}).String(); got != "?" {
		t.Errorf("no pairs: %q, want ?", got)
	}
}
