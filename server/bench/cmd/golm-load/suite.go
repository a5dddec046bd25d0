package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golm/lmutil/licfile"
	"golm/lmutil/protocol/client"
	"golm/lmutil/server/bench"
)

// suite is one run of the benchmark suite.
type suite struct {
	ctx       context.Context
	lmutil    string
	self      string
	keys      string
	dir       string
	runs      int
	dur       time.Duration
	clients   int
	big       int
	perProc   int
	heartbeat time.Duration
	// beats is the fewest heartbeats the CPU per heartbeat is measured
	// over: with 1,000 clients two intervals are 2,000 heartbeats and
	// about 40 ms of CPU, less than one collection of the daemon's heap.
	beats int
	// beatCPU is the vendor daemon's CPU per heartbeat by client count.
	beatCPU   map[int]float64
	features  int
	jobCounts []int
	triadJobs int // jobs of the triad stage
	// triadGrace is the triad members' grace period (0: defaultTriadGrace).
	triadGrace time.Duration
	// throughputRuns is the runs of each throughput figure: the curve
	// has many points, each of three kinds.
	throughputRuns int
	machine        *licfile.Machine

	only    map[string]bool // stages to run; empty: all
	profile string          // GOLM_PPROF for the vendor daemon

	srv     *bench.Server
	rows    []row
	notes   []string
	goBench []goBench

	loadStart, loadEnd string // load averages
}

// row is one line of the results table.
type row struct {
	Measure, Result, Target, Met string
}

func (s *suite) add(measure, result, target string, met *bool) {
	m := ""
	if met != nil {
		m = "no"
		if *met {
			m = "yes"
		}
	}
	r := row{measure, result, target, m}
	s.rows = append(s.rows, r)
	fmt.Printf("%-58s %-40s %-22s %s\n", r.Measure, r.Result, r.Target, r.Met)
}

// printTable prints the whole results table once more, without the
// progress lines between its rows.
func (s *suite) printTable() {
	fmt.Println()
	for _, r := range s.rows {
		fmt.Printf("%-62s %-46s %-24s %s\n", r.Measure, r.Result, r.Target, r.Met)
	}
}

func (s *suite) note(format string, args ...any) {
	n := fmt.Sprintf(format, args...)
	s.notes = append(s.notes, n)
	fmt.Println("note:", n)
}

// countList parses a flag's comma-separated list of positive counts.
func countList(flag, list string) ([]int, error) {
	var out []int
	for _, j := range strings.Split(list, ",") {
		n, err := strconv.Atoi(j)
		if err != nil || n < 1 {
			return nil, fmt.Errorf("%s: bad count %q", flag, j)
		}
		out = append(out, n)
	}
	return out, nil
}

func ptr(b bool) *bool { return &b }

