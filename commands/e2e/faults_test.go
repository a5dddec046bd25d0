package e2e_test

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golm/lmutil/protocol"
)

// launch starts another lmgrd -z for s (after the first one died), with
// its debug log in logName and prefix (a command such as prlimit and its
// arguments) before lmutil when not nil. It returns the process's done
// channel; it does not wait for anything.
func (s *server) launch(logName string, prefix ...string) (*exec.Cmd, chan struct{}) {
	s.t.Helper()
	s.log = filepath.Join(s.dir, logName)
	args := append(append(prefix, lmutil), "lmgrd", "-z", "-c", s.lic, "-l", s.log)
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Dir = s.dir
	cmd.Env = append(os.Environ(), "GOLM_LMGRD_BIND_RETRY=1s", "GOLM_LOCKDIR="+filepath.Join(s.dir, "lock"))
	out, err := os.Create(filepath.Join(s.dir, logName+".out"))
	if err != nil {
		s.t.Fatal(err)
	}
	defer out.Close()
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	s.t.Cleanup(func() {
		vendors := s.vendorPIDs()
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(deadline):
			cmd.Process.Kill()
			<-done
		}
		for _, p := range vendors {
			if alive(p) {
				syscall.Kill(p, syscall.SIGKILL)
			}
		}
		if s.t.Failed() {
			b, _ := os.ReadFile(out.Name())
			s.t.Logf("%s:\n%s\ndebug log %s:\n%s", out.Name(), b, logName, s.logText())
		}
	})
	return cmd, done
}

// exited reports whether done is closed.
func exited(done chan struct{}) bool {
	select {
	case <-done:
		return true
	default:
		return false
	}
}

// TestLmgrdKilled: kill -9 of lmgrd takes its vendor daemon down with
// it; lmstat, lmdown and new clients report that no server is there
// (-15) and exit cleanly; a holder keeps running its command; a new
// lmgrd binds the same port at once (no "address in use" retries), and
// the holder holds its seat again.
func TestLmgrdKilled(t *testing.T) {
	t.Parallel()
	s := startServer(t, twoSeats)
	h := s.hold("alice", ":1", "f1")
	s.waitInUse("f1", 1)
	vendors := s.vendorPIDs()
	if err := s.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-s.done
	for _, p := range vendors {
		poll(t, fmt.Sprintf("vendor daemon %d to exit after lmgrd died", p), func() bool { return !alive(p) })
	}
	tests := []struct {
		name   string
		args   []string
		status int
		want   string
	}{
		{"lmstat", []string{"lmstat", "-a", "-c", s.lic}, 241, "Cannot connect to license server system. (-15,"},
		{"lmdown", []string{"lmdown", "-q", "-c", s.lic}, 241, ""},
		{"lmremove", []string{"lmremove", "-c", s.lic, "f1", "alice", s.host, ":1"}, 241, "(-15,"},
		{"lmreread", []string{"lmreread", "-c", s.lic}, 241, "(-15,"},
		{"lmwrap", []string{"lmwrap", "-c", s.lic, "f1", "--", "true"}, 241, "(-15,"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := s.run(nil, tt.args...)
			if r.status != tt.status || !strings.Contains(r.stdout+r.stderr, tt.want) {
				t.Errorf("%s: exit %d, want %d and %q in\n%s%s", tt.name, r.status, tt.status, tt.want, r.stdout, r.stderr)
			}
			if strings.Contains(r.stderr, "panic") || strings.Contains(r.stderr, "goroutine ") {
				t.Errorf("%s crashed:\n%s", tt.name, r.stderr)
			}
		})
	}
	if exited(h.done) {
		t.Fatalf("the holder exited when lmgrd died")
	}
	_, done := s.launch("debug2.log")
	s.waitLog(`\(lmgrd\) Started demo \(internet tcp_port \d+ pid \d+\)`, 1)
	if strings.Contains(s.logText(), "Retrying socket bind") {
		t.Errorf("the new lmgrd had to wait for the port:\n%s", s.logText())
	}
	s.waitInUse("f1", 1)
	if exited(done) {
		t.Fatal("the new lmgrd exited")
	}
}

