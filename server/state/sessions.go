package state

import (
	"slices"
	"time"
)

// sessionInfo is what the state knows of a session (a client connection):
// when it was last heard from and since when its application has
// declared itself idle, both on the elapsed-time clock.
type sessionInfo struct {
	seen      time.Time
	idle      bool
	idleSince time.Time
}

func (s *State) session(id uint64) *sessionInfo {
	si := s.sessions[id]
	if si == nil {
		si = &sessionInfo{seen: s.elapsed}
		s.sessions[id] = si
	}
	return si
}

// dropSession releases every seat of a closed session and drops its
// queued requests.
func (s *State) dropSession(id uint64, r *Result) {
	delete(s.sessions, id)
	for _, it := range slices.Clone(s.queuedBySession[id]) {
		r.Dequeued = append(r.Dequeued, *s.dequeueWaiter(it.w.Handle))
	}
	if id == 0 {
		return
	}
	s.release(slices.Clone(s.bySession[id]), r, false)
}

// reclaimIdle takes back the seats of sessions idle for longer than their
// pool's TIMEOUT: an application that declared itself idle, or one that
// stopped heartbeating.
func (s *State) reclaimIdle(r *Result) {
	var idle []*Seat
	for _, p := range s.timed {
		pi := s.byPool[p]
		if pi == nil {
			continue // a removed pool that has gone
		}
		t := pi.timeout
		for _, st := range s.poolSeats(p) {
			if st.Session == 0 || st.Lingering() {
				continue
			}
			si := s.sessions[st.Session]
			if si == nil {
				continue
			}
			since := si.seen
			if si.idle {
				since = si.idleSince
			}
			if s.elapsed.Sub(since) >= t {
				idle = append(idle, st)
			}
		}
	}
	sortByHandle(idle)
	s.release(idle, r, true)
}
