package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"

	"golm/lmutil/protocol/client"
	"golm/lmutil/server/bench"
)

// licenseLines measures, for a signed license of each of counts lines,
// the time from lmgrd's start until its vendor daemon serves, the time
// of an lmreread of the same file until the vendor daemon has applied
// it, the longest a checkout waited meanwhile, and the RSS of lmgrd and
// of the vendor daemon after one reread and after ten.
func (s *suite) licenseLines(counts []int) error {
	for _, lines := range counts {
		if err := s.licenseLinesOf(lines); err != nil {
			return fmt.Errorf("%d license lines: %w", lines, err)
		}
	}
	return nil
}

// rereadDone is what a vendor daemon's debug log says once it applied an
// lmreread (its list of features follows).
const rereadDone = "(" + bench.Vendor + ") Rereading license file"

func (s *suite) licenseLinesOf(lines int) error {
	port, err := bench.FreePort()
	if err != nil {
		return err
	}
	dir := filepath.Join(s.dir, "lines"+strconv.Itoa(lines))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	// SERVER, VENDOR and the hot feature are lines too.
	lic, err := bench.WriteLicense(dir, s.keys, port, lines-3, 10)
	if err != nil {
		return err
	}
	var env []string
	if s.profile != "" {
		env = append(env, "GOLM_PPROF="+s.profile)
	}
	n := bench.Group(float64(lines), 0)
	t0 := time.Now()
	srv, err := bench.StartLmgrd(s.lmutil, lic, dir, env, 5*time.Minute)
	if err != nil {
		return err
	}
	defer srv.Stop()
	start := time.Since(t0)
	s.add(fmt.Sprintf("lmgrd start to vendor daemon serving, %s license lines", n), fmt.Sprintf("%.0f ms", bench.Millis(start)), lineTarget(lines), lineMet(lines, start))
	path := fmt.Sprintf("%d@127.0.0.1", srv.Port)
	probe, err := startProbe(s.ctx, path, s)
	if err != nil {
		return err
	}
	defer probe.stop()
	rss := func() string {
		probe.pause(true)
		defer probe.pause(false)
		ml := settledRSS(srv.PID())
		mv := settledRSS(srv.VendorPID)
		return fmt.Sprintf("lmgrd %s, vendor daemon %s", mb(ml), mb(mv))
	}
	var wall bench.Runs
	var after1 string
	done := srv.Watch(rereadDone)
	// Room for a reread of 200,000 lines on a loaded machine.
	timeout := time.Minute + time.Duration(lines)*time.Millisecond
	var longest time.Duration
	for i := range 10 {
		probe.reset()
		t := time.Now()
		if _, _, err := bench.WallTime(s.ctx, dir, s.lmutil, "lmreread", "-c", path); err != nil {
			return fmt.Errorf("lmreread: %w", err)
		}
		if err := done.Wait(i+1, timeout); err != nil {
			return err
		}
		wall = append(wall, bench.Millis(time.Since(t)))
		longest = max(longest, probe.longest())
		if i == 0 {
			after1 = rss()
		}
		if s.profile != "" && (i == 0 || i == 9) {
			// Profiling daemons write a heap profile on SIGUSR1.
			_ = syscall.Kill(srv.PID(), syscall.SIGUSR1)
			_ = syscall.Kill(srv.VendorPID, syscall.SIGUSR1)
		}
	}
	checkouts, errs := probe.stop()
	s.add(fmt.Sprintf("lmreread until the vendor daemon applied it, %s license lines", n), wall.Format("ms", 0), lineTarget(lines), lineMet(lines, time.Duration(wall.Median()*float64(time.Millisecond))))
	s.add(fmt.Sprintf("longest checkout during the rereads, %s license lines", n), fmt.Sprintf("%.1f ms (%d checkouts, %d errors)", bench.Millis(longest), checkouts, errs), "", nil)
	s.add(fmt.Sprintf("RSS after 1 reread, %s license lines", n), after1, "", nil)
	s.add(fmt.Sprintf("RSS after 10 rereads, %s license lines", n), rss(), "", nil)
	return nil
}

// lineTarget is issue 16's bound on start-up and reread for a license of
// lines lines.
func lineTarget(lines int) string {
	switch {
	case lines <= 20000:
		return "< 1 s"
	case lines <= 200000:
		return "< 10 s"
	}
	return ""
}

func lineMet(lines int, d time.Duration) *bool {
	switch {
	case lines <= 20000:
		return ptr(d < time.Second)
	case lines <= 200000:
		return ptr(d < 10*time.Second)
	}
	return nil
}

// settledRSS is a process's VmRSS once it is quiet: a vendor daemon
// gives back what a reread left behind after it logged the reread (a
// collection, then returning pages), so a reading at once would catch
// both readings of the license. Quiet is under a third of a core's
// time used or waited for (bench.BusyTime: on a loaded machine a
// working process waits for a CPU) in each of three tenths of a second
// in a row, for at most two minutes. The caller pauses the probe.
func settledRSS(pid int) int64 {
	const step = 100 * time.Millisecond
	c0, err := bench.BusyTime(pid)
	for quiet, deadline := 0, time.Now().Add(2*time.Minute); err == nil && quiet < 3 && time.Now().Before(deadline); {
		time.Sleep(step) // sampling a process's CPU time
		var c1 time.Duration
		if c1, err = bench.BusyTime(pid); err == nil && c1-c0 < step/3 {
			quiet++
		} else {
			quiet = 0
		}
		c0 = c1
	}
	m, _ := bench.ReadMemory(pid)
	return m.RSS
}

// probe is one client checking a seat out and in again every
// probeEvery, timing each checkout, while the license is reread.
type probe struct {
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu       sync.Mutex
	max      time.Duration // since the last reset
	n, errs  int
	paused   bool
	stopOnce sync.Once
}

func startProbe(ctx context.Context, path string, s *suite) (*probe, error) {
	j, err := client.Open(ctx, path, client.WithMachine(s.machine), client.WithUser("probe"))
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	p := &probe{cancel: cancel}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		defer j.Close()
		feature := bench.FeatureName(0)
		tick := time.NewTicker(probeEvery)
		defer tick.Stop()
		for ctx.Err() == nil {
			select {
			case <-tick.C:
			case <-ctx.Done():
				return
			}
			p.mu.Lock()
			paused := p.paused
			p.mu.Unlock()
			if paused {
				continue
			}
			t := time.Now()
			lic, err := j.Checkout(ctx, feature, "1.0", 1)
			d := time.Since(t)
			if err == nil {
				err = lic.Checkin(ctx)
			}
			p.mu.Lock()
			p.max = max(p.max, d)
			p.n++
			if err != nil && ctx.Err() == nil {
				p.errs++
			}
			p.mu.Unlock()
		}
	}()
	return p, nil
}

// probeEvery paces the probe: a checkout at most every 2 ms, the
// resolution of the longest wait it reports, and little work for the
// vendor daemon (whose CPU and memory the stage also reads).
const probeEvery = 2 * time.Millisecond

func (p *probe) pause(on bool) {
	p.mu.Lock()
	p.paused = on
	p.mu.Unlock()
}

func (p *probe) reset() {
	p.mu.Lock()
	p.max = 0
	p.mu.Unlock()
}

func (p *probe) longest() time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.max
}

// stop ends the probe and returns its checkouts and errors.
func (p *probe) stop() (checkouts, errs int) {
	p.stopOnce.Do(func() { p.cancel(); p.wg.Wait() })
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.n, p.errs
}
