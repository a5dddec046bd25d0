package state

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"golm/lmutil/licfile"
	"golm/lmutil/protocol/lmerr"
)

// checkedState is a state of lines with its invariants (the tallies
// recomputed from the seats included) checked after every command.
func checkedState(t *testing.T, lines ...*licfile.Feature) *State {
	t.Helper()
	s := NewState(BuildPools("demo", lines))
	s.CheckInvariants(func(err error) { t.Error(err) })
	return s
}

func inUse(t *testing.T, s *State, feature string) int {
	t.Helper()
	ps := s.FeatureStatusAt(testNow, feature)
	if len(ps) == 0 {
		t.Fatalf("no pool of %s", feature)
	}
	return ps[0].InUse
}

// TestDuplicateGroupTally checks the per-pool tally of a duplicate
// group: the group uses its largest count, and when the seat with it
// goes the next largest holds, so that a checkout then takes only what
// the group lacks.
func TestDuplicateGroupTally(t *testing.T) {
	tests := []struct {
		name     string
		counts   []int // the group's seats, in checkout order
		checkin  []int // indexes of the seats then checked in
		next     int   // a further checkout's count, in the group
		wantUse  int   // licenses in use before it
		wantNext int   // and after it
		wantCode lmerr.Code
	}{
		{"one count", []int{2, 2, 2}, nil, 2, 2, 2, 0},
		{"largest goes", []int{3, 1}, []int{0}, 2, 1, 2, 0},
		{"largest goes, two of it", []int{3, 3, 1}, []int{0}, 1, 3, 3, 0},
		{"both largest go", []int{3, 3, 1}, []int{0, 1}, 2, 1, 2, 0},
		{"smaller goes", []int{3, 1}, []int{1}, 3, 3, 3, 0},
		{"all go", []int{3, 1}, []int{0, 1}, 4, 0, 4, 0},
		{"grows to the count", []int{4}, nil, 5, 4, 5, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := line(t, licfile.KindFeature, "f1", "1.0", "permanent", 5)
			f.DupGroup = "UH"
			s := checkedState(t, f)
			var handles []uint32
			for i, n := range tt.counts {
				r := s.Apply(Checkout{Session: uint64(i + 1), Client: client("u", "h"), Feature: "f1", Count: n, Now: testNow})
				if r.Err != nil {
					t.Fatalf("checkout %d: %v", n, r.Err)
				}
				handles = append(handles, r.Seat.Handle)
			}
			for _, i := range tt.checkin {
				if r := s.Apply(Checkin{Session: uint64(i + 1), Handle: handles[i], Now: testNow}); r.Err != nil {
					t.Fatalf("checkin: %v", r.Err)
				}
			}
			if got := inUse(t, s, "f1"); got != tt.wantUse {
				t.Errorf("in use: got %d, want %d", got, tt.wantUse)
			}
			r := s.Apply(Checkout{Session: 99, Client: client("u", "h"), Feature: "f1", Count: tt.next, Now: testNow})
			if got := errCode(r.Err); got != tt.wantCode {
				t.Errorf("checkout of %d: code %d, want %d", tt.next, got, tt.wantCode)
			}
			if got := inUse(t, s, "f1"); got != tt.wantNext {
				t.Errorf("in use after: got %d, want %d", got, tt.wantNext)
			}
		})
	}
}

func errCode(e *lmerr.Error) lmerr.Code {
	if e == nil {
		return 0
	}
	return e.Code
}

