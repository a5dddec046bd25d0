package server

import (
	"context"
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

	"golm/lmutil/protocol"
	"golm/lmutil/server/reportlog"
)

// records reads and verifies the report log set files and renders each
// record compactly: "OUT f1 alice h101", "IN f1 alice h101 normal",
// "DENY f1 carol -4".
func records(t *testing.T, files ...string) []string {
	t.Helper()
	if _, err := reportlog.Verify(files...); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	recs, err := reportlog.ReadAll(files...)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range recs {
		out = append(out, compact(r))
	}
	return out
}

func compact(r reportlog.Record) string {
	s := string(r.Event)
	if r.Feature != "" {
		s += " " + r.Feature + " " + r.User
	}
	switch r.Event {
	case reportlog.EventOut, reportlog.EventIn, reportlog.EventQueue, reportlog.EventDequeue:
		s += fmt.Sprintf(" h%d", r.Handle)
	case reportlog.EventDeny:
		s += fmt.Sprintf(" %d", r.Code)
	}
	if r.Reason != "" {
		s += " " + r.Reason
	}
	if r.Detail != "" && r.Event != reportlog.EventStart && r.Event != reportlog.EventSwitch && r.Event != reportlog.EventDeny {
		// total= of an OUT is the pool's count: TestReportLogTotal.
		var kept []string
		for _, kv := range strings.Split(r.Detail, ",") {
			if !strings.HasPrefix(kv, reportlog.DetailTotal+"=") {
				kept = append(kept, kv)
			}
		}
		if len(kept) > 0 {
			s += " " + strings.Join(kept, ",")
		}
	}
	return s
}

// waitRecords polls the report log until it holds n records.
func waitRecords(t *testing.T, n int, files ...string) []string {
	t.Helper()
	end := time.Now().Add(10 * time.Second)
	for {
		recs, err := reportlog.ReadAll(files...)
		if err == nil && len(recs) >= n {
			return records(t, files...)
		}
		if time.Now().After(end) {
			t.Fatalf("report log has %d records, want %d (%v)", len(recs), n, err)
		}
		time.Sleep(5 * time.Millisecond) // polling interval, not a wait for an event
	}
}

// TestReportLogEvents: one record per event, in order, each before the
// client hears its answer.
func TestReportLogEvents(t *testing.T) {
	t.Parallel() // a vendor daemon of its own, in this process
	h := newHarness(t, lic("FEATURE f1 demo 1.0 permanent 1"), "REPORTLOG +report.rl\n")
	path := filepath.Join(h.dir, "report.rl")
	alice := h.client("alice", "ws1", "/dev/pts/1")
	bob := h.client("bob", "ws2", "/dev/pts/2")
	carol := h.client("carol", "ws3", "/dev/pts/3")

	a1 := alice.want("f1", "1.0", 1, 0)
	carol.want("f1", "1.0", 1, -4)
	q, queued, _ := bob.queue("f1", "1.0", 1)
	if !queued {
		t.Fatal("bob's checkout was not queued")
	}
	if got := alice.checkin(a1); got != 0 {
		t.Fatalf("checkin: %d", got)
	}
	if granted, _ := bob.poll(q); !granted {
		t.Fatal("bob's queued checkout was not granted")
	}
	if n := h.v.State().Status()[0].InUse; n != 1 {
		t.Fatalf("in use %d, want 1", n)
	}
	r := h.v.State().Status()[0].Seats[0]
	remove := h.client("admin", "srv", "console")
	remove.call(&protocol.RemoveHandle{Feature: "f1", Handle: uint64(r.Handle)})
	q2, queued, _ := carol.queue("f1", "1.0", 1)
	if queued {
		t.Fatal("carol's checkout was queued with a free seat")
	}
	dan := h.client("dan", "ws4", "/dev/pts/4")
	q3, queued, _ := dan.queue("f1", "1.0", 1)
	if !queued {
		t.Fatal("dan's checkout was not queued")
	}
	if got := dan.checkin(q3); got != 0 {
		t.Fatalf("checkin of a queued request: %d", got)
	}
	if err := h.v.Reread(); err != nil {
		t.Fatal(err)
	}
	carol.c.Close()
	waitRecords(t, 12, path)
	if err := h.v.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := records(t, path)
	want := []string{
		"START",
		fmt.Sprintf("OUT f1 alice h%d", a1),
		"DENY f1 carol -4",
		fmt.Sprintf("QUEUE f1 bob h%d", q),
		fmt.Sprintf("IN f1 alice h%d normal", a1),
		fmt.Sprintf("OUT f1 bob h%d queued", q),
		fmt.Sprintf("IN f1 bob h%d lmremove", q),
		fmt.Sprintf("OUT f1 carol h%d", q2),
		fmt.Sprintf("QUEUE f1 dan h%d", q3),
		fmt.Sprintf("DEQUEUE f1 dan h%d normal", q3),
		"REREAD",
		fmt.Sprintf("IN f1 carol h%d exit", q2),
		"STOP",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("records:\n%q\nwant:\n%q", got, want)
	}
}

