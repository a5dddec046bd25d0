package state

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"golm/lmutil/licfile"
	"golm/lmutil/protocol/lmerr"
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

// queueState is a state with one seat of each of features f0..f(n-1),
// each held by session 1.
func queueState(t testing.TB, features int) *State {
	lines := make([]*licfile.Feature, features)
	for i := range lines {
		lines[i] = line(t, licfile.KindFeature, fmt.Sprintf("f%d", i), "1.0", "permanent", 1)
	}
	s := NewState(BuildPools("demo", lines))
	for i := range features {
		if r := s.Apply(Checkout{Session: 1, Client: client("holder", "h"), Feature: fmt.Sprintf("f%d", i), Count: 1, Now: testNow}); r.Err != nil {
			t.Fatalf("holding f%d: %v", i, r.Err)
		}
	}
	return s
}

// TestQueueBounds: a session may have one request queued per feature and
// MaxQueuedPerSession in all; a request over either bound is refused and
// the requests of other sessions are not affected.
func TestQueueBounds(t *testing.T) {
	s := queueState(t, MaxQueuedPerSession+2)
	s.CheckInvariants(func(err error) { t.Errorf("invariant: %v", err) })
	q := func(session uint64, feature string) Result {
		return s.Apply(Checkout{Session: session, Client: client(fmt.Sprintf("u%d", session), "h"), Feature: feature, Count: 1, Queue: true, Now: testNow})
	}
	type want struct {
		code  lmerr.Code
		minor lmerr.Minor
	}
	got := func(r Result) want {
		if r.Err != nil {
			return want{r.Err.Code, r.Err.Minor}
		}
		if r.Queued == nil {
			return want{1, 0} // granted: never here
		}
		return want{}
	}
	first := q(2, "f0")
	steps := []struct {
		name    string
		session uint64
		feature string
		want    want
	}{
		{"the same feature again", 2, "f0", want{-24, lmerr.MinorInQueue}},
		{"another session, the same feature", 3, "f0", want{}},
		{"the same session, another feature", 2, "f1", want{}},
	}
	if got(first) != (want{}) {
		t.Fatalf("first queue request: %+v", got(first))
	}
	for _, st := range steps {
		if g := got(q(st.session, st.feature)); g != st.want {
			t.Errorf("%s: got %+v, want %+v", st.name, g, st.want)
		}
	}
	// Fill session 4 up to the bound.
	var last *Waiter
	for i := range MaxQueuedPerSession {
		r := q(4, fmt.Sprintf("f%d", i))
		if r.Queued == nil {
			t.Fatalf("request %d of session 4 refused: %v", i, r.Err)
		}
		last = r.Queued
	}
	over := fmt.Sprintf("f%d", MaxQueuedPerSession)
	if g := got(q(4, over)); g != (want{-4, lmerr.MinorQueueFull}) {
		t.Errorf("request over the session's bound: got %+v, want -4 minor %d", g, lmerr.MinorQueueFull)
	}
	// f0 has others queued: over the bound the answer is -24.
	if g := got(q(5, "f0")); g != (want{}) {
		t.Fatalf("session 5: %+v", g)
	}
	if g := got(q(4, "f0")); g != (want{-24, lmerr.MinorInQueue}) {
		t.Errorf("session 4 again for f0: got %+v", g)
	}
	// Another session is not limited by session 4's requests.
	if g := got(q(6, over)); g != (want{}) {
		t.Errorf("session 6 with session 4 full: got %+v", g)
	}
	// Leaving the queue makes room again.
	if r := s.Apply(Checkin{Session: 4, Handle: last.Handle, Now: testNow}); len(r.Dequeued) != 1 {
		t.Fatalf("leaving the queue: %+v", r)
	}
	if g := got(q(4, over)); g != (want{}) {
		t.Errorf("after leaving: got %+v", g)
	}
	if r := s.Apply(Disconnect{Session: 4, Now: testNow}); len(r.Dequeued) != MaxQueuedPerSession {
		t.Errorf("disconnect dequeued %d, want %d", len(r.Dequeued), MaxQueuedPerSession)
	}
	if g := got(q(4, "f1")); g != (want{}) {
		t.Errorf("a new session 4 after the disconnect: got %+v", g)
	}
}

