package reportlog

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"sort"
	"time"
)

// A stream of records is the sequence of records a deterministic source
// hands a writer: the members of a triad write their report logs from
// the same committed commands, so record N of the stream is the same
// record, with the same hash, on every member. A member that applies
// commands it has written the records of already (a restart, a lost
// Raft store) is told where the stream is (SetStream) and the writer
// skips the records its file holds; one that missed records (it was
// sent a snapshot) copies them from another member (AppendLines) or,
// when it cannot, leaves a gap (Gap) that Verify reports.

// Errors of the stream methods.
var (
	// ErrStreamGap is returned by SetStream for a position past the
	// writer's: records are missing in between.
	ErrStreamGap = errors.New("report log: records missing before the stream's position")
	// ErrVerbatim is wrapped by AppendLines' refusal of a line.
	ErrVerbatim = errors.New("report log: record does not continue the chain")
	// ErrVerbatimSwitch is wrapped by AppendLines' refusal of a SWITCH
	// record: a rotation cannot be copied as a line.
	ErrVerbatimSwitch = errors.New("report log: a SWITCH record cannot be copied")
)

// Stream returns the position of the stream: the sequence number the
// next record handed to the writer will have, and the hash of the one
// before it. It is the writer's own position (Next) unless the writer
// skips records its file holds (SetStream). While records wait in the
// backlog (Keep) the hash is not known yet and last is "".
func (w *Writer) Stream() (next uint64, last string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.skipping {
		return w.sNext, w.sPrev
	}
	if len(w.pending) > 0 {
		return w.seq + uint64(len(w.pending)), ""
	}
	return w.seq, w.prev
}

// SetStream says that the next record handed to the writer is record
// next of the stream, whose record before it has hash last ("" when
// unknown). A position before the writer's makes the writer skip the
// records up to its own (they are in its file): each is still given its
// sequence number and hash, as written before, but not written; a
// SWITCH is not done again. A position past the writer's is refused
// with ErrStreamGap: the records in between must be appended
// (AppendLines) or given up (Gap) first. At its own position, a last
// that is not the hash of its last record is reported through OnError:
// the chains differ.
func (w *Writer) SetStream(next uint64, last string) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return ErrClosed
	}
	pos := w.seq + uint64(len(w.pending))
	switch {
	case next > pos:
		return fmt.Errorf("%w: stream at %d, log at %d", ErrStreamGap, next, pos)
	case next < pos:
		w.skipping, w.sNext, w.sPrev, w.sFile, w.sRetry = true, next, last, nil, 0
	default:
		w.skipping, w.sFile = false, nil
		w.checkJoinLocked(last)
	}
	return nil
}

// checkJoinLocked reports a stream whose record before the writer's
// position is not the writer's last record.
func (w *Writer) checkJoinLocked(last string) {
	if last != "" && len(w.pending) == 0 && last != w.prev {
		w.report(fmt.Errorf("report log %s: record %d of the stream has hash %s, this log's %s: the logs differ from here", w.path, w.seq-1, last, w.prev))
	}
}

