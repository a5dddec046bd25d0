package reportlog

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// SyncMode says when the writer calls fsync.
type SyncMode int

const (
	// SyncBatched (the default): Append returns once write(2) is done; a
	// background fsync covers every record written so far, at most
	// Config.SyncDelay after the first unsynced one. A killed daemon loses
	// nothing; a power cut loses at most SyncDelay of records.
	SyncBatched SyncMode = iota
	// SyncGroup: Append returns once an fsync covering its record has
	// completed. Concurrent appenders share one fsync (group commit), so
	// throughput grows with concurrency instead of being one record per
	// disk sync. A failing fsync is reported through Config.OnError; the
	// record is in the file either way and Append does not fail.
	SyncGroup
	// SyncEach: every record is fsynced on its own while the log is
	// locked. Slow; the baseline the benchmarks compare against.
	SyncEach
)

// Defaults of Config.
const (
	DefaultSyncDelay     = 50 * time.Millisecond
	DefaultWriteTimeout  = 10 * time.Second
	DefaultRetryInterval = 100 * time.Millisecond
	DefaultMaxPending    = 100000
	maxRetryInterval     = time.Second
)

// Errors of the writer.
var (
	// ErrNotLogged is wrapped by Append's error when the record could not
	// be written within Config.WriteTimeout. The record is not in the log
	// and its sequence number is not used; the server denies the request.
	ErrNotLogged = errors.New("report log: record not written")
	// ErrBacklog is wrapped, with ErrNotLogged, by Append's error while
	// Config.MaxPending records kept by Keep wait to be written: nothing
	// new is granted until they are.
	ErrBacklog = errors.New("too many records wait to be written")
	// ErrClosed is returned by a Writer's methods after Close.
	ErrClosed = errors.New("report log: closed")
	// ErrEvent is returned by Append for a record whose Event is not one
	// of the format's events; nothing is written.
	ErrEvent = errors.New("report log: unknown event")
)

// Config is what OpenWriter needs.
type Config struct {
	// Path is the report log (REPORTLOG path, without the '+').
	Path string
	// Append is REPORTLOG's '+': continue the existing file and its
	// chain. Without it an existing file is kept beside the new one as
	// Path.N (the first free N from 1) and the new file continues the old
	// one's chain, so the kept set still verifies as one.
	Append bool
	// Vendor names the vendor daemon in file headers.
	Vendor string
	// Mode is the permission of created files; 0 means DefaultMode.
	Mode fs.FileMode
	// Sync is the fsync policy.
	Sync SyncMode
	// SyncDelay bounds how long a written record may wait for its fsync
	// in SyncBatched mode; 0 means DefaultSyncDelay.
	SyncDelay time.Duration
	// WriteTimeout bounds how long Append keeps retrying a failing write
	// (disk full) before it gives up with ErrNotLogged; 0 means
	// DefaultWriteTimeout. Appenders queue behind a retrying one, and once
	// the log has been failing for longer than this, each later Append
	// tries once and fails at once until a write succeeds again.
	WriteTimeout time.Duration
	// RetryInterval is the first pause between retries; it doubles up to
	// one second. 0 means DefaultRetryInterval.
	RetryInterval time.Duration
	// DenialInterval is how long repeats of a denial are counted before
	// one summary record is written for them (see Writer.Deny); 0 means
	// DefaultDenialInterval.
	DenialInterval time.Duration
	// DenialKeys bounds the kinds of denial one client has counted
	// apart in an interval; 0 means DefaultDenialKeys.
	DenialKeys int
	// Now stamps records that carry no time and times the denial
	// summaries; nil means time.Now. The writer calls it from its own
	// goroutine too.
	Now func() time.Time
	// SwitchName, when set, is how a SWITCH record names the file the
	// log goes on in (to=), given its path; nil names the path. It is
	// called with the writer's lock held, from Switch and NewLog only.
	SwitchName func(path string) string
	// MaxPending bounds the backlog of records kept by Keep while the
	// log cannot be written; 0 means DefaultMaxPending. At the bound
	// Append fails with ErrBacklog until the backlog is written, Keep
	// still keeps (what it records has happened; its number is bounded
	// by the seats out), and a denial is not kept.
	MaxPending int
	// OnNotice receives the backlog's changes (records kept from now
	// on, its bound reached, all of it written, some of it lost at
	// Close), which must reach the debug log however many write
	// failures OnError is told of (nil: dropped). It is called with the
	// log locked.
	OnNotice func(string)
	// OnError receives every write, sync and recovery problem, for the
	// debug log (nil: dropped). It is called with the log locked: it must
	// not call back into the Writer.
	OnError func(error)
	// Counters, when not nil, counts the records written and the writes
	// that failed; the vendor daemon's /metrics shows them. One Counters
	// may serve the writers a vendor daemon opens one after another.
	Counters *Counters
	// OnRecord, when not nil, receives every record once its line is in
	// the file (Seq and Hash set), in chain order: the vendor daemon's
	// usage history. It is called with the log locked: it must not call
	// back into the Writer.
	OnRecord func(Record)
	// WriteAt writes a record's line to the log file at off; nil means
	// (*os.File).WriteAt. Tests replace it to make writes fail as on a
	// full disk.
	WriteAt func(f *os.File, b []byte, off int64) (int, error)
}

