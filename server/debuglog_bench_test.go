package server

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golm/lmutil/protocol"
)

// BenchmarkUsageLog measures checkout and checkin pairs per second of
// 1,000 jobs on loopback connections to one vendor daemon, each pair
// writing an OUT and an IN line: to a debug log file (what lmgrd -l
// does), to io.Discard, and with NOLOG IN and NOLOG OUT, where the lines
// are not even built (the run without a debug log).
func BenchmarkUsageLog(b *testing.B) {
	const jobs = 1000
	for _, mode := range []string{"nolog", "discard", "file"} {
		b.Run("log="+mode, func(b *testing.B) {
			dir := b.TempDir()
			p := signedLicense(b, dir, fmt.Sprintf("SERVER this_host ANY 27000\nVENDOR demo\nFEATURE f1 demo 1.0 permanent %d\n", 2*jobs))
			var w io.Writer = io.Discard
			switch mode {
			case "nolog":
				if err := os.WriteFile(filepath.Join(dir, "demo.opt"), []byte("NOLOG IN\nNOLOG OUT\n"), 0o644); err != nil {
					b.Fatal(err)
				}
			case "file":
				f, err := os.OpenFile(filepath.Join(dir, "debug.log"), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
				if err != nil {
					b.Fatal(err)
				}
				defer f.Close()
				w = f
			}
			log := NewDebugLog(w, "demo", nil)
			defer log.Close()
			v, err := NewVendor(VendorConfig{Name: "demo", LicenseFiles: []string{p}, Addr: "127.0.0.1:0", Log: log, MaxConnections: 2 * jobs})
			if err != nil {
				b.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			served := make(chan struct{})
			go func() { v.Serve(ctx); close(served) }()
			defer func() { cancel(); <-served }()

			conns := make([]*protocol.Conn, jobs)
			for i := range conns {
				nc, err := net.Dial("tcp", v.Addr().String())
				if err != nil {
					b.Fatal(err)
				}
				c := protocol.NewConn(nc)
				defer c.Close()
				if _, err := protocol.ClientHandshake(c, clientHello(fmt.Sprintf("u%d", i))); err != nil {
					b.Fatal(err)
				}
				conns[i] = c
			}
			var left atomic.Int64
			left.Store(int64(b.N))
			var failed atomic.Value
			b.ResetTimer()
			start, cpu0 := time.Now(), cpuTime()
			var wg sync.WaitGroup
			for _, c := range conns {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for left.Add(-1) >= 0 {
						m, err := c.Call(&protocol.Checkout{Feature: "f1", Version: "1.0", Count: 1})
						if err != nil {
							failed.Store(err)
							return
						}
						if _, err := c.Call(&protocol.Checkin{Handle: m.(*protocol.Granted).Handle}); err != nil {
							failed.Store(err)
							return
						}
					}
				}()
			}
			wg.Wait()
			b.StopTimer()
			if err, _ := failed.Load().(error); err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "pairs/s")
			// CPU time per pair (clients and vendor daemon together) is
			// what the log costs, even on a machine other work shares.
			b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/pair")
		})
	}
}

// cpuTime is the CPU time this process used, user and system.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkUsageLine measures writing one OUT line to a debug log file
// from every CPU at once: the cost a checkout pays for its line.
func BenchmarkUsageLine(b *testing.B) {
	f, err := os.OpenFile(filepath.Join(b.TempDir(), "debug.log"), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	log := NewDebugLog(f, "demo", nil)
	defer log.Close()
	c := client("user1", "server1.example.com")
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			log.Usage("OUT", "Virtuoso_Schematic_Editor_L", c.User, c.Host, 1, "")
		}
	})
}
