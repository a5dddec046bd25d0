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
	machine := memoryLimit(machineMemory())
	tests := []struct {
		name      string
		env       map[string]string
		gc        int
		limit     int64
		wantGC    int
		wantLimit int64
	}{
		{"defaults", nil, 100, math.MaxInt64, vendorGCPercent, machine},
		{"GOGC set", map[string]string{"GOGC": "200"}, 200, math.MaxInt64, 200, machine},
		{"GOMEMLIMIT set", map[string]string{"GOMEMLIMIT": "1GiB"}, 100, 1 << 30, vendorGCPercent, 1 << 30},
		{"GOMEMLIMIT below the machine's", map[string]string{"GOMEMLIMIT": "10MiB"}, 100, 10 << 20, vendorGCPercent, 10 << 20},
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

// TestMemoryLimit checks that the soft limit follows the machine's
// memory: a quarter of it, never below minMemoryLimit, none when the
// memory is unknown.
func TestMemoryLimit(t *testing.T) {
	tests := []struct {
		name  string
		total uint64
		want  int64
	}{
		{"unknown", 0, math.MaxInt64},
		{"16 GiB", 16 << 30, 4 << 30},
		{"1 GiB", 1 << 30, 256 << 20},
		{"256 MiB: the floor", 256 << 20, minMemoryLimit},
		{"tiny cgroup", 32 << 20, minMemoryLimit},
		{"huge", math.MaxUint64, math.MaxUint64 / 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := memoryLimit(tt.total); got != tt.want {
				t.Errorf("memoryLimit(%d) = %d, want %d", tt.total, got, tt.want)
			}
		})
	}
}

func TestParseMemTotal(t *testing.T) {
	tests := []struct {
		name, in string
		want     uint64
	}{
		{"meminfo", "MemTotal:       16316412 kB\nMemFree:         1234 kB\n", 16316412 * 1024},
		{"not first", "Foo: 1 kB\nMemTotal: 2 kB\n", 2048},
		{"missing", "MemFree: 1 kB\n", 0},
		{"no unit", "MemTotal: 2\n", 0},
		{"other unit", "MemTotal: 2 MB\n", 0},
		{"not a number", "MemTotal: x kB\n", 0},
		{"overflow", "MemTotal: 18446744073709551615 kB\n", 0},
		{"empty", "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := parseMemTotal(tt.in); got != tt.want {
				t.Errorf("parseMemTotal(%q) = %d, want %d", tt.in, got, tt.want)
			}
		})
	}
}

func TestParseCgroupLimit(t *testing.T) {
	tests := []struct {
		name, in string
		want     uint64
	}{
		{"v2 bytes", "536870912\n", 512 << 20},
		{"v2 none", "max\n", 0},
		{"v1 none", "9223372036854771712\n", 0},
		{"garbage", "lots", 0},
		{"empty", "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := parseCgroupLimit(tt.in); got != tt.want {
				t.Errorf("parseCgroupLimit(%q) = %d, want %d", tt.in, got, tt.want)
			}
		})
	}
}

// The ballast comes with golm's GOGC, not with one the environment
// sets (the administrator then decides), and GOLM_GC_BALLAST=0 drops it.
func TestTuneMemoryBallast(t *testing.T) {
	oldGC := debug.SetGCPercent(100)
	oldLimit := debug.SetMemoryLimit(math.MaxInt64)
	t.Cleanup(func() {
		debug.SetGCPercent(oldGC)
		debug.SetMemoryLimit(oldLimit)
	})
	for _, tt := range []struct {
		env  map[string]string
		want int
	}{
		{nil, heapFloor},
		{map[string]string{"GOGC": "200"}, 0},
		{map[string]string{"GOLM_GC_BALLAST": "0"}, 0},
		{map[string]string{"GOMEMLIMIT": "1GiB"}, heapFloor},
	} {
		if got := len(TuneMemory(func(k string) string { return tt.env[k] })); got != tt.want {
			t.Errorf("env %v: ballast of %d bytes, want %d", tt.env, got, tt.want)
		}
	}
}
