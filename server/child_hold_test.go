package server

import (
	"testing"
	"time"

	"golm/lmutil/licfile"
	"golm/lmutil/protocol"
)

// TestWaitUpHoldsForARestart checks when lmgrd holds a client's request
// for a vendor daemon that is down: while it is being (re)started soon
// it waits until the daemon is up, otherwise it answers at once.
func TestWaitUpHoldsForARestart(t *testing.T) {
	t.Parallel() // a vendor daemon of its own, in this process
	const hold = 5 * time.Second
	tests := []struct {
		name    string
		running bool
		startAt time.Duration // from now; 0: starting now
		comesUp bool          // the daemon comes up meanwhile
		wantUp  bool
		quick   bool // answered without waiting the hold out
	}{
		{"restarting, comes up", true, 0, true, true, true},
		{"restart pause within the hold", true, 50 * time.Millisecond, true, true, true},
		{"restart pause past the hold", true, time.Hour, true, false, true},
		{"not being started", false, 0, false, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newChild(nil, &licfile.Vendor{Name: "demo"})
			c.running = tt.running
			if tt.startAt > 0 {
				c.startAt = time.Now().Add(tt.startAt)
			}
			if tt.comesUp {
				go func() {
					time.Sleep(100 * time.Millisecond) // the daemon's start-up
					c.setUp(&protocol.Ready{Port: 27001, Version: "v0.1.0"}, nil)
				}()
			}
			t0 := time.Now()
			st := c.waitUp(hold)
			if st.Up != tt.wantUp {
				t.Errorf("up: got %v, want %v", st.Up, tt.wantUp)
			}
			if d := time.Since(t0); tt.quick && d >= hold {
				t.Errorf("answered after %v, the whole hold", d)
			}
		})
	}
}

// TestWaitUpWakesWhenTheSupervisorEnds checks that a held request is
// answered as soon as lmgrd gives up on the vendor daemon.
func TestWaitUpWakesWhenTheSupervisorEnds(t *testing.T) {
	c := newChild(nil, &licfile.Vendor{Name: "demo"})
	c.running = true
	done := make(chan *protocol.VendorStatus)
	go func() { done <- c.waitUp(time.Minute) }()
	for {
		c.mu.Lock()
		waiting := c.woken != nil
		c.mu.Unlock()
		if waiting {
			break
		}
		time.Sleep(time.Millisecond) // until the request is held
	}
	c.mu.Lock()
	c.running = false
	c.wakeLocked()
	c.mu.Unlock()
	select {
	case st := <-done:
		if st.Up {
			t.Errorf("up after the supervisor ended")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("held request not answered when the supervisor ended")
	}
}
