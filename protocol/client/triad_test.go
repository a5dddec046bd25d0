package client

import (
	"context"
	"errors"
	"fmt"
	"net"
	"testing"
	"time"

	"golm/lmutil/licfile"
	"golm/lmutil/protocol"
	"golm/lmutil/protocol/lmerr"
)

// notMaster is a member's -96 naming the master in its detail.
func notMaster(detail ...string) error {
	return lmerr.New(lmerr.ServerDown, lmerr.MinorTriadNotMaster, detail...)
}

func TestMasterOf(t *testing.T) {
	for _, c := range []struct {
		name string
		err  error
		want string // host:port, "" for none
	}{
		{"nil", nil, ""},
		{"not a FlexLM error", errors.New("Master: 27000@lic2"), ""},
		{"names the master", notMaster("Master: 27000@lic2"), "lic2:27000"},
		{"wrapped", fmt.Errorf("checkout: %w", notMaster("Master: 27000@lic2")), "lic2:27000"},
		{"spaces around the master", notMaster("Master:   27001@lic3  "), "lic3:27001"},
		{"the master after another detail", notMaster("Feature: f1", "Master: 27000@lic1"), "lic1:27000"},
		{"the first good master line", notMaster("Master: nonsense", "Master: 27000@lic3"), "lic3:27000"},
		{"no master named", notMaster("Feature: f1"), ""},
		{"the master line is not a server", notMaster("Master: @"), ""},
		{"the master line is a triad", notMaster("Master: 1@a,2@b,3@c"), ""},
		{"no quorum", lmerr.New(lmerr.ServerDown, lmerr.MinorTriadNoQuorum, "Master: 27000@lic2"), ""},
		{"another code with the minor", lmerr.New(lmerr.VendorDown, lmerr.MinorTriadNotMaster, "Master: 27000@lic2"), ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			m, ok := masterOf(c.err)
			got := ""
			if ok {
				got = fmt.Sprintf("%s:%d", m.Host, m.Port)
			} else if m != (licfile.ServerAddr{}) {
				t.Errorf("no master, yet %+v", m)
			}
			if got != c.want {
				t.Errorf("got %q, want %q", got, c.want)
			}
		})
	}
}

func TestTriadBusy(t *testing.T) {
	for _, c := range []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"plain error", errors.New("-96"), false},
		{"not the master", notMaster(), true},
		{"no quorum", lmerr.New(lmerr.ServerDown, lmerr.MinorTriadNoQuorum), true},
		{"wrapped no quorum", fmt.Errorf("x: %w", lmerr.New(lmerr.ServerDown, lmerr.MinorTriadNoQuorum)), true},
		{"broken member", lmerr.New(lmerr.ServerDown, lmerr.MinorTriadBroken), false},
		{"shutting down", lmerr.New(lmerr.VendorDown, lmerr.MinorTriadShutdown), false},
		{"-96 of another kind", lmerr.New(lmerr.ServerDown, 0), false},
		{"all seats taken", lmerr.New(lmerr.MaxUsers, lmerr.MinorMaxUsers), false},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := triadBusy(c.err); got != c.want {
				t.Errorf("got %v, want %v", got, c.want)
			}
		})
	}
}

func addrs(s string) []licfile.ServerAddr {
	spec, err := licfile.ParseServerSpec(s)
	if err != nil {
		panic(err)
	}
	return spec
}

func addrList(spec []licfile.ServerAddr) string {
	out := ""
	for i, a := range spec {
		if i > 0 {
			out += ","
		}
		out += fmt.Sprintf("%d@%s", a.Port, a.Host)
	}
	return out
}

