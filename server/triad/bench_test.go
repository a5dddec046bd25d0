package triad

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"golm/lmutil/server/state"
)

// BenchmarkStateApply is the baseline: checkout and checkin pairs
// applied to one State, with no replication.
func BenchmarkStateApply(b *testing.B) {
	st := state.NewState(pools(b, baseLicense))
	now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	b.ReportAllocs()
	start := time.Now()
	for i := range b.N {
		s := uint64(i + 1)
		c := checkout(s, "u", "big")
		c.Now = now
		r := st.Apply(c)
		st.Apply(state.Checkin{Session: s, Handle: r.Seat.Handle, Now: now})
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "pairs/s")
}

// BenchmarkTriad is checkout and checkin pairs through the master of a
// three-member group on loopback TCP with its logs on disk (fsync'd),
// each pair two commits: one client at a time (serial), and many
// concurrent clients whose commands the master batches.
func BenchmarkTriad(b *testing.B) {
	for _, bc := range []struct {
		name    string
		clients int
		wait    time.Duration
	}{{"serial", 1, 0}, {"batched 64", 64, 0}, {"batched 256", 256, 0}, {"batched 256 wait 200us", 256, 200 * time.Microsecond}} {
		b.Run(bc.name, func(b *testing.B) {
			// Raft's default timeouts.
			c := newTCPCluster(b, nil, newLicenses(baseLicense), func(c *cluster) { c.batchWait = bc.wait })
			leader := c.waitLeader()
			var session atomic.Uint64
			var entries0 = leader.Raft().LastIndex()
			b.SetParallelism(max(1, bc.clients/2)) // 2 CPUs
			if bc.clients == 1 {
				b.SetParallelism(1)
			}
			b.ReportAllocs()
			b.ResetTimer()
			start := time.Now()
			pair := func() {
				s := session.Add(1)
				rs, err := leader.Propose(context.Background(), []Command{checkout(s, "u", "big")})
				if err != nil || rs[0].Seat == nil {
					b.Errorf("checkout: %v %v", err, rs)
					return
				}
				if _, err := leader.Propose(context.Background(), []Command{state.Checkin{Session: s, Handle: rs[0].Seat.Handle}}); err != nil {
					b.Errorf("checkin: %v", err)
				}
			}
			if bc.clients == 1 {
				for range b.N {
					pair()
				}
			} else {
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						pair()
					}
				})
			}
			el := time.Since(start)
			b.StopTimer()
			b.ReportMetric(float64(b.N)/el.Seconds(), "pairs/s")
			if n := leader.Raft().LastIndex() - entries0; n > 0 {
				b.ReportMetric(float64(2*b.N)/float64(n), "cmds/entry")
			}
		})
	}
}
