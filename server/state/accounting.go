package state

// group is a set of duplicate seats sharing licenses (a lone seat is a
// group of one): it uses its largest count.
type group struct {
	key   string
	count int
	first *Seat // whose client the group is
}

// groups are the groups of pool p's seats (with extra added), in the
// order of their first seat's handle.
func (s *State) groups(p *Pool, extra *Seat) []group {
	return s.groupsOf(s.poolSeats(p), nil, extra)
}

// groupsOf are the groups of seats, then of charged (seats of removed
// pools counted against this one), then of extra.
func (s *State) groupsOf(seats, charged []*Seat, extra *Seat) []group {
	out := make([]group, 0, len(seats)+len(charged)+1)
	var idx map[string]int // made at the first duplicate group
	add := func(st *Seat) {
		if st.Dup != "" {
			if i, ok := idx[st.Dup]; ok {
				out[i].count = max(out[i].count, st.Count)
				return
			}
			if idx == nil {
				idx = map[string]int{}
			}
			idx[st.Dup] = len(out)
		}
		out = append(out, group{key: st.Dup, count: st.Count, first: st})
	}
	for _, st := range seats {
		add(st)
	}
	for _, st := range charged {
		add(st)
	}
	if extra != nil {
		add(extra)
	}
	return out
}

func (s *State) groupsOfFeature(feature string) []group {
	var out []group
	for _, p := range s.byFeature[feature] {
		if !p.Uncounted {
			out = append(out, s.groups(p, nil)...)
		}
	}
	return out
}

func (s *State) hasGroup(p *Pool, dup string) bool {
	pi := s.byPool[p]
	return pi != nil && pi.own.group(dup) != nil
}

// extra is how many more licenses of p a checkout of count in duplicate
// group dup takes.
func (s *State) extra(p *Pool, dup string, count int) int {
	if pi := s.byPool[p]; pi != nil {
		if g := pi.own.group(dup); g != nil {
			return max(0, count-g.max)
		}
	}
	return count
}

// load is what pool p has out with extra added: total counts reserved
// seats as in use whether their holders use them or not, raw only the
// licenses checked out. Holders use their reservations first, in options
// file order. Seats of removed pools charged to p count as out.
func (s *State) load(p *Pool, extra *Seat) (total, raw int) {
	return s.loadOf(p, true, extra)
}

// loadPlus is load with a checkout of count licenses by client c, in
// duplicate group dup, added. Without reservations the pool's tallies
// answer it, and no tentative seat is made: that is a checkout's most
// common path, and the seat a 416-byte allocation.
func (s *State) loadPlus(p *Pool, dup string, count int, c Client) (total, raw int) {
	if len(s.res[p]) > 0 {
		return s.load(p, &Seat{Pool: p, Client: c, Count: count, Dup: dup})
	}
	raw = count
	if pi := s.byPool[p]; pi != nil {
		raw = pi.all.rawPlus(dup, count)
	}
	return raw, raw
}

// loadOf is load, with or without the seats charged to p. It costs
// O(1) from the pool's tallies; with reservations, the first call after
// a change costs what the pool's seats cost (resUse), later ones
// O(reservations).
func (s *State) loadOf(p *Pool, withCharged bool, extra *Seat) (total, raw int) {
	pi := s.byPool[p]
	if pi == nil {
		pi = &poolInfo{} // a pool the state has not indexed: no seats
	}
	t, use := &pi.own, &pi.resOwn
	if withCharged {
		t, use = &pi.all, &pi.resAll
	}
	raw = t.raw()
	if extra != nil {
		raw = t.rawWith(extra)
	}
	res := s.res[p]
	if len(res) == 0 {
		return raw, raw
	}
	reserved := 0
	for _, r := range res {
		reserved += r.Count
	}
	if g := t.group(extra.dupKey()); g != nil && extra.Count > g.max {
		// The checkout would grow a group that is out already: its
		// seats' use of the reservations may change.
		_, free := s.resUseOf(p, pi, withCharged, extra)
		return reserved + free, raw
	}
	if !use.valid {
		use.left, use.free = s.resUseOf(p, pi, withCharged, nil)
		use.valid = true
	}
	free := use.free
	if extra != nil && t.group(extra.Dup) == nil {
		// A new group, the last: it takes what the others left.
		n := extra.Count
		for i, r := range res {
			if n == 0 {
				break
			}
			if use.left[i] > 0 && r.Match != nil && r.Match(extra.Client) {
				n -= min(n, use.left[i])
			}
		}
		free += n
	}
	return reserved + free, raw
}

// dupKey is the seat's duplicate key; "" for no seat.
func (st *Seat) dupKey() string {
	if st == nil {
		return ""
	}
	return st.Dup
}

// resUseOf computes how p's groups (with the charged seats, and extra)
// use its reservations: what is left of each, and the licenses held
// beyond them.
func (s *State) resUseOf(p *Pool, pi *poolInfo, withCharged bool, extra *Seat) (left []int, free int) {
	res := s.res[p]
	left = make([]int, len(res))
	for i, r := range res {
		left[i] = r.Count
	}
	var charged []*Seat
	if withCharged {
		charged = pi.charged
	}
	v := 0
	if withCharged {
		v = 1
	}
	for _, g := range s.groupsOf(pi.list(), charged, extra) {
		n := takeReserved(res, left, g.count, g.first.Client)
		if extra == nil {
			g.first.took[v] = g.count - n
		}
		free += n
	}
	return left, free
}

// takeReserved has a group of count licenses held by c use what is
// left of the reservations for c, in order; it returns the licenses
// the group holds beyond them.
func takeReserved(res []Reservation, left []int, count int, c Client) int {
	for i, r := range res {
		if count == 0 {
			break
		}
		if left[i] > 0 && r.Match != nil && r.Match(c) {
			take := min(count, left[i])
			left[i] -= take
			count -= take
		}
	}
	return count
}

// limit is how many licenses pool p may have out: its count plus the
// overdraft the license allows, lowered by MAX_OVERDRAFT.
func (s *State) limit(p *Pool) int {
	if pi := s.byPool[p]; pi != nil {
		return pi.limit
	}
	return s.policyLimit(p)
}

// policyLimit is limit computed from the pool's lines valid now and the
// policy.
func (s *State) policyLimit(p *Pool) int {
	count, od := p.countAt(s.now)
	if n, ok := s.policy.MaxOverdraft(p); ok && n < od {
		od = max(n, 0)
	}
	return count + od
}

// issued is how many seats pool p's lines valid now give.
func (s *State) issued(p *Pool) int {
	if pi := s.byPool[p]; pi != nil {
		return pi.count
	}
	n, _ := p.countAt(s.now)
	return n
}
