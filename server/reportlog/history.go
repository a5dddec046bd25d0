package reportlog

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"
)

// The usage history's resolutions: the seats in use of the last day in
// one-minute buckets and of the last week in quarter-hour buckets.
const (
	HistoryDayStep   = time.Minute
	HistoryDayLen    = 24 * 60
	HistoryWeekStep  = 15 * time.Minute
	HistoryWeekLen   = 7 * 24 * 4
	HistoryWindow    = HistoryWeekLen * HistoryWeekStep
	historyBucketLen = HistoryDayLen + HistoryWeekLen
)

// DefaultHistoryFeatures bounds the features a History keeps: each costs
// about 8.5 KB (one 32-bit number per bucket), so the default bounds the
// history at about 2.2 MB. Records of further features are not drawn.
const DefaultHistoryFeatures = 256

// maxHistoryHandles bounds the checkouts a History follows from OUT to
// IN; past it, an OUT is not counted (a log whose IN records are lost
// must not grow the memory).
const maxHistoryHandles = 1 << 20

// History is the seats in use of each feature over the last week, built
// from the report log's records as a step series of bucket maxima: the
// vendor daemon feeds it every record it writes, after seeding it from
// its report log's files (Seed), so that the chart survives restarts.
// Its methods are safe for concurrent use.
type History struct {
	mu          sync.Mutex
	maxFeatures int
	features    map[string]*featureHistory
	handles     map[uint64]historySeat
}

type historySeat struct {
	feature string
	count   int
}

// featureHistory is one feature's level and its buckets.
type featureHistory struct {
	level  int            // seats in use now
	totals map[string]int // total= by pool, at its last OUT
	day    ring
	week   ring
}

// ring is a series of bucket maxima; the bucket of absolute index i
// (Unix time / step) is vals[i%len(vals)], valid for first <= i <= last.
type ring struct {
	step        int64 // seconds
	vals        []uint32
	first, last int64
}

func newRing(step time.Duration, n int, vals []uint32) ring {
	return ring{step: int64(step / time.Second), vals: vals[:n:n], first: -1, last: -1}
}

// set records that the level changed from was to now at t.
func (r *ring) set(t time.Time, was, now int) {
	b := t.Unix() / r.step
	switch {
	case r.last < 0:
		r.first, r.last = b, b
		r.vals[b%int64(len(r.vals))] = uint32(max(was, now))
		return
	case b > r.last:
		r.advance(b, was)
		r.put(b, max(was, now))
	case b > r.last-int64(len(r.vals)) && b >= r.first:
		// A record kept while the log could not be written comes late.
		r.put(b, max(int(r.vals[b%int64(len(r.vals))]), now))
	}
	if now > int(r.vals[r.last%int64(len(r.vals))]) {
		r.put(r.last, now)
	}
}

func (r *ring) put(b int64, v int) { r.vals[b%int64(len(r.vals))] = uint32(max(v, 0)) }

// advance carries level forward into the buckets up to b.
func (r *ring) advance(b int64, level int) {
	n := int64(len(r.vals))
	from := max(r.last+1, b-n+1)
	for i := from; i <= b; i++ {
		r.put(i, level)
	}
	r.last = b
	if r.first < b-n+1 {
		r.first = b - n + 1
	}
}

// series returns the buckets up to t's, level carried into those after
// the last change.
func (r *ring) series(t time.Time, level int) HistorySeries {
	s := HistorySeries{Step: time.Duration(r.step) * time.Second}
	if r.last < 0 {
		return s
	}
	b := t.Unix() / r.step
	if b > r.last {
		r.advance(b, level)
	}
	s.Start = time.Unix(r.first*r.step, 0).UTC()
	for i := r.first; i <= r.last; i++ {
		s.InUse = append(s.InUse, int(r.vals[i%int64(len(r.vals))]))
	}
	return s
}

