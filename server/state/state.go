package state

import (
	"cmp"
	"container/heap"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"golm/lmutil/licfile"
	"golm/lmutil/protocol/lmerr"
)

// MaxQueuedPerSession is how many queued requests one session (one
// client connection) may have waiting at once, over all features; a
// session may have one request queued per feature (manual B.2.2: a job
// queues once for a feature). A queue request beyond either bound is
// refused, so that one connection cannot make the queue grow without
// end.
const MaxQueuedPerSession = 64

// DefaultLingerCap is the longest linger an application may ask for
// (FlexLM's LM_A_LINGER): a longer one is cut to it, unless the options
// file's LINGER for the feature is longer, which then is the cap. Without
// a cap one client could hold every seat for days after it exits, and
// only a restart would free them.
const DefaultLingerCap = time.Hour

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
	// Ethers are the Ethernet hostids the client reported, for
	// node-locked lines.
	Ethers []string
	// JobID names the client's job across reconnects (0 if it has none).
	JobID uint64
	// Platform (x64_lsb) and Long (the 32-bit hostid) are what the
	// client reported, for PLATFORMS= and 32-bit hostid lines.
	Platform, Long string
}

// Seat is one granted checkout.
type Seat struct {
	Handle  uint32
	Pool    *Pool
	Session uint64 // the connection that holds it; 0 while lingering
	Client  Client
	// Version is the version the client asked for (lmstat shows it).
	Version string
	// VendorData is the vendor-defined checkout data (DUP_GROUP=V).
	VendorData string
	Count      int
	Start      time.Time
	// Dup is the duplicate-group key: seats of a pool with the same
	// non-empty key share their licenses.
	Dup string
	// Companion links a component seat and the suite seat it took.
	Companion uint32
	// AppLinger is the linger the application asked for (the
	// publisher's linger, FlexLM's LM_A_LINGER).
	AppLinger time.Duration
	// Linger is the linger time of a lingering seat, LingerUntil (on the
	// state's elapsed-time clock, not the wall clock) when it
	// goes back; both zero for a seat in use.
	Linger      time.Duration
	LingerUntil time.Time
	// LingerLeft is the linger still to run, set in Status snapshots.
	LingerLeft time.Duration
	// charge is, for a seat of a pool an lmreread removed, the new pool
	// it counts against (see assignCharges); nil otherwise.
	charge *Pool
	// slot is the seat's index in its pool's list (poolInfo.seats).
	slot int
	// took is, for a seat in no duplicate group, how many of its
	// licenses its pool's reservations gave it: [0] among the pool's
	// seats, [1] among those and the charged ones (of the pool it is
	// charged to, for a seat of a removed pool, which has no
	// reservations). Valid while the pool's resUse is.
	took [2]int
}

// Lingering reports whether the seat was checked in and lingers.
func (s *Seat) Lingering() bool { return !s.LingerUntil.IsZero() }

