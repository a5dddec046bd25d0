package state

import (
	"fmt"
	"slices"
)

// totals is, per counted pool, its licenses out with reserved seats
// and the seats charged to it: what must stay within its limit.
func (s *State) totals() map[*Pool]int {
	out := map[*Pool]int{}
	for _, p := range s.pools {
		if !p.Uncounted {
			out[p], _ = s.load(p, nil)
		}
	}
	return out
}

// othersLoad is, per counted pool, its reserved seats plus the licenses
// held by clients no reservation of the pool is for: more than the
// pool's limit means a reserved seat went to somebody else. It is
// computed apart from load, as a check on it.
func (s *State) othersLoad() map[*Pool]int {
	out := map[*Pool]int{}
	for _, p := range s.pools {
		if p.Uncounted {
			continue
		}
		n := 0
		for _, r := range s.res[p] {
			n += r.Count
		}
		for _, g := range s.groups(p, nil) {
			if !slices.ContainsFunc(s.res[p], func(r Reservation) bool { return r.Match != nil && r.Match(g.first.Client) }) {
				n += g.count
			}
		}
		out[p] = n
	}
	return out
}

// checkLocked verifies the state's own consistency: every seat's pool is
// known, companions point at each other, queued handles are not seats.
func (s *State) checkLocked() error {
	known := map[*Pool]bool{}
	for _, p := range s.pools {
		known[p] = true
	}
	for h, st := range s.seats {
		if st.Handle != h {
			return fmt.Errorf("seat %d filed under %d", st.Handle, h)
		}
		if !known[st.Pool] {
			return fmt.Errorf("seat %d of a pool the state does not know", h)
		}
		if st.Companion != 0 {
			if c := s.seats[st.Companion]; c == nil || c.Companion != h {
				return fmt.Errorf("seat %d has a broken companion %d", h, st.Companion)
			}
		}
	}
	for h := range s.waiting {
		if s.seats[h] != nil {
			return fmt.Errorf("queued handle %d is also a seat", h)
		}
	}
	return nil
}

