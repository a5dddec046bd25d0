package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"golm/lmutil/licfile"
	"golm/lmutil/protocol"
)

// TimestampEvery is how often a debug log writes a TIMESTAMP line, besides
// the first line it writes and the first line of every new day.
const TimestampEvery = 6 * time.Hour

// DefaultFlushEvery is how long a debug log line may wait in the buffer
// before it is written: short enough that a line reaches the file well
// within 100 ms, long enough that a burst of checkouts costs one write
// instead of one per line.
const DefaultFlushEvery = 10 * time.Millisecond

// maxBuffered is how many bytes of lines make a debug log write at once
// rather than wait for its flush.
const maxBuffered = 64 << 10

// maxLineWriter bounds a line a LineWriter collects: a longer one is
// written in pieces.
const maxLineWriter = 4 << 10

// DebugLog writes FLEXlm debug log lines,
//
//	8:49:38 (lmgrd) lmgrd tcp-port 27000
//
// to one writer shared by lmgrd and its vendor daemons. Lines are
// collected in a buffer that is written every FlushEvery (a timer, so an
// idle log is written too), when it grows large, by Flush and by Close.
// Every write holds whole lines, so processes appending to the same
// O_APPEND file never interleave inside a line. A DebugLog is safe for
// concurrent use.
//
// Every line goes into the log: usage lines (OUT, IN, DENIED, ...) are
// records administrators count. Only Limited lines, noise a client can
// cause without a license, are rate-limited.
type DebugLog struct {
	// writeMu is held while lines are written, before mu: writes keep
	// the order the lines were buffered in.
	writeMu sync.Mutex

	mu     sync.Mutex
	w      io.Writer
	daemon string
	now    func() time.Time
	// lastStamp is when the last TIMESTAMP line was written.
	lastStamp time.Time
	// buf holds the lines not written yet, spare the buffer the last
	// write emptied.
	buf, spare []byte
	flushEvery time.Duration
	flushTimer *time.Timer
	armed      bool // flushTimer runs for the lines in buf
	closed     bool // Close was called: lines are written at once
	limits     map[string]*limit

	// Burst and Window bound lines written through Limited: at most Burst
	// lines per key per Window; the rest are counted and summarised when
	// the window closes (a timer) or at Close. Set them before the first
	// Limited line.
	Burst  int
	Window time.Duration
}

// limit is one key's open window.
type limit struct {
	n          int
	suppressed int
	timer      *time.Timer
}

// NewDebugLog returns a debug log writing to w as daemon ("lmgrd" or a
// vendor name), with the clock now (time.Now when nil). Its lines are
// buffered for DefaultFlushEvery; call Close before the process exits.
func NewDebugLog(w io.Writer, daemon string, now func() time.Time) *DebugLog {
	if now == nil {
		now = time.Now
	}
	return &DebugLog{w: w, daemon: daemon, now: now, limits: map[string]*limit{},
		flushEvery: DefaultFlushEvery, Burst: 50, Window: time.Minute}
}

// SetFlushEvery sets how long lines may wait in the buffer; 0 or less
// writes every line at once.
func (l *DebugLog) SetFlushEvery(d time.Duration) {
	l.mu.Lock()
	l.flushEvery = d
	l.mu.Unlock()
	l.Flush()
}

// SetOutput writes the buffered lines to the writer they were meant for,
// makes later lines go to w (DEBUGLOG, lmswitch) and returns the writer
// lines went to before, which the caller may then close. The next line
// starts with a TIMESTAMP line, so that the new file says what day it is.
func (l *DebugLog) SetOutput(w io.Writer) io.Writer {
	l.writeMu.Lock()
	defer l.writeMu.Unlock()
	l.mu.Lock()
	old, b := l.w, l.take()
	l.w = w
	l.lastStamp = time.Time{}
	l.mu.Unlock()
	l.write(old, b)
	return old
}

// Daemon is the name this log writes in parentheses.
func (l *DebugLog) Daemon() string { return l.daemon }