// Waiter is a queued checkout (manual B.2.2): it is granted, in arrival
// order, as soon as seats free up.
type Waiter struct {
	Handle     uint32
	Session    uint64
	Client     Client
	Feature    string
	Version    string
	VendorData string
	Count      int
	Linger     time.Duration
	Since      time.Time
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
// stable across a vendor daemon restart. With Queue a checkout that finds
// no free seat waits in the queue instead of failing with -4.
type Checkout struct {
	Session    uint64
	Client     Client
	Feature    string
	Version    string
	VendorData string
	Count      int
	Queue      bool
	// Linger is how long the seat stays held after it is checked in, as
	// the application asks (the options file's LINGER may say longer;
	// more than DefaultLingerCap is cut down, see lingerFor).
	Linger     time.Duration
	PrevHandle uint32
	Adopt      bool
	Now        time.Time
}

// Checkin returns one seat of Session, or takes a queued request of
// Session out of the queue.
type Checkin struct {
	Session uint64
	Handle  uint32
	Now     time.Time
}

// Heartbeat records that Session is alive at Now.
type Heartbeat struct {
	Session uint64
	Now     time.Time
}

// SetIdle records that Session's application declared itself idle (or
// busy again) at Now, for TIMEOUT.
type SetIdle struct {
	Session uint64
	Idle    bool
	Now     time.Time
}

// Disconnect frees every seat of Session at once (its connection closed)
// and drops its queued requests; seats with a linger time linger.
type Disconnect struct {
	Session uint64
	Now     time.Time
}

// Tick advances the clock to Now: lingering seats whose time is up go
// back, seats idle for longer than their TIMEOUT are reclaimed, and the
// queue is served.
type Tick struct{ Now time.Time }

// Remove is lmremove feature user host display: every seat of Feature
// held by that user, host and display.
type Remove struct {
	Feature, User, Host, Display string
	Now                          time.Time
}

// RemoveHandle is lmremove -h: the seat with Handle (of Feature, when
// Feature is not "") and its duplicates.
type RemoveHandle struct {
	Feature string
	Handle  uint32
	Now     time.Time
}

// Reread replaces the pools with new ones built from the rereadable
// license files. Seats move to the pool with the same key; seats of a
// pool that is gone stay out until checked in, and meanwhile count
// against a new pool of the feature that could have granted them (see
// assignCharges).
type Reread struct{ Pools []*Pool }

// SetPolicy replaces the options policy (an options file was read).
type SetPolicy struct{ Policy Policy }

// Revoke takes back a grant the client has not been told about: the
// seats (with their companions) and queued requests with these handles
// go at once, without lingering and without serving the queue. The
// vendor daemon revokes a checkout whose report log record could not be
// written, so that no seat is out that the report log does not show.
type Revoke struct{ Handles []uint32 }

func (Checkout) command()     {}
func (Checkin) command()      {}
func (Heartbeat) command()    {}
func (SetIdle) command()      {}
func (Disconnect) command()   {}
func (Tick) command()         {}
func (Remove) command()       {}
func (RemoveHandle) command() {}
func (Reread) command()       {}
func (SetPolicy) command()    {}
func (Revoke) command()       {}

// Result is what a command did.
type Result struct {
	// Err is the FlexLM error a checkout, checkin or remove was denied with.
	Err *lmerr.Error
	// Seat is the seat a checkout granted (a copy).
	Seat *Seat
	// Queued is the queued request a checkout with Queue became.
	Queued *Waiter
	// Freed are the seats a command gave back.
	Freed []Seat
	// Lingering are the seats a checkin, disconnect or remove left
	// lingering.
	Lingering []Seat
	// Inactive are the seats reclaimed by TIMEOUT.
	Inactive []Seat
	// Granted are queued requests the command granted.
	Granted []Seat
	// Dequeued are queued requests that left the queue without a seat:
	// checked in while queued, or their connection closed.
	Dequeued []Waiter
	// Adopted is true when a checkout re-adopted the job's previous seat;
	// Resumed when that seat was lingering (its IN is on record, so it is
	// in use again from now).
	Adopted, Resumed bool
	// Warnings are debug log lines the command asks for (reservations
	// dropped, USER_BASED lines without users).
	Warnings []string
}

type sessionInfo struct {
	seen      time.Time
	idle      bool
	idleSince time.Time
}

// State owns the pools and seats of one vendor daemon. It is safe for
// concurrent use; Apply serialises commands.
type State struct {
	mu       sync.Mutex
	pools    []*Pool
	seats    map[uint32]*Seat
	sessions map[uint64]*sessionInfo
	policy   Policy
	res      map[*Pool][]Reservation // effective reservations
	now      time.Time               // the latest time a command carried: dates and expiry never go back
	// elapsed is the clock lingers and idle times run on: it advances by
	// the time between commands and stands still, rather than jumping,
	// when the system clock is stepped back. last is the command time it
	// last advanced from.
	elapsed, last time.Time
	nextHandle    uint32
	invariant     func(error)

	// The indexes (index.go): seats by pool and by session, pools by
	// feature, the pools with a TIMEOUT, and the lingering seats by
	// the end of their linger.
	byPool       map[*Pool]*poolInfo
	bySession    map[uint64][]*Seat
	byFeature    map[string][]*Pool // in file order, removed pools too
	cands        map[string][]*Pool // what a checkout tries, in order
	timed        []*Pool
	lingers      lingerHeap
	emptyRemoved bool // a removed pool may have no seat left
	// nextDate is when a license line next starts or expires (zero: no
	// line will); the pools' counts are recomputed when the clock gets
	// there. pending are warnings of such a recomputation, for the next
	// Tick's result.
	nextDate time.Time
	pending  []string

	// The queue (index.go): per feature in arrival order, by handle, and
	// by session.
	queues          map[string]*featureQueue
	waiting         map[uint32]*queuedItem
	queuedBySession map[uint64][]*queuedItem
	queueSeq        uint64
}

// firstHandle is the first handle of a vendor daemon run; handles grow
// from there and are never reused within the run, except that a client
// reconnecting after a restart gets its old handle back when it is free.
const firstHandle = 101

// NewState returns a state serving pools with no options policy.
func NewState(pools []*Pool) *State {
	s := &State{
		pools:           pools,
		seats:           map[uint32]*Seat{},
		sessions:        map[uint64]*sessionInfo{},
		byPool:          map[*Pool]*poolInfo{},
		bySession:       map[uint64][]*Seat{},
		policy:          NoPolicy{},
		queues:          map[string]*featureQueue{},
		waiting:         map[uint32]*queuedItem{},
		nextHandle:      firstHandle,
		queuedBySession: map[uint64][]*queuedItem{},
	}
	s.refresh()
	return s
}

// CheckInvariants makes the state check, after every command, that no
// pool has more seats out than the count plus the allowed overdraft of
// its lines valid now (reserved seats, and seats of removed pools that
// count against it, included) unless an lmreread, an options change or
// a line's expiry lowered it, and report a violation to fail. Tests turn
// it on.
func (s *State) CheckInvariants(fail func(error)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.invariant = fail
}

// Apply applies one command and returns its result.
func (s *State) Apply(cmd Command) Result {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.invariant == nil {
		return s.applyPending(cmd)
	}
	before, beforeOthers := s.totals(), s.othersLoad()
	r := s.applyPending(cmd)
	switch cmd.(type) {
	case Reread, SetPolicy:
	default:
		for p, n := range s.totals() {
			if lim := s.limit(p); n > lim && n > before[p] {
				s.invariant(fmt.Errorf("after %T: pool %s has %d seats out, limit %d", cmd, p.Key(), n, lim))
			}
		}
		for p, n := range s.othersLoad() {
			if lim := s.limit(p); n > lim && n > beforeOthers[p] {
				s.invariant(fmt.Errorf("after %T: pool %s gives reserved seats to others: %d reserved plus seats of others, limit %d", cmd, p.Key(), n, lim))
			}
		}
	}
	if err := s.checkLocked(); err != nil {
		s.invariant(fmt.Errorf("after %T: %v", cmd, err))
	}
	if err := s.checkIndexes(); err != nil {
		s.invariant(fmt.Errorf("after %T: %v", cmd, err))
	}
	if err := s.checkQueue(); err != nil {
		s.invariant(fmt.Errorf("after %T: %v", cmd, err))
	}
	return r
}

// clockStep is how far back a command's time must be before the state
// takes it for a system clock stepped backwards, rather than two commands
// whose times were read in one order and applied in the other.
const clockStep = time.Second

func (s *State) tick(t time.Time) {
	// Dates compare on the wall clock (Round(0) drops the monotonic
	// reading time.Now carries); elapsed time uses the monotonic reading
	// where there is one, so a stepped wall clock cannot move it at all.
	if w := t.Round(0); w.After(s.now) {
		was := s.now
		s.now = w
		if !s.nextDate.IsZero() && !s.now.Before(s.nextDate) {
			// A line started or expired: counts, limits and
			// reservations change from now on.
			s.pending = append(s.pending, s.expiredSince(was)...)
			s.pending = append(s.pending, s.refresh()...)
		}
	}
	switch {
	case s.last.IsZero():
		s.elapsed, s.last = t, t
	case t.After(s.last):
		s.elapsed = s.elapsed.Add(t.Sub(s.last))
		s.last = t
	case s.last.Sub(t) > clockStep:
		// Stepped back: elapsed time goes on from here.
		s.last = t
	}
}

// expiredSince are the "EXPIRED: feature" debug log lines of the
// features with a line that expired after was and by now, as the vendor
// daemon logs expired lines when it reads the license files.
func (s *State) expiredSince(was time.Time) []string {
	var out []string
	seen := map[string]bool{}
	if was.IsZero() {
		return nil // the first command: the vendor daemon logged them
	}
	for _, p := range s.pools {
		if p.Removed {
			continue
		}
		for _, pp := range p.parts() {
			name := p.Feature
			if pp.Line != nil {
				name = pp.Line.Name // a component's line is the package's
			}
			if !seen[name] && !Expired(pp.Expiry, was) && Expired(pp.Expiry, s.now) {
				seen[name] = true
				out = append(out, "EXPIRED: "+name)
			}
		}
	}
	return out
}

// applyPending is apply with, for a Tick, the warnings of the
// recomputations of the pools' counts (a license line started or
// expired) since the last Tick added: the vendor daemon logs every
// Tick's result, not every command's.
func (s *State) applyPending(cmd Command) Result {
	r := s.apply(cmd)
	if _, tick := cmd.(Tick); tick && len(s.pending) > 0 {
		r.Warnings = append(s.pending, r.Warnings...)
		s.pending = nil
	}
	return r
}

func (s *State) apply(cmd Command) Result {
	switch c := cmd.(type) {
	case Checkout:
		s.tick(c.Now)
		var r Result
		r.Freed = s.endLingers()
		s.checkout(c, &r)
		return r
	case Checkin:
		s.tick(c.Now)
		if it := s.waiting[c.Handle]; it != nil && it.w.Session == c.Session {
			var r Result
			r.Dequeued = append(r.Dequeued, *s.dequeueWaiter(c.Handle))
			s.serveQueue(&r)
			return r
		}
		seat := s.seats[c.Handle]
		if seat == nil || seat.Session != c.Session || c.Session == 0 {
			return Result{Err: lmerr.New(lmerr.NeverCheckedOut, lmerr.MinorNoHandle)}
		}
		var r Result
		s.release([]*Seat{seat}, &r, false)
		s.serveQueue(&r)
		return r
	case Heartbeat:
		s.tick(c.Now)
		s.session(c.Session).seen = s.elapsed
		return Result{}
	case SetIdle:
		s.tick(c.Now)
		si := s.session(c.Session)
		si.seen = s.elapsed
		if c.Idle && !si.idle {
			si.idleSince = s.elapsed
		}
		si.idle = c.Idle
		return Result{}
	case Disconnect:
		s.tick(c.Now)
		var r Result
		s.dropSession(c.Session, &r)
		s.serveQueue(&r)
		return r
	case Tick:
		s.tick(c.Now)
		var r Result
		r.Freed = s.endLingers()
		s.reclaimIdle(&r)
		s.serveQueue(&r)
		return r
	case Remove:
		s.tick(c.Now)
		var match []*Seat
		for _, p := range s.byFeature[c.Feature] {
			for _, st := range s.poolSeats(p) {
				if st.Client.User == c.User && strings.EqualFold(st.Client.Host, c.Host) && st.Client.Display == c.Display {
					match = append(match, st)
				}
			}
		}
		sortByHandle(match)
		return s.remove(match)
	case RemoveHandle:
		s.tick(c.Now)
		seat := s.seats[c.Handle]
		if seat == nil || (c.Feature != "" && seat.Pool.Feature != c.Feature) {
			return Result{Err: lmerr.New(lmerr.NeverCheckedOut, lmerr.MinorRemoveNoHandle)}
		}
		match := []*Seat{seat}
		if seat.Dup != "" {
			// lmremove -h of one duplicate removes the whole group.
			for _, st := range s.poolSeats(seat.Pool) {
				if st != seat && st.Dup == seat.Dup {
					match = append(match, st)
				}
			}
		}
		return s.remove(match)
	case Reread:
		s.reread(c.Pools)
		var r Result
		r.Warnings = s.refresh()
		s.serveQueue(&r)
		return r
	case Revoke:
		s.revoke(c.Handles)
		return Result{}
	case SetPolicy:
		s.policy = c.Policy
		if s.policy == nil {
			s.policy = NoPolicy{}
		}
		var r Result
		r.Warnings = s.refresh()
		s.serveQueue(&r)
		return r
	}
	return Result{Err: lmerr.New(lmerr.NotSupported, lmerr.MinorNotSupported)}
}

func (s *State) session(id uint64) *sessionInfo {
	si := s.sessions[id]
	if si == nil {
		si = &sessionInfo{seen: s.elapsed}
		s.sessions[id] = si
	}
	return si
}

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
		slices.SortFunc(out, func(a, b Seat) int { return cmpHandle(a.Handle, b.Handle) })
		s.dropEmptyRemoved()
	}
	return out
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

