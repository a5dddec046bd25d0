package reportlog

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Defaults of the denial summaries (Config.DenialInterval, DenialKeys).
const (
	DefaultDenialInterval = 10 * time.Second
	DefaultDenialKeys     = 16
)

// Detail keys of a DENY summary record.
const (
	// DetailRepeats is the number of denials a summary record stands
	// for: repeats=N.
	DetailRepeats = "repeats"
	// DetailMixed marks a summary of a client that was denied more kinds
	// of requests in one interval than DenialKeys: its repeats include
	// denials of other features and reasons than its own.
	DetailMixed = "mixed"
)

// denyKey is what makes two denials the same: the client (its
// connection), the feature and version asked for, and the reason (code
// and detail, which holds the minor number).
type denyKey struct {
	client   uint64
	overflow bool // the client's entry for kinds past DenialKeys
	feature  string
	version  string
	code     int
	detail   string
}

// denyEntry is a denial recorded at once, and the repeats of it counted
// since.
type denyEntry struct {
	rec     Record    // the record written at once
	repeats int       // denials counted since the last record
	end     time.Time // when the current interval ends
}

// denials holds the entries of the writer; w.mu guards it.
type denials struct {
	entries   map[denyKey]*denyEntry
	perClient map[uint64]int
	next      time.Time // earliest end (zero: no entry)
}

// Deny records rec, a DENY record of client (an identifier of the
// connection it came from). The first denial of a kind (client, feature,
// version, code and detail) is appended at once, like Append; repeats of
// it within Config.DenialInterval are only counted, and at the end of
// the interval one summary record stands for them: the same record with
// repeats=N added to its detail (",repeats=N" after what was there).
// Each interval with repeats writes one summary; an interval without
// any ends the entry, so the next denial is written at once again. A
// client denied more than Config.DenialKeys kinds in one interval has
// the rest counted in one summary marked mixed=1. Summaries still open
// are written before a rotation's SWITCH record, by FlushDenials and by
// Close. So one client, however fast it asks, adds at most about
// 2*DenialKeys records per interval. Deny reports whether rec was
// written; a denial that was only counted returns false and no error.
func (w *Writer) Deny(client uint64, rec Record) (bool, error) {
	if rec.Event != EventDeny {
		return false, fmt.Errorf("%w %q: not a denial", ErrEvent, rec.Event)
	}
	rec.truncate()
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return false, ErrClosed
	}
	now := w.now()
	w.flushDueLocked(now)
	d := &w.denials
	if d.entries == nil {
		d.entries, d.perClient = map[denyKey]*denyEntry{}, map[uint64]int{}
	}
	k := denyKey{client: client, feature: rec.Feature, version: rec.Version, code: rec.Code, detail: rec.Detail}
	if e := d.entries[k]; e != nil {
		e.repeats++
		return false, nil
	}
	if d.perClient[client] >= w.cfg.DenialKeys {
		k = denyKey{client: client, overflow: true}
		if e := d.entries[k]; e != nil {
			e.repeats++
			return false, nil
		}
	}
	if rec.Time.IsZero() {
		rec.Time = now
	}
	written, _, err := w.appendLocked(rec, true)
	if err != nil {
		return false, err
	}
	e := &denyEntry{rec: written, end: now.Add(w.cfg.DenialInterval)}
	if k.overflow {
		e.rec.Detail = addDetail(e.rec.Detail, DetailMixed+"=1")
	}
	d.entries[k] = e
	d.perClient[client]++
	if d.next.IsZero() || e.end.Before(d.next) {
		d.next = e.end
	}
	select {
	case w.denyKick <- struct{}{}:
	default:
	}
	return true, nil
}

// FlushDenials writes the summaries of every denial counted so far, so
// that they come before a record the caller appends next (the vendor
// daemon's STOP).
func (w *Writer) FlushDenials() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return ErrClosed
	}
	w.flushLocked(time.Time{})
	return nil
}

