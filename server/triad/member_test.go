package triad

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"golm/lmutil/server/state"
)

// TestReplicatedCheckouts: three members on loopback TCP elect a master;
// checkouts through it are committed and every member serves the same
// seats; a member that is not the master grants nothing and names it.
func TestReplicatedCheckouts(t *testing.T) {
	t.Parallel() // a cluster of its own
	c := newTCPCluster(t, diskRaft(), newLicenses(baseLicense))
	leader := c.waitLeader()

	rs := propose(t, leader, checkout(1, "alice", "f1"), checkout(2, "bob", "f1"), checkout(3, "carol", "f1"), checkout(4, "dave", "f1"))
	for i, r := range rs[:3] {
		if r.Err != nil || r.Seat == nil {
			t.Fatalf("checkout %d: got %v, want a seat", i+1, r.Err)
		}
	}
	if rs[3].Err == nil || rs[3].Err.Code != -4 {
		t.Errorf("fourth checkout of f1 (3 seats): got %v, want -4", rs[3].Err)
	}

	// Concurrent proposals, batched; each gets its own result.
	var wg sync.WaitGroup
	handles := make([]uint32, 20)
	for i := range handles {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rs, err := leader.Propose(context.Background(), []Command{checkout(uint64(10+i), fmt.Sprintf("u%d", i), "big")})
			if err != nil || rs[0].Seat == nil {
				t.Errorf("concurrent checkout %d: %v %v", i, err, rs)
				return
			}
			handles[i] = rs[0].Seat.Handle
		}()
	}
	wg.Wait()
	seen := map[uint32]bool{}
	for _, h := range handles {
		if seen[h] {
			t.Errorf("handle %d granted twice", h)
		}
		seen[h] = true
	}

	want := c.waitConverged(leader)
	for _, m := range c.running() {
		if got := seatsOf(m.State()); len(got) != 23 {
			t.Errorf("%s serves %d seats, want 23", m.ID(), len(got))
		}
	}
	t.Logf("every member serves:\n%s", want)

	t.Run("follower refuses", func(t *testing.T) {
		defer c.use(t)()
		for _, m := range c.running() {
			if m == leader {
				continue
			}
			_, err := m.Propose(context.Background(), []Command{checkout(50, "eve", "f2")})
			wantCode(t, err, -96, MinorNotMaster)
			if got := seatsOf(m.State()); len(got) != 23 {
				t.Errorf("%s serves %d seats after a refused checkout, want 23", m.ID(), len(got))
			}
		}
	})
	t.Run("not replicated", func(t *testing.T) {
		defer c.use(t)()
		_, err := leader.Propose(context.Background(), []Command{state.SetPolicy{Policy: state.NoPolicy{}}})
		if err == nil {
			t.Error("Propose(state.SetPolicy) succeeded, want an error")
		}
	})
	t.Run("checkin", func(t *testing.T) {
		defer c.use(t)()
		rs := propose(t, leader, state.Checkin{Session: 1, Handle: rs[0].Seat.Handle}, state.Checkin{Session: 2, Handle: rs[0].Seat.Handle})
		if rs[0].Err != nil {
			t.Errorf("checkin: %v", rs[0].Err)
		}
		if rs[1].Err == nil || rs[1].Err.Code != -41 {
			t.Errorf("checkin of another session's seat: got %v, want -41", rs[1].Err)
		}
		c.waitConverged(leader)
	})
}

// TestFailover: when the master stops, another is elected, serves every
// seat with the same handles, and grants the next checkout.
func TestFailover(t *testing.T) {
	t.Parallel() // a cluster of its own
	c := newTCPCluster(t, diskRaft(), newLicenses(baseLicense))
	leader := c.waitLeader()
	rs := propose(t, leader, checkout(1, "alice", "f1"), checkout(2, "bob", "f1"))
	before := c.waitConverged(leader)
	wantSeats := seatsOf(leader.State())

	for i, m := range c.members {
		if m == leader {
			c.stop(i)
		}
	}
	start := time.Now()
	next := c.waitLeader()
	t.Logf("new master %s after %v", next.ID(), time.Since(start).Round(time.Millisecond))
	if got := digest(next.State()); got != before {
		t.Errorf("new master serves\n%s\nwant\n%s", got, before)
	}
	got := propose(t, next, checkout(3, "carol", "f1"), checkout(4, "dave", "f1"), state.Checkin{Session: 1, Handle: rs[0].Seat.Handle})
	if got[0].Seat == nil {
		t.Fatalf("checkout on the new master: %v", got[0].Err)
	}
	if _, dup := wantSeats[got[0].Seat.Handle]; dup {
		t.Errorf("new master granted handle %d, which is out already", got[0].Seat.Handle)
	}
	if got[1].Err == nil || got[1].Err.Code != -4 {
		t.Errorf("a fourth seat of f1 on the new master: got %v, want -4", got[1].Err)
	}
	if got[2].Err != nil {
		t.Errorf("checkin of a seat the old master granted: %v", got[2].Err)
	}
	c.waitConverged(next)

	t.Run("session numbers", func(t *testing.T) {
		// The new master's sessions are not the old one's, whatever
		// counter each started from.
		a, b := leader.SessionID(), next.SessionID()
		if a>>40 >= b>>40 {
			t.Errorf("old master's session %#x, new master's %#x: want the new term above", a, b)
		}
		if b2 := next.SessionID(); b2 == b {
			t.Errorf("SessionID gave %#x twice", b)
		}
	})
}

