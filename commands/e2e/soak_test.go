package e2e_test

import (
	"bytes"
	"context"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golm/lmutil/protocol/client"
	"golm/lmutil/protocol/lmerr"
	"golm/lmutil/server/reportlog"
	"golm/lmutil/server/servertest"
)

// The soak's license: fa with two seats reserved for res1, fb grouping
// duplicates by user, host and display, fc with at most one seat for
// maxu, fd with an overdraft of one that banned may not use; fw for the
// lmwrap holders that are killed.
const (
	soakFeatures = "FEATURE fa demo 1.0 permanent 5\n" +
		"FEATURE fb demo 1.0 permanent 3 DUP_GROUP=UHD\n" +
		"FEATURE fc demo 1.0 permanent 4\n" +
		"FEATURE fd demo 1.0 permanent 2 OVERDRAFT=1\n" +
		"FEATURE fw demo 1.0 permanent 3\n"
	soakOptions = "REPORTLOG +report.rl\n" +
		"RESERVE 2 fa USER res1\n" +
		"MAX 1 fc USER maxu\n" +
		"EXCLUDE fd USER banned\n"
)

// soakLimit is what the audit holds every pool to.
var soakLimit = map[string]int{"fa": 5, "fb": 3, "fc": 4, "fd": 3, "fw": 3}

var soakUsers = []string{"u0", "u1", "u2", "u3", "u4", "res1", "maxu", "banned"}

// envDuration is the Go duration in the environment variable name, or
// def.
func envDuration(name string, def time.Duration) time.Duration {
	if d, err := time.ParseDuration(os.Getenv(name)); err == nil && d > 0 {
		return d
	}
	return def
}

// startSoakServer starts lmgrd with the soak's license and options file.
func startSoakServer(t *testing.T) *server {
	t.Helper()
	dir := t.TempDir()
	copyKeys(t, dir)
	s := &server{t: t, dir: dir, port: freePort(t), lic: filepath.Join(dir, "license.lic"), done: make(chan struct{})}
	s.host, _ = os.Hostname()
	s.writeLicense(soakFeatures)
	if err := os.WriteFile(filepath.Join(dir, "demo.opt"), []byte(soakOptions), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd, done := s.launch("debug.log")
	s.cmd, s.done = cmd, done
	s.waitLog(`\(lmgrd\) Started demo \(internet tcp_port \d+ pid \d+\)`, 1)
	return s
}

// soakStats counts what the soak's clients and its chaos did.
type soakStats struct {
	mu                                            sync.Mutex
	codes                                         map[lmerr.Code]int // denials by FlexLM code
	granted, denied, queued, exits                atomic.Int64
	kills, rereads, removes, newlogs, holderKills atomic.Int64
}

// TestSoak runs many clients doing random checkouts, checkins, queued
// checkouts and duplicate-group checkouts against features with RESERVE,
// MAX, EXCLUDE and an overdraft, while it kills lmwrap holders and the
// vendor daemon with SIGKILL and runs lmreread, lmremove and lmnewlog.
// lmstat snapshots never show a pool past its limit; afterwards the
// report log's chain verifies and a replay of it proves that no pool had
// more seats out than its count plus overdraft, no reserved seat went to
// someone else, MAX and EXCLUDE held, every checkout of a vendor daemon
// that was not killed ended in exactly one checkin record, and no process
// was left behind.
//
// go test runs a short form; make soak sets GOLM_SOAK_TIME (the
// duration, default 4s here) and GOLM_SOAK_CLIENTS (default 24 here).
func TestSoak(t *testing.T) {
	t.Parallel() // a server, ports and directories of its own
	if testing.Short() {
		t.Skip("the soak is not short")
	}
	dur := envDuration("GOLM_SOAK_TIME", 4*time.Second)
	n := envInt("GOLM_SOAK_CLIENTS", 24)
	s := startSoakServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), dur)
	defer cancel()
	st := soakStats{codes: map[lmerr.Code]int{}}
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			soakClient(ctx, s, rand.New(rand.NewSource(int64(i))), &st)
		}()
	}
	var newlogs []string
	var holders []*holder
	var snapshots int
	wg.Add(1)
	go func() {
		defer wg.Done()
		newlogs, holders = soakChaos(ctx, s, &st)
	}()
	// lmstat snapshots: no pool ever shows more in use than its limit.
	for ctx.Err() == nil {
		r := s.run(nil, "lmstat", "-a", "-c", s.lic)
		for _, g := range usersRE.FindAllStringSubmatch(r.stdout, -1) {
			inUse, _ := strconv.Atoi(g[3])
			if inUse > soakLimit[g[1]] {
				t.Errorf("lmstat shows %d of %s in use, limit %d:\n%s", inUse, g[1], soakLimit[g[1]], r.stdout)
			}
		}
		snapshots++
	}
	wg.Wait()
	for _, h := range holders {
		syscall.Kill(-h.cmd.Process.Pid, syscall.SIGKILL)
		<-h.done
	}
	// A vendor daemon killed at the end is up again before lmdown, so
	// that its run ends with a STOP record. After many deaths in a row
	// lmgrd pauses up to 30 seconds (RestartPolicy.Max) before it
	// restarts one, longer than poll waits.
	servertest.Poll(t, "the vendor daemon to be up", 45*time.Second, func() bool {
		return strings.Contains(s.run(nil, "lmstat", "-c", s.lic).stdout, "demo: UP")
	})
	vendors := s.vendorPIDs()
	if r := s.run(nil, "lmdown", "-q", "-c", s.lic); r.status != 0 {
		t.Errorf("lmdown at the end: exit %d, stderr %q", r.status, r.stderr)
	}
	poll(t, "lmgrd to exit", func() bool { return exited(s.done) })
	for _, p := range vendors {
		poll(t, fmt.Sprintf("vendor daemon %d to exit", p), func() bool { return !alive(p) })
	}
	if left := processesIn(s.dir); len(left) > 0 {
		t.Errorf("processes left behind: %v", left)
	}
	t.Logf("%d clients for %s: %d granted, %d denied %v, %d queued, %d jobs ended without checkin; "+
		"%d vendor daemon kills, %d holder kills, %d rereads, %d removes, %d lmnewlogs; %d lmstat snapshots",
		n, dur, st.granted.Load(), st.denied.Load(), st.codes, st.queued.Load(), st.exits.Load(),
		st.kills.Load(), st.holderKills.Load(), st.rereads.Load(), st.removes.Load(), st.newlogs.Load(), snapshots)
	if st.granted.Load() == 0 {
		t.Fatal("no checkout was granted")
	}
	files := append(newlogs, filepath.Join(s.dir, "report.rl"))
	sum, err := reportlog.Verify(files...)
	if err != nil {
		t.Fatalf("report log chain: %v", err)
	}
	recs, err := reportlog.ReadAll(files...)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("report log: %d records in %d files", sum.Records, sum.Files)
	problems, crashed := auditSoak(recs)
	for _, p := range problems {
		t.Error(p)
	}
	t.Logf("audit: %d checkouts ended by a vendor daemon kill, the rest by one checkin record each", crashed)
}