// skipLocked gives rec, a record the file holds already, its sequence
// number and hash, and reports true. A record that is not the one the
// file holds at its sequence number (its hash differs: the file was
// written from another history) is not skipped: skipping ends, the
// difference is reported through OnError, and false says to write it,
// after the file's last record. With trust the record is not checked
// and has the file's hash. w.mu is held.
func (w *Writer) skipLocked(rec *Record, trust bool) bool {
	if len(w.sFile) == 0 && w.sNext >= w.sRetry {
		if w.sFile = w.fileHashesLocked(w.sNext); len(w.sFile) == 0 {
			// No file holds them: not read again for a while.
			w.sRetry = w.sNext + DefaultReadRecords
		}
	}
	var file string
	if len(w.sFile) > 0 {
		file = w.sFile[0]
	}
	prev := w.sPrev
	if prev == "" {
		prev = Genesis // unknown: the hash is not checked
	}
	r := *rec
	r.Seq = w.sNext
	r.Line(prev)
	if file != "" && w.sPrev != "" && !trust && r.Hash != file {
		w.skipping, w.sFile = false, nil
		w.report(fmt.Errorf("report log %s: record %d of the stream is not the one this log holds: the records from it on are written after the log's last record (%d)", w.path, r.Seq, w.seq-1))
		return false
	}
	if file != "" && (w.sPrev == "" || trust) {
		r.Hash = file // the file's chain, for the records after it
	}
	*rec = r
	if len(w.sFile) > 0 {
		w.sFile = w.sFile[1:]
	}
	w.sNext++
	w.sPrev = rec.Hash
	if w.sNext >= w.seq+uint64(len(w.pending)) {
		w.skipping, w.sFile = false, nil
		w.checkJoinLocked(w.sPrev)
	}
	return true
}

// fileHashesLocked reads the hashes of the records from seq from that
// the log's files hold, a chunk of them; none when no file holds them
// (the records are not checked then). w.mu is held.
func (w *Writer) fileHashesLocked(from uint64) []string {
	lines, err := ReadLines(w.path, w.cfg.Vendor, from, w.seq, 0, 0)
	if err != nil {
		return nil
	}
	out := make([]string, 0, len(lines))
	for _, l := range lines {
		rec, err := ParseRecord(l)
		if err != nil {
			break
		}
		out = append(out, rec.Hash)
	}
	return out
}

// skipSwitchLocked is skipLocked for the SWITCH record of a rotation
// to path the file holds already. A rotation is not made again, and
// the file's record is taken as it is: an lmnewlog's names the file
// that was current then, which may not be now. w.mu is held.
func (w *Writer) skipSwitchLocked(path, reason string) bool {
	to := path
	if w.cfg.SwitchName != nil {
		to = w.cfg.SwitchName(path)
	}
	sw := Record{Time: w.now().UTC().Truncate(time.Millisecond), Event: EventSwitch, Reason: reason, Detail: "to=" + to}
	sw.truncate()
	return w.skipLocked(&sw, true)
}

// AppendLines appends record lines (without their '\n') verbatim, as
// another writer of the same stream wrote them: each must be a record
// whose seq is the writer's next and whose hash follows from the
// writer's last record, and not a SWITCH (ErrVerbatimSwitch). It
// stops at the first line refused, with an error wrapping ErrVerbatim,
// and returns how many lines were written. Nothing is written while the
// writer skips or records wait in the backlog.
func (w *Writer) AppendLines(lines []string) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return 0, ErrClosed
	}
	if w.skipping || len(w.pending) > 0 {
		return 0, fmt.Errorf("%w: the log is not at the end of its stream", ErrVerbatim)
	}
	for i, line := range lines {
		rec, err := ParseRecord(line)
		switch {
		case err != nil:
			return i, fmt.Errorf("%w: %v", ErrVerbatim, err)
		case rec.Seq != w.seq:
			return i, fmt.Errorf("%w: seq %d where %d is next", ErrVerbatim, rec.Seq, w.seq)
		case ChainHash(w.prev, Body(line)) != rec.Hash:
			return i, fmt.Errorf("%w: seq %d does not follow hash %s", ErrVerbatim, rec.Seq, w.prev)
		case rec.Event == EventSwitch:
			return i, fmt.Errorf("%w: seq %d", ErrVerbatimSwitch, rec.Seq)
		}
		b := []byte(line + "\n")
		n, err := w.writeAt(w.f, b, w.size)
		if err == nil && n != len(b) {
			err = fmt.Errorf("short write (%d of %d bytes)", n, len(b))
		}
		if err != nil {
			if terr := w.f.Truncate(w.size); terr != nil {
				w.report(fmt.Errorf("report log %s: cutting a partial line: %w", w.path, terr))
			}
			return i, fmt.Errorf("report log %s: %w", w.path, err)
		}
		w.countLocked(rec)
		w.size += int64(n)
		w.seq++
		w.prev = rec.Hash
		w.written = rec.Seq
		if w.cfg.Sync == SyncBatched {
			select {
			case w.kick <- struct{}{}:
			default:
			}
		}
	}
	if w.cfg.Sync != SyncBatched && len(lines) > 0 {
		if err := w.f.Sync(); err == nil {
			w.synced = w.written
		}
	}
	return len(lines), nil
}

