package server

import (
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"golm/lmutil/protocol"
	"golm/lmutil/server/servertest"
	"golm/lmutil/server/state"
)

// countingWriter is a goroutine-safe writer that counts its writes and
// checks that each holds whole lines.
type countingWriter struct {
	mu     sync.Mutex
	b      strings.Builder
	writes int
	torn   int // writes that did not end in a newline
}

func (w *countingWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.writes++
	if len(p) > 0 && p[len(p)-1] != '\n' {
		w.torn++
	}
	return w.b.Write(p)
}

func (w *countingWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

func (w *countingWriter) stats() (writes, torn int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.writes, w.torn
}

// poll waits for cond, failing the test after a generous deadline.
func poll(t *testing.T, what string, cond func() bool) {
	t.Helper()
	servertest.Poll(t, what, 10*time.Second, cond)
}

// TestDebugLogFlush: buffered lines reach the writer on the flush timer
// with no later line to push them, all at once when the buffer is full,
// and at Flush, Close and SetOutput; never before.
func TestDebugLogFlush(t *testing.T) {
	clk := &testClock{t: testNow}
	t.Run("timer writes an idle log", func(t *testing.T) {
		var w countingWriter
		l := NewDebugLog(&w, "demo", clk.Now)
		l.SetFlushEvery(5 * time.Millisecond)
		for i := range 3 {
			l.Printf("OUT: %d", i)
		}
		poll(t, "the flush timer's write", func() bool { return strings.Contains(w.String(), "OUT: 2") })
		if got := strings.Count(w.String(), "\n"); got != 4 { // TIMESTAMP + 3
			t.Errorf("%d lines written, want 4:\n%s", got, w.String())
		}
		l.Printf("IN: later") // the timer is armed again
		poll(t, "the second flush", func() bool { return strings.Contains(w.String(), "IN: later") })
		if writes, torn := w.stats(); writes != 2 || torn != 0 {
			t.Errorf("%d writes (%d not ending a line), want 2 of whole lines", writes, torn)
		}
	})
	t.Run("nothing before the timer", func(t *testing.T) {
		var w countingWriter
		l := NewDebugLog(&w, "demo", clk.Now)
		l.SetFlushEvery(time.Hour)
		l.Printf("OUT: 1")
		if got := w.String(); got != "" {
			t.Errorf("written before its flush: %q", got)
		}
		l.Flush()
		if got := w.String(); !strings.HasSuffix(got, "(demo) OUT: 1\n") {
			t.Errorf("after Flush: %q, want the line", got)
		}
	})
	t.Run("close writes and later lines go at once", func(t *testing.T) {
		var w countingWriter
		l := NewDebugLog(&w, "demo", clk.Now)
		l.SetFlushEvery(time.Hour)
		l.Printf("IN: 1")
		l.Close()
		if got := w.String(); !strings.HasSuffix(got, "(demo) IN: 1\n") {
			t.Errorf("after Close: %q, want the line", got)
		}
		l.Printf("EXITING DUE TO SIGNAL 15")
		if got := w.String(); !strings.HasSuffix(got, "(demo) EXITING DUE TO SIGNAL 15\n") {
			t.Errorf("a line after Close: %q, want it written at once", got)
		}
		l.Close() // a second Close is harmless
	})
	t.Run("a full buffer is written at once", func(t *testing.T) {
		var w countingWriter
		l := NewDebugLog(&w, "demo", clk.Now)
		l.SetFlushEvery(time.Hour)
		msg := strings.Repeat("x", 1000)
		n := maxBuffered/1000 + 1
		for range n {
			l.Printf("%s", msg)
		}
		if got := strings.Count(w.String(), msg); got < maxBuffered/1000 {
			t.Errorf("%d of %d lines written with the buffer full, want at least %d", got, n, maxBuffered/1000)
		}
	})
	t.Run("SetOutput writes the old lines to the old writer", func(t *testing.T) {
		var old, next countingWriter
		l := NewDebugLog(&old, "demo", clk.Now)
		l.SetFlushEvery(time.Hour)
		l.Printf("Switching debug log")
		l.SetOutput(&next)
		l.Printf("Debug log switched")
		l.Flush()
		if !strings.Contains(old.String(), "Switching debug log") || strings.Contains(old.String(), "switched") {
			t.Errorf("old log = %q, want the line before the switch only", old.String())
		}
		if !strings.Contains(next.String(), "TIMESTAMP") || !strings.Contains(next.String(), "Debug log switched") {
			t.Errorf("new log = %q, want a TIMESTAMP and the line after the switch", next.String())
		}
	})
	t.Run("unbuffered", func(t *testing.T) {
		var w countingWriter
		l := NewDebugLog(&w, "demo", clk.Now)
		l.SetFlushEvery(0)
		l.Printf("OUT: 1")
		if got := w.String(); !strings.HasSuffix(got, "OUT: 1\n") {
			t.Errorf("unbuffered: %q, want the line at once", got)
		}
	})
}

// TestDebugLogConcurrent: lines written from many goroutines all arrive,
// whole, each write holding whole lines.
func TestDebugLogConcurrent(t *testing.T) {
	var w countingWriter
	l := NewDebugLog(&w, "demo", nil)
	l.SetFlushEvery(time.Millisecond)
	const goroutines, each = 8, 500
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				l.Printf("OUT: %q g%d@h  ", fmt.Sprintf("f%d", i), g)
			}
		}()
	}
	wg.Wait()
	l.Close()
	if got := strings.Count(w.String(), ") OUT: "); got != goroutines*each {
		t.Errorf("%d OUT lines, want %d", got, goroutines*each)
	}
	if _, torn := w.stats(); torn != 0 {
		t.Errorf("%d writes did not end a line", torn)
	}
}