func sortByHandle(seats []*Seat) {
	slices.SortFunc(seats, func(a, b *Seat) int { return cmpHandle(a.Handle, b.Handle) })
}

// request is a checkout being decided.
type request struct {
	session    uint64
	client     Client
	feature    string
	version    licfile.Version
	verText    string
	vendorData string
	count      int
	linger     time.Duration
}

func (s *State) checkout(c Checkout, r *Result) {
	if c.Count <= 0 {
		c.Count = 1
	}
	want, ok := parseVersion(c.Version)
	if !ok {
		r.Err = lmerr.New(lmerr.BadVersion, lmerr.MinorBadVersion)
		return
	}
	if c.Session != 0 {
		s.session(c.Session).seen = s.elapsed
	}
	// A client that reconnected keeps the seat it already holds, also
	// one that started lingering when the old connection closed.
	if old := s.seats[c.PrevHandle]; c.Adopt && c.PrevHandle != 0 && old != nil {
		if old.Pool.Feature == c.Feature && sameClient(old.Client, c.Client) && old.Count == c.Count {
			r.Resumed = old.Lingering()
			for _, x := range [2]*Seat{old, s.seats[old.Companion]} {
				if x != nil {
					s.setSession(x, c.Session)
					x.Client = c.Client
					s.changed(x)
					x.Linger, x.LingerUntil = 0, time.Time{}
				}
			}
			cp := *old
			r.Seat, r.Adopted = &cp, true
			return
		}
	}
	req := request{session: c.Session, client: c.Client, feature: c.Feature, version: want, verText: c.Version, vendorData: c.VendorData, count: c.Count, linger: c.Linger}
	queued := s.queues[c.Feature] != nil
	seat, err := s.grant(req, func() uint32 { return s.handleFor(c.PrevHandle) }, queued)
	switch {
	case err == nil:
		r.Seat = seat
	case queued && (err.Code == lmerr.MaxUsers || err.Code == lmerr.Reserved || err.Code == lmerr.UsersQueued):
		if !c.Queue {
			r.Err = lmerr.New(lmerr.UsersQueued, lmerr.MinorQueued)
			return
		}
		r.Queued, r.Err = s.enqueue(c, lmerr.New(lmerr.UsersQueued, lmerr.MinorQueuedWait))
	case c.Queue && (err.Code == lmerr.MaxUsers || err.Code == lmerr.Reserved):
		r.Queued, r.Err = s.enqueue(c, err)
	default:
		r.Err = err
	}
}

