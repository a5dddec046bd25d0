package server

import (
	"container/heap"
	"fmt"
	"slices"
	"time"
)

// The state's indexes. Every command must cost what the seats it
// concerns cost, not what all seats cost, so the state keeps, next to
// its seats by handle:
//   - per pool, the pool's seats in handle order and what the options
//     policy says about the pool (its limit, linger, TIMEOUT and
//     reservations), computed when the pools or the policy change;
//   - per session, the session's seats in handle order;
//   - per feature, its pools in file order and the pools a checkout
//     tries, in the order it tries them;
//   - the lingering seats in a heap ordered by the end of their linger.
//
// Seats are added, dropped and moved between sessions only through
// addSeat, dropSeat and setSession, which keep the indexes in step;
// checkIndexes (run by CheckInvariants) verifies them against the seats.

// poolInfo is what the state keeps per pool.
type poolInfo struct {
	seats   []*Seat // in handle order
	limit   int     // Count plus the allowed overdraft
	linger  time.Duration
	timeout time.Duration
}

// insertSeat adds st to seats, kept in handle order.
func insertSeat(seats []*Seat, st *Seat) []*Seat {
	if n := len(seats); n == 0 || seats[n-1].Handle < st.Handle {
		return append(seats, st) // the usual case: handles grow
	}
	i, _ := slices.BinarySearchFunc(seats, st.Handle, func(x *Seat, h uint32) int { return cmpHandle(x.Handle, h) })
	return slices.Insert(seats, i, st)
}

// deleteSeat takes st out of seats, kept in handle order.
func deleteSeat(seats []*Seat, st *Seat) []*Seat {
	i, ok := slices.BinarySearchFunc(seats, st.Handle, func(x *Seat, h uint32) int { return cmpHandle(x.Handle, h) })
	if !ok || seats[i] != st {
		return seats
	}
	seats = slices.Delete(seats, i, i+1)
	if len(seats) == 0 {
		return nil // let a long slice go
	}
	return seats
}

func cmpHandle(a, b uint32) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// info is pool p's entry, created when missing (a pool the state has
// not indexed yet).
func (s *State) info(p *Pool) *poolInfo {
	pi := s.byPool[p]
	if pi == nil {
		pi = &poolInfo{limit: s.policyLimit(p), linger: s.policy.Linger(p), timeout: s.policy.Timeout(p)}
		s.byPool[p] = pi
	}
	return pi
}

// poolSeats are the seats of pool p in handle order. The slice belongs
// to the state: callers must not keep it across changes.
func (s *State) poolSeats(p *Pool) []*Seat {
	if pi := s.byPool[p]; pi != nil {
		return pi.seats
	}
	return nil
}

// addSeat files a new seat under its handle, pool and session.
func (s *State) addSeat(st *Seat) {
	s.seats[st.Handle] = st
	pi := s.info(st.Pool)
	pi.seats = insertSeat(pi.seats, st)
	if st.Session != 0 {
		s.bySession[st.Session] = insertSeat(s.bySession[st.Session], st)
	}
	if st.Lingering() {
		s.pushLinger(st)
	}
}

// dropSeat forgets a seat. A removed pool whose last seat went is
// noted, for dropEmptyRemoved.
func (s *State) dropSeat(st *Seat) {
	if s.seats[st.Handle] != st {
		return
	}
	delete(s.seats, st.Handle)
	if pi := s.byPool[st.Pool]; pi != nil {
		pi.seats = deleteSeat(pi.seats, st)
		if len(pi.seats) == 0 && st.Pool.Removed {
			s.emptyRemoved = true
		}
	}
	s.unlinkSession(st)
}

// setSession moves a seat to session id (0: lingering, held by none).
func (s *State) setSession(st *Seat, id uint64) {
	if st.Session == id {
		return
	}
	s.unlinkSession(st)
	st.Session = id
	if id != 0 {
		s.bySession[id] = insertSeat(s.bySession[id], st)
	}
}

func (s *State) unlinkSession(st *Seat) {
	if st.Session == 0 {
		return
	}
	if l := deleteSeat(s.bySession[st.Session], st); len(l) > 0 {
		s.bySession[st.Session] = l
	} else {
		delete(s.bySession, st.Session)
	}
}