// TestQueueModel runs random queue commands against a simple model (one
// list in arrival order) and checks that grants, positions and the
// bounds agree with it after every command.
func TestQueueModel(t *testing.T) {
	const features, sessions = 4, 12
	rng := rand.New(rand.NewPCG(1, 2))
	s := queueState(t, features)
	s.CheckInvariants(func(err error) { t.Fatalf("invariant: %v", err) })
	type req struct {
		handle  uint32
		session uint64
		feature string
	}
	var model []req               // queued, in arrival order
	holder := map[string]uint64{} // feature: session holding its seat
	seat := map[string]uint32{}   // feature: the seat's handle
	for i := range features {
		f := fmt.Sprintf("f%d", i)
		holder[f] = 1
		for _, ps := range s.Status() {
			if ps.Pool.Feature == f {
				seat[f] = ps.Seats[0].Handle
			}
		}
	}
	grant := func(r Result) {
		for _, g := range r.Granted {
			f := g.Pool.Feature
			i := slices.IndexFunc(model, func(q req) bool { return q.feature == f })
			if i < 0 || model[i].handle != g.Handle {
				t.Fatalf("granted %d for %s, the model's front is %v", g.Handle, f, model)
			}
			model = slices.Delete(model, i, i+1)
			holder[f], seat[f] = g.Session, g.Handle
		}
	}
	for step := range 1500 {
		sess := uint64(rng.IntN(sessions) + 2)
		f := fmt.Sprintf("f%d", rng.IntN(features))
		switch rng.IntN(4) {
		case 0, 1: // queue
			r := s.Apply(Checkout{Session: sess, Client: client("u", "h"), Feature: f, Count: 1, Queue: true, Now: testNow})
			dup := slices.ContainsFunc(model, func(q req) bool { return q.session == sess && q.feature == f })
			switch {
			case r.Queued != nil:
				if dup {
					t.Fatalf("step %d: session %d queued twice for %s", step, sess, f)
				}
				model = append(model, req{r.Queued.Handle, sess, f})
			case r.Seat != nil:
				t.Fatalf("step %d: granted past a held seat", step)
			case !dup:
				t.Fatalf("step %d: refused: %v", step, r.Err)
			}
		case 2: // leave the queue, or check in the seat
			if holder[f] == sess {
				r := s.Apply(Checkin{Session: sess, Handle: seat[f], Now: testNow})
				delete(holder, f)
				grant(r)
				if _, held := holder[f]; !held && slices.ContainsFunc(model, func(q req) bool { return q.feature == f }) {
					t.Fatalf("step %d: %s free with requests queued", step, f)
				}
				if _, held := holder[f]; !held {
					// Nobody waits: take the seat back as session 1.
					r := s.Apply(Checkout{Session: 1, Client: client("holder", "h"), Feature: f, Count: 1, Now: testNow})
					holder[f], seat[f] = 1, r.Seat.Handle
				}
				continue
			}
			i := slices.IndexFunc(model, func(q req) bool { return q.session == sess && q.feature == f })
			if i < 0 {
				continue
			}
			s.Apply(Checkin{Session: sess, Handle: model[i].handle, Now: testNow})
			model = slices.Delete(model, i, i+1)
		case 3: // the holder of f checks in
			h := holder[f]
			r := s.Apply(Checkin{Session: h, Handle: seat[f], Now: testNow})
			delete(holder, f)
			grant(r)
			if _, held := holder[f]; !held {
				r := s.Apply(Checkout{Session: 1, Client: client("holder", "h"), Feature: f, Count: 1, Now: testNow})
				holder[f], seat[f] = 1, r.Seat.Handle
			}
		}
		// Positions agree with the model.
		pos := map[string]int{}
		for _, q := range model {
			pos[q.feature]++
			if _, got := s.Lookup(q.session, q.handle); got != pos[q.feature] {
				t.Fatalf("step %d: request %d at position %d, model %d", step, q.handle, got, pos[q.feature])
			}
		}
	}
}

// lingerPolicy is NoPolicy with an options LINGER for every feature.
type lingerPolicy struct {
	NoPolicy
	linger time.Duration
}

func (p lingerPolicy) Linger(*Pool) time.Duration { return p.linger }

