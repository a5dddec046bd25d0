package state

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
	"time"

	"golm/lmutil/licfile"
)

// dumpPolicy is a policy with something of everything the state keeps
// per pool: a reservation, an options LINGER and a TIMEOUT.
type dumpPolicy struct{ NoPolicy }

func (dumpPolicy) Reservations(p *Pool) []Reservation {
	if p.Feature != "fr" {
		return nil
	}
	return []Reservation{{Pos: "demo.opt:1", Count: 1, Kind: "USER", Name: "u0", Match: func(c Client) bool { return c.User == "u0" }}}
}

func (dumpPolicy) Linger(p *Pool) time.Duration {
	if p.Feature == "fl" {
		return 30 * time.Second
	}
	return 0
}

func (dumpPolicy) Timeout(p *Pool) time.Duration {
	if p.Feature == "ft" {
		return 2 * time.Minute
	}
	return 0
}

// dumpLicense is a license for the dump tests: duplicate grouping, two
// versions, overdraft, linger, TIMEOUT, a reservation, an uncounted
// line, a line that expires on the second day and a suite. gen 1 is
// the license an lmreread brings: a feature gone, a version gone, other
// counts.
func dumpLicense(t testing.TB, gen int) ([]*licfile.Feature, *licfile.Package) {
	f1 := line(t, licfile.KindFeature, "f1", "1.0", "permanent", 3)
	f1.DupGroup = "UHD"
	fo := line(t, licfile.KindFeature, "fo", "1.0", "permanent", 2)
	fo.Overdraft = 1
	lines := []*licfile.Feature{
		f1,
		line(t, licfile.KindIncrement, "f1", "2.0", "permanent", 1),
		fo,
		line(t, licfile.KindFeature, "fl", "1.0", "permanent", 2),
		line(t, licfile.KindFeature, "ft", "1.0", "permanent", 2),
		line(t, licfile.KindFeature, "fr", "1.0", "permanent", 3),
		line(t, licfile.KindIncrement, "fx", "1.0", "16-mar-2026", 2),
		line(t, licfile.KindIncrement, "fx", "1.0", "permanent", 1),
		line(t, licfile.KindFeature, "suite", "1.0", "permanent", 2),
	}
	unc := line(t, licfile.KindFeature, "fu", "1.0", "permanent", 0)
	unc.HostID = licfile.HostIDList{{Type: licfile.HostIDAny, Text: "ANY"}}
	lines = append(lines, unc)
	if gen == 1 {
		lines = append(lines[:1:1], lines[3:]...) // f1 2.0 and fo go
		lines[1] = line(t, licfile.KindFeature, "fl", "1.0", "permanent", 3)
		lines[2] = line(t, licfile.KindFeature, "ft", "1.5", "permanent", 2) // ft 1.0's seats count against it
	}
	pkg := &licfile.Package{Name: "suite", Vendor: "demo", Version: mustVersion(t, "1.0"), Suite: true,
		Components: []licfile.Component{{Name: "c1", Count: 1}, {Name: "c2"}}}
	return lines, pkg
}

func dumpPools(t testing.TB, gen int) []*Pool {
	lines, pkg := dumpLicense(t, gen)
	return BuildPools("demo", lines, pkg)
}

// dumpRun is a random run of commands and what a restore needs to know
// of it: the last license generation reread and the policy in force.
type dumpRun struct {
	t       testing.TB
	rng     *rand.Rand
	now     time.Time
	handles []uint32
	gen     int  // the license of the last Reread, -1 for none
	policy  bool // a SetPolicy with dumpPolicy is in force
	setPol  bool // a SetPolicy was applied
}

var dumpFeatures = []string{"f1", "fo", "fl", "ft", "fr", "fx", "fu", "c1", "c2", "suite", "none"}

