package state

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

// BenchmarkQueue measures the queue's operations with queued requests
// already waiting: a new request joins the queue, its position is looked
// up, and the seat's holder goes, which grants the front request.
// The cost of each must not grow with the length of the queue.
func BenchmarkQueue(b *testing.B) {
	for _, waiting := range []int{10, 1000, 100000} {
		b.Run(fmt.Sprintf("queued=%d", waiting), func(b *testing.B) {
			s := NewState(BuildPools("demo", []*licfile.Feature{
				line(b, licfile.KindFeature, "f1", "1.0", "permanent", 1),
				line(b, licfile.KindFeature, "f2", "1.0", "permanent", 1),
			}))
			c := client("bench", "h")
			r := s.Apply(Checkout{Session: 1, Client: c, Feature: "f1", Count: 1, Now: testNow})
			if r.Err != nil {
				b.Fatal(r.Err)
			}
			holder := uint64(1)
			s.Apply(Checkout{Session: 0, Client: c, Feature: "f2", Count: 1, Now: testNow})
			session := uint64(1)
			for range waiting {
				session++
				f := "f1"
				if session%2 == 0 {
					f = "f2" // requests of another feature interleaved
				}
				if r := s.Apply(Checkout{Session: session, Client: c, Feature: f, Count: 1, Queue: true, Now: testNow}); r.Queued == nil {
					b.Fatalf("queueing: %v", r.Err)
				}
			}
			b.ReportAllocs()
			for b.Loop() {
				session++
				r := s.Apply(Checkout{Session: session, Client: c, Feature: "f1", Count: 1, Queue: true, Now: testNow})
				if r.Queued == nil {
					b.Fatalf("queueing: %v", r.Err)
				}
				if _, pos := s.Lookup(session, r.Queued.Handle); pos == 0 {
					b.Fatal("queued request not found")
				}
				// The holder leaves (its session goes, so that sessions do
				// not pile up over the run): the front request is granted.
				r = s.Apply(Disconnect{Session: holder, Now: testNow})
				if len(r.Granted) != 1 {
					b.Fatalf("disconnect granted %d", len(r.Granted))
				}
				holder = r.Granted[0].Session
			}
		})
	}
}
