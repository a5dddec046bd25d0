package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golm/lmutil/protocol/client"
	"golm/lmutil/server/bench"
)

// defaultTriadGrace is the new master's grace period in the triad stage
// (GOLM_TRIAD_GRACE; suite.triadGrace): short, so that the stage can see
// within its time that no seat went back for want of a client
// reattaching.
const defaultTriadGrace = 8 * time.Second

// triadBench is the triad stage's servers and jobs.
type triadBench struct {
	s       *suite
	members []*bench.Server
	single  *bench.Server
	spec    string // the triad's license path, in SERVER-line order
	addrs   string // how the members listen, for the report

	// Counts of the triad jobs' own log: seats checked out again after a
	// reconnect, those the new master re-adopted under their handle,
	// those lost, and when the last one was checked out again.
	again, adopted, lost atomic.Int64
	last                 atomic.Int64
}

// triadStage measures a three-server triad beside one server of the same
// license, in the same run: checkout+checkin pairs/s of s.triadJobs Jobs
// on each, the checkout latency of one more Job while those hold a seat
// each, and a failover: the master's lmgrd and vendor daemon killed with
// SIGKILL while the Jobs hold their seats, the time to the new master's
// first grant, and the seats it kept under their handles.
func (s *suite) triadStage() error {
	t := &triadBench{s: s}
	defer t.stop()
	t0 := time.Now()
	if err := t.start(); err != nil {
		return err
	}
	master, err := bench.WaitMaster(t.members, 30*time.Second)
	if err != nil {
		return err
	}
	s.add("triad: three members started and a master elected", fmt.Sprintf("%.1f s (%s)", time.Since(t0).Seconds(), t.addrs), "", nil)
	n := s.triadJobs
	tj, err := t.openJobs(t.spec, n, "t", true)
	if err != nil {
		return err
	}
	defer closeJobs(tj)
	sj, err := t.openJobs(fmt.Sprintf("%d@127.0.0.1", t.single.Port), n, "s", false)
	if err != nil {
		return err
	}
	defer closeJobs(sj)

	// Throughput, the triad and the one server interleaved run by run.
	spread := func(i int) string { return bench.FeatureName(i % s.features) }
	tri, one, ratio, err := s.pairsAB(tj, sj, spread, "triad", "one server")
	if err != nil {
		return fmt.Errorf("%d jobs: %w", n, err)
	}
	s.add(fmt.Sprintf("triad: checkout+checkin pairs/s, %d jobs", n), tri.Format("pairs/s", 0), "", nil)
	s.add(fmt.Sprintf("one server beside the triad: pairs/s, %d jobs", n), one.Format("pairs/s", 0), "", nil)
	s.add("triad pairs/s ÷ one server's, same run", ratio.Format("%", 1), "≥ 30%", ptr(ratio.Median() >= 30))

	// Every job holds a seat; one more job times its checkouts.
	tl, err := holdAll(s.ctx, tj, spread)
	if err != nil {
		return fmt.Errorf("triad: %w", err)
	}
	if _, err := holdAll(s.ctx, sj, spread); err != nil {
		return fmt.Errorf("one server beside the triad: %w", err)
	}
	tp, err := t.openJobs(t.spec, 1, "tprobe", false)
	if err != nil {
		return err
	}
	defer closeJobs(tp)
	sp, err := t.openJobs(fmt.Sprintf("%d@127.0.0.1", t.single.Port), 1, "sprobe", false)
	if err != nil {
		return err
	}
	defer closeJobs(sp)
	var tp50, tp99, sp50, sp99 bench.Runs
	samples := 0
	for r := range s.latencyRuns() {
		lat, err := s.checkoutLatency(tp[0], r)
		if err != nil {
			return fmt.Errorf("triad: %w", err)
		}
		samples += len(lat)
		tp50, tp99 = append(tp50, bench.Millis(bench.Percentile(lat, 0.5))), append(tp99, bench.Millis(bench.Percentile(lat, 0.99)))
		if lat, err = s.checkoutLatency(sp[0], r); err != nil {
			return fmt.Errorf("one server beside the triad: %w", err)
		}
		sp50, sp99 = append(sp50, bench.Millis(bench.Percentile(lat, 0.5))), append(sp99, bench.Millis(bench.Percentile(lat, 0.99)))
	}
	s.add(fmt.Sprintf("triad: checkout latency p50, %d jobs holding a seat", n), tp50.Format("ms", 3), "", nil)
	s.add(fmt.Sprintf("triad: checkout latency p99, %d jobs holding a seat", n), tp99.Format("ms", 3), "< 5 ms", ptr(tp99.Median() < 5))
	s.add("one server beside the triad: checkout latency p50 / p99", sp50.Format("ms", 3)+" / "+sp99.Format("ms", 3), "", nil)
	s.note("triad latency: %d sequential checkouts from one job on the triad in %d runs of %v, beside as many on the one server, while %d jobs hold a seat each on each", samples, len(tp99), s.dur/2, n)
	// The one server is done with: the failover has the machine.
	closeJobs(sj)
	closeJobs(sp)
	t.single.Stop()
	t.single = nil

	return t.failover(master, tj, tl, tp[0])
}

