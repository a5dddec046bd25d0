package client

import (
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
