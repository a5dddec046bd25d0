package state

import (
	"slices"
	"strings"
	"time"

	"golm/lmutil/licfile"
	"golm/lmutil/protocol/lmerr"
)

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

// candidates are the pools that may serve feature, in the order of manual
// 3.6 for v7+: node-locked uncounted lines first, then node-locked
// counted, then floating ones, each in file order, so that a floating
// seat is not used where a node-locked line would do.
func (s *State) candidates(feature string) []*Pool { return s.cands[feature] }

// candidateOrder is candidates computed from the feature's pools in file
// order.
func candidateOrder(pools []*Pool) []*Pool {
	out := make([]*Pool, 0, len(pools))
	for _, p := range pools {
		if !p.Removed {
			out = append(out, p)
		}
	}
	if len(out) < 2 {
		return out // most features have one line: nothing to order
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
	slices.SortStableFunc(out, func(a, b *Pool) int { return class(a) - class(b) })
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
	total, raw := s.loadPlus(p, dup, req.count, req.client)
	if total <= s.limit(p) {
		return nil, 0
	}
	if raw <= s.limit(p) {
		return lmerr.New(lmerr.Reserved, lmerr.MinorReserved), 7
	}
	return lmerr.New(lmerr.MaxUsers, lmerr.MinorMaxUsers), 7
}
