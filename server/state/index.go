package state

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
func (t *tallies) rawWith(st *Seat) int {
	if st.Dup == "" {
		return t.raw() + st.Count
	}
	if g := t.dup[st.Dup]; g != nil {
		return t.raw() + max(0, st.Count-g.max)
	}
	return t.raw() + st.Count
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
		pi = s.newInfo(p)
		s.byPool[p] = pi
	}
	return pi
}

func (s *State) newInfo(p *Pool) *poolInfo {
	count, _ := p.countAt(s.now)
	return &poolInfo{count: count, limit: s.policyLimit(p), linger: s.policy.Linger(p), timeout: s.policy.Timeout(p)}
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
		i, _ := slices.BinarySearchFunc(pi.seats, st.Handle, func(x *Seat, h uint32) int { return cmpHandle(x.Handle, h) })
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

// reindex rebuilds the per-pool and per-feature indexes after the pools
// or the policy changed (seats may have moved to other pools).
func (s *State) reindex() {
	s.byPool = make(map[*Pool]*poolInfo, len(s.pools))
	s.byFeature = map[string][]*Pool{}
	s.cands = map[string][]*Pool{}
	s.timed = s.timed[:0]
	s.nextDate = time.Time{}
	for _, p := range s.pools {
		pi := s.newInfo(p)
		s.byPool[p] = pi
		if t := p.nextChange(s.now); !t.IsZero() && (s.nextDate.IsZero() || t.Before(s.nextDate)) {
			s.nextDate = t
		}
		s.byFeature[p.Feature] = append(s.byFeature[p.Feature], p)
		if pi.timeout > 0 {
			s.timed = append(s.timed, p)
		}
	}
	for _, st := range s.seats {
		pi := s.info(st.Pool)
		pi.seats = append(pi.seats, st)
		pi.own.add(st)
		pi.all.add(st)
		if st.charge != nil {
			ci := s.info(st.charge)
			ci.charged = append(ci.charged, st)
			ci.all.add(st)
		}
	}
	for _, pi := range s.byPool {
		slices.SortFunc(pi.seats, func(a, b *Seat) int { return cmpHandle(a.Handle, b.Handle) })
		for i, st := range pi.seats {
			st.slot = i
		}
		slices.SortFunc(pi.charged, func(a, b *Seat) int { return cmpHandle(a.Handle, b.Handle) })
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

// The queue. Queued requests are kept per feature in arrival order, with
// a Fenwick tree over that order so that a request's position is found
// in O(log n); a request that leaves is blanked out and the feature's
// list compacted once most of it is blank, so that leaving costs O(1)
// amortised. Every request also carries a global arrival number: serving
// the queue merges the features' heads by it, which grants in the same
// order as one global list would, at a cost that grows with the number
// of features that have requests waiting, not with the requests.

// queuedItem is one queued request in its feature's list.
type queuedItem struct {
	w   *Waiter
	seq uint64        // global arrival order
	fq  *featureQueue // the feature's list
	pos int           // index in fq.items
}

// featureQueue is one feature's queued requests in arrival order.
type featureQueue struct {
	feature string
	items   []*queuedItem // nil where a request left
	head    int           // items[:head] are all nil
	live    int
	fen     []int // Fenwick tree, 1-based: 1 for every live item
}

// push appends it to the list.
func (q *featureQueue) push(it *queuedItem) {
	it.fq, it.pos = q, len(q.items)
	q.items = append(q.items, it)
	q.live++
	if len(q.items) >= len(q.fen) {
		q.rebuild(max(2*len(q.items), 16))
		return
	}
	q.fenAdd(it.pos, 1)
}

// remove blanks it out, compacting the list when most of it is blank.
func (q *featureQueue) remove(it *queuedItem) {
	if it.fq != q || it.pos >= len(q.items) || q.items[it.pos] != it {
		return
	}
	q.items[it.pos] = nil
	q.live--
	q.fenAdd(it.pos, -1)
	for q.head < len(q.items) && q.items[q.head] == nil {
		q.head++
	}
	if blank := len(q.items) - q.live; blank > q.live+32 {
		q.compact()
	}
}

// front is the first live request, nil when none is left.
func (q *featureQueue) front() *queuedItem {
	if q.head < len(q.items) {
		return q.items[q.head]
	}
	return nil
}

// position is it's place among the live requests, 1 for the front.
func (q *featureQueue) position(it *queuedItem) int {
	n := 0
	for i := it.pos + 1; i > 0; i -= i & -i {
		n += q.fen[i]
	}
	return n
}

// each calls f for the live requests in arrival order.
func (q *featureQueue) each(f func(*queuedItem)) {
	for _, it := range q.items[q.head:] {
		if it != nil {
			f(it)
		}
	}
}

func (q *featureQueue) fenAdd(pos, d int) {
	for i := pos + 1; i < len(q.fen); i += i & -i {
		q.fen[i] += d
	}
}

// compact drops the blanks and renumbers the live requests.
func (q *featureQueue) compact() {
	live := make([]*queuedItem, 0, q.live)
	for _, it := range q.items[q.head:] {
		if it != nil {
			it.pos = len(live)
			live = append(live, it)
		}
	}
	q.items, q.head = live, 0
	q.rebuild(max(2*len(live), 16))
}

// rebuild makes a Fenwick tree of capacity n for the list in O(n).
func (q *featureQueue) rebuild(n int) {
	q.fen = make([]int, n+1)
	for i, it := range q.items {
		if it != nil {
			q.fen[i+1]++
		}
	}
	for i := 1; i <= n; i++ {
		if j := i + i&-i; j <= n {
			q.fen[j] += q.fen[i]
		}
	}
}

// queueHeads is a heap of feature lists ordered by their front's arrival.
type queueHeads []*featureQueue

func (h queueHeads) Len() int           { return len(h) }
func (h queueHeads) Less(i, j int) bool { return h[i].front().seq < h[j].front().seq }
func (h queueHeads) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *queueHeads) Push(x any)        { *h = append(*h, x.(*featureQueue)) }
func (h *queueHeads) Pop() any {
	old := *h
	q := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	return q
}

// enqueueWaiter files w at the end of its feature's list and under its
// session.
func (s *State) enqueueWaiter(w *Waiter) {
	q := s.queues[w.Feature]
	if q == nil {
		q = &featureQueue{feature: w.Feature}
		s.queues[w.Feature] = q
	}
	s.queueSeq++
	it := &queuedItem{w: w, seq: s.queueSeq}
	q.push(it)
	s.waiting[w.Handle] = it
	s.queuedBySession[w.Session] = append(s.queuedBySession[w.Session], it)
}

// dequeueWaiter takes the queued request with handle h out of the queue.
func (s *State) dequeueWaiter(h uint32) *Waiter {
	it := s.waiting[h]
	if it == nil {
		return nil
	}
	delete(s.waiting, h)
	q := it.fq
	q.remove(it)
	if q.live == 0 {
		delete(s.queues, q.feature)
	}
	sess := it.w.Session
	if l := slices.DeleteFunc(s.queuedBySession[sess], func(x *queuedItem) bool { return x == it }); len(l) > 0 {
		s.queuedBySession[sess] = l
	} else {
		delete(s.queuedBySession, sess)
	}
	return it.w
}

// queuedFor reports whether session has a request queued for feature:
// O(MaxQueuedPerSession).
func (s *State) queuedFor(session uint64, feature string) bool {
	return slices.ContainsFunc(s.queuedBySession[session], func(it *queuedItem) bool { return it.w.Feature == feature })
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
