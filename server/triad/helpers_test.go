package triad

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/raft"

	"golm/lmutil/licfile"
	"golm/lmutil/protocol/lmerr"
	"golm/lmutil/server/state"
)

// baseLicense is the license every test member starts from: f1 is
// scarce, f2 lingers (the application asks), big is for benchmarks.
const baseLicense = `SERVER h1 ANY 27000
SERVER h2 ANY 27000
SERVER h3 ANY 27000
VENDOR demo
FEATURE f1 demo 1.0 permanent 3 SIGN=AB
FEATURE f2 demo 1.0 permanent 2 SIGN=AB
FEATURE big demo 1.0 permanent 1000000 SIGN=AB
`

// rereadLicense gives f1 one more seat.
const rereadLicense = `SERVER h1 ANY 27000
SERVER h2 ANY 27000
SERVER h3 ANY 27000
VENDOR demo
FEATURE f1 demo 1.0 permanent 4 SIGN=AB
FEATURE f2 demo 1.0 permanent 2 SIGN=AB
FEATURE big demo 1.0 permanent 1000000 SIGN=AB
`

func pools(t testing.TB, text string) []*state.Pool {
	t.Helper()
	f, err := licfile.Parse(strings.NewReader(text), "license.lic")
	if err != nil {
		t.Fatal(err)
	}
	return state.BuildPools("demo", f.Features, f.Packages...)
}

// licenses is the license texts every member can build pools from, by
// hash, as each member would from its own copy of the files.
type licenses map[Hash]string

func newLicenses(texts ...string) licenses {
	l := licenses{}
	for _, s := range texts {
		l[sha256.Sum256([]byte(s))] = s
	}
	return l
}

func hashOf(text string) Hash { return sha256.Sum256([]byte(text)) }

// fsmConfig returns an FSMConfig whose states check their invariants
// after every command, failing t.
func fsmConfig(t testing.TB, lic licenses) FSMConfig {
	return FSMConfig{
		NewState: func() *state.State {
			st := state.NewState(pools(t, baseLicense))
			st.CheckInvariants(func(err error) { t.Errorf("invariant: %v", err) })
			return st
		},
		PoolsByHash: func(h Hash) ([]*state.Pool, error) {
			text, ok := lic[h]
			if !ok {
				return nil, fmt.Errorf("no license file with hash %s", h)
			}
			return pools(t, text), nil
		},
		PolicyByHash: func(h Hash) (state.Policy, error) { return state.NoPolicy{}, nil },
	}
}

// digest renders what a state serves, for comparing members: every
// pool's counts, seats and queue.
func digest(st *state.State) string {
	var b strings.Builder
	for _, ps := range st.Status() {
		fmt.Fprintf(&b, "%s inuse=%d limit=%d issued=%d\n", ps.Pool.Key(), ps.InUse, ps.Limit, ps.Issued)
		for _, s := range ps.Seats {
			fmt.Fprintf(&b, "  seat %d session=%d %s@%s count=%d start=%d linger=%v until=%d dup=%q\n",
				s.Handle, s.Session, s.Client.User, s.Client.Host, s.Count, s.Start.UnixNano(), s.Linger, s.LingerUntil.UnixNano(), s.Dup)
		}
		for _, w := range ps.Queued {
			fmt.Fprintf(&b, "  queued %d session=%d %s count=%d\n", w.Handle, w.Session, w.Client.User, w.Count)
		}
	}
	return b.String()
}

// seatsOf are the handles of the seats out, with their sessions.
func seatsOf(st *state.State) map[uint32]uint64 {
	out := map[uint32]uint64{}
	for _, ps := range st.Status() {
		for _, s := range ps.Seats {
			out[s.Handle] = s.Session
		}
	}
	return out
}

func checkout(session uint64, user, feature string) state.Checkout {
	return state.Checkout{Session: session, Client: state.Client{User: user, Host: "h", Display: "d", IP: "127.0.0.1"}, Feature: feature, Version: "1.0", Count: 1}
}

// diskRaft is the Raft configuration of the tests on TCP with the logs
// on disk: timeouts short enough for tests, long enough that a master
// whose fsyncs are slowed by a loaded machine keeps its lease.
func diskRaft() *raft.Config {
	c := raft.DefaultConfig()
	c.HeartbeatTimeout = 500 * time.Millisecond
	c.ElectionTimeout = 500 * time.Millisecond
	c.LeaderLeaseTimeout = 250 * time.Millisecond
	c.CommitTimeout = 5 * time.Millisecond
	return c
}

// fastRaft is a Raft configuration with timeouts short enough for tests
// in memory.
func fastRaft() *raft.Config {
	c := raft.DefaultConfig()
	c.HeartbeatTimeout = 200 * time.Millisecond
	c.ElectionTimeout = 200 * time.Millisecond
	c.LeaderLeaseTimeout = 100 * time.Millisecond
	c.CommitTimeout = 5 * time.Millisecond
	return c
}

