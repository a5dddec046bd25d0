package commands

import (
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strings"
)

// profileEnv names a hidden environment variable for performance work:
// when it names a directory, lmgrd and each vendor daemon write a CPU profile of its
// whole life there (NAME-PID.cpu.pprof) and a heap profile when it exits
// (NAME-PID.heap.pprof), and one more each time it gets SIGUSR1
// (NAME-PID.heap-N.pprof), to see the memory of connected clients. Beside
// each heap profile, NAME-PID.heap-N.mem holds the runtime's memory
// figures read before the profile's collection: the goroutine stacks
// and the collections so far, which the heap profile leaves out.
const profileEnv = "GOLM_PPROF"

// startProfile starts profiling into dir (from profileEnv) and returns
// the function that stops it; with dir "" it does nothing. Profiling is
// best effort: a failure is reported through logf and ignored.
func startProfile(dir, name string, logf func(format string, args ...any)) (stop func()) {
	if dir == "" {
		return func() {}
	}
	base := filepath.Join(dir, fmt.Sprintf("%s-%d", name, os.Getpid()))
	f, err := os.Create(base + ".cpu.pprof")
	if err != nil {
		logf("profile: %v", err)
		return func() {}
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		logf("profile: %v", err)
		f.Close()
		return func() {}
	}
	usr1 := make(chan os.Signal, 1)
	if sig := heapSignals(); len(sig) > 0 {
		signal.Notify(usr1, sig...)
	}
	done := make(chan struct{})
	go func() {
		for n := 1; ; n++ {
			select {
			case <-usr1:
				writeHeap(fmt.Sprintf("%s.heap-%d.pprof", base, n), logf)
			case <-done:
				return
			}
		}
	}()
	return func() {
		signal.Stop(usr1)
		close(done)
		pprof.StopCPUProfile()
		f.Close()
		writeHeap(base+".heap.pprof", logf)
	}
}

// writeHeap writes a heap profile to path after a garbage collection,
// and the memory figures from before it to path with .mem for .pprof.
func writeHeap(path string, logf func(format string, args ...any)) {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	mem := fmt.Sprintf("HeapAlloc %d\nHeapInuse %d\nHeapSys %d\nStackInuse %d\nNextGC %d\nNumGC %d\nPauseTotalNs %d\nGCCPUFraction %.4f\nGoroutines %d\n",
		m.HeapAlloc, m.HeapInuse, m.HeapSys, m.StackInuse, m.NextGC, m.NumGC, m.PauseTotalNs, m.GCCPUFraction, runtime.NumGoroutine())
	if err := os.WriteFile(strings.TrimSuffix(path, ".pprof")+".mem", []byte(mem), 0o644); err != nil {
		logf("profile: %v", err)
	}
	h, err := os.Create(path)
	if err != nil {
		logf("profile: %v", err)
		return
	}
	defer h.Close()
	runtime.GC()
	if err := pprof.WriteHeapProfile(h); err != nil {
		logf("profile: %v", err)
	}
}