// reindex rebuilds the per-pool and per-feature indexes after the pools
// or the policy changed (seats may have moved to other pools).
func (s *State) reindex() {
	s.byPool = make(map[*Pool]*poolInfo, len(s.pools))
	s.byFeature = map[string][]*Pool{}
	s.cands = map[string][]*Pool{}
	s.timed = s.timed[:0]
	for _, p := range s.pools {
		pi := &poolInfo{limit: s.policyLimit(p), linger: s.policy.Linger(p), timeout: s.policy.Timeout(p)}
		s.byPool[p] = pi
		s.byFeature[p.Feature] = append(s.byFeature[p.Feature], p)
		if pi.timeout > 0 {
			s.timed = append(s.timed, p)
		}
	}
	for _, st := range s.seats {
		pi := s.info(st.Pool)
		pi.seats = append(pi.seats, st)
	}
	for _, pi := range s.byPool {
		slices.SortFunc(pi.seats, func(a, b *Seat) int { return cmpHandle(a.Handle, b.Handle) })
	}
	for f, pools := range s.byFeature {
		s.cands[f] = candidateOrder(pools)
	}
}

// lingerItem is a lingering seat in the linger heap. An item whose seat
// has gone, or no longer lingers until the same time (it was adopted by
// a reconnecting client), is stale and skipped when it comes up.
type lingerItem struct {
	until time.Time
	st    *Seat
}

type lingerHeap []lingerItem

func (h lingerHeap) Len() int { return len(h) }
func (h lingerHeap) Less(i, j int) bool {
	if !h[i].until.Equal(h[j].until) {
		return h[i].until.Before(h[j].until)
	}
	return h[i].st.Handle < h[j].st.Handle
}
func (h lingerHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *lingerHeap) Push(x any)   { *h = append(*h, x.(lingerItem)) }
func (h *lingerHeap) Pop() any {
	old := *h
	it := old[len(old)-1]
	old[len(old)-1] = lingerItem{}
	*h = old[:len(old)-1]
	return it
}

func (s *State) pushLinger(st *Seat) {
	heap.Push(&s.lingers, lingerItem{until: st.LingerUntil, st: st})
}

// live reports whether a heap item still stands for a lingering seat.
func (s *State) live(it lingerItem) bool {
	return s.seats[it.st.Handle] == it.st && it.st.Lingering() && it.st.LingerUntil.Equal(it.until)
}

// checkIndexes verifies the indexes against the seats: O(all seats), for
// CheckInvariants only.
func (s *State) checkIndexes() error {
	n := 0
	for p, pi := range s.byPool {
		for i, st := range pi.seats {
			if s.seats[st.Handle] != st || st.Pool != p {
				return fmt.Errorf("pool index of %s lists seat %d that is not its seat", p.Key(), st.Handle)
			}
			if i > 0 && pi.seats[i-1].Handle >= st.Handle {
				return fmt.Errorf("pool index of %s out of handle order at seat %d", p.Key(), st.Handle)
			}
		}
		n += len(pi.seats)
	}
	if n != len(s.seats) {
		return fmt.Errorf("pool index holds %d seats, the state %d", n, len(s.seats))
	}
	n = 0
	for id, l := range s.bySession {
		for i, st := range l {
			if s.seats[st.Handle] != st || st.Session != id {
				return fmt.Errorf("session index of %d lists seat %d that is not its seat", id, st.Handle)
			}
			if i > 0 && l[i-1].Handle >= st.Handle {
				return fmt.Errorf("session index of %d out of handle order at seat %d", id, st.Handle)
			}
		}
		n += len(l)
	}
	held := 0
	lingering := map[*Seat]bool{}
	for _, st := range s.seats {
		if st.Session != 0 {
			held++
		}
		if st.Lingering() {
			lingering[st] = true
		}
	}
	if n != held {
		return fmt.Errorf("session index holds %d seats, the state %d held by sessions", n, held)
	}
	for _, it := range s.lingers {
		if s.live(it) {
			delete(lingering, it.st)
		}
	}
	for st := range lingering {
		return fmt.Errorf("lingering seat %d is not in the linger heap", st.Handle)
	}
	for _, p := range s.pools {
		if !slices.Contains(s.byFeature[p.Feature], p) {
			return fmt.Errorf("pool %s missing from its feature's index", p.Key())
		}
	}
	return nil
}