// Counters are a report log's counters since the vendor daemon started.
type Counters struct {
	// Records is the records written to the log.
	Records atomic.Uint64
	// WriteErrors is the writes of a record that failed (a full disk):
	// each retry of a record counts.
	WriteErrors atomic.Uint64
}

// Writer appends records to a report log. Its methods are safe for
// concurrent use.
type Writer struct {
	cfg Config

	// syncMu serialises fsyncs and file changes (rotation, Close); it is
	// always taken before mu.
	syncMu sync.Mutex
	// mu guards the fields below and every write.
	mu   sync.Mutex
	f    *os.File
	path string
	// statePath is the state file beside Config.Path naming path.
	statePath string
	size      int64     // length of the file's good content
	seq       uint64    // next sequence number
	prev      string    // hash of the last record
	written   uint64    // last sequence number written
	synced    uint64    // last sequence number known to be fsynced
	failing   time.Time // when the current run of failed writes began
	closed    bool
	// lastReport and suppressed rate-limit the reports of failed writes.
	lastReport time.Time
	suppressed int
	failures   int // failed writes in the current run
	lastErr    error
	// pending is the backlog: records kept by Keep (or Deny) while the
	// log could not be written, oldest first, each with its own time;
	// keptRun counts those of the current backlog written so far.
	pending []Record
	keptRun int
	// denials are the denials counted for their summaries (Deny).
	denials denials
	// skipping is set while the records handed to the writer are ones
	// its file holds already (SetStream): sNext is the sequence number
	// of the next such record and sPrev the hash of the one before it.
	skipping bool
	sNext    uint64
	sPrev    string
	// sFile are the hashes the file holds for the records from sNext
	// on, read a chunk at a time, to check each record skipped; sRetry
	// is where to read again after a chunk no file held.
	sFile  []string
	sRetry uint64

	// writeAt writes to the log file; tests replace it to fail.
	writeAt func(f *os.File, b []byte, off int64) (int, error)

	kick     chan struct{}
	denyKick chan struct{} // wakes denialFlusher
	pendKick chan struct{} // wakes retrier
	done     chan struct{}
	stopOnce sync.Once
	wg       sync.WaitGroup
}

// OpenWriter opens the report log cfg.Path: it continues it (cfg.Append),
// or keeps an existing file beside it and starts a new one. An existing
// file must be a report log of cfg.Vendor (CheckReportLog); anything
// else is refused and left as it was. No component of the path may be
// a symbolic link. The tail of an
// existing file is verified; a line cut by a crash is reported through
// cfg.OnError, saved to Path.torn and cut off, and the chain continues
// from the last good record. A tail that does not verify is reported and
// the file kept beside the new one, which starts a new chain.
func OpenWriter(cfg Config) (*Writer, error) {
	p, err := CleanPath(cfg.Path)
	if err != nil {
		return nil, err
	}
	cfg.Path = p
	if cfg.Mode == 0 {
		cfg.Mode = DefaultMode
	}
	if cfg.SyncDelay <= 0 {
		cfg.SyncDelay = DefaultSyncDelay
	}
	if cfg.WriteTimeout <= 0 {
		cfg.WriteTimeout = DefaultWriteTimeout
	}
	if cfg.RetryInterval <= 0 {
		cfg.RetryInterval = DefaultRetryInterval
	}
	if cfg.DenialInterval <= 0 {
		cfg.DenialInterval = DefaultDenialInterval
	}
	if cfg.DenialKeys <= 0 {
		cfg.DenialKeys = DefaultDenialKeys
	}
	if cfg.MaxPending <= 0 {
		cfg.MaxPending = DefaultMaxPending
	}
	w := &Writer{cfg: cfg, path: p, statePath: StatePath(p), seq: 1, prev: Genesis, writeAt: cfg.WriteAt,
		kick: make(chan struct{}, 1), denyKick: make(chan struct{}, 1), pendKick: make(chan struct{}, 1), done: make(chan struct{})}
	if w.writeAt == nil {
		w.writeAt = (*os.File).WriteAt
	}
	if err := w.open(); err != nil {
		return nil, err
	}
	if cfg.Sync == SyncBatched {
		w.wg.Add(1)
		go w.syncer()
	}
	w.wg.Add(2)
	go w.denialFlusher()
	go w.retrier()
	return w, nil
}

