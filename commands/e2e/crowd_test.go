package e2e_test

import (
	"context"
	"errors"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golm/lmutil/protocol"
	"golm/lmutil/protocol/client"
	golm "golm/lmutil/server"
)

// envInt is the integer in the environment variable name, or def.
func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}

// idleConns opens n connections to port, each saying HELLO as a client
// and then nothing. It returns how many the server took (answered HELLO),
// refused with -106, or closed without a word.
func idleConns(t *testing.T, port, n int) (taken, refused, closed int, conns []net.Conn) {
	t.Helper()
	hello := frames(t, clientHello(protocol.Identity{User: "idle", Host: "crowd", Display: "x"}))
	for range n {
		c, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), deadline)
		if err != nil {
			t.Fatalf("connection %d: %v", len(conns)+1, err)
		}
		conns = append(conns, c)
		c.SetDeadline(time.Now().Add(deadline))
		c.Write(hello)
		m, err := protocol.NewReader(c).ReadMessage()
		c.SetDeadline(time.Time{})
		switch m := m.(type) {
		case *protocol.Hello:
			taken++
		case *protocol.Error:
			if m.Code != -106 {
				t.Fatalf("connection %d refused with %d, want -106", len(conns), m.Code)
			}
			refused++
		default:
			if err == nil {
				t.Fatalf("connection %d answered %s", len(conns), m.Type())
			}
			closed++
		}
	}
	t.Cleanup(func() {
		for _, c := range conns {
			c.Close()
		}
	})
	return taken, refused, closed, conns
}

// TestIdleConnections: a crowd of idle connections fills lmgrd's and the
// vendor daemon's connection limits; past them clients are refused with
// -106, lmstat still gets in on the slots kept for admin tools on this
// host, the established steady loop goes on, and once the crowd leaves
// new clients are served again. GOLM_E2E_IDLE sets the crowd's size per
// daemon (default 600, limit 500).
func TestIdleConnections(t *testing.T) {
	t.Parallel()
	const limit = 500
	n := envInt("GOLM_E2E_IDLE", 600)
	s := startServerEnv(t, hostileFeatures, nil, []string{golm.MaxConnectionsEnv + "=" + strconv.Itoa(limit)})
	st := startSteady(t, s, "steady")
	st.progress(t, "start")
	var all []net.Conn
	for _, d := range []struct {
		name string
		port int
	}{{"vendor daemon", s.vendorPort()}, {"lmgrd", s.port}} {
		taken, refused, closed, conns := idleConns(t, d.port, n)
		all = append(all, conns...)
		t.Logf("%s: %d idle connections taken, %d refused with -106, %d closed", d.name, taken, refused, closed)
		if taken > limit || taken < limit-10 {
			t.Errorf("%s took %d idle connections, want about %d", d.name, taken, limit)
		}
		if refused == 0 {
			t.Errorf("%s refused no connection with -106", d.name)
		}
	}
	r := s.run(nil, "lmstat", "-a", "-c", s.lic)
	if r.status != 0 || !strings.Contains(r.stdout, "Users of steady:") {
		t.Errorf("lmstat -a with the limits reached: exit %d\n%s%s", r.status, r.stdout, r.stderr)
	}
	r = s.run([]string{"USER=late", "LOGNAME=late"}, "lmwrap", "-c", s.lic, "f1", "--", "true")
	if r.status != 256-106 || !strings.Contains(r.stderr, "out of network connections") {
		t.Errorf("lmwrap with the limits reached: exit %d, stderr %q; want %d and -106", r.status, r.stderr, 256-106)
	}
	st.progress(t, "the idle crowd")
	s.waitLog(`\((?:lmgrd|demo)\) Out of network connections`, 1)
	for _, c := range all {
		c.Close()
	}
	poll(t, "a new client to be served after the crowd left", func() bool {
		return s.run([]string{"USER=late", "LOGNAME=late"}, "lmwrap", "-c", s.lic, "f1", "--", "true").status == 0
	})
	st.progress(t, "the crowd leaving")
}

// TestReconnectStorm: many clients hold a seat each; the vendor daemon is
// killed with SIGKILL; lmgrd restarts it and every client comes back at
// once and holds its seat again, counted once. GOLM_E2E_STORM sets the
// number of clients (default 300; the full size is 5000).
func TestReconnectStorm(t *testing.T) {
	t.Parallel()
	n := envInt("GOLM_E2E_STORM", 300)
	s := startServer(t, hostileFeatures)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	jobs := make([]*client.Job, n)
	lics := make([]*client.License, n)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	sem := make(chan struct{}, 64) // connect in waves, like a login rush
	for i := range n {
		job, err := client.Open(ctx, s.lic, client.WithUser("storm"+strconv.Itoa(i)), client.WithDisplay("d"),
			client.WithHeartbeat(time.Second), client.WithCallTimeout(deadline))
		if err != nil {
			t.Fatal(err)
		}
		jobs[i] = job
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			lic, err := job.Checkout(ctx, "big", "1.0", 1)
			if err != nil {
				errs <- err
				return
			}
			lics[i] = lic
		}()
	}
	t.Cleanup(func() {
		for _, j := range jobs {
			j.Close()
		}
	})
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("checkout before the storm: %v", err)
	}
	s.waitInUse("big", n)
	pids := s.vendorPIDs()
	if err := syscall.Kill(pids[len(pids)-1], syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	s.waitLog(`\(lmgrd\) REStarted demo`, 1)
	s.waitInUse("big", n)
	for i, lic := range lics {
		if err := lic.Err(); err != nil {
			t.Errorf("client %d lost its seat in the storm: %v", i, err)
		}
	}
	// Nobody holds two seats: a new checkout of the last seats still works
	// and the count stays exact.
	if u := s.usage()["big"]; u[1] != n {
		t.Errorf("big in use %d after the storm, want %d", u[1], n)
	}
	var pe *client.Error
	for _, lic := range lics {
		if err := lic.Checkin(ctx); err != nil && !errors.As(err, &pe) {
			t.Errorf("checkin after the storm: %v", err)
		}
	}
	s.waitInUse("big", 0)
}