// TestQuorumLoss: with two members down the last one grants nothing and
// says -96; with one back, service resumes with the seats intact.
func TestQuorumLoss(t *testing.T) {
	t.Parallel() // a cluster of its own
	c := newTCPCluster(t, diskRaft(), newLicenses(baseLicense))
	leader := c.waitLeader()
	propose(t, leader, checkout(1, "alice", "f1"), checkout(2, "bob", "f2"))
	c.waitConverged(leader)
	var last *Member
	var down []int
	for i, m := range c.members {
		if m == leader {
			last = m
		} else {
			down = append(down, i)
		}
	}
	wantSeats := seatsOf(last.State())
	for _, i := range down {
		c.stop(i)
	}

	// Whether the master has stepped down yet or not, nothing is granted.
	for range 3 {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_, err := last.Propose(ctx, []Command{checkout(9, "mallory", "f1")})
		cancel()
		wantCode(t, err, -96, MinorNoQuorum, MinorNotMaster)
		if got := seatsOf(last.State()); len(got) != len(wantSeats) {
			t.Fatalf("without a quorum %d seats are out, want %d", len(got), len(wantSeats))
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	if err := last.VerifyLeader(ctx); err == nil {
		t.Error("VerifyLeader succeeded without a quorum")
	}
	cancel()

	c.restart(down[0])
	leader = c.waitLeader()
	rs := propose(t, leader, checkout(3, "carol", "f1"))
	if rs[0].Seat == nil {
		t.Fatalf("checkout after the quorum is back: %v", rs[0].Err)
	}
	c.waitConverged(leader)
	got := seatsOf(leader.State())
	for h, s := range wantSeats {
		if got[h] != s {
			t.Errorf("seat %d: session %d after the outage, want %d", h, got[h], s)
		}
	}
	if err := leader.VerifyLeader(context.Background()); err != nil {
		t.Errorf("VerifyLeader with a quorum: %v", err)
	}
}

// TestRestartCatchesUp: a member that was down while the others went on
// (long enough for the master to compact its log into a snapshot)
// catches up when restarted, from its own data directory and the
// master's snapshot, and serves what the others serve.
func TestRestartCatchesUp(t *testing.T) {
	t.Parallel() // a cluster of its own
	rc := diskRaft()
	rc.SnapshotThreshold = 16
	rc.SnapshotInterval = 20 * time.Millisecond
	rc.TrailingLogs = 4
	lic := newLicenses(baseLicense, rereadLicense)
	c := newTCPCluster(t, rc, lic)
	leader := c.waitLeader()
	propose(t, leader, checkout(1, "alice", "f1"))
	c.waitConverged(leader)

	stopped := -1
	for i, m := range c.members {
		if m != leader {
			stopped = i
			c.stop(i)
			break
		}
	}
	propose(t, leader, Reread{Hash: hashOf(rereadLicense)})
	for i := range 60 {
		s := uint64(100 + i)
		rs := propose(t, leader, checkout(s, "u", "big"))
		if i%2 == 0 {
			propose(t, leader, state.Checkin{Session: s, Handle: rs[0].Seat.Handle})
		}
	}
	// Wait for the master to have compacted its log.
	deadline := time.Now().Add(10 * time.Second)
	for leader.Raft().Stats()["last_snapshot_index"] == "0" && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if leader.Raft().Stats()["last_snapshot_index"] == "0" {
		t.Fatal("the master never took a snapshot")
	}
	c.restart(stopped)
	want := c.waitConverged(leader)
	if got := digest(c.members[stopped].State()); got != want {
		t.Errorf("restarted member serves\n%s\nwant\n%s", got, want)
	}
	if got := c.members[stopped].Raft().Stats()["last_snapshot_index"]; got == "0" {
		t.Errorf("restarted member caught up without the master's snapshot (last_snapshot_index %s); the test tests less than it says", got)
	}

	t.Run("whole group restarts", func(t *testing.T) {
		defer c.use(t)()
		for i := range 3 {
			c.stop(i)
		}
		for i := range 3 {
			c.restart(i)
		}
		leader := c.waitLeader()
		if got := c.waitConverged(leader); got != want {
			t.Errorf("after a restart of all three:\n%s\nwant\n%s", got, want)
		}
	})

	t.Run("data directory lost", func(t *testing.T) {
		defer c.use(t)()
		leader := c.waitLeader()
		lost := -1
		for i, m := range c.members {
			if m != leader {
				lost = i
				break
			}
		}
		c.stop(lost)
		if err := os.RemoveAll(c.dirs[lost]); err != nil {
			t.Fatal(err)
		}
		for i := range 20 {
			propose(t, leader, checkout(uint64(500+i), "v", "big"))
		}
		c.restart(lost)
		want := c.waitConverged(leader)
		if got := digest(c.members[lost].State()); got != want {
			t.Errorf("member rejoined with an empty data directory serves\n%s\nwant\n%s", got, want)
		}
		if got := c.members[lost].Raft().Stats()["last_snapshot_index"]; got == "0" {
			t.Errorf("the member rejoined without the master's snapshot (last_snapshot_index %s)", got)
		}
		if _, err := os.Stat(filepath.Join(c.dirs[lost], "raft.db")); err != nil {
			t.Errorf("the rejoined member has no log on disk: %v", err)
		}
	})
}