func (w *Writer) report(err error) {
	if w.cfg.OnError != nil {
		w.cfg.OnError(err)
	}
}

func (w *Writer) notice(msg string) {
	if w.cfg.OnNotice != nil {
		w.cfg.OnNotice(msg)
	}
}

func (w *Writer) now() time.Time {
	if w.cfg.Now != nil {
		return w.cfg.Now()
	}
	return time.Now()
}

// open does OpenWriter's work on the files. The chain continues from
// the file the state file names, when it names one (the log was moved by
// lmswitchr before the vendor daemon stopped), else from Path; with
// Append it continues in that file, else in a new file at Path.
func (w *Writer) open() error {
	src := w.path
	cur, err := readState(w.statePath, w.cfg.Vendor)
	if err != nil {
		w.report(fmt.Errorf("%v; continuing from %s", err, w.path))
	} else if cur != "" && cur != w.path && !sameFile(cur, w.path) {
		src = cur
	}
	f, t, err := w.openTail(src)
	if src != w.path && err != nil {
		w.report(fmt.Errorf("report log %s, named by %s as the current file: %v; continuing from %s", src, w.statePath, trimPrefix(err), w.path))
		src = w.path
		f, t, err = w.openTail(src)
	}
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return w.createCurrent(w.path, Header{Seq: 1, Prev: Genesis, Vendor: w.cfg.Vendor})
	case errors.Is(err, ErrTail):
		w.report(fmt.Errorf("report log %s: %v; keeping it and starting a new chain", w.path, trimPrefix(err)))
		if _, err := moveAside(w.path); err != nil {
			return err
		}
		return w.createCurrent(w.path, Header{Seq: 1, Prev: Genesis, Vendor: w.cfg.Vendor})
	case err != nil:
		return err
	}
	if w.cfg.Append || src == w.path && t.empty {
		w.f, w.path, w.size, w.seq, w.prev = f, src, t.good, t.seq, t.prev
		w.written, w.synced = t.seq-1, t.seq-1
		w.saveState()
		return nil
	}
	f.Close()
	// A new file at Path continues the chain; an old file there (a
	// report log of this vendor) is kept beside it.
	if src != w.path {
		of, err := openRegular(w.path, os.O_RDONLY, 0)
		if err == nil {
			err = CheckReportLog(of, w.path, w.cfg.Vendor)
			of.Close()
			if err != nil {
				return err
			}
		} else if !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		if err != nil {
			return w.createCurrent(w.path, Header{Seq: t.seq, Prev: t.prev, Vendor: w.cfg.Vendor})
		}
	}
	if _, err := moveAside(w.path); err != nil {
		return err
	}
	return w.createCurrent(w.path, Header{Seq: t.seq, Prev: t.prev, Vendor: w.cfg.Vendor})
}

