package e2e_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golm/lmutil/protocol/client"
	"golm/lmutil/protocol/lmerr"
	"golm/lmutil/server/reportlog"
)

// withReportLog writes demo.opt with opts into the server directory.
func withReportLog(opts string) func(dir string) {
	return func(dir string) {
		if err := os.WriteFile(filepath.Join(dir, "demo.opt"), []byte(opts), 0o644); err != nil {
			panic(err)
		}
	}
}

// reportFiles are the report logs in the server directory: rotation
// renames and creates files but never drops one, so they are the whole
// set.
func (s *server) reportFiles() []string {
	s.t.Helper()
	files, err := filepath.Glob(filepath.Join(s.dir, "*.rl"))
	if err != nil {
		s.t.Fatal(err)
	}
	return files
}

// lmreportVerify runs lmutil lmreport -verify on the set and fails the
// test unless it accepts it.
func (s *server) lmreportVerify(files []string) {
	s.t.Helper()
	if r := s.run(nil, append([]string{"lmreport", "-verify"}, files...)...); r.status != 0 {
		s.t.Fatalf("lmreport -verify %s: status %d\n%s%s", strings.Join(files, " "), r.status, r.stdout, r.stderr)
	}
}

// openJob opens a client Job on the server as user.
func (s *server) openJob(ctx context.Context, user string) *client.Job {
	s.t.Helper()
	job, err := client.Open(ctx, fmt.Sprintf("%d@localhost", s.port),
		client.WithUser(user), client.WithHost("ws-"+user), client.WithDisplay("/dev/pts/1"))
	if err != nil {
		s.t.Fatal(err)
	}
	return job
}

// TestReportLogRotation10000: 10,000 checkouts and checkins from 40
// concurrent Jobs while lmnewlog and lmswitchr each rotate the report
// log three times: lmreport -verify accepts the set, and every checkout
// the clients were granted is in it exactly once, with exactly one
// checkin.
func TestReportLogRotation10000(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("10,000 checkouts against a real server")
	}
	s := startServerWith(t, "FEATURE f1 demo 1.0 permanent 100\n", withReportLog("REPORTLOG +report.rl\n"))
	const jobs, each = 40, 250
	ctx := context.Background()
	var done atomic.Int64
	var mu sync.Mutex
	granted := map[uint64]bool{}
	var wg sync.WaitGroup
	errs := make(chan error, jobs)
	for i := range jobs {
		job := s.openJob(ctx, fmt.Sprintf("u%d", i))
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer job.Close()
			for range each {
				lic, err := job.Checkout(ctx, "f1", "1.0", 1)
				if err != nil {
					errs <- err
					return
				}
				mu.Lock()
				if granted[lic.Handle()] {
					errs <- fmt.Errorf("handle %d granted twice", lic.Handle())
				}
				granted[lic.Handle()] = true
				mu.Unlock()
				if err := lic.Checkin(ctx); err != nil {
					errs <- err
					return
				}
				done.Add(1)
			}
		}()
	}
	// Rotate at six points of the run, lmnewlog and lmswitchr in turn,
	// naming the vendor daemon and the feature in turn.
	var rotations []string
	for i := 1; i <= 6; i++ {
		at := int64(i * jobs * each / 7)
		poll(t, fmt.Sprintf("%d checkouts", at), func() bool { return done.Load() >= at })
		var r result
		if i%2 == 1 {
			r = s.run(nil, "lmnewlog", "-c", s.lic, "demo", fmt.Sprintf("monday-%d.rl", i))
		} else {
			r = s.run(nil, "lmswitchr", "-c", s.lic, "f1", fmt.Sprintf("switched-%d.rl", i))
		}
		if r.status != 0 {
			t.Fatalf("rotation %d: status %d\n%s%s", i, r.status, r.stdout, r.stderr)
		}
		rotations = append(rotations, strings.TrimSpace(r.stdout[strings.Index(r.stdout, "\n")+1:]))
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if n := done.Load(); n != jobs*each {
		t.Fatalf("%d checkouts and checkins done, want %d", n, jobs*each)
	}
	t.Logf("rotations:\n%s", strings.Join(rotations, "\n"))
	wantFirst := fmt.Sprintf("demo: report log moved to %s, continuing in %s",
		filepath.Join(s.dir, "monday-1.rl"), filepath.Join(s.dir, "report.rl"))
	if rotations[0] != wantFirst {
		t.Errorf("lmnewlog printed %q, want %q", rotations[0], wantFirst)
	}
	// Every checkin was answered, so its record is in the file.
	files := s.reportFiles()
	if len(files) != 7 {
		t.Errorf("%d report log files %q, want 7", len(files), files)
	}
	s.lmreportVerify(files)
	recs, err := reportlog.ReadAll(files...)
	if err != nil {
		t.Fatal(err)
	}
	out, in := map[uint64]int{}, map[uint64]int{}
	switches := 0
	for _, r := range recs {
		switch r.Event {
		case reportlog.EventOut:
			out[r.Handle]++
		case reportlog.EventIn:
			in[r.Handle]++
			if r.Reason != reportlog.ReasonNormal {
				t.Errorf("IN of handle %d for %q, want normal", r.Handle, r.Reason)
			}
		case reportlog.EventSwitch:
			switches++
		}
	}
	if len(out) != jobs*each || len(granted) != jobs*each {
		t.Errorf("%d handles with OUT records, %d granted, want %d", len(out), len(granted), jobs*each)
	}
	for h := range granted {
		if out[h] != 1 || in[h] != 1 {
			t.Errorf("handle %d: %d OUT and %d IN records, want 1 and 1", h, out[h], in[h])
		}
	}
	if switches != 6 {
		t.Errorf("%d SWITCH records, want 6", switches)
	}
}

