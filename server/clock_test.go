package server

import (
	"strings"
	"testing"
	"time"

	"golm/lmutil/protocol"

	"golm/lmutil/protocol/lmerr"
)

// TestClockStepped: the system clock stepped forwards and backwards under
// a running vendor daemon. A forward step past a license's expiry expires
// it, and stepping the clock back does not bring it back (the state's
// clock never goes back: the classic way to stretch a license fails);
// seats out stay out and are counted once, nothing is reclaimed by a
// backward step, connections stay up (their deadlines are not on this
// clock), and the debug log starts a new TIMESTAMP when time goes back.
func TestClockStepped(t *testing.T) {
	t.Parallel() // a vendor daemon of its own, in this process
	h := newHarness(t, lic("FEATURE f1 demo 1.0 permanent 2", "FEATURE f2 demo 1.0 1-jan-2027 2"), "TIMEOUT f1 3600\n")
	joe := h.client("joe", "pc1", "d")
	joe.want("f1", "1.0", 1, 0)
	joe.want("f2", "1.0", 1, 0)
	joe.call(&protocol.Idle{Idle: true})

	steps := []struct {
		name  string
		step  time.Duration
		f2    lmerr.Code // the code of a new checkout of f2
		inUse string
	}{
		{"back a day", -24 * time.Hour, 0, "f1 issued=2 inuse=1\n"},
		{"back a year", -365 * 24 * time.Hour, 0, "f1 issued=2 inuse=1\n"},
		{"forward past f2's expiry", 3 * 365 * 24 * time.Hour, -10, ""},
		{"back before the expiry", -3 * 365 * 24 * time.Hour, -10, "f1 issued=2 inuse="},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			h.clock.Add(s.step)
			ann := h.client("ann", "pc2", "d")
			hd, code := ann.co("f2", "1.0", 1)
			if code != s.f2 {
				t.Errorf("checkout of f2 after the step: code %d, want %d", code, s.f2)
			}
			if hd != 0 {
				ann.checkin(hd)
			}
			joe.call(&protocol.Heartbeat{Seq: 1}) // joe's connection lives through every step
			if s.inUse != "" && !strings.HasPrefix(h.status("f1"), s.inUse) {
				t.Errorf("after the step: %q, want it to start %q", h.status("f1"), s.inUse)
			}
			for _, ps := range h.v.State().Status() {
				if ps.InUse > ps.Pool.Count+ps.Pool.Overdraft {
					t.Errorf("%s: %d in use, limit %d", ps.Pool.Feature, ps.InUse, ps.Pool.Count+ps.Pool.Overdraft)
				}
			}
		})
	}
	// The forward step reclaimed joe's idle f1 seat (TIMEOUT 3600 passed
	// on this clock), and only once.
	if n := strings.Count(h.log.String(), `IN: "f1" joe@pc1  (INACTIVE)`); n > 1 {
		t.Errorf("joe's f1 seat reclaimed %d times", n)
	}
	if n := strings.Count(h.log.String(), "TIMESTAMP"); n < 3 {
		t.Errorf("%d TIMESTAMP lines after the clock went back twice, want at least 3:\n%s", n, h.log.String())
	}
}

// TestClockSteppedBackLinger: a lingering seat lasts its linger in
// elapsed time. A clock stepped back an hour must neither keep the seat
// an hour longer nor show more linger left than its total.
func TestClockSteppedBackLinger(t *testing.T) {
	t.Parallel() // a vendor daemon of its own, in this process
	h := newHarness(t, lic("FEATURE f1 demo 1.0 permanent 1"), "")
	joe := h.client("joe", "pc1", "d")
	joe.call(&protocol.Linger{Seconds: 30})
	joe.checkin(joe.want("f1", "1.0", 1, 0))
	h.wantStatus("f1", "f1 issued=1 inuse=1\n v1.0 floating issued=1 inuse=1\n  joe pc1 d v1.0 x1 linger 30/30\n")
	h.clock.Add(-time.Hour)
	got := h.status("f1")
	if !strings.Contains(got, "linger 30/30") {
		t.Errorf("after the clock went back an hour the seat shows %q, want linger 30/30", got)
	}
	// Thirty seconds of elapsed time later (on the stepped clock) the
	// linger is over and the seat is free.
	h.clock.Add(31 * time.Second)
	h.eventuallyStatus("f1", "f1 issued=1 inuse=0\n v1.0 floating issued=1 inuse=0\n")
}
