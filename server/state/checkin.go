package state

import (
	"cmp"
	"container/heap"
	"slices"
	"time"

	"golm/lmutil/protocol/lmerr"
)

// DefaultLingerCap is the longest linger an application may ask for
// (FlexLM's LM_A_LINGER): a longer one is cut to it, unless the options
// file's LINGER for the feature is longer, which then is the cap. Without
// a cap one client could hold every seat for days after it exits, and
// only a restart would free them.
const DefaultLingerCap = time.Hour

// remove is lmremove: seats in use go back, or start their linger
// ("lmremove will start, but not override, the license's linger time");
// seats already lingering, held by no one, are freed at once, so that an
// administrator can always get a seat back without a restart.
func (s *State) remove(match []*Seat) Result {
	if len(match) == 0 {
		return Result{Err: lmerr.New(lmerr.NeverCheckedOut, lmerr.MinorRemoveNoMatch)}
	}
	var live, lingering []*Seat
	for _, st := range match {
		if st.Lingering() {
			lingering = append(lingering, st)
		} else {
			live = append(live, st)
		}
	}
	var r Result
	for _, st := range lingering {
		for _, x := range [2]*Seat{st, s.seats[st.Companion]} {
			if x != nil && s.seats[x.Handle] == x && x.Lingering() {
				s.dropSeat(x)
				r.Freed = append(r.Freed, *x)
			}
		}
	}
	if len(lingering) > 0 {
		s.dropEmptyRemoved()
	}
	s.release(live, &r, false)
	s.serveQueue(&r)
	return r
}

// revoke drops the seats (and companions) and queued requests with
// handles at once.
func (s *State) revoke(handles []uint32) {
	for _, h := range handles {
		if st := s.seats[h]; st != nil {
			if c := s.seats[st.Companion]; c != nil {
				s.dropSeat(c)
			}
			s.dropSeat(st)
		}
		s.dequeueWaiter(h)
	}
	s.dropEmptyRemoved()
}

// release gives seats back (and their companions): those whose pool
// lingers start lingering, the others are freed. With inactive they are
// reclaimed by TIMEOUT and never linger.
func (s *State) release(seats []*Seat, r *Result, inactive bool) {
	// done holds the handles already released; a command releases
	// few seats, so a slice beats a map.
	var done []uint32
	for _, st := range seats {
		for _, x := range [2]*Seat{st, s.seats[st.Companion]} {
			if x == nil || slices.Contains(done, x.Handle) || s.seats[x.Handle] != x {
				continue
			}
			done = append(done, x.Handle)
			if l := s.lingerFor(x); l > 0 && !inactive && !x.Lingering() {
				s.setSession(x, 0)
				x.Linger = l
				x.LingerUntil = s.elapsed.Add(l)
				s.pushLinger(x)
				r.Lingering = append(r.Lingering, *x)
				continue
			}
			s.dropSeat(x)
			if inactive {
				r.Inactive = append(r.Inactive, *x)
			} else {
				r.Freed = append(r.Freed, *x)
			}
		}
	}
	if len(done) > 0 {
		s.dropEmptyRemoved()
	}
}

// endLingers frees the lingering seats whose linger is over.
func (s *State) endLingers() []Seat {
	var out []Seat
	for len(s.lingers) > 0 && !s.elapsed.Before(s.lingers[0].until) {
		it := heap.Pop(&s.lingers).(lingerItem)
		if s.live(it) {
			s.dropSeat(it.st)
			out = append(out, *it.st)
		}
	}
	if len(out) > 0 {
		slices.SortFunc(out, func(a, b Seat) int { return cmp.Compare(a.Handle, b.Handle) })
		s.dropEmptyRemoved()
	}
	return out
}

// lingerFor is how long seat st lingers when it goes back: the longer
// of the application's linger and the options file's LINGER, the
// application's cut to DefaultLingerCap or to that LINGER if longer.
func (s *State) lingerFor(st *Seat) time.Duration {
	opt := s.lingerOf(st.Pool)
	return max(min(st.AppLinger, max(DefaultLingerCap, opt)), opt)
}

func (s *State) lingerOf(p *Pool) time.Duration {
	if pi := s.byPool[p]; pi != nil {
		return pi.linger
	}
	return s.policy.Linger(p)
}