// TestDebugLogRateLimit: Limited lines past Burst in a Window are
// counted; the summary is written when the window closes (its timer,
// with no later line) or at Close; usage lines written with Printf are
// never limited.
func TestDebugLogRateLimit(t *testing.T) {
	clk := &testClock{t: time.Date(2026, 2, 10, 9, 0, 0, 0, time.Local)}
	t.Run("summary on the window's timer", func(t *testing.T) {
		var w countingWriter
		l := NewDebugLog(&w, "demo", clk.Now)
		l.SetFlushEvery(time.Millisecond)
		l.Burst, l.Window = 3, 20*time.Millisecond
		for i := range 10 {
			l.Limited("refused", "refused %d", i)
		}
		for i := range 100 {
			l.Printf("DENIED: %d", i) // usage lines: not limited
		}
		poll(t, "the summary", func() bool { return strings.Contains(w.String(), "(7 more refused messages not logged)") })
		got := w.String()
		if n := strings.Count(got, ") refused "); n != 3 {
			t.Errorf("%d refused lines, want 3", n)
		}
		if n := strings.Count(got, ") DENIED: "); n != 100 {
			t.Errorf("%d DENIED lines, want 100", n)
		}
		// The window is closed: the next line opens a new one.
		l.Limited("refused", "refused again")
		l.Close()
		if !strings.Contains(w.String(), "refused again") {
			t.Errorf("no line after the window closed:\n%s", w.String())
		}
	})
	t.Run("summary at Close", func(t *testing.T) {
		var w countingWriter
		l := NewDebugLog(&w, "demo", clk.Now)
		l.SetFlushEvery(time.Hour)
		l.Burst, l.Window = 1, time.Hour
		l.Limited("timeout", "timeout 1")
		l.Limited("timeout", "timeout 2")
		l.Limited("accept", "accept 1")
		l.Limited("malformed", "malformed 1")
		l.Limited("malformed", "malformed 2")
		l.Limited("malformed", "malformed 3")
		l.Close()
		equalLines(t, strings.Split(strings.TrimSuffix(w.String(), "\n"), "\n"), []string{
			" 9:00:00 (demo) TIMESTAMP 2/10/2026",
			" 9:00:00 (demo) timeout 1",
			" 9:00:00 (demo) accept 1",
			" 9:00:00 (demo) malformed 1",
			" 9:00:00 (demo) (2 more malformed messages not logged)",
			" 9:00:00 (demo) (1 more timeout messages not logged)",
		})
	})
	t.Run("no summary when nothing was suppressed", func(t *testing.T) {
		var w countingWriter
		l := NewDebugLog(&w, "demo", clk.Now)
		l.SetFlushEvery(time.Millisecond)
		l.Burst, l.Window = 2, time.Millisecond
		l.Limited("refused", "refused 1")
		l.Limited("refused", "refused 2")
		poll(t, "the lines", func() bool { return strings.Contains(w.String(), "refused 2") })
		l.Close()
		if strings.Contains(w.String(), "more") {
			t.Errorf("a summary with nothing suppressed:\n%s", w.String())
		}
	})
	t.Run("keys have windows of their own", func(t *testing.T) {
		var w countingWriter
		l := NewDebugLog(&w, "demo", clk.Now)
		l.SetFlushEvery(time.Hour)
		l.Burst, l.Window = 1, time.Hour
		l.Limited("a", "a1")
		l.Limited("b", "b1")
		l.Limited("a", "a2")
		l.Close()
		got := w.String()
		if !strings.Contains(got, "b1") || strings.Contains(got, "a2") || !strings.Contains(got, "(1 more a messages not logged)") || strings.Contains(got, "more b") {
			t.Errorf("log:\n%s\nwant a1, b1 and one suppressed a", got)
		}
	})
}