// TestBrokenLicenseReread: a license file deleted, emptied, corrupted or
// truncated before an lmreread is refused (lmreread says so and exits
// non-zero), the vendor daemon goes on serving the last good file, and
// the debug log says why. A line whose count was edited fails its
// signature: the reread applies the rest of the file, and that feature is
// no longer granted (BAD CODE), as at startup.
func TestBrokenLicenseReread(t *testing.T) {
	t.Parallel()
	kept := map[string][2]int{"f1": {2, 1}, "f2": {1, 0}}
	tests := []struct {
		name   string
		spoil  func(t *testing.T, s *server)
		status int // of lmreread
		usage  map[string][2]int
		log    string
	}{
		{"deleted", func(t *testing.T, s *server) { os.Remove(s.lic) }, 256 - 30, kept, "Reread of license file failed"},
		{"emptied", func(t *testing.T, s *server) { os.WriteFile(s.lic, nil, 0o644) }, 256 - 2, kept, "Reread of license file failed"},
		{"garbage", func(t *testing.T, s *server) { os.WriteFile(s.lic, []byte("\x00\xff\xfe garbage {{{\n"), 0o644) }, 256 - 2, kept, "Reread of license file failed"},
		{"truncated", func(t *testing.T, s *server) {
			b, _ := os.ReadFile(s.lic)
			i := bytes.Index(b, []byte("\nFEATURE"))
			os.WriteFile(s.lic, b[:i+1], 0o644) // the SERVER and VENDOR lines only
		}, 256 - 2, kept, "Reread of license file failed"},
		{"a directory", func(t *testing.T, s *server) {
			os.Remove(s.lic)
			os.Mkdir(s.lic, 0o755)
		}, 256 - 30, kept, "Reread of license file failed"},
		{"count edited", func(t *testing.T, s *server) {
			b, _ := os.ReadFile(s.lic)
			os.WriteFile(s.lic, []byte(strings.Replace(string(b), "permanent 2", "permanent 200", 1)), 0o644)
		}, 0, map[string][2]int{"f1": {0, 1}, "f2": {1, 0}}, "BAD CODE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel() // each spoils a server of its own
			s := startServer(t, twoSeats)
			s.hold("alice", ":1", "f1")
			s.waitInUse("f1", 1)
			tt.spoil(t, s)
			// The license file is broken: lmreread finds lmgrd by its port.
			at := fmt.Sprintf("%d@localhost", s.port)
			// lmreread -vendor makes only the vendor daemon reread, but it
			// reads the same file: it is refused the same way.
			r := s.run(nil, "lmreread", "-c", at, "-vendor", "demo")
			if r.status != tt.status {
				t.Errorf("lmreread -vendor of a %s license: exit %d, want %d\n%s%s", tt.name, r.status, tt.status, r.stdout, r.stderr)
			}
			r = s.run(nil, "lmreread", "-c", at)
			if r.status != tt.status {
				t.Errorf("lmreread of a %s license: exit %d, want %d\n%s%s", tt.name, r.status, tt.status, r.stdout, r.stderr)
			}
			s.waitLog(regexp.QuoteMeta(tt.log), 1)
			if u := usageAt(t, s); !reflect.DeepEqual(u, tt.usage) {
				t.Errorf("after the reread of a %s license: %v, want %v", tt.name, u, tt.usage)
			}
			if tt.usage["f1"][0] == 0 {
				return
			}
			r = s.run([]string{"USER=bob", "LOGNAME=bob"}, "lmwrap", "-c", at, "f1", "--", "true")
			if r.status != 0 {
				t.Errorf("checkout after the reread of a %s license: exit %d, stderr %q", tt.name, r.status, r.stderr)
			}
		})
	}
}

// usageAt is s.usage through port@host, for when the license file is
// broken.
func usageAt(t *testing.T, s *server) map[string][2]int {
	t.Helper()
	lic := s.lic
	s.lic = fmt.Sprintf("%d@localhost", s.port)
	defer func() { s.lic = lic }()
	return s.usage()
}