// TestNoteMasterOrdered: the master a member named is tried first, by
// the triad it was heard from only; one server is never reordered.
func TestNoteMasterOrdered(t *testing.T) {
	triad := addrs("1@a,2@b,3@c")
	other := addrs("1@a,2@b,4@d")
	j := &Job{}
	if got := addrList(j.ordered(triad)); got != "1@a,2@b,3@c" {
		t.Errorf("no master heard of: %s", got)
	}
	if j.noteMaster(triad, lmerr.New(lmerr.ServerDown, lmerr.MinorTriadNoQuorum)) {
		t.Error("a no-quorum answer noted a master")
	}
	if !j.noteMaster(triad, notMaster("Master: 3@c")) {
		t.Fatal("the master was not noted")
	}
	if got := addrList(j.ordered(triad)); got != "3@c,1@a,2@b" {
		t.Errorf("master c: %s", got)
	}
	if got := addrList(j.ordered(other)); got != "1@a,2@b,4@d" {
		t.Errorf("another triad was reordered: %s", got)
	}
	// A later answer replaces the master heard of.
	j.noteMaster(triad, notMaster("Master: 2@b"))
	if got := addrList(j.ordered(triad)); got != "2@b,1@a,3@c" {
		t.Errorf("master b: %s", got)
	}
	// A master the license does not name is not followed: same host
	// with another port, or another host.
	for _, named := range []string{"Master: 9@a", "Master: 3@evil", "Master: 3@c.example"} {
		if j.noteMaster(triad, notMaster(named)) {
			t.Errorf("%s was noted as the master", named)
		}
		if got := addrList(j.ordered(triad)); got != "2@b,1@a,3@c" {
			t.Errorf("after %s: %s, want the master heard of before", named, got)
		}
	}
	// Host names compare as the SERVER lines' do: without case; the
	// spec's own spelling is kept.
	if !j.noteMaster(triad, notMaster("Master: 3@C")) {
		t.Error("3@C was not taken for 3@c")
	}
	if got := addrList(j.ordered(triad)); got != "3@c,1@a,2@b" {
		t.Errorf("master C: %s", got)
	}
	one := addrs("1@a")
	j.noteMaster(one, notMaster("Master: 2@b"))
	if got := addrList(j.ordered(one)); got != "1@a" {
		t.Errorf("one server was reordered: %s", got)
	}
	if got := addrList(j.ordered(nil)); got != "" {
		t.Errorf("no servers: %s", got)
	}
}

// triadFixture is a job and a vendorConn on a triad of a fake server
// and two ports nothing listens on, with none of them known as master.
func triadFixture(t *testing.T) (*Job, *vendorConn, *fakeServer, []licfile.ServerAddr) {
	t.Helper()
	srv := newFakeServer(t, map[string]int{"f1": 2})
	port := srv.lmgrd.Addr().(*net.TCPAddr).Port
	spec := []licfile.ServerAddr{{Host: "127.0.0.1", Port: closedPort(t)}, {Host: "127.0.0.1", Port: closedPort(t)}, {Host: "127.0.0.1", Port: port}}
	j := openJob(t, srv.spec())
	vc := &vendorConn{job: j, spec: spec, vendor: "demo", stop: make(chan struct{})}
	t.Cleanup(vc.close)
	return j, vc, srv, spec
}