// openTail opens the existing report log path for continuing its chain:
// it must be a report log of the vendor; a line cut by a crash is saved
// beside it and cut off, a header cut while the file was created is
// written again. An error wrapping ErrTail says the last record does not
// verify.
func (w *Writer) openTail(path string) (*os.File, tail, error) {
	f, err := openRegular(path, os.O_RDWR, w.cfg.Mode)
	if err != nil {
		return nil, tail{}, err
	}
	if err := CheckReportLog(f, path, w.cfg.Vendor); err != nil {
		f.Close()
		return nil, tail{}, err
	}
	t, err := readTail(f)
	if err != nil {
		f.Close()
		return nil, tail{}, err
	}
	if len(t.torn) > 0 {
		kept, err := writeNew(path+".torn", t.torn, w.cfg.Mode)
		if err != nil {
			kept = "(not kept: " + err.Error() + ")"
		}
		w.report(fmt.Errorf("report log %s: last line cut off at byte %d (%d bytes, saved to %s); continuing after seq %d",
			path, t.good, len(t.torn), kept, t.seq-1))
		if err := f.Truncate(t.good); err != nil {
			f.Close()
			return nil, tail{}, fmt.Errorf("report log: %w", err)
		}
	}
	if t.empty {
		if err := f.Truncate(0); err != nil {
			f.Close()
			return nil, tail{}, fmt.Errorf("report log: %w", err)
		}
		h := Header{Seq: 1, Prev: Genesis, Vendor: w.cfg.Vendor}.Line()
		if _, err := f.WriteAt([]byte(h), 0); err != nil {
			f.Close()
			return nil, tail{}, fmt.Errorf("report log: %w", err)
		}
		t.good = int64(len(h))
	}
	return f, t, nil
}

// createCurrent is create, and the state file naming the new file.
func (w *Writer) createCurrent(path string, h Header) error {
	if err := w.create(path, h); err != nil {
		return err
	}
	w.saveState()
	return nil
}

// saveState makes the state file name the current file. A state file
// that cannot be written is reported: the log goes on, and only a
// restart after a later lmswitchr would continue from the wrong file.
func (w *Writer) saveState() {
	if err := writeState(w.statePath, w.cfg.Vendor, w.path, w.cfg.Mode); err != nil {
		w.report(err)
	}
}

func trimPrefix(err error) string {
	return strings.TrimPrefix(strings.TrimPrefix(err.Error(), "report log: "), "report log ")
}

// create makes a new log file with header h and makes it current.
func (w *Writer) create(path string, h Header) error {
	f, err := w.createFile(path, h)
	if err != nil {
		return err
	}
	w.f, w.path, w.size = f, path, int64(len(h.Line()))
	w.seq, w.prev = h.Seq, h.Prev
	w.written, w.synced = h.Seq-1, h.Seq-1
	return nil
}

// createFile creates path (which must not exist) holding header h, synced
// with its directory.
func (w *Writer) createFile(path string, h Header) (*os.File, error) {
	f, err := openRegular(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, w.cfg.Mode)
	if err != nil {
		return nil, err
	}
	if _, err := w.writeAt(f, []byte(h.Line()), 0); err != nil {
		f.Close()
		os.Remove(path)
		return nil, fmt.Errorf("report log: %w", err)
	}
	if err := f.Sync(); err != nil {
		w.report(fmt.Errorf("report log %s: fsync: %w", path, err))
	}
	syncDir(filepath.Dir(path))
	return f, nil
}

func syncDir(dir string) {
	if d, err := openNoSymlinks(dir, os.O_RDONLY|syscall.O_DIRECTORY, 0); err == nil {
		d.Sync()
		d.Close()
	}
}

// Path returns the file records are currently appended to.
func (w *Writer) Path() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.path
}

// Next returns the sequence number the next record will get.
func (w *Writer) Next() uint64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.seq
}

// Append writes rec as the next record and returns it with its Seq, Hash
// and (if it had none) Time set. It returns once the line is in the file
// (and, with SyncGroup or SyncEach, on disk). Records kept by Keep are
// written first. On an error wrapping ErrNotLogged or ErrClosed the
// record is not in the log; ErrBacklog too says that MaxPending kept
// records still wait.
func (w *Writer) Append(rec Record) (Record, error) {
	if !rec.Event.Valid() {
		return rec, fmt.Errorf("%w %q", ErrEvent, rec.Event)
	}
	rec.truncate()
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return rec, ErrClosed
	}
	w.flushDueLocked(w.now())
	rec, _, err := w.appendLocked(rec, false)
	w.mu.Unlock()
	if err != nil {
		return rec, err
	}
	if w.cfg.Sync == SyncGroup {
		w.syncTo(rec.Seq)
	}
	return rec, nil
}