func suiteMain(args []string) error {
	fs := flag.NewFlagSet("suite", flag.ContinueOnError)
	s := &suite{}
	fs.StringVar(&s.lmutil, "lmutil", "./lmutil", "the lmutil binary")
	fs.StringVar(&s.keys, "keys", "testdata/keys", "directory of demo.key and demo.pub")
	out := fs.String("out", "BENCHMARKS.md", "report to write (\"\" for none)")
	fs.IntVar(&s.runs, "runs", 5, "runs per figure (the median is reported)")
	fs.DurationVar(&s.dur, "dur", 2*time.Second, "length of one throughput run")
	fs.IntVar(&s.clients, "clients", 10000, "connected clients for the latency, memory and lmstat figures")
	fs.IntVar(&s.big, "big", 50000, "connected clients for the large memory figure (0 skips it)")
	fs.IntVar(&s.perProc, "per-proc", 5000, "clients per driver process")
	fs.DurationVar(&s.heartbeat, "heartbeat", 5*time.Second, "heartbeat interval of the connected clients")
	fs.IntVar(&s.beats, "heartbeats", 10000, "fewest heartbeats the CPU per heartbeat is measured over (at least two intervals)")
	jobs := fs.String("jobs", "1,10,100,1000,1001,5000", "concurrent jobs of the throughput figures")
	fs.IntVar(&s.throughputRuns, "throughput-runs", 3, "runs per throughput figure (each of the three kinds lasts -dur)")
	fs.IntVar(&s.features, "features", 1000, "features in the served license")
	fs.IntVar(&s.triadJobs, "triad-jobs", 1000, "jobs of the triad stage (throughput, and seats held through the failover)")
	goPkgs := fs.String("go-bench", "./protocol/ ./server/ ./server/reportlog/ ./options/ ./commands/ ./licfile/", "packages whose Go benchmarks to run (\"\" for none)")
	lineCounts := fs.String("lines", "2000,20000,200000", "license sizes in lines of the lines stage")
	goTime := fs.String("benchtime", "200ms", "-benchtime of the Go benchmarks")
	only := fs.String("only", "", "comma-separated stages to run: throughput, usagelog, churn, connected, big, halfframes, queue, triad, restart, license, lines, commands (default all)")
	fs.StringVar(&s.profile, "profile", "", "directory for the vendor daemon's CPU and heap profiles, and the driver's own CPU profile")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var err error
	if s.jobCounts, err = countList("-jobs", *jobs); err != nil {
		return err
	}
	s.only = map[string]bool{}
	for _, st := range strings.Split(*only, ",") {
		if st != "" {
			s.only[st] = true
		}
	}
	if s.lmutil, err = filepath.Abs(s.lmutil); err != nil {
		return err
	}
	if s.self, err = os.Executable(); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	s.ctx = ctx
	lim, err := bench.RaiseNoFile(1 << 18)
	if err != nil {
		s.note("RLIMIT_NOFILE could not be raised above %d (%v): a vendor daemon here cannot hold more than about %d clients", lim, err, lim-100)
	}
	if s.big > 0 && uint64(s.big)+100 > lim {
		s.note("the %d-client figure is measured with %d clients, close to the most the file-descriptor limit allows one vendor daemon", s.big, lim-300)
		s.big = int(lim - 300)
	}
	s.machine = probeMachine()
	if s.profile != "" {
		f, err := os.Create(filepath.Join(s.profile, fmt.Sprintf("golm-load-%d.cpu.pprof", os.Getpid())))
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	if s.dir, err = os.MkdirTemp("", "golm-bench-"); err != nil {
		return err
	}
	defer os.RemoveAll(s.dir)
	start := time.Now()
	s.loadStart = bench.Probe().Load

	if *goPkgs != "" {
		if err := s.runGoBench(strings.Fields(*goPkgs), *goTime); err != nil {
			return err
		}
	}
	if s.stage("throughput") || s.stage("usagelog") || s.stage("churn") || s.stage("connected") || s.stage("big") || s.stage("queue") {
		err = s.servers()
	}
	if err == nil && s.stage("triad") {
		err = s.triadStage()
	}
	if err == nil && s.stage("halfframes") {
		err = s.halfFrames()
	}
	if err == nil && s.stage("restart") {
		err = s.restartRecovery(s.clients)
	}
	if err == nil && s.stage("license") {
		err = s.licenseFiles()
	}
	if err == nil && s.stage("lines") {
		var counts []int
		counts, err = countList("-lines", *lineCounts)
		if err == nil {
			err = s.licenseLines(counts)
		}
	}
	if err == nil && s.stage("commands") {
		err = s.commands()
	}
	if err == nil {
		s.reportLog()
	}
	if err != nil {
		return err
	}
	s.printTable()
	if *out != "" {
		if err := s.write(*out, time.Since(start)); err != nil {
			return err
		}
		fmt.Println("wrote", *out)
	}
	return nil
}

// stage reports whether stage is to run.
func (s *suite) stage(name string) bool { return len(s.only) == 0 || s.only[name] }

// servers runs every measurement against a real lmgrd.
func (s *suite) servers() error {
	port, err := bench.FreePort()
	if err != nil {
		return err
	}
	lic, err := bench.WriteLicense(s.dir, s.keys, port, s.features, 100)
	if err != nil {
		return err
	}
	// Past its connection limit (10,000 by default) a daemon refuses
	// clients; the suite wants as many as the file-descriptor limit allows.
	env := []string{"GOLM_MAX_CONNECTIONS=1000000"}
	if s.profile != "" {
		env = append(env, "GOLM_PPROF="+s.profile)
	}
	srv, err := bench.StartLmgrd(s.lmutil, lic, s.dir, env, 30*time.Second)
	if err != nil {
		return err
	}
	s.srv = srv
	defer srv.Stop()
	fmt.Printf("lmgrd pid %d port %d, vendor daemon pid %d port %d, %d features\n", srv.PID(), srv.Port, srv.VendorPID, srv.VendorPort, s.features)
	if err := s.idleSmall(); err != nil {
		return err
	}
	ml, _ := bench.ReadMemory(srv.PID())
	mv, _ := bench.ReadMemory(srv.VendorPID)
	idleL, idleV := ml.RSS, mv.RSS
	s.add(fmt.Sprintf("RSS idle, lmgrd (%d features)", s.features), ml.String(), "< 12 MB", ptr(idleL < 12<<20))
	s.add(fmt.Sprintf("RSS idle, vendor daemon (%d features)", s.features), mv.String(), "< 12 MB", ptr(idleV < 12<<20))

	// Churn first: right after the throughput stage's thousands of
	// loopback connections the kernel's connect takes half as long again
	// (35 µs instead of 23 in the driver's profile) for a minute or so,
	// which would measure the machine's recovery, not golm.
	if s.stage("churn") {
		if err := s.churn(); err != nil {
			return err
		}
	}
	if s.stage("throughput") {
		if err := s.throughput(); err != nil {
			return err
		}
	}
	if s.stage("usagelog") {
		if err := s.usageLog(); err != nil {
			return err
		}
	}
	var runs []connectedRun
	if s.stage("connected") {
		runs = append(runs,
			connectedRun{n: 1000, hb: s.heartbeat, memory: true, lmstat: true, cpu: true},
			connectedRun{n: s.clients, hb: s.heartbeat, memory: true, latency: true, lmstat: true, cpu: true})
	}
	if s.big > 0 && s.stage("big") {
		runs = append(runs,
			connectedRun{n: s.big, hb: s.heartbeat, memory: true, latency: true, lmstat: true, cpu: true},
			connectedRun{n: s.big, hb: client.DefaultHeartbeat, latency: true})
	}
	for _, r := range runs {
		if err := s.connected(r, idleL, idleV); err != nil {
			return err
		}
	}
	s.beatCurve()
	if s.stage("queue") {
		if err := s.queueFlood(); err != nil {
			return err
		}
	}
	return nil
}

// idleSmall measures an idle lmgrd and vendor daemon serving a license
// of one feature.
func (s *suite) idleSmall() error {
	port, err := bench.FreePort()
	if err != nil {
		return err
	}
	dir := filepath.Join(s.dir, "small")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	lic, err := bench.WriteLicense(dir, s.keys, port, 1, 10)
	if err != nil {
		return err
	}
	srv, err := bench.StartLmgrd(s.lmutil, lic, dir, nil, 30*time.Second)
	if err != nil {
		return err
	}
	defer srv.Stop()
	ml, _ := bench.ReadMemory(srv.PID())
	mv, _ := bench.ReadMemory(srv.VendorPID)
	s.add("RSS idle, lmgrd (1 feature)", ml.String(), "< 12 MB", ptr(ml.RSS < 12<<20))
	s.add("RSS idle, vendor daemon (1 feature)", mv.String(), "< 12 MB", ptr(mv.RSS < 12<<20))
	return nil
}

func mb(n int64) string { return fmt.Sprintf("%.1f MB", float64(n)/(1<<20)) }

// path is the license path of a client that connects to loopback
// address 127.0.0.ip: lmgrd and the vendor daemon listen on every
// address, and spreading clients over destination addresses keeps each
// (source, destination) pair's ephemeral ports from running out.
func (s *suite) path(ip int) string { return fmt.Sprintf("%d@127.0.0.%d", s.srv.Port, ip) }

func (s *suite) openJob(ip, id int) (*client.Job, error) {
	return client.Open(s.ctx, s.path(ip), client.WithMachine(s.machine),
		client.WithUser(fmt.Sprintf("load%d", id)), client.WithDisplay(fmt.Sprintf(":%d", id)), client.WithPID(id+1))
}

// throughput measures checkout+checkin pairs/s at each of s.jobCounts
// jobs, spread over the license's features (job i checks out feature i
// mod features) and all on one feature (bench.HotFeature), and,
// interleaved run by run, the echo baseline with as many connections.
// 1,000 and 1,001 jobs straddle the connection count past which the
// vendor daemon answers requests on its request workers.
func (s *suite) throughput() error {
	echo, echoAddr, echoPID, err := s.startEcho()
	if err != nil {
		return err
	}
	defer echo()
	spread := func(i int) string { return bench.FeatureName(i % s.features) }
	hot := func(int) string { return bench.HotFeature }
	medians := map[int]float64{}
	for _, n := range s.jobCounts {
		jobs := make([]*client.Job, n)
		for i := range jobs {
			if jobs[i], err = s.openJob(1, 1_000_000+i); err != nil {
				return err
			}
		}
		var golm, one, rt, frac bench.Runs
		var golmCPU, echoCPU cpuSplit
		for r := range s.throughputRuns {
			before := golmCPU.start(s.srv.VendorPID)
			pairs, err := s.pairs(jobs, spread)
			if err != nil {
				return fmt.Errorf("%d jobs: %w", n, err)
			}
			golmCPU.stop(before, pairs)
			onePairs, err := s.pairs(jobs, hot)
			if err != nil {
				return fmt.Errorf("%d jobs on one feature: %w", n, err)
			}
			before = echoCPU.start(echoPID)
			e, err := s.echoRate(echoAddr, n)
			if err != nil {
				return fmt.Errorf("echo with %d connections: %w", n, err)
			}
			echoCPU.stop(before, e/2)
			golm = append(golm, pairs)
			one = append(one, onePairs)
			rt = append(rt, e)
			frac = append(frac, 2*pairs/e*100)
			fmt.Printf("  run %d: %d jobs %.0f pairs/s (one feature %.0f), echo %.0f round trips/s\n", r+1, n, pairs, onePairs, e)
		}
		for _, j := range jobs {
			j.Close()
		}
		medians[n] = golm.Median()
		var target string
		var met *bool
		if n == 1000 {
			target = "≥ 30,000 pairs/s"
			met = ptr(golm.Median() >= 30000)
		}
		s.add(fmt.Sprintf("checkout+checkin pairs/s, %d jobs, %d features", n, s.features), golm.Format("pairs/s", 0), target, met)
		s.add(fmt.Sprintf("checkout+checkin pairs/s, %d jobs, one feature", n), one.Format("pairs/s", 0), "", nil)
		s.add(fmt.Sprintf("TCP echo round trips/s, %d connections", n), rt.Format("rt/s", 0), "", nil)
		target, met = "", nil
		switch n {
		case 1000:
			target = "≥ 60%"
			met = ptr(frac.Median() >= 60)
		case 5000:
			target = "≥ 55%"
			met = ptr(frac.Median() >= 55)
		}
		s.add(fmt.Sprintf("golm round trips / echo round trips, %d", n), frac.Format("%", 1), target, met)
		s.add(fmt.Sprintf("CPU per 2 round trips, %d: golm (vendor daemon + jobs) / echo (server + clients)", n),
			golmCPU.String()+" / "+echoCPU.String(), "", nil)
	}
	if a, b := medians[1000], medians[1001]; a > 0 && b > 0 {
		s.add("pairs/s at 1,001 jobs ÷ at 1,000 (no step past deepAbove)", fmt.Sprintf("%.2f×", b/a), "≥ 0.90×", ptr(b/a >= 0.9))
	}
	return nil
}

// pairs runs checkout+checkin loops on every job for s.dur, job i on
// feature(i), and returns pairs per second.
func (s *suite) pairs(jobs []*client.Job, feature func(i int) string) (float64, error) {
	var count atomic.Int64
	var firstErr error
	var once sync.Once
	var wg sync.WaitGroup
	start := time.Now()
	end := start.Add(s.dur)
	for i, j := range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f := feature(i)
			for time.Now().Before(end) {
				lic, err := j.Checkout(s.ctx, f, "1.0", 1)
				if err == nil {
					err = lic.Checkin(s.ctx)
				}
				if err != nil {
					once.Do(func() { firstErr = err })
					return
				}
				count.Add(1)
			}
		}()
	}
	wg.Wait()
	return float64(count.Load()) / time.Since(start).Seconds(), firstErr
}

