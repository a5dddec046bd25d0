package state

import (
	"time"

	"golm/lmutil/protocol/lmerr"
)

// Policy is the options file as the state machine consults it (manual
// chapter 6). Every method is a pure function of its arguments, so that
// the same commands under the same policy always give the same state.
type Policy interface {
	// Allow returns nil when c may use pool p, or the denial: -38 when c
	// is on an EXCLUDE list, -39 when an INCLUDE list leaves c out.
	Allow(p *Pool, c Client) *lmerr.Error
	// Reservations are the RESERVE lines that apply to p, in options
	// file order.
	Reservations(p *Pool) []Reservation
	// Limits are the MAX lines that apply to p.
	Limits(p *Pool) []Limit
	// MaxOverdraft is MAX_OVERDRAFT for p; ok is false when none applies.
	MaxOverdraft(p *Pool) (n int, ok bool)
	// Linger is the options LINGER for p (0 for none).
	Linger(p *Pool) time.Duration
	// Timeout is TIMEOUT (or TIMEOUTALL) for p (0 for none).
	Timeout(p *Pool) time.Duration
	// Included lists the members INCLUDEd for p by type "USER" or
	// "HOST", in options file order, for USER_BASED and HOST_BASED lines.
	Included(p *Pool, kind string) []string
}

// Reservation is one RESERVE line as it applies to a pool: Count seats
// dedicated to the clients Match selects.
type Reservation struct {
	// Pos is where the RESERVE line is ("xyzd.opt:3"), for warnings.
	Pos   string
	Count int
	Kind  string // USER, HOST, DISPLAY, INTERNET, PROJECT, GROUP, HOST_GROUP
	Name  string
	Match func(Client) bool
}

// Limit is one MAX line: a requester it Applies to may not take a seat
// when the seats of the feature held by the holders it Counts for that
// requester already reach Max.
type Limit struct {
	Max     int
	Applies func(requester Client) bool
	Counts  func(holder, requester Client) bool
}

// NoPolicy is the policy of a vendor daemon without an options file:
// everybody may use everything.
type NoPolicy struct{}

// Allow implements Policy.
func (NoPolicy) Allow(*Pool, Client) *lmerr.Error { return nil }

// Reservations implements Policy.
func (NoPolicy) Reservations(*Pool) []Reservation { return nil }

// Limits implements Policy.
func (NoPolicy) Limits(*Pool) []Limit { return nil }

// MaxOverdraft implements Policy.
func (NoPolicy) MaxOverdraft(*Pool) (int, bool) { return 0, false }

// Linger implements Policy.
func (NoPolicy) Linger(*Pool) time.Duration { return 0 }

// Timeout implements Policy.
func (NoPolicy) Timeout(*Pool) time.Duration { return 0 }

// Included implements Policy.
func (NoPolicy) Included(*Pool, string) []string { return nil }
