package server_test

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"golm/lmutil/protocol"
	golm "golm/lmutil/server"
	"golm/lmutil/server/servertest"
)

// squatEnv names the admin socket names a squatter binds; tcpAdminEnv
// the lmgrd port a TCP admin request goes to.
const (
	squatEnv    = "GOLM_TEST_SQUAT"
	tcpAdminEnv = "GOLM_TEST_TCP_ADMIN"
)

// squatMain is the test binary run as a squatter: it binds the abstract
// socket names in $GOLM_TEST_SQUAT first and answers every admin request
// there with a success that does nothing, as a local user who wants
// root's lmstat to show no users and lmdown to do nothing would. It
// prints "ready" once it listens and runs until killed.
func squatMain() bool {
	if port := os.Getenv(tcpAdminEnv); port != "" {
		tcpAdminMain(port)
		return true
	}
	names := os.Getenv(squatEnv)
	if names == "" {
		return false
	}
	for _, name := range strings.Split(names, ",") {
		ln, err := net.Listen("unix", name)
		if err != nil {
			fmt.Println("squat:", err)
			os.Exit(1)
		}
		go func() {
			for {
				nc, err := ln.Accept()
				if err != nil {
					return
				}
				go fakeServer(protocol.NewConn(nc))
			}
		}()
	}
	fmt.Println("ready")
	select {}
}

// tcpAdminMain sends an lmreread to lmgrd over loopback TCP and prints
// the answer: "OK" or the FlexLM code pair.
func tcpAdminMain(port string) {
	nc, err := net.Dial("tcp", "127.0.0.1:"+port)
	if err != nil {
		fmt.Println(err)
		return
	}
	c := protocol.NewConn(nc)
	defer c.Close()
	if _, err := protocol.ClientHandshake(c, &protocol.Hello{Version: protocol.Version, Role: protocol.RoleAdmin, JobID: 1, Identity: protocol.Identity{User: "root", Host: "h"}}); err != nil {
		fmt.Println(err)
		return
	}
	_, err = c.Call(&protocol.Reread{})
	if pe, ok := err.(*protocol.PeerError); ok {
		fmt.Printf("%d,%d\n", pe.Msg.Code, pe.Msg.Minor)
		return
	}
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("OK")
}

// tcpAdminAs runs tcpAdminMain as uid and returns what it printed.
func tcpAdminAs(t *testing.T, uid, port int) string {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(worldCopy(t, self, "admin.test"))
	cmd.Env = []string{fmt.Sprintf("%s=%d", tcpAdminEnv, port), servertest.RaceExitEnv()}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(uid)}}
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("TCP admin request as uid %d: %v", uid, err)
	}
	return strings.TrimSpace(string(out))
}

// fakeServer says yes to everything.
func fakeServer(c *protocol.Conn) {
	defer c.Close()
	if _, err := protocol.ServerHandshake(c); err != nil {
		return
	}
	if c.Send(&protocol.Hello{Version: protocol.Version, Role: protocol.RoleServer, Daemon: "lmgrd", Identity: protocol.Identity{User: "root", Host: "fake"}}) != nil {
		return
	}
	for {
		m, err := c.Recv()
		if err != nil {
			return
		}
		var out []protocol.Message
		switch m.(type) {
		case *protocol.ServerStatusRequest:
			out = []protocol.Message{&protocol.ServerStatus{Host: "fake", Master: true}, &protocol.End{}}
		case *protocol.FeatureStatusRequest:
			out = []protocol.Message{&protocol.End{}}
		default:
			out = []protocol.Message{&protocol.OK{Count: 1}}
		}
		if c.SendAll(out) != nil {
			return
		}
	}
}

// squat starts the test binary as nobody holding names, and waits until
// it listens. The returned func kills it.
func squat(t *testing.T, names ...string) (stop func()) {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	exe := worldCopy(t, self, "squat.test")
	cmd := exec.Command(exe)
	cmd.Env = []string{squatEnv + "=" + strings.Join(names, ","), servertest.RaceExitEnv()}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: nobody, Gid: nobody}, Pdeathsig: syscall.SIGKILL}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	stopped := false
	stop = func() {
		if !stopped {
			stopped = true
			cmd.Process.Kill()
			cmd.Wait()
		}
	}
	t.Cleanup(stop)
	line, _ := bufio.NewReader(out).ReadString('\n')
	if strings.TrimSpace(line) != "ready" {
		t.Fatalf("squatter: %q", line)
	}
	return stop
}

// worldCopy copies the file src into a directory every user can enter,
// as name, executable by everyone.
func worldCopy(t *testing.T, src, name string) string {
	t.Helper()
	return servertest.WorldCopy(t, src, name)
}

// needRoot skips a test that runs processes as another uid.
func needRoot(t *testing.T) {
	t.Helper()
	if os.Getuid() != 0 {
		t.Skip("running processes as another uid (nobody) needs root")
	}
}

