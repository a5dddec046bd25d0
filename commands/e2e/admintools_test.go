package e2e_test

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// procName is the kernel's name of pid (/proc/PID/comm) and its argv[0]
// (/proc/PID/cmdline).
func procName(t *testing.T, pid int) (comm, argv0 string) {
	t.Helper()
	c, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
	if err != nil {
		t.Fatal(err)
	}
	a, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		t.Fatal(err)
	}
	argv0, _, _ = strings.Cut(string(a), "\x00")
	return strings.TrimSuffix(string(c), "\n"), argv0
}

// threadNames are the kernel's names of every thread of pid that are not
// want.
func threadNames(pid int, want string) []string {
	tasks, _ := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	var other []string
	for _, task := range tasks {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/comm", pid, task.Name()))
		if err == nil && strings.TrimSpace(string(b)) != want {
			other = append(other, task.Name()+"="+strings.TrimSpace(string(b)))
		}
	}
	return other
}

var lmgrdPIDRE = regexp.MustCompile(`\(lmgrd\) lmgrd running as pid (\d+)`)

// TestProcessNames: ps, pgrep, top and ss -p show lmgrd as lmgrd and each
// vendor daemon as its vendor's name, as FLEXlm's do, not as lmutil: the
// kernel's name (comm) of both, the vendor daemon's argv[0], and lmgrd's
// argv[0] when it detached itself. The harness still recognises its own
// vendor daemons by their command line.
func TestProcessNames(t *testing.T) {
	t.Parallel()
	if runtime.GOOS != "linux" {
		t.Skip("process names are set on Linux only")
	}
	t.Run("foreground", func(t *testing.T) {
		s := startServer(t, twoSeats)
		// Started as lmutil lmgrd -z: argv[0] stays lmutil's path,
		// the kernel's name is lmgrd.
		comm, argv0 := procName(t, s.cmd.Process.Pid)
		if comm != "lmgrd" || argv0 != lmutil {
			t.Errorf("lmgrd: comm %q, argv[0] %q; want lmgrd, %s", comm, argv0, lmutil)
		}
		if other := threadNames(s.cmd.Process.Pid, "lmgrd"); len(other) > 0 {
			t.Errorf("lmgrd threads not named lmgrd: %v", other)
		}
		pids := s.vendorPIDs()
		if len(pids) != 1 {
			t.Fatalf("vendor daemons %v, want one", pids)
		}
		comm, argv0 = procName(t, pids[0])
		if comm != "demo" || argv0 != "demo" {
			t.Errorf("vendor daemon: comm %q, argv[0] %q; want demo, demo", comm, argv0)
		}
		if other := threadNames(pids[0], "demo"); len(other) > 0 {
			t.Errorf("vendor daemon threads not named demo: %v", other)
		}
		if !s.ownVendor(pids[0]) {
			t.Errorf("ownVendor(%d) = false for the running vendor daemon", pids[0])
		}
		// pgrep finds both by name, as administrators' scripts do.
		for _, name := range []string{"lmgrd", "demo"} {
			out, err := exec.Command("pgrep", "-x", name).Output()
			var ee *exec.Error
			if errors.As(err, &ee) {
				t.Skip("no pgrep")
			}
			want := strconv.Itoa(s.cmd.Process.Pid)
			if name == "demo" {
				want = strconv.Itoa(pids[0])
			}
			if !bytes.Contains(append([]byte("\n"), out...), []byte("\n"+want+"\n")) {
				t.Errorf("pgrep -x %s = %q, want it to list %s", name, out, want)
			}
		}
	})
	t.Run("detached", func(t *testing.T) {
		dir := t.TempDir()
		s := &server{t: t, dir: dir, port: freePort(t), lic: filepath.Join(dir, "license.lic"), log: filepath.Join(dir, "debug.log"), done: make(chan struct{})}
		copyKeys(t, dir)
		s.writeLicense(twoSeats)
		r := s.run([]string{"GOLM_LOCKDIR=" + filepath.Join(dir, "lock")}, "lmgrd", "-c", s.lic, "-l", s.log)
		if r.status != 0 {
			t.Fatalf("lmgrd: exit %d, stderr %q", r.status, r.stderr)
		}
		m := lmgrdPIDRE.FindStringSubmatch(s.logText())
		if m == nil {
			t.Fatalf("no pid in the debug log:\n%s", s.logText())
		}
		pid, _ := strconv.Atoi(m[1])
		t.Cleanup(func() {
			vendors := s.vendorPIDs()
			syscall.Kill(pid, syscall.SIGTERM)
			poll(t, "the detached lmgrd to exit", func() bool { return !alive(pid) })
			for _, p := range vendors {
				poll(t, "its vendor daemon to exit", func() bool { return !s.ownVendor(p) })
			}
		})
		s.waitLog(`\(lmgrd\) Started demo \(internet tcp_port \d+ pid \d+\)`, 1)
		comm, argv0 := procName(t, pid)
		if comm != "lmgrd" || argv0 != "lmgrd" {
			t.Errorf("detached lmgrd: comm %q, argv[0] %q; want lmgrd, lmgrd", comm, argv0)
		}
		for _, p := range s.vendorPIDs() {
			if comm, argv0 := procName(t, p); comm != "demo" || argv0 != "demo" {
				t.Errorf("vendor daemon: comm %q, argv[0] %q; want demo, demo", comm, argv0)
			}
		}
	})
}

