package server_test

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golm/lmutil/protocol"
	golm "golm/lmutil/server"
	"golm/lmutil/server/servertest"
)

// nobody is the unprivileged uid and gid the -2 -p tests run admin
// commands as.
const nobody = 65534

// worldBinary copies lmutil into a directory every user can read and
// enter, so that it runs as nobody.
func worldBinary(t *testing.T) string {
	t.Helper()
	return servertest.WorldCopy(t, lmutil, "lmutil")
}

// adminRun is what an lmutil admin command left.
type adminRun struct {
	stdout, stderr string
	status         int
}

// runAs runs the lmutil at exe with args as uid (and gid) when uid >= 0,
// else as this process's user.
func runAs(t *testing.T, exe string, uid int, args ...string) adminRun {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, exe, args...)
	cmd.Dir = filepath.Dir(exe)
	cmd.Env = []string{"PATH=/usr/bin:/bin", "HOME=/nonexistent", "LM_LICENSE_FILE=", servertest.RaceExitEnv()}
	if uid >= 0 {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(uid)}}
		cmd.Env = append(cmd.Env, "USER=nobody")
	} else {
		cmd.Env = append(cmd.Env, "USER=root")
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := adminRun{stdout: stdout.String(), stderr: stderr.String()}
	if ee, ok := err.(*exec.ExitError); ok {
		r.status = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("lmutil %s: %v", strings.Join(args, " "), err)
	}
	return r
}

// needRootWithoutLmadmin skips a test that starts commands as another
// user and counts on root being the administrator.
func needRootWithoutLmadmin(t *testing.T) {
	t.Helper()
	if os.Getuid() != 0 {
		t.Skip("running admin commands as another uid needs root")
	}
	if _, err := user.LookupGroup(golm.AdminGroup); err == nil {
		t.Skip("this host has an lmadmin group: root is not an administrator by default")
	}
}

// privileged are the admin commands of lmutil with the arguments that
// reach a server at spec without prompting.
func privileged(spec string) [][]string {
	return [][]string{
		{"lmreread", "-c", spec},
		{"lmremove", "-c", spec, "f1", "someone", "somehost", "/dev/pts/1"},
		{"lmdown", "-q", "-c", spec},
	}
}

func TestAdminOnlyRefusesNonAdminUser(t *testing.T) {
	t.Parallel() // its own processes, directories, ports and lock directory
	needRootWithoutLmadmin(t)
	exe := worldBinary(t)
	s := startLmgrd(t, "-2", "-p")
	spec := fmt.Sprintf("%d@localhost", s.port)
	for _, args := range privileged(spec) {
		t.Run("nobody "+args[0], func(t *testing.T) {
			r := runAs(t, exe, nobody, args...)
			const want = "You are not a license administrator. (-63,604)"
			if r.status != 256-63 || !strings.Contains(r.stdout+r.stderr, want) {
				t.Fatalf("%s as nobody: status %d, output %q%q; want status %d and %q", args[0], r.status, r.stdout, r.stderr, 256-63, want)
			}
		})
	}
	// Each refusal is logged with the kernel's uid of the caller.
	for _, typ := range []string{"REREAD request (lmreread)", "REMOVE request (lmremove)", "SHUTDOWN request (lmdown)"} {
		s.waitLog(typ + " from nobody at node ")
	}
	if !strings.Contains(s.readLog(), fmt.Sprintf("(uid %d, pid ", nobody)) {
		t.Errorf("no refusal names uid %d:\n%s", nobody, s.readLog())
	}
	if !strings.Contains(s.readLog(), "WARNING: lmgrd is running as root.") {
		t.Errorf("lmgrd started as root logged no warning:\n%s", s.readLog())
	}
	// Root is an administrator and is not refused.
	for _, args := range privileged(spec) {
		t.Run("root "+args[0], func(t *testing.T) {
			r := runAs(t, exe, -1, args...)
			if strings.Contains(r.stdout+r.stderr, "(-63,") {
				t.Fatalf("%s as root refused: status %d, output %q%q", args[0], r.status, r.stdout, r.stderr)
			}
			if args[0] != "lmremove" && r.status != 0 { // lmremove of nobody's seat finds nothing (-41)
				t.Fatalf("%s as root: status %d, output %q%q", args[0], r.status, r.stdout, r.stderr)
			}
		})
	}
	s.waitExit()
}

// remoteIP is a non-loopback IPv4 address of this host: a connection
// from it to lmgrd is not a loopback connection.
func remoteIP(t *testing.T) net.IP {
	t.Helper()
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		t.Skipf("no interface addresses: %v", err)
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.To4() != nil && !n.IP.IsLoopback() && !n.IP.IsLinkLocalUnicast() {
			return n.IP.To4()
		}
	}
	t.Skip("this host has no non-loopback IPv4 address to connect from")
	return nil
}

