package server

import (
	"context"
	"fmt"
	"math"
	"net"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strings"
	"sync/atomic"
	"testing"

	"golm/lmutil/protocol"
)

// BenchmarkGCSettings measures the collector settings a vendor daemon
// could run with, on a real vendor daemon with idle clients connected
// (each holding a seat) and one busy client checking out and in over
// loopback: the time per checkout and checkin, the collections per
// thousand of them and the collector's CPU per pair. "limit below live"
// is what a fixed soft limit becomes once the clients' memory outgrows
// it (80 MiB at 19,000 clients): the collector runs all the time.
func BenchmarkGCSettings(b *testing.B) {
	for _, idle := range []int{0, 3000} {
		b.Run(fmt.Sprintf("idle=%d", idle), func(b *testing.B) { benchmarkGCSettings(b, idle) })
	}
}

func benchmarkGCSettings(b *testing.B, idle int) {
	var lic strings.Builder
	lic.WriteString("SERVER this_host ANY 27000\nVENDOR demo\n")
	for i := range 10 {
		fmt.Fprintf(&lic, "FEATURE f%d demo 1.0 permanent %d\n", i, idle+1)
	}
	dir := b.TempDir()
	v, err := NewVendor(VendorConfig{Name: "demo", LicenseFiles: []string{signedLicense(b, dir, lic.String())},
		Addr: "127.0.0.1:0", ServerHost: "srv", LmgrdPort: 27000})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { v.Serve(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	dial := func(user string) *protocol.Conn {
		nc, err := net.Dial("tcp", v.Addr().String())
		if err != nil {
			b.Fatal(err)
		}
		c := protocol.NewConn(nc)
		if _, err := protocol.ClientHandshake(c, &protocol.Hello{Version: protocol.Version, Role: protocol.RoleClient,
			Identity: protocol.Identity{User: user, Host: "h", Display: "d"}}); err != nil {
			b.Fatal(err)
		}
		return c
	}
	for i := range idle {
		c := dial(fmt.Sprintf("u%d", i))
		defer c.Close()
		if _, err := c.Call(&protocol.Checkout{Feature: fmt.Sprintf("f%d", i%10), Version: "1.0", Count: 1}); err != nil {
			b.Fatal(err)
		}
	}
	busy := dial("busy")
	defer busy.Close()

	oldGC, oldLimit := debug.SetGCPercent(100), debug.SetMemoryLimit(math.MaxInt64)
	defer func() { debug.SetGCPercent(oldGC); debug.SetMemoryLimit(oldLimit) }()
	var pacing atomic.Bool
	pacer := &gcPacer{percent: 50}
	pacer.afterGC(func() {
		if pacing.Load() {
			pacer.pace()
		}
	})
	live := func() int64 {
		runtime.GC()
		s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
		metrics.Read(s)
		return int64(s[0].Value.Uint64())
	}
	settings := []struct {
		name  string
		gc    int
		limit func() int64
		pace  bool
		// inline answers every request on its connection's
		// goroutine, however many connections are open (deepAbove).
		inline bool
	}{
		{"go default", 100, nil, false, false},
		{"GOGC=50", 50, nil, false, false},
		{"GOGC=50 inline", 50, nil, false, true},
		{"GOGC=50 paced", 50, nil, true, false},
		{"GOGC=50 limit 80MiB", 50, func() int64 { return 80 << 20 }, false, false},
		{"GOGC=50 limit below live", 50, func() int64 { return live() / 2 }, false, false},
	}
	for _, st := range settings {
		b.Run(st.name, func(b *testing.B) {
			debug.SetGCPercent(st.gc)
			limit := int64(math.MaxInt64)
			if st.limit != nil {
				limit = st.limit()
			}
			debug.SetMemoryLimit(limit)
			pacing.Store(st.pace)
			defer pacing.Store(false)
			if st.inline {
				v.deepAbove.Store(math.MaxInt64)
				defer v.deepAbove.Store(deepAbove)
			}
			runtime.GC()
			gcs := []metrics.Sample{{Name: "/gc/cycles/total:gc-cycles"}, {Name: "/cpu/classes/gc/total:cpu-seconds"}}
			metrics.Read(gcs)
			cycles, cpu := gcs[0].Value.Uint64(), gcs[1].Value.Float64()
			b.ReportAllocs()
			for b.Loop() {
				m, err := busy.Call(&protocol.Checkout{Feature: "f0", Version: "1.0", Count: 1})
				if err != nil {
					b.Fatal(err)
				}
				if _, err := busy.Call(&protocol.Checkin{Handle: m.(*protocol.Granted).Handle}); err != nil {
					b.Fatal(err)
				}
			}
			metrics.Read(gcs)
			b.ReportMetric(float64(gcs[0].Value.Uint64()-cycles)*1000/float64(b.N), "gc/1000op")
			b.ReportMetric((gcs[1].Value.Float64()-cpu)*1e9/float64(b.N), "gc-cpu-ns/op")
		})
	}
}

// gcPacer is the collector pacing vendor daemons once ran, kept here to
// be measured against: after each collection it raised the collector
// percentage while the live heap was small, to leave at least 8 MB
// between collections (at most 400%), from a finalizer. It saves a
// small daemon under load a few hundred nanoseconds of collector CPU
// per checkout, which does not show in the time per checkout.
type gcPacer struct{ percent int }

func (g *gcPacer) pace() {
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return
	}
	p := 400
	if live := s[0].Value.Uint64(); live > 0 {
		p = int(min(max(uint64(8<<20)*100/live, 50), 400))
	}
	if d := p - g.percent; d*10 > g.percent || -d*10 > g.percent {
		debug.SetGCPercent(p)
		g.percent = p
	}
}

type gcSentinel struct{ _ *byte }

// afterGC calls f after each garbage collection, for the life of the
// process.
func (g *gcPacer) afterGC(f func()) {
	runtime.SetFinalizer(&gcSentinel{}, func(*gcSentinel) {
		f()
		g.afterGC(f)
	})
}