// cpuSplit adds up the CPU time of a server process and of this one
// (the clients) over runs, against the pairs of round trips they made,
// and the part of each spent in the kernel.
type cpuSplit struct {
	server, clients time.Duration
	// The user and system times of both (10 ms ticks), for the
	// kernel's share of server and clients.
	serverUser, serverSys, clientsUser, clientsSys time.Duration
	pairs                                          float64
}

// cpuMark is the CPU times of a server process and of this one, and
// the clock, at the start or end of a run.
type cpuMark struct {
	pid             int
	server, clients time.Duration
	// su, ss, cu, cs are the user and system times of server and clients.
	su, ss, cu, cs time.Duration
	at             time.Time
	ok             bool
}

// markCPU reads the CPU times of process pid and of this one.
func markCPU(pid int) cpuMark {
	m := cpuMark{pid: pid, at: time.Now()}
	var err [4]error
	m.server, err[0] = bench.CPUTime(pid)
	m.clients, err[1] = bench.CPUTime(os.Getpid())
	m.su, m.ss, err[2] = bench.UserSystem(pid)
	m.cu, m.cs, err[3] = bench.UserSystem(os.Getpid())
	m.ok = err == [4]error{}
	return m
}

func (c *cpuSplit) start(pid int) cpuMark { return markCPU(pid) }

