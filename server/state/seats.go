package state

import (
	"cmp"
	"slices"
	"time"

	"golm/lmutil/licfile"
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

// firstHandle is the first handle of a vendor daemon run; handles grow
// from there and are never reused within the run, except that a client
// reconnecting after a restart gets its old handle back when it is free.
const firstHandle = 101

func sortByHandle(seats []*Seat) {
	slices.SortFunc(seats, func(a, b *Seat) int { return cmp.Compare(a.Handle, b.Handle) })
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
