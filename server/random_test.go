package server

import (
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golm/lmutil/protocol"
)

// The randomised test's license: pools with and without duplicate
// grouping, overdraft, a reservation, two versions and a suite.
const randomLicense = "SERVER this_host ANY 27000\nVENDOR demo\n" +
	"FEATURE f1 demo 1.0 permanent 3 OVERDRAFT=1 DUP_GROUP=UH\n" +
	"INCREMENT f1 demo 2.0 permanent 2\n" +
	"FEATURE f2 demo 1.0 permanent 2\n" +
	"FEATURE f3 demo 1.0 permanent 4\n" +
	`PACKAGE suite demo 1.0 OPTIONS=SUITE COMPONENTS="c1 c2"` + "\n" +
	"FEATURE suite demo 1.0 permanent 3\n"

// limits are the most licenses each pool may have out (count plus the
// license's overdraft), by feature and version.
var randomLimits = map[string]int{"f1 1.0": 4, "f1 2.0": 2, "f2 1.0": 2, "f3 1.0": 4, "c1 1.0": 3, "c2 1.0": 3, "suite 1.0": 3}

// The option sets the test switches between with lmreread. Every set
// keeps u0's reservation, so that a reread never reserves seats that are
// already out.
var randomOptions = []string{
	"RESERVE 2 f3 USER u0\n",
	"RESERVE 2 f3 USER u0\nMAX 1 f2 USER u1\nEXCLUDE f1 USER u2\nMAX_OVERDRAFT f1 0\n",
	"RESERVE 2 f3 USER u0\nLINGER f2 5\nLINGER f3 3\nTIMEOUTALL 1\n",
	"RESERVE 2 f3 USER u0\nGROUP g u3 u4\nMAX 2 f3 GROUP g\nINCLUDE c1 USER u1 u2 u3\n",
}

// TestRandomConcurrent runs many clients doing random checkouts (queued
// or not), checkins, polls, idles and disconnects while the test switches
// option sets with lmreread and moves the clock (lingers end, idle seats
// time out). The state machine checks after every command that no pool
// goes over its count plus allowed overdraft and no reserved seat goes to
// anyone else; a monitor checks the same from outside, on lmstat's view:
// the seats listed, duplicates once, plus the unused reservations never
// exceed a pool's count plus overdraft, and agree with its "in use".
func TestRandomConcurrent(t *testing.T) {
	t.Parallel() // a vendor daemon of its own, in this process
	h := newHarness(t, randomLicense, randomOptions[0])
	const clients, steps = 12, 120
	var failures sync.Map
	var failed atomic.Int32
	fail := func(format string, args ...any) {
		if failed.Add(1) <= 5 {
			failures.Store(fmt.Sprintf(format, args...), true)
		}
	}
	stop := make(chan struct{})
	var bg sync.WaitGroup
	// The monitor: lmstat's view, checked from outside.
	bg.Add(1)
	go func() {
		defer bg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			if err := checkStatusView(h.v.Addr().String()); err != nil {
				fail("%v", err)
				return
			}
		}
	}()
	// The administrator: option sets and the clock.
	bg.Add(1)
	go func() {
		defer bg.Done()
		rng := rand.New(rand.NewPCG(99, 1))
		for {
			select {
			case <-stop:
				return
			case <-time.After(3 * time.Millisecond):
			}
			if rng.IntN(8) == 0 {
				opts := randomOptions[rng.IntN(len(randomOptions))]
				if err := os.WriteFile(filepath.Join(h.dir, "demo.opt"), []byte(opts), 0o644); err != nil {
					fail("%v", err)
					return
				}
				h.v.Reread()
			}
			h.clock.Add(time.Duration(rng.IntN(1500)) * time.Millisecond)
		}
	}()
	var wg sync.WaitGroup
	for w := 0; w < clients; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			randomClient(h.v.Addr().String(), uint64(w), steps, fail)
		}()
	}
	wg.Wait()
	close(stop)
	bg.Wait()
	failures.Range(func(k, _ any) bool {
		t.Error(k)
		return true
	})
}

