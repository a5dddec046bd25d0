package reportlog

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// fullSwitch makes writes fail with ENOSPC while it is on; with only
// set, only writes to the file open at that path when it was set.
type fullSwitch struct {
	on   atomic.Bool
	mu   sync.Mutex
	only os.FileInfo
}

func (d *fullSwitch) writeAt(f *os.File, b []byte, off int64) (int, error) {
	if d.on.Load() {
		d.mu.Lock()
		only := d.only
		d.mu.Unlock()
		fi, err := f.Stat()
		if only == nil || err == nil && os.SameFile(fi, only) {
			if len(b) > 1 {
				n, _ := f.WriteAt(b[:len(b)/2], off) // a partial line reaches the file
				return n, syscall.ENOSPC
			}
			return 0, syscall.ENOSPC
		}
	}
	return f.WriteAt(b, off)
}

func (d *fullSwitch) fill(t *testing.T, path string) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	d.mu.Lock()
	d.only = fi
	d.mu.Unlock()
	d.on.Store(true)
}

// TestKeepWhileFull: checkouts and checkins run throughout while the
// disk fills and empties again; a checkout is refused when its record
// cannot be written, a checkin never is, and afterwards every logged
// checkout has exactly one checkin, with the time it happened, in a
// chain that verifies.
func TestKeepWhileFull(t *testing.T) {
	path := filepath.Join(t.TempDir(), "report.log")
	disk := &fullSwitch{}
	var notices atomic.Int32
	w := openTest(t, Config{Path: path, WriteAt: disk.writeAt, WriteTimeout: 2 * time.Millisecond,
		RetryInterval: time.Millisecond, OnError: func(error) {}, OnNotice: func(string) { notices.Add(1) }})
	const workers, rounds = 4, 300
	var handle atomic.Uint64
	var granted, refused atomic.Int32
	var wg sync.WaitGroup
	for g := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range rounds {
				// One worker fills and empties the disk; the others
				// meet it as it is.
				if g == 0 && i%40 == 0 {
					disk.on.Store(false)
				}
				h := handle.Add(1)
				if _, err := w.Append(Record{Event: EventOut, Feature: "f1", User: fmt.Sprint("u", g), Count: 1, Handle: h}); err != nil {
					if !errors.Is(err, ErrNotLogged) {
						t.Errorf("Append: %v", err)
					}
					refused.Add(1)
					continue
				}
				granted.Add(1)
				if g == 0 && i%40 == 20 {
					disk.on.Store(true)
				}
				at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(h) * time.Second)
				if _, _, err := w.Keep(Record{Time: at, Event: EventIn, Feature: "f1", User: fmt.Sprint("u", g), Count: 1, Handle: h, Reason: ReasonNormal}); err != nil {
					t.Errorf("Keep: %v", err)
				}
			}
		}()
	}
	wg.Wait()
	disk.on.Store(false)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if refused.Load() == 0 || notices.Load() == 0 {
		t.Errorf("no checkout was refused (%d) or nothing kept (%d notices): the disk was never full at the right time", refused.Load(), notices.Load())
	}
	mustVerify(t, path)
	recs, err := ReadAll(path)
	if err != nil {
		t.Fatal(err)
	}
	out, in := map[uint64]int{}, map[uint64]Record{}
	for _, r := range recs {
		switch r.Event {
		case EventOut:
			out[r.Handle]++
		case EventIn:
			if _, dup := in[r.Handle]; dup {
				t.Errorf("handle %d checked in twice", r.Handle)
			}
			in[r.Handle] = r
		}
	}
	if len(out) != int(granted.Load()) || len(in) != len(out) {
		t.Errorf("%d OUT and %d IN records, want %d of each", len(out), len(in), granted.Load())
	}
	for h := range out {
		r, ok := in[h]
		if !ok {
			t.Errorf("handle %d has no checkin", h)
			continue
		}
		if want := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(h) * time.Second); !r.Time.Equal(want) {
			t.Errorf("handle %d: IN at %v, want its own time %v", h, r.Time, want)
		}
	}
}