// dialFrom connects to ip:port from ip, as an admin tool.
func dialFrom(t *testing.T, ip net.IP, port int) *protocol.Conn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: ip}, Timeout: 5 * time.Second}
	nc, err := d.Dial("tcp", net.JoinHostPort(ip.String(), strconv.Itoa(port)))
	if err != nil {
		t.Fatal(err)
	}
	c := protocol.NewConn(nc)
	t.Cleanup(func() { c.Close() })
	if _, err := protocol.ClientHandshake(c, &protocol.Hello{
		Version: protocol.Version, Role: protocol.RoleAdmin, JobID: uint64(time.Now().UnixNano()),
		Identity: protocol.Identity{User: "mallory", Host: "elsewhere", PID: 4242, Program: "test"},
	}); err != nil {
		t.Fatal(err)
	}
	return c
}

// vendorPort asks lmgrd where demo listens.
func (s *server) vendorPort() int {
	s.t.Helper()
	lc := dial(s.t, s.port, protocol.RoleClient, "u")
	defer lc.Close()
	m, err := lc.Call(&protocol.Locate{Vendor: "demo"})
	if err != nil {
		s.t.Fatalf("locate: %v", err)
	}
	return m.(*protocol.LocateReply).Port
}

func TestRemoteAdminRefused(t *testing.T) {
	t.Parallel() // its own processes, directories, ports and lock directory
	ip := remoteIP(t)
	s := startLmgrd(t)
	vport := s.vendorPort()
	tests := []struct {
		name string
		port int
		req  protocol.Message
	}{
		{"lmreread", s.port, &protocol.Reread{}},
		{"lmdown", s.port, &protocol.Shutdown{}},
		{"lmremove", vport, &protocol.Remove{Feature: "f1", User: "u", Host: "h", Display: "d"}},
		{"lmremove -h", vport, &protocol.RemoveHandle{Feature: "f1", Handle: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := dialFrom(t, ip, tt.port).Call(tt.req)
			var pe *protocol.PeerError
			if !asPeer(err, &pe) || pe.Msg.Code != -63 || pe.Msg.Minor != 601 {
				t.Fatalf("%s from %s: %v, want -63,601", tt.name, ip, err)
			}
		})
	}
	s.waitLog(fmt.Sprintf("SHUTDOWN request (lmdown) from mallory at node elsewhere (pid 4242, peer %s:", ip))
	s.waitLog("(demo) REMOVE request (lmremove) from mallory at node elsewhere")
	// Status is not privileged: it is answered from anywhere.
	if _, err := dialFrom(t, ip, s.port).Call(&protocol.ServerStatusRequest{}); err != nil {
		t.Fatalf("status from %s: %v", ip, err)
	}
}

func TestAllowRemoteAdmin(t *testing.T) {
	t.Parallel() // its own processes, directories, ports and lock directory
	ip := remoteIP(t)
	s := startLmgrd(t, "-allow-remote-admin")
	vport := s.vendorPort()
	if _, err := dialFrom(t, ip, vport).Call(&protocol.RemoveHandle{Feature: "f1", Handle: 1}); codeOf(err) == -63 {
		t.Fatalf("lmremove -h from %s with -allow-remote-admin: %v", ip, err)
	}
	if m, err := dialFrom(t, ip, s.port).Call(&protocol.Reread{}); err != nil {
		t.Fatalf("lmreread from %s with -allow-remote-admin: %v", ip, err)
	} else if _, ok := m.(*protocol.OK); !ok {
		t.Fatalf("lmreread answered %v", m.Type())
	}
	if _, err := dialFrom(t, ip, s.port).Call(&protocol.Shutdown{}); err != nil {
		t.Fatalf("lmdown from %s with -allow-remote-admin: %v", ip, err)
	}
	s.waitExit()
}

func TestLmdownDisabledThroughLmutil(t *testing.T) {
	t.Parallel() // its own processes, directories, ports and lock directory
	s := startLmgrd(t, "-x", "lmdown")
	spec := fmt.Sprintf("%d@localhost", s.port)
	r := runAs(t, lmutil, -1, "lmdown", "-q", "-c", spec)
	const want = "You are not a license administrator. (-63,602)"
	if r.status != 256-63 || !strings.Contains(r.stderr, want) {
		t.Fatalf("lmdown with -x lmdown: status %d, output %q%q; want %d and %q", r.status, r.stdout, r.stderr, 256-63, want)
	}
	s.waitLog("SHUTDOWN request (lmdown) from root at node ")
	// lmreread is not disabled by -x lmdown.
	if r := runAs(t, lmutil, -1, "lmreread", "-c", spec); r.status != 0 {
		t.Fatalf("lmreread with -x lmdown: status %d, output %q%q", r.status, r.stdout, r.stderr)
	}
	select {
	case <-s.done:
		t.Fatal("lmgrd exited after a refused lmdown")
	default:
	}
}

func asPeer(err error, pe **protocol.PeerError) bool {
	p, ok := err.(*protocol.PeerError)
	if ok {
		*pe = p
	}
	return ok
}
