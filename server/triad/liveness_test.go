package triad

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"golm/lmutil/options"
	"golm/lmutil/server"
	"golm/lmutil/server/state"
)

// TestTickTimesOutSilentSessions: heartbeats stay on the master until a
// Tick; a session silent for longer than the timeout is timed out on
// every member; a new master gives every session a whole timeout to
// show itself before it frees its seats.
func TestTickTimesOutSilentSessions(t *testing.T) {
	t.Parallel() // a cluster of its own
	const timeout = time.Minute
	c := newInmemCluster(t, fastRaft(), func(int) FSMConfig { return fsmConfig(t, newLicenses(baseLicense)) })
	leader := c.waitLeader()
	ctx := context.Background()
	rs := propose(t, leader, checkout(1, "alice", "f1"), checkout(2, "bob", "f1"), checkout(3, "carol", "f2"))
	alice, bob, carol := rs[0].Seat.Handle, rs[1].Seat.Handle, rs[2].Seat.Handle
	index := leader.Raft().LastIndex()

	// Heartbeats alone commit nothing.
	for range 10 {
		leader.Heartbeat(1)
		leader.Heartbeat(3)
	}
	if got := leader.Raft().LastIndex(); got != index {
		t.Errorf("heartbeats wrote %d log entries, want none", got-index)
	}

	t.Run("first tick adopts", func(t *testing.T) {
		defer c.use(t)()
		if _, err := leader.Tick(ctx, timeout); err != nil {
			t.Fatal(err)
		}
		c.waitConverged(leader)
		for _, h := range []uint32{alice, bob, carol} {
			if _, ok := seatsOf(leader.State())[h]; !ok {
				t.Errorf("seat %d freed by the first tick", h)
			}
		}
	})
	t.Run("silent session times out", func(t *testing.T) {
		defer c.use(t)()
		c.clock.advance(40 * time.Second)
		leader.Heartbeat(1)
		leader.Heartbeat(3)
		c.clock.advance(30 * time.Second) // bob: 70s silent; alice, carol: 30s
		rs, err := leader.Tick(ctx, timeout)
		if err != nil {
			t.Fatal(err)
		}
		var freed []uint32
		for _, r := range rs {
			for _, s := range r.Freed {
				freed = append(freed, s.Handle)
			}
		}
		if len(freed) != 1 || freed[0] != bob {
			t.Errorf("tick freed %v, want bob's seat %d", freed, bob)
		}
		c.waitConverged(leader)
		for _, m := range c.running() {
			seats := seatsOf(m.State())
			if _, ok := seats[bob]; ok {
				t.Errorf("%s still serves bob's seat", m.ID())
			}
			if _, ok := seats[alice]; !ok {
				t.Errorf("%s freed alice's seat; she heartbeats", m.ID())
			}
		}
	})
	t.Run("new master's grace period", func(t *testing.T) {
		defer c.use(t)()
		for i, m := range c.members {
			if m == leader {
				c.stop(i)
			}
		}
		next := c.waitLeader()
		// The new master never heard alice or carol; 50s on, a whole
		// timeout since the old master last did, they keep their seats.
		c.clock.advance(50 * time.Second)
		if _, err := next.Tick(ctx, timeout); err != nil {
			t.Fatal(err)
		}
		c.clock.advance(30 * time.Second)
		next.Heartbeat(1) // alice reattached; carol did not
		c.clock.advance(31 * time.Second)
		if _, err := next.Tick(ctx, timeout); err != nil {
			t.Fatal(err)
		}
		c.waitConverged(next)
		seats := seatsOf(next.State())
		if _, ok := seats[alice]; !ok {
			t.Error("alice's seat freed although she heartbeats to the new master")
		}
		if _, ok := seats[carol]; ok {
			t.Error("carol's seat still out a timeout after the new master took over")
		}
	})
	t.Run("follower refuses", func(t *testing.T) {
		defer c.use(t)()
		for _, m := range c.running() {
			if !m.IsLeader() {
				_, err := m.Tick(ctx, timeout)
				wantCode(t, err, -96, MinorNotMaster)
			}
		}
	})
}

