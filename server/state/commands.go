package state

import (
	"strings"
	"time"

	"golm/lmutil/protocol/lmerr"
)

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