// latencyRuns is the runs of the triad's latency figures.
func (s *suite) latencyRuns() int { return max(s.runs-2, 1) }

// start starts the one server and the three members, in SERVER-line
// order.
func (t *triadBench) start() error {
	s := t.s
	dir := filepath.Join(s.dir, "triad")
	ips := []string{"127.0.0.1", "127.0.0.2", "127.0.0.3"}
	var ports []int
	if err := bench.CanListen(ips...); err != nil {
		s.note("triad: %v; the members listen on three ports of 127.0.0.1 instead", err)
		ips = []string{"127.0.0.1", "127.0.0.1", "127.0.0.1"}
		if ports, err = bench.TriadPorts(3); err != nil {
			return err
		}
		t.addrs = "three ports of 127.0.0.1"
	} else {
		p, err := bench.TriadPorts(1)
		if err != nil {
			return err
		}
		ports = []int{p[0], p[0], p[0]}
		t.addrs = "127.0.0.1, .2 and .3, one port"
	}
	env := []string{"GOLM_MAX_CONNECTIONS=1000000", "GOLM_TRIAD_GRACE=" + s.grace().String()}
	if s.profile != "" {
		env = append(env, "GOLM_PPROF="+s.profile)
	}
	var names []string
	for i := range ips {
		mdir := filepath.Join(dir, fmt.Sprintf("m%d", i+1))
		if err := os.MkdirAll(mdir, 0o755); err != nil {
			return err
		}
		lic, err := bench.WriteTriadLicense(mdir, s.keys, ips, ports, s.features, 100)
		if err != nil {
			return err
		}
		m, err := bench.StartMember(s.lmutil, lic, mdir, ips[i], ports[i], env, 30*time.Second)
		if err != nil {
			return fmt.Errorf("triad member %d: %w", i+1, err)
		}
		t.members = append(t.members, m)
		names = append(names, m.Name)
		fmt.Printf("triad member %s: lmgrd pid %d, vendor daemon pid %d\n", m.Name, m.PID(), m.VendorPID)
	}
	t.spec = strings.Join(names, ",")
	sdir := filepath.Join(dir, "single")
	if err := os.MkdirAll(sdir, 0o755); err != nil {
		return err
	}
	port, err := bench.FreePort()
	if err != nil {
		return err
	}
	lic, err := bench.WriteLicense(sdir, s.keys, port, s.features, 100)
	if err != nil {
		return err
	}
	if t.single, err = bench.StartLmgrd(s.lmutil, lic, sdir, env[:1], 30*time.Second); err != nil {
		return err
	}
	return nil
}

// stop stops every server still running.
func (t *triadBench) stop() {
	if t.single != nil {
		t.single.Stop()
	}
	for _, m := range t.members {
		if m.Alive() {
			m.Stop()
		}
	}
}

// logf counts what the triad jobs' own log says about their seats.
func (t *triadBench) logf(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	switch {
	case strings.Contains(msg, " re-checked-out after reconnecting"):
		t.again.Add(1)
		if strings.HasSuffix(msg, "(adopted true)") {
			t.adopted.Add(1)
		}
		t.last.Store(time.Now().UnixNano())
	case strings.HasPrefix(msg, "lost "):
		t.lost.Add(1)
	}
}