// stop adds the run since m, which made rate pairs per second.
func (c *cpuSplit) stop(m cpuMark, rate float64) {
	e := markCPU(m.pid)
	if !m.ok || !e.ok {
		return
	}
	c.server += e.server - m.server
	c.clients += e.clients - m.clients
	c.serverUser += e.su - m.su
	c.serverSys += e.ss - m.ss
	c.clientsUser += e.cu - m.cu
	c.clientsSys += e.cs - m.cs
	c.pairs += rate * e.at.Sub(m.at).Seconds()
}

// String is the CPU per pair, server + clients, in microseconds, each
// with the part of it spent in the kernel.
func (c cpuSplit) String() string {
	if c.pairs == 0 {
		return "?"
	}
	us := func(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) / c.pairs }
	kernel := func(total, user, sys time.Duration) float64 {
		if user+sys == 0 {
			return 0
		}
		return us(total) * float64(sys) / float64(user+sys)
	}
	return fmt.Sprintf("%.1f µs (kernel %.1f) + %.1f µs (kernel %.1f)",
		us(c.server), kernel(c.server, c.serverUser, c.serverSys), us(c.clients), kernel(c.clients, c.clientsUser, c.clientsSys))
}

// startEcho starts the echo baseline server process.
func (s *suite) startEcho() (stop func(), addr string, pid int, err error) {
	cmd := exec.Command(s.self, "echo")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, "", 0, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, "", 0, err
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, "", 0, err
	}
	stop = func() {
		in.Close()
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
		}
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	port, ok := strings.CutPrefix(strings.TrimSpace(line), "port ")
	if err != nil || !ok {
		stop()
		return nil, "", 0, fmt.Errorf("echo server: %q %v", line, err)
	}
	return stop, "127.0.0.1:" + port, cmd.Process.Pid, nil
}

