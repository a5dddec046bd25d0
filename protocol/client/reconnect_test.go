package client

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestReconnectPacing(t *testing.T) {
	tests := []struct {
		hb                time.Duration
		wantFirst, wantLt time.Duration
	}{
		{30 * time.Second, time.Second, 2 * time.Second}, // the default heartbeat
		{5 * time.Second, time.Second, 1250 * time.Millisecond},
		{2 * time.Second, 500 * time.Millisecond, 500 * time.Millisecond},
		{50 * time.Millisecond, 100 * time.Millisecond, 100 * time.Millisecond},
		{time.Hour, time.Second, 2 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.hb.String(), func(t *testing.T) {
			first, limit := reconnectPacing(tt.hb)
			if first != tt.wantFirst || limit != tt.wantLt {
				t.Errorf("reconnectPacing(%v) = %v, %v; want %v, %v", tt.hb, first, limit, tt.wantFirst, tt.wantLt)
			}
		})
	}
}

// TestReconnectPauseSpread draws many pauses of one window: each lies in
// [0, window), and they fill every tenth of it, so that clients that
// lost the same vendor daemon come back spread out, not together.
func TestReconnectPauseSpread(t *testing.T) {
	for _, window := range []time.Duration{100 * time.Millisecond, time.Second, 2 * time.Second} {
		t.Run(window.String(), func(t *testing.T) {
			var tenths [10]int
			for range 2000 {
				p := reconnectPause(window)
				if p < 0 || p >= window {
					t.Fatalf("reconnectPause(%v) = %v, want in [0, %v)", window, p, window)
				}
				tenths[p*10/window]++
			}
			for i, n := range tenths {
				if n == 0 {
					t.Errorf("no pause in tenth %d of %v: %v", i, window, tenths)
				}
			}
		})
	}
}

// TestRecoverKeepsLiveConnection: recover, when the connection is alive
// again by the time its pause ends (a checkout reconnected meanwhile),
// keeps that connection instead of replacing it; with the connection
// broken it reconnects, and the seat is held again.
func TestRecoverKeepsLiveConnection(t *testing.T) {
	srv := newFakeServer(t, map[string]int{"f1": 1})
	j := openJob(t, srv.spec(), WithHeartbeat(200*time.Millisecond))
	lic, err := j.Checkout(context.Background(), "f1", "1.0", 1)
	if err != nil {
		t.Fatalf("Checkout: %v", err)
	}
	vc := lic.vc
	link := func() *link {
		vc.mu.Lock()
		defer vc.mu.Unlock()
		return vc.link
	}
	t.Run("alive", func(t *testing.T) {
		before := link()
		vc.recover()
		if got := link(); got != before {
			t.Errorf("recover replaced a live connection")
		}
	})
	t.Run("broken", func(t *testing.T) {
		before := link()
		vc.mu.Lock()
		vc.link.fail(errors.New("test break"))
		vc.mu.Unlock()
		vc.recover()
		vc.mu.Lock()
		alive, replaced := vc.alive(), vc.link != before
		vc.mu.Unlock()
		if !alive || !replaced {
			t.Errorf("after recover: alive %v, replaced %v; want both", alive, replaced)
		}
		if err := lic.Err(); err != nil {
			t.Errorf("license lost: %v", err)
		}
		if n := srv.InUse("f1"); n != 1 {
			t.Errorf("seats in use = %d, want 1", n)
		}
	})
}
