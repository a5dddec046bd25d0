package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"syscall"
	"time"

	"golm/lmutil/server/bench"
)

// restartedRE is lmgrd's log line for a vendor daemon it restarted.
var restartedRE = regexp.MustCompile(`REStarted ` + bench.Vendor + ` \(internet tcp_port \d+ pid (\d+)\)`)

// restartRecovery measures how long n clients holding a seat each take
// to hold them all again after the vendor daemon is killed with SIGKILL:
// lmgrd restarts it (after its first restart pause), and every client
// reconnects through lmgrd and checks its seat out again. It also counts
// the connection attempts the kernel dropped meanwhile because a listen
// queue was full (ListenOverflows, machine-wide). The server is its own,
// so that no other figure sees a restarted daemon.
func (s *suite) restartRecovery(n int) error {
	port, err := bench.FreePort()
	if err != nil {
		return err
	}
	dir := filepath.Join(s.dir, "restart")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	lic, err := bench.WriteLicense(dir, s.keys, port, s.features, 100)
	if err != nil {
		return err
	}
	env := []string{"GOLM_MAX_CONNECTIONS=1000000"}
	if s.profile != "" {
		env = append(env, "GOLM_PPROF="+s.profile)
	}
	srv, err := bench.StartLmgrd(s.lmutil, lic, dir, env, 30*time.Second)
	if err != nil {
		return err
	}
	defer srv.Stop()
	saved := s.srv
	s.srv = srv
	defer func() { s.srv = saved }()
	hs, failed, err := s.connect(n, 150, s.heartbeat)
	defer release(hs)
	if err != nil {
		return err
	}
	if failed > 0 {
		s.note("restart recovery: %d of %d clients could not connect and hold a seat", failed, n)
	}
	held := n - failed
	o0, d0, _ := bench.ListenOverflows()
	cpu := func() (lmgrd, drivers time.Duration) {
		lmgrd, _ = bench.CPUTime(srv.PID())
		for _, h := range hs {
			d, _ := bench.CPUTime(h.cmd.Process.Pid)
			drivers += d
		}
		return lmgrd, drivers
	}
	l0, dr0 := cpu()
	t0 := time.Now()
	if err := syscall.Kill(srv.VendorPID, syscall.SIGKILL); err != nil {
		return err
	}
	var back time.Duration // until lmgrd said it restarted the vendor daemon
	newPID := 0
	var again, lost int
	var last int64
	for deadline := t0.Add(time.Minute); time.Now().Before(deadline) && s.ctx.Err() == nil; s.sleep(20 * time.Millisecond) {
		if back == 0 {
			if data, _ := os.ReadFile(srv.LogPath); restartedRE.Match(data) {
				back = time.Since(t0)
				newPID, _ = strconv.Atoi(string(restartedRE.FindSubmatch(data)[1]))
			}
		}
		if again, lost, last, err = count(hs); err != nil {
			return err
		}
		if again+lost >= held {
			break
		}
	}
	o1, d1, _ := bench.ListenOverflows()
	l1, dr1 := cpu()
	var vcpu time.Duration
	if newPID > 0 {
		vcpu, _ = bench.CPUTime(newPID)
	}
	took := time.Duration(last - t0.UnixNano())
	if again+lost < held {
		took = time.Since(t0)
	}
	s.add(fmt.Sprintf("restart recovery: %d seats held again after kill -9 of the vendor daemon", held),
		fmt.Sprintf("%.2f s (%d held again, %d lost; daemon back after %.2f s)", took.Seconds(), again, lost, back.Seconds()),
		"< 2 s", ptr(again == held && took < 2*time.Second))
	s.add("CPU during the restart recovery: lmgrd / new vendor daemon / client drivers", fmt.Sprintf("%.2f / %.2f / %.2f s", (l1-l0).Seconds(), vcpu.Seconds(), (dr1-dr0).Seconds()), "", nil)
	s.add("listen-queue overflows during the restart recovery", fmt.Sprintf("%d (ListenDrops %d)", o1-o0, d1-d0), "0", ptr(o1 == o0))
	s.note("restart recovery: %d clients of `golm-load hold`, heartbeating every %v, each holding a seat; the vendor daemon is killed with SIGKILL and the time runs until the last client's log says its seat was checked out again; lmgrd waits its first restart pause (200 ms) before it starts the vendor daemon again; the listen backlog is the system's somaxconn, %d", held, s.heartbeat, bench.Somaxconn())
	return nil
}

// count asks each driver how many seats it checked out again after a
// reconnect and lost, and when it last checked one out again.
func count(hs []*holder) (again, lost int, last int64, err error) {
	for _, h := range hs {
		if _, err := fmt.Fprintln(h.in, "count"); err != nil {
			return 0, 0, 0, err
		}
	}
	for _, h := range hs {
		line, err := h.out.ReadString('\n')
		var a, b int
		var l int64
		if _, err2 := fmt.Sscanf(line, "count %d %d %d", &a, &b, &l); err != nil || err2 != nil {
			return 0, 0, 0, fmt.Errorf("driver: %q: %v %v", line, err, err2)
		}
		again, lost, last = again+a, lost+b, max(last, l)
	}
	return again, lost, last, nil
}