// echoRate runs n echo connections for s.dur and returns round trips/s.
func (s *suite) echoRate(addr string, n int) (float64, error) {
	xs := exchanges()
	cs := make([]*bench.EchoClient, n)
	defer func() {
		for _, c := range cs {
			if c != nil {
				c.Close()
			}
		}
	}()
	for i := range cs {
		c, err := bench.DialEcho(addr, xs)
		if err != nil {
			return 0, err
		}
		cs[i] = c
	}
	var count atomic.Int64
	var firstErr atomic.Value
	var wg sync.WaitGroup
	start := time.Now()
	end := start.Add(s.dur)
	for _, c := range cs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(end) {
				if err := c.RoundTrip(); err != nil {
					firstErr.CompareAndSwap(nil, err.Error())
					return
				}
				count.Add(1)
			}
		}()
	}
	wg.Wait()
	if e := firstErr.Load(); e != nil {
		return 0, errors.New(e.(string))
	}
	return float64(count.Load()) / time.Since(start).Seconds(), nil
}

// churn measures full new-client cycles: a new job, lmgrd's redirect, the
// vendor daemon connection and handshake, checkout, checkin, close.
func (s *suite) churn() error {
	const workers = 16
	var rate bench.Runs
	for r := range s.runs {
		var count atomic.Int64
		var firstErr atomic.Value
		var wg sync.WaitGroup
		start := time.Now()
		end := start.Add(s.dur)
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; time.Now().Before(end); i++ {
					err := s.cycle(20+r, w*1_000_000+i)
					if err != nil {
						firstErr.CompareAndSwap(nil, err.Error())
						return
					}
					count.Add(1)
				}
			}()
		}
		wg.Wait()
		if e := firstErr.Load(); e != nil {
			return fmt.Errorf("new-client cycle: %s", e)
		}
		rate = append(rate, float64(count.Load())/time.Since(start).Seconds())
		fmt.Printf("  run %d: %.0f cycles/s\n", r+1, rate[len(rate)-1])
	}
	s.add(fmt.Sprintf("new-client cycles/s (%d at once)", workers), rate.Format("cycles/s", 0), "≥ 5,000/s", ptr(rate.Median() >= 5000))
	return nil
}

func (s *suite) cycle(ip, id int) error {
	j, err := s.openJob(ip, id)
	if err != nil {
		return err
	}
	defer j.Close()
	lic, err := j.Checkout(s.ctx, bench.FeatureName(id%s.features), "1.0", 1)
	if err != nil {
		return err
	}
	return lic.Checkin(s.ctx)
}