// next makes a random command.
func (r *dumpRun) next() Command {
	rng := r.rng
	switch d := rng.IntN(100); {
	case d < 2:
		r.now = r.now.Add(-3 * time.Second) // the clock stepped back
	case d < 4:
		r.now = r.now.Add(20 * time.Hour)
	default:
		r.now = r.now.Add(time.Duration(rng.IntN(40)) * time.Second)
	}
	now := r.now
	switch rng.IntN(10) {
	case 0:
		now = now.In(time.FixedZone("XST", 3600)) // the same instant in other zones
	case 1:
		now = now.UTC()
	}
	session := uint64(rng.IntN(8))
	handle := uint32(rng.IntN(200))
	if len(r.handles) > 0 && rng.IntN(4) > 0 {
		handle = r.handles[rng.IntN(len(r.handles))]
	}
	user := fmt.Sprintf("u%d", rng.IntN(5))
	c := client(user, fmt.Sprintf("h%d", rng.IntN(2)))
	c.JobID = uint64(rng.IntN(3))
	switch rng.IntN(20) {
	case 0, 1, 2, 3, 4, 5, 6:
		return Checkout{Session: session, Client: c, Feature: dumpFeatures[rng.IntN(len(dumpFeatures))],
			Version: []string{"", "1.0", "2.0", "x"}[rng.IntN(4)], VendorData: []string{"", "v"}[rng.IntN(2)],
			Count: 1 + rng.IntN(2), Queue: rng.IntN(3) == 0, Linger: time.Duration(rng.IntN(3)) * 10 * time.Second,
			PrevHandle: []uint32{0, handle}[rng.IntN(2)], Adopt: rng.IntN(2) == 0, Now: now}
	case 7, 8, 9:
		return Checkin{Session: session, Handle: handle, Now: now}
	case 10:
		return Heartbeat{Session: session, Now: now}
	case 11:
		return SetIdle{Session: session, Idle: rng.IntN(2) == 0, Now: now}
	case 12:
		return Disconnect{Session: session, Now: now}
	case 13, 14:
		return Tick{Now: now}
	case 15:
		return Remove{Feature: dumpFeatures[rng.IntN(len(dumpFeatures))], User: user, Host: c.Host, Display: c.Display, Now: now}
	case 16:
		return RemoveHandle{Handle: handle, Now: now}
	case 17:
		return Revoke{Handles: []uint32{handle}}
	case 18:
		r.gen = rng.IntN(2)
		return Reread{Pools: dumpPools(r.t, r.gen)}
	}
	r.setPol, r.policy = true, rng.IntN(3) > 0
	if r.policy {
		return SetPolicy{Policy: dumpPolicy{}}
	}
	return SetPolicy{Policy: NoPolicy{}}
}

// apply applies cmd to s and notes the handles it made.
func (r *dumpRun) apply(s *State, cmd Command) Result {
	res := s.Apply(cmd)
	if res.Seat != nil {
		r.handles = append(r.handles, res.Seat.Handle, res.Seat.Companion)
	}
	if res.Queued != nil {
		r.handles = append(r.handles, res.Queued.Handle)
	}
	return res
}

// base is a new state with the pools and policy of the run so far, what
// Restore restores into.
func (r *dumpRun) base(t testing.TB) *State {
	s := NewState(dumpPools(t, 0))
	s.CheckInvariants(func(err error) { t.Errorf("restored: %v", err) })
	if r.gen >= 0 {
		s.Apply(Reread{Pools: dumpPools(t, r.gen)})
	}
	if r.setPol {
		var p Policy = NoPolicy{}
		if r.policy {
			p = dumpPolicy{}
		}
		s.Apply(SetPolicy{Policy: p})
	}
	return s
}

func snapshotBytes(t testing.TB, s *State) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := s.Snapshot(&b); err != nil {
		t.Fatalf("Snapshot: %v", err)
	}
	return b.Bytes()
}

// renderSeat shows a seat with its pool by key, not by pointer, and
// without the state's own bookkeeping.
func renderSeat(st Seat) string {
	return fmt.Sprintf("{%d %s removed=%v session=%d %+v v=%q vd=%q n=%d start=%s dup=%q comp=%d applinger=%v linger=%v until=%s left=%v}",
		st.Handle, st.Pool.Key(), st.Pool.Removed, st.Session, st.Client, st.Version, st.VendorData, st.Count,
		st.Start, st.Dup, st.Companion, st.AppLinger, st.Linger, st.LingerUntil, st.LingerLeft)
}

func renderSeats(seats []Seat) string {
	var b strings.Builder
	for _, st := range seats {
		b.WriteString(renderSeat(st))
	}
	return b.String()
}

