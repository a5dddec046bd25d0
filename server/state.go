package server

import (
	"sort"
	"sync"
	"time"

	"golm/lmutil/licfile"
	"golm/lmutil/protocol/lmerr"
)

// Minor numbers of the errors the state machine raises, so that a log
// line or a user's report points at the rule that said no.
const (
	minorNoFeature  = 346
	minorUsers      = 342
	minorVersion    = 347
	minorExpired    = 348
	minorStart      = 349
	minorHost       = 350
	minorTooMany    = 351
	minorNoHandle   = 352
	minorRemovedFtr = 353
	minorBadVersion = 354
)

// Client is who holds or asks for a seat: the identity a client sent in
// its handshake plus the address its connection really comes from.
type Client struct {
	User    string
	Host    string
	Display string
	Project string
	Program string
	PID     int
	IP      string // peer address of the connection, for INTERNET= hostids
	// JobID names the client's job across reconnects (0 if it has none).
	JobID uint64
}

// Seat is one granted checkout.
type Seat struct {
	Handle  uint32
	Pool    *Pool
	Session uint64 // the connection that holds it
	Client  Client
	// Version is the version the client asked for (lmstat shows it).
	Version string
	Count   int
	Start   time.Time
}

// Command is one change to the license state. Network handlers turn
// requests into commands; only State.Apply changes the pools, one command
// at a time and in order, so that the same sequence of commands always
// yields the same state (what a replicated log will need).
type Command interface{ command() }

// Checkout asks for Count licenses of Feature at Version or later.
// PrevHandle, when not 0, is the handle the same job held before it
// reconnected. With Adopt (the handle is from this vendor daemon run) a
// seat still held under that handle by the same job moves to the new
// session instead of being counted twice; otherwise the handle is only
// reused for the new seat when it is free, so that lmstat's handles stay
// stable across a vendor daemon restart.
type Checkout struct {
	Session    uint64
	Client     Client
	Feature    string
	Version    string
	Count      int
	PrevHandle uint32
	Adopt      bool
	Now        time.Time
}

// Checkin returns one seat of Session.
type Checkin struct {
	Session uint64
	Handle  uint32
}

// Heartbeat records that Session is alive at Now.
type Heartbeat struct {
	Session uint64
	Now     time.Time
}

// Disconnect frees every seat of Session at once (its connection closed).
type Disconnect struct{ Session uint64 }

// Expire drops sessions whose last heartbeat is older than Now - Timeout.
type Expire struct {
	Now     time.Time
	Timeout time.Duration
}

// Remove is lmremove feature user host display: every seat of Feature
// held by that user, host and display.
type Remove struct {
	Feature, User, Host, Display string
}

// RemoveHandle is lmremove -h: the seat with Handle (of Feature, when
// Feature is not "").
type RemoveHandle struct {
	Feature string
	Handle  uint32
}

// Reread replaces the pools with new ones built from the rereadable
// license files. Seats move to the pool with the same key; seats of a
// pool that is gone stay out until checked in.
type Reread struct{ Pools []*Pool }

func (Checkout) command()     {}
func (Checkin) command()      {}
func (Heartbeat) command()    {}
func (Disconnect) command()   {}
func (Expire) command()       {}
func (Remove) command()       {}
func (RemoveHandle) command() {}
func (Reread) command()       {}

// Result is what a command did.
type Result struct {
	// Err is the FlexLM error a checkout, checkin or remove was denied with.
	Err *lmerr.Error
	// Seat is the seat a checkout granted (a copy).
	Seat *Seat
	// Freed are the seats a checkin, disconnect, expire or remove gave back.
	Freed []Seat
	// Sessions are the sessions an Expire dropped.
	Sessions []uint64
	// Adopted is true when a checkout re-adopted the job's previous seat.
	Adopted bool
}

// State owns the pools and seats of one vendor daemon. It is safe for
// concurrent use; Apply serialises commands.
type State struct {
	mu         sync.Mutex
	pools      []*Pool
	seats      map[uint32]*Seat
	sessions   map[uint64]time.Time
	used       map[*Pool]int // licenses out per pool
	nextHandle uint32
}

// firstHandle is the first handle of a vendor daemon run; handles grow
// from there and are never reused within the run, except that a client
// reconnecting after a restart gets its old handle back when it is free.
const firstHandle = 101

// NewState returns a state serving pools.
func NewState(pools []*Pool) *State {
	return &State{pools: pools, seats: map[uint32]*Seat{}, sessions: map[uint64]time.Time{}, used: map[*Pool]int{}, nextHandle: firstHandle}
}

