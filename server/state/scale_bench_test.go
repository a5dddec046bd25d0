package state

import (
	"fmt"
	"testing"

	"golm/lmutil/licfile"
)

// scaleLines are n license lines: n/4 features of one FEATURE line and
// three INCREMENT lines each (one of them of another version, a pool of
// its own), so that the pools of a feature have neighbours.
func scaleLines(tb testing.TB, n int) []*licfile.Feature {
	tb.Helper()
	out := make([]*licfile.Feature, 0, n)
	for i := 0; len(out) < n; i++ {
		name := fmt.Sprintf("f%06d", i)
		out = append(out, line(tb, licfile.KindFeature, name, "1.0", "permanent", 10))
		for j := 0; j < 3 && len(out) < n; j++ {
			v := "1.0"
			if j == 2 {
				v = "2.0"
			}
			out = append(out, line(tb, licfile.KindIncrement, name, v, "permanent", 5))
		}
	}
	return out
}

// BenchmarkNewState measures building the state of a vendor daemon
// serving n license lines, what start-up costs after the files are read.
func BenchmarkNewState(b *testing.B) {
	for _, n := range []int{2000, 20000, 200000} {
		b.Run(fmt.Sprintf("lines=%d", n), func(b *testing.B) {
			lines := scaleLines(b, n)
			b.ReportAllocs()
			for b.Loop() {
				s := NewState(BuildPools("demo", lines))
				s.Apply(SetPolicy{Policy: NoPolicy{}})
			}
		})
	}
}

// BenchmarkReread measures an lmreread of n license lines into a state
// whose every pool has a seat out (the seats move to the new pools).
func BenchmarkReread(b *testing.B) {
	for _, n := range []int{2000, 20000, 200000} {
		b.Run(fmt.Sprintf("lines=%d", n), func(b *testing.B) {
			lines := scaleLines(b, n)
			s := NewState(BuildPools("demo", lines))
			for i, f := range s.FeatureNames() {
				if r := s.Apply(Checkout{Session: uint64(i + 1), Client: client("u", "h"), Feature: f, Version: "1.0", Count: 1, Now: testNow}); r.Err != nil {
					b.Fatal(r.Err)
				}
			}
			b.ReportAllocs()
			for b.Loop() {
				s.Apply(Reread{Pools: BuildPools("demo", lines)})
				s.Apply(SetPolicy{Policy: NoPolicy{}})
			}
		})
	}
}

// heldState is a state of one feature of held+6 seats, held of them
// out, each by its own client; dup is the line's DUP_GROUP, or RESERVE
// for a reservation of the feature.
func heldState(tb testing.TB, held int, dup string) *State {
	tb.Helper()
	f := line(tb, licfile.KindFeature, "f1", "1.0", "permanent", held+6)
	s := NewState(BuildPools("demo", []*licfile.Feature{f}))
	if dup == "RESERVE" {
		// 5 seats reserved for u0: a checkout's room is the seats'
		// use of the reservation, recomputed after each change.
		s.Apply(SetPolicy{Policy: reservePolicy{n: 5, user: "u0"}})
	} else {
		f.DupGroup = dup
		s = NewState(BuildPools("demo", []*licfile.Feature{f}))
	}
	for i := range held {
		r := s.Apply(Checkout{Session: uint64(i + 1), Client: client(fmt.Sprintf("u%d", i), "h"),
			Feature: "f1", Version: "1.0", Count: 1, Now: testNow})
		if r.Err != nil {
			tb.Fatalf("holding seat %d: %v", i, r.Err)
		}
	}
	return s
}

// BenchmarkCheckoutHeld measures a checkout and its checkin with held
// seats already out in the same feature, without and with duplicate
// grouping: the cost must not grow with held.
func BenchmarkCheckoutHeld(b *testing.B) {
	for _, dup := range []string{"", "UHD", "RESERVE"} {
		for _, held := range []int{10, 1000, 20000} {
			b.Run(fmt.Sprintf("dup=%s/held=%d", cmpOr(dup, "none"), held), func(b *testing.B) {
				s := heldState(b, held, dup)
				me := uint64(held + 1)
				c := client("bench", "h")
				b.ReportAllocs()
				for b.Loop() {
					r := s.Apply(Checkout{Session: me, Client: c, Feature: "f1", Version: "1.0", Count: 1, Now: testNow})
					if r.Err != nil || r.Seat == nil {
						b.Fatalf("checkout: %v", r.Err)
					}
					if r := s.Apply(Checkin{Session: me, Handle: r.Seat.Handle, Now: testNow}); r.Err != nil {
						b.Fatalf("checkin: %v", r.Err)
					}
				}
			})
		}
	}
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// BenchmarkStatusSeats measures lmstat -a (Status) and lmstat -f
// (FeatureStatusAt) with n seats out over 10 features: the cost per seat
// must not grow with n.
func BenchmarkStatusSeats(b *testing.B) {
	for _, n := range []int{1000, 10000, 20000} {
		lines := make([]*licfile.Feature, 10)
		for i := range lines {
			lines[i] = line(b, licfile.KindFeature, fmt.Sprintf("f%d", i), "1.0", "permanent", n)
		}
		s := NewState(BuildPools("demo", lines))
		for i := range n {
			r := s.Apply(Checkout{Session: uint64(i + 1), Client: client(fmt.Sprintf("u%d", i), "h"),
				Feature: fmt.Sprintf("f%d", i%10), Version: "1.0", Count: 1, Now: testNow})
			if r.Err != nil {
				b.Fatalf("holding seat %d: %v", i, r.Err)
			}
		}
		b.Run(fmt.Sprintf("all/seats=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				s.statusAt(testNow)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/seat")
		})
		b.Run(fmt.Sprintf("feature/seats=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				s.FeatureStatusAt(testNow, "f0")
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n/10), "ns/seat")
		})
	}
}