// flushDueLocked writes the summaries of the intervals that have ended
// by now. w.mu is held.
func (w *Writer) flushDueLocked(now time.Time) {
	if d := &w.denials; !d.next.IsZero() && !now.Before(d.next) {
		w.flushLocked(now)
	}
}

// flushLocked ends the intervals that have ended by now (every interval
// when now is zero): an interval with repeats writes its summary and
// starts the next, one without ends its entry. A summary that cannot be
// written is kept and tried again at the next flush. w.mu is held.
func (w *Writer) flushLocked(now time.Time) {
	d := &w.denials
	all := now.IsZero()
	if all {
		now = w.now()
	}
	var due []denyKey
	d.next = time.Time{}
	for k, e := range d.entries {
		if all || !now.Before(e.end) {
			due = append(due, k)
		} else if d.next.IsZero() || e.end.Before(d.next) {
			d.next = e.end
		}
	}
	// In the order the denials were first written.
	sort.Slice(due, func(i, j int) bool { return d.entries[due[i]].rec.Seq < d.entries[due[j]].rec.Seq })
	for _, k := range due {
		e := d.entries[k]
		if e.repeats == 0 {
			delete(d.entries, k)
			if d.perClient[k.client]--; d.perClient[k.client] <= 0 {
				delete(d.perClient, k.client)
			}
			continue
		}
		sum := e.rec
		sum.Time, sum.Seq, sum.Hash = now, 0, ""
		sum.Detail = addDetail(e.rec.Detail, DetailRepeats+"="+strconv.Itoa(e.repeats))
		if _, _, err := w.appendLocked(sum, true); err != nil {
			w.report(fmt.Errorf("report log %s: summary of %d denials of %q not written yet: %v", w.path, e.repeats, e.rec.Feature, err))
		} else {
			e.repeats = 0
		}
		if all && e.repeats == 0 {
			delete(d.entries, k)
			if d.perClient[k.client]--; d.perClient[k.client] <= 0 {
				delete(d.perClient, k.client)
			}
			continue
		}
		e.end = now.Add(w.cfg.DenialInterval)
		if d.next.IsZero() || e.end.Before(d.next) {
			d.next = e.end
		}
	}
}

// denialFlusher writes the summaries of intervals that end while no
// record is appended: it wakes when the first entry is made and at each
// interval's end.
func (w *Writer) denialFlusher() {
	defer w.wg.Done()
	for {
		w.mu.Lock()
		next := w.denials.next
		var wait time.Duration
		if !next.IsZero() {
			// The clock may be a test's; never spin, never sleep past an
			// interval.
			wait = min(max(next.Sub(w.now()), time.Millisecond), w.cfg.DenialInterval)
		}
		w.mu.Unlock()
		var timer *time.Timer
		var fire <-chan time.Time
		if wait > 0 {
			timer = time.NewTimer(wait)
			fire = timer.C
		}
		select {
		case <-w.done:
			if timer != nil {
				timer.Stop()
			}
			return
		case <-w.denyKick:
		case <-fire:
			w.mu.Lock()
			if !w.closed {
				w.flushDueLocked(w.now())
			}
			w.mu.Unlock()
		}
		if timer != nil {
			timer.Stop()
		}
	}
}

// addDetail appends kv to a record's detail, comma-separated.
func addDetail(detail, kv string) string {
	if detail == "" {
		return kv
	}
	return detail + "," + kv
}

// DenialCount is the number of denials r stands for: repeats=N of a
// summary record, 1 for any other DENY record, 0 for other events.
func DenialCount(r Record) int {
	if r.Event != EventDeny {
		return 0
	}
	for _, kv := range strings.Split(r.Detail, ",") {
		if v, ok := strings.CutPrefix(kv, DetailRepeats+"="); ok {
			if n, err := strconv.Atoi(v); err == nil && n > 0 {
				return n
			}
		}
	}
	return 1
}
