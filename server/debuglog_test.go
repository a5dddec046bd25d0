package server

import (
	"strings"
	"testing"
	"time"
)

type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time      { return c.t }
func (c *fakeClock) add(d time.Duration) { c.t = c.t.Add(d) }
func newClock(h, m, s int) *fakeClock {
	return &fakeClock{time.Date(2026, 2, 10, h, m, s, 0, time.Local)}
}
func lines(b *strings.Builder) []string {
	return strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
}
func equalLines(t *testing.T, got, want []string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("log =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestDebugLogFormat(t *testing.T) {
	var b strings.Builder
	clk := newClock(8, 49, 38)
	log := NewDebugLog(&b, "lmgrd", clk.now)
	log.Printf("lmgrd tcp-port %d", 27000)
	clk.add(3*time.Hour + 10*time.Minute)
	log.Printf("Started %s (internet tcp_port %d pid %d)", "demo", 41234, 99)
	clk.add(3 * time.Hour) // six hours since the last TIMESTAMP
	log.Printf("SHUTDOWN request from %s at node %s", "joe", "box")
	clk.add(12 * time.Hour) // next day
	log.Printf("EXITING DUE TO SIGNAL 15")
	equalLines(t, lines(&b), []string{
		" 8:49:38 (lmgrd) TIMESTAMP 2/10/2026",
		" 8:49:38 (lmgrd) lmgrd tcp-port 27000",
		"11:59:38 (lmgrd) Started demo (internet tcp_port 41234 pid 99)",
		"14:59:38 (lmgrd) TIMESTAMP 2/10/2026",
		"14:59:38 (lmgrd) SHUTDOWN request from joe at node box",
		" 2:59:38 (lmgrd) TIMESTAMP 2/11/2026",
		" 2:59:38 (lmgrd) EXITING DUE TO SIGNAL 15",
	})
}

func TestDebugLogUsageLines(t *testing.T) {
	var b strings.Builder
	clk := newClock(11, 30, 32)
	log := NewDebugLog(&b, "demo", clk.now)
	log.Printf("OUT: %s", usageText("f1", client("user1", "server1"), 1))
	log.Printf("IN: %s", usageText("f1", client("user1", "server1"), 2))
	got := lines(&b)[1:]
	equalLines(t, got, []string{
		`11:30:32 (demo) OUT: "f1" user1@server1  `,
		`11:30:32 (demo) IN: "f1" user1@server1  (2 licenses)`,
	})
}

func TestDebugLogRateLimit(t *testing.T) {
	var b strings.Builder
	clk := newClock(9, 0, 0)
	log := NewDebugLog(&b, "demo", clk.now)
	log.Burst = 3
	for i := 0; i < 10; i++ {
		log.Limited("DENIED", "DENIED: %d", i)
	}
	log.Limited("OUT", "OUT: other key")
	clk.add(2 * time.Minute)
	log.Limited("DENIED", "DENIED: later")
	equalLines(t, lines(&b), []string{
		" 9:00:00 (demo) TIMESTAMP 2/10/2026",
		" 9:00:00 (demo) DENIED: 0",
		" 9:00:00 (demo) DENIED: 1",
		" 9:00:00 (demo) DENIED: 2",
		" 9:00:00 (demo) OUT: other key",
		" 9:02:00 (demo) (7 more DENIED messages not logged)",
		" 9:02:00 (demo) DENIED: later",
	})
}

// TestDebugLogWindows checks that each key's window ends on its own
// clock: a window opened later is not closed with an earlier one, and a
// clock that goes back closes the windows it went back past.
func TestDebugLogWindows(t *testing.T) {
	var b strings.Builder
	clk := newClock(9, 0, 0)
	log := NewDebugLog(&b, "demo", clk.now)
	log.Burst = 1
	log.Limited("A", "A1")
	log.Limited("A", "A2") // suppressed
	clk.add(30 * time.Second)
	log.Limited("B", "B1")
	if log.Take("B") {
		t.Fatal("Take: second B line in its window admitted")
	}
	clk.add(40 * time.Second) // A's window is over, B's is not
	log.Limited("C", "C1")
	log.Limited("B", "B3")    // still suppressed
	clk.add(-2 * time.Minute) // before every window began
	log.Limited("B", "B4")
	equalLines(t, lines(&b), []string{
		" 9:00:00 (demo) TIMESTAMP 2/10/2026",
		" 9:00:00 (demo) A1",
		" 9:00:30 (demo) B1",
		" 9:01:10 (demo) (1 more A messages not logged)",
		" 9:01:10 (demo) C1",
		" 8:59:10 (demo) TIMESTAMP 2/10/2026",
		" 8:59:10 (demo) (2 more B messages not logged)",
		" 8:59:10 (demo) B4",
	})
}
