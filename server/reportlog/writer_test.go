package reportlog

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// openTest opens a writer whose problems go to the test log; it is closed
// at cleanup unless the test closed it.
func openTest(t *testing.T, cfg Config) *Writer {
	t.Helper()
	if cfg.OnError == nil {
		cfg.OnError = func(err error) { t.Log(err) }
	}
	w, err := OpenWriter(cfg)
	if err != nil {
		t.Fatalf("OpenWriter(%+v): %v", cfg, err)
	}
	t.Cleanup(func() { w.Close() })
	return w
}

func appendN(t *testing.T, w *Writer, n int, user string) []Record {
	t.Helper()
	var out []Record
	for i := 0; i < n; i++ {
		rec, err := w.Append(Record{Event: EventOut, Feature: "f1", User: user, Count: 1, Handle: uint64(i + 1)})
		if err != nil {
			t.Fatalf("Append %d: %v", i, err)
		}
		out = append(out, rec)
	}
	return out
}

// logFiles returns the report log files in dir (not .torn fragments or
// the hidden state file).
func logFiles(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		if !strings.HasSuffix(e.Name(), ".torn") && !strings.HasPrefix(e.Name(), ".") {
			out = append(out, filepath.Join(dir, e.Name()))
		}
	}
	return out
}

func mustVerify(t *testing.T, files ...string) Summary {
	t.Helper()
	s, err := Verify(files...)
	if err != nil {
		t.Fatalf("Verify(%v): %v", files, err)
	}
	return s
}

func TestAppendAndVerify(t *testing.T) {
	for _, mode := range []SyncMode{SyncBatched, SyncGroup, SyncEach} {
		t.Run(fmt.Sprint("mode", mode), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "report.log")
			w := openTest(t, Config{Path: path, Vendor: "demo", Sync: mode})
			recs := appendN(t, w, 20, "alice")
			for i, r := range recs {
				if r.Seq != uint64(i+1) || r.Hash == "" || r.Time.IsZero() {
					t.Fatalf("record %d = seq %d hash %q time %v, want seq %d, a hash and a time", i, r.Seq, r.Hash, r.Time, i+1)
				}
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			s := mustVerify(t, path)
			if s.Records != 20 || s.First != 1 || s.Last != 20 {
				t.Errorf("Verify = %+v, want 20 records 1..20", s)
			}
			got, err := ReadAll(path)
			if err != nil {
				t.Fatal(err)
			}
			for i := range got {
				if got[i] != recs[i] {
					t.Errorf("record %d read back as %+v, want %+v", i, got[i], recs[i])
				}
			}
			fi, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			if m := fi.Mode().Perm(); m&^DefaultMode != 0 {
				t.Errorf("mode %v, want at most %v", m, DefaultMode)
			}
			if _, err := w.Append(Record{Event: EventOut}); !errors.Is(err, ErrClosed) {
				t.Errorf("Append after Close: %v, want ErrClosed", err)
			}
		})
	}
}

func TestVerifyNamesFirstBadRecord(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "report.log")
	w := openTest(t, Config{Path: path})
	appendN(t, w, 5, "alice")
	w.Close()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(data), "\n") // header, 5 records, ""
	tests := []struct {
		name   string
		edit   func([]string) []string
		line   int
		reason error
	}{
		{"altered user", func(l []string) []string {
			l[3] = strings.Replace(l[3], "user=alice", "user=mallory", 1)
			return l
		}, 4, ErrHash},
		{"deleted record", func(l []string) []string { return append(l[:2:2], l[3:]...) }, 3, ErrSeq},
		{"duplicated record", func(l []string) []string {
			return append(append(l[:3:3], l[2]), l[3:]...)
		}, 4, ErrSeq},
		{"torn last line", func(l []string) []string {
			l[5] = l[5][:20]
			return l
		}, 6, ErrTorn},
		{"garbage line", func(l []string) []string {
			l[2] = "hello\n"
			return l
		}, 3, ErrFormat},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bad := filepath.Join(t.TempDir(), "bad.log")
			cp := append([]string(nil), lines...)
			if err := os.WriteFile(bad, []byte(strings.Join(tt.edit(cp), "")), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := Verify(bad)
			var re *RecordError
			if !errors.As(err, &re) {
				t.Fatalf("Verify error = %v, want a *RecordError", err)
			}
			if re.Pos.Line != tt.line || re.Pos.File != bad || !errors.Is(err, tt.reason) {
				t.Errorf("Verify error = %v, want line %d with %v", err, tt.line, tt.reason)
			}
		})
	}
}

func TestRestartKeepsOldFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "report.log")
	w := openTest(t, Config{Path: path})
	appendN(t, w, 3, "a")
	w.Close()
	w = openTest(t, Config{Path: path}) // no '+'
	appendN(t, w, 2, "b")
	w.Close()
	if _, err := os.Stat(path + ".1"); err != nil {
		t.Fatalf("old file not kept beside the new one: %v", err)
	}
	if s := mustVerify(t, path, path+".1"); s.Records != 5 || s.Files != 2 {
		t.Errorf("Verify = %+v, want 5 records in 2 files", s)
	}
	if s := mustVerify(t, path); s.First != 4 || s.Last != 5 {
		t.Errorf("new file holds seq %d..%d, want 4..5", s.First, s.Last)
	}
	// A third start keeps the second file as .2.
	w = openTest(t, Config{Path: path})
	w.Close()
	if _, err := os.Stat(path + ".2"); err != nil {
		t.Errorf("second restart did not keep %s.2: %v", path, err)
	}
}

func TestRestartAppendContinuesChain(t *testing.T) {
	path := filepath.Join(t.TempDir(), "report.log")
	w := openTest(t, Config{Path: path, Append: true})
	appendN(t, w, 3, "a")
	w.Close()
	w = openTest(t, Config{Path: path, Append: true})
	if got := w.Next(); got != 4 {
		t.Errorf("Next after reopen = %d, want 4", got)
	}
	appendN(t, w, 3, "b")
	w.Close()
	if s := mustVerify(t, path); s.Records != 6 {
		t.Errorf("Verify = %+v, want 6 records in one file", s)
	}
}

func TestTornTailRecovered(t *testing.T) {
	path := filepath.Join(t.TempDir(), "report.log")
	w := openTest(t, Config{Path: path})
	appendN(t, w, 4, "a")
	w.Close()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("time=2026-11-23T13:09:06.000Z\tseq=5\tevent=OU")
	f.Close()
	if _, err := Verify(path); !errors.Is(err, ErrTorn) {
		t.Fatalf("Verify of a torn file: %v, want ErrTorn", err)
	}
	var reported []error
	w = openTest(t, Config{Path: path, Append: true, OnError: func(err error) { reported = append(reported, err) }})
	if len(reported) == 0 || !strings.Contains(reported[0].Error(), "cut off") {
		t.Errorf("torn tail reported as %v, want a cut-off report", reported)
	}
	appendN(t, w, 1, "b")
	w.Close()
	if s := mustVerify(t, path); s.Last != 5 {
		t.Errorf("Verify = %+v, want last seq 5 (chain continued from seq 4)", s)
	}
	torn, err := os.ReadFile(path + ".torn")
	if err != nil || !strings.HasSuffix(string(torn), "event=OU") {
		t.Errorf("torn fragment saved as %q, %v", torn, err)
	}
}

func TestBadTailStartsNewChain(t *testing.T) {
	path := filepath.Join(t.TempDir(), "report.log")
	w := openTest(t, Config{Path: path})
	appendN(t, w, 3, "a")
	w.Close()
	data, _ := os.ReadFile(path)
	os.WriteFile(path, []byte(strings.Replace(string(data), "user=a", "user=z", -1)), 0o600)
	var reported []error
	w = openTest(t, Config{Path: path, Append: true, OnError: func(err error) { reported = append(reported, err) }})
	if len(reported) == 0 || !errors.Is(reported[0], ErrTail) && !strings.Contains(reported[0].Error(), "does not verify") {
		t.Errorf("bad tail reported as %v", reported)
	}
	if _, err := os.Stat(path + ".1"); err != nil {
		t.Errorf("file with a bad tail not kept: %v", err)
	}
	appendN(t, w, 1, "b")
	w.Close()
	if s := mustVerify(t, path); s.First != 1 || s.Last != 1 {
		t.Errorf("new chain = %+v, want seq 1..1", s)
	}
}

func TestRefusesSpecialFiles(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "target")
	os.WriteFile(target, nil, 0o600)
	link := filepath.Join(dir, "link")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct{ name, path string }{
		{"symlink", link},
		{"directory", dir},
		{"fifo", fifo},
		{"device", "/dev/null"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := OpenWriter(Config{Path: tt.path})
			if !errors.Is(err, ErrNotRegular) {
				t.Errorf("OpenWriter(%s) error = %v, want ErrNotRegular", tt.path, err)
			}
			w := openTest(t, Config{Path: filepath.Join(t.TempDir(), "r.log")})
			if err := w.Switch(tt.path); !errors.Is(err, ErrNotRegular) {
				t.Errorf("Switch(%s) error = %v, want ErrNotRegular", tt.path, err)
			}
			if err := w.NewLog(tt.path); err == nil {
				t.Errorf("NewLog(%s) succeeded, want a refusal", tt.path)
			}
			appendN(t, w, 1, "still works")
		})
	}
	if data, _ := os.ReadFile(target); len(data) != 0 {
		t.Errorf("symlink target written through: %q", data)
	}
}

