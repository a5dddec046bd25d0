package server

import (
	"slices"
	"testing"
	"time"

	"golm/lmutil/licfile"
)

// handles are the handles of seats, in order.
func handles(seats []Seat) []uint32 {
	var out []uint32
	for _, st := range seats {
		out = append(out, st.Handle)
	}
	return out
}

// TestLingerHeap checks the lingering seats' heap: a seat adopted while
// it lingers is not freed by its old linger's end, a seat lingers again
// after it is adopted, and seats whose lingers are over by the same tick
// are freed in handle order, not in the order their lingers end.
func TestLingerHeap(t *testing.T) {
	s := NewState(BuildPools("demo", []*licfile.Feature{line(t, licfile.KindFeature, "f1", "1.0", "permanent", 5)}))
	s.CheckInvariants(func(err error) { t.Errorf("invariant: %v", err) })
	at := func(d time.Duration) time.Time { return testNow.Add(d) }
	job := client("joe", "h")
	job.JobID = 7
	out := func(session uint64, c Client, linger time.Duration, now time.Time) uint32 {
		t.Helper()
		r := s.Apply(Checkout{Session: session, Client: c, Feature: "f1", Count: 1, Linger: linger, Now: now})
		if r.Err != nil || r.Seat == nil {
			t.Fatalf("checkout: %v", r.Err)
		}
		return r.Seat.Handle
	}
	in := func(session uint64, h uint32, now time.Time) {
		t.Helper()
		if r := s.Apply(Checkin{Session: session, Handle: h, Now: now}); r.Err != nil || len(r.Lingering) != 1 {
			t.Fatalf("checkin of %d: %v, lingering %d, want 1", h, r.Err, len(r.Lingering))
		}
	}
	tick := func(now time.Time, want ...uint32) {
		t.Helper()
		if got := handles(s.Apply(Tick{Now: now}).Freed); !slices.Equal(got, want) {
			t.Fatalf("tick at %v: freed %v, want %v", now.Sub(testNow), got, want)
		}
	}

	h := out(1, job, 10*time.Second, at(0))
	in(1, h, at(0)) // lingers until 10s
	r := s.Apply(Checkout{Session: 2, Client: job, Feature: "f1", Count: 1, PrevHandle: h, Adopt: true, Now: at(5 * time.Second)})
	if !r.Adopted || r.Seat.Handle != h {
		t.Fatalf("reconnect: adopted %v handle %v, want seat %d adopted", r.Adopted, r.Seat, h)
	}
	tick(at(11 * time.Second)) // the old linger's end frees nothing
	in(2, h, at(12*time.Second))
	tick(at(21 * time.Second))
	tick(at(22*time.Second), h)

	// Lingers begun in the reverse order of the handles end together.
	a := out(3, client("a", "h"), 8*time.Second, at(30*time.Second))
	b := out(4, client("b", "h"), 15*time.Second, at(30*time.Second))
	in(4, b, at(30*time.Second)) // until 45s
	in(3, a, at(40*time.Second)) // until 48s
	tick(at(44 * time.Second))
	tick(at(50*time.Second), a, b)
	if got := s.Status()[0].InUse; got != 0 {
		t.Errorf("in use at the end: got %d, want 0", got)
	}
}

// TestRemovedPoolDropped checks that a pool an lmreread took away stays
// while it has seats and goes with its last one, lingering or not.
func TestRemovedPoolDropped(t *testing.T) {
	s := NewState(BuildPools("demo", []*licfile.Feature{
		line(t, licfile.KindFeature, "f1", "1.0", "permanent", 2),
		line(t, licfile.KindFeature, "gone", "1.0", "permanent", 2),
	}))
	s.CheckInvariants(func(err error) { t.Errorf("invariant: %v", err) })
	g1 := s.Apply(Checkout{Session: 1, Client: client("a", "h"), Feature: "gone", Count: 1, Now: testNow}).Seat.Handle
	g2 := s.Apply(Checkout{Session: 2, Client: client("b", "h"), Feature: "gone", Count: 1, Linger: time.Minute, Now: testNow}).Seat.Handle
	s.Apply(Reread{Pools: BuildPools("demo", []*licfile.Feature{line(t, licfile.KindFeature, "f1", "1.0", "permanent", 2)})})
	features := func() []string {
		var out []string
		for _, ps := range s.Status() {
			out = append(out, ps.Pool.Feature)
		}
		return out
	}
	steps := []struct {
		name string
		cmd  Command
		want []string
	}{
		{"after the reread", Tick{Now: testNow}, []string{"f1", "gone"}},
		{"one seat checked in", Checkin{Session: 1, Handle: g1, Now: testNow}, []string{"f1", "gone"}},
		{"the last seat lingers", Checkin{Session: 2, Handle: g2, Now: testNow}, []string{"f1", "gone"}},
		{"its linger ends", Tick{Now: testNow.Add(time.Minute)}, []string{"f1"}},
	}
	for _, st := range steps {
		s.Apply(st.cmd)
		if got := features(); !slices.Equal(got, st.want) {
			t.Errorf("%s: pools %v, want %v", st.name, got, st.want)
		}
		if got := s.FeatureNames(); !slices.Equal(got, st.want) {
			t.Errorf("%s: FeatureNames %v, want %v", st.name, got, st.want)
		}
	}
}