// TestReportLogVendorKilled: a vendor daemon killed with -9 while
// clients check out loses no record of a checkout a client was told
// it was granted, and the restarted vendor daemon continues the chain.
func TestReportLogVendorKilled(t *testing.T) {
	t.Parallel()
	s := startServerWith(t, "FEATURE f1 demo 1.0 permanent 1000\n", withReportLog("REPORTLOG +report.rl\n"))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var mu sync.Mutex
	acked := map[uint64]bool{}
	var count atomic.Int64
	var wg sync.WaitGroup
	var jobsList []*client.Job
	for i := range 8 {
		job := s.openJob(ctx, fmt.Sprintf("k%d", i))
		jobsList = append(jobsList, job)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				lic, err := job.Checkout(ctx, "f1", "1.0", 1)
				if err != nil {
					return // the vendor daemon is gone
				}
				mu.Lock()
				acked[lic.Handle()] = true
				mu.Unlock()
				count.Add(1)
				if lic.Handle()%2 == 0 {
					lic.Checkin(ctx)
				}
			}
		}()
	}
	poll(t, "300 checkouts", func() bool { return count.Load() >= 300 })
	pids := s.vendorPIDs()
	if err := syscall.Kill(pids[len(pids)-1], syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	seen := make(map[uint64]bool, len(acked))
	for h := range acked {
		seen[h] = true
	}
	mu.Unlock()
	cancel()
	wg.Wait()
	for _, j := range jobsList {
		j.Close()
	}
	s.waitLog(`\(lmgrd\) REStarted demo`, 1)
	// The restarted vendor daemon has continued the file (REPORTLOG +):
	// the set verifies once it has written its START record.
	var recs []reportlog.Record
	poll(t, "the restarted vendor daemon's START record", func() bool {
		var err error
		recs, err = reportlog.ReadAll(s.reportFiles()...)
		starts := 0
		for _, r := range recs {
			if r.Event == reportlog.EventStart {
				starts++
			}
		}
		return err == nil && starts == 2
	})
	// Clients' connections closing may still be written: wait for a
	// quiet moment, when the set verifies.
	poll(t, "a report log set lmreport -verify accepts", func() bool {
		return s.run(nil, append([]string{"lmreport", "-verify"}, s.reportFiles()...)...).status == 0
	})
	logged := map[uint64]bool{}
	for _, r := range recs {
		if r.Event == reportlog.EventOut {
			logged[r.Handle] = true
		}
	}
	lost := 0
	for h := range seen {
		if !logged[h] {
			lost++
		}
	}
	if lost > 0 {
		t.Errorf("%d of %d acknowledged checkouts are not in the report log", lost, len(seen))
	}
	t.Logf("%d acknowledged checkouts, %d records", len(seen), len(recs))
}