func TestTriadCheckout(t *testing.T) {
	granted := &License{Feature: "f1"}
	t.Run("one server is not followed", func(t *testing.T) {
		j, vc, _, spec := triadFixture(t)
		calls := 0
		_, err := j.triadCheckout(context.Background(), spec[2:], vc, func(*vendorConn) (*License, error) {
			calls++
			return nil, notMaster(fmt.Sprintf("Master: %d@127.0.0.1", spec[2].Port))
		})
		if calls != 1 || !triadBusy(err) {
			t.Errorf("%d calls, err %v; want 1 and the -96", calls, err)
		}
	})
	t.Run("another error is returned at once", func(t *testing.T) {
		j, vc, _, spec := triadFixture(t)
		calls := 0
		lic, err := j.triadCheckout(context.Background(), spec, vc, func(*vendorConn) (*License, error) {
			calls++
			return nil, lmerr.New(lmerr.MaxUsers, lmerr.MinorMaxUsers)
		})
		if calls != 1 || lic != nil || lmerr.CodeOf(err) != lmerr.MaxUsers {
			t.Errorf("%d calls, %v %v; want 1 and -4", calls, lic, err)
		}
	})
	t.Run("follows the master named", func(t *testing.T) {
		j, vc, _, spec := triadFixture(t)
		calls := 0
		lic, err := j.triadCheckout(context.Background(), spec, vc, func(*vendorConn) (*License, error) {
			calls++
			if calls == 1 {
				return nil, notMaster(fmt.Sprintf("Master: %d@127.0.0.1", spec[2].Port))
			}
			return granted, nil
		})
		if err != nil || lic != granted || calls != 2 {
			t.Fatalf("%d calls, %v %v; want 2 and the license", calls, lic, err)
		}
		if !vc.alive() || vc.addr.Port != spec[2].Port {
			t.Errorf("reconnected to %+v (alive %v), want the master %d", vc.addr, vc.alive(), spec[2].Port)
		}
		if got := j.ordered(spec)[0]; got != spec[2] {
			t.Errorf("the master heard of is %+v, want %+v", got, spec[2])
		}
	})
	t.Run("moves at most twice", func(t *testing.T) {
		j, vc, _, spec := triadFixture(t)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		calls := 0
		lic, err := j.triadCheckout(ctx, spec, vc, func(*vendorConn) (*License, error) {
			calls++
			if calls == 3 {
				// The third answer is not followed but waited on as a
				// triad electing: the end of ctx ends that wait.
				cancel()
			}
			return granted, notMaster(fmt.Sprintf("Master: %d@127.0.0.1", spec[2].Port))
		})
		if calls != 3 || lic != nil || !triadBusy(err) {
			t.Errorf("%d calls, %v %v; want 3, no license and the -96", calls, lic, err)
		}
	})
	t.Run("no quorum: tries again", func(t *testing.T) {
		j, vc, _, spec := triadFixture(t)
		j.noteMaster(spec, notMaster(fmt.Sprintf("Master: %d@127.0.0.1", spec[2].Port)))
		calls := 0
		lic, err := j.triadCheckout(context.Background(), spec, vc, func(*vendorConn) (*License, error) {
			calls++
			if calls == 1 {
				return nil, lmerr.New(lmerr.ServerDown, lmerr.MinorTriadNoQuorum)
			}
			return granted, nil
		})
		if err != nil || lic != granted || calls != 2 {
			t.Errorf("%d calls, %v %v; want 2 and the license", calls, lic, err)
		}
	})
	t.Run("the master named cannot be reached", func(t *testing.T) {
		j, vc, _, spec := triadFixture(t)
		dead := spec[:2]
		vc.spec = dead
		calls := 0
		lic, err := j.triadCheckout(context.Background(), dead, vc, func(*vendorConn) (*License, error) {
			calls++
			return granted, notMaster(fmt.Sprintf("Master: %d@127.0.0.1", dead[1].Port))
		})
		if calls != 1 || lic != nil || lmerr.CodeOf(err) != lmerr.NoServer {
			t.Errorf("%d calls, %v %v; want 1, no license and the reconnect's -15", calls, lic, err)
		}
	})
}

// TestAtMaster: an admin request a standby refuses goes once more to the
// master it names, and only then.
func TestAtMaster(t *testing.T) {
	standby := newFakeServer(t, map[string]int{"f1": 1})
	master := newFakeServer(t, map[string]int{"f1": 1})
	sport := standby.lmgrd.Addr().(*net.TCPAddr).Port
	mport := master.lmgrd.Addr().(*net.TCPAddr).Port
	ctx := context.Background()
	for _, c := range []struct {
		name  string
		first error
		ports string // the lmgrd ports do ran on
		want  int
		code  lmerr.Code
	}{
		{"done", nil, fmt.Sprint(sport), 1, 0},
		{"another error", lmerr.New(lmerr.MaxUsers, lmerr.MinorMaxUsers), fmt.Sprint(sport), 0, lmerr.MaxUsers},
		{"the standby names the master", notMaster(fmt.Sprintf("Master: %d@127.0.0.1", mport)), fmt.Sprint(sport, " ", mport), 2, 0},
		{"the standby names itself", notMaster(fmt.Sprintf("Master: %d@127.0.0.1", sport)), fmt.Sprint(sport), 0, lmerr.ServerDown},
		{"the master cannot be reached", notMaster(fmt.Sprintf("Master: %d@127.0.0.1", closedPort(t))), fmt.Sprint(sport), 0, lmerr.ServerDown},
	} {
		t.Run(c.name, func(t *testing.T) {
			a, err := DialAdmin(ctx, []licfile.ServerAddr{{Host: "127.0.0.1", Port: sport}}, testOpts()...)
			if err != nil {
				t.Fatal(err)
			}
			defer a.Close()
			var ports []int
			n, err := a.atMaster(ctx, func(at *Admin) (int, error) {
				ports = append(ports, at.Addr().Port)
				if len(ports) == 1 {
					if c.first != nil {
						return 0, c.first
					}
					return 1, nil
				}
				return 2, nil
			})
			got := fmt.Sprint(ports)
			if got != "["+c.ports+"]" || n != c.want || lmerr.CodeOf(err) != c.code {
				t.Errorf("ran on %s, got %d %v; want [%s], %d and code %d", got, n, err, c.ports, c.want, c.code)
			}
		})
	}
}

