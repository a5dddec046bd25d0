package reportlog

import (
	"path/filepath"
	"testing"
)

// benchmarkAppend measures records/s from parallel appenders in mode.
func benchmarkAppend(b *testing.B, mode SyncMode) {
	w, err := OpenWriter(Config{Path: filepath.Join(b.TempDir(), "r.log"), Sync: mode})
	if err != nil {
		b.Fatal(err)
	}
	defer w.Close()
	rec := Record{Event: EventOut, Feature: "f1", Version: "1.0", User: "alice", Host: "h1",
		Display: "/dev/pts/1", Count: 1, Handle: 1}
	// Appenders are mostly waiting on the disk, as a vendor daemon's
	// connection handlers are: run many of them per CPU.
	b.SetParallelism(16)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := w.Append(rec); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

func BenchmarkAppendBatched(b *testing.B) { benchmarkAppend(b, SyncBatched) }
func BenchmarkAppendGroup(b *testing.B)   { benchmarkAppend(b, SyncGroup) }
func BenchmarkAppendEach(b *testing.B)    { benchmarkAppend(b, SyncEach) }
