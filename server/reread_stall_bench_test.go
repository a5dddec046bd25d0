package server

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"golm/lmutil/server/state"
)

// BenchmarkRereadStall measures the longest checkout and checkin of a
// probe that loops them (in-process, through the vendor daemon's apply)
// while the vendor daemon rereads n license lines and gives the memory
// back, as it does on an lmreread.
func BenchmarkRereadStall(b *testing.B) {
	for _, n := range []int{20000, 200000} {
		b.Run(fmt.Sprintf("lines=%d", n), func(b *testing.B) {
			v, err := NewVendor(scaleVendorConfig(b, n))
			if err != nil {
				b.Fatal(err)
			}
			ReleaseMemory()
			var stop atomic.Bool
			var worst atomic.Int64
			var probes atomic.Int64
			done := make(chan struct{})
			go func() {
				defer close(done)
				c := state.Client{User: "probe", Host: "h"}
				for !stop.Load() {
					t0 := time.Now()
					r := v.apply(state.Checkout{Session: 1, Client: c, Feature: "f000001", Version: "1.0", Count: 1, Now: time.Now()})
					if r.Seat != nil {
						v.apply(state.Checkin{Session: 1, Handle: r.Seat.Handle, Now: time.Now()})
					}
					if d := int64(time.Since(t0)); d > worst.Load() {
						worst.Store(d)
					}
					probes.Add(1)
					time.Sleep(2 * time.Millisecond)
				}
			}()
			for b.Loop() {
				if err := v.Reread(); err != nil {
					b.Fatal(err)
				}
				ReleaseMemory()
			}
			stop.Store(true)
			<-done
			b.ReportMetric(float64(worst.Load())/1e6, "max-ms")
			b.ReportMetric(float64(probes.Load()), "probes")
		})
	}
}
