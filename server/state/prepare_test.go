package state

import (
	"fmt"
	"reflect"
	"runtime"
	"sync"
	"testing"
	"time"

	"golm/lmutil/licfile"
	"golm/lmutil/protocol/lmerr"
)

// stateSummary is what a state shows of its pools and seats, without
// pointers, so that two states built from equal files compare.
func stateSummary(s *State) []string {
	var out []string
	for _, ps := range s.Status() {
		row := fmt.Sprintf("%s removed=%v inuse=%d limit=%d issued=%d charged=%d", ps.Pool.Key(), ps.Pool.Removed, ps.InUse, ps.Limit, ps.Issued, ps.Charged)
		for _, st := range ps.Seats {
			row += fmt.Sprintf(" seat(%d %s %d)", st.Handle, st.Client.User, st.Count)
		}
		for _, r := range ps.Reservations {
			row += fmt.Sprintf(" res(%d %s)", r.Count, r.Name)
		}
		for _, w := range ps.Queued {
			row += fmt.Sprintf(" queued(%d %s)", w.Handle, w.Client.User)
		}
		out = append(out, row)
	}
	return out
}

// TestReloadMatchesRereadAndPolicy: a prepared reload gives the state
// that a SetPolicy and a Reread of the same files give, and checkouts
// after it get the same answers.
func TestReloadMatchesRereadAndPolicy(t *testing.T) {
	f := func(name, version, expiry string, count int) *licfile.Feature {
		return line(t, licfile.KindFeature, name, version, expiry, count)
	}
	inc := func(name, version, expiry string, count int) *licfile.Feature {
		return line(t, licfile.KindIncrement, name, version, expiry, count)
	}
	tests := []struct {
		name          string
		before, after func() []*licfile.Feature
		policy        Policy // in force before and after
		newPolicy     Policy // the reload's, nil: policy
	}{
		{"counts change", func() []*licfile.Feature {
			return []*licfile.Feature{f("f1", "1.0", "permanent", 4), f("f2", "1.0", "permanent", 2)}
		},
			func() []*licfile.Feature {
				return []*licfile.Feature{f("f1", "1.0", "permanent", 2), f("f3", "1.0", "permanent", 2)}
			},
			NoPolicy{}, nil},
		{"other version, seats orphaned", func() []*licfile.Feature { return []*licfile.Feature{f("f1", "1.0", "permanent", 4)} },
			func() []*licfile.Feature {
				return []*licfile.Feature{f("f1", "2.0", "permanent", 3), inc("f1", "2.0", "1-jan-2020", 5)}
			},
			reservePolicy{n: 1, user: "u1"}, nil},
		{"dated lines", func() []*licfile.Feature { return []*licfile.Feature{f("f1", "1.0", "permanent", 4)} },
			func() []*licfile.Feature {
				return []*licfile.Feature{inc("f1", "1.0", "1-jan-2020", 3), overdraft(inc("f1", "1.0", "permanent", 6), 2), start(t, inc("f1", "1.0", "permanent", 7), "1-jan-2099")}
			},
			NoPolicy{}, nil},
		{"reservation added", func() []*licfile.Feature {
			return []*licfile.Feature{f("f1", "1.0", "permanent", 4), f("f2", "1.0", "permanent", 1)}
		},
			func() []*licfile.Feature {
				return []*licfile.Feature{f("f1", "1.0", "permanent", 6), f("f2", "1.0", "permanent", 1)}
			},
			NoPolicy{}, reservePolicy{n: 3, user: "u9"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			build := func() *State {
				s := NewState(BuildPools("demo", tt.before()))
				s.CheckInvariants(func(err error) { t.Error(err) })
				s.Apply(SetPolicy{Policy: tt.policy})
				for i := range 5 {
					for _, feat := range []string{"f1", "f2"} {
						s.Apply(Checkout{Session: uint64(i + 1), Client: client(fmt.Sprintf("u%d", i), "h"), Feature: feat, Version: "1.0", Count: 1, Queue: i == 4, Now: testNow})
					}
				}
				return s
			}
			newPolicy := tt.newPolicy
			if newPolicy == nil {
				newPolicy = tt.policy
			}
			a, b := build(), build()
			if !reflect.DeepEqual(stateSummary(a), stateSummary(b)) {
				t.Fatal("the two states differ before the reread")
			}
			// The reload applies the new policy and pools at once: like
			// the policy set first, so that no queued request is
			// granted under the old policy to the new pools.
			rp := a.Apply(SetPolicy{Policy: newPolicy})
			ra := a.Apply(Reread{Pools: BuildPools("demo", tt.after())})
			rb := b.Apply(Reload{Prepared: Prepare(BuildPools("demo", tt.after()), newPolicy)})
			if got, want := stateSummary(b), stateSummary(a); !reflect.DeepEqual(got, want) {
				t.Fatalf("after Reload:\n%q\nafter Reread and SetPolicy:\n%q", got, want)
			}
			if !reflect.DeepEqual(rb.Warnings, ra.Warnings) {
				t.Errorf("Reload warned %q, Reread %q", rb.Warnings, ra.Warnings)
			}
			if len(rb.Granted) != len(ra.Granted)+len(rp.Granted) {
				t.Errorf("Reload granted %d queued requests, Reread and SetPolicy %d", len(rb.Granted), len(ra.Granted)+len(rp.Granted))
			}
			for i := range 8 {
				for _, feat := range []string{"f1", "f2", "f3"} {
					c := Checkout{Session: uint64(100 + i), Client: client(fmt.Sprintf("u%d", 5+i), "h"), Feature: feat, Version: "1.0", Count: 1, Now: testNow}
					ga, gb := a.Apply(c), b.Apply(c)
					if lmerr.CodeOf(errOrNil(ga.Err)) != lmerr.CodeOf(errOrNil(gb.Err)) {
						t.Errorf("checkout %d of %s: after Reload %v, after Reread and SetPolicy %v", i, feat, gb.Err, ga.Err)
					}
				}
			}
			if got, want := stateSummary(b), stateSummary(a); !reflect.DeepEqual(got, want) {
				t.Fatalf("after the checkouts, Reload:\n%q\nReread and SetPolicy:\n%q", got, want)
			}
		})
	}
}

