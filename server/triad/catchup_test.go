package triad

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golm/lmutil/server"
	"golm/lmutil/server/reportlog"
	"golm/lmutil/server/state"
)

// reportMember is a member as a vendor daemon runs it (StartVendor),
// on loopback TCP, writing a report log of its committed checkouts and
// checkins.
type reportMember struct {
	t       *testing.T
	i       int
	cfg     Config
	path    string
	mu      sync.Mutex
	w       *reportlog.Writer
	vr      *VendorReplica
	copied  int // records copied from another member at a restore
	gaps    int // gaps left at a restore
	restore int // restores past this member's report log
	// serveNone makes the member answer every fetch with no record.
	serveNone bool
}

// reportCluster starts three reportMembers with their stores and report
// logs in temporary directories; snapshot makes their snapshots and
// compactions frequent.
func reportCluster(t *testing.T, snapshot bool, opts ...func(*reportMember)) []*reportMember {
	var peers [3]Peer
	for i := range 3 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		peers[i] = Peer{ID: fmt.Sprintf("h%d", i+1), Addr: ln.Addr().String()}
		ln.Close()
	}
	rc := diskRaft()
	if snapshot {
		rc.SnapshotThreshold = 16
		rc.SnapshotInterval = 50 * time.Millisecond
		rc.TrailingLogs = 4
	}
	log := &testLog{t: t}
	ms := make([]*reportMember, 3)
	for i := range ms {
		dir := t.TempDir()
		ms[i] = &reportMember{t: t, i: i, path: filepath.Join(dir, "report.rl"), cfg: Config{
			ID: peers[i].ID, BindAddr: peers[i].Addr, Peers: peers, DataDir: filepath.Join(dir, "data"), Raft: rc, Log: log,
		}}
		for _, o := range opts {
			o(ms[i])
		}
	}
	t.Cleanup(func() {
		for _, m := range ms {
			m.stop()
		}
		log.close()
	})
	for _, m := range ms {
		m.start()
	}
	return ms
}

func (m *reportMember) start() {
	m.t.Helper()
	w, err := reportlog.OpenWriter(reportlog.Config{Path: m.path, Append: true, Vendor: "demo", OnError: func(err error) { m.t.Logf("h%d: %v", m.i+1, err) }})
	if err != nil {
		m.t.Fatal(err)
	}
	m.mu.Lock()
	m.w = w
	m.mu.Unlock()
	hooks := server.ReplicaHooks{
		NewState: func() *state.State { return state.NewState(pools(m.t, baseLicense)) },
		OnCommit: func(_ uint64, at time.Time, cmd state.Command, r state.Result) {
			var rec reportlog.Record
			switch c := cmd.(type) {
			case state.Checkout:
				if r.Seat == nil {
					return
				}
				rec = reportlog.Record{Time: at, Event: reportlog.EventOut, Feature: c.Feature, User: c.Client.User, Count: 1, Handle: uint64(r.Seat.Handle)}
			case state.Checkin:
				rec = reportlog.Record{Time: at, Event: reportlog.EventIn, Feature: "f1", Handle: uint64(c.Handle)}
			default:
				return
			}
			if _, err := w.Append(rec); err != nil {
				m.t.Errorf("h%d: %v", m.i+1, err)
			}
		},
		ReportMark: w.Stream,
		ReportRestore: func(next uint64, last string, fetch func(from, to uint64) ([]string, error)) {
			before := w.Next()
			r := w.Follow(next, last, fetch, nil)
			m.mu.Lock()
			defer m.mu.Unlock()
			if next > before {
				m.restore++
			}
			m.copied += r.Copied
			if r.MissingFrom < next {
				m.gaps++
				m.t.Logf("h%d: records %d..%d missing: %v %v %v", m.i+1, r.MissingFrom, next-1, r.FetchErr, r.CopyErr, r.GapErr)
			}
		},
		ReportLines: func(from, to uint64) ([]string, error) {
			if m.serveNone {
				return nil, nil
			}
			return reportlog.ReadLines(w.Path(), "demo", from, to, 0, 0)
		},
	}
	repl, err := StartVendor(m.cfg, func(format string, args ...any) { m.t.Logf("h%d: "+format, append([]any{m.i + 1}, args...)...) })(hooks)
	if err != nil {
		m.t.Fatal(err)
	}
	m.mu.Lock()
	m.vr = repl.(*VendorReplica)
	m.mu.Unlock()
}

