package server

import (
	"sync/atomic"
	"time"

	"golm/lmutil/protocol"
	"golm/lmutil/server/state"
)

// checkoutLatencyBounds are the upper bounds of the checkout latency
// buckets the vendor daemon counts (lmgrd -http's histogram).
var checkoutLatencyBounds = [...]time.Duration{
	50 * time.Microsecond, 100 * time.Microsecond, 250 * time.Microsecond, 500 * time.Microsecond,
	time.Millisecond, 2500 * time.Microsecond, 5 * time.Millisecond, 10 * time.Millisecond,
	25 * time.Millisecond, 50 * time.Millisecond, 100 * time.Millisecond, 250 * time.Millisecond, time.Second,
}

// vendorStats are the vendor daemon's counters since it started: a few
// atomic adds per checkout, read by VendorStatsRequest.
type vendorStats struct {
	checkouts, queued atomic.Uint64
	denials           [256]atomic.Uint64 // by -code
	latency           [len(checkoutLatencyBounds) + 1]atomic.Uint64
	latencySum        atomic.Uint64 // microseconds
}

// checkout counts one checkout that took d to decide, with its result.
func (s *vendorStats) checkout(d time.Duration, r state.Result) {
	switch {
	case r.Queued != nil:
		s.queued.Add(1)
	case r.Err != nil:
		if c := -int(r.Err.Code); c > 0 && c < len(s.denials) {
			s.denials[c].Add(1)
		}
	default:
		s.checkouts.Add(1)
	}
	i := 0
	for i < len(checkoutLatencyBounds) && d > checkoutLatencyBounds[i] {
		i++
	}
	s.latency[i].Add(1)
	s.latencySum.Add(uint64(d / time.Microsecond))
}

// message is the counters as a VendorStats, with connections open now.
func (s *vendorStats) message(connections int64) *protocol.VendorStats {
	m := &protocol.VendorStats{
		Checkouts:     s.checkouts.Load(),
		Queued:        s.queued.Load(),
		Connections:   uint64(max(connections, 0)),
		LatencyBounds: make([]uint64, len(checkoutLatencyBounds)),
		LatencyCounts: make([]uint64, len(s.latency)),
		LatencySum:    s.latencySum.Load(),
	}
	for c := range s.denials {
		if n := s.denials[c].Load(); n > 0 {
			m.Denials = append(m.Denials, protocol.DenialCount{Code: -c, Count: n})
		}
	}
	for i, b := range checkoutLatencyBounds {
		m.LatencyBounds[i] = uint64(b / time.Microsecond)
	}
	for i := range s.latency {
		m.LatencyCounts[i] = s.latency[i].Load()
	}
	return m
}