// TestReportLogShutdownAndLinger: seats out at shutdown are checked in
// for "shutdown", a lingering seat is IN when its linger begins.
func TestReportLogShutdownAndLinger(t *testing.T) {
	t.Parallel() // a vendor daemon of its own, in this process
	h := newHarness(t, lic("FEATURE f1 demo 1.0 permanent 2", "FEATURE f2 demo 1.0 permanent 1"),
		"REPORTLOG report.rl\nLINGER f2 60\n")
	path := filepath.Join(h.dir, "report.rl")
	c := h.client("alice", "ws1", "/dev/pts/1")
	h1 := c.want("f1", "1.0", 1, 0)
	h2 := c.want("f2", "1.0", 1, 0)
	c.checkin(h2)
	h.clock.Add(2 * time.Minute) // the linger ends: no second IN
	waitTick(t, h)
	h.v.Shutdown(context.Background())
	got := records(t, path)
	want := []string{
		"START",
		fmt.Sprintf("OUT f1 alice h%d", h1),
		fmt.Sprintf("OUT f2 alice h%d", h2),
		fmt.Sprintf("IN f2 alice h%d normal linger=60", h2),
		fmt.Sprintf("IN f1 alice h%d shutdown", h1),
		"STOP",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("records:\n%q\nwant:\n%q", got, want)
	}
}

// waitTick waits until the lingering seats are gone.
func waitTick(t *testing.T, h *harness) {
	t.Helper()
	end := time.Now().Add(10 * time.Second)
	for {
		n := 0
		for _, ps := range h.v.State().Status() {
			n += len(ps.Seats)
		}
		if n <= 1 {
			return
		}
		if time.Now().After(end) {
			t.Fatal("linger did not end")
		}
		time.Sleep(5 * time.Millisecond) // polling interval
	}
}

// TestReportLogNotWritable: a REPORTLOG that cannot be opened refuses
// every grant with -23 and leaves no seat out, until lmswitchr gives the
// log a file.
func TestReportLogNotWritable(t *testing.T) {
	t.Parallel() // a vendor daemon of its own, in this process
	h := newHarness(t, lic("FEATURE f1 demo 1.0 permanent 2"), "REPORTLOG +no/such/dir/report.rl\n")
	c := h.client("alice", "ws1", "/dev/pts/1")
	c.want("f1", "1.0", 1, -23)
	if _, queued, code := c.queue("f1", "1.0", 1); queued || code != -23 {
		t.Errorf("queued checkout: queued %v code %d, want -23", queued, code)
	}
	if n := h.v.State().Status()[0].InUse; n != 0 {
		t.Errorf("%d seats out after refused grants, want 0", n)
	}
	h.wantLog("Cannot open report log", "REPORTLOG: OUT \"f1\" alice@ws1")
	admin := h.client("admin", "srv", "console")
	m, err := admin.c.Call(&protocol.SwitchReportLog{Path: "good.rl"})
	if err != nil {
		t.Fatalf("lmswitchr: %v", err)
	}
	want := filepath.Join(h.dir, "good.rl")
	if got := m.(*protocol.LogSwitched).Path; got != want {
		t.Errorf("lmswitchr answered %s, want %s", got, want)
	}
	hd := c.want("f1", "1.0", 1, 0)
	if got := records(t, want); len(got) != 1 || got[0] != fmt.Sprintf("OUT f1 alice h%d", hd) {
		t.Errorf("records %q, want the checkout", got)
	}
}