// randomClient is one client of TestRandomConcurrent.
func randomClient(addr string, seed uint64, steps int, fail func(string, ...any)) {
	rng := rand.New(rand.NewPCG(seed, 7))
	features := []string{"f1", "f1", "f2", "f3", "f3", "c1", "c2", "suite", "nope"}
	var c *protocol.Conn
	var held, queued []uint64
	connect := func() bool {
		nc, err := net.Dial("tcp", addr)
		if err != nil {
			fail("dial: %v", err)
			return false
		}
		c = protocol.NewConn(nc)
		id := protocol.Identity{User: fmt.Sprintf("u%d", rng.IntN(6)), Host: fmt.Sprintf("h%d", rng.IntN(3)), Display: "d"}
		if _, err := protocol.ClientHandshake(c, &protocol.Hello{Version: protocol.Version, Role: protocol.RoleClient, Identity: id}); err != nil {
			fail("handshake: %v", err)
			return false
		}
		held, queued = nil, nil
		return true
	}
	if !connect() {
		return
	}
	defer func() { c.Close() }()
	for i := 0; i < steps; i++ {
		var m protocol.Message
		var err error
		switch op := rng.IntN(10); {
		case op < 4:
			req := &protocol.Checkout{Feature: features[rng.IntN(len(features))], Version: []string{"1.0", "2.0"}[rng.IntN(2)], Count: 1 + rng.IntN(2)}
			if rng.IntN(3) == 0 {
				req.Flags = protocol.CheckoutQueue
			}
			m, err = c.Call(req)
			switch m := m.(type) {
			case *protocol.Granted:
				held = append(held, m.Handle)
			case *protocol.Queued:
				queued = append(queued, m.Handle)
			}
		case op < 6 && len(held) > 0:
			k := rng.IntN(len(held))
			_, err = c.Call(&protocol.Checkin{Handle: held[k]})
			held = append(held[:k], held[k+1:]...)
		case op < 7 && len(queued) > 0:
			k := rng.IntN(len(queued))
			m, err = c.Call(&protocol.QueuePoll{Handle: queued[k]})
			if g, ok := m.(*protocol.Granted); ok {
				held = append(held, g.Handle)
				queued = append(queued[:k], queued[k+1:]...)
			} else if err != nil {
				queued = append(queued[:k], queued[k+1:]...)
			}
		case op < 8:
			_, err = c.Call(&protocol.Idle{Idle: rng.IntN(2) == 0})
		case op < 9:
			// A kill: the connection drops with whatever it holds.
			c.Close()
			if !connect() {
				return
			}
			continue
		default:
			_, err = c.Call(&protocol.Heartbeat{Seq: uint64(i)})
		}
		if _, peer := err.(*protocol.PeerError); err != nil && !peer {
			fail("client %d step %d: %v", seed, i, err)
			return
		}
	}
}

// checkStatusView reads one status stream and checks every pool: its
// seats (duplicates of a group once, at their largest count) plus its
// unused reservations are its "in use", which stays within the pool's
// count plus the license's overdraft.
func checkStatusView(addr string) error {
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		return err
	}
	c := protocol.NewConn(nc)
	defer c.Close()
	if _, err := protocol.ClientHandshake(c, &protocol.Hello{Version: protocol.Version, Role: protocol.RoleAdmin}); err != nil {
		return err
	}
	if err := c.Send(&protocol.FeatureStatusRequest{}); err != nil {
		return err
	}
	var pool *protocol.PoolStatus
	var groups map[string]int
	var seats int
	finish := func() error {
		if pool == nil {
			return nil
		}
		sum := seats
		for _, n := range groups {
			sum += n
		}
		limit, ok := randomLimits[pool.Feature+" "+pool.Version]
		if !ok {
			return fmt.Errorf("unexpected pool %s v%s", pool.Feature, pool.Version)
		}
		if sum != pool.InUse {
			return fmt.Errorf("pool %s v%s: seats and reservations add up to %d, in use says %d", pool.Feature, pool.Version, sum, pool.InUse)
		}
		if sum > limit {
			return fmt.Errorf("pool %s v%s: %d licenses out or reserved, limit %d", pool.Feature, pool.Version, sum, limit)
		}
		return nil
	}
	for {
		m, err := c.Recv()
		if err != nil {
			return err
		}
		switch m := m.(type) {
		case *protocol.PoolStatus:
			if err := finish(); err != nil {
				return err
			}
			pool, groups, seats = m, map[string]int{}, 0
		case *protocol.UserEntry:
			switch {
			case m.Queued:
			case pool.Feature == "f1" && pool.Version == "1.0":
				k := m.User + "@" + m.Host // DUP_GROUP=UH
				groups[k] = max(groups[k], m.Count)
			case pool.Feature == "suite":
				k := m.User + "@" + m.Host + "@" + m.Display // one seat per user's components
				groups[k] = max(groups[k], m.Count)
			default:
				seats += m.Count
			}
		case *protocol.ReservationEntry:
			seats += m.Count
		case *protocol.End:
			return finish()
		}
	}
}
