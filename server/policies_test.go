package server

import (
	"testing"
	"time"

	"golm/lmutil/protocol"
	"golm/lmutil/server/state"
)

// TestDupGroup implements DUP_GROUP of manual 3.2.4: "DUP_GROUP=UHD
// means ... for a user on the same host and display, additional uses of
// a feature do not consume additional licenses"; any combination of
// U, H, D and V, SITE (everybody shares) and NONE.
func TestDupGroup(t *testing.T) {
	t.Parallel() // a vendor daemon of its own, in this process
	tests := []struct {
		name string
		dup  string
		// who checks out, in order: user, host, display, vendor data
		who [][4]string
		// the licenses in use afterwards
		inUse int
	}{
		{"UHD same user host display", "UHD", [][4]string{{"a", "h", "d"}, {"a", "h", "d"}, {"a", "h", "d"}}, 1},
		{"UHD other display", "UHD", [][4]string{{"a", "h", "d"}, {"a", "h", "d2"}}, 2},
		{"U any host", "U", [][4]string{{"a", "h1", "d"}, {"a", "h2", "d2"}, {"b", "h1", "d"}}, 2},
		{"H any user", "H", [][4]string{{"a", "h1", "d"}, {"b", "h1", "d2"}, {"c", "h2", "d"}}, 2},
		{"D", "D", [][4]string{{"a", "h1", "d"}, {"b", "h2", "d"}}, 1},
		{"V vendor data", "UV", [][4]string{{"a", "h", "d", "x"}, {"a", "h2", "d", "x"}, {"a", "h", "d", "y"}}, 2},
		{"SITE", "SITE", [][4]string{{"a", "h1", "d"}, {"b", "h2", "d2"}, {"c", "h3", "d3"}}, 1},
		{"NONE", "NONE", [][4]string{{"a", "h", "d"}, {"a", "h", "d"}}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, lic("FEATURE f1 demo 1.0 permanent 5 DUP_GROUP="+tt.dup), "")
			for _, w := range tt.who {
				c := h.client(w[0], w[1], w[2])
				if _, err := c.c.Call(&protocol.Checkout{Feature: "f1", Version: "1.0", Count: 1, VendorData: w[3]}); err != nil {
					t.Fatalf("checkout by %v: %v", w, err)
				}
			}
			for _, ps := range h.v.State().Status() {
				if ps.InUse != tt.inUse {
					t.Fatalf("in use %d, want %d", ps.InUse, tt.inUse)
				}
			}
		})
	}
}

// TestDupGroupFillsPool: duplicates never count against the pool, so a
// pool of one seat serves one user's many processes and nobody else.
func TestDupGroupFillsPool(t *testing.T) {
	t.Parallel() // a vendor daemon of its own, in this process
	h := newHarness(t, lic("FEATURE f1 demo 1.0 permanent 1 DUP_GROUP=UH"), "")
	var handles []uint64
	for _, d := range []string{"d1", "d2", "d3"} {
		handles = append(handles, h.client("joe", "pc", d).want("f1", "1.0", 1, 0))
	}
	h.client("ann", "pc", "d1").want("f1", "1.0", 1, -4)
	// lmremove -h of one duplicate removes them all.
	adm := h.client("admin", "srv", "console")
	m, err := adm.c.Call(&protocol.RemoveHandle{Feature: "f1", Handle: handles[1]})
	if err != nil || m.(*protocol.OK).Count != 3 {
		t.Fatalf("lmremove -h = %v, %v; want 3 seats removed", m, err)
	}
	h.wantLog("REMOVING joe@pc from f1")
	h.client("ann", "pc", "d1").want("f1", "1.0", 1, 0)
}

// TestOverdraft implements OVERDRAFT (manual 3.2.4) and MAX_OVERDRAFT
// (manual 6.2.9): "Limits OVERDRAFT license usage below the OVERDRAFT
// allowed by the license file".
func TestOverdraft(t *testing.T) {
	t.Parallel() // a vendor daemon of its own, in this process
	tests := []struct {
		name string
		opts string
		max  int
	}{
		{"license overdraft", "", 5},
		{"MAX_OVERDRAFT lowers it", "MAX_OVERDRAFT f1 1\n", 4},
		{"MAX_OVERDRAFT cannot raise it", "MAX_OVERDRAFT f1 9\n", 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, lic("FEATURE f1 demo 1.0 permanent 3 OVERDRAFT=2"), tt.opts)
			c := h.client("u", "h", "d")
			for i := 0; i < tt.max; i++ {
				c.want("f1", "1.0", 1, 0)
			}
			c.want("f1", "1.0", 1, -4)
		})
	}
}

