package server

import (
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"golm/lmutil/licfile"
	"golm/lmutil/protocol/lmerr"
)

var testNow = time.Date(2026, 3, 15, 10, 30, 0, 0, time.Local)

func mustVersion(t testing.TB, s string) licfile.Version {
	t.Helper()
	v, ok := ParseVersion(s)
	if !ok {
		t.Fatalf("ParseVersion(%q) failed", s)
	}
	return v
}

func date(t testing.TB, s string) licfile.Date {
	t.Helper()
	if s == "" {
		return licfile.Date{}
	}
	d, err := licfile.ParseDate(s)
	if err != nil {
		t.Fatalf("ParseDate(%q): %v", s, err)
	}
	return d
}

// line builds a license line for pool tests.
func line(t testing.TB, kind licfile.Kind, name, version, expiry string, count int) *licfile.Feature {
	return &licfile.Feature{Kind: kind, Name: name, Vendor: "demo", Version: mustVersion(t, version), Expiry: date(t, expiry), Count: count, UserBased: -1, HostBased: -1}
}

func client(user, host string) Client {
	return Client{User: user, Host: host, Display: "/dev/pts/1", IP: "127.0.0.1"}
}

func TestBuildPools(t *testing.T) {
	lines := []*licfile.Feature{
		line(t, licfile.KindFeature, "f1", "1.0", "permanent", 2),
		line(t, licfile.KindFeature, "f1", "1.0", "permanent", 7),   // ignored: a second FEATURE
		line(t, licfile.KindIncrement, "f1", "1.0", "permanent", 3), // added to the first
		line(t, licfile.KindIncrement, "f1", "2.0", "permanent", 1), // a pool of its own
		line(t, licfile.KindIncrement, "f2", "1.0", "1-jan-2030", 0),
		{Kind: licfile.KindFeature, Name: "other", Vendor: "xyzd", Version: mustVersion(t, "1"), Count: 4},
	}
	pools := BuildPools("demo", lines)
	type want struct {
		feature, version string
		count            int
		uncounted        bool
		lines            int
	}
	wants := []want{{"f1", "1.0", 5, false, 2}, {"f1", "2.0", 1, false, 1}, {"f2", "1.0", 0, true, 1}}
	if len(pools) != len(wants) {
		t.Fatalf("got %d pools, want %d", len(pools), len(wants))
	}
	for i, w := range wants {
		p := pools[i]
		got := want{p.Feature, p.Version.Text, p.Count, p.Uncounted, len(p.Lines)}
		if got != w {
			t.Errorf("pool %d = %+v, want %+v", i, got, w)
		}
	}
}

func TestCompareVersion(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"1.0", "1", 0},
		{"1.10", "1.9", -1},
		{"2.300", "2.3", 0},
		{"10", "9.99", 1},
		{"", "0", 0},
		{"2024.05", "2024.5", -1},
	}
	for _, tt := range tests {
		t.Run(tt.a+"_vs_"+tt.b, func(t *testing.T) {
			if got := compareVersion(mustVersion(t, tt.a), mustVersion(t, tt.b)); got != tt.want {
				t.Errorf("compareVersion(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
			}
		})
	}
	for _, bad := range []string{"1.0a", "v2", "1.2.3", ".", "-1"} {
		if _, ok := ParseVersion(bad); ok {
			t.Errorf("ParseVersion(%q) ok, want failure", bad)
		}
	}
}

