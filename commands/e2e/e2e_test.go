// Package e2e_test runs lmutil end to end with real processes on
// loopback: lmgrd -z, the vendor daemon it starts, lmwrap holders, and
// lmstat, lmremove, lmreread and lmdown against them. Every one of them is
// this test binary, linked as lmutil by TestMain: under go test -race the
// daemons are race-checked, and a daemon that reports a race fails the
// test that started it. Nothing waits by sleeping: every wait polls a
// condition with a deadline.
package e2e_test

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"golm/lmutil/commands"
	golm "golm/lmutil/server"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golm/lmutil/server/servertest"
)

// update rewrites the goldens in testdata instead of comparing.
var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// lmutil is the binary under test.
var lmutil string

func TestMain(m *testing.M) {
	if rawMain() { // the test binary as another user's client (asuser_test.go)
		return
	}
	// The tests mostly wait for processes, not for the CPU: six run at
	// a time however few CPUs there are, unless -parallel says otherwise
	// (the command line is parsed after this).
	flag.Set("test.parallel", "6")
	os.Exit(servertest.Main(m, &lmutil, servertest.Lmutil{
		Run: func(ctx context.Context, argv []string) int {
			return commands.Main(ctx, argv, commands.OSEnv("lmutil"))
		},
		IsCommand:  func(name string) bool { return commands.Lookup(name) != nil },
		ControlEnv: golm.ControlEnv,
	}))
}

// deadline bounds every poll for a process or a server to reach a state.
// It is generous because the test machine may be loaded; it is never a
// timing assertion.
const deadline = 20 * time.Second

// poll calls cond until it holds; it fails the test at the deadline.
func poll(t *testing.T, what string, cond func() bool) {
	t.Helper()
	servertest.Poll(t, what, deadline, cond)
}

// freePort returns a TCP port that was free a moment ago.
func freePort(t *testing.T) int { return servertest.FreePort(t) }

// result is what a finished lmutil command left.
type result struct {
	stdout, stderr string
	status         int
}

// server is one lmgrd -z process and its license directory.
type server struct {
	t    *testing.T
	dir  string
	port int
	lic  string
	log  string
	cmd  *exec.Cmd
	done chan struct{}
	host string
}

// licenseText is the test license: a 2-seat f1 and a 1-seat f2 of vendor
// demo, served on port.
func licenseText(port int, features string) string {
	return fmt.Sprintf("SERVER this_host ANY %d\nVENDOR demo\n%s", port, features)
}

const twoSeats = "FEATURE f1 demo 1.0 permanent 2 VENDOR_STRING=e2e\nINCREMENT f2 demo 1.0 1-jan-2099 1\n"

// startServer writes the license signed with the bundled demo key and
// starts lmgrd -z on it; it returns once the vendor daemon is up.
// extra are more lmgrd flags.
func startServer(t *testing.T, features string, extra ...string) *server {
	t.Helper()
	return startServerWith(t, features, nil, extra...)
}

// startServerWith is startServer with setup run on the server's
// directory before lmgrd starts (to write an options file, say).
func startServerWith(t *testing.T, features string, setup func(dir string), extra ...string) *server {
	t.Helper()
	return startServerEnv(t, features, setup, nil, extra...)
}

