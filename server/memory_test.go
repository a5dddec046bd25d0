package server

import (
	"fmt"
	"math"
	"runtime"
	"runtime/debug"
	"sync"
	"testing"
	"time"
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

func TestGCPercent(t *testing.T) {
	tests := []struct {
		live uint64
		want int
	}{
		{0, gcMaxPercent},
		{1 << 20, gcMaxPercent},      // 8 MB of headroom would be 800%
		{2 << 20, gcMaxPercent},      // exactly 400%
		{4 << 20, 200},               // 8 MB on 4 MB
		{10 << 20, 80},               // 8 MB on 10 MB
		{16 << 20, vendorGCPercent},  // where the floor begins
		{200 << 20, vendorGCPercent}, // a big daemon keeps the floor
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.live), func(t *testing.T) {
			if got := gcPercent(tt.live); got != tt.want {
				t.Errorf("gcPercent(%d) = %d, want %d", tt.live, got, tt.want)
			}
		})
	}
}

// TestAfterGC checks that the hook runs after every collection, not only
// the first.
func TestAfterGC(t *testing.T) {
	calls := make(chan struct{}, 10)
	stop := false
	var mu sync.Mutex
	afterGC(func() {
		mu.Lock()
		defer mu.Unlock()
		if !stop {
			select {
			case calls <- struct{}{}:
			default:
			}
		}
	})
	t.Cleanup(func() { mu.Lock(); stop = true; mu.Unlock() })
	for i := 0; i < 3; i++ {
		deadline := time.Now().Add(10 * time.Second)
		for got := false; !got; {
			runtime.GC()
			select {
			case <-calls:
				got = true
			case <-time.After(10 * time.Millisecond):
				if time.Now().After(deadline) {
					t.Fatalf("no call after collection %d", i+1)
				}
			}
		}
	}
}
