package triad

import (
	"context"
	"maps"
	"slices"
	"sync"
	"time"

	"golm/lmutil/server/state"
)

// liveness is the master's own record of which sessions are alive.
// Client heartbeats only touch it; the log carries, per Tick, one
// Heartbeat for each session heard from since the last Tick (so that
// TIMEOUT sees the same idle times on every member) and a Disconnect for
// each session silent for longer than the timeout (a TimedOut).
type liveness struct {
	mu    sync.Mutex
	term  uint64               // the Raft term the record is of; 0: none
	seen  map[uint64]time.Time // last heartbeat, or when this master adopted the session
	fresh map[uint64]time.Time // heartbeats not yet in the log
}

func newLiveness() *liveness {
	return &liveness{seen: map[uint64]time.Time{}, fresh: map[uint64]time.Time{}}
}

// Heartbeat records that session is alive, on this member only. It is
// what the master does with a client's heartbeat: nothing is committed
// until the next Tick.
func (m *Member) Heartbeat(session uint64) {
	l := m.live
	now := m.cfg.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.seen[session] = now
	l.fresh[session] = now
}

// Forget drops session from the master's liveness record, once its
// Disconnect is committed.
func (m *Member) Forget(session uint64) {
	l := m.live
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.seen, session)
	delete(l.fresh, session)
}

// Tick is the master's periodic command: it commits, in one batch, a
// Heartbeat for each session heard from since the last Tick, a
// TimedOut for each session silent for longer than timeout, and a Tick
// (lingers that end, TIMEOUT reclaims, the queue). The first Tick of a
// new master adopts every session that holds a seat or waits in the
// queue as seen now: that is the grace period in which clients of the
// old master reattach with their handles before their seats are freed.
// It returns the results in that order.
func (m *Member) Tick(ctx context.Context, timeout time.Duration) ([]state.Result, error) {
	if err := m.Standby(); err != nil {
		return nil, err
	}
	now := m.cfg.Now()
	term := m.raft.CurrentTerm()
	l := m.live
	l.mu.Lock()
	if l.term != term {
		// A new master: what an old one knew is gone, and each session
		// gets a whole timeout from now to show it is alive.
		l.term = term
		clear(l.fresh)
		kept := map[uint64]time.Time{}
		for _, s := range sessionsOf(m.State()) {
			if t, ok := l.seen[s]; ok && t.After(now) {
				kept[s] = t
			} else {
				kept[s] = now
			}
		}
		for s, t := range l.seen {
			if _, ok := kept[s]; !ok {
				kept[s] = t // heartbeats that came before the first Tick
			}
		}
		l.seen = kept
	}
	var cmds []Command
	var beats []uint64
	for _, s := range slices.Sorted(maps.Keys(l.fresh)) {
		cmds = append(cmds, state.Heartbeat{Session: s})
		beats = append(beats, s)
	}
	var dead []uint64
	for _, s := range slices.Sorted(maps.Keys(l.seen)) {
		if now.Sub(l.seen[s]) > timeout {
			cmds = append(cmds, TimedOut{Session: s})
			dead = append(dead, s)
		}
	}
	sent := make(map[uint64]time.Time, len(beats))
	for _, s := range beats {
		sent[s] = l.fresh[s]
	}
	l.mu.Unlock()

	cmds = append(cmds, state.Tick{})
	rs, err := m.Propose(ctx, cmds)
	if err != nil {
		return nil, err // the heartbeats stay fresh for the next Tick
	}
	l.mu.Lock()
	for s, t := range sent {
		if l.fresh[s].Equal(t) {
			delete(l.fresh, s)
		}
	}
	for _, s := range dead {
		if now.Sub(l.seen[s]) > timeout {
			delete(l.seen, s)
			delete(l.fresh, s)
		}
	}
	l.mu.Unlock()
	return rs, nil
}

// sessionsOf are the sessions holding a seat or waiting in the queue.
func sessionsOf(st *state.State) []uint64 {
	set := map[uint64]bool{}
	for _, ps := range st.Status() {
		for _, s := range ps.Seats {
			if s.Session != 0 {
				set[s.Session] = true
			}
		}
		for _, w := range ps.Queued {
			set[w.Session] = true
		}
	}
	return slices.Sorted(maps.Keys(set))
}

// Touch records, on this member only, that sessions are alive without
// putting a heartbeat in the log: their connections to this master are
// open, and a client that is stopped (SIGSTOP) keeps its seats while its
// connection lives, as with one server.
func (m *Member) Touch(sessions []uint64) {
	l := m.live
	now := m.cfg.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, s := range sessions {
		l.seen[s] = now
	}
}