// enqueue queues c, which was denied with denial, unless its session
// already has a request queued for the feature (-24) or has
// MaxQueuedPerSession requests queued (denial, as if it had not asked to
// queue).
func (s *State) enqueue(c Checkout, denial *lmerr.Error) (*Waiter, *lmerr.Error) {
	if s.queuedFor(c.Session, c.Feature) {
		return nil, lmerr.New(lmerr.UsersQueued, lmerr.MinorInQueue)
	}
	if len(s.queuedBySession[c.Session]) >= MaxQueuedPerSession {
		return nil, lmerr.New(denial.Code, lmerr.MinorQueueFull)
	}
	w := &Waiter{Handle: s.handleFor(0), Session: c.Session, Client: c.Client, Feature: c.Feature,
		Version: c.Version, VendorData: c.VendorData, Count: c.Count, Linger: c.Linger, Since: s.now}
	s.enqueueWaiter(w)
	cp := *w
	return &cp, nil
}

// serveQueue grants queued requests in arrival order; a request that
// still finds no seat holds back the later requests for its feature. It
// tries the front of each feature's list, earliest arrival first, so it
// costs what the features with requests waiting cost, not what the
// requests cost.
func (s *State) serveQueue(r *Result) {
	if len(s.queues) == 0 {
		return
	}
	heads := make(queueHeads, 0, len(s.queues))
	for _, q := range s.queues {
		heads = append(heads, q)
	}
	heap.Init(&heads)
	for len(heads) > 0 {
		q := heads[0]
		w := q.front().w
		want, _ := parseVersion(w.Version)
		seat, err := s.grant(request{session: w.Session, client: w.Client, feature: w.Feature, version: want,
			verText: w.Version, vendorData: w.VendorData, count: w.Count, linger: w.Linger}, func() uint32 {
			s.dequeueWaiter(w.Handle) // the seat takes the request's handle
			return w.Handle
		}, false)
		if err != nil || q.live == 0 {
			heap.Pop(&heads) // blocked, or done
		} else {
			heap.Fix(&heads, 0)
		}
		if err == nil {
			r.Granted = append(r.Granted, *seat)
		}
	}
}