// TestLogSwitchRefused: lmswitchr, lmnewlog and lmswitch refuse paths
// that are not regular files or cannot be created, with -42, and the log
// goes on where it was.
func TestLogSwitchRefused(t *testing.T) {
	t.Parallel() // a vendor daemon of its own, in this process
	h := newHarness(t, lic("FEATURE f1 demo 1.0 permanent 2"), "REPORTLOG +report.rl\n")
	if err := os.WriteFile(filepath.Join(h.dir, "target"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(h.dir, "target"), filepath.Join(h.dir, "link")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(h.dir, "exists.rl"), []byte("x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(h.dir, "dir"), 0o755); err != nil {
		t.Fatal(err)
	}
	// Far enough up to reach / from any temporary directory, then into
	// /proc, where nobody (root included) can create a file.
	up := strings.Repeat("../", 40) + "proc/golm-test.rl"
	admin := h.client("admin", "srv", "console")
	tests := []struct {
		name string
		req  protocol.Message
		text string // part of the error text
	}{
		{"lmswitchr symlink", &protocol.SwitchReportLog{Path: "link"}, "symbolic link"},
		{"lmswitchr device", &protocol.SwitchReportLog{Path: os.DevNull}, "device"},
		{"lmswitchr directory", &protocol.SwitchReportLog{Path: "dir"}, "directory"},
		{"lmswitchr dotdot", &protocol.SwitchReportLog{Path: up}, "/proc/golm-test.rl"},
		{"lmswitchr empty", &protocol.SwitchReportLog{Path: ""}, "empty path"},
		{"lmswitchr current", &protocol.SwitchReportLog{Path: "report.rl"}, "current report log"},
		{"lmnewlog symlink", &protocol.NewReportLog{Path: "link"}, "symbolic link"},
		{"lmnewlog device", &protocol.NewReportLog{Path: os.DevNull}, "device"},
		{"lmnewlog exists", &protocol.NewReportLog{Path: "exists.rl"}, "exists"},
		{"lmnewlog dotdot", &protocol.NewReportLog{Path: up}, "/proc/golm-test.rl"},
		{"lmswitch symlink", &protocol.SwitchDebugLog{Path: "link"}, "symbolic link"},
		{"lmswitch device", &protocol.SwitchDebugLog{Path: os.DevNull}, "device"},
		{"lmswitch directory", &protocol.SwitchDebugLog{Path: "dir"}, "directory"},
		{"lmswitch dotdot", &protocol.SwitchDebugLog{Path: up}, "/proc/golm-test.rl"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := admin.c.Call(tt.req)
			pe, ok := err.(*protocol.PeerError)
			if !ok {
				t.Fatalf("answer: %v, want a -42 refusal", err)
			}
			if pe.Msg.Code != -42 || !strings.Contains(pe.Msg.Text, tt.text) || !strings.HasPrefix(pe.Msg.Text, "Cannot switch the ") {
				t.Errorf("refusal %d %q, want -42 naming %q", pe.Msg.Code, pe.Msg.Text, tt.text)
			}
		})
	}
	if fi, err := os.Lstat(filepath.Join(h.dir, "link")); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("the symbolic link was replaced: %v", err)
	}
	c := h.client("alice", "ws1", "/dev/pts/1")
	hd := c.want("f1", "1.0", 1, 0)
	got := records(t, filepath.Join(h.dir, "report.rl"))
	if last := got[len(got)-1]; last != fmt.Sprintf("OUT f1 alice h%d", hd) {
		t.Errorf("last record %q, want the checkout after the refusals", last)
	}
}

// TestLmnewlogWithoutReportLog: lmnewlog needs a report log to rename.
func TestLmnewlogWithoutReportLog(t *testing.T) {
	t.Parallel() // a vendor daemon of its own, in this process
	h := newHarness(t, lic("FEATURE f1 demo 1.0 permanent 2"), "")
	admin := h.client("admin", "srv", "console")
	_, err := admin.c.Call(&protocol.NewReportLog{Path: "x.rl"})
	pe, ok := err.(*protocol.PeerError)
	if !ok || pe.Msg.Code != -42 || !strings.Contains(pe.Msg.Text, "has none") {
		t.Fatalf("lmnewlog without a report log: %v, want -42 saying it has none", err)
	}
	if _, err := os.Stat(filepath.Join(h.dir, "x.rl")); err == nil {
		t.Error("lmnewlog created a file")
	}
}