// reachable reports whether a TCP connection to host:port is accepted.
func reachable(host string, port int) error {
	c, err := net.DialTimeout("tcp", net.JoinHostPort(host, strconv.Itoa(port)), deadline)
	if err == nil {
		c.Close()
	}
	return err
}

// TestBind: with -bind ADDR lmgrd and its vendor daemons listen on that
// address only (Linux routes all of 127/8 to the loopback interface, so
// without -bind 127.0.0.2 reaches them too); a -bind that is not an
// address, or not one of this host's, stops lmgrd with a clear message.
func TestBind(t *testing.T) {
	t.Parallel()
	if runtime.GOOS != "linux" {
		t.Skip("needs all of 127/8 on loopback")
	}
	for _, tt := range []struct {
		name       string
		args       []string
		reach, not []string
	}{
		{"every address", nil, []string{"127.0.0.1", "127.0.0.2"}, nil},
		{"127.0.0.1", []string{"-bind", "127.0.0.1"}, []string{"127.0.0.1"}, []string{"127.0.0.2", "::1"}},
		{"127.0.0.2", []string{"-bind", "127.0.0.2"}, []string{"127.0.0.2"}, []string{"127.0.0.1"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := startServer(t, twoSeats, tt.args...)
			ports := map[string]int{"lmgrd": s.port, "vendor daemon": s.vendorPort()}
			for what, port := range ports {
				for _, h := range tt.reach {
					if err := reachable(h, port); err != nil {
						t.Errorf("%s on %s:%d: %v, want it reachable", what, h, port, err)
					}
				}
				for _, h := range tt.not {
					if err := reachable(h, port); !errors.Is(err, syscall.ECONNREFUSED) && !errors.Is(err, syscall.EADDRNOTAVAIL) && !errors.Is(err, syscall.ENETUNREACH) {
						t.Errorf("%s on %s:%d: %v, want connection refused", what, h, port, err)
					}
				}
			}
			if len(tt.args) > 0 {
				// lmstat still works: it finds the server by its SERVER
				// line and the local admin socket.
				if r := s.run(nil, "lmstat", "-a", "-c", s.lic); r.status != 0 {
					t.Errorf("lmstat -a: exit %d, stderr %q", r.status, r.stderr)
				}
			}
		})
	}
	for _, tt := range []struct {
		name, bind, want string
		status           int
	}{
		{"not an address", "localhost", `lmgrd: -bind takes an IP address of this host, not "localhost"`, 1},
		{"empty-ish", "127.0.0", `lmgrd: -bind takes an IP address of this host, not "127.0.0"`, 1},
		{"not this host's", "192.0.2.1", "lmgrd: cannot listen on 192.0.2.1 port ", 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			s := &server{t: t, dir: dir, port: freePort(t), lic: filepath.Join(dir, "license.lic"), log: filepath.Join(dir, "debug.log"), done: make(chan struct{})}
			copyKeys(t, dir)
			s.writeLicense(twoSeats)
			r := s.run([]string{"GOLM_LOCKDIR=" + filepath.Join(dir, "lock")}, "lmgrd", "-z", "-c", s.lic, "-l", s.log, "-bind", tt.bind)
			if r.status != tt.status || !strings.Contains(r.stderr, tt.want) {
				t.Errorf("lmgrd -bind %s: exit %d, stderr %q; want %d, %q", tt.bind, r.status, r.stderr, tt.status, tt.want)
			}
			if strings.Contains(r.stderr, "listen tcp") || strings.Contains(r.stderr, "bind:") {
				t.Errorf("stderr leaks Go internals: %q", r.stderr)
			}
		})
	}
}

