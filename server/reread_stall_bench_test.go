package server

import (
	"context"
	"fmt"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"golm/lmutil/protocol"
)

// BenchmarkRereadStall measures the longest checkout and checkin of a
// client that loops them over TCP (in-process) while the vendor daemon rereads n license lines and gives the memory
// back, as it does on an lmreread.
func BenchmarkRereadStall(b *testing.B) {
	for _, n := range []int{20000, 200000} {
		b.Run(fmt.Sprintf("lines=%d", n), func(b *testing.B) {
			v, err := NewVendor(scaleVendorConfig(b, n))
			if err != nil {
				b.Fatal(err)
			}
			ReleaseMemory()
			ctx, cancel := context.WithCancel(context.Background())
			served := make(chan struct{})
			go func() { v.Serve(ctx); close(served) }()
			defer func() { cancel(); <-served }()
			nc, err := net.Dial("tcp", v.Addr().String())
			if err != nil {
				b.Fatal(err)
			}
			c := protocol.NewConn(nc)
			defer c.Close()
			if _, err := protocol.ClientHandshake(c, &protocol.Hello{Version: protocol.Version, Role: protocol.RoleClient, Identity: protocol.Identity{User: "probe", Host: "h"}}); err != nil {
				b.Fatal(err)
			}
			var stop atomic.Bool
			var worst, probes atomic.Int64
			done := make(chan struct{})
			go func() {
				// A client over TCP, as the lines stage's probe: a
				// checkout and its checkin every 2 ms.
				defer close(done)
				tick := time.NewTicker(2 * time.Millisecond)
				defer tick.Stop()
				for !stop.Load() {
					<-tick.C
					t0 := time.Now()
					m, err := c.Call(&protocol.Checkout{Feature: "f000001", Version: "1.0", Count: 1})
					d := time.Since(t0)
					if g, ok := m.(*protocol.Granted); ok && err == nil {
						c.Call(&protocol.Checkin{Handle: g.Handle})
					}
					if int64(d) > worst.Load() {
						worst.Store(int64(d))
					}
					probes.Add(1)
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