// Keep is Append for a record of something that has happened and cannot
// be refused (a checkin, a queued request withdrawn, the STOP): if the
// log cannot be written now, the record is kept in memory with its time
// and written, in order and before any record after it, as soon as the
// log can be written again (tried on a timer and before every new
// record) or into the next file after a rotation. kept reports that;
// the record then has no Seq yet. The error is only ErrEvent or
// ErrClosed.
func (w *Writer) Keep(rec Record) (_ Record, kept bool, _ error) {
	if !rec.Event.Valid() {
		return rec, false, fmt.Errorf("%w %q", ErrEvent, rec.Event)
	}
	rec.truncate()
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return rec, false, ErrClosed
	}
	w.flushDueLocked(w.now())
	rec, kept, err := w.appendLocked(rec, true)
	w.mu.Unlock()
	if err != nil || kept {
		return rec, kept, err
	}
	if w.cfg.Sync == SyncGroup {
		w.syncTo(rec.Seq)
	}
	return rec, false, nil
}

// appendLocked is Append's work but the group sync: w.mu is held. With
// keep, a record that cannot be written now is kept in the backlog
// (kept true, no error) unless the backlog is at its bound.
func (w *Writer) appendLocked(rec Record, keep bool) (Record, bool, error) {
	if rec.Time.IsZero() {
		rec.Time = w.now()
	}
	rec.Time = rec.Time.UTC().Truncate(time.Millisecond)
	if w.skipping && w.skipLocked(&rec, false) {
		return rec, false, nil
	}
	err := w.commitLocked(&rec, keep)
	if err == nil {
		return rec, false, nil
	}
	rec.Seq, rec.Hash = 0, ""
	if !keep || errors.Is(err, ErrClosed) {
		return rec, false, err
	}
	if len(w.pending) >= w.cfg.MaxPending && rec.Event == EventDeny {
		// A denial granted nothing: past the bound it is not kept, so
		// that a client asking in a loop cannot fill the memory.
		return rec, false, fmt.Errorf("%w: %w", ErrNotLogged, ErrBacklog)
	}
	if len(w.pending) == 0 {
		w.notice(fmt.Sprintf("report log %s cannot be written: records are kept until it can (%v)", w.path, trimPrefix(err)))
	}
	w.pending = append(w.pending, rec)
	if len(w.pending) == w.cfg.MaxPending {
		w.notice(fmt.Sprintf("report log %s: %d records wait to be written; checkouts are refused until they are", w.path, len(w.pending)))
	}
	select {
	case w.pendKick <- struct{}{}:
	default:
	}
	return rec, true, nil
}

// commitLocked writes the backlog and then rec (nil: the backlog
// alone), retrying until WriteTimeout unless keep is set (the caller
// keeps rec) or the backlog is at its bound. w.mu is held.
func (w *Writer) commitLocked(rec *Record, keep bool) error {
	pause := w.cfg.RetryInterval
	for attempt := 1; ; attempt++ {
		err := w.attemptLocked(rec)
		if err == nil {
			w.recoveredLocked()
			return nil
		}
		seq := w.seq
		w.failedLocked(seq, attempt, err)
		switch {
		case keep:
			return err
		case rec != nil && len(w.pending) >= w.cfg.MaxPending:
			return fmt.Errorf("%w: %w", ErrNotLogged, ErrBacklog)
		case time.Since(w.failing) >= w.cfg.WriteTimeout:
			return fmt.Errorf("%w: %w", ErrNotLogged, err)
		}
		time.Sleep(min(pause, w.cfg.WriteTimeout-time.Since(w.failing)))
		pause = min(2*pause, maxRetryInterval)
	}
}

// attemptLocked makes one attempt at writing the backlog, oldest first,
// and then rec (nil: the backlog alone); it stops at the first write
// that fails. w.mu is held.
func (w *Writer) attemptLocked(rec *Record) error {
	if n := len(w.pending); n > 0 {
		i := 0
		for ; i < n; i++ {
			if err := w.writeRecordLocked(&w.pending[i]); err != nil {
				break
			}
		}
		w.pending = w.pending[i:]
		w.keptRun += i
		if len(w.pending) > 0 {
			return w.lastErr
		}
		w.pending = nil
		w.notice(fmt.Sprintf("report log %s: the %d records kept while it could not be written are written (seq up to %d)", w.path, w.keptRun, w.seq-1))
		w.keptRun = 0
	}
	if rec == nil {
		return nil
	}
	return w.writeRecordLocked(rec)
}