// candidates are the pools that may serve feature, in the order of manual
// 3.6 for v7+: node-locked uncounted lines first, then node-locked
// counted, then floating ones, each in file order, so that a floating
// seat is not used where a node-locked line would do.
func (s *State) candidates(feature string) []*Pool { return s.cands[feature] }

// candidateOrder is candidates computed from the feature's pools in file
// order.
func candidateOrder(pools []*Pool) []*Pool {
	var out []*Pool
	for _, p := range pools {
		if !p.Removed {
			out = append(out, p)
		}
	}
	class := func(p *Pool) int {
		switch {
		case p.NodeLocked() && p.Uncounted:
			return 0
		case p.NodeLocked():
			return 1
		case p.Uncounted:
			return 2
		}
		return 3
	}
	sort.SliceStable(out, func(i, j int) bool { return class(out[i]) < class(out[j]) })
	return out
}

// grant finds a pool for req and takes a seat under the handle pick
// gives. With
// noNewSeats (others are queued) only a duplicate of a seat already out
// may be granted. The error is the most telling denial of the pools that
// matched furthest.
func (s *State) grant(req request, pick func() uint32, noNewSeats bool) (*Seat, *lmerr.Error) {
	pools := s.candidates(req.feature)
	if len(pools) == 0 {
		return nil, lmerr.New(lmerr.NoFeature, lmerr.MinorNoFeature)
	}
	var denial *lmerr.Error
	rank := 0
	deny := func(r int, e *lmerr.Error) {
		if r > rank {
			rank, denial = r, e
		}
	}
	type fit struct {
		p   *Pool
		dup string
	}
	var fits []fit
	for _, p := range pools {
		if p.SuiteOnly {
			deny(1, lmerr.New(lmerr.PackageOnly, lmerr.MinorPackageOnly))
			continue
		}
		if e, r := s.usable(p, req); e != nil {
			deny(r, e)
			continue
		}
		fits = append(fits, fit{p, dupKey(p.Dup, req.client, req.vendorData)})
	}
	// A duplicate of a seat already out shares it: try those pools first.
	for pass := 0; pass < 2; pass++ {
		for _, f := range fits {
			joins := f.dup != "" && s.hasGroup(f.p, f.dup)
			if (pass == 0) != joins {
				continue
			}
			if noNewSeats && s.extra(f.p, f.dup, req.count) > 0 {
				deny(9, lmerr.New(lmerr.UsersQueued, lmerr.MinorQueuedAhead))
				continue
			}
			if e, r := s.room(f.p, req, f.dup); e != nil {
				deny(r, e)
				continue
			}
			var suite *Pool
			suiteDup := ""
			if f.p.Suite != nil {
				suite = f.p.Suite
				suiteDup = dupKey(suite.Dup, req.client, req.vendorData)
				if e, r := s.usable(suite, req); e != nil {
					deny(r, e)
					continue
				}
				if e, r := s.room(suite, req, suiteDup); e != nil {
					deny(r, e)
					continue
				}
			}
			handle := pick()
			seat := &Seat{Handle: handle, Pool: f.p, Session: req.session, Client: req.client, Version: req.verText,
				VendorData: req.vendorData, Count: req.count, Start: s.now, Dup: f.dup, AppLinger: req.linger}
			s.addSeat(seat)
			if suite != nil {
				sh := s.handleFor(0)
				s.addSeat(&Seat{Handle: sh, Pool: suite, Session: req.session, Client: req.client, Version: req.verText,
					VendorData: req.vendorData, Count: req.count, Start: s.now, Dup: suiteDup, Companion: handle, AppLinger: req.linger})
				seat.Companion = sh
			}
			cp := *seat
			return &cp, nil
		}
	}
	return nil, denial
}

