package server

import (
	"math"
	"runtime/debug"
	"testing"
)

// TestTuneMemory checks that TuneMemory sets the vendor daemon's
// collector settings, and leaves alone those the environment sets.
func TestTuneMemory(t *testing.T) {
	oldGC := debug.SetGCPercent(100)
	oldLimit := debug.SetMemoryLimit(math.MaxInt64)
	t.Cleanup(func() {
		debug.SetGCPercent(oldGC)
		debug.SetMemoryLimit(oldLimit)
	})
	tests := []struct {
		name      string
		env       map[string]string
		gc        int
		limit     int64
		wantGC    int
		wantLimit int64
	}{
		{"defaults", nil, 100, math.MaxInt64, vendorGCPercent, vendorMemoryLimit},
		{"GOGC set", map[string]string{"GOGC": "200"}, 200, math.MaxInt64, 200, vendorMemoryLimit},
		{"GOMEMLIMIT set", map[string]string{"GOMEMLIMIT": "1GiB"}, 100, 1 << 30, vendorGCPercent, 1 << 30},
		{"both set", map[string]string{"GOGC": "off", "GOMEMLIMIT": "2GiB"}, -1, 2 << 30, -1, 2 << 30},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// What the runtime would have read from the environment.
			debug.SetGCPercent(tt.gc)
			debug.SetMemoryLimit(tt.limit)
			TuneMemory(func(k string) string { return tt.env[k] })
			if got := debug.SetGCPercent(tt.gc); got != tt.wantGC {
				t.Errorf("GC percent: got %d, want %d", got, tt.wantGC)
			}
			if got := debug.SetMemoryLimit(-1); got != tt.wantLimit {
				t.Errorf("memory limit: got %d, want %d", got, tt.wantLimit)
			}
		})
	}
}