// TestUserBased implements USER_BASED and HOST_BASED (manual 3.2.4 and
// the note of 6.2.5): "INCLUDE is required for USER_BASED or HOST_BASED
// features ... the license limits the number of users that can be
// INCLUDEd".
func TestUserBased(t *testing.T) {
	t.Parallel() // a vendor daemon of its own, in this process
	t.Run("no INCLUDE", func(t *testing.T) {
		h := newHarness(t, lic("FEATURE f1 demo 1.0 permanent 2 USER_BASED"), "")
		h.client("a", "h", "d").want("f1", "1.0", 1, -84)
	})
	t.Run("USER_BASED", func(t *testing.T) {
		h := newHarness(t, lic("FEATURE f1 demo 1.0 permanent 2 USER_BASED"),
			"INCLUDE f1 USER a\nINCLUDE f1 USER b\nINCLUDE f1 USER c\n")
		a := h.client("a", "h", "d")
		a.want("f1", "1.0", 1, 0)
		a.want("f1", "1.0", 1, 0) // the same user: still one license
		h.client("b", "h2", "d").want("f1", "1.0", 1, 0)
		h.client("c", "h", "d").want("f1", "1.0", 1, -39) // INCLUDEd beyond the count
		h.client("z", "h", "d").want("f1", "1.0", 1, -39)
	})
	t.Run("HOST_BASED=1", func(t *testing.T) {
		h := newHarness(t, lic("FEATURE f1 demo 1.0 permanent 5 HOST_BASED=1"),
			"HOST_GROUP lab pc1 pc2\nINCLUDE f1 HOST_GROUP lab\n")
		h.client("a", "pc1", "d").want("f1", "1.0", 1, 0)
		h.client("b", "pc1", "d").want("f1", "1.0", 1, 0)
		h.client("a", "pc2", "d").want("f1", "1.0", 1, -39)
	})
}

// TestQueue implements license queueing (manual B.2.2, lm_checkout's
// queue_flag; FlexLM's LM_CO_QUEUE): waiters are granted strictly in
// arrival order, a checkout without queueing while others wait gets -24,
// lmstat shows "queued for N licenses", and a waiter that disconnects or
// checks in leaves the queue.
func TestQueue(t *testing.T) {
	t.Parallel() // a vendor daemon of its own, in this process
	h := newHarness(t, lic("FEATURE f1 demo 1.0 permanent 2"), "")
	holder := h.client("hold", "h", "d")
	hold := holder.want("f1", "1.0", 2, 0)
	a, b, c := h.client("a", "h", "d"), h.client("b", "h", "d"), h.client("c", "h", "d")
	qa, queued, _ := a.queue("f1", "1.0", 1)
	if !queued {
		t.Fatal("a was not queued")
	}
	qb, _, _ := b.queue("f1", "1.0", 2)
	qc, _, _ := c.queue("f1", "1.0", 1)
	h.client("x", "h", "d").want("f1", "1.0", 1, -24)
	h.wantStatus("f1", "f1 issued=2 inuse=2\n v1.0 floating issued=2 inuse=2\n  hold h d v1.0 x2\n"+
		"  queued a h d x1\n  queued b h d x2\n  queued c h d x1\n")
	if granted, _ := a.poll(qa); granted {
		t.Fatal("a granted while every seat is out")
	}
	holder.checkin(hold)
	// a is first; b needs two seats and waits for them; c, behind b,
	// waits too although one seat is free.
	if granted, _ := a.poll(qa); !granted {
		t.Fatal("a not granted after the checkin")
	}
	if granted, _ := c.poll(qc); granted {
		t.Fatal("c overtook b")
	}
	// Nor may a newcomer take the free seat, queued or not.
	h.client("y", "h", "d").want("f1", "1.0", 1, -24)
	if _, queued, _ := h.client("z", "h", "d").queue("f1", "1.0", 1); !queued {
		t.Fatal("a newcomer was granted the seat b waits for")
	}
	a.checkin(qa)
	if granted, _ := b.poll(qb); !granted {
		t.Fatal("b not granted")
	}
	// b leaves by disconnecting; c gets its seat.
	b.c.Close()
	deadline := time.Now().Add(15 * time.Second)
	for {
		if granted, _ := c.poll(qc); granted {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("c never granted after b disconnected")
		}
		time.Sleep(5 * time.Millisecond) // polling interval
	}
	h.wantLog(`QUEUED: "f1" a@h  `, `DENIED: "f1" x@h  (Users are queued for this feature. (-24,355))`)
}

// TestQueueLeave: a queued client that disconnects or checks its request
// in leaves the queue, and the next waiter moves up.
func TestQueueLeave(t *testing.T) {
	t.Parallel() // a vendor daemon of its own, in this process
	h := newHarness(t, lic("FEATURE f1 demo 1.0 permanent 1"), "")
	holder := h.client("hold", "h", "d")
	hold := holder.want("f1", "1.0", 1, 0)
	a, b, c := h.client("a", "h", "d"), h.client("b", "h", "d"), h.client("c", "h", "d")
	a.queue("f1", "1.0", 1)
	qb, _, _ := b.queue("f1", "1.0", 1)
	qc, _, _ := c.queue("f1", "1.0", 1)
	a.c.Close()
	h.eventuallyStatus("f1", "f1 issued=1 inuse=1\n v1.0 floating issued=1 inuse=1\n  hold h d v1.0 x1\n  queued b h d x1\n  queued c h d x1\n")
	if got := b.checkin(qb); got != 0 {
		t.Fatalf("leaving the queue: %d", got)
	}
	if _, got := b.poll(qb); got != -41 {
		t.Fatalf("poll after leaving the queue: code %d, want -41", got)
	}
	holder.checkin(hold)
	if granted, _ := c.poll(qc); !granted {
		t.Fatal("c not granted")
	}
}