func TestCheckoutDenials(t *testing.T) {
	pools := func() []*Pool {
		hostLocked := line(t, licfile.KindIncrement, "locked", "1.0", "permanent", 2)
		hostLocked.HostID = licfile.HostIDList{{Type: licfile.HostIDHostname, Text: "HOSTNAME=good", Value: "good"}}
		starts := line(t, licfile.KindIncrement, "future", "1.0", "permanent", 2)
		starts.Start = date(t, "1-jan-2030")
		return BuildPools("demo", []*licfile.Feature{
			line(t, licfile.KindFeature, "f1", "2.0", "permanent", 2),
			line(t, licfile.KindFeature, "old", "1.0", "1-jan-2020", 2),
			line(t, licfile.KindFeature, "today", "1.0", "15-mar-2026", 1),
			hostLocked,
			starts,
			line(t, licfile.KindFeature, "free", "1.0", "permanent", 0),
		})
	}
	tests := []struct {
		name     string
		feature  string
		version  string
		count    int
		host     string
		wantCode int
	}{
		{"granted", "f1", "1.0", 1, "h", 0},
		{"same version", "f1", "2.0", 2, "h", 0},
		{"no such feature", "nope", "1.0", 1, "h", -5},
		{"version too high", "f1", "2.1", 1, "h", -25},
		{"expired", "old", "1.0", 1, "h", -10},
		{"good through the expiry day", "today", "1.0", 1, "h", 0},
		{"wrong host", "locked", "1.0", 1, "bad", -9},
		{"right host", "locked", "1.0", 1, "good", 0},
		{"start in the future", "future", "1.0", 1, "h", -31},
		{"more than the pool has", "f1", "1.0", 3, "h", -26},
		{"bad version", "f1", "1.x", 1, "h", -77},
		{"uncounted", "free", "1.0", 50, "h", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := NewState(pools())
			r := s.Apply(Checkout{Session: 1, Client: client("u", tt.host), Feature: tt.feature, Version: tt.version, Count: tt.count, Now: testNow})
			if got := lmerr.CodeOf(errOrNil(r.Err)); got != tt.wantCode {
				t.Fatalf("checkout %s v%s x%d: code %d, want %d", tt.feature, tt.version, tt.count, got, tt.wantCode)
			}
			if tt.wantCode == 0 && (r.Seat == nil || r.Seat.Count != tt.count) {
				t.Fatalf("checkout granted %+v, want a seat of %d", r.Seat, tt.count)
			}
		})
	}
}

func errOrNil(e *lmerr.Error) error {
	if e == nil {
		return nil
	}
	return e
}

func twoSeatState(t *testing.T) *State {
	return NewState(BuildPools("demo", []*licfile.Feature{line(t, licfile.KindFeature, "f1", "1.0", "permanent", 2)}))
}

func TestCountNeverExceeded(t *testing.T) {
	s := twoSeatState(t)
	var handles []uint32
	for i, want := range []int{0, 0, -4, -4} {
		r := s.Apply(Checkout{Session: uint64(i + 1), Client: client("u", "h"), Feature: "f1", Count: 1, Now: testNow})
		if got := lmerr.CodeOf(errOrNil(r.Err)); got != want {
			t.Fatalf("checkout %d: code %d, want %d", i+1, got, want)
		}
		if r.Seat != nil {
			handles = append(handles, r.Seat.Handle)
		}
	}
	if handles[0] == handles[1] {
		t.Fatalf("two seats share handle %d", handles[0])
	}
	// A checkin frees one seat, and only its own session may check it in.
	if r := s.Apply(Checkin{Session: 2, Handle: handles[0]}); r.Err == nil {
		t.Fatalf("session 2 checked in session 1's handle")
	}
	if r := s.Apply(Checkin{Session: 1, Handle: handles[0]}); r.Err != nil || len(r.Freed) != 1 {
		t.Fatalf("checkin: %+v", r)
	}
	if r := s.Apply(Checkout{Session: 5, Client: client("u", "h"), Feature: "f1", Count: 1, Now: testNow}); r.Err != nil {
		t.Fatalf("checkout after checkin: %v", r.Err)
	}
}

func TestDisconnectFreesAllSeats(t *testing.T) {
	s := NewState(BuildPools("demo", []*licfile.Feature{line(t, licfile.KindFeature, "f1", "1.0", "permanent", 3)}))
	for i := 0; i < 2; i++ {
		if r := s.Apply(Checkout{Session: 7, Client: client("u", "h"), Feature: "f1", Count: 1, Now: testNow}); r.Err != nil {
			t.Fatal(r.Err)
		}
	}
	r := s.Apply(Disconnect{Session: 7})
	if len(r.Freed) != 2 {
		t.Fatalf("disconnect freed %d seats, want 2", len(r.Freed))
	}
	if got := s.Status()[0].InUse; got != 0 {
		t.Fatalf("in use after disconnect = %d, want 0", got)
	}
}

func TestExpireDropsSilentSessions(t *testing.T) {
	s := twoSeatState(t)
	s.Apply(Checkout{Session: 1, Client: client("a", "h"), Feature: "f1", Count: 1, Now: testNow})
	s.Apply(Checkout{Session: 2, Client: client("b", "h"), Feature: "f1", Count: 1, Now: testNow})
	s.Apply(Heartbeat{Session: 2, Now: testNow.Add(50 * time.Second)})
	r := s.Apply(Expire{Now: testNow.Add(70 * time.Second), Timeout: time.Minute})
	if len(r.Sessions) != 1 || r.Sessions[0] != 1 || len(r.Freed) != 1 || r.Freed[0].Client.User != "a" {
		t.Fatalf("expire = %+v, want session 1 and a's seat", r)
	}
}

