package state

import (
	"slices"
	"time"
)

// PoolStatus is one pool and its seats as lmstat shows them.
type PoolStatus struct {
	Pool Pool // a copy
	// InUse counts the licenses out, duplicates once, plus reserved
	// seats nobody uses.
	InUse int
	// Limit is Count plus the allowed overdraft, of the lines valid now.
	Limit int
	// Issued is the seats of the pool's lines valid now (0 for an
	// uncounted or removed pool): what lmstat shows as issued.
	Issued int
	// Charged is how many seats of pools an lmreread removed count
	// against this pool.
	Charged int
	Seats   []Seat // in handle order
	// Reservations are the pool's reservations with the seats still
	// unused in Count.
	Reservations []Reservation
	// Queued are the queued requests shown under this pool.
	Queued []Waiter
}

// Status returns every pool with its seats, pools in file order.
func (s *State) Status() []PoolStatus {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.status()
}

// statusAt is Status with the clock first advanced to now, so that the
// linger left of each lingering seat (Seat.LingerLeft) is current.
func (s *State) statusAt(now time.Time) []PoolStatus {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tick(now)
	return s.status()
}

func (s *State) status() []PoolStatus { return s.statusOf(s.pools) }

// FeatureNames are the names of the features the state has pools of, in
// file order of their first pool.
func (s *State) FeatureNames() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, 0, len(s.byFeature))
	for _, p := range s.pools {
		if ps := s.byFeature[p.Feature]; len(ps) > 0 && ps[0] == p {
			out = append(out, p.Feature)
		}
	}
	return out
}

// FeatureStatusAt is StatusAt for the pools of one feature only: it costs
// what that feature's seats cost, not what all seats cost. It is nil
// when the state has no pool of feature.
func (s *State) FeatureStatusAt(now time.Time, feature string) []PoolStatus {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tick(now)
	pools := s.byFeature[feature]
	if len(pools) == 0 {
		return nil
	}
	return s.statusOf(pools)
}

// statusOf is the status of pools (pools of the state, in file order).
func (s *State) statusOf(pools []*Pool) []PoolStatus {
	out := make([]PoolStatus, len(pools))
	for i, p := range pools {
		out[i].Pool = *p
		out[i].Limit = s.limit(p)
		if p.Uncounted {
			_, out[i].InUse = s.loadOf(p, false, nil)
		} else {
			// Charged seats show, and count in use, under the removed
			// pool that holds them.
			out[i].InUse, _ = s.loadOf(p, false, nil)
			if pi := s.byPool[p]; pi != nil {
				for _, st := range pi.charged {
					out[i].Charged += st.Count
				}
			}
			if !p.Removed {
				out[i].Issued = s.issued(p)
			}
		}
		out[i].Reservations = s.unusedReservations(p)
		seats := s.poolSeats(p)
		if len(seats) > 0 {
			out[i].Seats = make([]Seat, len(seats))
		}
		for j, st := range seats {
			c := *st
			if c.Lingering() {
				c.LingerLeft = max(0, c.LingerUntil.Sub(s.elapsed))
			}
			out[i].Seats[j] = c
		}
	}
	if len(s.queues) == 0 {
		return out
	}
	idx := make(map[*Pool]int, len(pools))
	var features []string
	seen := map[string]bool{}
	for i, p := range pools {
		idx[p] = i
		if s.queues[p.Feature] != nil && !seen[p.Feature] {
			seen[p.Feature] = true
			features = append(features, p.Feature)
		}
	}
	for _, f := range features {
		s.queues[f].each(func(it *queuedItem) {
			w := it.w
			want, _ := parseVersion(w.Version)
			for _, p := range s.byFeature[w.Feature] {
				if !p.Removed && compareVersion(p.Version, want) >= 0 {
					if i, ok := idx[p]; ok {
						out[i].Queued = append(out[i].Queued, *w)
					}
					break
				}
			}
		})
	}
	return out
}

// unusedReservations are p's reservations with the seats their holders
// do not use right now.
func (s *State) unusedReservations(p *Pool) []Reservation {
	res := s.res[p]
	if len(res) == 0 {
		return nil
	}
	pi := s.byPool[p]
	if pi == nil {
		return slices.DeleteFunc(slices.Clone(res), func(r Reservation) bool { return r.Count <= 0 })
	}
	s.loadOf(p, false, nil) // makes pi.resOwn current
	var out []Reservation
	for i, r := range res {
		if left := pi.resOwn.left[i]; left > 0 {
			r.Count = left
			out = append(out, r)
		}
	}
	return out
}

// Lookup reports what handle is for session: a granted seat (a copy),
// or a request still queued at position pos (1 is next for its feature;
// 0 when it is not queued).
func (s *State) Lookup(session uint64, handle uint32) (seat *Seat, pos int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if st := s.seats[handle]; st != nil && st.Session == session && session != 0 {
		cp := *st
		return &cp, 0
	}
	it := s.waiting[handle]
	if it == nil || it.w.Session != session {
		return nil, 0
	}
	return nil, it.fq.position(it)
}
