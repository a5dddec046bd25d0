package server

import (
	"math"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
)

// The garbage collector settings of a vendor daemon process. A vendor
// daemon keeps a goroutine per connected client, and the collector's
// heap goal grows with the goroutines' stacks as well as with the live
// heap: with the Go default (GOGC=100) thousands of idle clients let the
// heap grow by many megabytes of garbage between collections, so
// vendorGCPercent collects sooner.
//
// A soft memory limit is not a cap: once the live memory is above it the
// collector runs nearly all the time (the runtime lets it take about
// half the CPU) and frees nothing. A fixed limit that suits a small
// daemon is below the live memory of a big one, which then burns a core
// collecting (BenchmarkGCSettings, limit_below_live; its figures are in
// BENCHMARKS.md). So the limit follows the machine: a quarter of its
// memory (or of the cgroup's limit, in a container), past which the
// daemon gives garbage back rather than take more of a machine that also
// runs the applications it licenses. GOGC and GOMEMLIMIT in the
// environment override either.
const (
	vendorGCPercent = 50
	// minMemoryLimit is the lowest soft limit set from the machine's
	// memory, for a machine (or cgroup) so small that a quarter of it
	// would starve even an idle daemon.
	minMemoryLimit = 64 << 20
)

// heapFloor is the heap below which the vendor daemon does not collect:
// a small live heap under GOGC=50 would otherwise be collected many
// times a second under load, each time shrinking the stacks of the
// connection goroutines that the next requests grow again. It is a
// ballast: an allocation never written, so it takes address space, not
// resident memory, and it makes the collector's goal live heap plus
// ballast. GOLM_GC_BALLAST=0 turns it off (to measure).
const heapFloor = 16 << 20

// TuneMemory applies the vendor daemon's garbage collector settings to
// this process, except those the environment (GOGC, GOMEMLIMIT) sets.
// Only a vendor daemon process calls it: the settings are process-wide.
// The caller keeps the ballast it returns alive (runtime.KeepAlive)
// for as long as it serves.
func TuneMemory(getenv func(string) string) (ballast []byte) {
	if getenv("GOGC") == "" {
		debug.SetGCPercent(vendorGCPercent)
		if getenv("GOLM_GC_BALLAST") != "0" {
			ballast = make([]byte, heapFloor)
		}
	}
	if getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(memoryLimit(machineMemory()))
	}
	return ballast
}

// memoryLimit is the soft memory limit for a machine with total bytes
// of memory (0: unknown, no limit).
func memoryLimit(total uint64) int64 {
	if total == 0 || total/4 > math.MaxInt64 {
		return math.MaxInt64
	}
	return max(int64(total/4), minMemoryLimit)
}

// machineMemory is the memory this process may use: the machine's, or
// the cgroup's limit when that is lower; 0 when neither can be read.
func machineMemory() uint64 {
	total := physicalMemory()
	if c := cgroupLimit(); c > 0 && (total == 0 || c < total) {
		total = c
	}
	return total
}

// physicalMemory is MemTotal of /proc/meminfo, 0 when unreadable.
func physicalMemory() uint64 {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0
	}
	return parseMemTotal(string(b))
}

// parseMemTotal reads the MemTotal line of /proc/meminfo ("MemTotal:
// 16316412 kB"), 0 when there is none.
func parseMemTotal(meminfo string) uint64 {
	for _, l := range strings.Split(meminfo, "\n") {
		rest, ok := strings.CutPrefix(l, "MemTotal:")
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if len(f) != 2 || f[1] != "kB" {
			return 0
		}
		n, err := strconv.ParseUint(f[0], 10, 64)
		if err != nil || n > math.MaxUint64/1024 {
			return 0
		}
		return n * 1024
	}
	return 0
}

// cgroupLimit is the memory limit of this process's cgroup (v2
// memory.max, else v1 memory.limit_in_bytes), 0 when there is none.
func cgroupLimit() uint64 {
	for _, p := range []string{"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"} {
		if b, err := os.ReadFile(p); err == nil {
			return parseCgroupLimit(string(b))
		}
	}
	return 0
}

// parseCgroupLimit reads a cgroup memory limit file: a number of bytes,
// or "max" (v2) or a huge number (v1) for none, which give 0.
func parseCgroupLimit(s string) uint64 {
	n, err := strconv.ParseUint(strings.TrimSpace(s), 10, 64)
	if err != nil || n >= 1<<62 {
		return 0
	}
	return n
}

// ReleaseMemory returns to the operating system the memory a daemon
// used while starting (reading and checking the license files), which
// the collector would otherwise give back only gradually: an idle daemon
// then holds about its live heap.
func ReleaseMemory() { debug.FreeOSMemory() }