func TestReconnectAdoptsSeat(t *testing.T) {
	s := twoSeatState(t)
	c := client("u", "h")
	c.JobID = 42
	first := s.Apply(Checkout{Session: 1, Client: c, Feature: "f1", Count: 1, Now: testNow}).Seat
	// The job reconnects before the server noticed the old connection die.
	r := s.Apply(Checkout{Session: 2, Client: c, Feature: "f1", Count: 1, PrevHandle: first.Handle, Adopt: true, Now: testNow})
	if r.Err != nil || !r.Adopted || r.Seat.Handle != first.Handle {
		t.Fatalf("reconnect = %+v, want the same handle adopted", r)
	}
	if got := s.Status()[0].InUse; got != 1 {
		t.Fatalf("in use = %d after reconnect, want 1 (never counted twice)", got)
	}
	// The old connection's late disconnect frees nothing.
	if r := s.Apply(Disconnect{Session: 1}); len(r.Freed) != 0 {
		t.Fatalf("old session's disconnect freed %d seats", len(r.Freed))
	}
	// Another job cannot adopt the seat.
	other := client("u", "h")
	other.JobID = 43
	r = s.Apply(Checkout{Session: 3, Client: other, Feature: "f1", Count: 1, PrevHandle: first.Handle, Adopt: true, Now: testNow})
	if r.Adopted || r.Seat == nil || r.Seat.Handle == first.Handle {
		t.Fatalf("another job's checkout = %+v, want a fresh seat", r)
	}
}

func TestRestartReusesFreeHandle(t *testing.T) {
	s := twoSeatState(t)
	r := s.Apply(Checkout{Session: 1, Client: client("u", "h"), Feature: "f1", Count: 1, PrevHandle: 555, Now: testNow})
	if r.Seat == nil || r.Seat.Handle != 555 || r.Adopted {
		t.Fatalf("checkout with a previous run's handle = %+v, want handle 555, not adopted", r)
	}
	r = s.Apply(Checkout{Session: 2, Client: client("v", "h"), Feature: "f1", Count: 1, PrevHandle: 555, Now: testNow})
	if r.Seat == nil || r.Seat.Handle == 555 {
		t.Fatalf("second job with the same previous handle = %+v, want a new handle", r)
	}
}

func TestRemove(t *testing.T) {
	s := NewState(BuildPools("demo", []*licfile.Feature{line(t, licfile.KindFeature, "f1", "1.0", "permanent", 5)}))
	var hs []uint32
	for _, u := range []string{"joe", "joe", "ann"} {
		hs = append(hs, s.Apply(Checkout{Session: 1, Client: client(u, "h"), Feature: "f1", Count: 1, Now: testNow}).Seat.Handle)
	}
	tests := []struct {
		name  string
		cmd   Command
		freed int
		code  int
	}{
		{"by user", Remove{Feature: "f1", User: "joe", Host: "h", Display: "/dev/pts/1"}, 2, 0},
		{"again", Remove{Feature: "f1", User: "joe", Host: "h", Display: "/dev/pts/1"}, 0, -41},
		{"wrong feature handle", RemoveHandle{Feature: "f2", Handle: hs[2]}, 0, -41},
		{"by handle", RemoveHandle{Feature: "f1", Handle: hs[2]}, 1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := s.Apply(tt.cmd)
			if len(r.Freed) != tt.freed || lmerr.CodeOf(errOrNil(r.Err)) != tt.code {
				t.Fatalf("freed %d code %d, want %d and %d", len(r.Freed), lmerr.CodeOf(errOrNil(r.Err)), tt.freed, tt.code)
			}
		})
	}
}