// Gap gives up the records from the writer's next up to (not
// including) next, which no other writer of the stream could provide:
// the current file is kept beside it (as Path.N) and a new file at its
// path starts with a header at seq next and prev last, so that the set
// shows the gap (CheckSet, Verify) and the chain goes on as the
// stream's. A next at or before the writer's is refused.
func (w *Writer) Gap(next uint64, last string) error {
	if !isHash(last) {
		return fmt.Errorf("report log: bad hash %q", last)
	}
	w.syncMu.Lock()
	defer w.syncMu.Unlock()
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return ErrClosed
	}
	if w.skipping || len(w.pending) > 0 || next <= w.seq {
		return fmt.Errorf("report log: no gap before seq %d (next is %d)", next, w.seq)
	}
	if err := w.f.Sync(); err != nil {
		w.report(fmt.Errorf("report log %s: fsync: %w", w.path, err))
	}
	path := w.path
	kept, err := moveAside(path)
	if err != nil {
		return err
	}
	old := w.f
	if err := w.create(path, Header{Seq: next, Prev: last, Vendor: w.cfg.Vendor}); err != nil {
		if rerr := renameNoReplace(kept, path); rerr != nil {
			w.report(fmt.Errorf("report log: moving %s back to %s: %v", kept, path, rerr))
		}
		return err
	}
	old.Close()
	w.saveState()
	return nil
}

// Read limits of ReadLines.
const (
	DefaultReadRecords = 4096
	DefaultReadBytes   = 4 << 20
)

// ReadLines returns the record lines (without '\n') with sequence
// numbers from, from+1, ... before to, as the report log files of
// vendor in current's directory hold them: the file whose header starts
// at or before from, then the files continuing its chain. It stops at
// to, after maxRecords lines or maxBytes bytes (0: the defaults), at a
// gap, and at the end of what was written (a line being written is not
// returned). There is no line when no file holds from.
func ReadLines(current, vendor string, from, to uint64, maxRecords, maxBytes int) ([]string, error) {
	if maxRecords <= 0 {
		maxRecords = DefaultReadRecords
	}
	if maxBytes <= 0 {
		maxBytes = DefaultReadBytes
	}
	type file struct {
		name string
		h    Header
	}
	var files []file
	for _, name := range seedFiles(current, vendor, time.Time{}, nil) {
		if h, err := readHeader(name); err == nil {
			files = append(files, file{name, h})
		}
	}
	sort.SliceStable(files, func(i, j int) bool { return files[i].h.Seq < files[j].h.Seq })
	// The file to start in: the last that starts at or before from,
	// the current file when several do.
	start := -1
	for i, f := range files {
		if f.h.Seq <= from && (start < 0 || f.h.Seq > files[start].h.Seq || f.name == current) {
			start = i
		}
	}
	var out []string
	if start < 0 || from >= to {
		return out, nil
	}
	next, size := from, 0
	prev := files[start].h.Prev // hash of the record before next
	i := start
	for {
		f, err := os.Open(files[i].name)
		if err != nil {
			return out, err
		}
		br := bufio.NewReaderSize(f, 64<<10)
		if _, err := readLine(br); err != nil { // the header
			f.Close()
			return out, nil
		}
		for {
			line, err := readLine(br)
			if err != nil {
				break // the end, or a line being written
			}
			rec, err := ParseRecord(line)
			if err != nil {
				f.Close()
				return out, nil
			}
			if rec.Seq < next {
				prev = rec.Hash
				continue
			}
			if rec.Seq != next || len(out) >= maxRecords || size+len(line)+1 > maxBytes || next >= to {
				f.Close()
				return out, nil
			}
			out = append(out, line)
			size += len(line) + 1
			prev = rec.Hash
			next++
		}
		f.Close()
		if next >= to {
			return out, nil
		}
		// The file continuing the chain at next.
		j := -1
		for k, g := range files {
			if k != i && g.h.Seq == next && g.h.Prev == prev {
				j = k
				if g.name == current {
					break
				}
			}
		}
		if j < 0 {
			return out, nil
		}
		i = j
	}
}