// openJobs opens n jobs on path, users prefix0, prefix1, ..., each
// connected (a checkout and checkin of the hot feature) before it
// returns; counted jobs log to t.logf.
func (t *triadBench) openJobs(path string, n int, prefix string, counted bool) ([]*client.Job, error) {
	s := t.s
	jobs := make([]*client.Job, n)
	var firstErr atomic.Value
	sem := make(chan struct{}, 32)
	var wg sync.WaitGroup
	for i := range jobs {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			opts := []client.Option{client.WithMachine(s.machine), client.WithUser(fmt.Sprintf("%s%d", prefix, i)),
				client.WithDisplay(fmt.Sprintf(":%d", i)), client.WithPID(i + 1)}
			if counted {
				opts = append(opts, client.WithLogger(t.logf))
			}
			j, err := client.Open(s.ctx, path, opts...)
			if err == nil {
				jobs[i] = j
				var lic *client.License
				if lic, err = j.Checkout(s.ctx, bench.HotFeature, "1.0", 1); err == nil {
					err = lic.Checkin(s.ctx)
				}
			}
			if err != nil {
				firstErr.CompareAndSwap(nil, err.Error())
			}
		}()
	}
	wg.Wait()
	if e := firstErr.Load(); e != nil {
		closeJobs(jobs)
		return nil, fmt.Errorf("%d jobs on %s: %s", n, path, e)
	}
	return jobs, nil
}

// closeJobs closes every job opened (a nil one is skipped).
func closeJobs(jobs []*client.Job) {
	for _, j := range jobs {
		if j != nil {
			j.Close()
		}
	}
}

// holdAll has job i check out feature(i) and keep it.
func holdAll(ctx context.Context, jobs []*client.Job, feature func(i int) string) ([]*client.License, error) {
	lics := make([]*client.License, len(jobs))
	var firstErr atomic.Value
	sem := make(chan struct{}, 64)
	var wg sync.WaitGroup
	for i, j := range jobs {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			lic, err := j.Checkout(ctx, feature(i), "1.0", 1)
			if err != nil {
				firstErr.CompareAndSwap(nil, err.Error())
				return
			}
			lics[i] = lic
		}()
	}
	wg.Wait()
	if e := firstErr.Load(); e != nil {
		return nil, fmt.Errorf("%d jobs holding a seat: %s", len(jobs), e)
	}
	return lics, nil
}

// checkoutLatency times sequential checkouts (each checked in again) of
// job for half a throughput run, and returns them sorted.
func (s *suite) checkoutLatency(j *client.Job, r int) ([]time.Duration, error) {
	var lat []time.Duration
	end := time.Now().Add(s.dur / 2)
	for i := 0; time.Now().Before(end); i++ {
		t := time.Now()
		lic, err := j.Checkout(s.ctx, bench.FeatureName((i*7+r)%s.features), "1.0", 1)
		d := time.Since(t)
		if err != nil {
			return nil, fmt.Errorf("checkout: %w", err)
		}
		if err := lic.Checkin(s.ctx); err != nil {
			return nil, err
		}
		lat = append(lat, d)
	}
	slices.Sort(lat)
	return lat, nil
}

// seatRE is a seat of lmstat -a: user, host, display, version and the
// handle.
var seatRE = regexp.MustCompile(`(?m)^    (\S+) \S+ \S+ \(v1\.0\) \(\S+ (\d+)\)`)

// seats is user → handle of the seats lmstat -a of one member shows.
func (t *triadBench) seats(m *bench.Server) (map[string]string, error) {
	out, err := exec.CommandContext(t.s.ctx, t.s.lmutil, "lmstat", "-a", "-c", m.Name).Output()
	if err != nil {
		return nil, fmt.Errorf("lmstat -a -c %s: %w", m.Name, err)
	}
	seats := map[string]string{}
	for _, g := range seatRE.FindAllStringSubmatch(string(out), -1) {
		seats[g[1]] = g[2]
	}
	return seats, nil
}