// TestLmgrdFatalErrors: what lmgrd says on its terminal when it cannot
// start, in the foreground (-z) and while its detaching parent waits:
// the same lines, each after "lmgrd: ", the exit status lmutil would
// use (255 for a license file it cannot find), and no Go internals.
func TestLmgrdFatalErrors(t *testing.T) {
	t.Parallel()
	hostLine := regexp.MustCompile(`but this host's is .* \(lmhostid`)
	for _, tt := range []struct {
		name    string
		license string // written to license.lic and signed, unless ""
		args    []string
		status  int
	}{
		{"no such license file", "", []string{"-c", "nosuch.lic"}, 255},
		{"one of two license files missing", "SERVER this_host ANY %d\nVENDOR demo\n", []string{"-c", "license.lic:nosuch.lic"}, 255},
		{"directory without license files", "", []string{"-c", "empty/"}, 255},
		{"servers only", "", []string{"-c", "27000@localhost"}, 255},
		{"debug log in a missing directory", "SERVER this_host ANY %d\nVENDOR demo\n", []string{"-c", "license.lic", "-l", "/nonexistent/dir/x.log"}, 1},
		{"wrong ethernet hostid", "SERVER this_host 0123456789ab %d\nVENDOR demo\n", []string{"-c", "license.lic"}, 1},
		{"wrong 32-bit hostid", "SERVER this_host 0123abcd %d\nVENDOR demo\n", []string{"-c", "license.lic"}, 1},
		{"no DAEMON line", "SERVER this_host ANY %d\n", []string{"-c", "license.lic"}, 1},
		{"no SERVER line", "VENDOR demo\n", []string{"-c", "license.lic"}, 1},
		{"bad SERVER line", "SERVER this_host ANY notaport\nVENDOR demo\n", []string{"-c", "license.lic"}, 1},
		{"SERVER line of another host", "SERVER other.example.invalid ANY %d\nVENDOR demo\n", []string{"-c", "license.lic"}, 1},
		{"bad -x", "SERVER this_host ANY %d\nVENDOR demo\n", []string{"-c", "license.lic", "-x", "lmstat"}, 1},
		{"bind a name", "SERVER this_host ANY %d\nVENDOR demo\n", []string{"-c", "license.lic", "-bind", "localhost"}, 1},
		{"bind an address of another host", "SERVER this_host ANY 27999\nVENDOR demo\n", []string{"-c", "license.lic", "-bind", "192.0.2.1"}, 1},
		{"lock directory is a file", "SERVER this_host ANY %d\nVENDOR demo\n", []string{"-c", "license.lic", "-lockdir", "license.lic"}, 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel() // each in its own directory, on its own port
			var golden string
			for _, mode := range []string{"foreground", "detaching"} {
				dir := t.TempDir()
				if err := os.Mkdir(filepath.Join(dir, "empty"), 0o755); err != nil {
					t.Fatal(err)
				}
				s := &server{t: t, dir: dir, port: freePort(t), lic: filepath.Join(dir, "license.lic"), done: make(chan struct{})}
				if tt.license != "" {
					copyKeys(t, dir)
					text := tt.license
					if strings.Contains(text, "%d") {
						text = fmt.Sprintf(text, s.port)
					}
					if err := os.WriteFile(s.lic, []byte(text), 0o644); err != nil {
						t.Fatal(err)
					}
				}
				args := append([]string{"lmgrd"}, tt.args...)
				if mode == "foreground" {
					args = append(args, "-z")
				}
				if !slicesContains(tt.args, "-l") {
					args = append(args, "-l", filepath.Join(dir, "debug.log"))
				}
				r := s.run([]string{"GOLM_LOCKDIR=" + filepath.Join(dir, "lock")}, args...)
				got := strings.ReplaceAll(r.stderr, dir, "DIR")
				got = strings.ReplaceAll(got, strconv.Itoa(s.port), "PORT")
				got = hostLine.ReplaceAllString(got, "but this host's is HOSTID (lmhostid")
				if h, err := os.Hostname(); err == nil {
					got = strings.ReplaceAll(got, "not this host ("+h+")", "not this host (HOSTNAME)")
				}
				if r.status != tt.status {
					t.Errorf("%s: exit %d, want %d; stderr:\n%s", mode, r.status, tt.status, r.stderr)
				}
				for _, leak := range []string{"open /", "open DIR", "listen tcp", "bind:", "context canceled", "exit status"} {
					if strings.Contains(got, leak) {
						t.Errorf("%s: stderr leaks Go internals (%q):\n%s", mode, leak, got)
					}
				}
				if mode == "foreground" {
					golden = got
					checkGolden(t, "lmgrd-"+strings.ReplaceAll(tt.name, " ", "-"), got)
				} else if got != golden {
					t.Errorf("detaching lmgrd says\n%s\nthe foreground one\n%s", got, golden)
				}
			}
		})
	}
}