// TestDebugLogSwitch: DEBUGLOG moves the vendor daemon's lines to its
// file, lmswitch moves them again.
func TestDebugLogSwitch(t *testing.T) {
	t.Parallel() // a vendor daemon of its own, in this process
	h := newHarness(t, lic("FEATURE f1 demo 1.0 permanent 2"), "DEBUGLOG +demo.dl\n")
	first := filepath.Join(h.dir, "demo.dl")
	h.wantLog("Debug log for demo continues in " + first)
	c := h.client("alice", "ws1", "/dev/pts/1")
	c.want("f1", "1.0", 1, 0)
	b, err := os.ReadFile(first)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "Server started on srv") || !strings.Contains(string(b), `OUT: "f1" alice@ws1`) {
		t.Errorf("DEBUGLOG file:\n%s\nwant the start and the checkout", b)
	}
	if strings.Contains(h.log.String(), "OUT:") {
		t.Errorf("the checkout went to the old log too:\n%s", h.log.String())
	}
	admin := h.client("admin", "srv", "console")
	m, err := admin.c.Call(&protocol.SwitchDebugLog{Path: "sub.dl"})
	if err != nil {
		t.Fatal(err)
	}
	second := filepath.Join(h.dir, "sub.dl")
	if got := m.(*protocol.LogSwitched); got.Path != second || got.Vendor != "demo" {
		t.Errorf("lmswitch answered %+v, want demo and %s", got, second)
	}
	c.want("f1", "1.0", 1, 0)
	b1, _ := os.ReadFile(first)
	b2, _ := os.ReadFile(second)
	if !strings.Contains(string(b1), "Switching debug log to "+second) || strings.Count(string(b1), "OUT:") != 1 {
		t.Errorf("old debug log:\n%s", b1)
	}
	if !strings.Contains(string(b2), "TIMESTAMP") || strings.Count(string(b2), "OUT:") != 1 {
		t.Errorf("new debug log:\n%s", b2)
	}
	fi, err := os.Stat(second)
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm&^DebugLogMode != 0 {
		t.Errorf("new debug log mode %v, want at most %v", perm, DebugLogMode)
	}
}

