package state

import (
	"fmt"
	"sync"
	"time"
)

// State owns the pools and seats of one vendor daemon. It is safe for
// concurrent use; Apply serialises commands.
type State struct {
	mu sync.Mutex
	seatTable
}

// seatTable is everything a State holds but its lock, so that Restore
// can replace it in one assignment.
type seatTable struct {
	pools    []*Pool
	seats    map[uint32]*Seat
	sessions map[uint64]*sessionInfo
	policy   Policy
	res      map[*Pool][]Reservation // effective reservations
	now      time.Time               // the latest time a command carried: dates and expiry never go back
	// elapsed is the clock lingers and idle times run on: it advances by
	// the time between commands and stands still, rather than jumping,
	// when the system clock is stepped back. last is the command time it
	// last advanced from.
	elapsed, last time.Time
	nextHandle    uint32
	invariant     func(error)

	// The indexes (index.go): seats by pool and by session, pools by
	// feature, the pools with a TIMEOUT, and the lingering seats by
	// the end of their linger.
	byPool       map[*Pool]*poolInfo
	bySession    map[uint64][]*Seat
	byFeature    map[string][]*Pool // in file order, removed pools too
	cands        map[string][]*Pool // what a checkout tries, in order
	timed        []*Pool
	lingers      lingerHeap
	emptyRemoved bool // a removed pool may have no seat left
	// nextDate is when a license line next starts or expires (zero: no
	// line will); the pools' counts are recomputed when the clock gets
	// there. pending are warnings of such a recomputation, for the next
	// Tick's result.
	nextDate time.Time
	pending  []string

	// The queue (queue.go): per feature in arrival order, by handle, and
	// by session.
	queues          map[string]*featureQueue
	waiting         map[uint32]*queuedItem
	queuedBySession map[uint64][]*queuedItem
	queueSeq        uint64
}

// NewState returns a state serving pools with no options policy.
func NewState(pools []*Pool) *State {
	s := &State{seatTable: seatTable{
		pools:           pools,
		seats:           map[uint32]*Seat{},
		sessions:        map[uint64]*sessionInfo{},
		byPool:          map[*Pool]*poolInfo{},
		bySession:       map[uint64][]*Seat{},
		policy:          NoPolicy{},
		queues:          map[string]*featureQueue{},
		waiting:         map[uint32]*queuedItem{},
		nextHandle:      firstHandle,
		queuedBySession: map[uint64][]*queuedItem{},
	}}
	s.refresh()
	return s
}

// CheckInvariants makes the state check, after every command, that no
// pool has more seats out than the count plus the allowed overdraft of
// its lines valid now (reserved seats, and seats of removed pools that
// count against it, included) unless an lmreread, an options change or
// a line's expiry lowered it, and report a violation to fail. Tests turn
// it on.
func (s *State) CheckInvariants(fail func(error)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.invariant = fail
}

// Apply applies one command and returns its result.
func (s *State) Apply(cmd Command) Result {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.invariant == nil {
		return s.applyPending(cmd)
	}
	before, beforeOthers := s.totals(), s.othersLoad()
	r := s.applyPending(cmd)
	switch cmd.(type) {
	case Reread, SetPolicy:
	default:
		for p, n := range s.totals() {
			if lim := s.limit(p); n > lim && n > before[p] {
				s.invariant(fmt.Errorf("after %T: pool %s has %d seats out, limit %d", cmd, p.Key(), n, lim))
			}
		}
		for p, n := range s.othersLoad() {
			if lim := s.limit(p); n > lim && n > beforeOthers[p] {
				s.invariant(fmt.Errorf("after %T: pool %s gives reserved seats to others: %d reserved plus seats of others, limit %d", cmd, p.Key(), n, lim))
			}
		}
	}
	if err := s.checkLocked(); err != nil {
		s.invariant(fmt.Errorf("after %T: %v", cmd, err))
	}
	if err := s.checkIndexes(); err != nil {
		s.invariant(fmt.Errorf("after %T: %v", cmd, err))
	}
	if err := s.checkQueue(); err != nil {
		s.invariant(fmt.Errorf("after %T: %v", cmd, err))
	}
	return r
}

// clockStep is how far back a command's time must be before the state
// takes it for a system clock stepped backwards, rather than two commands
// whose times were read in one order and applied in the other.
const clockStep = time.Second

func (s *State) tick(t time.Time) {
	// Dates compare on the wall clock (Round(0) drops the monotonic
	// reading time.Now carries); elapsed time uses the monotonic reading
	// where there is one, so a stepped wall clock cannot move it at all.
	if w := t.Round(0); w.After(s.now) {
		was := s.now
		s.now = w
		if !s.nextDate.IsZero() && !s.now.Before(s.nextDate) {
			// A line started or expired: counts, limits and
			// reservations change from now on.
			s.pending = append(s.pending, s.expiredSince(was)...)
			s.pending = append(s.pending, s.refresh()...)
		}
	}
	switch {
	case s.last.IsZero():
		s.elapsed, s.last = t, t
	case t.After(s.last):
		s.elapsed = s.elapsed.Add(t.Sub(s.last))
		s.last = t
	case s.last.Sub(t) > clockStep:
		// Stepped back: elapsed time goes on from here.
		s.last = t
	}
}

// expiredSince are the "EXPIRED: feature" debug log lines of the
// features with a line that expired after was and by now, as the vendor
// daemon logs expired lines when it reads the license files.
func (s *State) expiredSince(was time.Time) []string {
	var out []string
	seen := map[string]bool{}
	if was.IsZero() {
		return nil // the first command: the vendor daemon logged them
	}
	for _, p := range s.pools {
		if p.Removed {
			continue
		}
		for _, pp := range p.parts() {
			name := p.Feature
			if pp.Line != nil {
				name = pp.Line.Name // a component's line is the package's
			}
			if !seen[name] && !Expired(pp.Expiry, was) && Expired(pp.Expiry, s.now) {
				seen[name] = true
				out = append(out, "EXPIRED: "+name)
			}
		}
	}
	return out
}