// Followed is what Follow did.
type Followed struct {
	// Copied is the records copied from other writers of the stream.
	Copied int
	// MissingFrom is, when below the position followed, the first of
	// the records up to it that could not be copied: the log has a gap
	// there (Gap), or, when GapErr is set, could not even make one.
	MissingFrom uint64
	// Held is, when above the position, the writer's own: the records
	// from the position up to it are in its file and are skipped.
	Held uint64
	// FetchErr and CopyErr are why copying stopped; GapErr why the gap
	// could not be made, StreamErr why the position was not taken.
	FetchErr, CopyErr, GapErr, StreamErr error
}

// Follow makes the writer continue the stream at next, whose record
// before it has hash last: the records the writer lacks before next are
// copied with fetch (the lines of some records from ... before to, as
// another writer of the stream wrote them; nil: none can be) and
// appended verbatim (AppendLines), as long as they continue the chain
// and the last of them, record next-1, has hash last;
// those left are given up (Gap); records the writer holds at and after
// next are skipped as they come (SetStream).
//
// A SWITCH record among those copied is handed to onSwitch (nil: none
// can be), which is to make the same rotation (Switch, with the record's
// time): the copy goes on in the new file when the writer's SWITCH
// record is the one copied, and stops there when it is not.
func (w *Writer) Follow(next uint64, last string, fetch func(from, to uint64) ([]string, error), onSwitch func(Record) error) Followed {
	var r Followed
	r.MissingFrom = next
	// A new position replaces the one followed so far.
	w.mu.Lock()
	w.skipping, w.sFile = false, nil
	w.mu.Unlock()
	for fetch != nil && w.Next() < next {
		from := w.Next()
		lines, err := fetch(from, next)
		if err != nil {
			r.FetchErr = err
			break
		}
		if len(lines) > 0 && last != "" {
			// The record before next must be the stream's.
			if end := uint64(len(lines)) + from - 1; end >= next-1 {
				lines = lines[:next-from]
				if rec, err := ParseRecord(lines[len(lines)-1]); err != nil || rec.Hash != last {
					r.CopyErr = fmt.Errorf("%w: record %d is not the stream's (hash %s)", ErrVerbatim, next-1, last)
					break
				}
			}
		}
		n, err := w.AppendLines(lines)
		r.Copied += n
		if errors.Is(err, ErrVerbatimSwitch) && onSwitch != nil {
			sw, _ := ParseRecord(lines[n]) // checked by AppendLines
			if err = onSwitch(sw); err == nil {
				if _, prev := w.Stream(); prev != sw.Hash {
					err = fmt.Errorf("%w: the SWITCH record written for seq %d differs from the one copied", ErrVerbatim, sw.Seq)
				} else {
					r.Copied++
					n++
				}
			}
		}
		if err != nil {
			r.CopyErr = err
			break
		}
		if n == 0 {
			break
		}
	}
	if from := w.Next(); from < next {
		r.MissingFrom = from
		r.GapErr = w.Gap(next, last)
	} else if from > next {
		r.Held = from
	}
	r.StreamErr = w.SetStream(next, last)
	return r
}