// TestBacklogBound: at MaxPending Append fails at once with ErrBacklog,
// Keep still keeps, a denial is not kept; all kept records are written
// in order once the disk has room.
func TestBacklogBound(t *testing.T) {
	path := filepath.Join(t.TempDir(), "report.log")
	disk := &fullSwitch{}
	var notes []string
	var mu sync.Mutex
	w := openTest(t, Config{Path: path, WriteAt: disk.writeAt, WriteTimeout: time.Hour, RetryInterval: time.Hour,
		MaxPending: 3, OnError: func(error) {}, OnNotice: func(s string) { mu.Lock(); notes = append(notes, s); mu.Unlock() }})
	disk.on.Store(true)
	for i := range 4 {
		if _, kept, err := w.Keep(Record{Event: EventIn, Handle: uint64(i + 1)}); err != nil || !kept {
			t.Fatalf("Keep %d: kept %v, %v; want kept", i, kept, err)
		}
	}
	if _, err := w.Append(Record{Event: EventOut, Handle: 9}); !errors.Is(err, ErrNotLogged) || !errors.Is(err, ErrBacklog) {
		t.Errorf("Append at the bound: %v, want ErrNotLogged and ErrBacklog (at once, not after WriteTimeout)", err)
	}
	if _, err := w.Deny(1, Record{Event: EventDeny, Feature: "f1", Code: -4}); !errors.Is(err, ErrBacklog) {
		t.Errorf("Deny at the bound: %v, want ErrBacklog", err)
	}
	if n := w.Pending(); n != 4 {
		t.Errorf("Pending = %d, want 4", n)
	}
	disk.on.Store(false)
	if _, err := w.Append(Record{Event: EventOut, Handle: 10}); err != nil {
		t.Fatalf("Append after the disk has room: %v", err)
	}
	w.Close()
	recs, err := ReadAll(path)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range recs {
		got = append(got, fmt.Sprintf("%s%d", r.Event, r.Handle))
	}
	if strings.Join(got, ",") != "IN1,IN2,IN3,IN4,OUT10" {
		t.Errorf("records %v, want the 4 kept checkins, then OUT10", got)
	}
	mustVerify(t, path)
	mu.Lock()
	defer mu.Unlock()
	all := strings.Join(notes, "\n")
	for _, want := range []string{"records are kept", "3 records wait to be written; checkouts are refused", "the 4 records kept"} {
		if !strings.Contains(all, want) {
			t.Errorf("notices lack %q:\n%s", want, all)
		}
	}
}

// TestCloseSaysBacklogLost: a backlog that still cannot be written when
// the writer closes is named in a notice, not dropped silently.
func TestCloseSaysBacklogLost(t *testing.T) {
	path := filepath.Join(t.TempDir(), "report.log")
	disk := &fullSwitch{}
	var notes []string
	w := openTest(t, Config{Path: path, WriteAt: disk.writeAt, WriteTimeout: time.Millisecond, RetryInterval: time.Millisecond,
		OnError: func(error) {}, OnNotice: func(s string) { notes = append(notes, s) }})
	disk.on.Store(true)
	w.Keep(Record{Event: EventIn, Handle: 1})
	w.Keep(Record{Event: EventStop})
	w.Close()
	if all := strings.Join(notes, "\n"); !strings.Contains(all, "2 records") || !strings.Contains(all, "lost") {
		t.Errorf("notices %q, want the 2 records named lost", notes)
	}
}

// TestRotateWhileFull: lmswitchr and lmnewlog while the current file
// cannot be written: the old file ends at its last record, the new one
// starts with the SWITCH record (from= the old file) and the backlog,
// and the set verifies and has no gap or fork. When the new file
// cannot be written either, the rotation is refused and the log stays.
func TestRotateWhileFull(t *testing.T) {
	for _, tc := range []struct {
		name    string
		newLog  bool
		newFull bool
	}{
		{"lmswitchr", false, false},
		{"lmnewlog", true, false},
		{"lmswitchr both full", false, true},
		{"lmnewlog both full", true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "report.log")
			disk := &fullSwitch{}
			w := openTest(t, Config{Path: path, WriteAt: disk.writeAt, WriteTimeout: time.Millisecond,
				RetryInterval: time.Hour, OnError: func(error) {}})
			appendN(t, w, 2, "before")
			if tc.newFull {
				disk.on.Store(true)
			} else {
				disk.fill(t, path)
			}
			w.Keep(Record{Event: EventIn, Feature: "f1", Handle: 1})
			other, oldName := filepath.Join(dir, "other.log"), path
			var err error
			if tc.newLog {
				err, other, oldName = w.NewLog(other), path, other
			} else {
				err = w.Switch(other)
			}
			if tc.newFull {
				if err == nil {
					t.Fatal("rotation with both files full succeeded")
				}
				if got := w.Path(); got != path {
					t.Errorf("log continues in %s, want %s", got, path)
				}
				disk.on.Store(false)
				w.Close()
				if s := mustVerify(t, path); s.Records != 3 {
					t.Errorf("%+v, want the 2 records and the kept checkin", s)
				}
				return
			}
			if err != nil {
				t.Fatalf("rotation while full: %v", err)
			}
			appendN(t, w, 1, "after")
			w.Close()
			s := mustVerify(t, other, oldName)
			if s.Records != 5 || s.Files != 2 {
				t.Errorf("Verify = %+v, want 5 records in 2 files", s)
			}
			if probs, err := CheckSet(oldName, other); err != nil || len(probs) > 0 {
				t.Errorf("CheckSet: %v %v", probs, err)
			}
			recs, err := ReadAll(other)
			if err != nil {
				t.Fatal(err)
			}
			if recs[0].Event != EventSwitch || recs[0].Detail != "to="+other+",from="+oldName || recs[1].Event != EventIn {
				t.Errorf("new file starts %s %q, %s; want SWITCH to=%s,from=%s, then the kept IN", recs[0].Event, recs[0].Detail, recs[1].Event, other, oldName)
			}
			old, err := ReadAll(oldName)
			if err != nil {
				t.Fatal(err)
			}
			if len(old) != 2 {
				t.Errorf("old file holds %d records, want the 2 written before it filled", len(old))
			}
		})
	}
}

