package server

import (
	"encoding/binary"
	"testing"
	"time"
)

// TestServeDeep runs the same conversation with requests answered on the
// connection's goroutine and, as with many clients connected, on the
// request workers (Vendor.run): handshake, checkouts, a two-feature
// status stream, a checkin, and a disconnect that frees the seats.
func TestServeDeep(t *testing.T) {
	t.Parallel() // a vendor daemon of its own, in this process
	const license = "SERVER this_host ANY 27000\nVENDOR demo\n" +
		"FEATURE f1 demo 1.0 permanent 3\nFEATURE f2 demo 1.0 permanent 2\n"
	tests := []struct {
		name      string
		deepAbove int64
	}{
		{"inline", deepAbove},
		{"request workers", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, license, "")
			h.v.deepAbove.Store(tt.deepAbove)
			joe := h.client("joe", "h1", "d1")
			ann := h.client("ann", "h2", "d2")
			joe.want("f1", "1.0", 1, 0)
			joe.want("f2", "1.0", 2, 0)
			hAnn := ann.want("f1", "1.0", 1, 0)
			ann.want("f2", "1.0", 1, -4)
			h.wantStatus("", "f1 issued=3 inuse=2\n v1.0 floating issued=3 inuse=2\n  joe h1 d1 v1.0 x1\n  ann h2 d2 v1.0 x1\n"+
				"f2 issued=2 inuse=2\n v1.0 floating issued=2 inuse=2\n  joe h1 d1 v1.0 x2\n")
			if got := ann.checkin(hAnn); got != 0 {
				t.Fatalf("checkin: code %d, want 0", got)
			}
			joe.c.Close()
			h.eventuallyStatus("", "f1 issued=3 inuse=0\n v1.0 floating issued=3 inuse=0\nf2 issued=2 inuse=0\n v1.0 floating issued=2 inuse=0\n")
			h.wantStatus("nope", "nope error -5\n")
		})
	}
}

// TestServeDeepWorkersStalled ties up every request worker with
// connections that send the first 512 bytes of a larger frame and then
// nothing (the worker waits in Recv for the rest): the requests of other
// clients are still answered, each on a goroutine of its own, and the
// workers serve again once the stalled connections close.
func TestServeDeepWorkersStalled(t *testing.T) {
	t.Parallel() // a vendor daemon of its own, in this process
	const license = "SERVER this_host ANY 27000\nVENDOR demo\nFEATURE f1 demo 1.0 permanent 3\n"
	h := newHarness(t, license, "")
	h.v.deepAbove.Store(0)
	// idle reports whether a worker takes a step at once.
	idle := func() bool {
		select {
		case h.v.work <- func() {}:
			return true
		default:
			return false
		}
	}
	for _, round := range []string{"workers stalled", "stalled connections closed"} {
		t.Run(round, func(t *testing.T) {
			var stalled []*testClient
			if round == "workers stalled" {
				frame := binary.BigEndian.AppendUint32(nil, 1000)
				frame = append(frame, make([]byte, 508)...)
				for range requestWorkers() + 2 {
					c := h.client("stall", "h", "d")
					if _, err := c.c.NetConn().Write(frame); err != nil {
						t.Fatal(err)
					}
					stalled = append(stalled, c)
				}
				deadline := time.Now().Add(10 * time.Second)
				for idle() {
					if time.Now().After(deadline) {
						t.Fatal("a request worker is still idle with every worker's connection stalled")
					}
					time.Sleep(time.Millisecond)
				}
			}
			joe := h.client("joe", "h1", "d1")
			joe.c.ReadTimeout = 10 * time.Second
			hd := joe.want("f1", "1.0", 1, 0)
			if got := joe.checkin(hd); got != 0 {
				t.Fatalf("checkin: code %d, want 0", got)
			}
			h.wantStatus("f1", "f1 issued=3 inuse=0\n v1.0 floating issued=3 inuse=0\n")
			for _, c := range stalled {
				c.c.Close()
			}
			joe.c.Close()
		})
	}
	deadline := time.Now().Add(10 * time.Second)
	for !idle() {
		if time.Now().After(deadline) {
			t.Fatal("no request worker is idle after the stalled connections closed")
		}
		time.Sleep(time.Millisecond)
	}
}

// TestServeDeepBusyInline: with many connections open (deepAbove 0), a
// connection whose requests come back to back is answered on its own
// goroutine once busyAfter requests in a row came soon after their
// answer; one whose requests come later than busyWithin is handed to the
// request workers each time, as an idle client's heartbeat is.
func TestServeDeepBusyInline(t *testing.T) {
	t.Parallel() // a vendor daemon of its own, in this process
	const license = "SERVER this_host ANY 27000\nVENDOR demo\nFEATURE f1 demo 1.0 permanent 3\n"
	h := newHarness(t, license, "")
	h.v.deepAbove.Store(0)
	const within = 20 * time.Millisecond
	h.v.busyWithin.Store(int64(within))
	tests := []struct {
		name     string
		pause    time.Duration // between one answer and the next request
		pairs    int
		min, max uint64 // requests handed over
	}{
		// The first busyAfter requests are handed over; a loaded
		// machine may delay a few more past busyWithin.
		{"back to back", 0, 50, busyAfter, busyAfter + 10},
		{"paused", 2 * within, 3, 6, 6},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := h.client("joe", "h1", "d1")
			defer c.c.Close()
			before := h.v.deepSteps.Load()
			for range tt.pairs {
				time.Sleep(tt.pause)
				hd := c.want("f1", "1.0", 1, 0)
				time.Sleep(tt.pause)
				if got := c.checkin(hd); got != 0 {
					t.Fatalf("checkin: code %d", got)
				}
			}
			if got := h.v.deepSteps.Load() - before; got < tt.min || got > tt.max {
				t.Errorf("%d of %d requests handed to the request workers, want %d to %d", got, 2*tt.pairs, tt.min, tt.max)
			}
		})
	}
}