// HistorySeries is a feature's seats in use in buckets of Step from
// Start: InUse[i] is the most seats in use during [Start+i*Step,
// Start+(i+1)*Step).
type HistorySeries struct {
	Start time.Time
	Step  time.Duration
	InUse []int
}

// FeatureHistory is a feature's usage history.
type FeatureHistory struct {
	Feature string
	// Total is the licensed seats the OUT records since the last START
	// say (total=), summed over the feature's pools; 0 when none says.
	Total int
	// InUse is the seats in use now.
	InUse int
	// Day is the last 24 hours in HistoryDayStep buckets, Week the last
	// 7 days in HistoryWeekStep buckets.
	Day, Week HistorySeries
}

// NewHistory returns an empty history of at most maxFeatures features
// (0: DefaultHistoryFeatures).
func NewHistory(maxFeatures int) *History {
	if maxFeatures <= 0 {
		maxFeatures = DefaultHistoryFeatures
	}
	return &History{maxFeatures: maxFeatures, features: map[string]*featureHistory{}, handles: map[uint64]historySeat{}}
}

func (h *History) feature(name string) *featureHistory {
	f := h.features[name]
	if f == nil && len(h.features) < h.maxFeatures {
		vals := make([]uint32, historyBucketLen)
		f = &featureHistory{totals: map[string]int{},
			day:  newRing(HistoryDayStep, HistoryDayLen, vals[:HistoryDayLen]),
			week: newRing(HistoryWeekStep, HistoryWeekLen, vals[HistoryDayLen:])}
		h.features[name] = f
	}
	return f
}

func (f *featureHistory) change(t time.Time, delta int) {
	was := f.level
	f.level = max(f.level+delta, 0)
	f.day.set(t, was, f.level)
	f.week.set(t, was, f.level)
}

// Add takes a record the report log holds, in chain order: Seed's
// records first, then each record as it is written.
func (h *History) Add(r Record) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.addLocked(r)
}

func (h *History) addLocked(r Record) {
	switch r.Event {
	case EventOut:
		if _, dup := h.handles[r.Handle]; dup || len(h.handles) >= maxHistoryHandles {
			return
		}
		f := h.feature(r.Feature)
		if f == nil {
			return
		}
		n := max(r.Count, 1)
		h.handles[r.Handle] = historySeat{r.Feature, n}
		if t, ok := detailInt(r.Detail, DetailTotal); ok {
			f.totals[r.Pool] = t
		}
		f.change(r.Time, n)
	case EventIn:
		s, ok := h.handles[r.Handle]
		if !ok {
			return
		}
		delete(h.handles, r.Handle)
		if f := h.features[s.feature]; f != nil {
			f.change(r.Time, -s.count)
		}
	case EventStart, EventStop:
		// A vendor daemon that starts or stops holds no seats, and the
		// pools it starts with say their counts again.
		clear(h.handles)
		for _, f := range h.features {
			clear(f.totals)
			if f.level != 0 {
				f.change(r.Time, -f.level)
			}
		}
	}
}