// startServerEnv is startServerWith with env (NAME=value entries) added
// to lmgrd's environment, which its vendor daemons inherit.
func startServerEnv(t *testing.T, features string, setup func(dir string), env []string, extra ...string) *server {
	t.Helper()
	dir := t.TempDir()
	if setup != nil {
		setup(dir)
	}
	for _, f := range []string{"demo.key", "demo.pub"} {
		b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "keys", f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	host, _ := os.Hostname()
	s := &server{t: t, dir: dir, port: freePort(t), lic: filepath.Join(dir, "license.lic"), log: filepath.Join(dir, "debug.log"), done: make(chan struct{}), host: host}
	s.writeLicense(features)
	s.cmd = exec.Command(lmutil, append([]string{"lmgrd", "-z", "-c", s.lic, "-l", s.log}, extra...)...)
	s.cmd.Dir = dir
	s.cmd.Env = append(append(os.Environ(), "GOLM_LMGRD_BIND_RETRY=1s", "GOLM_LOCKDIR="+filepath.Join(dir, "lock")), env...)
	// Output goes to a file, not a pipe: the vendor daemons inherit it,
	// and Wait must not wait for them to close a pipe.
	out, err := os.Create(filepath.Join(dir, "lmgrd.out"))
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	s.cmd.Stdout, s.cmd.Stderr = out, out
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { s.cmd.Wait(); close(s.done) }()
	t.Cleanup(func() {
		vendors := s.vendorPIDs()
		s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.done:
		case <-time.After(deadline):
			s.cmd.Process.Kill()
			<-s.done
		}
		for _, p := range vendors {
			// A vendor daemon follows lmgrd out; one that does not is
			// killed, after the poll has failed the test.
			servertest.Poll(t, fmt.Sprintf("vendor daemon %d to exit after lmgrd", p), deadline, func() bool { return !s.ownVendor(p) })
			if s.ownVendor(p) {
				syscall.Kill(p, syscall.SIGKILL)
			}
		}
		log, _ := os.ReadFile(s.log)
		stdout, _ := os.ReadFile(out.Name())
		// Whatever the test did, no daemon may have crashed or raced.
		for _, bad := range []string{"panic:", "fatal error:", "WARNING: DATA RACE"} {
			if bytes.Contains(log, []byte(bad)) || bytes.Contains(stdout, []byte(bad)) {
				t.Errorf("a daemon wrote %q", bad)
			}
		}
		if t.Failed() {
			t.Logf("lmgrd output:\n%s\ndebug log:\n%s", stdout, log)
		}
	})
	s.waitLog(`\(lmgrd\) Started demo \(internet tcp_port \d+ pid \d+\)`, 1)
	return s
}

// writeLicense writes and signs the license file.
func (s *server) writeLicense(features string) {
	s.t.Helper()
	if err := os.WriteFile(s.lic, []byte(licenseText(s.port, features)), 0o644); err != nil {
		s.t.Fatal(err)
	}
	if r := s.run(nil, "lmcrypt", "-k", "demo.key", "license.lic"); r.status != 0 {
		s.t.Fatalf("lmcrypt: %+v", r)
	}
}

// run runs lmutil with args in the server's directory, with env added
// to the environment.
func (s *server) run(env []string, args ...string) result {
	s.t.Helper()
	return s.exec(env, "", args...)
}

// runInput runs lmutil with standard input.
func (s *server) runInput(input string, args ...string) result {
	s.t.Helper()
	return s.exec(nil, input, args...)
}

func (s *server) exec(env []string, input string, args ...string) result {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	cmd := exec.CommandContext(ctx, lmutil, args...)
	cmd.Dir = s.dir
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdin = strings.NewReader(input)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := result{stdout: stdout.String(), stderr: stderr.String()}
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		r.status = ee.ExitCode()
	case err != nil:
		s.t.Fatalf("lmutil %s: %v", strings.Join(args, " "), err)
	}
	return r
}

// logText is the debug log so far.
func (s *server) logText() string {
	b, _ := os.ReadFile(s.log)
	return string(b)
}

// waitLog waits until the debug log has n lines matching re.
func (s *server) waitLog(re string, n int) {
	s.t.Helper()
	rx := regexp.MustCompile(re)
	poll(s.t, fmt.Sprintf("%d debug log lines matching %s", n, re), func() bool {
		return len(rx.FindAllString(s.logText(), -1)) >= n
	})
}

var startedRE = regexp.MustCompile(`\(lmgrd\) (?:RE)?Started demo \(internet tcp_port \d+ pid (\d+)\)`)

// vendorPIDs are the pids of every vendor daemon lmgrd logged starting.
func (s *server) vendorPIDs() []int {
	var pids []int
	for _, m := range startedRE.FindAllStringSubmatch(s.logText(), -1) {
		p, _ := strconv.Atoi(m[1])
		pids = append(pids, p)
	}
	return pids
}

// holder is an lmwrap process holding a license while sleep runs.
type holder struct {
	cmd  *exec.Cmd
	done chan struct{}
}