// TestLinger implements LINGER (manual 6.2.7: the daemon "holds on" to
// the license for seconds after the application checks it in or exits)
// for the options file's LINGER and the application's own linger, and
// lmstat's "(linger: remaining / total)".
func TestLinger(t *testing.T) {
	t.Parallel() // a vendor daemon of its own, in this process
	t.Run("options LINGER", func(t *testing.T) {
		h := newHarness(t, lic("FEATURE f1 demo 1.0 permanent 1"), "LINGER f1 30\n")
		c := h.client("joe", "pc", "d")
		hd := c.want("f1", "1.0", 1, 0)
		c.checkin(hd)
		h.clock.Add(10 * time.Second)
		h.wantStatus("f1", "f1 issued=1 inuse=1\n v1.0 floating issued=1 inuse=1\n  joe pc d v1.0 x1 linger 20/30\n")
		h.client("ann", "pc", "d").want("f1", "1.0", 1, -4)
		h.clock.Add(20 * time.Second)
		h.eventuallyStatus("f1", "f1 issued=1 inuse=0\n v1.0 floating issued=1 inuse=0\n")
		h.client("ann", "pc", "d").want("f1", "1.0", 1, 0)
	})
	t.Run("application linger on exit", func(t *testing.T) {
		h := newHarness(t, lic("FEATURE f1 demo 1.0 permanent 1"), "")
		c := h.client("joe", "pc", "d")
		c.call(&protocol.Linger{Seconds: 60})
		c.want("f1", "1.0", 1, 0)
		c.c.Close()
		h.eventuallyStatus("f1", "f1 issued=1 inuse=1\n v1.0 floating issued=1 inuse=1\n  joe pc d v1.0 x1 linger 60/60\n")
		h.clock.Add(61 * time.Second)
		h.eventuallyStatus("f1", "f1 issued=1 inuse=0\n v1.0 floating issued=1 inuse=0\n")
	})
	t.Run("lmremove starts the linger", func(t *testing.T) {
		h := newHarness(t, lic("FEATURE f1 demo 1.0 permanent 1"), "LINGER f1 5\n")
		hd := h.client("joe", "pc", "d").want("f1", "1.0", 1, 0)
		h.client("admin", "srv", "c").call(&protocol.RemoveHandle{Feature: "f1", Handle: hd})
		h.wantStatus("f1", "f1 issued=1 inuse=1\n v1.0 floating issued=1 inuse=1\n  joe pc d v1.0 x1 linger 5/5\n")
	})
}

// TestTimeout implements TIMEOUT (manual 6.2.13): a license whose process
// has been idle for longer than the timeout is reclaimed; idle means the
// application declared itself idle, or the daemon has not heard from it.
func TestTimeout(t *testing.T) {
	t.Parallel() // a vendor daemon of its own, in this process
	for _, opts := range []string{"TIMEOUT f1 60\n", "TIMEOUTALL 60\n"} {
		t.Run(opts[:len(opts)-1], func(t *testing.T) {
			h := newHarness(t, lic("FEATURE f1 demo 1.0 permanent 3"), opts)
			idle, busy, silent := h.client("idle", "h", "d"), h.client("busy", "h", "d"), h.client("silent", "h", "d")
			idle.want("f1", "1.0", 1, 0)
			busy.want("f1", "1.0", 1, 0)
			silent.want("f1", "1.0", 1, 0)
			idle.call(&protocol.Idle{Idle: true})
			h.clock.Add(40 * time.Second)
			idle.call(&protocol.Heartbeat{Seq: 1}) // idle, though alive
			busy.call(&protocol.Heartbeat{Seq: 1})
			h.clock.Add(30 * time.Second)
			busy.call(&protocol.Heartbeat{Seq: 2})
			h.eventuallyStatus("f1", "f1 issued=3 inuse=1\n v1.0 floating issued=3 inuse=1\n  busy h d v1.0 x1\n")
			h.wantLog(`IN: "f1" idle@h  (INACTIVE)`, `IN: "f1" silent@h  (INACTIVE)`)
		})
	}
	t.Run("raised to the minimum", func(t *testing.T) {
		h := newHarness(t, lic("FEATURE f1 demo 1.0 permanent 1"), "TIMEOUT f1 1\n", func(c *VendorConfig) { c.MinTimeout = time.Hour })
		c := h.client("u", "h", "d")
		c.want("f1", "1.0", 1, 0)
		c.call(&protocol.Idle{Idle: true})
		h.clock.Add(30 * time.Minute)
		h.v.State().Apply(state.Tick{Now: h.clock.Now()})
		h.wantStatus("f1", "f1 issued=1 inuse=1\n v1.0 floating issued=1 inuse=1\n  u h d v1.0 x1\n")
	})
}
