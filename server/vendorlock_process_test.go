package server_test

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"golm/lmutil/protocol"
	golm "golm/lmutil/server"

	"golm/lmutil/protocol/lmerr"
)

// copyLicense writes a copy of s's license file and key into a new
// directory with the SERVER line on port: the port is not signed, so the
// copy is as valid as the original.
func copyLicense(t *testing.T, s *server, port int) string {
	t.Helper()
	dir := t.TempDir()
	text, err := os.ReadFile(filepath.Join(s.dir, "license.lic"))
	if err != nil {
		t.Fatal(err)
	}
	old := fmt.Sprintf("SERVER this_host ANY %d\n", s.port)
	if !strings.Contains(string(text), old) {
		t.Fatalf("license has no %q:\n%s", old, text)
	}
	moved := strings.Replace(string(text), old, fmt.Sprintf("SERVER this_host ANY %d\n", port), 1)
	if err := os.WriteFile(filepath.Join(dir, "license.lic"), []byte(moved), 0o644); err != nil {
		t.Fatal(err)
	}
	pub, err := os.ReadFile(filepath.Join(s.dir, "demo.pub"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "demo.pub"), pub, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestOneVendorDaemonPerHost runs two lmgrds on the same license on two
// ports: the second one's vendor daemon must refuse to serve the seats
// again, once, and the first must keep serving; after kill -9 of the
// first, nothing stale is left to stop a new one.
func TestOneVendorDaemonPerHost(t *testing.T) {
	t.Setenv(golm.LockWaitEnv, "100ms")
	lockDir := filepath.Join(t.TempDir(), "lock")
	first := startLmgrd(t, "-lockdir", lockDir)
	port2 := freePort(t)
	second := launch(t, copyLicense(t, first, port2), port2, "-lockdir", lockDir)
	multiple := golm.MultipleMessage("demo")
	second.waitLog("not restarting it")
	log := second.readLog()
	if n := strings.Count(log, "(demo) "+multiple); n != 1 {
		t.Errorf("second vendor daemon logged %q %d times, want once:\n%s", multiple, n, log)
	}
	if strings.Contains(log, "Started demo") {
		t.Errorf("second vendor daemon started:\n%s", log)
	}
	t.Run("second lmgrd has no demo", func(t *testing.T) {
		c := dial(t, port2, protocol.RoleClient, "u")
		if _, err := c.Call(&protocol.Locate{Vendor: "demo"}); codeOf(err) != -97 {
			t.Fatalf("locate demo on the second lmgrd: %v, want -97", err)
		}
	})
	t.Run("first keeps serving its 2 seats", func(t *testing.T) {
		for i, want := range []lmerr.Code{0, 0, -4} {
			if _, code := checkout(t, first.vendor(fmt.Sprintf("u%d", i)), "f1"); code != want {
				t.Fatalf("checkout %d: code %d, want %d", i+1, code, want)
			}
		}
	})
	t.Run("lmreread while the first runs", func(t *testing.T) {
		// lmreread starts a vendor daemon lmgrd gave up on; it finds the
		// first one again and gives up again.
		if _, err := admin(t, port2, &protocol.Reread{}); err != nil {
			t.Fatalf("lmreread: %v", err)
		}
		eventually(t, "a second MULTIPLE line", func() bool {
			return strings.Count(second.readLog(), "(demo) "+multiple) == 2
		})
	})

	// kill -9 of the first lmgrd and its vendor daemon leaves no lock.
	vpid := first.vendorPIDs()[0]
	first.cmd.Process.Kill()
	syscall.Kill(vpid, syscall.SIGKILL)
	first.waitExit()
	eventually(t, "the first vendor daemon to die", func() bool { return gone(vpid) })
	os.Remove(first.log)
	third := launch(t, first.dir, first.port, "-lockdir", lockDir)
	third.waitStarted(1)
	if _, code := checkout(t, third.vendor("u"), "f1"); code != 0 {
		t.Fatalf("checkout from a new lmgrd after kill -9: code %d", code)
	}
	// The second lmgrd said why on its terminal (its output is read once
	// it has exited).
	second.cmd.Process.Signal(syscall.SIGTERM)
	second.waitExit()
	if n := strings.Count(second.out.String(), "lmgrd: "+multiple+"\n"); n != 2 {
		t.Errorf("second lmgrd's terminal has %d %q lines, want 2 (start, lmreread):\n%s", n, multiple, second.out.String())
	}
}

// TestLmgrdRefusesUnsafeLockDir: a lock directory another user could
// write to (and so take or remove a vendor's lock in) keeps lmgrd from
// starting, with the reason on its terminal.
func TestLmgrdRefusesUnsafeLockDir(t *testing.T) {
	t.Parallel() // its own processes, directories, ports and lock directory
	dir := t.TempDir()
	port := freePort(t)
	writeLicense(t, dir, fmt.Sprintf("SERVER this_host ANY %d\nVENDOR demo\nFEATURE f1 demo 1.0 permanent 2\n", port))
	lockDir := filepath.Join(t.TempDir(), "lock")
	if err := os.Mkdir(lockDir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(lockDir, 0o1777); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(lmutil, "lmgrd", "-z", "-c", "license.lic", "-lockdir", lockDir)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	ee, ok := err.(*exec.ExitError)
	if !ok || ee.ExitCode() != 1 {
		t.Fatalf("lmgrd with a world-writable lock directory: %v, want exit status 1\n%s", err, out)
	}
	if want := "lock directory " + lockDir + " is writable by group or others"; !strings.Contains(string(out), want) {
		t.Errorf("output %q, want it to contain %q", out, want)
	}
}

var lmgrdPortRE = regexp.MustCompile(`\(lmgrd\) lmgrd tcp-port (\d+)`)

// tcpPort is the port lmgrd's log says it listens on.
func (s *server) tcpPort() int {
	s.t.Helper()
	m := lmgrdPortRE.FindStringSubmatch(s.readLog())
	if m == nil {
		s.t.Fatalf("no tcp-port line in the log:\n%s", s.readLog())
	}
	p, _ := strconv.Atoi(m[1])
	return p
}

// TestOneVendorDaemonPerHostDefaultPorts: a SERVER line without a port
// started twice gets two ports of 27000-27009, but still one vendor
// daemon and one set of seats.
func TestOneVendorDaemonPerHostDefaultPorts(t *testing.T) {
	free := 0
	for p := 27000; p <= 27009; p++ {
		if ln, err := net.Listen("tcp", ":"+strconv.Itoa(p)); err == nil {
			ln.Close()
			free++
		}
	}
	if free < 2 {
		t.Skipf("only %d of ports 27000-27009 are free, want 2", free)
	}
	t.Setenv(golm.LockWaitEnv, "100ms")
	lockDir := filepath.Join(t.TempDir(), "lock")
	dir1 := t.TempDir()
	writeLicense(t, dir1, "SERVER this_host ANY\nVENDOR demo\nFEATURE f1 demo 1.0 permanent 2\n")
	first := launch(t, dir1, 0, "-lockdir", lockDir)
	first.waitStarted(1)
	first.port = first.tcpPort()
	dir2 := t.TempDir()
	for _, f := range []string{"license.lic", "demo.pub"} {
		b, err := os.ReadFile(filepath.Join(dir1, f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir2, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	second := launch(t, dir2, 0, "-lockdir", lockDir)
	second.waitLog("not restarting it")
	second.port = second.tcpPort()
	if second.port == first.port {
		t.Fatalf("both lmgrds on port %d", first.port)
	}
	if !strings.Contains(second.readLog(), "(demo) "+golm.MultipleMessage("demo")) {
		t.Errorf("second vendor daemon did not log %q:\n%s", golm.MultipleMessage("demo"), second.readLog())
	}
	for i, want := range []lmerr.Code{0, 0, -4} {
		if _, code := checkout(t, first.vendor(fmt.Sprintf("u%d", i)), "f1"); code != want {
			t.Fatalf("checkout %d: code %d, want %d", i+1, code, want)
		}
	}
	c := dial(t, second.port, protocol.RoleClient, "u")
	if _, err := c.Call(&protocol.Locate{Vendor: "demo"}); codeOf(err) != -97 {
		t.Fatalf("locate demo on the second lmgrd: %v, want -97", err)
	}
}
