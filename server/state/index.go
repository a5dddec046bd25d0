package state

import (
	"cmp"
	"container/heap"
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
//   - the lingering seats in a heap ordered by the end of their linger;
//   - per pool, the seats of pools an lmreread removed that count
//     against it (Seat.charge);
//   - the queued requests per feature, by handle and by session (below).
//
// Seats are added, dropped and moved between sessions only through
// addSeat, dropSeat and setSession, which keep the indexes in step;
// checkIndexes (run by CheckInvariants) verifies them against the seats.

// poolInfo is what the state keeps per pool.
type poolInfo struct {
	// seats are the pool's seats in handle order, with nil where a seat
	// went (Seat.slot is a seat's index); dead counts the nils. A
	// checkin blanks its seat out in O(1) and the list is compacted once
	// most of it is blank, or when it is read whole.
	seats []*Seat
	dead  int
	// charged are seats of pools an lmreread removed that count against
	// this pool (Seat.charge), in handle order.
	charged []*Seat
	count   int // the seats of the lines valid now
	limit   int // count plus the allowed overdraft
	linger  time.Duration
	timeout time.Duration
	od      poolPolicy // MAX_OVERDRAFT
	// own tallies the pool's seats, all its seats and the charged ones:
	// what a checkout needs to know (the licenses out, whether a
	// duplicate group is out and with how many) in O(1).
	own, all tallies
	// resOwn and resAll are the reservations' use by the pool's seats,
	// and by its seats and the charged ones, computed when first needed
	// after a change (only a pool with reservations needs them).
	resOwn, resAll resUse
}

// tallies are the licenses a set of seats uses: seats in no duplicate
// group each use their own count, a duplicate group its largest.
type tallies struct {
	plain  int               // the counts of the seats in no group
	groups int               // the largest count of each group, summed
	dup    map[string]*tally // the groups by duplicate key
}

// raw is the licenses the seats use.
func (t *tallies) raw() int { return t.plain + t.groups }

// rawWith is raw with st added: what a checkout of st would make it.
func (t *tallies) rawWith(st *Seat) int { return t.rawPlus(st.Dup, st.Count) }

// rawPlus is raw with a seat of count in duplicate group dup added.
func (t *tallies) rawPlus(dup string, count int) int {
	if dup == "" {
		return t.raw() + count
	}
	if g := t.dup[dup]; g != nil {
		return t.raw() + max(0, count-g.max)
	}
	return t.raw() + count
}

// group is the tally of duplicate group key, nil when none is out.
func (t *tallies) group(key string) *tally {
	if key == "" {
		return nil
	}
	return t.dup[key]
}

func (t *tallies) add(st *Seat) {
	if st.Dup == "" {
		t.plain += st.Count
		return
	}
	g := t.dup[st.Dup]
	if g == nil {
		if t.dup == nil {
			t.dup = map[string]*tally{}
		}
		g = &tally{}
		t.dup[st.Dup] = g
	}
	t.groups -= g.max
	g.add(st.Count)
	t.groups += g.max
}

func (t *tallies) remove(st *Seat) {
	if st.Dup == "" {
		t.plain -= st.Count
		return
	}
	g := t.dup[st.Dup]
	if g == nil {
		return
	}
	t.groups -= g.max
	g.remove(st.Count)
	if g.n == 0 {
		delete(t.dup, st.Dup)
		return
	}
	t.groups += g.max
}

// tally is one duplicate group: its seats and their largest count. The
// seats of a group nearly always have one count; the others are kept
// in less, so that the largest is known again when one goes.
type tally struct {
	n    int         // seats
	max  int         // the largest count
	nmax int         // seats with the largest count
	less map[int]int // seats by count, for counts below max
}

func (g *tally) add(c int) {
	g.n++
	switch {
	case g.nmax == 0 || c > g.max:
		if g.nmax > 0 {
			if g.less == nil {
				g.less = map[int]int{}
			}
			g.less[g.max] += g.nmax
		}
		g.max, g.nmax = c, 1
	case c == g.max:
		g.nmax++
	default:
		if g.less == nil {
			g.less = map[int]int{}
		}
		g.less[c]++
	}
}

func (g *tally) remove(c int) {
	g.n--
	if c != g.max {
		if g.less[c]--; g.less[c] <= 0 {
			delete(g.less, c)
		}
		return
	}
	if g.nmax--; g.nmax > 0 {
		return
	}
	g.max = 0
	for k, n := range g.less {
		if g.nmax == 0 || k > g.max {
			g.max, g.nmax = k, n
		}
	}
	delete(g.less, g.max)
}

// resUse is how a pool's groups use its reservations: holders use them
// first, in options file order, group by group in the order of their
// first seat (see State.loadOf). left is what is left of each
// reservation, free the licenses held beyond them.
type resUse struct {
	valid bool
	left  []int
	free  int
}

// insertSeat adds st to seats, kept in handle order.
func insertSeat(seats []*Seat, st *Seat) []*Seat {
	if n := len(seats); n == 0 || seats[n-1].Handle < st.Handle {
		return append(seats, st) // the usual case: handles grow
	}
	i, _ := slices.BinarySearchFunc(seats, st.Handle, func(x *Seat, h uint32) int { return cmp.Compare(x.Handle, h) })
	return slices.Insert(seats, i, st)
}

// deleteSeat takes st out of seats, kept in handle order.
func deleteSeat(seats []*Seat, st *Seat) []*Seat {
	i, ok := slices.BinarySearchFunc(seats, st.Handle, func(x *Seat, h uint32) int { return cmp.Compare(x.Handle, h) })
	if !ok || seats[i] != st {
		return seats
	}
	seats = slices.Delete(seats, i, i+1)
	if len(seats) == 0 {
		return nil // let a long slice go
	}
	return seats
}

// info is pool p's entry, created when missing (a pool the state has
// not indexed yet).
func (s *State) info(p *Pool) *poolInfo {
	pi := s.byPool[p]
	if pi == nil {
		pi = s.newInfo(p)
		s.byPool[p] = pi
	}
	return pi
}

func (s *State) newInfo(p *Pool) *poolInfo {
	pi := &poolInfo{linger: s.policy.Linger(p), timeout: s.policy.Timeout(p)}
	pi.od.maxOD, pi.od.hasOD = s.policy.MaxOverdraft(p)
	count, od := p.countAt(s.now)
	pi.count, pi.limit = count, pi.od.limit(count, od)
	return pi
}

// poolSeats are the seats of pool p in handle order. The slice belongs
// to the state: callers must not keep it across changes.
func (s *State) poolSeats(p *Pool) []*Seat {
	if pi := s.byPool[p]; pi != nil {
		return pi.list()
	}
	return nil
}

// list is the pool's seats in handle order, compacted.
func (pi *poolInfo) list() []*Seat {
	if pi.dead > 0 {
		pi.compact()
	}
	return pi.seats
}

// live is how many seats the pool has.
func (pi *poolInfo) live() int { return len(pi.seats) - pi.dead }

// insert files st in handle order: at the end, in O(1), for a new
// handle; in the middle only for a handle reused after a restart. res
// are the pool's reservations.
func (pi *poolInfo) insert(st *Seat, res []Reservation) {
	if n := len(pi.seats); n == 0 || pi.seats[n-1].Handle < st.Handle {
		st.slot = n
		pi.seats = append(pi.seats, st)
		// The last seat: its group, if new, comes last and takes what
		// the others left of the reservations.
		pi.resOwn.append(&pi.own, st, res, 0)
		if len(pi.charged) == 0 {
			pi.resAll.append(&pi.all, st, res, 1)
		} else {
			pi.resAll.valid = false // its group comes before the charged ones
		}
	} else {
		pi.compact()
		i, _ := slices.BinarySearchFunc(pi.seats, st.Handle, func(x *Seat, h uint32) int { return cmp.Compare(x.Handle, h) })
		pi.seats = slices.Insert(pi.seats, i, st)
		for j := i; j < len(pi.seats); j++ {
			pi.seats[j].slot = j
		}
		pi.resOwn.valid, pi.resAll.valid = false, false
	}
	pi.own.add(st)
	pi.all.add(st)
}

// append updates u for st added as the pool's last seat, before t
// tallies it: a seat in no group, or the first of its group, takes
// what is left of the reservations; one that joins a group without
// growing it changes nothing; anything else makes u be recomputed.
func (u *resUse) append(t *tallies, st *Seat, res []Reservation, v int) {
	if !u.valid {
		return
	}
	g := t.group(st.Dup)
	switch {
	case g == nil:
		n := takeReserved(res, u.left, st.Count, st.Client)
		st.took[v] = st.Count - n
		u.free += n
	case st.Count > g.max:
		u.valid = false
	}
}

// drop updates u for st gone: a seat in no group that the reservations
// gave nothing held only free licenses, and no later group would have
// had them; anything else makes u be recomputed.
func (u *resUse) drop(st *Seat, res []Reservation, v int) {
	if u.valid && (len(res) == 0 || (st.Dup == "" && st.took[v] == 0)) {
		u.free -= st.Count
		return
	}
	u.valid = false
}

// remove blanks st out. The list never ends in a blank, so that the
// last entry is the highest handle. res are the pool's reservations.
func (pi *poolInfo) remove(st *Seat, res []Reservation) bool {
	i := st.slot
	if i < 0 || i >= len(pi.seats) || pi.seats[i] != st {
		return false
	}
	pi.seats[i] = nil
	pi.dead++
	for n := len(pi.seats); n > 0 && pi.seats[n-1] == nil; n-- {
		pi.seats = pi.seats[:n-1]
		pi.dead--
	}
	if pi.dead > pi.live()+32 {
		pi.compact()
	}
	if len(pi.seats) == 0 {
		pi.seats = nil // let a long slice go
	}
	pi.own.remove(st)
	pi.all.remove(st)
	pi.resOwn.drop(st, res, 0)
	pi.resAll.drop(st, res, 1)
	return true
}

// compact drops the blanks and renumbers the seats; a list much
// shorter than its array gets a new one, so that a pool whose seats
// went back does not keep the memory of its busiest hour.
func (pi *poolInfo) compact() {
	live := pi.seats[:0]
	if cap(pi.seats) > 2*pi.live()+64 {
		live = make([]*Seat, 0, pi.live())
	}
	for _, st := range pi.seats {
		if st != nil {
			st.slot = len(live)
			live = append(live, st)
		}
	}
	clear(pi.seats[len(live):len(pi.seats)])
	pi.seats, pi.dead = live, 0
}

// addCharged makes seat st, of a removed pool, count against this one.
func (pi *poolInfo) addCharged(st *Seat) {
	pi.charged = insertSeat(pi.charged, st)
	pi.all.add(st)
	pi.resAll.valid = false
}

func (pi *poolInfo) removeCharged(st *Seat, res []Reservation) {
	n := len(pi.charged)
	pi.charged = deleteSeat(pi.charged, st)
	if len(pi.charged) < n {
		pi.all.remove(st)
		pi.resAll.drop(st, res, 1)
	}
}

// changed notes that a seat's holder changed (a job reconnected): the
// reservations it uses may change.
func (s *State) changed(st *Seat) {
	if pi := s.byPool[st.Pool]; pi != nil {
		pi.resOwn.valid, pi.resAll.valid = false, false
	}
	if st.charge != nil {
		if pi := s.byPool[st.charge]; pi != nil {
			pi.resAll.valid = false
		}
	}
}

// addSeat files a new seat under its handle, pool and session.
func (s *State) addSeat(st *Seat) {
	s.seats[st.Handle] = st
	s.info(st.Pool).insert(st, s.res[st.Pool])
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
	if st.charge != nil {
		if pi := s.byPool[st.charge]; pi != nil {
			pi.removeCharged(st, s.res[st.charge])
		}
	}
	if pi := s.byPool[st.Pool]; pi != nil {
		pi.remove(st, s.res[st.Pool])
		if pi.live() == 0 && st.Pool.Removed {
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

// placeSeats files every seat under its pool, and a seat of a removed
// pool also under the pool it counts against, in handle order, after
// the per-pool indexes were rebuilt.
func (s *State) placeSeats() {
	var touched []*poolInfo
	add := func(p *Pool) *poolInfo {
		pi := s.info(p)
		if len(pi.seats) == 0 && len(pi.charged) == 0 {
			touched = append(touched, pi)
		}
		return pi
	}
	for _, st := range s.seats {
		pi := add(st.Pool)
		pi.seats = append(pi.seats, st)
		pi.own.add(st)
		pi.all.add(st)
		if st.charge != nil {
			ci := add(st.charge)
			ci.charged = append(ci.charged, st)
			ci.all.add(st)
		}
	}
	for _, pi := range touched {
		slices.SortFunc(pi.seats, func(a, b *Seat) int { return cmp.Compare(a.Handle, b.Handle) })
		for i, st := range pi.seats {
			st.slot = i
		}
		slices.SortFunc(pi.charged, func(a, b *Seat) int { return cmp.Compare(a.Handle, b.Handle) })
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