// soakClient runs jobs of a few random operations each until ctx ends.
func soakClient(ctx context.Context, s *server, rnd *rand.Rand, st *soakStats) {
	for ctx.Err() == nil {
		user := soakUsers[rnd.Intn(len(soakUsers))]
		job, err := client.Open(ctx, s.lic, client.WithUser(user), client.WithDisplay("d"+strconv.Itoa(rnd.Intn(2))),
			client.WithHeartbeat(300*time.Millisecond), client.WithQueuePoll(50*time.Millisecond), client.WithCallTimeout(5*time.Second))
		if err != nil {
			return
		}
		var held []*client.License
		for range 1 + rnd.Intn(12) {
			if ctx.Err() != nil {
				break
			}
			feature := []string{"fa", "fb", "fc", "fd"}[rnd.Intn(4)]
			var lic *client.License
			if rnd.Intn(5) == 0 {
				lic, err = job.CheckoutQueued(ctx, feature, "1.0", 1)
				if lmerr.CodeOf(err) == -35 {
					st.queued.Add(1)
					wctx, wcancel := context.WithTimeout(ctx, time.Duration(rnd.Intn(300))*time.Millisecond)
					err = lic.Wait(wctx)
					wcancel()
					if err != nil {
						lic.Checkin(ctx) // leaves the queue
						continue
					}
				}
			} else {
				lic, err = job.Checkout(ctx, feature, "1.0", 1+rnd.Intn(2))
			}
			if err != nil {
				st.denied.Add(1)
				st.mu.Lock()
				st.codes[lmerr.CodeOf(err)]++
				st.mu.Unlock()
				time.Sleep(time.Duration(10+rnd.Intn(40)) * time.Millisecond) // back off, as applications do
				continue
			}
			st.granted.Add(1)
			held = append(held, lic)
			// Hold a while, then give back a random one of the held.
			time.Sleep(time.Duration(rnd.Intn(100)) * time.Millisecond) // the client's work
			if i := rnd.Intn(len(held)); rnd.Intn(2) == 0 {
				held[i].Checkin(ctx)
				held = append(held[:i], held[i+1:]...)
			}
		}
		if rnd.Intn(4) == 0 && len(held) > 0 {
			st.exits.Add(1) // the application ends without checking in
		}
		job.Close()
	}
}

