package server

import (
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
)

// The garbage collector settings of a vendor daemon process. A vendor
// daemon keeps a goroutine per connected client, and the collector's
// heap goal grows with the goroutines' stacks as well as with the live
// heap: with the Go default (GOGC=100, no limit) 10,000 idle clients let
// the heap grow by tens of megabytes of garbage between collections.
// vendorGCPercent collects sooner; vendorMemoryLimit is a soft limit on
// the memory the Go runtime manages, past which it collects harder (and
// returns memory to the system) rather than grow. A soft limit is not a
// cap: a daemon whose live memory is above it keeps running, at the cost
// of more collector CPU (the runtime bounds that to about half of it).
// GOGC and GOMEMLIMIT in the environment override either.
//
// A small heap collected at vendorGCPercent would be collected very
// often under load (a heap of 4 MB every 2 MB allocated, dozens of
// times a second at tens of thousands of checkouts a second), and each
// collection shrinks the stacks of the waiting connection goroutines,
// which the next request grows again. So while the live heap is small
// the percentage is raised to leave at least gcHeadroom between
// collections (never above gcMaxPercent); from a live heap of
// gcHeadroom*100/vendorGCPercent (16 MB) on, vendorGCPercent holds.
const (
	vendorGCPercent   = 50
	vendorMemoryLimit = 80 << 20
	gcHeadroom        = 8 << 20
	gcMaxPercent      = 400
)

// TuneMemory applies the vendor daemon's garbage collector settings to
// this process, except those the environment (GOGC, GOMEMLIMIT) sets.
// Only a vendor daemon process calls it: the settings are process-wide.
func TuneMemory(getenv func(string) string) {
	if getenv("GOGC") == "" {
		debug.SetGCPercent(vendorGCPercent)
	}
	if getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(vendorMemoryLimit)
	}
}

// PaceGC makes the collector percentage follow the live heap (see
// gcHeadroom) for the life of the process, unless the environment sets
// GOGC. Only a vendor daemon process calls it, after TuneMemory.
func PaceGC(getenv func(string) string) {
	if getenv("GOGC") == "" {
		paceOnce.Do(func() { afterGC(pace) })
	}
}

var (
	paceOnce    sync.Once
	pacePercent = vendorGCPercent // the percentage pace set last
)

// gcPercent is the collector percentage for a live heap of live bytes.
func gcPercent(live uint64) int {
	if live == 0 {
		return gcMaxPercent
	}
	p := uint64(gcHeadroom) * 100 / live
	return int(min(max(p, vendorGCPercent), gcMaxPercent))
}

// pace sets the collector percentage for the live heap the collection
// that just ended measured. It runs on the runtime's finalizer goroutine,
// one call at a time; a change of less than a tenth is not worth the
// runtime's locks.
func pace() {
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return
	}
	p := gcPercent(s[0].Value.Uint64())
	if d := p - pacePercent; d*10 > pacePercent || -d*10 > pacePercent {
		debug.SetGCPercent(p)
		pacePercent = p
	}
}

// gcSentinel is an object only a finalizer refers to: it dies at the
// next collection. It holds a pointer so that the tiny allocator, which
// packs small pointer-free objects together, gives it a block of its
// own.
type gcSentinel struct{ _ *byte }

// afterGC calls f after each garbage collection, for the life of the
// process.
func afterGC(f func()) {
	runtime.SetFinalizer(&gcSentinel{}, func(*gcSentinel) {
		f()
		afterGC(f)
	})
}

// ReleaseMemory returns to the operating system the memory a daemon
// used while starting (reading and checking the license files), which
// the collector would otherwise give back only gradually: an idle daemon
// then holds about its live heap.
func ReleaseMemory() { debug.FreeOSMemory() }