// Features returns the features the history holds, sorted.
func (h *History) Features() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	names := make([]string, 0, len(h.features))
	for n := range h.features {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Feature returns feature's history up to now; ok is false when the
// history holds nothing of it.
func (h *History) Feature(feature string, now time.Time) (_ FeatureHistory, ok bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	f := h.features[feature]
	if f == nil {
		return FeatureHistory{}, false
	}
	fh := FeatureHistory{Feature: feature, InUse: f.level, Day: f.day.series(now, f.level), Week: f.week.series(now, f.level)}
	for _, t := range f.totals {
		fh.Total += t
	}
	return fh, true
}

// MergeOlder puts old, a history of the records before the first that h
// took (Seed of the files while h takes the records written from the
// START on), behind h's own: h's buckets before its first come from old
// (the time between old's last record and h's first at old's last
// level), a bucket both hold takes the larger value. h's levels and
// counts stay: its START said that no seat was out.
func (h *History) MergeOlder(old *History) {
	old.mu.Lock()
	defer old.mu.Unlock()
	h.mu.Lock()
	defer h.mu.Unlock()
	names := make([]string, 0, len(old.features))
	for n := range old.features {
		names = append(names, n)
	}
	sort.Strings(names) // the bound keeps the same features every time
	for _, n := range names {
		of := old.features[n]
		f := h.feature(n)
		if f == nil {
			continue
		}
		f.day.mergeOlder(&of.day, of.level)
		f.week.mergeOlder(&of.week, of.level)
	}
}

// mergeOlder puts old's buckets before r's first; level is old's level
// after its last bucket.
func (r *ring) mergeOlder(old *ring, level int) {
	if old.last < 0 {
		return
	}
	n := int64(len(r.vals))
	if r.last < 0 {
		copy(r.vals, old.vals)
		r.first, r.last = old.first, old.last
		return
	}
	from := max(old.first, r.last-n+1)
	for i := from; i < r.first; i++ {
		v := level
		if i <= old.last {
			v = int(old.vals[i%n])
		}
		r.put(i, v)
	}
	if r.first <= old.last && r.first >= old.first {
		r.put(r.first, max(int(r.vals[r.first%n]), int(old.vals[r.first%n])))
	}
	r.first = min(r.first, max(from, r.last-n+1))
}

// ErrHistorySeed is wrapped by the errors of Seed.
var ErrHistorySeed = errors.New("usage history")

// maxSeedFiles bounds the files Seed looks at in a directory.
const maxSeedFiles = 256

// Seed reads into h the records of the last HistoryWindow (before now)
// that the report log current and the earlier files of its chain hold,
// up to (not including) sequence number next: the files of vendor's
// report logs in current's directory (and in dirs) that were written to
// in the window, in chain order. A file modified before the window holds
// no record of it and is not read. Records that do not parse are
// skipped; the error names the first file that could not be read.
//
// Seed stops early, without error, when stop (if not nil) is closed.
func (h *History) Seed(stop <-chan struct{}, current, vendor string, next uint64, now time.Time, dirs ...string) error {
	since := now.Add(-HistoryWindow)
	files := seedFiles(current, vendor, since, dirs)
	r, err := Open(files...)
	if err != nil {
		return errors.Join(ErrHistorySeed, err)
	}
	defer r.Close()
	h.mu.Lock()
	defer h.mu.Unlock()
	var first error
	for n := 0; ; n++ {
		if stop != nil && n%4096 == 0 {
			select {
			case <-stop:
				return nil
			default:
			}
		}
		rec, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			var re *RecordError
			if !errors.As(err, &re) {
				// A file that cannot be opened: the next one is tried.
				if first == nil {
					first = err
				}
			}
			continue
		}
		if next != 0 && rec.Seq >= next {
			break
		}
		h.addLocked(rec)
	}
	if first != nil {
		return errors.Join(ErrHistorySeed, first)
	}
	return nil
}

// seedFiles are the report log files of vendor in current's directory
// and dirs modified since since, current included.
func seedFiles(current, vendor string, since time.Time, dirs []string) []string {
	seen := map[string]bool{}
	var files []string
	add := func(p string) {
		if seen[p] {
			return
		}
		seen[p] = true
		fi, err := os.Stat(p)
		if err != nil || !fi.Mode().IsRegular() || fi.ModTime().Before(since) {
			return
		}
		if hd, err := readHeader(p); err == nil && hd.Vendor == vendor {
			files = append(files, p)
		}
	}
	if current != "" {
		add(current)
		dirs = append([]string{filepath.Dir(current)}, dirs...)
	}
	for _, d := range dirs {
		ents, err := os.ReadDir(d)
		if err != nil {
			continue
		}
		n := 0
		for _, e := range ents {
			if !e.Type().IsRegular() || n >= maxSeedFiles {
				continue
			}
			n++
			add(filepath.Join(d, e.Name()))
		}
	}
	return files
}