// Printf writes one line, always: usage lines (DENIED and UNSUPPORTED
// too) are records. Noise a client can cause without a license, such as
// malformed frames or refused admin requests, goes through Limited.
func (l *DebugLog) Printf(format string, args ...any) {
	if l == nil {
		return
	}
	l.print(l.daemon, fmt.Sprintf(format, args...))
}

// print writes msg as one line of daemon. The line is formatted before
// the lock is taken: with a thousand clients checking out at once, the
// lock is held only to copy it into the buffer.
func (l *DebugLog) print(daemon, msg string) {
	t := l.now()
	var a [256]byte
	b := appendLine(a[:0], t, daemon, protocol.Printable(msg))
	l.mu.Lock()
	now := l.appendLocked(t, b)
	l.mu.Unlock()
	if now {
		l.Flush()
	}
}

// Usage writes a usage line, `OUT: "f1" joe@box  (2 licenses)`: kind,
// the feature quoted, user@host, the count when more than one, then
// suffix ("(INACTIVE)"). It is Printf's result without fmt: one comes
// with every checkout and every checkin.
func (l *DebugLog) Usage(kind, feature, user, host string, count int, suffix string) {
	if l == nil {
		return
	}
	t := l.now()
	var a [256]byte
	b := appendLinePrefix(a[:0], t, l.daemon)
	b = append(b, kind...)
	b = append(b, ": "...)
	b = strconv.AppendQuote(b, feature) // escapes what Printable would
	b = append(b, ' ')
	b = append(b, protocol.Printable(user)...)
	b = append(b, '@')
	b = append(b, protocol.Printable(host)...)
	b = append(b, "  "...)
	if count > 1 {
		b = append(b, '(')
		b = strconv.AppendInt(b, int64(count), 10)
		b = append(b, " licenses)"...)
	}
	b = append(b, protocol.Printable(suffix)...)
	b = append(b, '\n')
	l.mu.Lock()
	now := l.appendLocked(t, b)
	l.mu.Unlock()
	if now {
		l.Flush()
	}
}

// Limited writes one line unless Burst lines of the same key were
// written in the current Window (malformed frames, refused admin
// requests, timeouts: keys such as "accept" or "refused"). Suppressed
// lines are counted and reported as one line when the window closes.
func (l *DebugLog) Limited(key, format string, args ...any) {
	if l == nil {
		return
	}
	l.mu.Lock()
	lim := l.limits[key]
	if lim == nil {
		lim = &limit{}
		l.limits[key] = lim
		if !l.closed {
			lim.timer = time.AfterFunc(l.Window, func() { l.closeWindow(key, lim) })
		}
	}
	if lim.n >= l.Burst && !l.closed {
		lim.suppressed++
		l.mu.Unlock()
		return
	}
	lim.n++
	l.mu.Unlock()
	l.Printf(format, args...)
}

// closeWindow ends key's window lim, writing its summary.
func (l *DebugLog) closeWindow(key string, lim *limit) {
	l.mu.Lock()
	now := false
	if l.limits[key] == lim {
		delete(l.limits, key)
		now = l.summary(l.now(), key, lim)
	}
	l.mu.Unlock()
	if now {
		l.Flush()
	}
}

// summary writes the line of a closed window that suppressed lines. The
// caller holds mu; the result is line's.
func (l *DebugLog) summary(t time.Time, key string, lim *limit) bool {
	if lim.suppressed == 0 {
		return false
	}
	return l.line(t, l.daemon, fmt.Sprintf("(%d more %s messages not logged)", lim.suppressed, key))
}

// Flush writes the buffered lines now.
func (l *DebugLog) Flush() {
	if l == nil {
		return
	}
	l.writeMu.Lock()
	defer l.writeMu.Unlock()
	l.mu.Lock()
	w, b := l.w, l.take()
	l.mu.Unlock()
	l.write(w, b)
}

