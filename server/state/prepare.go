package state

import (
	"fmt"
	"sync/atomic"
	"time"
)

// Prepared is an lmreread and the options policy read with it, made
// ready outside the state's lock: everything the state keeps per pool
// and per feature that depends on the pools and the policy alone. What
// depends on the clock or on the seats out (the counts of lines with
// dates, where reservations fit, which pool a seat of a removed pool
// counts against) is left to the Reload command, which applies it
// under the lock in time proportional to the seats out and the dated
// lines, not to all the lines.
//
// A Prepared is a function of its pools and policy only, so applying
// it gives what Reread and SetPolicy of the same pools and policy give.
// Its indexes become the state's: a Prepared applied a second time is
// prepared again first (under the lock), with the same result.
type Prepared struct {
	pools  []*Pool
	policy Policy
	used   atomic.Bool

	// The first counted and the first uncounted pool of each key, for
	// the seats to move to.
	counted, uncounted map[string]*Pool
	byPool             map[*Pool]*poolInfo // count and limit set for undated pools only
	byFeature          map[string][]*Pool
	cands              map[string][]*Pool
	timed              []*Pool
	// dated are the pools with a line that starts or expires: their
	// counts depend on the clock.
	dated []*Pool
	// reserved are the features with RESERVE lines, in pool order.
	reserved []featureRes
}

// featureRes is what a feature's RESERVE lines apply to: its counted
// pools (in file order) and the reservations of the first of them.
type featureRes struct {
	first *Pool
	same  []*Pool
	res   []Reservation
}

// poolPolicy is what the policy says of a pool's limit: MAX_OVERDRAFT,
// when one applies.
type poolPolicy struct {
	maxOD int
	hasOD bool
}

func (pp poolPolicy) limit(count, od int) int {
	if pp.hasOD && pp.maxOD < od {
		od = max(pp.maxOD, 0)
	}
	return count + od
}

// Prepare builds the indexes of pools under policy (nil: NoPolicy). It
// reads nothing of any State, so it can run while the state serves.
func Prepare(pools []*Pool, policy Policy) *Prepared {
	if policy == nil {
		policy = NoPolicy{}
	}
	p := &Prepared{pools: pools, policy: policy}
	p.build()
	return p
}

func (pr *Prepared) build() {
	n := len(pr.pools)
	pr.counted = make(map[string]*Pool, n)
	pr.uncounted = map[string]*Pool{}
	// Sized for a feature per pool, the common case: growing the maps
	// of 200,000 features took a third of a reread's time.
	pr.byPool = make(map[*Pool]*poolInfo, n)
	pr.byFeature = make(map[string][]*Pool, n)
	pr.cands = make(map[string][]*Pool, n)
	pr.timed, pr.dated, pr.reserved = nil, nil, nil
	infos := make([]poolInfo, n) // one allocation, not one per pool
	for i, p := range pr.pools {
		m := pr.counted
		if p.Uncounted {
			m = pr.uncounted
		}
		if k := p.Key(); m[k] == nil {
			m[k] = p
		}
		pi := &infos[i]
		pr.fill(pi, p)
		pr.byPool[p] = pi
		pr.byFeature[p.Feature] = append(pr.byFeature[p.Feature], p)
		if pi.timeout > 0 {
			pr.timed = append(pr.timed, p)
		}
		if p.dated() {
			pr.dated = append(pr.dated, p)
		}
	}
	for f, pools := range pr.byFeature {
		pr.cands[f] = candidateOrder(pools)
	}
	seen := make(map[string]bool)
	for _, p := range pr.pools {
		if p.Removed || p.Uncounted || seen[p.Feature] {
			continue
		}
		seen[p.Feature] = true
		res := pr.policy.Reservations(p)
		if len(res) == 0 {
			continue
		}
		var same []*Pool
		for _, q := range pr.byFeature[p.Feature] {
			if !q.Removed && !q.Uncounted {
				same = append(same, q)
			}
		}
		pr.reserved = append(pr.reserved, featureRes{first: p, same: same, res: res})
	}
}