// TestLingerCap: an application's linger is cut to DefaultLingerCap, or
// to the options file's LINGER when that is longer; the longer of the
// two is used, as before.
func TestLingerCap(t *testing.T) {
	const day = 24 * time.Hour
	tests := []struct {
		name     string
		app, opt time.Duration
		want     time.Duration
	}{
		{"seven days asked", 7 * day, 0, DefaultLingerCap},
		{"just the cap", DefaultLingerCap, 0, DefaultLingerCap},
		{"a second over the cap", DefaultLingerCap + time.Second, 0, DefaultLingerCap},
		{"under the cap", 30 * time.Minute, 0, 30 * time.Minute},
		{"LINGER raises the cap", 7 * day, 2 * time.Hour, 2 * time.Hour},
		{"LINGER longer than asked", 30 * time.Minute, 2 * time.Hour, 2 * time.Hour},
		{"LINGER shorter than asked", 30 * time.Minute, 10 * time.Minute, 30 * time.Minute},
		{"LINGER of days alone", 0, 3 * day, 3 * day},
		{"none", 0, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := NewState(BuildPools("demo", []*licfile.Feature{line(t, licfile.KindFeature, "f1", "1.0", "permanent", 1)}))
			s.CheckInvariants(func(err error) { t.Errorf("invariant: %v", err) })
			s.Apply(SetPolicy{Policy: lingerPolicy{linger: tt.opt}})
			r := s.Apply(Checkout{Session: 1, Client: client("joe", "h"), Feature: "f1", Count: 1, Linger: tt.app, Now: testNow})
			if r.Err != nil {
				t.Fatal(r.Err)
			}
			r = s.Apply(Disconnect{Session: 1, Now: testNow})
			got := time.Duration(0)
			if len(r.Lingering) == 1 {
				got = r.Lingering[0].Linger
			}
			if got != tt.want {
				t.Fatalf("linger %v, want %v", got, tt.want)
			}
			if tt.want == 0 {
				return
			}
			// The seat goes back when the (capped) linger is over.
			if fr := s.Apply(Tick{Now: testNow.Add(tt.want - time.Second)}).Freed; len(fr) != 0 {
				t.Fatalf("freed a second before the linger's end")
			}
			if fr := s.Apply(Tick{Now: testNow.Add(tt.want)}).Freed; len(fr) != 1 {
				t.Fatalf("not freed at the linger's end")
			}
		})
	}
}

// TestRemoveLingering: lmremove, by user, host and display or by handle,
// frees a lingering seat at once; a seat in use starts its linger, and a
// second lmremove frees it.
func TestRemoveLingering(t *testing.T) {
	for _, byHandle := range []bool{false, true} {
		t.Run(fmt.Sprintf("by handle %v", byHandle), func(t *testing.T) {
			s := NewState(BuildPools("demo", []*licfile.Feature{line(t, licfile.KindFeature, "f1", "1.0", "permanent", 2)}))
			s.CheckInvariants(func(err error) { t.Errorf("invariant: %v", err) })
			joe := client("joe", "h")
			a := s.Apply(Checkout{Session: 1, Client: joe, Feature: "f1", Count: 1, Linger: time.Hour, Now: testNow}).Seat
			b := s.Apply(Checkout{Session: 2, Client: joe, Feature: "f1", Count: 1, Linger: time.Hour, Now: testNow}).Seat
			s.Apply(Disconnect{Session: 1, Now: testNow}) // a lingers
			remove := func(h uint32) Result {
				if byHandle {
					return s.Apply(RemoveHandle{Feature: "f1", Handle: h, Now: testNow})
				}
				return s.Apply(Remove{Feature: "f1", User: joe.User, Host: joe.Host, Display: joe.Display, Now: testNow})
			}
			if byHandle {
				r := remove(a.Handle)
				if r.Err != nil || len(r.Freed) != 1 || r.Freed[0].Handle != a.Handle {
					t.Fatalf("remove of the lingering seat: %v, freed %v", r.Err, handles(r.Freed))
				}
				r = remove(b.Handle)
				if r.Err != nil || len(r.Lingering) != 1 || len(r.Freed) != 0 {
					t.Fatalf("remove of the seat in use: %v, freed %v, lingering %d; want it lingering", r.Err, handles(r.Freed), len(r.Lingering))
				}
				if r := remove(b.Handle); r.Err != nil || len(r.Freed) != 1 {
					t.Fatalf("second remove: %v, freed %d", r.Err, len(r.Freed))
				}
			} else {
				// Both of joe's seats: the lingering one freed, the other lingers.
				r := remove(0)
				if r.Err != nil || !slices.Equal(handles(r.Freed), []uint32{a.Handle}) || len(r.Lingering) != 1 {
					t.Fatalf("remove: %v, freed %v, lingering %d", r.Err, handles(r.Freed), len(r.Lingering))
				}
				if r := remove(0); r.Err != nil || !slices.Equal(handles(r.Freed), []uint32{b.Handle}) {
					t.Fatalf("second remove: %v, freed %v", r.Err, handles(r.Freed))
				}
			}
			if got := s.Status()[0].InUse; got != 0 {
				t.Errorf("in use after the removes: %d, want 0", got)
			}
			if r := remove(a.Handle); lmerr.CodeOf(errOrNil(r.Err)) != -41 {
				t.Errorf("remove with nothing left: %v, want -41", r.Err)
			}
		})
	}
}