// copyKeys puts the demo signing keys into dir.
func copyKeys(t *testing.T, dir string) {
	t.Helper()
	for _, f := range []string{"demo.key", "demo.pub"} {
		b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "keys", f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// TestVendorBinaryBroken: a DAEMON path that does not exist or is not
// executable makes lmgrd run its own vendor daemon; one that exists and
// cannot be run is logged as not started (manual B.3.5, "execl failed"),
// lmstat says the vendor daemon is down, and lmgrd keeps running.
func TestVendorBinaryBroken(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		make   func(t *testing.T, dir string) string // the DAEMON path
		serves bool
	}{
		{"missing", func(t *testing.T, dir string) string { return filepath.Join(dir, "nosuch", "demo") }, true},
		{"not executable", func(t *testing.T, dir string) string {
			p := filepath.Join(dir, "demo-noexec")
			os.WriteFile(p, []byte("#!/bin/sh\nexit 0\n"), 0o644)
			return p
		}, true},
		{"a directory", func(t *testing.T, dir string) string { return dir }, true},
		{"not a program", func(t *testing.T, dir string) string {
			p := filepath.Join(dir, "demo-garbage")
			os.WriteFile(p, []byte("\x7fELF garbage, not a program"), 0o755)
			return p
		}, false},
		{"exits at once", func(t *testing.T, dir string) string {
			p := filepath.Join(dir, "demo-false")
			os.WriteFile(p, []byte("#!/bin/sh\necho 'demo: cannot start' >&2\nexit 3\n"), 0o755)
			return p
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			copyKeys(t, dir)
			s := &server{t: t, dir: dir, port: freePort(t), lic: filepath.Join(dir, "license.lic"), done: make(chan struct{})}
			s.host, _ = os.Hostname()
			path := tt.make(t, dir)
			text := fmt.Sprintf("SERVER this_host ANY %d\nVENDOR demo %s\n%s", s.port, path, twoSeats)
			if err := os.WriteFile(s.lic, []byte(text), 0o644); err != nil {
				t.Fatal(err)
			}
			if r := s.run(nil, "lmcrypt", "-k", "demo.key", "license.lic"); r.status != 0 {
				t.Fatalf("lmcrypt: %+v", r)
			}
			_, done := s.launch("debug.log")
			s.waitLog(`\(lmgrd\) lmgrd tcp-port \d+`, 1)
			if tt.serves {
				s.waitLog(`\(lmgrd\) Vendor daemon \S+ is not an executable file: running golm's built-in demo vendor daemon`, 1)
				s.waitLog(`\(lmgrd\) Started demo`, 1)
				if r := s.run(nil, "lmwrap", "-c", s.lic, "f1", "--", "true"); r.status != 0 {
					t.Errorf("lmwrap: exit %d, stderr %q", r.status, r.stderr)
				}
				return
			}
			s.waitLog(`\(lmgrd\) (Cannot start vendor daemon demo|demo exited)`, 1)
			r := s.run(nil, "lmstat", "-c", s.lic)
			if !strings.Contains(r.stdout, "demo: The desired vendor daemon is down. (-97,") {
				t.Errorf("lmstat with the vendor daemon not started: exit %d\n%s", r.status, r.stdout)
			}
			if exited(done) {
				t.Error("lmgrd exited")
			}
		})
	}
}

// TestDebugLogDiskFull: lmgrd and its vendor daemon run with a file size
// limit (RLIMIT_FSIZE through prlimit, as a full disk would stop their
// writes) on a debug log that clients fill with long denials: writes past
// the limit fail (the processes do not die of SIGXFSZ), the steady loop
// goes on, and lmstat still answers. The report log on a full disk is
// covered in the server package (TestReportLogDiskFull: grants whose
// record cannot be written are denied with -23).
func TestDebugLogDiskFull(t *testing.T) {
	t.Parallel()
	prlimit, err := exec.LookPath("prlimit")
	if err != nil {
		t.Skip("no prlimit to set RLIMIT_FSIZE on lmgrd: " + err.Error())
	}
	const limit = 64 << 10
	dir := t.TempDir()
	copyKeys(t, dir)
	s := &server{t: t, dir: dir, port: freePort(t), lic: filepath.Join(dir, "license.lic"), done: make(chan struct{})}
	s.host, _ = os.Hostname()
	s.writeLicense(hostileFeatures)
	cmd, done := s.launch("debug.log", prlimit, fmt.Sprintf("--fsize=%d", limit), "--")
	s.cmd, s.done = cmd, done
	s.waitLog(`\(lmgrd\) Started demo \(internet tcp_port \d+ pid \d+\)`, 1)
	st := startSteady(t, s, "steady")
	st.progress(t, "start")
	// Each denial of a 16 KiB feature name writes a line of about 16 KiB.
	job := dialRaw(t, s.vendorPort())
	job.SetDeadline(time.Now().Add(4 * deadline))
	pc := protocol.NewConn(job)
	if _, err := protocol.ClientHandshake(pc, clientHello(protocol.Identity{User: "filler", Host: "h", Display: "d"})); err != nil {
		t.Fatal(err)
	}
	name := strings.Repeat("F", protocol.MaxString)
	for range 2 * limit / protocol.MaxString {
		_, err := pc.Call(&protocol.Checkout{Feature: name, Version: "1.0", Count: 1})
		var pe *protocol.PeerError
		if !errors.As(err, &pe) || pe.Msg.Code != -5 {
			t.Fatalf("checkout of an unknown feature: %v, want -5", err)
		}
	}
	poll(t, "the debug log to reach the file size limit", func() bool {
		fi, err := os.Stat(s.log)
		return err == nil && fi.Size() > limit-protocol.MaxString
	})
	if fi, _ := os.Stat(s.log); fi.Size() > limit {
		t.Errorf("the debug log grew to %d bytes past the %d byte limit", fi.Size(), limit)
	}
	st.progress(t, "a full debug log")
	r := s.run(nil, "lmstat", "-a", "-c", s.lic)
	if r.status != 0 || !strings.Contains(r.stdout, "Users of steady:") {
		t.Errorf("lmstat -a with the debug log full: exit %d\n%s", r.status, r.stdout)
	}
	if exited(done) {
		t.Fatal("lmgrd died when its debug log could not grow")
	}
	for _, p := range s.vendorPIDs() {
		if !alive(p) {
			t.Errorf("vendor daemon %d died when the debug log could not grow", p)
		}
	}
}

// TestPortInUseStops: lmgrd on a busy port says at once, on its terminal,
// which port is busy, says it again on each retry, and stops on SIGTERM
// at any time, in the foreground and while its detaching parent waits.
func TestPortInUseStops(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", ":0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	for _, tt := range []struct {
		name string
		args []string
		want string // the last words on its terminal
	}{
		{"foreground", []string{"-z"}, "stopped while port " + strconv.Itoa(port) + " was in use"},
		{"detaching", nil, "lmgrd: stopped before it listened"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			s := &server{t: t, dir: dir, port: port, lic: filepath.Join(dir, "license.lic"), done: make(chan struct{})}
			copyKeys(t, dir)
			s.writeLicense(twoSeats)
			s.log = filepath.Join(dir, "debug.log")
			cmd := exec.Command(lmutil, append(append([]string{"lmgrd"}, tt.args...), "-c", s.lic, "-l", s.log)...)
			cmd.Dir = dir
			cmd.Env = append(os.Environ(), "GOLM_LMGRD_BIND_RETRY=10m", "GOLM_LMGRD_BIND_RETRY_EVERY=100ms", "GOLM_LOCKDIR="+filepath.Join(dir, "lock"))
			var stderr lockedBuffer
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			done := make(chan struct{})
			go func() { cmd.Wait(); close(done) }()
			t.Cleanup(func() {
				if !exited(done) {
					cmd.Process.Kill()
					<-done
				}
			})
			busy := fmt.Sprintf("lmgrd: port %d is in use by another process; retrying until ", port)
			poll(t, "lmgrd to say the port is busy, twice", func() bool { return strings.Count(stderr.String(), busy) >= 2 })
			cmd.Process.Signal(syscall.SIGTERM)
			poll(t, "lmgrd to stop on SIGTERM", func() bool { return exited(done) })
			if code := cmd.ProcessState.ExitCode(); code == 0 || !strings.Contains(stderr.String(), tt.want) {
				t.Errorf("exit %d, stderr:\n%s\nwant it to say %q", code, stderr.String(), tt.want)
			}
			if strings.Contains(stderr.String(), "context canceled") {
				t.Errorf("stderr leaks Go internals:\n%s", stderr.String())
			}
			// The detached lmgrd stops too: its log says so.
			poll(t, "the debug log to say lmgrd stopped", func() bool {
				return strings.Contains(s.logText(), "Stopped while port "+strconv.Itoa(port)+" was in use")
			})
		})
	}
}

// lockedBuffer is a bytes.Buffer a process writes while the test reads.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
