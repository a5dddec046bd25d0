package server

import (
	"testing"
	"time"
)

// A connection refused again and again waits longer each time, up to a
// bound, and starts afresh after a quiet window; the first few cost
// nothing.
func TestRefusalPacer(t *testing.T) {
	var slept []time.Duration
	p := refusalPacer{sleep: func(d time.Duration) { slept = append(slept, d) }}
	t0 := time.Unix(1000, 0)
	for i := range refusalFree {
		p.refused(t0.Add(time.Duration(i) * time.Millisecond))
	}
	if len(slept) != 0 {
		t.Fatalf("the first %d refusals waited %v", refusalFree, slept)
	}
	p.refused(t0.Add(20 * time.Millisecond))
	p.refused(t0.Add(21 * time.Millisecond))
	if len(slept) != 2 || slept[0] != refusalStep || slept[1] != 2*refusalStep {
		t.Errorf("waits past the free ones = %v, want %v then %v", slept, refusalStep, 2*refusalStep)
	}
	for i := range 1000 {
		p.refused(t0.Add(22*time.Millisecond + time.Duration(i)*time.Microsecond))
	}
	if got := slept[len(slept)-1]; got != refusalMaxPause {
		t.Errorf("wait after 1,000 more = %v, want the bound %v", got, refusalMaxPause)
	}
	// A window later the count starts again.
	slept = nil
	p.refused(t0.Add(3 * refusalWindow))
	if len(slept) != 0 {
		t.Errorf("a refusal after a quiet window waited %v", slept)
	}
}
