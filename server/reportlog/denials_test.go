package reportlog

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeClock is a clock tests move by hand.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func denial(feature, user string, code int) Record {
	return Record{Event: EventDeny, Feature: feature, Version: "1.0", User: user, Host: "ws1", Count: 1, Code: code, Detail: "minor=147"}
}

// usageOf returns the denials lmreport counts in files: by feature, and
// the total.
func usageOf(t *testing.T, files ...string) (map[string]int, int) {
	t.Helper()
	recs, err := ReadAll(files...)
	if err != nil {
		t.Fatal(err)
	}
	u := NewUsage(Filter{})
	for _, r := range recs {
		u.Add(r)
	}
	by, total := map[string]int{}, 0
	for _, f := range u.Result() {
		by[f.Feature] = f.DenialCount()
		total += f.DenialCount()
	}
	return by, total
}

// TestDenialFlood: 10,000 denials of one client, feature and reason make
// a bounded number of records: the first at once, then one summary per
// interval; lmreport counts all 10,000.
func TestDenialFlood(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.rl")
	clock := &fakeClock{t: time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)}
	w := openTest(t, Config{Path: path, Vendor: "demo", Now: clock.Now, DenialInterval: time.Second})
	const n = 10000
	written := 0
	for i := 0; i < n; i++ {
		ok, err := w.Deny(7, denial("f1", "mallory", -4))
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			written++
		}
		clock.Add(time.Millisecond) // 10,000 denials in 10 s
	}
	if written != 1 {
		t.Errorf("%d denials written at once, want the first only", written)
	}
	w.Close()
	s := mustVerify(t, path)
	// The first, one summary per second, and the last at Close.
	if s.Records < 2 || s.Records > 12 {
		t.Errorf("%d records for %d denials in 10 intervals, want 2-12", s.Records, n)
	}
	if by, total := usageOf(t, path); total != n || by["f1"] != n {
		t.Errorf("lmreport counts %d denials (%v), want %d", total, by, n)
	}
	if fi, _ := os.Stat(path); fi.Size() > 12*600 {
		t.Errorf("report log grew to %d bytes for one client in 10 s", fi.Size())
	}
}