func renderResult(r Result) string {
	var b strings.Builder
	if r.Err != nil {
		fmt.Fprintf(&b, "err=%d,%d ", r.Err.Code, r.Err.Minor)
	}
	if r.Seat != nil {
		fmt.Fprintf(&b, "seat=%s ", renderSeat(*r.Seat))
	}
	if r.Queued != nil {
		fmt.Fprintf(&b, "queued=%+v ", *r.Queued)
	}
	fmt.Fprintf(&b, "freed=%s lingering=%s inactive=%s granted=%s dequeued=%+v adopted=%v resumed=%v warnings=%q",
		renderSeats(r.Freed), renderSeats(r.Lingering), renderSeats(r.Inactive), renderSeats(r.Granted),
		r.Dequeued, r.Adopted, r.Resumed, r.Warnings)
	return b.String()
}

func renderStatus(st []PoolStatus) string {
	var b strings.Builder
	for _, ps := range st {
		fmt.Fprintf(&b, "%s removed=%v inuse=%d limit=%d issued=%d charged=%d seats=%s queued=%+v res=",
			ps.Pool.Key(), ps.Pool.Removed, ps.InUse, ps.Limit, ps.Issued, ps.Charged, renderSeats(ps.Seats), ps.Queued)
		for _, r := range ps.Reservations {
			fmt.Fprintf(&b, "[%s %d %s %s]", r.Pos, r.Count, r.Kind, r.Name)
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// TestSnapshotRoundTrip is the dump's property: a state restored from a
// dump taken at any point of a random run gives the same dump, and then
// the same results, status and dump as the original for every command
// that follows.
func TestSnapshotRoundTrip(t *testing.T) {
	trials, steps := 100, 300
	if testing.Short() {
		trials = 30
	}
	// What the dumps held, so that the test cannot pass on dumps of
	// nearly empty states.
	var removed, lingering, queued, charged int
	defer func() {
		t.Logf("%d dumps: %d with a removed pool, %d with a lingering seat, %d with a queued request, %d with a charged seat",
			trials, removed, lingering, queued, charged)
		if !t.Failed() && (removed == 0 || lingering == 0 || queued == 0 || charged == 0) {
			t.Error("the random runs dumped no state of some kind")
		}
	}()
	for trial := range trials {
		seed := uint64(trial)
		rng := rand.New(rand.NewPCG(seed, 17))
		run := &dumpRun{t: t, rng: rng, now: testNow, gen: -1}
		orig := NewState(dumpPools(t, 0))
		orig.CheckInvariants(func(err error) { t.Errorf("seed %d: %v", seed, err) })
		at := rng.IntN(steps)
		for range at {
			run.apply(orig, run.next())
		}
		dump := snapshotBytes(t, orig)
		st := renderStatus(orig.Status())
		for _, c := range []struct {
			n    *int
			want string
		}{{&removed, "removed=true session"}, {&lingering, "until=2"}, {&queued, `queued=\[\{`}, {&charged, "charged=[1-9]"}} {
			if regexp.MustCompile(c.want).MatchString(st) {
				*c.n++
			}
		}
		restored := run.base(t)
		if err := restored.Restore(bytes.NewReader(dump)); err != nil {
			t.Fatalf("seed %d: Restore after %d commands: %v", seed, at, err)
		}
		if again := snapshotBytes(t, restored); !bytes.Equal(again, dump) {
			t.Fatalf("seed %d: the restored state's dump differs from the dump (%d and %d bytes)", seed, len(again), len(dump))
		}
		if a, b := renderStatus(orig.Status()), renderStatus(restored.Status()); a != b {
			t.Fatalf("seed %d: status after restore\n%s\nwant\n%s", seed, b, a)
		}
		for i := at; i < steps; i++ {
			cmd := run.next()
			a := renderResult(run.apply(orig, cmd))
			b := renderResult(restored.Apply(cmd))
			if a != b {
				t.Fatalf("seed %d: command %d (%T) after a restore at %d:\ngot  %s\nwant %s", seed, i, cmd, at, b, a)
			}
		}
		if a, b := renderStatus(orig.Status()), renderStatus(restored.Status()); a != b {
			t.Fatalf("seed %d: final status\n%s\nwant\n%s", seed, b, a)
		}
		if !bytes.Equal(snapshotBytes(t, orig), snapshotBytes(t, restored)) {
			t.Fatalf("seed %d: final dumps differ", seed)
		}
	}
}

// busyState is a state with seats of every kind: in use, lingering,
// of a removed pool, queued requests and an idle session.
func busyState(t testing.TB) (*State, *dumpRun) {
	run := &dumpRun{t: t, rng: rand.New(rand.NewPCG(1, 2)), now: testNow, gen: -1}
	s := NewState(dumpPools(t, 0))
	for _, cmd := range []Command{
		SetPolicy{Policy: dumpPolicy{}},
		Checkout{Session: 1, Client: client("u1", "h"), Feature: "fo", Count: 2, Now: testNow},
		Checkout{Session: 2, Client: client("u2", "h"), Feature: "fo", Count: 1, Now: testNow},
		Checkout{Session: 3, Client: client("u3", "h"), Feature: "fo", Count: 1, Queue: true, Now: testNow},
		Checkout{Session: 4, Client: client("u4", "h"), Feature: "fl", Count: 1, Now: testNow},
		Checkin{Session: 4, Handle: 104, Now: testNow},
		Checkout{Session: 5, Client: client("u5", "h"), Feature: "c1", Count: 1, Now: testNow},
		SetIdle{Session: 5, Idle: true, Now: testNow},
		Reread{Pools: dumpPools(t, 1)},
	} {
		s.Apply(cmd)
	}
	run.gen, run.setPol, run.policy = 1, true, true
	return s, run
}

// TestSnapshotBusy checks one dump of every kind of seat by hand.
func TestSnapshotBusy(t *testing.T) {
	s, run := busyState(t)
	st := renderStatus(s.Status())
	for _, want := range []string{"removed=true session=1", "session=0", "linger=30s", "comp=106"} {
		if !strings.Contains(st, want) {
			t.Fatalf("the busy state has no %q:\n%s", want, st)
		}
	}
	if _, pos := s.Lookup(3, 103); pos != 1 {
		t.Fatalf("the busy state's queued request is at %d, want 1", pos)
	}
	dump := snapshotBytes(t, s)
	r := run.base(t)
	if err := r.Restore(bytes.NewReader(dump)); err != nil {
		t.Fatal(err)
	}
	if got := renderStatus(r.Status()); got != st {
		t.Errorf("restored status\n%s\nwant\n%s", got, st)
	}
	if _, pos := r.Lookup(3, 103); pos != 1 {
		t.Errorf("the restored queued request is at %d, want 1", pos)
	}
	// The same in both: the removed pool's seats go back, the lingering
	// seat's linger ends, TIMEOUT reclaims nothing (no pool has one).
	later := testNow.Add(time.Hour)
	for _, cmd := range []Command{Disconnect{Session: 1, Now: later}, Tick{Now: later}, Checkin{Session: 2, Handle: 102, Now: later}} {
		if a, b := renderResult(s.Apply(cmd)), renderResult(r.Apply(cmd)); a != b {
			t.Errorf("%T: restored %s, want %s", cmd, b, a)
		}
	}
}

func TestRestoreRefuses(t *testing.T) {
	s, run := busyState(t)
	dump := snapshotBytes(t, s)
	flip := func(i int) []byte {
		b := bytes.Clone(dump)
		b[i] ^= 0x40
		return b
	}
	tests := []struct {
		name string
		data []byte
		into func() *State
	}{
		{"empty", nil, nil},
		{"not a dump", []byte("FEATURE f1 demo 1.0 permanent 1"), nil},
		{"truncated", dump[:len(dump)/2], nil},
		{"a bit flipped", flip(len(dump) / 2), nil},
		{"another version", func() []byte {
			b := bytes.Clone(dump)
			b[len(dumpMagic)] = dumpVersion + 1
			return b
		}(), nil},
		{"other pools", dump, func() *State { return NewState(dumpPools(t, 0)) }},
		{"no pools", dump, func() *State { return NewState(nil) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			into := run.base(t)
			if tt.into != nil {
				into = tt.into()
			}
			before := snapshotBytes(t, into)
			err := into.Restore(bytes.NewReader(tt.data))
			if !errors.Is(err, ErrDump) {
				t.Fatalf("Restore = %v, want ErrDump", err)
			}
			if after := snapshotBytes(t, into); !bytes.Equal(after, before) {
				t.Error("a refused Restore changed the state")
			}
		})
	}
	t.Run("a state in use", func(t *testing.T) {
		if err := s.Restore(bytes.NewReader(dump)); err == nil || errors.Is(err, ErrDump) {
			t.Fatalf("Restore into a state with seats = %v, want a refusal", err)
		}
	})
}

// TestSnapshotDeterministic: the same state gives the same bytes, and a
// state's dump does not depend on the order its maps iterate in.
func TestSnapshotDeterministic(t *testing.T) {
	s, _ := busyState(t)
	first := snapshotBytes(t, s)
	for range 20 {
		if !bytes.Equal(snapshotBytes(t, s), first) {
			t.Fatal("two dumps of one state differ")
		}
	}
	t2, _ := busyState(t)
	if !bytes.Equal(snapshotBytes(t, t2), first) {
		t.Fatal("dumps of two states built by the same commands differ")
	}
}

// withSum is body with its checksum appended: a dump as Snapshot writes
// it, for dumps a test or the fuzzer makes.
func withSum(body []byte) []byte {
	return binary.LittleEndian.AppendUint32(bytes.Clone(body), crc32.Checksum(body, crcTable))
}

// TestRestoreRefusesInconsistent: dumps whose checksum is right but
// whose seat table does not hold together are refused.
func TestRestoreRefusesInconsistent(t *testing.T) {
	s, run := busyState(t)
	dump := snapshotBytes(t, s)
	body := dump[:len(dump)-4]
	// The seats start after a fixed prefix that is hard to find by hand;
	// instead, every single-byte change of the body that Restore accepts
	// must still give a state that holds together, and most must be
	// refused.
	refused := 0
	for i := len(dumpMagic) + 1; i < len(body); i++ {
		for _, x := range []byte{0x01, 0x80, 0xff} {
			b := bytes.Clone(body)
			b[i] ^= x
			into := run.base(t)
			if err := into.Restore(bytes.NewReader(withSum(b))); err != nil {
				if !errors.Is(err, ErrDump) {
					t.Fatalf("byte %d ^ %#x: Restore = %v, want ErrDump", i, x, err)
				}
				refused++
				continue
			}
			into.Apply(Tick{Now: testNow.Add(time.Hour)})
		}
	}
	if refused < len(body) {
		t.Errorf("only %d of %d changed dumps refused", refused, 3*(len(body)-len(dumpMagic)-1))
	}
}

// FuzzRestore: no dump makes Restore panic, and a state Restore accepts
// dumps to the same bytes and serves commands. The fuzzer changes the
// body; the checksum is computed for it, or every change would stop at
// the checksum.
func FuzzRestore(f *testing.F) {
	s, run := busyState(f)
	for _, d := range [][]byte{snapshotBytes(f, s), snapshotBytes(f, NewState(dumpPools(f, 1)))} {
		f.Add(d[:len(d)-4])
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		data := withSum(body)
		into := run.base(t)
		if err := into.Restore(bytes.NewReader(data)); err != nil {
			if !errors.Is(err, ErrDump) {
				t.Fatalf("Restore = %v, want ErrDump", err)
			}
			return
		}
		if again := snapshotBytes(t, into); !bytes.Equal(again, data) {
			t.Fatalf("an accepted dump of %d bytes dumps to %d other bytes", len(data), len(again))
		}
		now := testNow.Add(48 * time.Hour)
		for _, cmd := range []Command{
			Tick{Now: now},
			Checkout{Session: 1, Client: client("u1", "h"), Feature: "fo", Count: 1, Queue: true, Now: now},
			Reread{Pools: dumpPools(t, 0)},
			Disconnect{Session: 1, Now: now},
			Disconnect{Session: 3, Now: now},
			Tick{Now: now.Add(time.Hour)},
		} {
			into.Apply(cmd)
		}
		into.Status()
	})
}

// BenchmarkSnapshot measures the dump and the restore of a seat table of
// 10,000 seats over 1,000 features (statusState), what a triad member
// pays per Raft snapshot and per restore.
func BenchmarkSnapshot(b *testing.B) {
	s := statusState(b)
	dump := snapshotBytes(b, s)
	b.Run("dump", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(dump)))
		for b.Loop() {
			snapshotBytes(b, s)
		}
	})
	b.Run("restore", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(dump)))
		pools := s.Status()
		for b.Loop() {
			b.StopTimer()
			lines := make([]*licfile.Feature, len(pools))
			for i, ps := range pools {
				lines[i] = ps.Pool.Lines[0]
			}
			into := NewState(BuildPools("demo", lines))
			b.StartTimer()
			if err := into.Restore(bytes.NewReader(dump)); err != nil {
				b.Fatal(err)
			}
		}
	})
}