// TestLineWriter: what a vendor daemon prints on stderr becomes debug
// log lines of that daemon, whatever the writes' boundaries.
func TestLineWriter(t *testing.T) {
	tests := []struct {
		name   string
		writes []string
		want   []string
	}{
		{"one line", []string{"demo: no features to serve\n"}, []string{"(demo) demo: no features to serve"}},
		{"split across writes", []string{"pan", "ic: boom\ngorou", "tine 1\n"}, []string{"(demo) panic: boom", "(demo) goroutine 1"}},
		{"blank lines and CRLF", []string{"a\r\n\n\nb\n"}, []string{"(demo) a", "(demo) b"}},
		{"no final newline", []string{"last words"}, []string{"(demo) last words"}},
		{"forged prefix stays inside", []string{"x\x1b[2J\n"}, []string{`(demo) x\x1b[2J`}},
		{"a long line in pieces", []string{strings.Repeat("y", maxLineWriter+10) + "\n"}, []string{"(demo) " + strings.Repeat("y", maxLineWriter), "(demo) " + strings.Repeat("y", 10)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var w countingWriter
			l := NewDebugLog(&w, "lmgrd", newClock(8, 49, 38).now)
			l.SetFlushEvery(0)
			lw := l.LineWriter("demo")
			for _, s := range tt.writes {
				if n, err := lw.Write([]byte(s)); n != len(s) || err != nil {
					t.Fatalf("Write = %d, %v; want %d, nil", n, err, len(s))
				}
			}
			lw.Close()
			got := strings.Split(strings.TrimSuffix(w.String(), "\n"), "\n")[1:] // after the TIMESTAMP
			var want []string
			for _, s := range tt.want {
				want = append(want, " 8:49:38 "+s)
			}
			equalLines(t, got, want)
		})
	}
}

// timeoutError is a net.Error that timed out.
type timeoutError struct{}

func (timeoutError) Error() string   { return "i/o timeout" }
func (timeoutError) Timeout() bool   { return true }
func (timeoutError) Temporary() bool { return true }

// TestLogNoise: what a client can cause without a license is logged,
// rate-limited, and a connection that merely ended is not.
func TestLogNoise(t *testing.T) {
	peer := &net.TCPAddr{IP: net.IPv4(192, 0, 2, 7), Port: 4000}
	tests := []struct {
		name      string
		err       error
		handshake bool
		want      string // "" for no line
	}{
		{"malformed frame", &protocol.Violation{Reason: "frame too large"}, false, "(demo) Malformed request from 192.0.2.7: frame too large"},
		{"malformed handshake", fmt.Errorf("wrapped: %w", &protocol.Violation{Reason: "handshake: got CHECKOUT, want HELLO"}), true, "(demo) Malformed request from 192.0.2.7: handshake: got CHECKOUT, want HELLO"},
		{"handshake timeout", timeoutError{}, true, "(demo) No handshake from 192.0.2.7 in time, closing the connection"},
		{"a licensed client's timeout", timeoutError{}, false, ""},
		{"closed", io.EOF, true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var w countingWriter
			l := unbufferedLog(&w, "demo", newClock(9, 0, 0).now)
			logNoise(l, peer, tt.err, tt.handshake)
			got := w.String()
			if tt.want == "" && got != "" || tt.want != "" && !strings.HasSuffix(got, tt.want+"\n") {
				t.Errorf("log %q, want %q", got, tt.want)
			}
		})
	}
	t.Run("rate-limited", func(t *testing.T) {
		var w countingWriter
		l := NewDebugLog(&w, "demo", newClock(9, 0, 0).now)
		l.Window = time.Hour
		for range 60 {
			logNoise(l, peer, &protocol.Violation{Reason: "bad"}, false)
		}
		l.Close()
		if n := strings.Count(w.String(), "Malformed request"); n != 50 {
			t.Errorf("%d lines, want 50", n)
		}
		if !strings.Contains(w.String(), "(10 more malformed messages not logged)") {
			t.Errorf("no summary:\n%s", w.String())
		}
	})
}

