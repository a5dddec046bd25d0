package state

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"golm/lmutil/licfile"
	"golm/lmutil/protocol/lmerr"
)

var testNow = time.Date(2026, 3, 15, 10, 30, 0, 0, time.Local)

func mustVersion(t testing.TB, s string) licfile.Version {
	t.Helper()
	v, ok := parseVersion(s)
	if !ok {
		t.Fatalf("parseVersion(%q) failed", s)
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
		if _, ok := parseVersion(bad); ok {
			t.Errorf("parseVersion(%q) ok, want failure", bad)
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
		wantCode lmerr.Code
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
	for i, want := range []lmerr.Code{0, 0, -4, -4} {
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
		code  lmerr.Code
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
	check := func(feature string, want lmerr.Code) {
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

// start returns f with START= set to d.
func start(t *testing.T, f *licfile.Feature, d string) *licfile.Feature {
	f.Start = date(t, d)
	return f
}

// overdraft returns f with OVERDRAFT= set to n.
func overdraft(f *licfile.Feature, n int) *licfile.Feature {
	f.Overdraft = n
	return f
}

// grantAll checks out one seat per new session until a checkout fails
// (at most 50), and returns how many were granted and the first denial.
func grantAll(s *State, feature string, session *uint64, now time.Time) (granted int, code lmerr.Code) {
	for range 50 {
		*session++
		r := s.Apply(Checkout{Session: *session, Client: client(fmt.Sprintf("u%d", *session), "h"), Feature: feature, Version: "1.0", Count: 1, Now: now})
		if r.Err != nil {
			return granted, r.Err.Code
		}
		granted++
	}
	return granted, 0
}

// TestLineDates: every line of a pool gives its seats only between its
// own START and the end of its expiry day, in whichever order the lines
// come; lmstat's issued count is the seats of the lines valid now.
func TestLineDates(t *testing.T) {
	inc := func(expiry string, count int) *licfile.Feature {
		return line(t, licfile.KindIncrement, "p9", "1.0", expiry, count)
	}
	tests := []struct {
		name    string
		lines   func() []*licfile.Feature
		granted int
		code    lmerr.Code // of the checkout after the last granted
		issued  int
	}{
		{"expired then permanent", func() []*licfile.Feature { return []*licfile.Feature{inc("1-jan-2020", 2), inc("permanent", 3)} }, 3, -4, 3},
		{"permanent then expired", func() []*licfile.Feature { return []*licfile.Feature{inc("permanent", 3), inc("1-jan-2020", 2)} }, 3, -4, 3},
		{"future start then valid", func() []*licfile.Feature {
			return []*licfile.Feature{start(t, inc("permanent", 2), "1-jan-2030"), inc("permanent", 3)}
		}, 3, -4, 3},
		{"valid then future start", func() []*licfile.Feature {
			return []*licfile.Feature{inc("permanent", 3), start(t, inc("permanent", 2), "1-jan-2030")}
		}, 3, -4, 3},
		{"started in the past", func() []*licfile.Feature {
			return []*licfile.Feature{inc("permanent", 3), start(t, inc("permanent", 2), "1-jan-2020")}
		}, 5, -4, 5},
		{"expires today", func() []*licfile.Feature { return []*licfile.Feature{inc("15-mar-2026", 2), inc("permanent", 3)} }, 5, -4, 5},
		{"all expired", func() []*licfile.Feature { return []*licfile.Feature{inc("1-jan-2020", 2), inc("1-feb-2020", 3)} }, 0, -10, 0},
		{"none started", func() []*licfile.Feature {
			return []*licfile.Feature{start(t, inc("permanent", 2), "1-jan-2030"), start(t, inc("permanent", 3), "1-jan-2031")}
		}, 0, -31, 0},
		{"expired and not started", func() []*licfile.Feature {
			return []*licfile.Feature{inc("1-jan-2020", 2), start(t, inc("permanent", 3), "1-jan-2030")}
		}, 0, -31, 0},
		{"overdraft of an expired line", func() []*licfile.Feature {
			return []*licfile.Feature{overdraft(inc("1-jan-2020", 2), 2), inc("permanent", 3)}
		}, 3, -4, 3},
		{"overdraft of a valid line", func() []*licfile.Feature {
			return []*licfile.Feature{inc("1-jan-2020", 2), overdraft(inc("permanent", 3), 1)}
		}, 4, -4, 3},
		{"uncounted and expired", func() []*licfile.Feature { return []*licfile.Feature{inc("1-jan-2020", 0)} }, 0, -10, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := NewState(BuildPools("demo", tt.lines()))
			s.CheckInvariants(func(err error) { t.Error(err) })
			var session uint64
			granted, code := grantAll(s, "p9", &session, testNow)
			if granted != tt.granted || code != tt.code {
				t.Errorf("granted %d then code %d, want %d then %d", granted, code, tt.granted, tt.code)
			}
			issued := 0
			for _, ps := range s.statusAt(testNow) {
				issued += ps.Issued
			}
			if issued != tt.issued {
				t.Errorf("issued %d, want %d", issued, tt.issued)
			}
		})
	}
}

// TestLineExpiresWhileRunning: a line that expires while the vendor
// daemon runs stops giving new seats at that moment (the seats already
// out run on, as in FLEXlm), and one that starts gives its seats from
// its START on, without a restart or a reread.
func TestLineExpiresWhileRunning(t *testing.T) {
	midnight := time.Date(2026, 3, 16, 0, 0, 0, 0, time.Local)
	t.Run("expiry", func(t *testing.T) {
		s := NewState(BuildPools("demo", []*licfile.Feature{
			line(t, licfile.KindIncrement, "f1", "1.0", "15-mar-2026", 2),
			line(t, licfile.KindIncrement, "f1", "1.0", "permanent", 3),
		}))
		s.CheckInvariants(func(err error) { t.Error(err) })
		var session uint64
		if granted, _ := grantAll(s, "f1", &session, testNow); granted != 5 {
			t.Fatalf("granted %d before the expiry, want 5", granted)
		}
		now := midnight.Add(-time.Second)
		for _, st := range s.statusAt(now) {
			if st.Issued != 5 {
				t.Errorf("issued %d one second before the expiry, want 5", st.Issued)
			}
		}
		now = midnight
		s.Apply(Tick{Now: now})
		st := s.statusAt(now)
		if st[0].Issued != 3 || st[0].InUse != 5 || len(st[0].Seats) != 5 {
			t.Fatalf("after the expiry: issued %d, in use %d, %d seats; want 3, 5, 5", st[0].Issued, st[0].InUse, len(st[0].Seats))
		}
		handles := []uint32{st[0].Seats[0].Handle, st[0].Seats[1].Handle, st[0].Seats[2].Handle}
		for i, h := range handles {
			if r := s.Apply(Checkin{Session: uint64(i + 1), Handle: h, Now: now}); r.Err != nil {
				t.Fatalf("checkin %d: %v", h, r.Err)
			}
			r := s.Apply(Checkout{Session: 100, Client: client("new", "h"), Feature: "f1", Count: 1, Now: now})
			wantCode := lmerr.MaxUsers
			if i == 2 { // 2 seats left out of 3
				wantCode = 0
			}
			if got := lmerr.CodeOf(errOrNil(r.Err)); got != wantCode {
				t.Fatalf("checkout with %d seats out of 3: code %d, want %d", 4-i, got, wantCode)
			}
		}
	})
	t.Run("start", func(t *testing.T) {
		s := NewState(BuildPools("demo", []*licfile.Feature{
			line(t, licfile.KindIncrement, "f1", "1.0", "permanent", 1),
			start(t, line(t, licfile.KindIncrement, "f1", "1.0", "permanent", 2), "16-mar-2026"),
		}))
		s.CheckInvariants(func(err error) { t.Error(err) })
		var session uint64
		if granted, code := grantAll(s, "f1", &session, testNow); granted != 1 || code != -4 {
			t.Fatalf("before START: granted %d then %d, want 1 then -4", granted, code)
		}
		if granted, code := grantAll(s, "f1", &session, midnight); granted != 2 || code != -4 {
			t.Fatalf("from START: granted %d then %d, want 2 then -4", granted, code)
		}
	})
	t.Run("last line expires", func(t *testing.T) {
		s := NewState(BuildPools("demo", []*licfile.Feature{line(t, licfile.KindFeature, "f1", "1.0", "15-mar-2026", 2)}))
		var session uint64
		grantAll(s, "f1", &session, testNow)
		if _, code := grantAll(s, "f1", &session, midnight); code != -10 {
			t.Fatalf("after the only line expired: code %d, want -10", code)
		}
	})
}

// TestPoolPartsAddUp: whatever UPGRADE and PACKAGE lines do to a pool's
// count, its lines' parts add up to it.
func TestPoolPartsAddUp(t *testing.T) {
	up := line(t, licfile.KindUpgrade, "f1", "2.0", "permanent", 2)
	up.FromVersion = mustVersion(t, "1.0")
	lines := []*licfile.Feature{
		line(t, licfile.KindFeature, "f1", "1.0", "permanent", 3),
		line(t, licfile.KindIncrement, "f1", "1.0", "1-jan-2020", 2),
		up,
		line(t, licfile.KindIncrement, "suite", "1.0", "permanent", 2),
		line(t, licfile.KindIncrement, "suite", "1.0", "1-jan-2030", 1),
	}
	pkg := &licfile.Package{Name: "suite", Vendor: "demo", Components: []licfile.Component{{Name: "c1", Count: 2}, {Name: "c2"}}}
	pools := BuildPools("demo", lines, pkg)
	for _, p := range pools {
		sum := 0
		for _, pp := range p.Parts {
			sum += pp.Count
		}
		if sum != p.Count {
			t.Errorf("pool %s: parts add up to %d, count %d", p.Key(), sum, p.Count)
		}
	}
	s := NewState(pools)
	var session uint64
	for _, tt := range []struct {
		feature string
		granted int
	}{
		{"f1", 5}, // 1.0: 3, and the 2 seats of the expired line upgraded to 2.0 by a permanent UPGRADE
		{"c1", 6}, // (2 + 1) x 2
		{"c2", 3},
	} {
		if granted, _ := grantAll(s, tt.feature, &session, testNow); granted != tt.granted {
			t.Errorf("%s: granted %d, want %d", tt.feature, granted, tt.granted)
		}
	}
}

// locked returns f node-locked to host.
func locked(f *licfile.Feature, host string) *licfile.Feature {
	f.HostID = licfile.HostIDList{{Type: licfile.HostIDHostname, Text: "HOSTNAME=" + host, Value: host}}
	return f
}

// TestRereadLeftoversCount: seats held under lines an lmreread took away
// count against the new file's pools of the feature they could have been
// granted from, so a reread of lines with another version or
// VENDOR_STRING does not grant the feature's seats a second time; nothing
// is taken from the holders.
func TestRereadLeftoversCount(t *testing.T) {
	f1 := func(version string, count int) *licfile.Feature {
		return line(t, licfile.KindFeature, "f1", version, "permanent", count)
	}
	vs := func(f *licfile.Feature, s string) *licfile.Feature { f.VendorString = s; return f }
	type step struct {
		reread  []*licfile.Feature // nil: no reread
		checkin int                // seats of the first holders to check in first
		host    string             // of the new checkouts ("h" when "")
		version string             // asked by the new checkouts ("1.0" when "")
		granted int                // new seats granted before a denial
		code    lmerr.Code         // the denial
	}
	tests := []struct {
		name   string
		rules  PoolRules
		lines  []*licfile.Feature
		held   int    // seats taken under lines, v1.0 asked
		ask    string // the version the holders asked for
		holder string // the holders' host ("h" when "")
		steps  []step
	}{
		{"other version", PoolRules{}, []*licfile.Feature{f1("1.0", 4)}, 4, "1.0", "", []step{
			{reread: []*licfile.Feature{f1("2.0", 4)}, code: -4},
			{checkin: 1, granted: 1, code: -4},
		}},
		{"other vendor string", PoolRules{VendorStringPools: true}, []*licfile.Feature{vs(f1("1.0", 4), "a")}, 4, "1.0", "", []step{
			{reread: []*licfile.Feature{vs(f1("1.0", 4), "b")}, code: -4},
		}},
		{"two rereads", PoolRules{}, []*licfile.Feature{f1("1.0", 4)}, 4, "1.0", "", []step{
			{reread: []*licfile.Feature{f1("2.0", 4)}, code: -4},
			{reread: []*licfile.Feature{f1("3.0", 4)}, code: -4},
			{checkin: 2, granted: 2, code: -4},
			{reread: []*licfile.Feature{f1("4.0", 4)}, code: -4},
		}},
		{"count lowered", PoolRules{}, []*licfile.Feature{f1("1.0", 4)}, 4, "1.0", "", []step{
			{reread: []*licfile.Feature{f1("2.0", 2)}, code: -4},
			{checkin: 2, code: -4}, // 2 out of 2
			{checkin: 1, granted: 1, code: -4},
		}},
		{"count raised", PoolRules{}, []*licfile.Feature{f1("1.0", 4)}, 4, "1.0", "", []step{
			{reread: []*licfile.Feature{f1("2.0", 6)}, granted: 2, code: -4},
		}},
		{"back to the original file", PoolRules{}, []*licfile.Feature{f1("1.0", 4)}, 4, "1.0", "", []step{
			{reread: []*licfile.Feature{f1("2.0", 4)}, code: -4},
			{reread: []*licfile.Feature{f1("1.0", 4)}, code: -4},
			{checkin: 1, granted: 1, code: -4},
		}},
		{"version lowered below what the holders asked", PoolRules{}, []*licfile.Feature{f1("2.0", 4)}, 4, "2.0", "", []step{
			// The 2.0 holders could not have used a 1.0 line.
			{reread: []*licfile.Feature{f1("1.0", 4)}, granted: 4, code: -4},
		}},
		{"two new pools", PoolRules{}, []*licfile.Feature{f1("1.0", 4)}, 4, "1.0", "", []step{
			{reread: []*licfile.Feature{f1("2.0", 2), line(t, licfile.KindIncrement, "f1", "3.0", "permanent", 3)}, granted: 1, code: -4},
		}},
		{"uncounted new line", PoolRules{}, []*licfile.Feature{f1("1.0", 4)}, 4, "1.0", "", []step{
			{reread: []*licfile.Feature{f1("2.0", 0)}, granted: 50},
		}},
		{"uncounted old line", PoolRules{}, []*licfile.Feature{f1("1.0", 0)}, 4, "1.0", "", []step{
			{reread: []*licfile.Feature{f1("2.0", 4)}, granted: 4, code: -4},
		}},
		{"node-locked to another host", PoolRules{}, []*licfile.Feature{locked(f1("1.0", 2), "a")}, 2, "1.0", "a", []step{
			{reread: []*licfile.Feature{locked(f1("2.0", 2), "a"), locked(line(t, licfile.KindIncrement, "f1", "2.0", "permanent", 2), "b")}, host: "b", granted: 2, code: -4},
			{host: "a", code: -4},
		}},
		{"floating seats against node-locked lines", PoolRules{}, []*licfile.Feature{f1("1.0", 2)}, 2, "1.0", "a", []step{
			{reread: []*licfile.Feature{locked(f1("2.0", 2), "b")}, host: "b", granted: 2, code: -4},
		}},
		{"expired new line", PoolRules{}, []*licfile.Feature{f1("1.0", 4)}, 4, "1.0", "", []step{
			{reread: []*licfile.Feature{line(t, licfile.KindFeature, "f1", "2.0", "1-jan-2020", 4), line(t, licfile.KindIncrement, "f1", "3.0", "permanent", 4)}, code: -4},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := NewState(tt.rules.Build("demo", tt.lines, nil))
			s.CheckInvariants(func(err error) { t.Error(err) })
			holder := cmp.Or(tt.holder, "h")
			var held []uint32
			for i := range tt.held {
				r := s.Apply(Checkout{Session: uint64(i + 1), Client: client(fmt.Sprintf("old%d", i), holder), Feature: "f1", Version: tt.ask, Count: 1, Now: testNow})
				if r.Err != nil {
					t.Fatalf("holding seat %d: %v", i, r.Err)
				}
				held = append(held, r.Seat.Handle)
			}
			session := uint64(1000)
			for i, st := range tt.steps {
				if st.reread != nil {
					s.Apply(Reread{Pools: tt.rules.Build("demo", st.reread, nil)})
				}
				for range st.checkin {
					h := held[0]
					held = held[1:]
					if r := s.Apply(Checkin{Session: uint64(h - firstHandle + 1), Handle: h, Now: testNow}); r.Err != nil {
						t.Fatalf("step %d: checkin %d: %v", i, h, r.Err)
					}
				}
				granted, code := 0, lmerr.Code(0)
				for range 50 {
					session++
					r := s.Apply(Checkout{Session: session, Client: client(fmt.Sprintf("new%d", session), cmp.Or(st.host, "h")), Feature: "f1",
						Version: cmp.Or(st.version, "1.0"), Count: 1, Now: testNow})
					if r.Err != nil {
						code = r.Err.Code
						break
					}
					granted++
				}
				if granted != st.granted || code != st.code {
					t.Fatalf("step %d: granted %d then code %d, want %d then %d", i, granted, code, st.granted, st.code)
				}
			}
			// Nothing was taken from the first holders.
			for _, h := range held {
				if seat, _ := s.Lookup(uint64(h-firstHandle+1), h); seat == nil {
					t.Errorf("seat %d of a first holder gone", h)
				}
			}
		})
	}
}

// TestRereadBackReattaches: rereading the original file puts the seats
// held under it back in their pool, shown there by lmstat.
func TestRereadBackReattaches(t *testing.T) {
	orig := func() []*Pool {
		return BuildPools("demo", []*licfile.Feature{line(t, licfile.KindFeature, "f1", "1.0", "permanent", 2)})
	}
	s := NewState(orig())
	s.CheckInvariants(func(err error) { t.Error(err) })
	s.Apply(Checkout{Session: 1, Client: client("a", "h"), Feature: "f1", Count: 1, Now: testNow})
	s.Apply(Reread{Pools: BuildPools("demo", []*licfile.Feature{line(t, licfile.KindFeature, "f1", "2.0", "permanent", 2)})})
	st := s.Status()
	if len(st) != 2 || !st[1].Pool.Removed || len(st[1].Seats) != 1 || st[0].Charged != 1 || st[0].InUse != 0 || st[0].Issued != 2 {
		t.Fatalf("after the reread: %d pools, want the new one (issued 2, 1 charged, none in use) and the removed one holding the seat", len(st))
	}
	s.Apply(Reread{Pools: orig()})
	st = s.Status()
	if len(st) != 1 || st[0].Pool.Removed || len(st[0].Seats) != 1 || st[0].Charged != 0 || st[0].InUse != 1 {
		t.Fatalf("back to the original: %+v", st)
	}
}

// reservePolicy is NoPolicy with RESERVE n for user for every pool.
type reservePolicy struct {
	NoPolicy
	n    int
	user string
}

func (p reservePolicy) Reservations(*Pool) []Reservation {
	return []Reservation{{Count: p.n, Kind: "USER", Name: p.user, Match: func(c Client) bool { return c.User == p.user }}}
}

// TestReserveOnValidLines: RESERVE lines are fitted to the seats of the
// lines valid now, not to those of expired lines.
func TestReserveOnValidLines(t *testing.T) {
	s := NewState(BuildPools("demo", []*licfile.Feature{
		line(t, licfile.KindIncrement, "f1", "1.0", "1-jan-2020", 2),
		line(t, licfile.KindIncrement, "f1", "1.0", "permanent", 3),
	}))
	s.CheckInvariants(func(err error) { t.Error(err) })
	s.Apply(Tick{Now: testNow})
	r := s.Apply(SetPolicy{Policy: reservePolicy{n: 4, user: "robert"}})
	if len(r.Warnings) != 1 || !strings.Contains(r.Warnings[0], "only 3 licenses reserved") {
		t.Fatalf("warnings %q, want the reservation cut to 3", r.Warnings)
	}
	if got := lmerr.CodeOf(errOrNil(s.Apply(Checkout{Session: 1, Client: client("ann", "h"), Feature: "f1", Count: 1, Now: testNow}).Err)); got != -101 {
		t.Errorf("ann with every valid seat reserved: code %d, want -101", got)
	}
}