// Apply applies one command and returns its result.
func (s *State) Apply(cmd Command) Result {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch c := cmd.(type) {
	case Checkout:
		return s.checkout(c)
	case Checkin:
		seat := s.seats[c.Handle]
		if seat == nil || seat.Session != c.Session {
			return Result{Err: lmerr.New(-41, minorNoHandle)}
		}
		return Result{Freed: []Seat{s.free(seat)}}
	case Heartbeat:
		s.sessions[c.Session] = c.Now
		return Result{}
	case Disconnect:
		delete(s.sessions, c.Session)
		return Result{Freed: s.freeWhere(func(st *Seat) bool { return st.Session == c.Session })}
	case Expire:
		var dead []uint64
		for id, seen := range s.sessions {
			if c.Now.Sub(seen) > c.Timeout {
				dead = append(dead, id)
			}
		}
		sort.Slice(dead, func(i, j int) bool { return dead[i] < dead[j] })
		var r Result
		for _, id := range dead {
			delete(s.sessions, id)
			r.Freed = append(r.Freed, s.freeWhere(func(st *Seat) bool { return st.Session == id })...)
		}
		r.Sessions = dead
		return r
	case Remove:
		freed := s.freeWhere(func(st *Seat) bool {
			return st.Pool.Feature == c.Feature && st.Client.User == c.User &&
				st.Client.Host == c.Host && st.Client.Display == c.Display
		})
		if len(freed) == 0 {
			return Result{Err: lmerr.New(-41, minorNoHandle)}
		}
		return Result{Freed: freed}
	case RemoveHandle:
		seat := s.seats[c.Handle]
		if seat == nil || (c.Feature != "" && seat.Pool.Feature != c.Feature) {
			return Result{Err: lmerr.New(-41, minorNoHandle)}
		}
		return Result{Freed: []Seat{s.free(seat)}}
	case Reread:
		s.reread(c.Pools)
		return Result{}
	}
	return Result{Err: lmerr.New(-85, 0)}
}

func (s *State) free(seat *Seat) Seat {
	delete(s.seats, seat.Handle)
	s.used[seat.Pool] -= seat.Count
	s.dropEmptyRemoved()
	return *seat
}

// freeWhere frees every seat match selects, in handle order.
func (s *State) freeWhere(match func(*Seat) bool) []Seat {
	var hs []uint32
	for h, st := range s.seats {
		if match(st) {
			hs = append(hs, h)
		}
	}
	sort.Slice(hs, func(i, j int) bool { return hs[i] < hs[j] })
	out := make([]Seat, 0, len(hs))
	for _, h := range hs {
		st := s.seats[h]
		out = append(out, *st)
		s.used[st.Pool] -= st.Count
		delete(s.seats, h)
	}
	if len(out) > 0 {
		s.dropEmptyRemoved()
	}
	return out
}

// inUse is the number of licenses of p checked out.
func (s *State) inUse(p *Pool) int { return s.used[p] }

func (s *State) checkout(c Checkout) Result {
	if c.Count <= 0 {
		c.Count = 1
	}
	want, ok := ParseVersion(c.Version)
	if !ok {
		return Result{Err: lmerr.New(-77, minorBadVersion)}
	}
	if c.Session != 0 {
		if _, known := s.sessions[c.Session]; !known {
			s.sessions[c.Session] = c.Now
		}
	}
	// A client that reconnected keeps the seat it already holds.
	if old := s.seats[c.PrevHandle]; c.Adopt && c.PrevHandle != 0 && old != nil {
		if old.Pool.Feature == c.Feature && sameClient(old.Client, c.Client) && old.Count == c.Count {
			old.Session = c.Session
			old.Client = c.Client
			cp := *old
			return Result{Seat: &cp, Adopted: true}
		}
	}
	var named []*Pool
	for _, p := range s.pools {
		if p.Feature == c.Feature && !p.Removed {
			named = append(named, p)
		}
	}
	if len(named) == 0 {
		return Result{Err: lmerr.New(-5, minorNoFeature)}
	}
	// Walk the pools in file order; the first usable one with room wins.
	// A denial reports the most specific reason of the pools that matched
	// furthest.
	var denial *lmerr.Error
	rank := 0
	deny := func(r int, e *lmerr.Error) {
		if r > rank {
			rank, denial = r, e
		}
	}
	for _, p := range named {
		switch {
		case compareVersion(p.Version, want) < 0:
			deny(1, lmerr.New(-25, minorVersion))
		case expired(p.Expiry, c.Now):
			deny(2, lmerr.New(-10, minorExpired))
		case notStarted(p.Start, c.Now):
			deny(2, lmerr.New(-31, minorStart))
		case len(p.HostID) > 0 && !clientMatches(p.HostID, c.Client):
			deny(3, lmerr.New(-9, minorHost))
		case !p.Uncounted && c.Count > p.Count:
			deny(4, lmerr.New(-26, minorTooMany))
		case !p.Uncounted && s.inUse(p)+c.Count > p.Count:
			deny(5, lmerr.New(-4, minorUsers))
		default:
			seat := &Seat{
				Handle:  s.handleFor(c.PrevHandle),
				Pool:    p,
				Session: c.Session,
				Client:  c.Client,
				Version: c.Version,
				Count:   c.Count,
				Start:   c.Now,
			}
			s.seats[seat.Handle] = seat
			s.used[p] += seat.Count
			cp := *seat
			return Result{Seat: &cp}
		}
	}
	return Result{Err: denial}
}