func (m *reportMember) stop() {
	m.mu.Lock()
	vr, w := m.vr, m.w
	m.vr, m.w = nil, nil
	m.mu.Unlock()
	if vr != nil {
		vr.Shutdown()
	}
	if w != nil {
		w.Close()
	}
}

func (m *reportMember) lines() []string {
	m.t.Helper()
	b, err := os.ReadFile(m.path)
	if err != nil {
		m.t.Fatal(err)
	}
	l := strings.Split(string(b), "\n")
	return l[1:] // after the header
}

func waitReportLeader(t *testing.T, ms []*reportMember) *reportMember {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		for _, m := range ms {
			m.mu.Lock()
			vr := m.vr
			m.mu.Unlock()
			if vr != nil && vr.IsLeader() {
				return m
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("no master within 20s")
	return nil
}

// checkoutIn proposes a checkout and its checkin on the master: two
// entries, two records.
func checkoutIn(t *testing.T, ms []*reportMember, n int) {
	t.Helper()
	for k := range n {
		leader := waitReportLeader(t, ms)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		user := "u" + strconv.Itoa(k)
		rs, err := leader.vr.Propose(ctx, []state.Command{checkout(uint64(k+1), user, "f1")})
		if err == nil && rs[0].Seat != nil {
			_, err = leader.vr.Propose(ctx, []state.Command{state.Checkin{Session: uint64(k + 1), Handle: rs[0].Seat.Handle}})
		}
		cancel()
		if err != nil {
			t.Logf("proposal %d: %v (retried)", k, err)
			time.Sleep(50 * time.Millisecond)
		}
	}
}

// waitSameReportLogs waits until the report logs of ms are the same
// after their headers and hold want records at least.
func waitSameReportLogs(t *testing.T, ms []*reportMember, want int) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		a := ms[0].lines()
		same := len(a) > want
		for _, m := range ms[1:] {
			same = same && strings.Join(m.lines(), "\n") == strings.Join(a, "\n")
		}
		if same {
			break
		}
		if time.Now().After(deadline) {
			for _, m := range ms {
				t.Logf("h%d: %d lines, last %q", m.i+1, len(m.lines()), m.lines()[len(m.lines())-2])
			}
			t.Fatal("the report logs did not become the same within 20s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	for _, m := range ms {
		if _, err := reportlog.Verify(m.path); err != nil {
			t.Errorf("h%d: Verify: %v", m.i+1, err)
		}
	}
}

// TestReportCatchUp: a member stopped while the others commit past its
// log and compact it is sent a snapshot when it rejoins; it copies the
// records the snapshot compacted from another member over the Raft
// port, so that its report log is the others', byte for byte, and
// verifies. Its data directory deleted, it applies the whole log again
// and writes no record twice.
func TestReportCatchUp(t *testing.T) {
	t.Parallel()
	ms := reportCluster(t, true)
	checkoutIn(t, ms, 5)
	waitSameReportLogs(t, ms, 10)

	leader := waitReportLeader(t, ms)
	lag := ms[(leader.i+1)%3]
	lag.stop()
	stoppedAt := lag.lines()
	// Commit until the master's log no longer holds the stopped
	// member's next entry: it can only be sent a snapshot.
	first := func() uint64 {
		v, _ := strconv.ParseUint(leader.vr.Raft().Stats()["last_snapshot_index"], 10, 64)
		return v
	}
	deadline := time.Now().Add(30 * time.Second)
	for first() < 40 {
		if time.Now().After(deadline) {
			t.Fatal("the master took no snapshot past 40 entries in 30s")
		}
		checkoutIn(t, ms, 5)
	}
	lag.start()
	checkoutIn(t, ms, 2)
	waitSameReportLogs(t, ms, len(stoppedAt)+20)
	lag.mu.Lock()
	restores, copied, gaps := lag.restore, lag.copied, lag.gaps
	lag.mu.Unlock()
	if restores == 0 || copied == 0 || gaps != 0 {
		t.Fatalf("the member that rejoined: %d restores past its log, %d records copied, %d gaps; want a restore, records copied and no gap", restores, copied, gaps)
	}

	// Its data directory deleted: it starts from index 1 again (or a
	// snapshot), with the report log it has.
	before := len(lag.lines())
	lag.stop()
	if err := os.RemoveAll(lag.cfg.DataDir); err != nil {
		t.Fatal(err)
	}
	lag.start()
	checkoutIn(t, ms, 2)
	waitSameReportLogs(t, ms, before+3)
	noDuplicates(t, lag)
}

// noDuplicates fails t if m's report log holds a seq twice.
func noDuplicates(t *testing.T, m *reportMember) {
	t.Helper()
	seen := map[string]bool{}
	for _, l := range m.lines() {
		if l == "" {
			continue
		}
		rec, err := reportlog.ParseRecord(l)
		if err != nil {
			t.Fatal(err)
		}
		if k := strconv.FormatUint(rec.Seq, 10); seen[k] {
			t.Fatalf("seq %d written twice", rec.Seq)
		} else {
			seen[k] = true
		}
	}
}

// TestReportNoDuplicates: a member whose data directory (Raft log,
// snapshots, reported) was deleted, its report log kept, applies the
// master's whole log again from index 1 and writes none of the records
// its report log holds a second time; a plain restart neither.
func TestReportNoDuplicates(t *testing.T) {
	t.Parallel()
	ms := reportCluster(t, false)
	checkoutIn(t, ms, 6)
	waitSameReportLogs(t, ms, 12)
	leader := waitReportLeader(t, ms)
	m := ms[(leader.i+2)%3]

	m.stop()
	m.start()
	checkoutIn(t, ms, 1)
	waitSameReportLogs(t, ms, 14)
	noDuplicates(t, m)

	m.stop()
	if err := os.RemoveAll(m.cfg.DataDir); err != nil {
		t.Fatal(err)
	}
	m.start()
	checkoutIn(t, ms, 1)
	waitSameReportLogs(t, ms, 16)
	noDuplicates(t, m)
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.restore != 0 {
		t.Errorf("%d snapshots restored past the report log: the master's log was whole", m.restore)
	}
}

// TestReportGap: a member sent a snapshot past its report log, whose
// records no other member gives, keeps its file and continues in a new
// one at the snapshot's record: the set fails Verify with the gap, the
// new file verifies, and the chain goes on as the others'.
func TestReportGap(t *testing.T) {
	t.Parallel()
	ms := reportCluster(t, true, func(m *reportMember) { m.serveNone = true })
	checkoutIn(t, ms, 3)
	waitSameReportLogs(t, ms, 6)
	leader := waitReportLeader(t, ms)
	lag := ms[(leader.i+1)%3]
	lag.stop()
	deadline := time.Now().Add(30 * time.Second)
	for {
		v, _ := strconv.ParseUint(leader.vr.Raft().Stats()["last_snapshot_index"], 10, 64)
		if v >= 40 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the master took no snapshot past 40 entries in 30s")
		}
		checkoutIn(t, ms, 5)
	}
	lag.start()
	checkoutIn(t, ms, 2)
	other := ms[(leader.i+2)%3]
	poll := time.Now().Add(20 * time.Second)
	for {
		a, b := lag.lines(), other.lines()
		if len(a) > 2 && len(b) > len(a) && strings.Join(a, "\n") == strings.Join(b[len(b)-len(a):], "\n") {
			break
		}
		if time.Now().After(poll) {
			t.Fatalf("the member with the gap did not go on as the others: %d lines, the others %d", len(a), len(b))
		}
		time.Sleep(20 * time.Millisecond)
	}
	lag.mu.Lock()
	gaps := lag.gaps
	lag.mu.Unlock()
	if gaps != 1 {
		t.Fatalf("%d gaps, want 1", gaps)
	}
	if _, err := reportlog.Verify(lag.path); err != nil {
		t.Errorf("the new file: %v", err)
	}
	files, _ := filepath.Glob(lag.path + "*")
	if _, err := reportlog.Verify(files...); !errors.Is(err, reportlog.ErrGap) {
		t.Errorf("Verify(%v) = %v, want the gap", files, err)
	}
}
