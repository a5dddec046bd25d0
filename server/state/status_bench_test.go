package state

import (
	"fmt"
	"testing"

	"golm/lmutil/licfile"
)

// statusState is a state of 1,000 features of 100 seats with 10,000
// seats held, 10 of each feature: what lmstat reads in the benchmarks.
func statusState(b *testing.B) *State {
	b.Helper()
	const features = 1000
	lines := make([]*licfile.Feature, features)
	for i := range lines {
		lines[i] = line(b, licfile.KindFeature, fmt.Sprintf("f%d", i), "1.0", "permanent", 100)
	}
	s := NewState(BuildPools("demo", lines))
	for i := range 10000 {
		r := s.Apply(Checkout{Session: uint64(i + 1), Client: client(fmt.Sprintf("u%d", i), "h"),
			Feature: fmt.Sprintf("f%d", i%features), Version: "1.0", Count: 1, Now: testNow})
		if r.Err != nil {
			b.Fatalf("holding seat %d: %v", i, r.Err)
		}
	}
	return s
}

// BenchmarkStatus measures the state's side of lmstat with 10,000 seats
// over 1,000 features: every pool (lmstat -a) and one feature (lmstat
// -f), the cost of the second must not grow with the other features.
func BenchmarkStatus(b *testing.B) {
	s := statusState(b)
	b.Run("all", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if got := len(s.statusAt(testNow)); got != 1000 {
				b.Fatalf("got %d pools, want 1000", got)
			}
		}
	})
	b.Run("feature", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			ps := s.FeatureStatusAt(testNow, "f500")
			if len(ps) != 1 || len(ps[0].Seats) != 10 {
				b.Fatalf("got %d pools, want 1 with 10 seats", len(ps))
			}
		}
	})
}
