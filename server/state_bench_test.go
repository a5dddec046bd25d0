package server

import (
	"fmt"
	"testing"

	"golm/lmutil/licfile"
)

// BenchmarkCheckoutCheckin measures one checkout and its checkin through
// State.Apply, the vendor daemon's hot path, with seats already held by
// other clients (the cost of a command must not grow with them).
func BenchmarkCheckoutCheckin(b *testing.B) {
	for _, held := range []int{0, 1000, 10000} {
		b.Run(fmt.Sprintf("held=%d", held), func(b *testing.B) {
			const features = 1000
			lines := make([]*licfile.Feature, features)
			for i := range lines {
				lines[i] = line(b, licfile.KindFeature, fmt.Sprintf("f%d", i), "1.0", "permanent", 100)
			}
			s := NewState(BuildPools("demo", lines))
			for i := range held {
				r := s.Apply(Checkout{Session: uint64(i + 1), Client: client(fmt.Sprintf("u%d", i), "h"),
					Feature: fmt.Sprintf("f%d", i%features), Version: "1.0", Count: 1, Now: testNow})
				if r.Err != nil {
					b.Fatalf("holding seat %d: %v", i, r.Err)
				}
			}
			me := uint64(held + 1)
			c := client("bench", "h")
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				r := s.Apply(Checkout{Session: me, Client: c, Feature: fmt.Sprintf("f%d", i%features), Version: "1.0", Count: 1, Now: testNow})
				if r.Err != nil || r.Seat == nil {
					b.Fatalf("checkout: %v", r.Err)
				}
				if r := s.Apply(Checkin{Session: me, Handle: r.Seat.Handle, Now: testNow}); r.Err != nil {
					b.Fatalf("checkin: %v", r.Err)
				}
				i++
			}
		})
	}
}

// BenchmarkHeartbeat measures a heartbeat through State.Apply with 10,000
// seats held: every connected client sends one each interval.
func BenchmarkHeartbeat(b *testing.B) {
	lines := []*licfile.Feature{line(b, licfile.KindFeature, "f1", "1.0", "permanent", 20000)}
	s := NewState(BuildPools("demo", lines))
	for i := range 10000 {
		if r := s.Apply(Checkout{Session: uint64(i + 1), Client: client(fmt.Sprintf("u%d", i), "h"), Feature: "f1", Version: "1.0", Count: 1, Now: testNow}); r.Err != nil {
			b.Fatal(r.Err)
		}
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		s.Apply(Heartbeat{Session: uint64(i%10000 + 1), Now: testNow})
		i++
	}
}
