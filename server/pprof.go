package server

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
)

// ProfileEnv names a hidden environment variable for performance work:
// when it names a directory, a vendor daemon writes a CPU profile of its
// whole life there (NAME-PID.cpu.pprof) and a heap profile when it exits
// (NAME-PID.heap.pprof).
const ProfileEnv = "GOLM_PPROF"

// startProfile starts profiling into dir (from ProfileEnv) and returns
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
	return func() {
		pprof.StopCPUProfile()
		f.Close()
		h, err := os.Create(base + ".heap.pprof")
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
}