func TestReread(t *testing.T) {
	s := NewState(BuildPools("demo", []*licfile.Feature{
		line(t, licfile.KindFeature, "f1", "1.0", "permanent", 2),
		line(t, licfile.KindFeature, "gone", "1.0", "permanent", 1),
	}))
	s.Apply(Checkout{Session: 1, Client: client("a", "h"), Feature: "f1", Count: 1, Now: testNow})
	s.Apply(Checkout{Session: 1, Client: client("a", "h"), Feature: "f1", Count: 1, Now: testNow})
	g := s.Apply(Checkout{Session: 1, Client: client("a", "h"), Feature: "gone", Count: 1, Now: testNow}).Seat
	// The new file has one seat of f1 (fewer than are out), no "gone" and a new f3.
	s.Apply(Reread{Pools: BuildPools("demo", []*licfile.Feature{
		line(t, licfile.KindFeature, "f1", "1.0", "permanent", 1),
		line(t, licfile.KindFeature, "f3", "1.0", "permanent", 1),
	})})
	st := s.Status()
	if len(st) != 3 || st[0].Pool.Feature != "f1" || st[0].InUse != 2 || st[0].Pool.Count != 1 {
		t.Fatalf("after reread: %+v", st)
	}
	check := func(feature string, want int) {
		t.Helper()
		r := s.Apply(Checkout{Session: 2, Client: client("b", "h"), Feature: feature, Count: 1, Now: testNow})
		if got := lmerr.CodeOf(errOrNil(r.Err)); got != want {
			t.Errorf("checkout %s after reread: code %d, want %d", feature, got, want)
		}
	}
	check("f1", -4)   // existing seats kept, count lowered
	check("gone", -5) // removed features are not granted
	check("f3", 0)    // new features are
	s.Apply(RemoveHandle{Handle: g.Handle})
	for _, ps := range s.Status() {
		if ps.Pool.Feature == "gone" {
			t.Errorf("removed pool still listed after its last seat went back")
		}
	}
}

// TestConcurrentNeverOverCount hammers one state from many goroutines and
// checks after every command that no pool has more seats out than its count.
func TestConcurrentNeverOverCount(t *testing.T) {
	s := NewState(BuildPools("demo", []*licfile.Feature{
		line(t, licfile.KindFeature, "f1", "1.0", "permanent", 3),
		line(t, licfile.KindIncrement, "f1", "2.0", "permanent", 2),
		line(t, licfile.KindFeature, "f2", "1.0", "permanent", 1),
	}))
	const workers, steps = 8, 400
	var wg sync.WaitGroup
	errs := make(chan string, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 7))
			var held []uint32
			session := uint64(w + 1)
			for i := 0; i < steps; i++ {
				switch rng.IntN(5) {
				case 0, 1:
					f := []string{"f1", "f2"}[rng.IntN(2)]
					r := s.Apply(Checkout{Session: session, Client: client("u", "h"), Feature: f, Count: 1 + rng.IntN(2), Now: testNow})
					if r.Seat != nil {
						held = append(held, r.Seat.Handle)
					}
				case 2:
					if len(held) > 0 {
						s.Apply(Checkin{Session: session, Handle: held[0]})
						held = held[1:]
					}
				case 3:
					s.Apply(Disconnect{Session: session})
					held = nil
					session += workers
				case 4:
					s.Apply(Heartbeat{Session: session, Now: testNow})
				}
				for _, ps := range s.Status() {
					if ps.InUse > ps.Pool.Count {
						select {
						case errs <- ps.Pool.Key():
						default:
						}
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for k := range errs {
		t.Errorf("pool %s had more seats out than its count", k)
	}
}

// TestReconnectAdoptsLingeringSeat: a job whose connection broke while it
// asked for a linger gets its lingering seat back on reconnect instead of
// a second one.
func TestReconnectAdoptsLingeringSeat(t *testing.T) {
	s := twoSeatState(t)
	c := client("u", "h")
	c.JobID = 42
	first := s.Apply(Checkout{Session: 1, Client: c, Feature: "f1", Count: 1, Linger: time.Minute, Now: testNow}).Seat
	if r := s.Apply(Disconnect{Session: 1, Now: testNow}); len(r.Lingering) != 1 {
		t.Fatalf("disconnect = %+v, want the seat lingering", r)
	}
	r := s.Apply(Checkout{Session: 2, Client: c, Feature: "f1", Count: 1, PrevHandle: first.Handle, Adopt: true, Now: testNow})
	if !r.Adopted || r.Seat.Lingering() {
		t.Fatalf("reconnect = %+v, want the seat adopted and no longer lingering", r)
	}
	if got := s.Status()[0].InUse; got != 1 {
		t.Fatalf("in use = %d, want 1", got)
	}
}