// TestReportLogRotationUnderLoad: checkouts and checkins from many
// clients while lmswitchr and lmnewlog rotate the log: the set verifies,
// and every checkout has exactly one checkin.
func TestReportLogRotationUnderLoad(t *testing.T) {
	t.Parallel() // a vendor daemon of its own, in this process
	h := newHarness(t, lic("FEATURE f1 demo 1.0 permanent 8"), "REPORTLOG +report.rl\n")
	const clients, rounds = 8, 60
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for i := range clients {
		c := h.client(fmt.Sprintf("u%d", i), "ws", "d")
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range rounds {
				m, err := c.c.Call(&protocol.Checkout{Feature: "f1", Version: "1.0", Count: 1})
				if err != nil {
					t.Error(err)
					return
				}
				if _, err := c.c.Call(&protocol.Checkin{Handle: m.(*protocol.Granted).Handle}); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	admin := h.client("admin", "srv", "console")
	go func() { wg.Wait(); close(stop) }()
	for i := 0; ; i++ {
		select {
		case <-stop:
		default:
			var req protocol.Message = &protocol.SwitchReportLog{Path: fmt.Sprintf("switched-%d.rl", i)}
			if i%2 == 1 {
				req = &protocol.NewReportLog{Path: fmt.Sprintf("renamed-%d.rl", i)}
			}
			if _, err := admin.c.Call(req); err != nil {
				t.Fatal(err)
			}
			continue
		}
		break
	}
	h.v.Shutdown(context.Background())
	// Rotation renames and creates files but never drops one: the
	// report logs in the directory are the whole set.
	files, err := filepath.Glob(filepath.Join(h.dir, "*.rl"))
	if err != nil {
		t.Fatal(err)
	}
	recs, err := reportlog.ReadAll(files...)
	if err != nil {
		t.Fatal(err)
	}
	records(t, files...) // verifies
	out, in := map[uint64]int{}, map[uint64]int{}
	for _, r := range recs {
		switch r.Event {
		case reportlog.EventOut:
			out[r.Handle]++
		case reportlog.EventIn:
			in[r.Handle]++
		}
	}
	if len(out) != clients*rounds {
		t.Errorf("%d checkouts in the log, want %d", len(out), clients*rounds)
	}
	for hd, n := range out {
		if n != 1 || in[hd] != 1 {
			t.Errorf("handle %d: %d OUT and %d IN records, want 1 and 1", hd, n, in[hd])
		}
	}
	t.Logf("%d files, %d records", len(files), len(recs))
}

// failingDisk makes report log writes fail while full is set, as a full
// disk does; with one set, only writes to that file fail (a full
// filesystem the log is switched away from).
type failingDisk struct {
	full atomic.Bool
	mu   sync.Mutex
	one  os.FileInfo
}

func (d *failingDisk) writeAt(f *os.File, b []byte, off int64) (int, error) {
	if d.full.Load() {
		d.mu.Lock()
		one := d.one
		d.mu.Unlock()
		fi, err := f.Stat()
		if one == nil || err == nil && os.SameFile(fi, one) {
			return 0, syscall.ENOSPC
		}
	}
	return f.WriteAt(b, off)
}

// fillFile makes writes to path (the file there now) fail.
func (d *failingDisk) fillFile(t *testing.T, path string) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	d.mu.Lock()
	d.one = fi
	d.mu.Unlock()
	d.full.Store(true)
}

func diskFullHarness(t *testing.T, disk *failingDisk, license string, tweak ...func(*reportlog.Config)) *harness {
	return newHarness(t, license, "REPORTLOG +report.rl\n", func(c *VendorConfig) {
		c.ReportLog = func(rc *reportlog.Config) {
			rc.WriteAt = disk.writeAt
			rc.WriteTimeout = 20 * time.Millisecond
			rc.RetryInterval = time.Millisecond
			for _, f := range tweak {
				f(rc)
			}
		}
	})
}

// TestReportLogDiskFull: while the report log cannot be written, a
// checkout is denied with -23 and no seat stays out, a queued request
// granted by a checkin is revoked; a checkin is kept and written, with
// its own time, once writes succeed again, before anything after it;
// then checkouts are granted, and the log verifies and holds no OUT for
// a refused grant.
func TestReportLogDiskFull(t *testing.T) {
	t.Parallel() // a vendor daemon of its own, in this process
	disk := &failingDisk{}
	h := diskFullHarness(t, disk, lic("FEATURE f1 demo 1.0 permanent 1"))
	path := filepath.Join(h.dir, "report.rl")
	alice := h.client("alice", "ws1", "/dev/pts/1")
	bob := h.client("bob", "ws2", "/dev/pts/2")
	a1 := alice.want("f1", "1.0", 1, 0)
	q, queued, _ := bob.queue("f1", "1.0", 1)
	if !queued {
		t.Fatal("bob's checkout was not queued")
	}

	disk.full.Store(true)
	h.clock.Add(time.Minute)
	checkinAt := h.clock.Now()
	// alice's checkin cannot be logged yet: it is still a checkin (the
	// seat is back), but bob's grant from the queue is revoked.
	if got := alice.checkin(a1); got != 0 {
		t.Fatalf("checkin while the disk is full: %d", got)
	}
	if granted, code := bob.poll(q); granted || code != -41 {
		t.Errorf("bob's poll: granted %v, code %d; want the grant revoked (-41)", granted, code)
	}
	carol := h.client("carol", "ws3", "/dev/pts/3")
	carol.want("f1", "1.0", 1, -23)
	if n := h.v.State().Status()[0].InUse; n != 0 {
		t.Errorf("%d seats out while nothing can be logged, want 0", n)
	}
	h.wantLog("records are kept until it can", `REPORTLOG: OUT "f1" carol@ws3`)

	h.clock.Add(time.Minute)
	disk.full.Store(false)
	c1 := carol.want("f1", "1.0", 1, 0)
	got := records(t, path)
	want := []string{
		"START",
		fmt.Sprintf("OUT f1 alice h%d", a1),
		fmt.Sprintf("QUEUE f1 bob h%d", q),
		fmt.Sprintf("IN f1 alice h%d normal", a1),
		fmt.Sprintf("OUT f1 carol h%d", c1),
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("records:\n%q\nwant:\n%q", got, want)
	}
	recs, _ := reportlog.ReadAll(path)
	if len(recs) == len(want) && !recs[3].Time.Equal(checkinAt) {
		t.Errorf("kept IN record's time %v, want the checkin's %v", recs[3].Time, checkinAt)
	}
	h.wantLog("the 1 records kept while it could not be written are written")
}

// TestReportLogBacklogWrittenByTimer: checkins kept while the disk is
// full are written when space comes back although no record follows.
func TestReportLogBacklogWrittenByTimer(t *testing.T) {
	t.Parallel() // a vendor daemon of its own, in this process
	disk := &failingDisk{}
	h := diskFullHarness(t, disk, lic("FEATURE f1 demo 1.0 permanent 4"))
	path := filepath.Join(h.dir, "report.rl")
	alice := h.client("alice", "ws1", "/dev/pts/1")
	var hs []uint64
	for range 3 {
		hs = append(hs, alice.want("f1", "1.0", 1, 0))
	}
	disk.full.Store(true)
	for _, hd := range hs {
		if got := alice.checkin(hd); got != 0 {
			t.Fatalf("checkin: %d", got)
		}
	}
	disk.full.Store(false)
	got := waitRecords(t, 7, path)
	for i, hd := range hs {
		if want := fmt.Sprintf("IN f1 alice h%d normal", hd); got[4+i] != want {
			t.Errorf("record %d = %q, want %q", 4+i, got[4+i], want)
		}
	}
}

// TestReportLogBacklogBound: at the backlog's bound checkouts are
// refused with -23 and the debug log says why; checkins are still kept
// past it (none is dropped) and all are written once the disk has room.
func TestReportLogBacklogBound(t *testing.T) {
	t.Parallel() // a vendor daemon of its own, in this process
	disk := &failingDisk{}
	h := diskFullHarness(t, disk, lic("FEATURE f1 demo 1.0 permanent 5"), func(rc *reportlog.Config) {
		rc.MaxPending = 2
		rc.RetryInterval = time.Hour // only the next record writes the backlog
	})
	path := filepath.Join(h.dir, "report.rl")
	alice := h.client("alice", "ws1", "/dev/pts/1")
	var hs []uint64
	for range 4 {
		hs = append(hs, alice.want("f1", "1.0", 1, 0))
	}
	disk.full.Store(true)
	for _, hd := range hs[:3] {
		if got := alice.checkin(hd); got != 0 {
			t.Fatalf("checkin: %d", got)
		}
	}
	h.wantLog("2 records wait", "checkouts are refused until they are")
	alice.want("f1", "1.0", 1, -23)
	disk.full.Store(false)
	// The next checkout writes the backlog first, then its own record.
	last := alice.want("f1", "1.0", 1, 0)
	got := records(t, path)
	var ins int
	for _, r := range got {
		if strings.HasPrefix(r, "IN ") {
			ins++
		}
	}
	if ins != 3 || got[len(got)-1] != fmt.Sprintf("OUT f1 alice h%d", last) {
		t.Errorf("records %q: want the 3 kept checkins, then the new checkout", got)
	}
}

// TestReportLogSwitchWhileFull: lmswitchr to another filesystem while
// the current one is full: the SWITCH record, naming the file it came
// from, is the new file's first record, the kept checkins follow it,
// the set verifies, and checkouts go on in the new file.
func TestReportLogSwitchWhileFull(t *testing.T) {
	t.Parallel() // a vendor daemon of its own, in this process
	for _, newLog := range []bool{false, true} {
		name := "lmswitchr"
		if newLog {
			name = "lmnewlog"
		}
		t.Run(name, func(t *testing.T) {
			disk := &failingDisk{}
			h := diskFullHarness(t, disk, lic("FEATURE f1 demo 1.0 permanent 4"))
			path := filepath.Join(h.dir, "report.rl")
			alice := h.client("alice", "ws1", "/dev/pts/1")
			a1 := alice.want("f1", "1.0", 1, 0)
			a2 := alice.want("f1", "1.0", 1, 0)
			disk.fillFile(t, path)
			alice.checkin(a1)
			alice.want("f1", "1.0", 1, -23)
			admin := h.client("admin", "srv", "console")
			var req protocol.Message = &protocol.SwitchReportLog{Path: "other.rl"}
			if newLog {
				req = &protocol.NewReportLog{Path: "old.rl"}
			}
			if _, err := admin.c.Call(req); err != nil {
				t.Fatalf("%s while the disk is full: %v", name, err)
			}
			a3 := alice.want("f1", "1.0", 1, 0)
			alice.checkin(a2)
			h.v.Shutdown(context.Background())
			oldFile, newFile := path, filepath.Join(h.dir, "other.rl")
			if newLog {
				oldFile, newFile = filepath.Join(h.dir, "old.rl"), path
			}
			got := records(t, newFile, oldFile)
			want := []string{
				"START",
				fmt.Sprintf("OUT f1 alice h%d", a1),
				fmt.Sprintf("OUT f1 alice h%d", a2),
				"SWITCH " + name,
				fmt.Sprintf("IN f1 alice h%d normal", a1),
				fmt.Sprintf("OUT f1 alice h%d", a3),
				fmt.Sprintf("IN f1 alice h%d normal", a2),
				fmt.Sprintf("IN f1 alice h%d shutdown", a3),
				"STOP",
			}
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("records:\n%q\nwant:\n%q", got, want)
			}
			recs, err := reportlog.ReadAll(newFile)
			if err != nil {
				t.Fatal(err)
			}
			if sw := recs[0]; sw.Event != reportlog.EventSwitch || !strings.Contains(sw.Detail, "from="+oldFile) {
				t.Errorf("first record of %s: %s %q, want the SWITCH naming %s", newFile, sw.Event, sw.Detail, oldFile)
			}
		})
	}
}

