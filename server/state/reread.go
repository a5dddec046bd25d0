package state

import (
	"cmp"
	"fmt"
	"slices"
	"sort"
)

// refresh recomputes the effective reservations after the pools or the
// policy changed: each feature's RESERVE lines go, in options file order,
// to the first of its pools with enough unreserved seats; those that fit
// nowhere are dropped with a warning (manual 6.5.1).
func (s *State) refresh() []string {
	s.reindex()
	s.res = map[*Pool][]Reservation{}
	var warn []string
	seen := make(map[string]bool, len(s.byFeature))
	var same []*Pool
	for _, p := range s.pools {
		if seen[p.Feature] || p.Removed || p.Uncounted {
			continue
		}
		seen[p.Feature] = true
		same = same[:0]
		for _, q := range s.byFeature[p.Feature] {
			if !q.Removed && !q.Uncounted {
				same = append(same, q)
			}
		}
		res := s.policy.Reservations(p)
		if len(res) == 0 {
			continue
		}
		room := make(map[*Pool]int, len(same))
		for _, q := range same {
			room[q] = s.issued(q)
		}
		for _, r := range res {
			if r.Count <= 0 {
				continue
			}
			var at *Pool
			for _, q := range same {
				if room[q] >= r.Count {
					at = q
					break
				}
			}
			if at == nil {
				// Cut down to the seats left, or dropped (manual 6.5.1).
				for _, q := range same {
					if room[q] > 0 {
						at = q
						break
					}
				}
				if at == nil {
					warn = append(warn, fmt.Sprintf("%sRESERVE %d %s %s %s: reservation dropped: all licenses are reserved", posPrefix(r.Pos), r.Count, p.Feature, r.Kind, r.Name))
					continue
				}
				warn = append(warn, fmt.Sprintf("%sRESERVE %d %s %s %s: only %d licenses reserved", posPrefix(r.Pos), r.Count, p.Feature, r.Kind, r.Name, room[at]))
				r.Count = room[at]
			}
			room[at] -= r.Count
			s.res[at] = append(s.res[at], r)
		}
	}
	s.assignCharges()
	return warn
}

// assignCharges makes every seat of a pool an lmreread removed that
// counts against no pool yet count against a pool of the new license
// files it could have been granted from: same feature name, counted, a
// version at least the one the holder asked for, and a hostid the
// holder's host matches. So a reread of lines with another version or
// VENDOR_STRING cannot grant a feature's seats again while the old ones
// are still out, but seats held on one host do not count against a line
// node-locked to another host, nor a v2 holder against a v1 line it
// could not have used. Each seat counts against one pool: the first, in
// the order checkouts try them, with room for it, else the first valid
// now, else the first. Seats held under an uncounted line, or that no
// new counted pool could have served, count against nothing.
func (s *State) assignCharges() {
	var orphans []*Seat
	for _, st := range s.seats {
		if st.charge == nil && st.Pool.Removed && !st.Pool.Uncounted {
			orphans = append(orphans, st)
		}
	}
	sortByHandle(orphans)
	for _, st := range orphans {
		want, ok := parseVersion(st.Version)
		if !ok || st.Version == "" {
			want = st.Pool.Version
		}
		var first, valid, roomy *Pool
		for _, np := range s.cands[st.Pool.Feature] {
			if np.Uncounted || np.Removed || compareVersion(np.Version, want) < 0 ||
				(len(np.HostID) > 0 && !clientMatches(np.HostID, st.Client)) {
				continue
			}
			if first == nil {
				first = np
			}
			if valid == nil && np.validAt(s.now) {
				valid = np
			}
			if total, _ := s.load(np, st); total <= s.limit(np) {
				roomy = np
				break
			}
		}
		at := cmp.Or(roomy, valid, first)
		if at == nil {
			continue
		}
		st.charge = at
		s.info(at).addCharged(st)
	}
}

func posPrefix(pos string) string {
	if pos == "" {
		return ""
	}
	return pos + ": "
}

// reread swaps in new pools, moving seats to the pool with the same key.
func (s *State) reread(pools []*Pool) {
	for _, st := range s.seats {
		st.charge = nil // counted again against the new pools (assignCharges)
	}
	// The first counted and the first uncounted pool of each key; each
	// old pool's key is computed once, not once per seat.
	counted := make(map[string]*Pool, len(pools))
	uncounted := map[string]*Pool{}
	for _, p := range pools {
		m := counted
		if p.Uncounted {
			m = uncounted
		}
		if k := p.Key(); m[k] == nil {
			m[k] = p
		}
	}
	moved := map[*Pool]*Pool{} // old pool -> new, nil when gone
	kept := map[*Pool]bool{}
	for _, st := range s.seats {
		np, ok := moved[st.Pool]
		if !ok {
			m := counted
			if st.Pool.Uncounted {
				m = uncounted
			}
			np = m[st.Pool.Key()]
			moved[st.Pool] = np
		}
		if np != nil {
			st.Pool = np
			continue
		}
		st.Pool.Removed = true
		kept[st.Pool] = true
	}
	s.pools = append(make([]*Pool, 0, len(pools)+len(kept)), pools...)
	s.pools = append(s.pools, orderedPools(kept)...)
}

func orderedPools(m map[*Pool]bool) []*Pool {
	out := make([]*Pool, 0, len(m))
	for p := range m {
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key() < out[j].Key() })
	return out
}

// dropEmptyRemoved forgets removed pools whose last seat went back. It
// does nothing unless dropSeat saw the last seat of a removed pool go.
func (s *State) dropEmptyRemoved() {
	if !s.emptyRemoved {
		return
	}
	s.emptyRemoved = false
	empty := func(p *Pool) bool { return p.Removed && len(s.poolSeats(p)) == 0 }
	for _, p := range s.pools {
		if empty(p) {
			delete(s.byPool, p)
			if l := slices.DeleteFunc(s.byFeature[p.Feature], func(q *Pool) bool { return q == p }); len(l) > 0 {
				s.byFeature[p.Feature] = l
			} else {
				delete(s.byFeature, p.Feature)
			}
		}
	}
	s.pools = slices.DeleteFunc(s.pools, empty)
	s.timed = slices.DeleteFunc(s.timed, func(p *Pool) bool { return s.byPool[p] == nil })
}