func slicesContains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestLogSwitchUnknownNames: lmswitchr, lmnewlog and lmswitch with a
// name that is neither a vendor daemon nor a feature of the server say
// so and exit with -5's status (251), touching no log, also when the
// server has a single vendor daemon (to which lmgrd would send a
// checkout of any feature); a vendor daemon's name and a feature it
// serves (one of several, an INCREMENT) work.
func TestLogSwitchUnknownNames(t *testing.T) {
	t.Parallel()
	s := startServerWith(t, twoSeats, withReportLog("REPORTLOG +report.rl\n"))
	for _, cmd := range []string{"lmswitchr", "lmnewlog", "lmswitch"} {
		for i, c := range []struct {
			target string
			ok     bool
		}{
			{"nosuch", false},
			{"DEMO", false}, // names are case-sensitive
			{"f", false},    // no prefix matching
			{"f1 ", false},
			{"demo", true},
			{"f1", true},
			{"f2", true},
		} {
			t.Run(cmd+"/"+c.target, func(t *testing.T) {
				path := fmt.Sprintf("%s-%d.log", cmd, i)
				r := s.run(nil, cmd, "-c", s.lic, c.target, path)
				_, statErr := os.Stat(filepath.Join(s.dir, path))
				if c.ok {
					if r.status != 0 || !strings.Contains(r.stdout, "demo: ") {
						t.Errorf("%s %q: exit %d, stdout %q, stderr %q; want it switched", cmd, c.target, r.status, r.stdout, r.stderr)
					}
					return
				}
				want := fmt.Sprintf("%s: %s: no such vendor daemon or feature (%d@", cmd, c.target, s.port)
				if r.status != 251 || !strings.Contains(r.stderr, want) || !strings.Contains(r.stderr, "No such feature exists. (-5,") {
					t.Errorf("%s %q: exit %d, stderr %q; want 251 and %q", cmd, c.target, r.status, r.stderr, want)
				}
				if statErr == nil {
					t.Errorf("%s %q made %s", cmd, c.target, path)
				}
			})
		}
	}
}

// TestLogSwitchUnknownNamesTwoVendors: with two vendor daemons lmgrd
// itself refuses a feature it does not know (-5); a vendor daemon that
// is down is -97, not an unknown name.
func TestLogSwitchUnknownNamesTwoVendors(t *testing.T) {
	t.Parallel()
	s := startServer(t, "VENDOR other\n"+twoSeats)
	s.waitLog(`\(lmgrd\) other exited with status 3`, 1)
	for _, c := range []struct {
		target, want string
		status       int
	}{
		{"nosuch", "lmswitch: nosuch: no such vendor daemon or feature", 251},
		{"other", "The desired vendor daemon is down. (-97,", 159},
		{"f1", "", 0},
	} {
		t.Run(c.target, func(t *testing.T) {
			r := s.run(nil, "lmswitch", "-c", s.lic, c.target, c.target+".dl")
			if r.status != c.status || !strings.Contains(r.stderr, c.want) {
				t.Errorf("lmswitch %s: exit %d, stderr %q; want %d, %q", c.target, r.status, r.stderr, c.status, c.want)
			}
		})
	}
}

// TestVendorPortBusy: a vendor daemon whose DAEMON line port is taken
// says which port in the debug log, in the system's words, and lmgrd
// does not restart it.
func TestVendorPortBusy(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", ":0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	busy := ln.Addr().(*net.TCPAddr).Port
	dir := t.TempDir()
	s := &server{t: t, dir: dir, port: freePort(t), lic: filepath.Join(dir, "license.lic"), log: filepath.Join(dir, "debug.log"), done: make(chan struct{})}
	copyKeys(t, dir)
	text := fmt.Sprintf("SERVER this_host ANY %d\nVENDOR demo port=%d\n%s", s.port, busy, twoSeats)
	if err := os.WriteFile(s.lic, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	if r := s.run(nil, "lmcrypt", "-k", "demo.key", "license.lic"); r.status != 0 {
		t.Fatalf("lmcrypt: %+v", r)
	}
	cmd := exec.Command(lmutil, "lmgrd", "-z", "-c", s.lic, "-l", s.log)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOLM_LOCKDIR="+filepath.Join(dir, "lock"))
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
	})
	s.waitLog(`\(lmgrd\) demo exited with status 3, not restarting it`, 1)
	want := fmt.Sprintf("(demo) demo: cannot listen on port %d: address already in use", busy)
	if log := s.logText(); !strings.Contains(log, want) || strings.Contains(log, "listen tcp") {
		t.Errorf("debug log:\n%s\nwant %q and no Go error", log, want)
	}
}