// TestLogSwitchTrust: the log switches are admin requests: under -2 -p
// they are refused over TCP with -63, and the log stays.
func TestLogSwitchTrust(t *testing.T) {
	t.Parallel() // a vendor daemon of its own, in this process
	h := newHarness(t, lic("FEATURE f1 demo 1.0 permanent 1"), "REPORTLOG +report.rl\n", func(c *VendorConfig) {
		// An lmadmin group the test's user is not in.
		c.Trust = Trust{AdminOnly: true, lookupGroup: func(string) (string, bool) { return "999999", true }, userGroups: func(uint32) []string { return nil }}
	})
	c := h.client("mallory", "ws9", "/dev/pts/9")
	for _, req := range []protocol.Message{
		&protocol.SwitchReportLog{Path: "x.rl"},
		&protocol.NewReportLog{Path: "y.rl"},
		&protocol.SwitchDebugLog{Path: "z.dl"},
	} {
		t.Run(req.Type().String(), func(t *testing.T) {
			_, err := c.c.Call(req)
			pe, ok := err.(*protocol.PeerError)
			if !ok || pe.Msg.Code != -63 {
				t.Fatalf("%s over TCP under -2 -p: %v, want -63", req.Type(), err)
			}
		})
	}
	for _, f := range []string{"x.rl", "y.rl", "z.dl"} {
		if _, err := os.Lstat(filepath.Join(h.dir, f)); err == nil {
			t.Errorf("%s was created by a refused request", f)
		}
	}
	h.wantLog("SWITCH_REPORT_LOG request (lmswitchr) from mallory at node ws9")
}