// handleFor picks the handle of a new seat: the client's previous one
// when it is free (a restarted vendor daemon keeps lmstat's handles
// stable), else the next unused one.
func (s *State) handleFor(prev uint32) uint32 {
	if prev != 0 && s.seats[prev] == nil {
		if prev >= s.nextHandle {
			s.nextHandle = prev + 1
		}
		return prev
	}
	for s.seats[s.nextHandle] != nil || s.nextHandle == 0 {
		s.nextHandle++
	}
	h := s.nextHandle
	s.nextHandle++
	return h
}

func sameClient(a, b Client) bool {
	if a.JobID != b.JobID {
		return false
	}
	return a.User == b.User && a.Host == b.Host && a.Display == b.Display && a.Project == b.Project
}

// clientMatches reports whether the client is on a host the pool is
// locked to. The server knows the client's host name, user, display and
// real address, not its hardware, so Ethernet and other hardware hostids
// do not match a remote client.
func clientMatches(ids licfile.HostIDList, c Client) bool {
	m := &licfile.Machine{Hostname: c.Host, User: c.User, Display: c.Display}
	if c.IP != "" {
		m.IPs = []string{c.IP}
	}
	return ids.Matches(m)
}

// reread swaps in new pools, moving seats to the pool with the same key.
func (s *State) reread(pools []*Pool) {
	byKey := map[string]*Pool{}
	for _, p := range pools {
		if !p.Uncounted {
			if _, dup := byKey[p.Key()]; !dup {
				byKey[p.Key()] = p
			}
		}
	}
	kept := map[*Pool]bool{}
	for _, st := range s.seats {
		if np := byKey[st.Pool.Key()]; np != nil && !st.Pool.Uncounted {
			st.Pool = np
			continue
		}
		if st.Pool.Uncounted {
			if np := findUncounted(pools, st.Pool); np != nil {
				st.Pool = np
				continue
			}
		}
		st.Pool.Removed = true
		kept[st.Pool] = true
	}
	s.pools = append([]*Pool(nil), pools...)
	s.pools = append(s.pools, orderedPools(kept)...)
	s.used = map[*Pool]int{}
	for _, st := range s.seats {
		s.used[st.Pool] += st.Count
	}
}

func findUncounted(pools []*Pool, old *Pool) *Pool {
	for _, p := range pools {
		if p.Uncounted && p.Key() == old.Key() {
			return p
		}
	}
	return nil
}

func orderedPools(m map[*Pool]bool) []*Pool {
	out := make([]*Pool, 0, len(m))
	for p := range m {
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key() < out[j].Key() })
	return out
}

// dropEmptyRemoved forgets removed pools whose last seat went back.
func (s *State) dropEmptyRemoved() {
	j := 0
	for _, p := range s.pools {
		if p.Removed && s.inUse(p) == 0 {
			delete(s.used, p)
			continue
		}
		s.pools[j] = p
		j++
	}
	clear(s.pools[j:])
	s.pools = s.pools[:j]
}

// PoolStatus is one pool and its seats as lmstat shows them.
type PoolStatus struct {
	Pool  Pool // a copy
	InUse int
	Seats []Seat // in handle order
}

// Status returns every pool with its seats, pools in file order.
func (s *State) Status() []PoolStatus {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]PoolStatus, len(s.pools))
	idx := make(map[*Pool]int, len(s.pools))
	for i, p := range s.pools {
		out[i].Pool = *p
		idx[p] = i
	}
	for _, st := range s.seats {
		i := idx[st.Pool]
		out[i].InUse += st.Count
		out[i].Seats = append(out[i].Seats, *st)
	}
	for i := range out {
		sort.Slice(out[i].Seats, func(a, b int) bool { return out[i].Seats[a].Handle < out[i].Seats[b].Handle })
	}
	return out
}

// Features is the number of pools that grant licenses.
func (s *State) Features() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, p := range s.pools {
		if !p.Removed {
			n++
		}
	}
	return n
}