// holder is a driver process holding clients.
type holder struct {
	cmd  *exec.Cmd
	in   io.WriteCloser
	out  *bufio.Reader
	done chan struct{}
}

// connect starts driver processes holding n clients in all and waits until
// each has tried them all; it returns the drivers and how many clients
// failed.
func (s *suite) connect(n, ipBase int, hb time.Duration) ([]*holder, int, error) {
	var hs []*holder
	for off := 0; off < n; off += s.perProc {
		k := min(s.perProc, n-off)
		cmd := exec.Command(s.self, "hold", "-c", s.path(ipBase+len(hs)), "-n", strconv.Itoa(k),
			"-offset", strconv.Itoa(off), "-features", strconv.Itoa(s.features), "-heartbeat", hb.String())
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
		cmd.Stderr = os.Stderr
		in, err := cmd.StdinPipe()
		if err != nil {
			return hs, 0, err
		}
		out, err := cmd.StdoutPipe()
		if err != nil {
			return hs, 0, err
		}
		if err := cmd.Start(); err != nil {
			return hs, 0, err
		}
		h := &holder{cmd: cmd, in: in, out: bufio.NewReader(out), done: make(chan struct{})}
		hs = append(hs, h)
	}
	failed := 0
	for _, h := range hs {
		line, err := h.out.ReadString('\n')
		var ok, bad int
		if _, err2 := fmt.Sscanf(line, "ready %d %d", &ok, &bad); err != nil || err2 != nil {
			return hs, 0, fmt.Errorf("driver: %q: %v %v", line, err, err2)
		}
		failed += bad
	}
	return hs, failed, nil
}

// release stops driver processes and returns the seats they still held
// and those they lost while connected.
func release(hs []*holder) (held, lost int) {
	for _, h := range hs {
		h.in.Close()
	}
	for _, h := range hs {
		line, _ := h.out.ReadString('\n')
		var a, b int
		if _, err := fmt.Sscanf(line, "done %d %d", &a, &b); err == nil {
			held += a
			lost += b
		}
		done := make(chan struct{})
		go func() { _ = h.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = syscall.Kill(-h.cmd.Process.Pid, syscall.SIGKILL)
			<-done
		}
	}
	return held, lost
}

// connectedRun is one figure of connected clients: n of them, each
// holding a seat and heartbeating every hb, and what is measured.
type connectedRun struct {
	n       int
	hb      time.Duration
	memory  bool // the RSS of both daemons
	latency bool // checkout latency
	lmstat  bool // lmstat's wall time
	cpu     bool // the vendor daemon's CPU per heartbeat
}

// connected measures with r.n clients connected, holding a seat each and
// heartbeating every r.hb: what r asks for.
func (s *suite) connected(r connectedRun, idleL, idleV int64) error {
	n := r.n
	t0 := time.Now()
	hs, failed, err := s.connect(n, 100+n/s.perProc*2, r.hb)
	defer func() {
		held, lost := release(hs)
		s.add(fmt.Sprintf("%d clients: seats held at the end / lost", n), fmt.Sprintf("%d / %d", held, lost), "no loss", ptr(lost == 0 && held == n))
		// Wait until the vendor daemon has freed them all, so that the
		// next figure starts from an idle server.
		s.waitIdle()
	}()
	if err != nil {
		return err
	}
	s.add(fmt.Sprintf("%d clients connected and holding a seat: errors", n), fmt.Sprintf("%d (connected in %.1f s)", failed, time.Since(t0).Seconds()), "0", ptr(failed == 0))
	if r.memory || r.cpu {
		// Let every client heartbeat at least once before measuring.
		s.sleep(r.hb + time.Second)
	}
	if r.memory {
		ml, _ := bench.ReadMemory(s.srv.PID())
		mv, _ := bench.ReadMemory(s.srv.VendorPID)
		rv := mv.RSS
		if s.profile != "" {
			// A profiling vendor daemon writes a heap profile on SIGUSR1.
			_ = syscall.Kill(s.srv.VendorPID, syscall.SIGUSR1)
		}
		target, met := "", (*bool)(nil)
		if n == 10000 {
			target, met = "< 100 MB", ptr(rv < 100<<20)
		}
		s.add(fmt.Sprintf("RSS, vendor daemon, %d clients", n), mv.String(), target, met)
		s.add(fmt.Sprintf("RSS, lmgrd, %d clients", n), ml.String(), "", nil)
		s.add(fmt.Sprintf("bytes per client, vendor daemon (%d)", n), bench.Group(float64(rv-idleV)/float64(n), 0)+" B", "", nil)
	}
	if r.cpu {
		// Nothing but heartbeats, for two intervals or for s.beats
		// heartbeats, whichever is longer.
		window := max(2*r.hb, time.Duration(float64(r.hb)*float64(s.beats)/float64(n)))
		c0, err0 := bench.CPUTime(s.srv.VendorPID)
		w0 := time.Now()
		s.sleep(window)
		c1, err1 := bench.CPUTime(s.srv.VendorPID)
		if err0 == nil && err1 == nil && s.ctx.Err() == nil {
			wall := time.Since(w0)
			beats := float64(n) * wall.Seconds() / r.hb.Seconds()
			per := float64(c1-c0) / float64(time.Microsecond) / beats
			if s.beatCPU == nil {
				s.beatCPU = map[int]float64{}
			}
			s.beatCPU[n] = per
			s.add(fmt.Sprintf("vendor daemon CPU per heartbeat, %d clients every %v", n, r.hb),
				fmt.Sprintf("%.1f µs (%.1f%% of a core, %s heartbeats in %.0f s)", per, 100*float64(c1-c0)/float64(wall), bench.Group(beats, 0), wall.Seconds()), "", nil)
		}
	}
	if r.latency {
		if err := s.latency(n, r.hb); err != nil {
			return err
		}
	}
	if r.lmstat {
		return s.lmstat(n)
	}
	return nil
}