// TestPoolSeatsBlanked checks the pool's seat list across checkins in
// the middle, at the end, and a reconnecting job's old (lower) handle:
// lmstat lists the seats in handle order, and the seats that went are
// gone from it.
func TestPoolSeatsBlanked(t *testing.T) {
	s := checkedState(t, line(t, licfile.KindFeature, "f1", "1.0", "permanent", 500))
	var handles []uint32
	for i := range 200 {
		r := s.Apply(Checkout{Session: uint64(i + 1), Client: client(fmt.Sprintf("u%d", i), "h"), Feature: "f1", Count: 1, Now: testNow})
		if r.Err != nil {
			t.Fatal(r.Err)
		}
		handles = append(handles, r.Seat.Handle)
	}
	held := map[uint32]bool{}
	for i, h := range handles {
		if i%5 != 0 && i < 190 { // most of the middle, not the end
			s.Apply(Checkin{Session: uint64(i + 1), Handle: h, Now: testNow})
		} else {
			held[h] = true
		}
	}
	s.Apply(Checkin{Session: 200, Handle: handles[199], Now: testNow}) // the last
	delete(held, handles[199])
	// A job back after a restart asks for a handle below the others.
	r := s.Apply(Checkout{Session: 1000, Client: client("back", "h"), Feature: "f1", Count: 1, PrevHandle: handles[1], Now: testNow})
	if r.Err != nil || r.Seat.Handle != handles[1] {
		t.Fatalf("reconnecting checkout: %v, handle %v, want %d", r.Err, r.Seat, handles[1])
	}
	held[handles[1]] = true
	ps := s.FeatureStatusAt(testNow, "f1")
	var got []uint32
	for _, st := range ps[0].Seats {
		got = append(got, st.Handle)
	}
	if len(got) != len(held) || ps[0].InUse != len(held) {
		t.Fatalf("status lists %d seats, in use %d; want %d", len(got), ps[0].InUse, len(held))
	}
	for i, h := range got {
		if !held[h] || (i > 0 && got[i-1] >= h) {
			t.Fatalf("status seats %v: not the held seats in handle order", got)
		}
	}
}

// TestRereadMovesSeatsByKey checks reread's index of the new pools by
// key: a counted seat moves to the counted pool of its key, an
// uncounted one to the uncounted pool of its key, and neither to a pool
// of the other kind with the same key.
func TestRereadMovesSeatsByKey(t *testing.T) {
	counted := line(t, licfile.KindFeature, "c", "1.0", "permanent", 2)
	uncounted := line(t, licfile.KindFeature, "u", "1.0", "permanent", 0)
	s := checkedState(t, counted, uncounted)
	for i, f := range []string{"c", "u"} {
		if r := s.Apply(Checkout{Session: uint64(i + 1), Client: client("a", "h"), Feature: f, Count: 1, Now: testNow}); r.Err != nil {
			t.Fatal(r.Err)
		}
	}
	tests := []struct {
		name        string
		lines       []*licfile.Feature
		wantRemoved []string // features whose seat stays on a removed pool
	}{
		{"same lines", []*licfile.Feature{counted, uncounted}, nil},
		{"kinds swap", []*licfile.Feature{
			line(t, licfile.KindFeature, "c", "1.0", "permanent", 0),
			line(t, licfile.KindFeature, "u", "1.0", "permanent", 3)}, []string{"c", "u"}},
		{"back again", []*licfile.Feature{counted, uncounted}, nil},
		{"other version", []*licfile.Feature{
			line(t, licfile.KindFeature, "c", "2.0", "permanent", 2),
			line(t, licfile.KindFeature, "u", "2.0", "permanent", 0)}, []string{"c", "u"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s.Apply(Reread{Pools: BuildPools("demo", tt.lines)})
			var removed []string
			for _, ps := range s.Status() {
				if ps.Pool.Removed && len(ps.Seats) > 0 {
					removed = append(removed, ps.Pool.Feature)
				}
			}
			slices.Sort(removed)
			if !slices.Equal(removed, tt.wantRemoved) {
				t.Errorf("seats left on removed pools of %v, want %v", removed, tt.wantRemoved)
			}
		})
	}
}

// reach counts what the state can reach: pools (listed, indexed, held
// by a seat, charged or lingering, and their suites) and license lines.
type reach struct{ pools, indexed, lines int }

func (s *State) reach() reach {
	s.mu.Lock()
	defer s.mu.Unlock()
	pools := map[*Pool]bool{}
	for _, p := range s.pools {
		pools[p] = true
	}
	for _, st := range s.seats {
		pools[st.Pool] = true
		if st.charge != nil {
			pools[st.charge] = true
		}
	}
	for _, it := range s.lingers {
		pools[it.st.Pool] = true
	}
	for p := range pools {
		if p.Suite != nil {
			pools[p.Suite] = true
		}
	}
	lines := map[*licfile.Feature]bool{}
	for p := range pools {
		for _, l := range p.Lines {
			lines[l] = true
		}
	}
	return reach{pools: len(pools), indexed: len(s.byPool), lines: len(lines)}
}