// usable checks everything about pool p and req except free seats.
func (s *State) usable(p *Pool, req request) (*lmerr.Error, int) {
	switch {
	case compareVersion(p.Version, req.version) < 0:
		return lmerr.New(lmerr.ServerLowVersion, lmerr.MinorServerLowVersion), 1
	case !p.validAt(s.now) && p.allExpired(s.now):
		return lmerr.New(lmerr.Expired, lmerr.MinorExpired), 2
	case !p.validAt(s.now):
		return lmerr.New(lmerr.NotStarted, lmerr.MinorNotStarted), 2
	case len(p.HostID) > 0 && !clientMatches(p.HostID, req.client):
		return lmerr.New(lmerr.NotThisHost, lmerr.MinorNotThisHost), 3
	case !platformAllowed(p, req.client.Platform):
		return lmerr.New(lmerr.PlatformNotAuthorized, lmerr.MinorPlatform), 3
	case !p.Uncounted && req.count > s.limit(p):
		return lmerr.New(lmerr.TooManyRequested, lmerr.MinorTooMany), 4
	}
	if e := s.policy.Allow(p, req.client); e != nil {
		return e, 5
	}
	for _, b := range []struct {
		limit int
		kind  string
		who   string
	}{{p.UserBased, "USER", req.client.User}, {p.HostBased, "HOST", req.client.Host}} {
		if b.limit < 0 {
			continue
		}
		inc := s.policy.Included(p, b.kind)
		if len(inc) == 0 {
			return lmerr.New(lmerr.NoUsers, lmerr.MinorNoUsers), 5
		}
		inc = inc[:min(len(inc), b.limit)]
		if !slices.ContainsFunc(inc, func(n string) bool { return strings.EqualFold(n, b.who) }) {
			return lmerr.New(lmerr.NotIncluded, lmerr.MinorNotIncluded), 5
		}
	}
	return nil, 0
}