// beatCurve adds the row that compares the vendor daemon's CPU per
// heartbeat at the most clients measured with that at 1,000.
func (s *suite) beatCurve() {
	small, ok := s.beatCPU[1000]
	most := 0
	for n := range s.beatCPU {
		most = max(most, n)
	}
	if !ok || most <= 1000 || small == 0 {
		return
	}
	f := s.beatCPU[most] / small
	s.add(fmt.Sprintf("vendor daemon CPU per heartbeat, %d clients ÷ 1000", most), fmt.Sprintf("%.2f×", f), "0.70–1.30×", ptr(f >= 0.7 && f <= 1.3))
}

// sleep waits d or until the suite is interrupted.
func (s *suite) sleep(d time.Duration) {
	select {
	case <-time.After(d):
	case <-s.ctx.Done():
	}
}

// waitIdle polls lmstat until no seat is in use, for up to a minute.
func (s *suite) waitIdle() {
	deadline := time.Now().Add(3 * time.Minute)
	for time.Now().Before(deadline) && s.ctx.Err() == nil {
		out, err := exec.Command(s.lmutil, "lmstat", "-a", "-c", s.path(1)).Output()
		if err == nil && !strings.Contains(string(out), "start ") {
			return
		}
		s.sleep(500 * time.Millisecond)
	}
	if s.ctx.Err() == nil {
		s.note("seats still in use three minutes after their clients left")
	}
}

// latency measures sequential checkout latencies from one job while n
// other clients are connected and heartbeating.
func (s *suite) latency(n int, hb time.Duration) error {
	j, err := s.openJob(1, 2_000_000)
	if err != nil {
		return err
	}
	defer j.Close()
	var p50, p99, p999 bench.Runs
	samples := 0
	for r := range s.runs {
		var lat []time.Duration
		end := time.Now().Add(s.dur)
		for i := 0; time.Now().Before(end); i++ {
			t := time.Now()
			lic, err := j.Checkout(s.ctx, bench.FeatureName((i*7+r)%s.features), "1.0", 1)
			d := time.Since(t)
			if err != nil {
				return fmt.Errorf("checkout with %d clients: %w", n, err)
			}
			if err := lic.Checkin(s.ctx); err != nil {
				return err
			}
			lat = append(lat, d)
		}
		slices.Sort(lat)
		samples += len(lat)
		p50 = append(p50, bench.Millis(bench.Percentile(lat, 0.50)))
		p99 = append(p99, bench.Millis(bench.Percentile(lat, 0.99)))
		p999 = append(p999, bench.Millis(bench.Percentile(lat, 0.999)))
	}
	s.add(fmt.Sprintf("checkout latency p50, %d clients heartbeating every %v", n, hb), p50.Format("ms", 3), "", nil)
	s.add(fmt.Sprintf("checkout latency p99, %d clients heartbeating every %v", n, hb), p99.Format("ms", 3), "< 2 ms", ptr(p99.Median() < 2))
	s.add(fmt.Sprintf("checkout latency p999, %d clients heartbeating every %v", n, hb), p999.Format("ms", 3), "", nil)
	s.note("latency: %d sequential checkouts from one job in %d runs of %v, while %d clients heartbeat every %v (%.0f heartbeats/s)",
		samples, s.runs, s.dur, n, hb, float64(n)/hb.Seconds())
	return nil
}