// writeRecordLocked writes rec as the next record of the current file,
// once; a partial line is cut off again. w.mu is held.
func (w *Writer) writeRecordLocked(rec *Record) error {
	rec.Seq = w.seq
	line := rec.Line(w.prev)
	n, err := w.writeAt(w.f, []byte(line), w.size)
	if err == nil && n != len(line) {
		err = fmt.Errorf("short write (%d of %d bytes)", n, len(line))
	}
	if err != nil {
		// Cut whatever reached the file, whatever n says: os.File's
		// WriteAt counts nothing of a pwrite that wrote part of the line
		// and then failed (ENOSPC on a filling disk).
		if terr := w.f.Truncate(w.size); terr != nil {
			w.report(fmt.Errorf("report log %s: cutting a partial line: %w", w.path, terr))
		}
		rec.Seq, rec.Hash = 0, ""
		w.lastErr = err
		if w.cfg.Counters != nil {
			w.cfg.Counters.WriteErrors.Add(1)
		}
		return err
	}
	w.countLocked(*rec)
	w.size += int64(n)
	w.seq++
	w.prev = rec.Hash
	w.written = rec.Seq
	switch w.cfg.Sync {
	case SyncEach:
		if err := w.f.Sync(); err != nil {
			w.report(fmt.Errorf("report log %s: fsync after seq %d: %w", w.path, rec.Seq, err))
		} else {
			w.synced = rec.Seq
		}
	case SyncBatched:
		select {
		case w.kick <- struct{}{}:
		default:
		}
	}
	return nil
}

// countLocked counts rec, now in the file, and hands it to OnRecord.
func (w *Writer) countLocked(rec Record) {
	if w.cfg.Counters != nil {
		w.cfg.Counters.Records.Add(1)
	}
	if w.cfg.OnRecord != nil {
		w.cfg.OnRecord(rec)
	}
}

// recoveredLocked reports the end of a run of failed writes.
func (w *Writer) recoveredLocked() {
	if !w.failing.IsZero() {
		w.report(fmt.Errorf("report log %s: writing again after %s and %d failed writes",
			w.path, time.Since(w.failing).Round(time.Millisecond), w.failures))
		w.failing = time.Time{}
	}
}

// failedLocked counts a failed write and reports it, at most once a
// second: every client request retries while the disk is full.
func (w *Writer) failedLocked(seq uint64, attempt int, err error) {
	if w.failing.IsZero() {
		w.failing = time.Now()
		w.suppressed, w.failures = 0, 0
	}
	w.failures++
	if time.Since(w.lastReport) >= time.Second || w.lastReport.Before(w.failing) {
		msg := fmt.Errorf("report log %s: writing seq %d (attempt %d): %w", w.path, seq, attempt, err)
		if w.suppressed > 0 {
			msg = fmt.Errorf("%w (%d more failed writes not reported)", msg, w.suppressed)
		}
		w.report(msg)
		w.lastReport, w.suppressed = time.Now(), 0
	} else {
		w.suppressed++
	}
}

// Pending returns how many records wait in the backlog to be written.
func (w *Writer) Pending() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.pending)
}

// retrier writes the backlog as soon as the log can be written again:
// while records wait, it tries every RetryInterval, doubling up to a
// second.
func (w *Writer) retrier() {
	defer w.wg.Done()
	for {
		select {
		case <-w.done:
			return
		case <-w.pendKick:
		}
		pause := w.cfg.RetryInterval
		for attempt := 1; ; attempt++ {
			t := time.NewTimer(pause)
			select {
			case <-w.done:
				t.Stop()
				return
			case <-t.C:
			}
			w.mu.Lock()
			left := len(w.pending)
			if left > 0 && !w.closed {
				if err := w.attemptLocked(nil); err == nil {
					w.recoveredLocked()
				} else {
					w.failedLocked(w.seq, attempt, err)
				}
				left = len(w.pending)
			}
			w.mu.Unlock()
			if left == 0 {
				break
			}
			pause = min(2*pause, maxRetryInterval)
		}
	}
}