// checkIndexes verifies the indexes against the seats: O(all seats), for
// CheckInvariants only.
func (s *State) checkIndexes() error {
	n := 0
	for p, pi := range s.byPool {
		var prev *Seat
		dead := 0
		for i, st := range pi.seats {
			if st == nil {
				dead++
				continue
			}
			if s.seats[st.Handle] != st || st.Pool != p || st.slot != i {
				return fmt.Errorf("pool index of %s lists seat %d that is not its seat", p.Key(), st.Handle)
			}
			if prev != nil && prev.Handle >= st.Handle {
				return fmt.Errorf("pool index of %s out of handle order at seat %d", p.Key(), st.Handle)
			}
			prev = st
		}
		if dead != pi.dead || (len(pi.seats) > 0 && pi.seats[len(pi.seats)-1] == nil) {
			return fmt.Errorf("pool index of %s has %d blanks, counts %d", p.Key(), dead, pi.dead)
		}
		n += pi.live()
		if err := s.checkTallies(p, pi); err != nil {
			return err
		}
	}
	if n != len(s.seats) {
		return fmt.Errorf("pool index holds %d seats, the state %d", n, len(s.seats))
	}
	charged := 0
	for p, pi := range s.byPool {
		for _, st := range pi.charged {
			if s.seats[st.Handle] != st || st.charge != p || !st.Pool.Removed || p.Removed {
				return fmt.Errorf("pool %s is charged with seat %d that does not count against it", p.Key(), st.Handle)
			}
		}
		charged += len(pi.charged)
	}
	for _, st := range s.seats {
		if st.charge != nil {
			charged--
		}
	}
	if charged != 0 {
		return fmt.Errorf("charged seats and the pools they count against disagree by %d", charged)
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

// checkTallies recomputes, from the seats, the licenses pool p has out
// and the reservations they use, and compares them with what the state
// keeps (the tallies and their cached use of the reservations).
func (s *State) checkTallies(p *Pool, pi *poolInfo) error {
	var seats []*Seat
	for _, st := range pi.seats {
		if st != nil {
			seats = append(seats, st)
		}
	}
	for _, v := range []struct {
		name    string
		t       *tallies
		use     *resUse
		charged []*Seat
	}{{"its seats", &pi.own, &pi.resOwn, nil}, {"its seats and those charged", &pi.all, &pi.resAll, pi.charged}} {
		want := map[string]int{}
		raw := 0
		res := s.res[p]
		left := make([]int, len(res))
		for i, r := range res {
			left[i] = r.Count
		}
		free := 0
		for _, g := range s.groupsOf(seats, v.charged, nil) {
			raw += g.count
			if g.key != "" {
				want[g.key] = g.count
			}
			n := g.count
			for i, r := range res {
				if n > 0 && left[i] > 0 && r.Match != nil && r.Match(g.first.Client) {
					take := min(n, left[i])
					left[i] -= take
					n -= take
				}
			}
			free += n
		}
		if got := v.t.raw(); got != raw {
			return fmt.Errorf("pool %s: %s tally %d licenses out, the seats %d", p.Key(), v.name, got, raw)
		}
		if len(v.t.dup) != len(want) {
			return fmt.Errorf("pool %s: %s tally %d duplicate groups, the seats %d", p.Key(), v.name, len(v.t.dup), len(want))
		}
		for k, c := range want {
			if g := v.t.dup[k]; g == nil || g.max != c {
				return fmt.Errorf("pool %s: %s: duplicate group %q tallied wrong, the seats use %d", p.Key(), v.name, k, c)
			}
		}
		if v.use.valid && len(res) > 0 && (v.use.free != free || !slices.Equal(v.use.left, left)) {
			return fmt.Errorf("pool %s: %s: reservations' use is stale: %v free %d, the seats %v free %d", p.Key(), v.name, v.use.left, v.use.free, left, free)
		}
	}
	return nil
}

// checkQueue verifies the queue's indexes: for CheckInvariants only.
func (s *State) checkQueue() error {
	n := 0
	for f, q := range s.queues {
		if q.live == 0 || q.feature != f {
			return fmt.Errorf("queue of %s: %d live requests under %q", f, q.live, q.feature)
		}
		live := 0
		for i, it := range q.items {
			if it == nil {
				continue
			}
			if i < q.head || it.pos != i || it.fq != q || s.waiting[it.w.Handle] != it || it.w.Feature != f {
				return fmt.Errorf("queue of %s: request %d misfiled", f, it.w.Handle)
			}
			live++
			if got := q.position(it); got != live {
				return fmt.Errorf("queue of %s: request %d at position %d, want %d", f, it.w.Handle, got, live)
			}
		}
		if live != q.live {
			return fmt.Errorf("queue of %s counts %d live requests, has %d", f, q.live, live)
		}
		n += live
	}
	if n != len(s.waiting) {
		return fmt.Errorf("queue lists %d requests, the handle index %d", n, len(s.waiting))
	}
	m := 0
	for id, l := range s.queuedBySession {
		if len(l) > MaxQueuedPerSession {
			return fmt.Errorf("session %d has %d requests queued, more than %d", id, len(l), MaxQueuedPerSession)
		}
		features := map[string]bool{}
		for _, it := range l {
			if it.w.Session != id || s.waiting[it.w.Handle] != it {
				return fmt.Errorf("session index of %d lists request %d that is not queued", id, it.w.Handle)
			}
			if features[it.w.Feature] {
				return fmt.Errorf("session %d has two requests queued for %s", id, it.w.Feature)
			}
			features[it.w.Feature] = true
		}
		m += len(l)
	}
	if m != n {
		return fmt.Errorf("session queue index holds %d requests, the queue %d", m, n)
	}
	return nil
}