// TestTimeoutSeesHeartbeats: the options file's TIMEOUT reclaims the
// seat of a session that stopped heartbeating, on every member, and
// not that of one which heartbeats to the master, though its heartbeats
// reach the log only once per Tick.
func TestTimeoutSeesHeartbeats(t *testing.T) {
	t.Parallel() // a cluster of its own
	const optionsText = "TIMEOUT f1 60\n"
	fsmFor := func(int) FSMConfig {
		cfg := fsmConfig(t, newLicenses(baseLicense))
		cfg.PolicyByHash = func(h Hash) (state.Policy, error) {
			if h != hashOf(optionsText) {
				return nil, fmt.Errorf("no options file with hash %s", h)
			}
			opts, err := options.Parse(strings.NewReader(optionsText), "demo.opt")
			if err != nil {
				return nil, err
			}
			opts.MinTimeout = time.Second
			return server.OptionsPolicy{Opts: opts}, nil
		}
		return cfg
	}
	c := newInmemCluster(t, fastRaft(), fsmFor)
	leader := c.waitLeader()
	ctx := context.Background()
	rs := propose(t, leader, SetPolicy{Hash: hashOf(optionsText)}, checkout(1, "alice", "f1"), checkout(2, "bob", "f1"))
	alice, bob := rs[1].Seat.Handle, rs[2].Seat.Handle

	c.clock.advance(40 * time.Second)
	leader.Heartbeat(1)
	leader.Heartbeat(2)
	if _, err := leader.Tick(ctx, time.Hour); err != nil {
		t.Fatal(err)
	}
	c.clock.advance(30 * time.Second)
	leader.Heartbeat(1) // bob has stopped: 30s since his last
	c.clock.advance(35 * time.Second)
	rs, err := leader.Tick(ctx, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	var inactive []uint32
	for _, r := range rs {
		for _, s := range r.Inactive {
			inactive = append(inactive, s.Handle)
		}
	}
	if len(inactive) != 1 || inactive[0] != bob {
		t.Errorf("TIMEOUT reclaimed %v, want bob's seat %d", inactive, bob)
	}
	c.waitConverged(leader)
	for _, m := range c.running() {
		seats := seatsOf(m.State())
		if _, ok := seats[alice]; !ok {
			t.Errorf("%s reclaimed alice's seat; she heartbeats", m.ID())
		}
		if _, ok := seats[bob]; ok {
			t.Errorf("%s still serves bob's seat after TIMEOUT", m.ID())
		}
	}
}

// TestTouchKeepsConnectedSessions: a session whose connection to the
// master is open (Touch) keeps its seats however long its client stays
// silent, and Touch puts nothing in the log; a silent session that is
// not touched times out.
func TestTouchKeepsConnectedSessions(t *testing.T) {
	t.Parallel() // a cluster of its own
	const timeout = time.Minute
	c := newInmemCluster(t, fastRaft(), func(int) FSMConfig { return fsmConfig(t, newLicenses(baseLicense)) })
	leader := c.waitLeader()
	ctx := context.Background()
	rs := propose(t, leader, checkout(1, "alice", "f1"), checkout(2, "bob", "f1"))
	alice, bob := rs[0].Seat.Handle, rs[1].Seat.Handle
	if _, err := leader.Tick(ctx, timeout); err != nil {
		t.Fatal(err)
	}
	index := leader.Raft().LastIndex()
	leader.Touch([]uint64{1})
	if got := leader.Raft().LastIndex(); got != index {
		t.Errorf("Touch wrote %d log entries, want none", got-index)
	}
	for range 3 {
		c.clock.advance(45 * time.Second)
		leader.Touch([]uint64{1})
		if _, err := leader.Tick(ctx, timeout); err != nil {
			t.Fatal(err)
		}
	}
	c.waitConverged(leader)
	seats := seatsOf(leader.State())
	if _, ok := seats[alice]; !ok {
		t.Error("alice's seat freed; her connection is open")
	}
	if _, ok := seats[bob]; ok {
		t.Error("bob's seat still out after 135s of silence")
	}
}

// TestDisconnectForgetsSession: once a session's Disconnect is
// committed, the master's next Ticks carry neither a heartbeat nor a
// timeout for it; the other session's go on as before.
func TestDisconnectForgetsSession(t *testing.T) {
	t.Parallel() // a cluster of its own
	const timeout = time.Minute
	c := newInmemCluster(t, fastRaft(), func(int) FSMConfig { return fsmConfig(t, newLicenses(baseLicense)) })
	leader := c.waitLeader()
	ctx := context.Background()
	propose(t, leader, checkout(1, "alice", "f1"), checkout(2, "bob", "f1"))
	if _, err := leader.Tick(ctx, timeout); err != nil { // the new master's first: adopts both
		t.Fatal(err)
	}
	leader.Heartbeat(1)
	leader.Heartbeat(2)
	propose(t, leader, state.Disconnect{Session: 1, Now: c.clock.Now()})
	rs, err := leader.Tick(ctx, timeout)
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 2 { // bob's heartbeat, the tick
		t.Errorf("first Tick: %d results, want 2 (one heartbeat and the tick)", len(rs))
	}
	c.clock.advance(2 * timeout)
	rs, err = leader.Tick(ctx, timeout)
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 2 { // bob timed out, the tick
		t.Errorf("Tick after the timeout: %d results, want 2 (one timeout and the tick)", len(rs))
	}
	if seats := seatsOf(leader.State()); len(seats) != 0 {
		t.Errorf("seats still out: %v", seats)
	}
}