// syncTo makes sure the record seq is on disk: it returns at once if an
// fsync already covered it, else it runs one covering every record
// written so far. Concurrent callers queue on syncMu and most find their
// record covered by the fsync the one before them ran.
func (w *Writer) syncTo(seq uint64) {
	w.syncMu.Lock()
	defer w.syncMu.Unlock()
	w.mu.Lock()
	if w.synced >= seq || w.closed {
		w.mu.Unlock()
		return
	}
	f, upto, path := w.f, w.written, w.path
	w.mu.Unlock()
	err := f.Sync()
	w.mu.Lock()
	if err != nil {
		w.report(fmt.Errorf("report log %s: fsync: %w", path, err))
	} else if upto > w.synced {
		w.synced = upto
	}
	w.mu.Unlock()
}

// Sync makes every record appended so far durable.
func (w *Writer) Sync() error {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return ErrClosed
	}
	upto := w.written
	w.mu.Unlock()
	w.syncTo(upto)
	return nil
}

// syncer is SyncBatched's background fsync: after a record is written it
// waits until SyncDelay has passed since the last fsync, then syncs
// everything written so far in one call.
func (w *Writer) syncer() {
	defer w.wg.Done()
	last := time.Time{}
	for {
		select {
		case <-w.done:
			return
		case <-w.kick:
		}
		if d := w.cfg.SyncDelay - time.Since(last); d > 0 {
			t := time.NewTimer(d)
			select {
			case <-w.done:
				t.Stop()
				return
			case <-t.C:
			}
		}
		last = time.Now()
		w.mu.Lock()
		upto := w.written
		w.mu.Unlock()
		w.syncTo(upto)
	}
}

// Switch is lmswitchr: the log continues in newPath. A SWITCH record
// naming newPath ends the current file, which is synced and closed; the
// new file starts with a header continuing the chain. newPath must not
// exist or be a report log of the same vendor (CheckReportLog), which is
// kept as newPath.N first; anything else is refused and left alone. Appends wait while the
// switch happens; none is lost or written twice.
func (w *Writer) Switch(newPath string) error {
	np, err := CleanPath(newPath)
	if err != nil {
		return err
	}
	w.syncMu.Lock()
	defer w.syncMu.Unlock()
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return ErrClosed
	}
	if w.skipping && w.skipSwitchLocked(np, ReasonSwitchr) {
		return nil
	}
	if np == w.path || sameFile(np, w.path) {
		return fmt.Errorf("report log: %s is the current report log", newPath)
	}
	// An existing file must be a report log of this vendor; it is kept
	// beside the new one, never replaced.
	if f, err := openRegular(np, os.O_RDONLY, 0); err == nil {
		err := CheckReportLog(f, np, w.cfg.Vendor)
		f.Close()
		if err != nil {
			return err
		}
		kept, err := moveAside(np)
		if err != nil {
			return err
		}
		w.report(fmt.Errorf("report log: %s existed; kept as %s", np, kept))
	} else if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return w.rotateLocked(w.path, np, ReasonSwitchr, func() {})
}

// NewLog is lmnewlog: the current file is renamed to renamedPath (which
// must not exist) and the log continues in a fresh file under the
// original name. The renamed file ends with a SWITCH record; the fresh
// one starts with a header continuing the chain.
func (w *Writer) NewLog(renamedPath string) error {
	rp, err := CleanPath(renamedPath)
	if err != nil {
		return err
	}
	w.syncMu.Lock()
	defer w.syncMu.Unlock()
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return ErrClosed
	}
	orig := w.path
	if w.skipping && w.skipSwitchLocked(orig, ReasonNewLog) {
		return nil
	}
	if rp == orig {
		return fmt.Errorf("report log: %s is the current report log", renamedPath)
	}
	if err := renameNoReplace(orig, rp); err != nil {
		return err
	}
	undo := func() {
		if err := renameNoReplace(rp, orig); err != nil {
			w.report(fmt.Errorf("report log: moving %s back to %s: %v", rp, orig, err))
		}
	}
	return w.rotateLocked(rp, orig, ReasonNewLog, undo)
}