// hold starts lmwrap for feature as user on display, heartbeating every
// 300 ms unless env (NAME=value entries, which win) says otherwise; it
// does not wait for the checkout.
func (s *server) hold(user, display, feature string, env ...string) *holder {
	s.t.Helper()
	h := &holder{done: make(chan struct{})}
	h.cmd = exec.Command(lmutil, "lmwrap", "-c", s.lic, "-v", "1.0", feature, "--", "sleep", "600")
	h.cmd.Dir = s.dir
	h.cmd.Env = append(os.Environ(), "USER="+user, "LOGNAME="+user, "DISPLAY="+display, "GOLM_HEARTBEAT_INTERVAL=300ms")
	h.cmd.Env = append(h.cmd.Env, env...)
	// A file, not a pipe: the sleep outlives a holder killed with
	// SIGKILL, and Wait must not wait for it to close a pipe.
	out, err := os.Create(filepath.Join(s.dir, "lmwrap-"+user+".out"))
	if err != nil {
		s.t.Fatal(err)
	}
	defer out.Close()
	h.cmd.Stdout, h.cmd.Stderr = out, out
	// Its own process group, so that cleanup also ends the sleep that a
	// holder killed with SIGKILL leaves behind.
	h.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := h.cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	go func() { h.cmd.Wait(); close(h.done) }()
	s.t.Cleanup(func() {
		syscall.Kill(-h.cmd.Process.Pid, syscall.SIGKILL)
		<-h.done
	})
	return h
}

// kill9 kills the lmwrap process itself, not its command.
func (h *holder) kill9(t *testing.T) {
	t.Helper()
	if err := h.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-h.done
}

var usersRE = regexp.MustCompile(`(?m)^Users of (\S+):  \(Total of (\d+) licenses? issued;  Total of (\d+) licenses? in use\)$`)

// usage returns feature -> [issued, in use] from lmstat -a.
func (s *server) usage() map[string][2]int {
	s.t.Helper()
	r := s.run(nil, "lmstat", "-a", "-c", s.lic)
	if r.status != 0 {
		s.t.Fatalf("lmstat -a: exit %d\n%s%s", r.status, r.stdout, r.stderr)
	}
	m := map[string][2]int{}
	for _, g := range usersRE.FindAllStringSubmatch(r.stdout, -1) {
		issued, _ := strconv.Atoi(g[2])
		inUse, _ := strconv.Atoi(g[3])
		m[g[1]] = [2]int{issued, inUse}
	}
	return m
}

// waitInUse waits until lmstat -a shows n licenses of feature in use.
func (s *server) waitInUse(feature string, n int) {
	s.t.Helper()
	poll(s.t, fmt.Sprintf("%d licenses of %s in use", n, feature), func() bool {
		return s.usage()[feature][1] == n
	})
}

// userLines are the user lines of lmstat -a.
func userLines(out string) []string {
	var lines []string
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "    ") && strings.Contains(l, ", start ") {
			lines = append(lines, l)
		}
	}
	return lines
}

// mask replaces what changes from run to run in lmstat and lmdown
// output, and nothing else: the date line's date, the temporary
// directory, this host's name (keeping the 10-column alignment of the
// server line and the 21-column Port@Host of lmdown's table), the lmgrd
// port, checkout handles and start times. With sortUsers the user lines
// of each license block are sorted too, for states whose checkout order
// is a race (re-checkouts after a vendor daemon restart).
func (s *server) mask(out string, sortUsers bool) string {
	out = regexp.MustCompile(`(?m)^Flexible License Manager status on .*$`).ReplaceAllString(out, "Flexible License Manager status on DATE")
	out = strings.ReplaceAll(out, s.dir, "DIR")
	if s.host != "" {
		out = regexp.MustCompile(`(?m)^ *`+regexp.QuoteMeta(s.host)+`: license server`).ReplaceAllString(out, fmt.Sprintf("%10s: license server", "HOST"))
		out = regexp.MustCompile(`\b`+regexp.QuoteMeta(s.host)+`\b`).ReplaceAllString(out, "HOST")
	}
	out = regexp.MustCompile(`\b`+strconv.Itoa(s.port)+`\b`).ReplaceAllString(out, "PORT")
	out = regexp.MustCompile(`(?m)^(\d+\) )PORT@HOST +`).ReplaceAllString(out, fmt.Sprintf("${1}%-21s", "PORT@HOST"))
	out = regexp.MustCompile(`\((\S+)/PORT \d+\)`).ReplaceAllString(out, "($1/PORT HANDLE)")
	out = regexp.MustCompile(`, start \w{3} \d+/\d+ \d+:\d\d(:\d\d)?`).ReplaceAllString(out, ", start START")
	if sortUsers {
		lines := strings.Split(out, "\n")
		for i := 0; i < len(lines); {
			j := i
			for j < len(lines) && strings.HasPrefix(lines[j], "    ") && strings.Contains(lines[j], ", start ") {
				j++
			}
			sort.Strings(lines[i:j])
			i = max(j, i+1)
		}
		out = strings.Join(lines, "\n")
	}
	return out
}