// TestRereadRetainsNothing checks that rereads do not make the state
// hold more: after ten rereads, with seats out and lingering, it reaches
// as many pools and lines as after the first.
func TestRereadRetainsNothing(t *testing.T) {
	tests := []struct {
		name string
		// lines are the license lines of reread i.
		lines func(all []*licfile.Feature, i int) []*licfile.Feature
	}{
		{"same lines", func(all []*licfile.Feature, _ int) []*licfile.Feature { return all }},
		{"a feature comes and goes", func(all []*licfile.Feature, i int) []*licfile.Feature {
			if i%2 == 0 {
				return all
			}
			return slices.DeleteFunc(slices.Clone(all), func(l *licfile.Feature) bool { return l.Name == "f000001" })
		}},
		{"counts change", func(all []*licfile.Feature, i int) []*licfile.Feature {
			out := make([]*licfile.Feature, len(all))
			for j, l := range all {
				c := *l
				if c.Count == 5 {
					c.Count += i
				}
				out[j] = &c
			}
			return out
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			all := scaleLines(t, 400)
			s := checkedState(t, all...)
			// Seats out: a plain one, one lingering, one of the feature
			// that may go away.
			for i, f := range []string{"f000000", "f000003", "f000001"} {
				r := s.Apply(Checkout{Session: uint64(i + 1), Client: client("u", "h"), Feature: f, Version: "1.0", Count: 1, Linger: time.Hour, Now: testNow})
				if r.Err != nil {
					t.Fatalf("checkout of %s: %v", f, r.Err)
				}
				if f == "f000003" {
					if r := s.Apply(Checkin{Session: uint64(i + 1), Handle: r.Seat.Handle, Now: testNow}); len(r.Lingering) != 1 {
						t.Fatalf("checkin of %s: %+v, want it lingering", f, r)
					}
				}
			}
			reread := func(i int) {
				s.Apply(Reread{Pools: BuildPools("demo", tt.lines(all, i))})
			}
			reread(0)
			first := s.reach()
			for i := 1; i <= 10; i++ {
				reread(i)
			}
			if got := s.reach(); got.pools > first.pools+1 || got.indexed > first.indexed+1 || got.lines > first.lines+1 {
				t.Errorf("after 10 rereads the state reaches %+v, after 1 %+v", got, first)
			}
		})
	}
}

// TestLoadPlus: the tallies' answer for a checkout without reservations
// is what load gives for the same tentative seat, for a new seat, one in
// a group already out (smaller, as large, larger) and a new group; and
// with reservations loadPlus still counts them.
func TestLoadPlus(t *testing.T) {
	for _, dupGroup := range []string{"", "UH"} {
		f := line(t, licfile.KindFeature, "f1", "1.0", "permanent", 10)
		f.DupGroup = dupGroup
		s := checkedState(t, f)
		for i, n := range []int{2, 3} {
			if r := s.Apply(Checkout{Session: uint64(i + 1), Client: client("u", "h"), Feature: "f1", Count: n, Now: testNow}); r.Err != nil {
				t.Fatalf("checkout %d: %v", n, r.Err)
			}
		}
		p := s.candidates("f1")[0]
		same := dupKey(p.Dup, client("u", "h"), "")
		other := dupKey(p.Dup, client("v", "k"), "")
		for _, dup := range []string{same, other} {
			for _, count := range []int{1, 3, 5} {
				total, raw := s.loadPlus(p, dup, count, client("u", "h"))
				wantTotal, wantRaw := s.load(p, &Seat{Pool: p, Client: client("u", "h"), Count: count, Dup: dup})
				// Worked out by hand: the seats out are 2 and 3 by u@h,
				// one group of 3 under DUP_GROUP=UH, else 5 licenses.
				want := 5 + count
				if dupGroup == "UH" {
					want = 3 + count
					if dup == same {
						want = max(3, count)
					}
				}
				if raw != want {
					t.Errorf("DUP_GROUP=%q dup %q count %d: raw %d, want %d", dupGroup, dup, count, raw, want)
				}
				if total != wantTotal || raw != wantRaw {
					t.Errorf("DUP_GROUP=%q dup %q count %d: loadPlus %d/%d, load %d/%d", dupGroup, dup, count, total, raw, wantTotal, wantRaw)
				}
			}
		}
		// With a reservation of all the free seats for somebody else, a
		// new seat counts them as out.
		s.res[p] = []Reservation{{Count: 10 - (2 + 3), Kind: "USER", Name: "w", Match: func(c Client) bool { return c.User == "w" }}}
		if dupGroup == "UH" {
			s.res[p][0].Count = 10 - 3
		}
		if total, raw := s.loadPlus(p, other, 1, client("v", "k")); total <= s.limit(p) || raw > s.limit(p) {
			t.Errorf("DUP_GROUP=%q with every free seat reserved: loadPlus %d/%d, limit %d: want total over the limit, raw within", dupGroup, total, raw, s.limit(p))
		}
	}
}
