package triad

import (
	"context"
	"sync"
	"testing"
	"time"

	"golm/lmutil/server/state"
)

// TestRereadByHash: a reread travels as the hash of the license text;
// members with the same files build the same pools and serve the new
// count, a member without them stops following instead of serving
// other seats, and a master never proposes a reread it cannot apply.
func TestRereadByHash(t *testing.T) {
	t.Parallel() // a cluster of its own
	var mu sync.Mutex
	files := [3]licenses{newLicenses(baseLicense), newLicenses(baseLicense), newLicenses(baseLicense)}
	fsmFor := func(i int) FSMConfig {
		cfg := fsmConfig(t, nil)
		cfg.PoolsByHash = func(h Hash) ([]*state.Pool, error) {
			mu.Lock()
			defer mu.Unlock()
			return fsmConfig(t, files[i]).PoolsByHash(h)
		}
		return cfg
	}
	c := newInmemCluster(t, fastRaft(), fsmFor)
	leader := c.waitLeader()
	before := c.waitConverged(leader)

	t.Run("unknown to the master", func(t *testing.T) {
		defer c.use(t)()
		_, err := leader.Propose(context.Background(), []Command{Reread{Hash: hashOf(rereadLicense)}})
		if err == nil {
			t.Fatal("Propose of a reread the master has no file for succeeded")
		}
		if got := c.waitConverged(leader); got != before {
			t.Errorf("a refused reread changed the seats:\n%s", got)
		}
		for _, m := range c.running() {
			if err := m.FSM().Err(); err != nil {
				t.Errorf("%s stopped: %v", m.ID(), err)
			}
		}
	})

	// The master and one other member get the new file; the third not.
	var without *Member
	mu.Lock()
	for i, m := range c.members {
		if m == leader || without != nil {
			files[i] = newLicenses(baseLicense, rereadLicense)
		} else {
			without = m
		}
	}
	mu.Unlock()

	rs := propose(t, leader, Reread{Hash: hashOf(rereadLicense)}, checkout(1, "a", "f1"), checkout(2, "b", "f1"), checkout(3, "c", "f1"), checkout(4, "d", "f1"))
	for i, r := range rs[1:] {
		if r.Seat == nil {
			t.Errorf("checkout %d of f1 after the reread to 4 seats: %v", i+1, r.Err)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for without.FSM().Err() == nil && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if without.FSM().Err() == nil {
		t.Fatalf("%s applied a reread it has no license file for", without.ID())
	}
	if got := len(seatsOf(without.State())); got != 0 {
		t.Errorf("%s serves %d seats after it stopped, want the 0 it had", without.ID(), got)
	}
	for _, m := range c.running() {
		if m != without && m != leader {
			want := digest(leader.State())
			deadline := time.Now().Add(5 * time.Second)
			for digest(m.State()) != want && time.Now().Before(deadline) {
				time.Sleep(5 * time.Millisecond)
			}
			if got := digest(m.State()); got != want {
				t.Errorf("%s serves\n%s\nwant\n%s", m.ID(), got, want)
			}
		}
	}
}