// checkGolden compares got with testdata/<name>.golden.
func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading golden (go test -update writes it): %v", err)
	}
	if got != string(want) {
		t.Errorf("output differs from %s:\ngot:\n%s\nwant:\n%s", path, got, want)
	}
}

// statGolden compares the masked lmstat -a output with a golden.
func (s *server) statGolden(name string, sortUsers bool) string {
	s.t.Helper()
	return s.statGoldenExit(name, sortUsers, 0)
}

// statGoldenExit is statGolden for an lmstat -a that exits with status.
func (s *server) statGoldenExit(name string, sortUsers bool, status int) string {
	s.t.Helper()
	r := s.run(nil, "lmstat", "-a", "-c", s.lic)
	if r.status != status || r.stderr != "" {
		s.t.Fatalf("lmstat -a: exit %d (want %d), stderr %q", r.status, status, r.stderr)
	}
	checkGolden(s.t, name, s.mask(r.stdout, sortUsers))
	return r.stdout
}

// alive reports whether pid is a live process (a zombie is not).
func alive(pid int) bool {
	if err := syscall.Kill(pid, 0); err != nil {
		return false
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true // no /proc: trust kill
	}
	// The state follows the parenthesised command name.
	if i := bytes.LastIndexByte(b, ')'); i >= 0 && i+2 < len(b) {
		return b[i+2] != 'Z'
	}
	return true
}

// ownVendor reports whether pid is alive and still one of this server's
// vendor daemons (started with -lmgrd-port and its port), not a process
// that reused the number of one that died.
func (s *server) ownVendor(pid int) bool {
	if !alive(pid) {
		return false
	}
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		return true // no /proc: trust kill
	}
	return bytes.Contains(cmdline, []byte("\x00-lmgrd-port\x00"+strconv.Itoa(s.port)+"\x00"))
}

// TestCountedSeats: a 2-seat feature grants two lmwrap holders and denies
// the third with -4, exit status 252.
func TestCountedSeats(t *testing.T) {
	t.Parallel()
	s := startServer(t, twoSeats)
	idle := s.statGolden("idle", false)
	// Whatever alias or address reaches the server, lmstat names it as
	// its SERVER line does (exporters look the server up by that name).
	want := regexp.MustCompile(`(?m)^License server status: .*$`).FindString(idle)
	for _, typed := range []string{"localhost", "127.0.0.1"} {
		r := s.run(nil, "lmstat", "-a", "-c", fmt.Sprintf("%d@%s", s.port, typed))
		if got := regexp.MustCompile(`(?m)^License server status: .*$`).FindString(r.stdout); got != want || r.status != 0 {
			t.Errorf("lmstat -c %d@%s: exit %d, %q, want %q", s.port, typed, r.status, got, want)
		}
	}
	s.hold("alice", ":1", "f1")
	s.waitInUse("f1", 1)
	s.hold("bob", ":2", "f1")
	s.waitInUse("f1", 2)
	r := s.run([]string{"USER=carol", "LOGNAME=carol", "DISPLAY=:3"}, "lmwrap", "-c", s.lic, "f1", "--", "true")
	if r.status != 252 {
		t.Errorf("third lmwrap: exit %d, want 252 (stderr %q)", r.status, r.stderr)
	}
	if want := "Licensed number of users already reached. (-4,"; !strings.Contains(r.stderr, want) {
		t.Errorf("third lmwrap stderr %q, want it to contain %q", r.stderr, want)
	}
	s.waitLog(`\(demo\) DENIED: "f1" carol@`, 1)
	s.statGolden("two-holders", true)
	if u := s.usage()["f1"]; u != [2]int{2, 2} {
		t.Errorf("f1 after the denial: issued/in use %v, want [2 2]", u)
	}
}