// TestDenialKinds: denials are counted apart by client, feature,
// version and reason; a client denied more kinds than DenialKeys in an
// interval has the rest counted in one mixed summary; after a quiet
// interval a denial is written at once again.
func TestDenialKinds(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.rl")
	clock := &fakeClock{t: time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)}
	w := openTest(t, Config{Path: path, Vendor: "demo", Now: clock.Now, DenialInterval: time.Second, DenialKeys: 3})
	deny := func(client uint64, r Record) bool {
		t.Helper()
		ok, err := w.Deny(client, r)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	for _, c := range []struct {
		name   string
		client uint64
		rec    Record
		want   bool
	}{
		{"first", 1, denial("f1", "a", -4), true},
		{"repeat", 1, denial("f1", "a", -4), false},
		{"other client", 2, denial("f1", "b", -4), true},
		{"other feature", 1, denial("f2", "a", -4), true},
		{"other reason", 1, denial("f1", "a", -5), true},
		{"past DenialKeys", 1, denial("f3", "a", -4), true},
		{"counted as mixed", 1, denial("f4", "a", -4), false},
		{"mixed again", 1, denial("f1", "a", -25), false},
		{"known kind still its own", 1, denial("f2", "a", -4), false},
	} {
		if got := deny(c.client, c.rec); got != c.want {
			t.Errorf("%s: written %v, want %v", c.name, got, c.want)
		}
	}
	clock.Add(1500 * time.Millisecond)
	// The interval is over: this appends the summaries first.
	if _, err := w.Append(Record{Event: EventReread}); err != nil {
		t.Fatal(err)
	}
	clock.Add(1500 * time.Millisecond)
	w.Append(Record{Event: EventReread}) // a quiet interval ends the entries
	if !deny(1, denial("f1", "a", -4)) {
		t.Error("denial after a quiet interval was not written at once")
	}
	w.Close()
	recs, err := ReadAll(path)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range recs {
		got = append(got, fmt.Sprintf("%s %s %s %d %s", r.Event, r.Feature, r.User, r.Code, r.Detail))
	}
	want := []string{
		"DENY f1 a -4 minor=147",
		"DENY f1 b -4 minor=147",
		"DENY f2 a -4 minor=147",
		"DENY f1 a -5 minor=147",
		"DENY f3 a -4 minor=147",
		"DENY f1 a -4 minor=147,repeats=1",
		"DENY f2 a -4 minor=147,repeats=1",
		"DENY f3 a -4 minor=147,mixed=1,repeats=2",
		"REREAD   0 ",
		"REREAD   0 ",
		"DENY f1 a -4 minor=147",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("records:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if _, total := usageOf(t, path); total != 10 {
		t.Errorf("lmreport counts %d denials, want 10", total)
	}
}

// TestDenialSummaryPlacement: the summaries of an interval still open go
// into the file a rotation ends, before its SWITCH record, and before
// the record appended after FlushDenials (the vendor daemon's STOP).
func TestDenialSummaryPlacement(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "r.rl")
	w := openTest(t, Config{Path: path, Vendor: "demo", DenialInterval: time.Hour})
	for i := 0; i < 5; i++ {
		w.Deny(1, denial("f1", "a", -4))
	}
	if err := w.Switch(filepath.Join(dir, "s.rl")); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		w.Deny(1, denial("f1", "a", -4))
	}
	if err := w.FlushDenials(); err != nil {
		t.Fatal(err)
	}
	w.Append(Record{Event: EventStop})
	w.Close()
	files := []string{path, filepath.Join(dir, "s.rl")}
	mustVerify(t, files...)
	for _, c := range []struct {
		file string
		want []string
	}{
		{path, []string{"DENY minor=147", "DENY minor=147,repeats=4", "SWITCH to=" + files[1]}},
		{files[1], []string{"DENY minor=147", "DENY minor=147,repeats=2", "STOP "}},
	} {
		recs, err := ReadAll(c.file)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, r := range recs {
			got = append(got, string(r.Event)+" "+r.Detail)
		}
		if strings.Join(got, "|") != strings.Join(c.want, "|") {
			t.Errorf("%s: %q, want %q", c.file, got, c.want)
		}
	}
	if _, total := usageOf(t, files...); total != 8 {
		t.Errorf("lmreport counts %d denials, want 8", total)
	}
}

// TestDenialSummaryOnTime: a summary is written when its interval ends
// even if nothing else is appended.
func TestDenialSummaryOnTime(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.rl")
	w := openTest(t, Config{Path: path, Vendor: "demo", DenialInterval: 20 * time.Millisecond})
	for i := 0; i < 3; i++ {
		w.Deny(1, denial("f1", "a", -4))
	}
	end := time.Now().Add(10 * time.Second)
	for {
		recs, err := ReadAll(path)
		if err == nil && len(recs) == 2 && recs[1].Detail == "minor=147,repeats=2" {
			break
		}
		if time.Now().After(end) {
			t.Fatalf("no summary written after its interval: %v %v", recs, err)
		}
		time.Sleep(5 * time.Millisecond) // polling interval
	}
}

// TestDenialGrowthBounded: a client that asks for a new feature name
// every time, as fast as it can, adds a bounded number of bytes per
// interval.
func TestDenialGrowthBounded(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.rl")
	clock := &fakeClock{t: time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)}
	w := openTest(t, Config{Path: path, Vendor: "demo", Now: clock.Now})
	const seconds, perSecond = 60, 1000
	for i := 0; i < seconds*perSecond; i++ {
		w.Deny(1, denial(fmt.Sprintf("feature%06d", i), "mallory", -5))
		clock.Add(time.Second / perSecond)
	}
	w.Close()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if rate := fi.Size() / seconds; rate > 4096 {
		t.Errorf("report log grew %d bytes a second, want at most 4 KB", rate)
	}
	if _, total := usageOf(t, path); total != seconds*perSecond {
		t.Errorf("lmreport counts %d denials, want %d", total, seconds*perSecond)
	}
}