// TestPartialWriteReportedAsNone: os.File's WriteAt says 0 bytes for a
// pwrite that wrote part of the line and then failed; the part is cut
// off all the same, so that the next record does not follow half a
// line.
func TestPartialWriteReportedAsNone(t *testing.T) {
	path := filepath.Join(t.TempDir(), "report.log")
	fails := 1
	w := openTest(t, Config{Path: path, RetryInterval: time.Millisecond, WriteTimeout: time.Hour, OnError: func(error) {}})
	w.writeAt = func(f *os.File, b []byte, off int64) (int, error) {
		if fails > 0 {
			fails--
			f.WriteAt(b[:len(b)/2], off)
			return 0, syscall.ENOSPC
		}
		return f.WriteAt(b, off)
	}
	appendN(t, w, 2, "u")
	w.Close()
	if s := mustVerify(t, path); s.Records != 2 {
		t.Errorf("%+v, want 2 records", s)
	}
}

// TestSmallFilesystem: a report log on a 64 KB tmpfs that fills: every
// record is either refused (Append) or kept (Keep), none is torn, and
// lmswitchr to another filesystem writes the backlog there. Skipped
// where the test may not mount a tmpfs.
func TestSmallFilesystem(t *testing.T) {
	full := t.TempDir()
	if err := syscall.Mount("tmpfs", full, "tmpfs", 0, "size=64k"); err != nil {
		t.Skipf("cannot mount a small tmpfs here: %v", err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(full, 0); err != nil {
			syscall.Unmount(full, syscall.MNT_DETACH)
		}
	})
	path := filepath.Join(full, "r.rl")
	w := openTest(t, Config{Path: path, WriteTimeout: time.Millisecond, RetryInterval: time.Hour, OnError: func(error) {}})
	appendN(t, w, 3, "before")
	filler, err := os.Create(filepath.Join(full, "filler"))
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := filler.Write(make([]byte, 1024)); err != nil {
			break
		}
	}
	filler.Close()
	var out, kept int
	for i := range 100 {
		h := uint64(100 + i)
		if _, err := w.Append(Record{Event: EventOut, Feature: "f1", User: "during", Handle: h}); err != nil {
			if !errors.Is(err, ErrNotLogged) || !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("Append on a full filesystem: %v", err)
			}
			continue
		}
		out++
		if _, k, err := w.Keep(Record{Event: EventIn, Feature: "f1", User: "during", Handle: h}); err != nil {
			t.Fatal(err)
		} else if k {
			kept++
		}
	}
	if out == 100 {
		t.Fatal("the filesystem never filled")
	}
	// A seat held from before the disk filled comes back now.
	if _, k, err := w.Keep(Record{Event: EventIn, Feature: "f1", User: "before", Handle: 1}); err != nil || !k {
		t.Fatalf("checkin on the full filesystem: kept %v, %v; want kept", k, err)
	}
	other := filepath.Join(t.TempDir(), "other.rl")
	if err := w.Switch(other); err != nil {
		t.Fatalf("lmswitchr away from the full filesystem: %v", err)
	}
	if n := w.Pending(); n != 0 {
		t.Errorf("%d records still wait after the switch", n)
	}
	w.Close()
	mustVerify(t, path, other)
	recs, err := ReadAll(path, other)
	if err != nil {
		t.Fatal(err)
	}
	outs, ins := map[uint64]int{}, map[uint64]int{}
	for _, r := range recs {
		switch r.Event {
		case EventOut:
			outs[r.Handle]++
		case EventIn:
			ins[r.Handle]++
		}
	}
	if len(outs) != out+3 {
		t.Errorf("%d OUT records, want %d", len(outs), out+3)
	}
	for h, n := range outs {
		if (h >= 100 || h == 1) && (n != 1 || ins[h] != 1) {
			t.Errorf("handle %d: %d OUT, %d IN", h, n, ins[h])
		}
	}
}