// TestReportLogAddedByReread: a REPORTLOG added to the options file
// starts the report log at the next lmreread, with its REREAD record.
func TestReportLogAddedByReread(t *testing.T) {
	t.Parallel() // a vendor daemon of its own, in this process
	h := newHarness(t, lic("FEATURE f1 demo 1.0 permanent 1"), "NOLOG QUEUED\n")
	c := h.client("alice", "ws1", "/dev/pts/1")
	c.want("f1", "1.0", 1, 0) // before the report log: not recorded
	if err := os.WriteFile(filepath.Join(h.dir, "demo.opt"), []byte("REPORTLOG +later.rl\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := h.v.Reread(); err != nil {
		t.Fatal(err)
	}
	c.want("f1", "1.0", 1, -4)
	got := records(t, filepath.Join(h.dir, "later.rl"))
	want := []string{"REREAD", "DENY f1 alice -4"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("records:\n%q\nwant:\n%q", got, want)
	}
}

// TestReportLogTotal: an OUT record says how many seats its pool has
// (total=N), after the queued mark of a grant from the queue.
func TestReportLogTotal(t *testing.T) {
	t.Parallel() // a vendor daemon of its own, in this process
	h := newHarness(t, lic("FEATURE f1 demo 1.0 permanent 1"), "REPORTLOG +report.rl\n")
	alice := h.client("alice", "ws1", "/dev/pts/1")
	bob := h.client("bob", "ws2", "/dev/pts/2")
	a1 := alice.want("f1", "1.0", 1, 0)
	q, queued, _ := bob.queue("f1", "1.0", 1)
	if !queued {
		t.Fatal("bob's checkout was not queued")
	}
	alice.checkin(a1)
	if granted, code := bob.poll(q); !granted {
		t.Fatalf("bob's poll: %d", code)
	}
	recs, err := reportlog.ReadAll(filepath.Join(h.dir, "report.rl"))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range recs {
		if r.Event == reportlog.EventOut {
			got = append(got, r.User+":"+r.Detail)
		}
	}
	if want := "alice:total=1 bob:queued,total=1"; strings.Join(got, " ") != want {
		t.Errorf("OUT details %q, want %s", got, want)
	}
}

// TestReportLogDiskFullUnderLoad: clients check out and in throughout
// while the disk fills and empties again and lmswitchr and lmnewlog
// rotate the log, some of them while it is full. Checkouts are granted
// or refused with -23, checkins always succeed; afterwards every
// granted checkout has one OUT and one IN record, none for a refused
// one, and the set verifies.
func TestReportLogDiskFullUnderLoad(t *testing.T) {
	t.Parallel() // a vendor daemon of its own, in this process
	disk := &failingDisk{}
	h := diskFullHarness(t, disk, lic("FEATURE f1 demo 1.0 permanent 8"))
	const clients, rounds = 6, 150
	var wg sync.WaitGroup
	var mu sync.Mutex
	granted := map[uint64]bool{}
	var refused atomic.Int32
	var done atomic.Int32
	for i := range clients {
		c := h.client(fmt.Sprintf("u%d", i), "ws", "d")
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range rounds {
				m, err := c.c.Call(&protocol.Checkout{Feature: "f1", Version: "1.0", Count: 1})
				var pe *protocol.PeerError
				switch {
				case errors.As(err, &pe) && pe.Msg.Code == -23:
					refused.Add(1)
					done.Add(1)
					continue
				case err != nil:
					t.Error(err)
					return
				}
				hd := m.(*protocol.Granted).Handle
				mu.Lock()
				granted[hd] = true
				mu.Unlock()
				if _, err := c.c.Call(&protocol.Checkin{Handle: hd}); err != nil {
					t.Errorf("checkin of %d: %v", hd, err)
					return
				}
				done.Add(1)
			}
		}()
	}
	admin := h.client("admin", "srv", "console")
	stop := make(chan struct{})
	go func() { wg.Wait(); close(stop) }()
	rotations, current := 0, filepath.Join(h.dir, "report.rl")
loop:
	for i := 0; ; i++ {
		select {
		case <-stop:
			break loop
		default:
		}
		// Full for a while, the whole disk or only the current file's,
		// with a rotation in the middle; then free.
		if i%3 == 0 {
			disk.mu.Lock()
			disk.one = nil
			disk.mu.Unlock()
			disk.full.Store(true)
		} else {
			disk.fillFile(t, current)
		}
		for n := done.Load(); done.Load() < n+20; {
			select {
			case <-stop:
				break loop
			default:
				time.Sleep(time.Millisecond) // polling interval
			}
		}
		next := filepath.Join(h.dir, fmt.Sprintf("switched-%d.rl", i))
		var req protocol.Message = &protocol.SwitchReportLog{Path: next}
		if i%2 == 1 {
			next = current
			req = &protocol.NewReportLog{Path: fmt.Sprintf("renamed-%d.rl", i)}
		}
		_, err := admin.c.Call(req)
		switch {
		case err == nil && i%3 == 0:
			t.Errorf("rotation %d with every file full succeeded", i)
		case err == nil:
			rotations++
			current = next
		case i%3 != 0:
			t.Errorf("rotation %d away from the full file: %v", i, err)
		}
		disk.full.Store(false)
		for n := done.Load(); done.Load() < n+20; {
			select {
			case <-stop:
				break loop
			default:
				time.Sleep(time.Millisecond) // polling interval
			}
		}
	}
	disk.full.Store(false)
	h.v.Shutdown(context.Background())
	files, err := filepath.Glob(filepath.Join(h.dir, "*.rl"))
	if err != nil {
		t.Fatal(err)
	}
	records(t, files...) // verifies
	recs, err := reportlog.ReadAll(files...)
	if err != nil {
		t.Fatal(err)
	}
	out, in := map[uint64]int{}, map[uint64]int{}
	for _, r := range recs {
		switch r.Event {
		case reportlog.EventOut:
			out[r.Handle]++
		case reportlog.EventIn:
			in[r.Handle]++
		}
	}
	for hd := range granted {
		if out[hd] != 1 || in[hd] != 1 {
			t.Errorf("handle %d: %d OUT and %d IN records, want 1 and 1", hd, out[hd], in[hd])
		}
	}
	if len(out) != len(granted) || len(in) != len(granted) {
		t.Errorf("%d OUT and %d IN records, %d granted", len(out), len(in), len(granted))
	}
	if refused.Load() == 0 {
		t.Error("no checkout was refused while the disk was full")
	}
	t.Logf("%d granted, %d refused, %d rotations, %d files, %d records", len(granted), refused.Load(), rotations, len(files), len(recs))
}

