package commands

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestStartProfile(t *testing.T) {
	t.Run("off", func(t *testing.T) {
		startProfile("", "lmgrd", t.Logf)() // nothing to write, nothing to stop
	})
	t.Run("cpu and heap", func(t *testing.T) {
		dir := t.TempDir()
		startProfile(dir, "demo", t.Logf)()
		base := filepath.Join(dir, fmt.Sprintf("demo-%d", os.Getpid()))
		for _, name := range []string{base + ".cpu.pprof", base + ".heap.pprof"} {
			if st, err := os.Stat(name); err != nil || st.Size() == 0 {
				t.Errorf("%s: got %v, want a profile", filepath.Base(name), err)
			}
		}
		mem, err := os.ReadFile(base + ".heap.mem")
		if err != nil {
			t.Fatalf("memory figures: %v", err)
		}
		for _, key := range []string{"HeapAlloc ", "StackInuse ", "NumGC ", "Goroutines "} {
			if !strings.Contains(string(mem), "\n"+key) && !strings.HasPrefix(string(mem), key) {
				t.Errorf("memory figures lack %q:\n%s", key, mem)
			}
		}
	})
	t.Run("unwritable", func(t *testing.T) {
		var logged []string
		stop := startProfile(filepath.Join(t.TempDir(), "missing"), "demo", func(f string, a ...any) {
			logged = append(logged, fmt.Sprintf(f, a...))
		})
		stop()
		if len(logged) != 1 {
			t.Errorf("logged %q, want one profile error", logged)
		}
	})
}
