package server_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"golm/lmutil/commands"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golm/lmutil/protocol"
	"golm/lmutil/protocol/lmerr"
	golm "golm/lmutil/server"
	"golm/lmutil/server/servertest"
)

// lmutil is the binary under test: this test binary, linked as lmutil
// by TestMain (servertest.Main).
var lmutil string

func TestMain(m *testing.M) {
	if squatMain() { // the test binary run as a squatter (admin_process_test.go)
		return
	}
	os.Exit(servertest.Main(m, &lmutil, servertest.Lmutil{
		Run: func(ctx context.Context, argv []string) int {
			return commands.Main(ctx, argv, commands.OSEnv("lmutil"))
		},
		IsCommand:  func(name string) bool { return commands.Lookup(name) != nil },
		ControlEnv: golm.ControlEnv,
	}))
}

// waitTimeout bounds every poll of a starting or stopping process.
const waitTimeout = 15 * time.Second

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	servertest.Poll(t, what, waitTimeout, cond)
}

// freePort returns a TCP port that was free a moment ago.
func freePort(t *testing.T) int { return servertest.FreePort(t) }

func run(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command(lmutil, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("lmutil %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// writeLicense writes license.lic signed with a fresh demo key in dir.
func writeLicense(t *testing.T, dir, text string) string {
	t.Helper()
	if _, err := os.Stat(filepath.Join(dir, "demo.key")); err != nil {
		run(t, dir, "lmcrypt", "-genkey", "demo")
	}
	p := filepath.Join(dir, "license.lic")
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	run(t, dir, "lmcrypt", "-k", "demo.key", "license.lic")
	return p
}

// server is one lmgrd process started by a test.
type server struct {
	t    *testing.T
	dir  string
	port int
	cmd  *exec.Cmd
	log  string
	done chan struct{}
	err  error
	out  bytes.Buffer
}

var startedRE = regexp.MustCompile(`\((lmgrd)\) (?:RE)?Started demo \(internet tcp_port (\d+) pid (\d+)\)`)

// startLmgrd runs lmgrd -z on a license with a 2-seat f1 and waits until
// its vendor daemon is up.
func startLmgrd(t *testing.T, extra ...string) *server {
	t.Helper()
	dir := t.TempDir()
	port := freePort(t)
	writeLicense(t, dir, fmt.Sprintf("SERVER this_host ANY %d\nVENDOR demo\nFEATURE f1 demo 1.0 permanent 2\nINCREMENT f2 demo 1.0 1-jan-2099 1\n", port))
	s := launch(t, dir, port, extra...)
	s.waitStarted(1)
	return s
}

func launch(t *testing.T, dir string, port int, extra ...string) *server {
	t.Helper()
	s := &server{t: t, dir: dir, port: port, log: filepath.Join(dir, "debug.log"), done: make(chan struct{})}
	args := append([]string{"lmgrd", "-z", "-c", "license.lic", "-l", s.log}, extra...)
	s.cmd = exec.Command(lmutil, args...)
	s.cmd.Dir = dir
	s.cmd.Stdout, s.cmd.Stderr = &s.out, &s.out
	s.cmd.Env = append(os.Environ(), "GOLM_LMGRD_BIND_RETRY=1s", golm.LockDirEnv+"="+filepath.Join(dir, "lock"))
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { s.err = s.cmd.Wait(); close(s.done) }()
	t.Cleanup(func() {
		vendors := s.vendorPIDs()
		s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.done:
		case <-time.After(waitTimeout):
			s.cmd.Process.Kill()
			<-s.done
		}
		for _, pid := range vendors {
			syscall.Kill(pid, syscall.SIGKILL)
		}
		if t.Failed() {
			t.Logf("debug log:\n%s\noutput:\n%s", s.readLog(), s.out.String())
		}
	})
	return s
}

func (s *server) readLog() string {
	b, _ := os.ReadFile(s.log)
	return string(b)
}

// vendorPIDs are the pids of every vendor daemon the log says started.
func (s *server) vendorPIDs() []int {
	var pids []int
	for _, m := range startedRE.FindAllStringSubmatch(s.readLog(), -1) {
		pid, _ := strconv.Atoi(m[3])
		pids = append(pids, pid)
	}
	return pids
}

// waitStarted waits for the n-th Started/REStarted line and returns the
// vendor daemon's pid.
func (s *server) waitStarted(n int) int {
	s.t.Helper()
	eventually(s.t, fmt.Sprintf("vendor daemon start number %d", n), func() bool {
		select {
		case <-s.done:
			s.t.Fatalf("lmgrd exited: %v\n%s\n%s", s.err, s.out.String(), s.readLog())
		default:
		}
		return len(s.vendorPIDs()) >= n
	})
	return s.vendorPIDs()[n-1]
}

func (s *server) waitLog(what string) {
	s.t.Helper()
	eventually(s.t, "debug log line "+what, func() bool { return strings.Contains(s.readLog(), what) })
}

func (s *server) waitExit() {
	s.t.Helper()
	select {
	case <-s.done:
	case <-time.After(waitTimeout):
		s.t.Fatalf("lmgrd did not exit")
	}
}

func gone(pid int) bool { return errors.Is(syscall.Kill(pid, 0), syscall.ESRCH) }

// dial connects and does the handshake.
func dial(t *testing.T, port int, role protocol.Role, user string) *protocol.Conn {
	t.Helper()
	nc, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(port), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	c := protocol.NewConn(nc)
	t.Cleanup(func() { c.Close() })
	if _, err := protocol.ClientHandshake(c, &protocol.Hello{
		Version: protocol.Version, Role: role, JobID: uint64(time.Now().UnixNano()),
		Identity: protocol.Identity{User: user, Host: "testhost", Display: "/dev/pts/9", PID: os.Getpid(), Program: "test"},
	}); err != nil {
		t.Fatal(err)
	}
	return c
}

// vendor asks lmgrd where demo listens and connects to it as user.
func (s *server) vendor(user string) *protocol.Conn {
	s.t.Helper()
	lc := dial(s.t, s.port, protocol.RoleClient, user)
	m, err := lc.Call(&protocol.Locate{Vendor: "demo"})
	if err != nil {
		s.t.Fatalf("locate: %v", err)
	}
	lc.Close()
	return dial(s.t, m.(*protocol.LocateReply).Port, protocol.RoleClient, user)
}

// checkout returns the handle granted, or the FlexLM code of the denial.
func checkout(t *testing.T, c *protocol.Conn, feature string) (handle uint64, code lmerr.Code) {
	t.Helper()
	m, err := c.Call(&protocol.Checkout{Feature: feature, Version: "1.0", Count: 1})
	var pe *protocol.PeerError
	if errors.As(err, &pe) {
		return 0, pe.Msg.Code
	}
	if err != nil {
		t.Fatalf("checkout %s: %v", feature, err)
	}
	return m.(*protocol.Granted).Handle, 0
}

func admin(t *testing.T, port int, req protocol.Message) (int, error) {
	t.Helper()
	c := dial(t, port, protocol.RoleAdmin, "admin")
	m, err := c.Call(req)
	if err != nil {
		return 0, err
	}
	return m.(*protocol.OK).Count, nil
}

func codeOf(err error) lmerr.Code {
	var pe *protocol.PeerError
	if errors.As(err, &pe) {
		return pe.Msg.Code
	}
	return lmerr.CodeOf(err)
}

func TestLmgrdServesAndStops(t *testing.T) {
	t.Parallel() // its own processes, directories, ports and lock directory
	s := startLmgrd(t)
	vpid := s.vendorPIDs()[0]
	a, b, c := s.vendor("a"), s.vendor("b"), s.vendor("c")
	if _, code := checkout(t, a, "f1"); code != 0 {
		t.Fatalf("first checkout: %d", code)
	}
	if _, code := checkout(t, b, "f1"); code != 0 {
		t.Fatalf("second checkout: %d", code)
	}
	if _, code := checkout(t, c, "f1"); code != -4 {
		t.Fatalf("third checkout: code %d, want -4", code)
	}
	if _, code := checkout(t, c, "nosuch"); code != -5 {
		t.Fatalf("unknown feature: code %d, want -5", code)
	}
	// A holder whose connection closes frees its seat at once.
	a.Close()
	eventually(t, "the closed holder's seat", func() bool { _, code := checkout(t, c, "f1"); return code == 0 })
	s.waitLog(`(demo) OUT: "f1" a@testhost  `)
	s.waitLog(`(demo) DENIED: "f1" c@testhost  (Licensed number of users already reached. (-4,`)
	s.waitLog(`(demo) UNSUPPORTED: "nosuch"`)
	s.waitLog(`(demo) IN: "f1" a@testhost  `)

	s.cmd.Process.Signal(syscall.SIGTERM)
	s.waitExit()
	if s.err != nil {
		t.Errorf("lmgrd after SIGTERM: %v", s.err)
	}
	eventually(t, "the vendor daemon to exit", func() bool { return gone(vpid) })
	log := s.readLog()
	for _, want := range []string{"(lmgrd) EXITING DUE TO SIGNAL 15", "(demo) EXITING DUE TO SIGNAL 15", "(lmgrd) lmgrd tcp-port " + strconv.Itoa(s.port)} {
		if !strings.Contains(log, want) {
			t.Errorf("debug log lacks %q", want)
		}
	}
	if !regexp.MustCompile(`(?m)^[ 12]\d:\d\d:\d\d \(lmgrd\) TIMESTAMP \d+/\d+/\d{4}$`).MatchString(log) {
		t.Errorf("debug log has no TIMESTAMP line")
	}
}

func TestKillNineLmgrdLeavesNoVendorDaemon(t *testing.T) {
	t.Parallel() // its own processes, directories, ports and lock directory
	s := startLmgrd(t)
	vpid := s.vendorPIDs()[0]
	s.cmd.Process.Kill()
	s.waitExit()
	eventually(t, "the orphaned vendor daemon to exit", func() bool { return gone(vpid) })
}

func TestLmdownDisabled(t *testing.T) {
	t.Parallel() // its own processes, directories, ports and lock directory
	s := startLmgrd(t, "-x", "lmdown", "-x", "lmremove")
	_, err := admin(t, s.port, &protocol.Shutdown{})
	if codeOf(err) != -63 {
		t.Fatalf("lmdown with -x lmdown: %v, want -63", err)
	}
	c := s.vendor("joe")
	checkout(t, c, "f1")
	m, err := c.Call(&protocol.Remove{Feature: "f1", User: "joe", Host: "testhost", Display: "/dev/pts/9"})
	if codeOf(err) != -63 {
		t.Fatalf("lmremove with -x lmremove: %v %v, want -63", m, err)
	}
	// The refusals leave the server running and the seat taken.
	if _, code := checkout(t, s.vendor("ann"), "f1"); code != 0 {
		t.Fatalf("second seat after the refusals: code %d", code)
	}
	if _, code := checkout(t, s.vendor("bob"), "f1"); code != -4 {
		t.Errorf("third checkout after the refusals: code %d, want -4 (joe's seat freed?)", code)
	}
}

func TestBusyPort(t *testing.T) {
	t.Parallel() // its own processes, directories, ports and lock directory
	ln, err := net.Listen("tcp", ":0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	dir := t.TempDir()
	writeLicense(t, dir, fmt.Sprintf("SERVER this_host ANY %d\nVENDOR demo\nFEATURE f1 demo 1.0 permanent 2\n", port))
	s := launch(t, dir, port)
	s.waitExit()
	if s.cmd.ProcessState.ExitCode() != 1 {
		t.Errorf("exit status %d, want 1", s.cmd.ProcessState.ExitCode())
	}
	if !strings.Contains(s.readLog(), "(lmgrd) Retrying socket bind (address in use)") {
		t.Errorf("debug log lacks the retry line:\n%s", s.readLog())
	}
	if want := fmt.Sprintf("cannot bind port %d: address in use", port); !strings.Contains(s.out.String(), want) {
		t.Errorf("stderr = %q, want it to say %q", s.out.String(), want)
	}
	if pids := s.vendorPIDs(); len(pids) != 0 {
		t.Errorf("vendor daemons started on a busy port: %v", pids)
	}
}

func TestWrongHost(t *testing.T) {
	t.Parallel() // its own processes, directories, ports and lock directory
	tests := []struct {
		name, server, want string
	}{
		{"unknown host", "SERVER no-such-host-golm ANY", "no-such-host-golm: Not a valid server host, exiting"},
		{"wrong hostid", "SERVER this_host 0123456789ab", "this_host: Wrong hostid, exiting"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			port := freePort(t)
			writeLicense(t, dir, fmt.Sprintf("%s %d\nVENDOR demo\nFEATURE f1 demo 1.0 permanent 2\n", tt.server, port))
			s := launch(t, dir, port)
			s.waitExit()
			if s.cmd.ProcessState.ExitCode() != 1 {
				t.Errorf("exit status %d, want 1", s.cmd.ProcessState.ExitCode())
			}
			if !strings.Contains(s.out.String(), tt.want) || !strings.Contains(s.readLog(), "(lmgrd) "+tt.want) {
				t.Errorf("stderr %q and log %q, want %q in both", s.out.String(), s.readLog(), tt.want)
			}
		})
	}
}

func TestVendorDaemonByHand(t *testing.T) {
	t.Parallel() // its own processes, directories, ports and lock directory
	cmd := exec.Command(lmutil, "vendord")
	out, err := cmd.CombinedOutput()
	if cmd.ProcessState.ExitCode() != 1 || !strings.Contains(string(out), "must be run by lmgrd") {
		t.Fatalf("vendord by hand: %v %q", err, out)
	}
}

func TestDetach(t *testing.T) {
	t.Parallel() // its own processes, directories, ports and lock directory
	dir := t.TempDir()
	port := freePort(t)
	writeLicense(t, dir, fmt.Sprintf("SERVER this_host ANY %d\nVENDOR demo\nFEATURE f1 demo 1.0 permanent 2\n", port))
	log := filepath.Join(dir, "debug.log")
	cmd := exec.Command(lmutil, "lmgrd", "-c", "license.lic", "-l", log)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("lmgrd: %v\n%s", err, out)
	}
	// It returned once listening: lmgrd answers now.
	s := &server{t: t, dir: dir, port: port, log: log}
	pid := regexp.MustCompile(`lmgrd running as pid (\d+)`).FindStringSubmatch(s.readLog())
	if pid == nil {
		t.Fatalf("no pid in the log:\n%s", s.readLog())
	}
	lmgrdPID, _ := strconv.Atoi(pid[1])
	t.Cleanup(func() { syscall.Kill(lmgrdPID, syscall.SIGKILL) })
	vpid := s.waitStarted(1)
	if _, err := admin(t, port, &protocol.Shutdown{}); err != nil {
		t.Fatalf("lmdown: %v", err)
	}
	eventually(t, "lmgrd and its vendor daemon to exit", func() bool { return gone(lmgrdPID) && gone(vpid) })
}

func TestAdminOnly(t *testing.T) {
	t.Parallel() // its own processes, directories, ports and lock directory
	if _, err := user.LookupGroup(golm.AdminGroup); os.Getuid() != 0 || err == nil {
		t.Skip("needs root and no lmadmin group (root is then the administrator)")
	}
	s := startLmgrd(t, "-2", "-p")
	// Over loopback TCP the caller's uid decides as on the socket.
	if got, want := tcpAdminAs(t, nobody, s.port), "-63,604"; got != want {
		t.Fatalf("lmreread over loopback TCP as nobody with -2 -p: %s, want %s", got, want)
	}
	if _, err := admin(t, s.port, &protocol.Reread{}); err != nil {
		t.Fatalf("lmreread over loopback TCP as root with -2 -p: %v", err)
	}
	nc, err := net.Dial("unix", protocol.AdminSocket("lmgrd", s.port))
	if err != nil {
		t.Fatal(err)
	}
	c := protocol.NewConn(nc)
	defer c.Close()
	if _, err := protocol.ClientHandshake(c, &protocol.Hello{Version: protocol.Version, Role: protocol.RoleAdmin}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Call(&protocol.Shutdown{}); err != nil {
		t.Fatalf("lmdown as root on the admin socket: %v", err)
	}
	s.waitExit()
}

func TestLmdownVendorAndRereadRestarts(t *testing.T) {
	t.Parallel() // its own processes, directories, ports and lock directory
	dir := t.TempDir()
	port, vport := freePort(t), freePort(t)
	writeLicense(t, dir, fmt.Sprintf("SERVER this_host ANY %d\nVENDOR demo port=%d\nFEATURE f1 demo 1.0 permanent 2\n", port, vport))
	s := launch(t, dir, port)
	vpid := s.waitStarted(1)
	s.waitLog(fmt.Sprintf("(lmgrd) Started demo (internet tcp_port %d pid %d)", vport, vpid))
	if _, err := admin(t, port, &protocol.Shutdown{Vendor: "demo"}); err != nil {
		t.Fatalf("lmdown -vendor demo: %v", err)
	}
	eventually(t, "the vendor daemon to exit", func() bool { return gone(vpid) })
	lc := dial(t, port, protocol.RoleClient, "u")
	if _, err := lc.Call(&protocol.Locate{Vendor: "demo"}); codeOf(err) != -97 {
		t.Fatalf("locate of a stopped vendor daemon: %v, want -97", err)
	}
	if _, err := admin(t, port, &protocol.Reread{Vendor: "demo"}); err != nil {
		t.Fatalf("lmreread -vendor demo: %v", err)
	}
	s.waitStarted(2)
	if _, code := checkout(t, s.vendor("u"), "f1"); code != 0 {
		t.Fatalf("checkout after lmreread restarted the vendor daemon: %d", code)
	}
}