// soakChaos kills, rereads, removes and rotates until ctx ends. It returns
// the report log files lmnewlog renamed, oldest first, and the lmwrap
// holders it started.
func soakChaos(ctx context.Context, s *server, st *soakStats) (newlogs []string, holders []*holder) {
	rnd := rand.New(rand.NewSource(99))
	var lastKill time.Time
	gaveUp := 0
	for ctx.Err() == nil {
		time.Sleep(time.Duration(100+rnd.Intn(300)) * time.Millisecond) // the chaos's pace
		if ctx.Err() != nil {
			break
		}
		// lmgrd stops restarting a vendor daemon that dies ten times in a
		// row (each run shorter than a minute); lmreread starts it again,
		// as an administrator would.
		if n := strings.Count(s.logText(), "not restarting it"); n > gaveUp {
			gaveUp = n
			s.run(nil, "lmreread", "-c", s.lic)
		}
		switch rnd.Intn(6) {
		case 0: // kill -9 the vendor daemon, at most every 5 s
			if time.Since(lastKill) < 5*time.Second {
				continue
			}
			pids := s.vendorPIDs()
			if p := pids[len(pids)-1]; alive(p) {
				syscall.Kill(p, syscall.SIGKILL)
				st.kills.Add(1)
				lastKill = time.Now()
			}
		case 1:
			if s.run(nil, "lmreread", "-c", s.lic).status == 0 {
				st.rereads.Add(1)
			}
		case 2: // lmremove somebody
			out := s.run(nil, "lmstat", "-a", "-c", s.lic).stdout
			feature := ""
			var lines [][]string
			for _, l := range strings.Split(out, "\n") {
				if m := usersRE.FindStringSubmatch(l); m != nil {
					feature = m[1]
				}
				if m := handleRE.FindStringSubmatch(l); m != nil {
					lines = append(lines, []string{feature, m[2], m[3], m[4]})
				}
			}
			if len(lines) > 0 {
				l := lines[rnd.Intn(len(lines))]
				if s.run(nil, "lmremove", "-c", s.lic, "-h", l[0], l[1], l[2], l[3]).status == 0 {
					st.removes.Add(1)
				}
			}
		case 3: // rotate the report log
			name := filepath.Join(s.dir, fmt.Sprintf("old-%03d.rl", len(newlogs)+1))
			if s.run(nil, "lmnewlog", "-c", s.lic, "demo", name).status == 0 {
				newlogs = append(newlogs, name)
				st.newlogs.Add(1)
			}
		case 4: // an lmwrap holder of fw
			if len(holders) < 40 {
				holders = append(holders, s.hold("wrap"+strconv.Itoa(len(holders)), ":9", "fw"))
			}
		case 5: // kill -9 a holder
			if len(holders) > 0 {
				h := holders[rnd.Intn(len(holders))]
				if !exited(h.done) {
					h.cmd.Process.Signal(syscall.SIGKILL)
					<-h.done
					st.holderKills.Add(1)
				}
			}
		}
	}
	return newlogs, holders
}

// auditSoak replays the report log and returns every broken rule, and
// how many checkouts ended with a vendor daemon killed by SIGKILL (which
// can write no record).
func auditSoak(recs []reportlog.Record) (problems []string, crashed int) {
	fail := func(r reportlog.Record, format string, args ...any) {
		if len(problems) < 20 {
			problems = append(problems, fmt.Sprintf("seq %d %s %s %s@%s handle %d: ", r.Seq, r.Event, r.Feature, r.User, r.Host, r.Handle)+fmt.Sprintf(format, args...))
		}
	}
	open := map[uint64]reportlog.Record{} // the seats out in the current run, by handle
	running := false
	for _, r := range recs {
		switch r.Event {
		case reportlog.EventStart:
			if running {
				crashed += len(open)
			}
			open = map[uint64]reportlog.Record{}
			running = true
		case reportlog.EventStop:
			for _, o := range open {
				fail(o, "still out when the vendor daemon stopped: no checkin record")
			}
			open = map[uint64]reportlog.Record{}
			running = false
		case reportlog.EventOut:
			if _, dup := open[r.Handle]; dup {
				fail(r, "handle granted twice")
			}
			if r.Feature == "fd" && r.User == "banned" {
				fail(r, "EXCLUDE fd USER banned was granted")
			}
			open[r.Handle] = r
			if p := soakPoolProblem(open, r.Feature); p != "" {
				fail(r, "%s", p)
			}
		case reportlog.EventIn:
			if _, ok := open[r.Handle]; !ok {
				fail(r, "checkin record of a handle not out")
			}
			delete(open, r.Handle)
		}
	}
	if running && len(recs) > 0 {
		last := recs[len(recs)-1]
		problems = append(problems, fmt.Sprintf("the report log does not end with the vendor daemon's STOP: its last record is seq %d %s", last.Seq, last.Event))
	}
	return problems, crashed
}