// TestReloadTwice: a Prepared applied a second time (to another state)
// gives what a fresh one gives.
func TestReloadTwice(t *testing.T) {
	lines := func() []*licfile.Feature {
		return []*licfile.Feature{line(t, licfile.KindFeature, "f1", "1.0", "permanent", 3)}
	}
	pr := Prepare(BuildPools("demo", lines()), reservePolicy{n: 1, user: "u0"})
	var sums [][]string
	for range 2 {
		s := NewState(BuildPools("demo", lines()))
		s.CheckInvariants(func(err error) { t.Error(err) })
		s.Apply(Checkout{Session: 1, Client: client("u1", "h"), Feature: "f1", Version: "1.0", Count: 1, Now: testNow})
		s.Apply(Reload{Prepared: pr})
		sums = append(sums, stateSummary(s))
	}
	if !reflect.DeepEqual(sums[0], sums[1]) {
		t.Fatalf("first use %q, second %q", sums[0], sums[1])
	}
}

// gatePolicy is NoPolicy whose Linger, consulted for every pool while
// the pools are prepared, waits at pool gateAt until open is closed,
// after telling reached.
type gatePolicy struct {
	NoPolicy
	gateAt  string
	reached chan struct{}
	open    chan struct{}
	once    *sync.Once
}

func (p gatePolicy) Linger(pool *Pool) time.Duration {
	if pool.Feature == p.gateAt {
		p.once.Do(func() { close(p.reached) })
		<-p.open
	}
	return 0
}

// TestCheckoutDuringPrepare: while the pools of a reread are being
// prepared the state keeps serving: a checkout, a checkin and a status
// complete before the preparation does; the reload then applies.
func TestCheckoutDuringPrepare(t *testing.T) {
	const n = 20000
	lines := scaleLines(t, n)
	s := NewState(BuildPools("demo", lines))
	s.CheckInvariants(func(err error) { t.Error(err) })
	gate := gatePolicy{gateAt: "f002500", reached: make(chan struct{}), open: make(chan struct{}), once: &sync.Once{}}
	prepared := make(chan *Prepared)
	go func() { prepared <- Prepare(BuildPools("demo", lines), gate) }()
	<-gate.reached // half way through the pools
	r := s.Apply(Checkout{Session: 1, Client: client("u", "h"), Feature: "f000001", Version: "1.0", Count: 1, Now: testNow})
	if r.Err != nil {
		t.Fatalf("checkout during the preparation: %v", r.Err)
	}
	if r := s.Apply(Checkin{Session: 1, Handle: r.Seat.Handle, Now: testNow}); r.Err != nil {
		t.Fatalf("checkin during the preparation: %v", r.Err)
	}
	r = s.Apply(Checkout{Session: 2, Client: client("v", "h"), Feature: "f000002", Version: "1.0", Count: 1, Now: testNow})
	if r.Err != nil {
		t.Fatalf("second checkout during the preparation: %v", r.Err)
	}
	select {
	case <-prepared:
		t.Fatal("the preparation ended while its policy was held")
	default:
	}
	close(gate.open)
	s.Apply(Reload{Prepared: <-prepared})
	st := s.Status()
	if len(st) != len(BuildPools("demo", lines)) {
		t.Fatalf("%d pools after the reload", len(st))
	}
	held := 0
	for _, ps := range st {
		held += ps.InUse
		if ps.Pool.Removed {
			t.Errorf("pool %s removed by a reread of the same lines", ps.Pool.Key())
		}
	}
	if held != 1 {
		t.Errorf("%d seats out after the reload, want the one checked out during it", held)
	}
}

// BenchmarkReloadHold measures how long an lmreread of n license lines
// holds the state's lock, with a seat out in every feature: Reread and
// SetPolicy, each indexing every pool under the lock, against Reload,
// whose indexes were prepared before (10,000 seats out at most; the
// collection of what was built before the hold is not in it).
func BenchmarkReloadHold(b *testing.B) {
	for _, n := range []int{2000, 20000, 200000} {
		lines := scaleLines(b, n)
		s := NewState(BuildPools("demo", lines))
		for i, f := range s.FeatureNames() {
			if i >= 10000 {
				break
			}
			if r := s.Apply(Checkout{Session: uint64(i + 1), Client: client("u", "h"), Feature: f, Version: "1.0", Count: 1, Now: testNow}); r.Err != nil {
				b.Fatal(r.Err)
			}
		}
		b.Run(fmt.Sprintf("reread+setpolicy/lines=%d", n), func(b *testing.B) {
			for b.Loop() {
				b.StopTimer()
				pools := BuildPools("demo", lines)
				runtime.GC() // what the preparation left is not collected in the hold
				b.StartTimer()
				s.Apply(Reread{Pools: pools})
				s.Apply(SetPolicy{Policy: NoPolicy{}})
			}
		})
		b.Run(fmt.Sprintf("reload/lines=%d", n), func(b *testing.B) {
			for b.Loop() {
				b.StopTimer()
				pr := Prepare(BuildPools("demo", lines), NoPolicy{})
				runtime.GC()
				b.StartTimer()
				s.Apply(Reload{Prepared: pr})
			}
		})
	}
}