// Close closes the open rate-limit windows, writing their summaries,
// and writes the buffered lines. Lines written after Close go out at
// once, unbuffered and unlimited (lmgrd's last words). Close does not
// close the writer.
func (l *DebugLog) Close() error {
	if l == nil {
		return nil
	}
	l.mu.Lock()
	if !l.closed {
		l.closed = true
		if l.flushTimer != nil {
			l.flushTimer.Stop()
		}
		keys := make([]string, 0, len(l.limits))
		for key := range l.limits {
			keys = append(keys, key)
		}
		sort.Strings(keys) // the summaries come out in a stable order
		t := l.now()
		for _, key := range keys {
			lim := l.limits[key]
			lim.timer.Stop()
			delete(l.limits, key)
			l.summary(t, key, lim)
		}
	}
	l.mu.Unlock()
	l.Flush()
	return nil
}

// take returns the buffered lines and empties the buffer. The caller
// holds writeMu and mu, and gives the lines back with write.
func (l *DebugLog) take() []byte {
	b := l.buf
	l.buf, l.spare = l.spare[:0], nil
	l.armed = false
	return b
}

// write writes lines taken with take to w. The caller holds writeMu but
// not mu, so that lines are buffered meanwhile.
func (l *DebugLog) write(w io.Writer, b []byte) {
	for rest := b; len(rest) > 0; {
		n := writeChunk(rest)
		w.Write(rest[:n]) // nowhere to report a debug log that cannot be written
		rest = rest[n:]
	}
	if cap(b) <= 4*maxBuffered {
		l.mu.Lock()
		l.spare = b[:0]
		l.mu.Unlock()
	}
}

// pipeBuf is the most a write to a pipe is sure to put in one piece
// (POSIX PIPE_BUF): lmgrd's standard output may be a pipe (lmgrd | script)
// that its vendor daemons write to too.
const pipeBuf = 4096

// writeChunk is how many bytes of the buffered lines b to write at once:
// whole lines of at most pipeBuf bytes, or one longer line, so that
// another process's lines never land inside one of ours.
func writeChunk(b []byte) int {
	if len(b) <= pipeBuf {
		return len(b)
	}
	if i := bytes.LastIndexByte(b[:pipeBuf], '\n'); i >= 0 {
		return i + 1
	}
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		return i + 1
	}
	return len(b)
}

// line buffers one line, preceded by a TIMESTAMP line when one is due.
// Control characters and bad UTF-8 in msg (a user or host name a client
// sent) are escaped, so that no client can forge or split a log line.
// The caller holds mu; a true result asks it to Flush once it has let
// go of mu.
func (l *DebugLog) line(t time.Time, daemon, msg string) bool {
	return l.appendLocked(t, appendLine(nil, t, daemon, protocol.Printable(msg)))
}

// appendLocked buffers the finished line b of time t, preceded by a
// TIMESTAMP line when one is due: at the first line, every
// TimestampEvery, on a new day and when the clock went back (by more
// than the moment between two lines' formatting and their turn at the
// lock). The caller holds mu; a true result asks it to Flush once it
// has let go of mu.
func (l *DebugLog) appendLocked(t time.Time, b []byte) bool {
	if l.lastStamp.IsZero() || t.Sub(l.lastStamp) >= TimestampEvery || t.YearDay() != l.lastStamp.YearDay() || l.lastStamp.Sub(t) > time.Second {
		l.lastStamp = t
		l.buf = appendLine(l.buf, t, l.daemon, fmt.Sprintf("TIMESTAMP %d/%d/%d", int(t.Month()), t.Day(), t.Year()))
	}
	l.buf = append(l.buf, b...)
	return l.buffered()
}

// buffered arms the flush timer for lines just buffered; true when they
// are to be written at once instead. The caller holds mu.
func (l *DebugLog) buffered() bool {
	if l.closed || l.flushEvery <= 0 || len(l.buf) >= maxBuffered {
		return true
	}
	if !l.armed {
		l.armed = true
		if l.flushTimer == nil {
			l.flushTimer = time.AfterFunc(l.flushEvery, l.Flush)
		} else {
			l.flushTimer.Reset(l.flushEvery)
		}
	}
	return false
}

// appendLine appends "hh:mm:ss (daemon) message\n" to b, the hour
// padded by a space, as FLEXlm does.
func appendLine(b []byte, t time.Time, daemon, msg string) []byte {
	b = appendLinePrefix(b, t, daemon)
	b = append(b, msg...)
	return append(b, '\n')
}