func TestSwitchAndNewLog(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "report.log")
	w := openTest(t, Config{Path: path, Vendor: "demo"})
	appendN(t, w, 2, "a")
	if err := w.Switch(filepath.Join(dir, "second.log")); err != nil {
		t.Fatal(err)
	}
	appendN(t, w, 2, "b")
	if err := w.NewLog(filepath.Join(dir, "second-old.log")); err != nil {
		t.Fatal(err)
	}
	if err := w.NewLog(filepath.Join(dir, "second-old.log")); !errors.Is(err, fs.ErrExist) {
		t.Errorf("NewLog onto an existing file: %v, want ErrExist", err)
	}
	appendN(t, w, 2, "c")
	w.Close()
	files := logFiles(t, dir)
	s := mustVerify(t, files...)
	// 6 records and 2 SWITCH records.
	if s.Records != 8 || s.Files != 3 {
		t.Errorf("Verify = %+v, want 8 records in 3 files", s)
	}
	r, err := Open(files...)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{path, filepath.Join(dir, "second-old.log"), filepath.Join(dir, "second.log")}
	if got := r.Files(); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("chain order %v, want %v", got, want)
	}
	r.Close()
	// Leaving a file out breaks the chain at the file after the gap.
	if _, err := Verify(path, filepath.Join(dir, "second.log")); !errors.Is(err, ErrChain) {
		t.Errorf("Verify without the middle file: %v, want ErrChain", err)
	}
}

// TestConcurrentRotation appends from many goroutines while Switch and
// NewLog rotate the log repeatedly; the set must verify and hold every
// acknowledged record exactly once.
func TestConcurrentRotation(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "report.log")
	w := openTest(t, Config{Path: path, Sync: SyncBatched, SyncDelay: time.Millisecond})
	const writers, each, rotations = 8, 200, 20
	var rotated atomic.Bool
	var wg sync.WaitGroup
	acked := make([][]uint64, writers)
	for g := 0; g < writers; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			// Each writer appends at least each records and keeps going
			// until every rotation is done, so all of them overlap.
			for i := 0; i < each || !rotated.Load(); i++ {
				rec, err := w.Append(Record{Event: EventOut, Feature: "f", User: fmt.Sprintf("u%d", g), Handle: uint64(g)<<32 | uint64(i)})
				if err != nil {
					t.Errorf("Append: %v", err)
					return
				}
				acked[g] = append(acked[g], rec.Handle)
			}
		}(g)
	}
	for n := 0; n < rotations; n++ {
		var err error
		if n%2 == 0 {
			err = w.Switch(filepath.Join(dir, fmt.Sprintf("sw%03d.log", n)))
		} else {
			err = w.NewLog(filepath.Join(dir, fmt.Sprintf("nl%03d.log", n)))
		}
		if err != nil {
			t.Errorf("rotation %d: %v", n, err)
		}
	}
	rotated.Store(true)
	wg.Wait()
	w.Close()
	total := 0
	for _, a := range acked {
		total += len(a)
	}
	files := logFiles(t, dir)
	s := mustVerify(t, files...)
	recs, err := ReadAll(files...)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[uint64]int{}
	outs := 0
	for _, r := range recs {
		if r.Event == EventOut {
			seen[r.Handle]++
			outs++
		}
	}
	if outs != total || s.Files != rotations+1 {
		t.Errorf("%d OUT records in %d files, want %d in %d", outs, s.Files, total, rotations+1)
	}
	for g := range acked {
		for _, h := range acked[g] {
			if seen[h] != 1 {
				t.Errorf("acknowledged handle %d appears %d times", h, seen[h])
			}
		}
	}
}

func TestDiskFullRetried(t *testing.T) {
	path := filepath.Join(t.TempDir(), "report.log")
	var reported []error
	w := openTest(t, Config{Path: path, RetryInterval: time.Millisecond, WriteTimeout: time.Hour,
		OnError: func(err error) { reported = append(reported, err) }})
	appendN(t, w, 1, "before")
	fails := 3
	w.writeAt = func(f *os.File, b []byte, off int64) (int, error) {
		if fails > 0 {
			fails--
			n, _ := f.WriteAt(b[:len(b)/2], off) // a partial line reaches the file
			return n, syscall.ENOSPC
		}
		return f.WriteAt(b, off)
	}
	rec, err := w.Append(Record{Event: EventOut, User: "during"})
	if err != nil || rec.Seq != 2 {
		t.Fatalf("Append while the disk fills and frees: seq %d, %v; want seq 2", rec.Seq, err)
	}
	w.Close()
	// The first failure is reported at once, the next two within the
	// same second are only counted, and the recovery says how many.
	if len(reported) != 2 || !errors.Is(reported[0], syscall.ENOSPC) || !strings.Contains(reported[1].Error(), "3 failed writes") {
		t.Errorf("reported %v, want one ENOSPC report and a recovery after 3 failed writes", reported)
	}
	if s := mustVerify(t, path); s.Records != 2 {
		t.Errorf("Verify = %+v, want 2 records", s)
	}
}

