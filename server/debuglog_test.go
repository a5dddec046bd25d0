package server

import (
	"io"
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
	log.SetFlushEvery(0)
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
	log.SetFlushEvery(0)
	log.Printf("OUT: %s", usageText("f1", client("user1", "server1"), 1))
	log.Printf("IN: %s", usageText("f1", client("user1", "server1"), 2))
	got := lines(&b)[1:]
	equalLines(t, got, []string{
		`11:30:32 (demo) OUT: "f1" user1@server1  `,
		`11:30:32 (demo) IN: "f1" user1@server1  (2 licenses)`,
	})
}

// unbufferedLog is a debug log that writes every line at once, for tests
// that read the log right after what they log.
func unbufferedLog(w io.Writer, daemon string, now func() time.Time) *DebugLog {
	l := NewDebugLog(w, daemon, now)
	l.SetFlushEvery(0)
	return l
}