// TestReportLogReadoptedLinger: a job whose connection broke while its
// seat lingered adopts the seat again on reconnect; the seat is in use
// again, so the report log has an OUT for it between the IN that began
// the linger and the IN of its checkin (not IN, IN).
func TestReportLogReadoptedLinger(t *testing.T) {
	t.Parallel() // a vendor daemon of its own, in this process
	h := newHarness(t, lic("FEATURE f1 demo 1.0 permanent 2"), "REPORTLOG report.rl\nLINGER f1 600\n")
	path := filepath.Join(h.dir, "report.rl")
	c := h.client("alice", "ws1", "/dev/pts/1")
	hd := c.want("f1", "1.0", 1, 0)
	c.checkin(hd) // it lingers: IN with linger=600
	c.c.Close()
	again := h.client("alice", "ws1", "/dev/pts/1")
	m, err := again.c.Call(&protocol.Checkout{Feature: "f1", Version: "1.0", Count: 1, PrevHandle: hd, PrevRun: h.v.runID})
	if err != nil {
		t.Fatalf("reconnect checkout: %v", err)
	}
	if g := m.(*protocol.Granted); g.Handle != hd {
		t.Fatalf("reconnect got handle %d, want the lingering seat %d", g.Handle, hd)
	}
	again.call(&protocol.Linger{Seconds: 0})
	again.checkin(hd)
	h.v.Shutdown(context.Background())
	got := records(t, path)
	want := []string{
		"START",
		fmt.Sprintf("OUT f1 alice h%d", hd),
		fmt.Sprintf("IN f1 alice h%d normal linger=600", hd),
		fmt.Sprintf("OUT f1 alice h%d readopted", hd),
		fmt.Sprintf("IN f1 alice h%d normal linger=600", hd),
		"STOP",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("records:\n%q\nwant:\n%q", got, want)
	}
}