// lmstat times whole lmstat processes against n seats in use.
func (s *suite) lmstat(n int) error {
	for _, c := range []struct {
		name string
		args []string
	}{
		{"lmstat -a", []string{"lmstat", "-a", "-c", s.path(1)}},
		{"lmstat -f " + bench.FeatureName(500), []string{"lmstat", "-f", bench.FeatureName(500), "-c", s.path(1)}},
	} {
		var wall bench.Runs
		var bytes int64
		for range max(s.runs, 5) {
			d, nb, err := bench.WallTime(s.ctx, s.dir, s.lmutil, c.args...)
			if err != nil {
				return fmt.Errorf("%s: %w", c.name, err)
			}
			wall = append(wall, bench.Millis(d))
			bytes = nb
		}
		s.add(fmt.Sprintf("%s wall, %d seats over %d features (%s out)", c.name, n, s.features, kb(bytes)), wall.Format("ms", 1), "< 100 ms", ptr(wall.Median() < 100))
	}
	return nil
}

func kb(n int64) string { return fmt.Sprintf("%d KB", n>>10) }

// licenseFiles times parse+verify of a 20,000-line signed license.
func (s *suite) licenseFiles() error {
	key, err := licfile.LoadPrivateKey(filepath.Join(s.keys, bench.Vendor+".key"))
	if err != nil {
		return err
	}
	pub, err := licfile.LoadPublicKey(filepath.Join(s.keys, bench.Vendor+".pub"))
	if err != nil {
		return err
	}
	const lines = 20000
	data, err := bench.SignLicense(bench.LicenseText(27000, lines-2, 10), key.Key)
	if err != nil {
		return err
	}
	var t bench.Runs
	for range s.runs {
		start := time.Now()
		n, err := bench.ParseVerify(data, pub.Key)
		d := time.Since(start)
		if err != nil || n != lines-2 {
			return fmt.Errorf("parse+verify: %d lines, %v", n, err)
		}
		t = append(t, bench.Millis(d))
	}
	s.add(fmt.Sprintf("parse+verify, %d-line signed license (%s)", lines, kb(int64(len(data)))), t.Format("ms", 1), "< 100 ms", ptr(t.Median() < 100))
	return nil
}

// commands times small lmutil processes.
func (s *suite) commands() error {
	for _, c := range []struct {
		name   string
		args   []string
		target float64
	}{
		{"lmhostid -n", []string{"lmhostid", "-n"}, 10},
		{"lmutil -v", []string{"-v"}, 0},
	} {
		var wall bench.Runs
		for range max(s.runs, 11) {
			d, _, err := bench.WallTime(s.ctx, s.dir, s.lmutil, c.args...)
			if err != nil {
				return fmt.Errorf("%s: %w", c.name, err)
			}
			wall = append(wall, bench.Millis(d))
		}
		target, met := "", (*bool)(nil)
		if c.target > 0 {
			target, met = fmt.Sprintf("< %.0f ms", c.target), ptr(wall.Median() < c.target)
		}
		s.add(c.name+" process wall time", wall.Format("ms", 2), target, met)
	}
	return nil
}

// reportLog adds the report log's Go benchmarks to the table. Batched
// syncing counts as not bound by the disk's sync rate when it appends at
// least ten times as many records as a sync per record allows.
func (s *suite) reportLog() {
	var each float64
	for _, b := range s.goBench {
		if b.Name == "BenchmarkAppendEach" {
			each = b.metric("records/s").Median()
		}
	}
	for _, b := range s.goBench {
		var mode, target string
		var met *bool
		r := b.metric("records/s")
		switch b.Name {
		case "BenchmarkAppendBatched":
			mode, target = "batched sync", "not bound by sync rate"
			if each > 0 {
				met = ptr(r.Median() >= 10*each)
			}
		case "BenchmarkAppendGroup":
			mode = "group sync"
		case "BenchmarkAppendEach":
			mode = "a sync per record"
		default:
			continue
		}
		s.add("report log records/s, "+mode, r.Format("records/s", 0), target, met)
	}
}