// TestDefaultAdminRights: without -2 -p, admin commands are for root,
// lmgrd's own user and lmadmin; another local user gets -63, and lmstat
// stays open to everyone.
func TestDefaultAdminRights(t *testing.T) {
	t.Parallel() // its own processes, directories, ports and lock directory
	needRoot(t)
	exe := worldBinary(t)
	s := startLmgrd(t)
	spec := fmt.Sprintf("%d@localhost", s.port)
	cmds := append(privileged(spec),
		[]string{"lmswitch", "-c", spec, "demo", filepath.Join(os.TempDir(), "golm-nobody.log")},
		[]string{"lmswitchr", "-c", spec, "demo", "nobody.rl"},
		[]string{"lmnewlog", "-c", spec, "demo", "nobody.rl"},
	)
	for _, args := range cmds {
		t.Run("nobody "+args[0], func(t *testing.T) {
			r := runAs(t, exe, nobody, args...)
			const want = "You are not a license administrator. (-63,606)"
			if r.status != 256-63 || !strings.Contains(r.stdout+r.stderr, want) {
				t.Fatalf("%s as nobody: status %d, output %q%q; want status %d and %q", args[0], r.status, r.stdout, r.stderr, 256-63, want)
			}
		})
	}
	if !strings.Contains(s.readLog(), fmt.Sprintf("(uid %d, pid ", nobody)) {
		t.Errorf("no refusal names uid %d:\n%s", nobody, s.readLog())
	}
	t.Run("nobody lmstat", func(t *testing.T) {
		if r := runAs(t, exe, nobody, "lmstat", "-a", "-c", spec); r.status != 0 || !strings.Contains(r.stdout, "demo: UP") {
			t.Fatalf("lmstat as nobody: status %d, output %q%q", r.status, r.stdout, r.stderr)
		}
	})
	t.Run("nobody over loopback TCP", func(t *testing.T) {
		// Not through lmutil, which uses the socket: a TCP request from
		// a process of uid nobody is judged by that uid too.
		if got, want := tcpAdminAs(t, nobody, s.port), "-63,606"; got != want {
			t.Fatalf("lmreread over loopback TCP as nobody: %s, want %s", got, want)
		}
	})
	t.Run("root lmreread", func(t *testing.T) {
		if r := runAs(t, exe, -1, "lmreread", "-c", spec); r.status != 0 {
			t.Fatalf("lmreread as root: status %d, output %q%q", r.status, r.stdout, r.stderr)
		}
	})
}

// TestSquattedAdminSocket: another local user binds lmgrd's and the
// vendor daemon's admin socket names before lmgrd starts and answers
// there with successes that do nothing. The daemons must serve anyway,
// say who holds the names, and root's admin commands must reach the real
// server (over TCP) and never believe the squatter; once the squatter
// goes, the daemons take their names back.
func TestSquattedAdminSocket(t *testing.T) {
	needRoot(t)
	for _, mode := range [][]string{nil, {"-2", "-p"}} {
		t.Run(strings.Join(append([]string{"lmgrd"}, mode...), " "), func(t *testing.T) {
			if len(mode) > 0 {
				needRootWithoutLmadmin(t)
			}
			t.Setenv(golm.AdminSocketRetryEnv, "100ms")
			dir := t.TempDir()
			port := freePort(t)
			writeLicense(t, dir, fmt.Sprintf("SERVER this_host ANY %d\nVENDOR demo\nFEATURE f1 demo 1.0 permanent 2\n", port))
			stopSquat := squat(t, protocol.AdminSocket("lmgrd", port), protocol.AdminSocket("demo", port))
			s := launch(t, dir, port, mode...)
			s.waitStarted(1)
			s.waitLog(fmt.Sprintf("(lmgrd) Admin socket %s is held by another process (uid %d, pid ", protocol.AdminSocket("lmgrd", port), nobody))
			s.waitLog(fmt.Sprintf("(demo) Admin socket %s is held by another process (uid %d, pid ", protocol.AdminSocket("demo", port), nobody))
			// Licensing goes on.
			a, b := s.vendor("alice"), s.vendor("bob")
			for _, c := range []*protocol.Conn{a, b} {
				if _, code := checkout(t, c, "f1"); code != 0 {
					t.Fatalf("checkout with the admin sockets squatted: code %d", code)
				}
			}
			exe := worldBinary(t)
			spec := fmt.Sprintf("%d@localhost", port)
			t.Run("root lmstat sees the real users", func(t *testing.T) {
				r := runAs(t, exe, -1, "lmstat", "-a", "-c", spec)
				if r.status != 0 || !strings.Contains(r.stdout, "alice testhost") || !strings.Contains(r.stdout, "bob testhost") {
					t.Fatalf("lmstat -a as root: status %d, output %q%q; want alice and bob", r.status, r.stdout, r.stderr)
				}
			})
			t.Run("root lmremove removes the real seat", func(t *testing.T) {
				r := runAs(t, exe, -1, "lmremove", "-c", spec, "f1", "alice", "testhost", "/dev/pts/9")
				if r.status != 0 {
					t.Fatalf("lmremove as root: status %d, output %q%q", r.status, r.stdout, r.stderr)
				}
				c := s.vendor("carol")
				eventually(t, "alice's seat to be free", func() bool { _, code := checkout(t, c, "f1"); return code == 0 })
			})
			// The squatter goes: the daemons take their names back, and
			// the socket is the real server's (a non-administrator is
			// refused there, where the squatter said yes).
			stopSquat()
			s.waitLog(fmt.Sprintf("(lmgrd) Admin socket %s is free again", protocol.AdminSocket("lmgrd", port)))
			s.waitLog(fmt.Sprintf("(demo) Admin socket %s is free again", protocol.AdminSocket("demo", port)))
			nc, err := net.Dial("unix", protocol.AdminSocket("lmgrd", port))
			if err != nil {
				t.Fatalf("the admin socket after the squatter left: %v", err)
			}
			nc.Close()
			t.Run("nobody on the real socket", func(t *testing.T) {
				r := runAs(t, exe, nobody, "lmreread", "-c", spec)
				if r.status != 256-63 {
					t.Fatalf("lmreread as nobody: status %d, output %q%q; want -63", r.status, r.stdout, r.stderr)
				}
			})
			t.Run("root lmdown stops the real lmgrd", func(t *testing.T) {
				if r := runAs(t, exe, -1, "lmdown", "-q", "-c", spec); r.status != 0 {
					t.Fatalf("lmdown as root: status %d, output %q%q", r.status, r.stdout, r.stderr)
				}
				s.waitExit()
			})
		})
	}
}