// TestHolderKilled: kill -9 of a holder frees its seat, seen by lmstat.
func TestHolderKilled(t *testing.T) {
	t.Parallel()
	s := startServer(t, twoSeats)
	a := s.hold("alice", ":1", "f1")
	s.waitInUse("f1", 1)
	s.hold("bob", ":2", "f1")
	s.waitInUse("f1", 2)
	killed := time.Now()
	a.kill9(t)
	s.waitInUse("f1", 1)
	t.Logf("seat freed %v after kill -9", time.Since(killed).Round(time.Millisecond))
	s.statGolden("holder-killed", false)
	// The freed seat is grantable again.
	s.hold("carol", ":3", "f1")
	s.waitInUse("f1", 2)
}

// TestVendorDaemonKilled: kill -9 of the vendor daemon is logged, lmgrd
// restarts it, and every surviving holder holds its seat again without
// any seat counted twice.
func TestVendorDaemonKilled(t *testing.T) {
	t.Parallel()
	s := startServer(t, twoSeats)
	s.hold("alice", ":1", "f1")
	s.waitInUse("f1", 1)
	s.hold("bob", ":2", "f1")
	s.waitInUse("f1", 2)
	s.hold("carol", ":3", "f2")
	s.waitInUse("f2", 1)
	pids := s.vendorPIDs()
	if len(pids) != 1 {
		t.Fatalf("vendor daemon pids %v, want one", pids)
	}
	if err := syscall.Kill(pids[0], syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	s.waitLog(`\(lmgrd\) REStarted demo \(internet tcp_port \d+ pid \d+\)`, 1)
	s.waitInUse("f1", 2)
	s.waitInUse("f2", 1)
	out := s.statGolden("vendor-restarted", true)
	if n := len(userLines(out)); n != 3 {
		t.Errorf("%d user lines after the restart, want 3:\n%s", n, out)
	}
	r := s.run([]string{"USER=dave", "LOGNAME=dave"}, "lmwrap", "-c", s.lic, "f1", "--", "true")
	if r.status != 252 {
		t.Errorf("lmwrap after the restart: exit %d, want 252 (a seat counted twice?)", r.status)
	}
}

var handleRE = regexp.MustCompile(`(?m)^    (\S+) \S+ \S+ \(v[^)]*\) \((\S+)/(\d+) (\d+)\), start`)

// TestLmremove: lmremove by user/host/display and by handle. The
// holders heartbeat once an hour, so that they do not check their
// licenses out again while the test looks (TestLmremoveRecheckout).
func TestLmremove(t *testing.T) {
	t.Parallel()
	s := startServer(t, twoSeats)
	s.hold("alice", ":1", "f1", "GOLM_HEARTBEAT_INTERVAL=1h")
	s.waitInUse("f1", 1)
	s.hold("bob", ":2", "f1", "GOLM_HEARTBEAT_INTERVAL=1h")
	s.waitInUse("f1", 2)

	r := s.run(nil, "lmremove", "-c", s.lic, "f1", "alice", s.host, ":1")
	if r.status != 0 {
		t.Fatalf("lmremove f1 alice: exit %d, stderr %q", r.status, r.stderr)
	}
	s.waitLog(`\(demo\) REMOVING alice@\S+ from f1`, 1)
	out := s.statGolden("removed-user", false)

	var handle, port string
	for _, m := range handleRE.FindAllStringSubmatch(out, -1) {
		if m[1] == "bob" {
			port, handle = m[3], m[4]
		}
	}
	if handle == "" {
		t.Fatalf("no handle of bob in\n%s", out)
	}
	r = s.run(nil, "lmremove", "-c", s.lic, "-h", "f1", s.host, port, handle)
	if r.status != 0 {
		t.Fatalf("lmremove -h f1 %s %s %s: exit %d, stderr %q", s.host, port, handle, r.status, r.stderr)
	}
	s.waitInUse("f1", 0)
	s.statGolden("removed-handle", false)

	// Again: the checkout is gone, -41.
	r = s.run(nil, "lmremove", "-c", s.lic, "-h", "f1", s.host, port, handle)
	if r.status != 256-41 || !strings.Contains(r.stderr, "(-41,") {
		t.Errorf("second lmremove -h: exit %d, stderr %q; want 215 and -41", r.status, r.stderr)
	}
}

// TestLmremoveRecheckout: a holder that is still running checks its
// license out again after lmremove freed it, as the manual says (7.10):
// the seat comes back under a new handle.
func TestLmremoveRecheckout(t *testing.T) {
	t.Parallel()
	s := startServer(t, twoSeats)
	s.hold("alice", ":1", "f1")
	s.waitInUse("f1", 1)
	handleOf := func() string {
		for _, m := range handleRE.FindAllStringSubmatch(s.run(nil, "lmstat", "-a", "-c", s.lic).stdout, -1) {
			if m[1] == "alice" {
				return m[4]
			}
		}
		return ""
	}
	old := handleOf()
	if old == "" {
		t.Fatal("no handle of alice in lmstat -a")
	}
	if r := s.run(nil, "lmremove", "-c", s.lic, "f1", "alice", s.host, ":1"); r.status != 0 {
		t.Fatalf("lmremove f1 alice: exit %d, stderr %q", r.status, r.stderr)
	}
	s.waitLog(`\(demo\) REMOVING alice@\S+ from f1`, 1)
	poll(t, "alice to hold f1 again under a new handle", func() bool {
		h := handleOf()
		return h != "" && h != old
	})
	s.waitLog(`\(demo\) OUT: "f1" alice@`, 2)
}

// TestLmreread: an edited license file, reread: a changed count applies,
// a new feature is served, a removed one is no longer granted, and the
// holder keeps its seat.
func TestLmreread(t *testing.T) {
	t.Parallel()
	s := startServer(t, twoSeats)
	s.hold("alice", ":1", "f1")
	s.waitInUse("f1", 1)
	s.writeLicense("FEATURE f1 demo 1.0 permanent 3 VENDOR_STRING=e2e\nFEATURE f3 demo 1.0 permanent 1\n")
	r := s.run(nil, "lmreread", "-c", s.lic)
	if r.status != 0 || !strings.Contains(r.stdout, "lmreread successful") {
		t.Fatalf("lmreread: exit %d\n%s%s", r.status, r.stdout, r.stderr)
	}
	poll(t, "the reread counts", func() bool {
		u := s.usage()
		_, hasF2 := u["f2"]
		return u["f1"] == [2]int{3, 1} && u["f3"] == [2]int{1, 0} && !hasF2
	})
	s.statGolden("reread", false)
	if r := s.run(nil, "lmwrap", "-c", s.lic, "f3", "--", "true"); r.status != 0 {
		t.Errorf("lmwrap f3 after lmreread: exit %d, stderr %q", r.status, r.stderr)
	}
	if r := s.run(nil, "lmwrap", "-c", s.lic, "f2", "--", "true"); r.status == 0 {
		t.Errorf("lmwrap f2 after lmreread removed it: exit 0")
	}
	s.hold("bob", ":2", "f1")
	s.hold("carol", ":3", "f1")
	s.waitInUse("f1", 3)
}

// TestLmdown: lmdown asks, shuts lmgrd and the vendor daemon down, and
// no process is left.
func TestLmdown(t *testing.T) {
	t.Parallel()
	s := startServer(t, twoSeats)
	s.hold("alice", ":1", "f1")
	s.waitInUse("f1", 1)
	vendors := s.vendorPIDs()

	// "n" keeps the server up.
	r := s.runInput("n\n", "lmdown", "-c", s.lic)
	if r.status != 0 {
		t.Fatalf("lmdown answered n: exit %d, stderr %q", r.status, r.stderr)
	}
	checkGolden(t, "lmdown-no", s.mask(r.stdout, false))
	if u := s.usage()["f1"]; u != [2]int{2, 1} {
		t.Fatalf("after lmdown answered n: f1 %v, want [2 1]", u)
	}

	r = s.runInput("y\n", "lmdown", "-c", s.lic)
	if r.status != 0 {
		t.Fatalf("lmdown: exit %d, stderr %q", r.status, r.stderr)
	}
	checkGolden(t, "lmdown-yes", s.mask(r.stdout, false))
	poll(t, "lmgrd to exit", func() bool {
		select {
		case <-s.done:
			return true
		default:
			return false
		}
	})
	for _, p := range vendors {
		poll(t, fmt.Sprintf("vendor daemon %d to exit", p), func() bool { return !alive(p) })
	}
	s.waitLog(`\(lmgrd\) SHUTDOWN request from \S+ at node \S+`, 1)
	r = s.run(nil, "lmstat", "-c", s.lic)
	if r.status != 241 || !strings.Contains(r.stdout, "Error getting status: Cannot connect to license server system. (-15,570:111") {
		t.Errorf("lmstat after lmdown: exit %d\n%s", r.status, r.stdout)
	}
	r = s.run(nil, "lmdown", "-q", "-c", s.lic)
	if r.status != 241 {
		t.Errorf("lmdown with no server: exit %d, want 241 (stderr %q)", r.status, r.stderr)
	}
}

// TestLmdownVendor: lmdown -vendor stops only the vendor daemon; lmreread
// -vendor starts it again.
func TestLmdownVendor(t *testing.T) {
	t.Parallel()
	s := startServer(t, twoSeats)
	// A vendor daemon the server does not have is a usage error, and
	// nothing is shut down.
	if r := s.run(nil, "lmdown", "-q", "-vendor", "nosuch", "-c", s.lic); r.status != 1 || !strings.Contains(r.stderr, "nosuch: no such vendor daemon") {
		t.Errorf("lmdown -vendor nosuch: exit %d, stderr %q", r.status, r.stderr)
	}
	r := s.runInput("y\n", "lmdown", "-vendor", "demo", "-c", s.lic)
	if r.status != 0 || !strings.HasSuffix(r.stdout, "    Vendor daemon demo shut down\n") || strings.Contains(r.stdout, "License Server") {
		t.Fatalf("lmdown -vendor demo: exit %d, stdout %q, stderr %q", r.status, r.stdout, r.stderr)
	}
	poll(t, "the vendor daemon to be down", func() bool {
		return strings.Contains(s.run(nil, "lmstat", "-c", s.lic).stdout, "demo: The desired vendor daemon is down. (-97,")
	})
	// lmstat reached lmgrd but not the vendor daemon: it exits with -97.
	s.statGoldenExit("vendor-down", false, 256-97)
	if r := s.run(nil, "lmreread", "-vendor", "demo", "-c", s.lic); r.status != 0 {
		t.Fatalf("lmreread -vendor demo: exit %d, stderr %q", r.status, r.stderr)
	}
	poll(t, "the vendor daemon to be up", func() bool {
		return strings.Contains(s.run(nil, "lmstat", "-c", s.lic).stdout, "demo: UP v")
	})
	select {
	case <-s.done:
		t.Fatal("lmgrd exited on lmdown -vendor")
	default:
	}
}

// TestLineBlocks: INCREMENT lines pooled together but with different
// expiry dates each get their own lmstat block, with its own expiry, and
// the users fill them in file order; "licenses issued" counts both.
func TestLineBlocks(t *testing.T) {
	t.Parallel()
	s := startServer(t, "INCREMENT f1 demo 1.0 1-jan-2099 2\nINCREMENT f1 demo 1.0 permanent 3\n")
	for i, u := range []string{"alice", "bob", "carol"} {
		s.hold(u, fmt.Sprintf(":%d", i+1), "f1")
		s.waitInUse("f1", i+1)
	}
	s.statGolden("line-blocks", true)
}