// TestDebugLogUsage: Usage writes what Printf with usageText writes,
// escapes included, without fmt.
func TestDebugLogUsage(t *testing.T) {
	tests := []struct {
		name, kind, feature, user, host string
		count                           int
		suffix                          string
	}{
		{"OUT", "OUT", "f1", "user1", "server1", 1, ""},
		{"IN of three", "IN", "f1", "user1", "server1", 3, ""},
		{"INACTIVE", "IN", "f1", "u", "h", 1, "(INACTIVE)"},
		{"escapes", "DEQUEUED", "f\x1b1\t", "\x1b]0;x\x07joe", "h\r\n 9:00:00 (lmgrd) X", 2, ""},
		{"bad utf-8 and unicode", "QUEUED", "f\xff", "jö\xfe", "h\u0085", 1, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got, want countingWriter
			clk := newClock(9, 5, 7)
			lg, lw := unbufferedLog(&got, "demo", clk.now), unbufferedLog(&want, "demo", clk.now)
			lg.Usage(tt.kind, tt.feature, tt.user, tt.host, tt.count, tt.suffix)
			lw.Printf("%s: %s%s", tt.kind, usageText(tt.feature, state.Client{User: tt.user, Host: tt.host}, tt.count), tt.suffix)
			if got.String() != want.String() {
				t.Errorf("Usage wrote %q, want %q", got.String(), want.String())
			}
			if n := strings.Count(got.String(), "\n"); n != 2 { // TIMESTAMP and the line
				t.Errorf("%d lines: %q", n, got.String())
			}
		})
	}
}

// TestWriteChunk: buffered lines go out in writes of whole lines of at
// most pipeBuf bytes, which a pipe keeps in one piece, a longer line in
// a write of its own.
func TestWriteChunk(t *testing.T) {
	line := func(n int) string { return strings.Repeat("x", n-1) + "\n" }
	tests := []struct {
		name string
		b    string
		want int
	}{
		{"small", line(10) + line(20), 30},
		{"exactly pipeBuf", line(pipeBuf), pipeBuf},
		{"cut at the last whole line", line(4000) + line(200), 4000},
		{"a line longer than pipeBuf", line(pipeBuf+10) + line(5), pipeBuf + 10},
		{"no newline at all", strings.Repeat("y", pipeBuf+1), pipeBuf + 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := writeChunk([]byte(tt.b)); got != tt.want {
				t.Errorf("writeChunk = %d, want %d", got, tt.want)
			}
		})
	}
	t.Run("a flush", func(t *testing.T) {
		var w sizeWriter
		l := NewDebugLog(&w, "demo", nil)
		l.SetFlushEvery(time.Hour)
		for i := range 1000 {
			l.Printf("OUT: %d", i)
		}
		l.Close()
		if w.lines != 1001 || w.torn != 0 || w.max > pipeBuf {
			t.Errorf("%d lines in writes of up to %d bytes, %d torn; want 1001 in writes of up to %d, none torn", w.lines, w.max, w.torn, pipeBuf)
		}
	})
}

// sizeWriter records the largest write and whether writes end lines.
type sizeWriter struct{ max, lines, torn int }

func (w *sizeWriter) Write(p []byte) (int, error) {
	w.max = max(w.max, len(p))
	w.lines += strings.Count(string(p), "\n")
	if len(p) > 0 && p[len(p)-1] != '\n' {
		w.torn++
	}
	return len(p), nil
}

// TestSuiteUsageLines: a component of an OPTIONS=SUITE package logs OUT
// and IN for itself and for the suite seat it took, with the count, and
// NOLOG OUT leaves out both OUT lines but neither IN line.
func TestSuiteUsageLines(t *testing.T) {
	t.Parallel() // a vendor daemon of its own, in this process
	tests := []struct {
		name, opts string
		want, gone []string
	}{
		{"logged", "",
			[]string{`(demo) OUT: "c1" joe@pc  (2 licenses)`, `(demo) OUT: "suite" joe@pc  (2 licenses)`,
				`(demo) IN: "c1" joe@pc  (2 licenses)`, `(demo) IN: "suite" joe@pc  (2 licenses)`},
			nil},
		{"NOLOG OUT", "NOLOG OUT\n",
			[]string{`(demo) IN: "c1" joe@pc  (2 licenses)`, `(demo) IN: "suite" joe@pc  (2 licenses)`},
			[]string{"OUT:"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, lic(`PACKAGE suite demo 1.0 OPTIONS=SUITE COMPONENTS="c1 c2"`, "FEATURE suite demo 1.0 permanent 3"), tt.opts)
			c := h.client("joe", "pc", "d")
			c.checkin(c.want("c1", "1.0", 2, 0))
			h.wantLog(tt.want...)
			for _, g := range tt.gone {
				if strings.Contains(h.log.String(), g) {
					t.Errorf("debug log has %q:\n%s", g, h.log.String())
				}
			}
		})
	}
}
