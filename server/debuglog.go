package server

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"

	"golm/lmutil/protocol"
)

// TimestampEvery is how often a debug log writes a TIMESTAMP line, besides
// the first line it writes and the first line of every new day.
const TimestampEvery = 6 * time.Hour

// DebugLog writes FLEXlm debug log lines,
//
//	8:49:38 (lmgrd) lmgrd tcp-port 27000
//
// to one writer shared by lmgrd and its vendor daemons. Each line is one
// Write call, so processes appending to the same O_APPEND file never
// interleave inside a line. A DebugLog is safe for concurrent use.
type DebugLog struct {
	mu     sync.Mutex
	w      io.Writer
	daemon string
	now    func() time.Time
	// lastStamp is when the last TIMESTAMP line was written.
	lastStamp time.Time
	limits    map[string]*limit
	// nextFlush is when the earliest open window ends (zero: none open)
	// and lastStart when the latest began, so that a line looks at the
	// windows only when one is over or the clock went back.
	nextFlush, lastStart time.Time
	// Burst and Window bound lines written through Limited: at most Burst
	// lines per key per Window; the rest are counted and summarised once
	// the window has passed.
	Burst  int
	Window time.Duration
}

type limit struct {
	start      time.Time
	n          int
	suppressed int
}

// NewDebugLog returns a debug log writing to w as daemon ("lmgrd" or a
// vendor name), with the clock now (time.Now when nil).
func NewDebugLog(w io.Writer, daemon string, now func() time.Time) *DebugLog {
	if now == nil {
		now = time.Now
	}
	return &DebugLog{w: w, daemon: daemon, now: now, limits: map[string]*limit{}, Burst: 50, Window: time.Minute}
}

// SetOutput makes later lines go to w (DEBUGLOG, lmswitch) and returns
// the writer lines went to before. The next line starts with a TIMESTAMP
// line, so that the new file says what day it is.
func (l *DebugLog) SetOutput(w io.Writer) io.Writer {
	l.mu.Lock()
	defer l.mu.Unlock()
	old := l.w
	l.w = w
	l.lastStamp = time.Time{}
	return old
}

// Daemon is the name this log writes in parentheses.
func (l *DebugLog) Daemon() string { return l.daemon }

// Printf writes one line. Nothing a client can trigger in a loop may go
// through Printf: use Limited.
func (l *DebugLog) Printf(format string, args ...any) {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	t := l.now()
	l.flushLimits(t)
	l.line(t, fmt.Sprintf(format, args...))
}

// WriteRaw writes a finished line (one a vendor daemon relayed) as is.
func (l *DebugLog) WriteRaw(line string) {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	io.WriteString(l.w, protocol.Printable(strings.TrimRight(line, "\n"))+"\n")
}

// Limited writes one line unless more than Burst lines of the same key
// were written in the current Window (OUT, IN, DENIED, ... are keys).
// Suppressed lines are counted and reported as one line when the window
// ends, at the next line written.
func (l *DebugLog) Limited(key, format string, args ...any) {
	if l.Take(key) {
		l.Printf(format, args...)
	}
}

// Take counts one line of key against its window and reports whether it
// may be written (with Printf); a false counts it as suppressed. A caller
// whose line is costly to build, such as one per checkout, asks Take
// first and builds the line only when it is going to be written.
func (l *DebugLog) Take(key string) bool {
	if l == nil {
		return false
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	t := l.now()
	l.flushLimits(t)
	lim := l.limits[key]
	if lim == nil {
		lim = &limit{start: t}
		l.limits[key] = lim
		l.noteWindow(t)
	}
	if lim.n >= l.Burst {
		lim.suppressed++
		return false
	}
	lim.n++
	return true
}

// flushLimits closes the windows that have passed, reporting what they
// suppressed. It looks at the windows only when the earliest one is
// over (or the clock went back).
func (l *DebugLog) flushLimits(t time.Time) {
	if len(l.limits) == 0 || (t.Before(l.nextFlush) && !t.Before(l.lastStart)) {
		return
	}
	keys := make([]string, 0, len(l.limits))
	for key := range l.limits {
		keys = append(keys, key)
	}
	sort.Strings(keys) // the summaries come out in a stable order
	l.nextFlush, l.lastStart = time.Time{}, time.Time{}
	for _, key := range keys {
		lim := l.limits[key]
		if t.Sub(lim.start) < l.Window && !t.Before(lim.start) {
			l.noteWindow(lim.start)
			continue
		}
		if lim.suppressed > 0 {
			l.line(t, fmt.Sprintf("(%d more %s messages not logged)", lim.suppressed, key))
		}
		delete(l.limits, key)
	}
}

// noteWindow takes a window that began at start into nextFlush and
// lastStart.
func (l *DebugLog) noteWindow(start time.Time) {
	if end := start.Add(l.Window); l.nextFlush.IsZero() || end.Before(l.nextFlush) {
		l.nextFlush = end
	}
	if start.After(l.lastStart) {
		l.lastStart = start
	}
}

// line writes one line, preceded by a TIMESTAMP line when one is due.
// Control characters and bad UTF-8 in msg (a user or host name a client
// sent) are escaped, so that no client can forge or split a log line.
// The caller holds mu.
func (l *DebugLog) line(t time.Time, msg string) {
	if l.lastStamp.IsZero() || t.Sub(l.lastStamp) >= TimestampEvery || t.YearDay() != l.lastStamp.YearDay() || t.Before(l.lastStamp) {
		l.lastStamp = t
		io.WriteString(l.w, formatLine(t, l.daemon, fmt.Sprintf("TIMESTAMP %d/%d/%d", int(t.Month()), t.Day(), t.Year())))
	}
	io.WriteString(l.w, formatLine(t, l.daemon, protocol.Printable(msg)))
}

// formatLine renders "hh:mm:ss (daemon) message\n" with the hour padded
// by a space, as FLEXlm does.
func formatLine(t time.Time, daemon, msg string) string {
	return fmt.Sprintf("%2d:%02d:%02d (%s) %s\n", t.Hour(), t.Minute(), t.Second(), daemon, msg)
}