func TestMasterWait(t *testing.T) {
	for _, c := range []struct {
		name string
		env  string
		opt  time.Duration
		want time.Duration
	}{
		{"default", "", 0, DefaultMasterWait},
		{"environment, a duration", "500ms", 0, 500 * time.Millisecond},
		{"environment, seconds", "2", 0, 2 * time.Second},
		{"bad environment", "soon", 0, DefaultMasterWait},
		{"zero in the environment", "0", 0, DefaultMasterWait},
		{"the option wins", "500ms", 3 * time.Second, 3 * time.Second},
		{"a negative option", "", -time.Second, DefaultMasterWait},
	} {
		t.Run(c.name, func(t *testing.T) {
			opts := []Option{WithGetenv(func(k string) string {
				if k == MasterWaitEnv {
					return c.env
				}
				return ""
			})}
			if c.opt != 0 {
				opts = append(opts, WithMasterWait(c.opt))
			}
			if got := newConfig(opts).masterWait; got != c.want {
				t.Errorf("master wait %v, want %v", got, c.want)
			}
		})
	}
}

// TestHeartbeatNotMaster: a heartbeat answered -96 (a triad member that
// is no longer the master) makes the job reconnect and re-adopt its
// seat under its handle; any other heartbeat error does not.
func TestHeartbeatNotMaster(t *testing.T) {
	for _, c := range []struct {
		name  string
		err   *protocol.Error
		moves bool
	}{
		{"no quorum", &protocol.Error{Code: lmerr.ServerDown, Minor: lmerr.MinorTriadNoQuorum}, true},
		{"another error", &protocol.Error{Code: lmerr.BadCode, Minor: 1}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			srv := newFakeServer(t, map[string]int{"f1": 1})
			srv.sticky = true // a triad keeps a session's seats for its grace period
			j := openJob(t, srv.spec(), WithHeartbeat(50*time.Millisecond))
			lic, err := j.Checkout(context.Background(), "f1", "1.0", 1)
			if err != nil {
				t.Fatalf("Checkout: %v", err)
			}
			handle := lic.Handle()
			srv.mu.Lock()
			srv.heartbeatErr = c.err
			hb := srv.heartbeats
			srv.mu.Unlock()
			state := func() (heartbeats, adopted int) {
				srv.mu.Lock()
				defer srv.mu.Unlock()
				return srv.heartbeats, srv.adopted
			}
			if c.moves {
				waitFor(t, "the seat re-adopted", func() bool { _, a := state(); return a >= 1 })
			} else {
				waitFor(t, "three heartbeats answered with the error", func() bool { n, _ := state(); return n >= hb+3 })
				if _, a := state(); a != 0 {
					t.Errorf("%d re-adoptions after %v, want none", a, c.err)
				}
			}
			srv.mu.Lock()
			srv.heartbeatErr = nil
			srv.mu.Unlock()
			if err := lic.Err(); err != nil || lic.Handle() != handle {
				t.Errorf("license %v, handle %d; want held under %d", err, lic.Handle(), handle)
			}
			if srv.InUse("f1") != 1 {
				t.Errorf("%d seats in use, want 1", srv.InUse("f1"))
			}
		})
	}
}