// fill sets what the policy says of pool p, and for a pool without
// dates its count and limit, which no clock changes.
func (pr *Prepared) fill(pi *poolInfo, p *Pool) {
	pi.linger = pr.policy.Linger(p)
	pi.timeout = pr.policy.Timeout(p)
	pi.od.maxOD, pi.od.hasOD = pr.policy.MaxOverdraft(p)
	if !p.dated() {
		count, od := p.countAt(time.Time{})
		pi.count, pi.limit = count, pi.od.limit(count, od)
	}
}

// dated reports whether a line of the pool starts or expires.
func (p *Pool) dated() bool {
	for _, pp := range p.parts() {
		if _, ok := dateTime(pp.Start); ok {
			return true
		}
		if _, ok := dateTime(pp.Expiry); ok {
			return true
		}
	}
	return false
}

// Reload is an lmreread and the options read with it, prepared by
// Prepare: the pools are replaced as Reread replaces them and the policy
// as SetPolicy does, in one command, so that a checkout never sees the
// new pools under the old policy and the state is indexed once.
type Reload struct{ Prepared *Prepared }

func (Reload) command() {}

// reload applies c: the seats move, the policy and the prepared
// indexes are installed.
func (s *State) reload(c Reload) Result {
	pr := c.Prepared
	if pr == nil {
		return Result{}
	}
	if !pr.used.CompareAndSwap(false, true) {
		pr = Prepare(pr.pools, pr.policy)
		pr.used.Store(true)
	}
	s.moveSeats(pr.pools, pr.counted, pr.uncounted)
	s.policy = pr.policy
	var r Result
	r.Warnings = s.install(pr)
	s.serveQueue(&r)
	return r
}

// install makes pr's indexes the state's, s.pools being pr's pools
// followed by removed pools an lmreread kept; then it computes what
// depends on the clock and the seats: the counts of dated pools, the
// seats' places, the reservations and the charges of the removed pools'
// seats. It returns the warnings of reservations that did not fit.
func (s *State) install(pr *Prepared) []string {
	s.byPool, s.byFeature, s.cands, s.timed = pr.byPool, pr.byFeature, pr.cands, pr.timed
	s.nextDate = time.Time{}
	next := func(p *Pool) {
		if t := p.nextChange(s.now); !t.IsZero() && (s.nextDate.IsZero() || t.Before(s.nextDate)) {
			s.nextDate = t
		}
	}
	for _, p := range pr.dated {
		pi := s.byPool[p]
		count, od := p.countAt(s.now)
		pi.count, pi.limit = count, pi.od.limit(count, od)
		next(p)
	}
	for _, p := range s.pools[len(pr.pools):] {
		// A removed pool that still has seats out (not in pr: it is of
		// the license files read before).
		pi := &poolInfo{}
		pr.fill(pi, p)
		if p.dated() {
			count, od := p.countAt(s.now)
			pi.count, pi.limit = count, pi.od.limit(count, od)
		}
		s.byPool[p] = pi
		s.byFeature[p.Feature] = append(s.byFeature[p.Feature], p)
		if pi.timeout > 0 {
			s.timed = append(s.timed, p)
		}
		next(p)
	}
	s.placeSeats()
	s.res = map[*Pool][]Reservation{}
	var warn []string
	for _, fr := range pr.reserved {
		warn = s.reserve(fr.first, fr.same, fr.res, warn)
	}
	s.assignCharges()
	return warn
}

// checkPoolPolicy verifies what the index says of pool p's count, limit,
// linger and TIMEOUT against the lines valid now and the policy.
func (s *State) checkPoolPolicy(p *Pool, pi *poolInfo) error {
	want := s.newInfo(p)
	if pi.count != want.count || pi.limit != want.limit || pi.linger != want.linger || pi.timeout != want.timeout {
		return fmt.Errorf("pool index of %s: count %d, limit %d, linger %v, timeout %v; the lines valid now and the policy give %d, %d, %v, %v",
			p.Key(), pi.count, pi.limit, pi.linger, pi.timeout, want.count, want.limit, want.linger, want.timeout)
	}
	return nil
}