// room checks that pool p has seats for req (in duplicate group dup):
// within MAX, within count plus overdraft, and not taking a seat
// reserved for somebody else.
func (s *State) room(p *Pool, req request, dup string) (*lmerr.Error, int) {
	if p.Uncounted {
		return nil, 0
	}
	extra := s.extra(p, dup, req.count)
	if extra == 0 {
		return nil, 0
	}
	for _, l := range s.policy.Limits(p) {
		if l.Applies == nil || l.Counts == nil || !l.Applies(req.client) {
			continue
		}
		used := 0
		for _, g := range s.groupsOfFeature(p.Feature) {
			if l.Counts(g.first.Client, req.client) {
				used += g.count
			}
		}
		if used+extra > l.Max {
			return lmerr.New(lmerr.MaxExceeded, lmerr.MinorMaxOption), 6
		}
	}
	tentative := &Seat{Handle: 0, Pool: p, Client: req.client, Count: req.count, Dup: dup}
	total, raw := s.load(p, tentative)
	if total <= s.limit(p) {
		return nil, 0
	}
	if raw <= s.limit(p) {
		return lmerr.New(lmerr.Reserved, lmerr.MinorReserved), 7
	}
	return lmerr.New(lmerr.MaxUsers, lmerr.MinorMaxUsers), 7
}

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

// handleFor picks the handle of a new seat: the client's previous one
// when it is free (a restarted vendor daemon keeps lmstat's handles
// stable), else the next unused one.
func (s *State) handleFor(prev uint32) uint32 {
	if prev != 0 && s.seats[prev] == nil && s.waiting[prev] == nil {
		if prev >= s.nextHandle {
			s.nextHandle = prev + 1
		}
		return prev
	}
	for s.seats[s.nextHandle] != nil || s.nextHandle == 0 || s.waiting[s.nextHandle] != nil {
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
// locked to: by its host name, user, display, real address, or an
// Ethernet address it reported.
func clientMatches(ids licfile.HostIDList, c Client) bool {
	m := &licfile.Machine{Hostname: c.Host, User: c.User, Display: c.Display, Ethers: c.Ethers, Long: c.Long}
	if c.IP != "" {
		m.IPs = []string{c.IP}
	}
	return ids.Matches(m)
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
