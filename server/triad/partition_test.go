package triad

import (
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"golm/lmutil/server/state"
)

// TestPartitionAudit cuts and heals the network between the members at
// random (one member alone, all three apart, all together) while clients
// check out and in through whichever member they reach. After every
// command on every member an audit checks that no pool has more seats
// out than its count; at the end, with the network whole, every grant a
// client was told about is on every member, and every seat a client was
// told it returned is gone.
func TestPartitionAudit(t *testing.T) {
	t.Parallel() // a cluster of its own
	for _, seed := range []uint64{20261201, 7, 42} {
		t.Run(fmt.Sprintf("seed %d", seed), func(t *testing.T) {
			t.Parallel()
			partitionAudit(t, seed)
		})
	}
}

func partitionAudit(t *testing.T, seed uint64) {
	r := rand.New(rand.NewPCG(seed, 2))
	lic := newLicenses(baseLicense)
	var audited atomic.Int64
	fsmFor := func(i int) FSMConfig {
		cfg := fsmConfig(t, lic)
		cfg.OnCommit = func(c Commit) {
			audited.Add(1)
			for _, ps := range c.State.Status() {
				if !ps.Pool.Uncounted && ps.InUse > ps.Limit {
					t.Errorf("member h%d, index %d, after %T: %s has %d out, limit %d", i+1, c.Index, c.Cmd, ps.Pool.Key(), ps.InUse, ps.Limit)
				}
			}
		}
		return cfg
	}
	c := newInmemCluster(t, fastRaft(), fsmFor)
	c.waitLeader()

	told := map[uint32]uint64{}    // handle -> session: grants clients were told of
	returned := map[uint32]bool{}  // checkins clients were told succeeded
	uncertain := map[uint32]bool{} // checkins that failed: they may still commit
	var granted, refused, failed int
	try := func(cmd Command) (state.Result, bool) {
		// A client tries the members in turn, the one that says it is
		// the master first, as a client goes down its SERVER lines.
		order := r.Perm(3)
		for k, i := range order {
			if c.members[i].IsLeader() {
				order[0], order[k] = order[k], order[0]
			}
		}
		for _, i := range order {
			ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
			rs, err := c.members[i].Propose(ctx, []Command{cmd})
			cancel()
			if err == nil {
				return rs[0], true
			}
			wantCode(t, err, -96, MinorNoQuorum, MinorNotMaster)
		}
		failed++
		return state.Result{}, false
	}

	for iter := range 20 {
		switch k := r.IntN(5); k {
		case 0, 1:
			c.heal()
			c.isolate(r.IntN(3))
		case 2:
			for i := range 3 {
				c.isolate(i)
			}
		default:
			c.heal()
		}
		// Give an election a chance, without requiring one.
		deadline := time.Now().Add(500 * time.Millisecond)
		for time.Now().Before(deadline) && !anyLeader(c) {
			time.Sleep(5 * time.Millisecond)
		}
		for range 6 {
			if len(told) > 0 && r.IntN(2) == 0 {
				h, s := pick(r, told)
				res, ok := try(state.Checkin{Session: s, Handle: h})
				switch {
				case !ok:
					delete(told, h)
					uncertain[h] = true
				case res.Err != nil:
					t.Fatalf("iteration %d: checkin of told seat %d (session %d): %v", iter, h, s, res.Err)
				default:
					delete(told, h)
					returned[h] = true
				}
				continue
			}
			s := uint64(1 + r.IntN(8))
			res, ok := try(checkout(s, fmt.Sprintf("u%d", s), []string{"f1", "f2"}[r.IntN(2)]))
			switch {
			case !ok:
			case res.Seat != nil:
				granted++
				told[res.Seat.Handle] = s
			default:
				refused++
			}
		}
	}

	c.heal()
	leader := c.waitLeader()
	propose(t, leader, state.Tick{}) // commits everything of earlier terms
	c.waitConverged(leader)
	t.Logf("seed %d: %d granted, %d refused, %d no quorum, %d commands audited", seed, granted, refused, failed, audited.Load())
	if granted == 0 || failed == 0 {
		t.Errorf("granted %d, failed %d: the run did not exercise both", granted, failed)
	}
	for _, m := range c.running() {
		seats := seatsOf(m.State())
		for h, s := range told {
			if got, ok := seats[h]; !ok || got != s {
				t.Errorf("%s: told grant %d (session %d) is missing (session %d, present %v)", m.ID(), h, s, got, ok)
			}
		}
		for h := range returned {
			if _, ok := seats[h]; ok && !uncertain[h] {
				t.Errorf("%s: seat %d was returned but is still out", m.ID(), h)
			}
		}
	}
}

func anyLeader(c *cluster) bool {
	for _, m := range c.running() {
		if m.IsLeader() {
			return true
		}
	}
	return false
}

// pick returns a random entry of m, reproducibly for one seed.
func pick(r *rand.Rand, m map[uint32]uint64) (uint32, uint64) {
	keys := slices.Sorted(maps.Keys(m))
	h := keys[r.IntN(len(keys))]
	return h, m[h]
}