// failover kills the master (lmgrd and vendor daemon, SIGKILL) while
// jobs hold lics, times the first grant to probe by the new master, and
// counts the seats kept under their handles, on the client side (each
// License) and on the new master (lmstat -a), once the grace period of
// the new master is over.
func (t *triadBench) failover(master *bench.Server, jobs []*client.Job, lics []*client.License, probe *client.Job) error {
	s := t.s
	n := len(jobs)
	handles := map[string]string{}
	for i, l := range lics {
		handles[fmt.Sprintf("t%d", i)] = fmt.Sprint(l.Handle())
	}
	// Every member has applied every seat before the kill.
	deadline := time.Now().Add(30 * time.Second)
	for _, m := range t.members {
		for {
			got, err := t.seats(m)
			if err != nil {
				return err
			}
			if kept(got, handles) == n {
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("triad: %s shows %d of the %d seats held", m.Name, kept(got, handles), n)
			}
			s.sleep(100 * time.Millisecond)
		}
	}
	again0, adopted0, lost0 := t.again.Load(), t.adopted.Load(), t.lost.Load()
	var others []*bench.Server
	for _, m := range t.members {
		if m != master {
			others = append(others, m)
		}
	}
	t0 := time.Now()
	master.Kill()
	elected := make(chan time.Duration, 1)
	var next *bench.Server
	go func() {
		m, err := bench.WaitMaster(others, 30*time.Second)
		next = m
		if err != nil {
			elected <- -1
			return
		}
		elected <- time.Since(t0)
	}()
	ctx, cancel := context.WithTimeout(s.ctx, 30*time.Second)
	defer cancel()
	var first time.Duration
	for {
		lic, err := probe.Checkout(ctx, bench.HotFeature, "1.0", 1)
		if err == nil {
			first = time.Since(t0)
			_ = lic.Checkin(ctx)
			break
		}
		if ctx.Err() != nil {
			return fmt.Errorf("triad failover: no grant within 30 s of the kill: %w", err)
		}
	}
	took := <-elected
	if took < 0 || next == nil {
		return fmt.Errorf("triad failover: the two members left agreed on no master")
	}
	// Every job back: re-checked-out (adopted or not) or lost.
	for time.Now().Before(t0.Add(s.grace()+20*time.Second)) && s.ctx.Err() == nil {
		if t.again.Load()-again0+t.lost.Load()-lost0 >= int64(n) {
			break
		}
		s.sleep(20 * time.Millisecond)
	}
	back := time.Duration(max(t.last.Load()-t0.UnixNano(), 0))
	// Past the grace period only the seats of sessions that reattached
	// are still out.
	s.sleep(time.Until(t0.Add(took + s.grace() + time.Second)))
	got, err := t.seats(next)
	if err != nil {
		return err
	}
	onMaster := kept(got, handles)
	same := 0
	for i, l := range lics {
		if l.Err() == nil && fmt.Sprint(l.Handle()) == handles[fmt.Sprintf("t%d", i)] {
			same++
		}
	}
	adopted, lost := t.adopted.Load()-adopted0, t.lost.Load()-lost0
	s.add("triad failover: kill -9 of the master to the first grant by the new master", fmt.Sprintf("%.2f s (elected after %.2f s)", first.Seconds(), took.Seconds()), "< 5 s", ptr(first < 5*time.Second))
	s.add(fmt.Sprintf("triad failover: seats of %d live jobs kept under their handle / lost", n),
		fmt.Sprintf("%d / %d (all back after %.2f s; %d on the new master; %d re-adoptions)", min(same, onMaster), n-min(same, onMaster), back.Seconds(), onMaster, adopted),
		// Kept is what the jobs and the new master show: each job's
		// handle, on the new master, none lost. The re-adoptions its
		// log counts are reported, not judged: a job may move more than
		// once (a member that is not the master answers its heartbeat
		// with -96) and be re-checked-out by either path.
		"all kept", ptr(same == n && onMaster == n && lost == 0))
	return nil
}

// kept counts the users of want whose seat got shows under the same
// handle.
func kept(got, want map[string]string) int {
	k := 0
	for u, h := range want {
		if got[u] == h {
			k++
		}
	}
	return k
}

// grace is the triad stage's grace period: s.triadGrace, else
// defaultTriadGrace.
func (s *suite) grace() time.Duration {
	if s.triadGrace > 0 {
		return s.triadGrace
	}
	return defaultTriadGrace
}
