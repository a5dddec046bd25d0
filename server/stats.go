package server

import (
	"sync"
	"sync/atomic"
	"time"

	"golm/lmutil/protocol"
	"golm/lmutil/server/reportlog"
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
	queueWait         queueStats
	triad             triadStats
	started           time.Time // when the vendor daemon started
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

// queueWaitBounds are the upper bounds of the buckets of the time a
// queued checkout waited until it was granted.
var queueWaitBounds = [...]time.Duration{
	time.Second, 5 * time.Second, 15 * time.Second, 30 * time.Second, time.Minute, 5 * time.Minute,
	15 * time.Minute, 30 * time.Minute, time.Hour, 2 * time.Hour, 4 * time.Hour, 8 * time.Hour, 24 * time.Hour,
}

// maxQueueTimes bounds the queued checkouts whose queue time is kept
// for the queue-wait histogram; past it, a request is not timed.
const maxQueueTimes = 1 << 16

// queueStats are the queue-wait histogram and the times of the
// requests in the queue now.
type queueStats struct {
	mu     sync.Mutex
	since  map[uint32]time.Time // by handle
	counts [len(queueWaitBounds) + 1]uint64
	sum    time.Duration
}

// queue times the queued checkouts of r: a request that went into the
// queue is timed from its QUEUED, a seat the queue granted observed, a
// request withdrawn forgotten.
func (s *vendorStats) queue(r state.Result) {
	if r.Queued == nil && len(r.Granted) == 0 && len(r.Dequeued) == 0 {
		return
	}
	q := &s.queueWait
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.since == nil {
		q.since = map[uint32]time.Time{}
	}
	if w := r.Queued; w != nil && len(q.since) < maxQueueTimes {
		q.since[w.Handle] = w.Since
	}
	for _, w := range r.Dequeued {
		delete(q.since, w.Handle)
	}
	for _, st := range r.Granted {
		since, ok := q.since[st.Handle]
		if !ok {
			continue
		}
		delete(q.since, st.Handle)
		d := max(st.Start.Sub(since), 0)
		i := 0
		for i < len(queueWaitBounds) && d > queueWaitBounds[i] {
			i++
		}
		q.counts[i]++
		q.sum += d
	}
}

// triadStats is what the vendor daemon's triad says of it (SetTriad).
type triadStats struct {
	role, term atomic.Uint64
	quorum     atomic.Bool
}

// SetTriad sets what /metrics says of the vendor daemon's place in a
// three-server triad: role is protocol.TriadMaster or TriadStandby
// (TriadNone: not in a triad, and no triad series), term the election
// term and quorum whether it sees a majority of the triad. The triad
// code calls it on every change.
func (v *Vendor) SetTriad(role uint64, term uint64, quorum bool) {
	if role > protocol.TriadStandby {
		role = protocol.TriadNone
	}
	v.stats.triad.role.Store(role)
	v.stats.triad.term.Store(term)
	v.stats.triad.quorum.Store(quorum)
}

// extMessage is the counters of VendorStatsExt; report is the report
// log's counters, nil without a report log.
func (s *vendorStats) extMessage(report *reportlog.Counters) *protocol.VendorStatsExt {
	m := &protocol.VendorStatsExt{
		QueueWaitBounds: make([]uint64, len(queueWaitBounds)),
		QueueWaitCounts: make([]uint64, len(queueWaitBounds)+1),
		TriadRole:       s.triad.role.Load(),
		TriadTerm:       s.triad.term.Load(),
		TriadQuorum:     s.triad.quorum.Load(),
		Started:         s.started.Unix(),
	}
	for i, b := range queueWaitBounds {
		m.QueueWaitBounds[i] = uint64(b / time.Millisecond)
	}
	q := &s.queueWait
	q.mu.Lock()
	copy(m.QueueWaitCounts, q.counts[:])
	m.QueueWaitSum = uint64(q.sum / time.Millisecond)
	q.mu.Unlock()
	if report != nil {
		m.ReportLog = true
		m.ReportRecords = report.Records.Load()
		m.ReportWriteErrors = report.WriteErrors.Load()
	}
	return m
}