func TestDiskFullGivesUp(t *testing.T) {
	path := filepath.Join(t.TempDir(), "report.log")
	w := openTest(t, Config{Path: path, RetryInterval: time.Millisecond, WriteTimeout: 5 * time.Millisecond})
	appendN(t, w, 1, "before")
	failing := true
	w.writeAt = func(f *os.File, b []byte, off int64) (int, error) {
		if failing {
			return 0, syscall.ENOSPC
		}
		return f.WriteAt(b, off)
	}
	rec, err := w.Append(Record{Event: EventOut, User: "lost"})
	if !errors.Is(err, ErrNotLogged) || !errors.Is(err, syscall.ENOSPC) || rec.Seq != 0 {
		t.Fatalf("Append on a full disk: seq %d, %v; want ErrNotLogged wrapping ENOSPC and no seq", rec.Seq, err)
	}
	failing = false
	rec, err = w.Append(Record{Event: EventOut, User: "after"})
	if err != nil || rec.Seq != 2 {
		t.Fatalf("Append after space came back: seq %d, %v; want seq 2 (the refused record used no number)", rec.Seq, err)
	}
	w.Close()
	recs, err := ReadAll(path)
	if err != nil {
		t.Fatal(err)
	}
	var users []string
	for _, r := range recs {
		users = append(users, r.User)
	}
	if strings.Join(users, ",") != "before,after" {
		t.Errorf("users in the log: %v, want before,after", users)
	}
	mustVerify(t, path)
}

func TestNewLogKeepsOrderOfNames(t *testing.T) {
	// Files named in any order are read in chain order.
	dir := t.TempDir()
	path := filepath.Join(dir, "r")
	w := openTest(t, Config{Path: path})
	for i := 0; i < 4; i++ {
		appendN(t, w, 1, fmt.Sprint(i))
		if err := w.NewLog(filepath.Join(dir, fmt.Sprintf("z%d", 9-i))); err != nil {
			t.Fatal(err)
		}
	}
	w.Close()
	files := logFiles(t, dir)
	sort.Sort(sort.Reverse(sort.StringSlice(files)))
	recs, err := ReadAll(files...)
	if err != nil {
		t.Fatal(err)
	}
	var users []string
	for _, r := range recs {
		if r.Event == EventOut {
			users = append(users, r.User)
		}
	}
	if got := strings.Join(users, ""); got != "0123" {
		t.Errorf("records read in order %q, want 0123", got)
	}
}

func TestAppendRefusesUnknownEvent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "report.log")
	w := openTest(t, Config{Path: path})
	for _, e := range []Event{"", "out", "STEAL"} {
		if _, err := w.Append(Record{Event: e}); !errors.Is(err, ErrEvent) {
			t.Errorf("Append(event %q) error = %v, want ErrEvent", e, err)
		}
	}
	appendN(t, w, 1, "a")
	w.Close()
	if s := mustVerify(t, path); s.Records != 1 {
		t.Errorf("Verify = %+v, want the one good record", s)
	}
}

// TestOpenFile: OpenFile creates and appends to regular files and
// refuses symbolic links, directories and devices.
func TestOpenFile(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "target")
	if err := os.WriteFile(target, []byte("x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	flag := os.O_WRONLY | os.O_CREATE | os.O_APPEND
	for _, c := range []struct {
		name, path string
		regular    bool // want a refusal wrapping ErrNotRegular
		ok         bool
	}{
		{"new file", filepath.Join(dir, "new.log"), false, true},
		{"existing file", target, false, true},
		{"symbolic link", link, true, false},
		{"directory", dir, true, false},
		{"device", os.DevNull, true, false},
		{"missing directory", filepath.Join(dir, "no", "such.log"), false, false},
		{"empty", "", false, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			f, err := OpenFile(c.path, flag, 0)
			if f != nil {
				f.Close()
			}
			if (err == nil) != c.ok {
				t.Fatalf("OpenFile(%q) error = %v, want ok %v", c.path, err, c.ok)
			}
			if got := errors.Is(err, ErrNotRegular); got != c.regular {
				t.Errorf("OpenFile(%q) = %v; wraps ErrNotRegular %v, want %v", c.path, err, got, c.regular)
			}
		})
	}
	fi, err := os.Stat(filepath.Join(dir, "new.log"))
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode().Perm(); got&^DefaultMode != 0 {
		t.Errorf("created file mode %v, want at most %v", got, DefaultMode)
	}
}