// rotateLocked ends the current file (known as oldName from now on)
// with a SWITCH record (reason, to=newPath) and continues in a new file
// at newPath. The new file and its header are made first, so that on
// any failure undo runs and the log stays as it was. When the current
// file cannot be written (its disk is full), it ends at its last record
// and the SWITCH record, with from=oldName added, is the new file's
// first record; the backlog follows it there.
func (w *Writer) rotateLocked(oldName, newPath, reason string, undo func()) error {
	// The denials counted so far are summarised in the file they
	// happened in, and the backlog goes there too if it can.
	w.flushLocked(time.Time{})
	if len(w.pending) > 0 && w.attemptLocked(nil) == nil {
		w.recoveredLocked()
	}
	to := newPath
	if w.cfg.SwitchName != nil {
		to = w.cfg.SwitchName(newPath)
	}
	sw := Record{Time: w.now().UTC().Truncate(time.Millisecond), Seq: w.seq, Event: EventSwitch,
		Reason: reason, Detail: "to=" + to}
	sw.truncate()
	line := sw.Line(w.prev)
	h := Header{Seq: sw.Seq + 1, Prev: sw.Hash, Vendor: w.cfg.Vendor}
	nf, err := w.createFile(newPath, h)
	if err != nil {
		undo()
		return err
	}
	size := int64(len(h.Line()))
	err = errors.New("records wait to be written")
	if len(w.pending) == 0 {
		if _, err = w.writeAt(w.f, []byte(line), w.size); err != nil {
			w.f.Truncate(w.size) // a partial line: see writeRecordLocked
		}
	}
	if err != nil {
		// The old file is full: the new one starts where it ends.
		w.failedLocked(sw.Seq, 1, err)
		sw.Detail = addDetail(sw.Detail, "from="+oldName)
		sw.truncate()
		h = Header{Seq: sw.Seq, Prev: w.prev, Vendor: w.cfg.Vendor}
		b := h.Line() + sw.Line(w.prev)
		if err := nf.Truncate(0); err != nil {
			nf.Close()
			os.Remove(newPath)
			undo()
			return fmt.Errorf("report log: %w", err)
		}
		if _, err := w.writeAt(nf, []byte(b), 0); err != nil {
			nf.Close()
			os.Remove(newPath)
			undo()
			return fmt.Errorf("report log %s: %w", newPath, err)
		}
		if err := nf.Sync(); err != nil {
			w.report(fmt.Errorf("report log %s: fsync: %w", newPath, err))
		}
		size = int64(len(b))
	} else if err := w.f.Sync(); err != nil {
		w.report(fmt.Errorf("report log %s: fsync: %w", w.path, err))
	}
	if err := w.f.Close(); err != nil {
		w.report(fmt.Errorf("report log %s: close: %w", w.path, err))
	}
	w.f, w.path, w.size = nf, newPath, size
	w.seq, w.prev = sw.Seq+1, sw.Hash
	w.countLocked(sw)
	w.written, w.synced = sw.Seq, sw.Seq
	w.saveState()
	if len(w.pending) > 0 {
		if err := w.attemptLocked(nil); err == nil {
			w.recoveredLocked()
		}
	} else if !w.failing.IsZero() {
		w.recoveredLocked()
	}
	return nil
}

func sameFile(a, b string) bool {
	fa, err := os.Stat(a)
	if err != nil {
		return false
	}
	fb, err := os.Stat(b)
	return err == nil && os.SameFile(fa, fb)
}

// Close syncs and closes the log. The server appends its STOP record
// first.
func (w *Writer) Close() error {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return ErrClosed
	}
	w.mu.Unlock()
	w.stopOnce.Do(func() { close(w.done) })
	w.wg.Wait()
	w.syncMu.Lock()
	defer w.syncMu.Unlock()
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return ErrClosed
	}
	w.flushLocked(time.Time{})
	if len(w.pending) > 0 {
		// The backlog gets WriteTimeout more to be written; what is left
		// then is lost, and said so.
		if err := w.commitLocked(nil, false); err != nil {
			w.notice(fmt.Sprintf("report log %s: %d records (the first at %s) could not be written and are lost: %v",
				w.path, len(w.pending), w.pending[0].Time.Format(TimeLayout), trimPrefix(err)))
		}
	}
	w.closed = true
	serr := w.f.Sync()
	cerr := w.f.Close()
	if serr != nil {
		return fmt.Errorf("report log %s: fsync: %w", w.path, serr)
	}
	if cerr != nil {
		return fmt.Errorf("report log %s: %w", w.path, cerr)
	}
	return nil
}