// TestLmswitchDebugLog: lmswitch moves the vendor daemon's debug log
// lines to a new file; lmgrd's stay in its own.
func TestLmswitchDebugLog(t *testing.T) {
	t.Parallel()
	s := startServer(t, twoSeats)
	r := s.run(nil, "lmswitch", "-c", s.lic, "demo", "vendor.dl")
	want := "demo: debug log switched to " + filepath.Join(s.dir, "vendor.dl")
	if r.status != 0 || !strings.HasSuffix(r.stdout, want+"\n") {
		t.Fatalf("lmswitch: status %d, stdout %q, want the line %q\n%s", r.status, r.stdout, want, r.stderr)
	}
	h := s.hold("alice", "/dev/pts/1", "f1")
	defer h.kill9(t)
	path := filepath.Join(s.dir, "vendor.dl")
	poll(t, "the checkout in the new debug log", func() bool {
		b, _ := os.ReadFile(path)
		return strings.Contains(string(b), `(demo) OUT: "f1" alice@`)
	})
	if old := s.logText(); !strings.Contains(old, "(demo) Switching debug log to "+path) || strings.Contains(old, `(demo) OUT: "f1"`) {
		t.Errorf("lmgrd's debug log after lmswitch:\n%s", old)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm()&0o137 != 0 {
		t.Errorf("new debug log has mode %v", fi.Mode().Perm())
	}
}

// TestLogSwitchBadPaths: symbolic links (last or in a directory),
// devices, directories, ordinary files such as a shell's start-up file
// or the license file, and paths that climb into a place nobody can
// write are refused with -42 (exit status 214), the files are left as
// they were, and the report log goes on in its file.
func TestLogSwitchBadPaths(t *testing.T) {
	t.Parallel()
	s := startServerWith(t, twoSeats, withReportLog("REPORTLOG +report.rl\n"))
	if err := os.WriteFile(filepath.Join(s.dir, "target"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(s.dir, "target"), filepath.Join(s.dir, "link.rl")); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(s.dir, "dir.rl"), 0o755); err != nil {
		t.Fatal(err)
	}
	const bashrc = "alias ll='ls -l'\n"
	if err := os.WriteFile(filepath.Join(s.dir, ".bashrc"), []byte(bashrc), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(s.dir, "real"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(s.dir, "real"), filepath.Join(s.dir, "linkdir")); err != nil {
		t.Fatal(err)
	}
	up := strings.Repeat("../", 40) + "proc/golm-e2e.rl"
	for _, cmd := range []string{"lmswitchr", "lmnewlog", "lmswitch"} {
		for _, c := range []struct{ name, path, why string }{
			{"symlink", "link.rl", "symbolic link"},
			{"device", os.DevNull, "device"},
			{"directory", "dir.rl", "directory"},
			{"dotdot", up, "/proc/golm-e2e.rl"},
			{"shell file", ".bashrc", map[string]string{"lmnewlog": "exists"}[cmd] + map[bool]string{true: "not a golm log"}[cmd != "lmnewlog"]},
			{"license file", "license.lic", map[string]string{"lmnewlog": "exists"}[cmd] + map[bool]string{true: "not a golm log"}[cmd != "lmnewlog"]},
			{"linked directory", "linkdir/x.rl", "linkdir is a symbolic link"},
		} {
			t.Run(cmd+"/"+c.name, func(t *testing.T) {
				r := s.run(nil, cmd, "-c", s.lic, "demo", c.path)
				both := r.stdout + r.stderr
				if r.status != 214 || !strings.Contains(both, "Cannot switch the ") || !strings.Contains(both, c.why) || !strings.Contains(both, "(-42,371") {
					t.Errorf("%s %s: status %d, output\n%s\nwant exit 214 and a -42 refusal naming %q", cmd, c.path, r.status, both, c.why)
				}
			})
		}
	}
	if fi, err := os.Lstat(filepath.Join(s.dir, "link.rl")); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("the symbolic link was replaced (%v)", err)
	}
	if b, err := os.ReadFile(filepath.Join(s.dir, ".bashrc")); err != nil || string(b) != bashrc {
		t.Errorf(".bashrc now holds %q (%v)", b, err)
	}
	if ents, _ := filepath.Glob(filepath.Join(s.dir, "real", "*")); len(ents) > 0 {
		t.Errorf("files made through the linked directory: %v", ents)
	}
	h := s.hold("alice", "/dev/pts/1", "f1")
	defer h.kill9(t)
	path := filepath.Join(s.dir, "report.rl")
	poll(t, "the checkout in the report log", func() bool {
		recs, err := reportlog.ReadAll(path)
		return err == nil && len(recs) > 0 && recs[len(recs)-1].Event == reportlog.EventOut
	})
	s.lmreportVerify([]string{path})
}

// TestReportLogRestartAfterSwitch: after lmswitchr moved the report log,
// a vendor daemon killed with -9 and one stopped with lmdown -vendor and
// started again both continue the chain in the file they last wrote,
// not in the one the options file names: lmreport -verify accepts every
// file of the run as one chain.
func TestReportLogRestartAfterSwitch(t *testing.T) {
	t.Parallel()
	for _, opt := range []string{"REPORTLOG +report.rl\n", "REPORTLOG report.rl\n"} {
		t.Run(strings.Fields(opt)[1], func(t *testing.T) {
			s := startServerWith(t, twoSeats, withReportLog(opt))
			files := func() []string {
				all, err := filepath.Glob(filepath.Join(s.dir, "*.rl*"))
				if err != nil {
					t.Fatal(err)
				}
				var out []string
				for _, f := range all {
					// Not the fragments of torn lines, nor the hidden
					// state file.
					if !strings.HasSuffix(f, ".torn") && !strings.HasPrefix(filepath.Base(f), ".") {
						out = append(out, f)
					}
				}
				return out
			}
			starts := func(want int) []reportlog.Record {
				t.Helper()
				var recs []reportlog.Record
				poll(t, fmt.Sprintf("%d START records", want), func() bool {
					var err error
					recs, err = reportlog.ReadAll(files()...)
					n := 0
					for _, r := range recs {
						if r.Event == reportlog.EventStart {
							n++
						}
					}
					return err == nil && n == want
				})
				return recs
			}
			starts(1)
			if r := s.run(nil, "lmswitchr", "-c", s.lic, "demo", "m.rl"); r.status != 0 {
				t.Fatalf("lmswitchr: status %d\n%s%s", r.status, r.stdout, r.stderr)
			}
			h := s.hold("alice", "/dev/pts/1", "f1")
			s.waitInUse("f1", 1)
			h.kill9(t)
			pids := s.vendorPIDs()
			if err := syscall.Kill(pids[len(pids)-1], syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			s.waitLog(`\(lmgrd\) REStarted demo`, 1)
			starts(2)
			if r := s.run(nil, "lmdown", "-q", "-vendor", "demo", "-c", s.lic); r.status != 0 {
				t.Fatalf("lmdown -vendor demo: status %d, stderr %q", r.status, r.stderr)
			}
			poll(t, "the vendor daemon to be down", func() bool {
				return strings.Contains(s.run(nil, "lmstat", "-c", s.lic).stdout, "demo: The desired vendor daemon is down.")
			})
			if r := s.run(nil, "lmreread", "-vendor", "demo", "-c", s.lic); r.status != 0 {
				t.Fatalf("lmreread -vendor demo: status %d, stderr %q", r.status, r.stderr)
			}
			recs := starts(3)
			s.lmreportVerify(files())
			// With '+' the restarts went on in m.rl; without, each began
			// a new report.rl continuing the file before.
			m, err := reportlog.ReadAll(filepath.Join(s.dir, "m.rl"))
			if err != nil {
				t.Fatal(err)
			}
			mStarts := 0
			for _, r := range m {
				if r.Event == reportlog.EventStart {
					mStarts++
				}
			}
			want := 2
			if !strings.Contains(opt, "+") {
				want = 0
			}
			if mStarts != want {
				t.Errorf("m.rl holds %d START records, want %d (%d records in %v)", mStarts, want, len(recs), files())
			}
		})
	}
}

// TestReportLogFullFilesystem: the report log on a small tmpfs that
// fills while clients check out and in. Checkouts are refused with -23
// while nothing can be written, checkins never are; a checkin made
// while the disk is full is kept and written, with its own time, into
// the file lmswitchr moves the log to on another filesystem, after the
// SWITCH record naming the full file. lmreport -verify accepts the set,
// and every granted checkout has one OUT and one IN record. Skipped
// where the test may not mount a tmpfs.
func TestReportLogFullFilesystem(t *testing.T) {
	t.Parallel()
	var full string
	// A checkout waits a second, not ten, for the full disk before it is
	// refused.
	s := startServerEnv(t, "FEATURE f1 demo 1.0 permanent 20\n", func(dir string) {
		full = filepath.Join(dir, "full")
		if err := os.Mkdir(full, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := syscall.Mount("tmpfs", full, "tmpfs", 0, "size=64k"); err != nil {
			t.Skipf("cannot mount a small tmpfs here: %v", err)
		}
		t.Cleanup(func() {
			if err := syscall.Unmount(full, 0); err != nil {
				syscall.Unmount(full, syscall.MNT_DETACH)
			}
		})
		withReportLog("REPORTLOG +" + filepath.Join(full, "report.rl") + "\n")(dir)
	}, []string{"GOLM_REPORTLOG_WRITE_TIMEOUT=1s"})
	ctx := context.Background()
	holder := s.openJob(ctx, "holder")
	defer holder.Close()
	held, err := holder.Checkout(ctx, "f1", "1.0", 1)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	granted := map[uint64]bool{}
	var refused, grants atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for i := range 4 {
		job := s.openJob(ctx, fmt.Sprintf("u%d", i))
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer job.Close()
			for {
				select {
				case <-stop:
					return
				default:
				}
				lic, err := job.Checkout(ctx, "f1", "1.0", 1)
				if lmerr.CodeOf(err) == -23 {
					refused.Add(1)
					continue
				}
				if err != nil {
					errs <- err
					return
				}
				mu.Lock()
				granted[lic.Handle()] = true
				mu.Unlock()
				grants.Add(1)
				if err := lic.Checkin(ctx); err != nil {
					errs <- fmt.Errorf("checkin: %w", err)
					return
				}
			}
		}()
	}
	poll(t, "checkouts to run", func() bool { return grants.Load() > 20 })
	// Fill the filesystem; what the log's last page still holds fills
	// with records.
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
	poll(t, "checkouts to be refused", func() bool { return refused.Load() > 10 })
	checkinAt := time.Now()
	if err := held.Checkin(ctx); err != nil {
		t.Fatalf("checkin while the disk is full: %v", err)
	}
	s.waitLog(`REPORTLOG: .*cannot be written: records are kept until it can`, 1)
	other := filepath.Join(s.dir, "other.rl")
	if r := s.run(nil, "lmswitchr", "-c", s.lic, "demo", other); r.status != 0 {
		t.Fatalf("lmswitchr to another filesystem while the disk is full: status %d\n%s%s", r.status, r.stdout, r.stderr)
	}
	n := grants.Load()
	poll(t, "checkouts to be granted again", func() bool { return grants.Load() > n+20 })
	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	files := []string{filepath.Join(full, "report.rl"), other}
	s.lmreportVerify(files)
	recs, err := reportlog.ReadAll(other)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) < 2 || recs[0].Event != reportlog.EventSwitch || !strings.Contains(recs[0].Detail, "from="+files[0]) {
		t.Fatalf("%s starts %+v, want the SWITCH naming %s", other, recs[0], files[0])
	}
	found := false
	for _, r := range recs {
		if r.Event == reportlog.EventIn && r.Handle == held.Handle() {
			found = true
			if r.Time.After(recs[0].Time) || r.Time.Before(checkinAt.Add(-time.Second)) {
				t.Errorf("the kept checkin's time %v, want when it happened (%v), before the SWITCH at %v", r.Time, checkinAt, recs[0].Time)
			}
		}
	}
	if !found {
		t.Errorf("the checkin made while the disk was full is not in %s", other)
	}
	all, err := reportlog.ReadAll(files...)
	if err != nil {
		t.Fatal(err)
	}
	out, in := map[uint64]int{}, map[uint64]int{}
	for _, r := range all {
		switch r.Event {
		case reportlog.EventOut:
			out[r.Handle]++
		case reportlog.EventIn:
			in[r.Handle]++
		}
	}
	granted[held.Handle()] = true
	for h := range granted {
		if out[h] != 1 || in[h] != 1 {
			t.Errorf("handle %d: %d OUT and %d IN records, want 1 and 1", h, out[h], in[h])
		}
	}
	if len(out) != len(granted) {
		t.Errorf("%d OUT records, %d checkouts granted", len(out), len(granted))
	}
	t.Logf("%d granted, %d refused, %d records", len(granted), refused.Load(), len(all))
}