// appendLinePrefix appends "hh:mm:ss (daemon) " to b.
func appendLinePrefix(b []byte, t time.Time, daemon string) []byte {
	h, m, s := t.Clock()
	if h < 10 {
		b = append(b, ' ', byte('0'+h))
	} else {
		b = append(b, byte('0'+h/10), byte('0'+h%10))
	}
	b = append(b, ':', byte('0'+m/10), byte('0'+m%10), ':', byte('0'+s/10), byte('0'+s%10), ' ', '(')
	b = append(b, daemon...)
	return append(b, ") "...)
}

// LineWriter returns a writer that writes each line written to it as a
// debug log line of daemon: what a vendor daemon prints on its standard
// error (a Go panic, a message before its log is set up) gets the same
// "hh:mm:ss (daemon)" prefix as its other lines. Close writes a last
// line that has no newline.
func (l *DebugLog) LineWriter(daemon string) io.WriteCloser {
	return &lineWriter{log: l, daemon: daemon}
}

type lineWriter struct {
	mu     sync.Mutex
	log    *DebugLog
	daemon string
	part   []byte
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := len(p)
	for len(p) > 0 {
		room := maxLineWriter - len(w.part)
		chunk := p[:min(room, len(p))]
		if i := bytes.IndexByte(chunk, '\n'); i >= 0 {
			w.part = append(w.part, chunk[:i]...)
			w.emit()
			p = p[i+1:]
			continue
		}
		w.part = append(w.part, chunk...)
		p = p[len(chunk):]
		if len(w.part) >= maxLineWriter {
			w.emit()
		}
	}
	return n, nil
}

// emit writes the collected line, unless it is empty.
func (w *lineWriter) emit() {
	if s := strings.TrimRight(string(w.part), "\r"); s != "" {
		w.log.print(w.daemon, s)
	}
	w.part = w.part[:0]
}

func (w *lineWriter) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.emit()
	return nil
}

// unknownHostTimeout bounds the name lookups of logUnknownHosts.
const unknownHostTimeout = 3 * time.Second

// logUnknownHosts writes "Unknown host: host" for each SERVER line whose
// host name does not resolve, when lmgrd found no SERVER line for this
// host: the likeliest cause of the exit that follows.
func logUnknownHosts(ctx context.Context, log *DebugLog, files []*licfile.File) {
	ctx, cancel := context.WithTimeout(ctx, unknownHostTimeout)
	defer cancel()
	seen := map[string]bool{}
	for _, f := range files {
		for _, s := range f.Servers {
			h := strings.ToLower(s.Host)
			if seen[h] || h == "" || h == "this_host" || h == "localhost" || net.ParseIP(h) != nil {
				continue
			}
			seen[h] = true
			if _, err := net.DefaultResolver.LookupHost(ctx, h); err != nil {
				var dnsErr *net.DNSError
				if errors.As(err, &dnsErr) && (dnsErr.IsNotFound || !dnsErr.IsTimeout) {
					log.Printf("Unknown host: %s", s.Host)
				}
			}
		}
	}
}

// logNoise writes what went wrong on a client connection that ended
// with err, when a client can cause it without a license: a malformed
// frame, or a handshake that did not come in time (handshake true). A
// connection that closed, or a licensed client's heartbeats stopping, is
// no noise. The lines are rate-limited: nothing bounds how often a
// client may cause them.
func logNoise(log *DebugLog, peer net.Addr, err error, handshake bool) {
	var v *protocol.Violation
	var ne net.Error
	switch {
	case errors.As(err, &v):
		log.Limited("malformed", "Malformed request from %s: %s", noisePeer(peer), v.Reason)
	case handshake && errors.As(err, &ne) && ne.Timeout():
		log.Limited("timeout", "No handshake from %s in time, closing the connection", noisePeer(peer))
	}
}

// noisePeer names the address a noisy connection came from.
func noisePeer(peer net.Addr) string {
	if ip := peerIP(peer); ip != "" {
		return ip
	}
	return "a local socket"
}