// testLog collects Raft's warnings into t.Log until the test's members
// are shut down.
type testLog struct {
	mu   sync.Mutex
	t    testing.TB
	done bool
}

func (w *testLog) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.done && testing.Verbose() {
		w.t.Log(strings.TrimRight(string(p), "\n"))
	}
	return len(p), nil
}

func (w *testLog) close() {
	w.mu.Lock()
	w.done = true
	w.mu.Unlock()
}

// cluster is three members of one group.
type cluster struct {
	t       testing.TB
	peers   [3]Peer
	dirs    [3]string
	members [3]*Member
	inmem   [3]*raft.InmemTransport
	log     *testLog
	raft    *raft.Config
	fsm     func(i int) FSMConfig // member i's
	clock   clock
	// batchWait is the members' Config.BatchWait.
	batchWait time.Duration
}

// clock is the members' clock: real time moved forward by advance.
type clock struct{ offset atomic.Int64 }

func (c *clock) Now() time.Time          { return time.Now().Add(time.Duration(c.offset.Load())) }
func (c *clock) advance(d time.Duration) { c.offset.Add(int64(d)) }

// newTCPCluster starts three members on loopback TCP with their stores
// in temporary directories.
func newTCPCluster(t testing.TB, rc *raft.Config, lic licenses, opts ...func(*cluster)) *cluster {
	fsm := fsmConfig(t, lic)
	c := &cluster{t: t, log: &testLog{t: t}, raft: rc, fsm: func(int) FSMConfig { return fsm }}
	for _, o := range opts {
		o(c)
	}
	var trans [3]raft.Transport
	for i := range 3 {
		tr, err := raft.NewTCPTransport("127.0.0.1:0", nil, 3, 2*time.Second, io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		trans[i] = tr
		c.peers[i] = Peer{ID: fmt.Sprintf("h%d", i+1), Addr: string(tr.LocalAddr())}
		c.dirs[i] = t.TempDir()
	}
	t.Cleanup(c.shutdown)
	for i := range 3 {
		c.start(i, trans[i])
	}
	return c
}

// newInmemCluster starts three members on in-memory transports and
// stores, for partition tests.
func newInmemCluster(t testing.TB, rc *raft.Config, fsm func(i int) FSMConfig) *cluster {
	c := &cluster{t: t, log: &testLog{t: t}, raft: rc, fsm: fsm}
	for i := range 3 {
		addr, tr := raft.NewInmemTransport("")
		c.inmem[i] = tr
		c.peers[i] = Peer{ID: fmt.Sprintf("h%d", i+1), Addr: string(addr)}
	}
	for i := range 3 {
		for j := range 3 {
			if i != j {
				c.inmem[i].Connect(raft.ServerAddress(c.peers[j].Addr), c.inmem[j])
			}
		}
	}
	t.Cleanup(c.shutdown)
	for i := range 3 {
		c.start(i, c.inmem[i])
	}
	return c
}

func (c *cluster) start(i int, tr raft.Transport) {
	c.t.Helper()
	m, err := New(Config{
		ID: c.peers[i].ID, Peers: c.peers, DataDir: c.dirs[i], Transport: tr,
		FSMConfig: c.fsm(i), Raft: c.raft, Log: c.log, Now: c.clock.Now,
		BatchWait: c.batchWait,
	})
	if err != nil {
		c.t.Fatal(err)
	}
	c.members[i] = m
}

// restart starts member i again on its data directory and address.
func (c *cluster) restart(i int) {
	c.t.Helper()
	tr, err := raft.NewTCPTransport(c.peers[i].Addr, nil, 3, 2*time.Second, io.Discard)
	if err != nil {
		c.t.Fatal(err)
	}
	c.start(i, tr)
}

// isolate cuts member i off from the other two, both ways.
func (c *cluster) isolate(i int) {
	for j := range 3 {
		if j != i {
			c.inmem[i].Disconnect(raft.ServerAddress(c.peers[j].Addr))
			c.inmem[j].Disconnect(raft.ServerAddress(c.peers[i].Addr))
		}
	}
}

// heal connects every member with every other again.
func (c *cluster) heal() {
	for i := range 3 {
		for j := range 3 {
			if i != j {
				c.inmem[i].Connect(raft.ServerAddress(c.peers[j].Addr), c.inmem[j])
			}
		}
	}
}

func (c *cluster) stop(i int) {
	if c.members[i] != nil {
		c.members[i].Shutdown()
		c.members[i] = nil
	}
}

func (c *cluster) shutdown() {
	var wg sync.WaitGroup
	for i := range 3 {
		wg.Add(1)
		go func() { defer wg.Done(); c.stop(i) }()
	}
	wg.Wait()
	c.log.close()
}

// use makes the cluster's helpers fail t, a subtest, until the
// returned func restores the test's.
func (c *cluster) use(t testing.TB) func() {
	was := c.t
	c.t = t
	return func() { c.t = was }
}

// running are the members not shut down.
func (c *cluster) running() []*Member {
	var out []*Member
	for _, m := range c.members {
		if m != nil {
			out = append(out, m)
		}
	}
	return out
}

// waitLeader polls until one running member is the master and the others
// running agree, and returns it.
func (c *cluster) waitLeader() *Member {
	c.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		for _, m := range c.running() {
			if !m.IsLeader() {
				continue
			}
			agreed := true
			for _, o := range c.running() {
				if id, _ := o.Leader(); id != m.ID() {
					agreed = false
				}
			}
			if agreed {
				return m
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	c.t.Fatal("no master elected")
	return nil
}

// waitConverged polls until every running member has applied the
// master's whole log and all serve the same seats, and returns the
// digest.
func (c *cluster) waitConverged(leader *Member) string {
	c.t.Helper()
	if err := leader.Raft().Barrier(5 * time.Second).Error(); err != nil {
		c.t.Fatalf("barrier: %v", err)
	}
	want := leader.Raft().AppliedIndex()
	deadline := time.Now().Add(10 * time.Second)
	var got []string
	for time.Now().Before(deadline) {
		got = got[:0]
		same := true
		for _, m := range c.running() {
			if m.Raft().AppliedIndex() < want {
				same = false
			}
			got = append(got, digest(m.State()))
			if got[len(got)-1] != got[0] {
				same = false
			}
		}
		if same {
			return got[0]
		}
		time.Sleep(10 * time.Millisecond)
	}
	c.t.Fatalf("members did not converge on index %d: %q", want, got)
	return ""
}

func propose(t testing.TB, m *Member, cmds ...Command) []state.Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	rs, err := m.Propose(ctx, cmds)
	if err != nil {
		t.Fatalf("Propose on %s: %v", m.ID(), err)
	}
	return rs
}

// wantCode checks err is a FlexLM error with code and minor.
func wantCode(t testing.TB, err error, code lmerr.Code, minors ...lmerr.Minor) {
	t.Helper()
	e, ok := err.(*lmerr.Error)
	if !ok {
		t.Fatalf("got error %v (%T), want a FlexLM %d", err, err, code)
	}
	if e.Code != code {
		t.Fatalf("got %v, want code %d", e, code)
	}
	for _, m := range minors {
		if e.Minor == m {
			return
		}
	}
	if len(minors) > 0 {
		t.Fatalf("got %v, want minor one of %v", e, minors)
	}
}

// randomCommands is a seeded random sequence of seat commands over f1
// and f2 by a few sessions, with the clock going forward (and sometimes
// back), for determinism tests.
func randomCommands(seed uint64, n int) []Command {
	r := rand.New(rand.NewPCG(seed, 1))
	now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	var cmds []Command
	handle := uint32(101)
	for range n {
		now = now.Add(time.Duration(r.IntN(30)) * time.Second)
		if r.IntN(50) == 0 {
			now = now.Add(-5 * time.Second)
		}
		session := uint64(1 + r.IntN(5))
		feature := []string{"f1", "f2"}[r.IntN(2)]
		switch k := r.IntN(10); {
		case k < 4:
			c := checkout(session, fmt.Sprintf("u%d", session), feature)
			c.Queue = r.IntN(4) == 0
			c.Linger = time.Duration(r.IntN(3)) * 20 * time.Second
			c.Now = now
			cmds = append(cmds, c)
		case k < 7:
			cmds = append(cmds, state.Checkin{Session: session, Handle: handle + uint32(r.IntN(20)), Now: now})
		case k == 7:
			cmds = append(cmds, state.Tick{Now: now})
		case k == 8:
			switch r.IntN(5) {
			case 0:
				cmds = append(cmds, state.Disconnect{Session: session, Now: now})
			case 1:
				cmds = append(cmds, state.Remove{Feature: feature, User: fmt.Sprintf("u%d", session), Host: "h", Display: "d", Now: now})
			case 2:
				cmds = append(cmds, state.RemoveHandle{Handle: handle + uint32(r.IntN(20)), Now: now})
			case 3:
				cmds = append(cmds, state.SetIdle{Session: session, Idle: r.IntN(2) == 0, Now: now})
			case 4:
				cmds = append(cmds, TimedOut{Session: session, Now: now})
			}
		default:
			cmds = append(cmds, state.Heartbeat{Session: session, Now: now})
		}
		if r.IntN(200) == 0 {
			cmds = append(cmds, state.Revoke{Handles: []uint32{handle + uint32(r.IntN(20))}})
		}
		if r.IntN(100) == 0 {
			cmds = append(cmds, Reread{Hash: hashOf([]string{baseLicense, rereadLicense}[r.IntN(2)])})
		}
	}
	return cmds
}