// soakPoolProblem checks feature's seats in open against the soak's
// rules: duplicates (fb) count once, at their largest count.
func soakPoolProblem(open map[uint64]reportlog.Record, feature string) string {
	groups := map[string]int{}
	var keys []string
	total, others, maxu := 0, 0, 0
	for h, r := range open {
		if r.Feature != feature {
			continue
		}
		key := strconv.FormatUint(h, 10)
		if feature == "fb" {
			key = r.User + "\x00" + r.Host + "\x00" + r.Display
		}
		if _, ok := groups[key]; !ok {
			keys = append(keys, key)
		}
		groups[key] = max(groups[key], r.Count)
		if r.User != "res1" {
			others += r.Count
		}
		if r.User == "maxu" {
			maxu += r.Count
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		total += groups[k]
	}
	switch {
	case total > soakLimit[feature]:
		return fmt.Sprintf("%d seats of %s out, limit %d", total, feature, soakLimit[feature])
	case feature == "fa" && others > soakLimit["fa"]-2:
		return fmt.Sprintf("%d seats of fa out to others than res1, who has 2 reserved of 5", others)
	case feature == "fc" && maxu > 1:
		return fmt.Sprintf("maxu has %d seats of fc, MAX 1", maxu)
	}
	return ""
}

// processesIn lists the live processes whose command line names dir.
func processesIn(dir string) []string {
	var out []string
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil || !bytes.Contains(b, []byte(dir)) || !alive(pid) {
			continue
		}
		out = append(out, fmt.Sprintf("%d %s", pid, bytes.ReplaceAll(b, []byte{0}, []byte{' '})))
	}
	return out
}

// TestSoakAudit: the soak's audit finds each kind of broken rule in a
// made-up report log, and passes a good one.
func TestSoakAudit(t *testing.T) {
	out := func(h uint64, feature, user string, count int) reportlog.Record {
		return reportlog.Record{Event: reportlog.EventOut, Feature: feature, User: user, Host: "h", Display: "d", Count: count, Handle: h}
	}
	in := func(h uint64) reportlog.Record { return reportlog.Record{Event: reportlog.EventIn, Handle: h} }
	start := reportlog.Record{Event: reportlog.EventStart}
	stop := reportlog.Record{Event: reportlog.EventStop}
	tests := []struct {
		name    string
		recs    []reportlog.Record
		want    string // part of the first problem; "" for none
		crashed int
	}{
		{"good", []reportlog.Record{start, out(1, "fa", "u0", 3), out(2, "fa", "res1", 2), in(1), in(2), stop}, "", 0},
		{"duplicates count once", []reportlog.Record{start, out(1, "fb", "u0", 2), out(2, "fb", "u0", 2), out(3, "fb", "u1", 1), in(1), in(2), in(3), stop}, "", 0},
		{"killed run", []reportlog.Record{start, out(1, "fa", "u0", 1), start, out(1, "fa", "u0", 1), in(1), stop}, "", 1},
		{"over the limit", []reportlog.Record{start, out(1, "fc", "u0", 2), out(2, "fc", "u1", 3)}, "5 seats of fc out, limit 4", 0},
		{"overdraft is the limit", []reportlog.Record{start, out(1, "fd", "u0", 3), out(2, "fd", "u1", 1)}, "4 seats of fd out, limit 3", 0},
		{"reserved seat to another", []reportlog.Record{start, out(1, "fa", "u0", 2), out(2, "fa", "u1", 2)}, "to others than res1", 0},
		{"MAX", []reportlog.Record{start, out(1, "fc", "maxu", 1), out(2, "fc", "maxu", 1)}, "MAX 1", 0},
		{"EXCLUDE", []reportlog.Record{start, out(1, "fd", "banned", 1)}, "EXCLUDE", 0},
		{"handle twice", []reportlog.Record{start, out(1, "fa", "u0", 1), out(1, "fa", "u1", 1)}, "granted twice", 0},
		{"checkin of nothing", []reportlog.Record{start, in(7)}, "not out", 0},
		{"no checkin record", []reportlog.Record{start, out(1, "fa", "u0", 1), stop}, "no checkin record", 0},
		{"no STOP", []reportlog.Record{start, out(1, "fa", "u0", 1), in(1)}, "does not end with", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			problems, crashed := auditSoak(tt.recs)
			got := ""
			if len(problems) > 0 {
				got = problems[0]
			}
			if (tt.want == "") != (got == "") || !strings.Contains(got, tt.want) {
				t.Errorf("first problem %q, want one containing %q (all: %q)", got, tt.want, problems)
			}
			if crashed != tt.crashed {
				t.Errorf("crashed = %d, want %d", crashed, tt.crashed)
			}
		})
	}
}
