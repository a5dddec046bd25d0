package server_test

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"syscall"
	"testing"

	"golm/lmutil/protocol"
)

// debugLineRE is every debug log line: "hh:mm:ss (daemon) message".
var debugLineRE = regexp.MustCompile(`^[ 12][0-9]:[0-5][0-9]:[0-5][0-9] \((lmgrd|demo)\) (.*)$`)

// usageKindRE takes a debug log message apart into its kind and what it
// is about, for counting: `OUT: "f1" a@testhost  ` is OUT f1 a.
var usageKindRE = regexp.MustCompile(`^(OUT|IN|DENIED|UNSUPPORTED|QUEUED|DEQUEUED): "([^"]*)" (?:\(PORT_AT_HOST_PLUS \) )?([^@ ]*)@`)

// lineCounts counts a debug log's lines by kind: usage lines as
// "(daemon) KIND feature user", the others by the first words that name
// them. It fails the test on a line without the daemon prefix.
func lineCounts(t *testing.T, log string) map[string]int {
	t.Helper()
	n := map[string]int{}
	for _, line := range strings.Split(strings.TrimSuffix(log, "\n"), "\n") {
		m := debugLineRE.FindStringSubmatch(line)
		if m == nil {
			t.Errorf("a line without the hh:mm:ss (daemon) prefix: %q", line)
			continue
		}
		d, msg := m[1], m[2]
		if u := usageKindRE.FindStringSubmatch(msg); u != nil {
			n[fmt.Sprintf("(%s) %s %s %s", d, u[1], u[2], u[3])]++
			continue
		}
		for _, prefix := range []string{"RESERVE ", "REMOVING ", "Rereading license file", "Started demo", "REStarted demo",
			"demo exited", "Shutting down demo", "SHUTDOWN request", "EXITING DUE TO SIGNAL", "Server started", "("} {
			if strings.HasPrefix(msg, prefix) {
				n[fmt.Sprintf("(%s) %s", d, strings.TrimSpace(prefix))]++
			}
		}
	}
	return n
}

// TestDebugLogCountsEveryLine runs real lmgrd and vendor daemon
// processes through 300 checkouts and checkins, 30 denials, a queued
// request that is granted and two that give up, a suite, an lmremove, an
// lmreread, a vendor daemon killed with kill -9 and an lmdown, and counts
// every line of the debug log: none is rate-limited or lost, and each
// carries the daemon prefix.
func TestDebugLogCountsEveryLine(t *testing.T) {
	t.Parallel() // its own processes, directories, ports and lock directory
	dir := t.TempDir()
	port := freePort(t)
	writeLicense(t, dir, fmt.Sprintf("SERVER this_host ANY %d\nVENDOR demo\n"+
		"FEATURE f1 demo 1.0 permanent 400\n"+
		"FEATURE q1 demo 1.0 permanent 1\n"+
		"FEATURE r1 demo 1.0 permanent 2\n"+
		`PACKAGE ste demo 1.0 OPTIONS=SUITE COMPONENTS="c1"`+"\n"+
		"FEATURE ste demo 1.0 permanent 2\n", port))
	if err := os.WriteFile(filepath.Join(dir, "demo.opt"), []byte("RESERVE 1 r1 USER joe\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s := launch(t, dir, port)
	vpid := s.waitStarted(1)

	a := s.vendor("a")
	var handles []uint64
	for i := range 300 {
		h, code := checkout(t, a, "f1")
		if code != 0 {
			t.Fatalf("checkout %d: code %d", i, code)
		}
		handles = append(handles, h)
	}
	for _, h := range handles {
		if _, err := a.Call(&protocol.Checkin{Handle: h}); err != nil {
			t.Fatalf("checkin %d: %v", h, err)
		}
	}

	b, c := s.vendor("b"), s.vendor("c")
	hb, _ := checkout(t, b, "q1")
	for range 30 {
		if _, code := checkout(t, c, "q1"); code != -4 {
			t.Fatalf("checkout of a taken q1: code %d, want -4", code)
		}
	}
	for range 3 {
		if _, code := checkout(t, c, "nosuch"); code != -5 {
			t.Fatalf("checkout of nosuch: code %d, want -5", code)
		}
	}
	// Three wait in the queue: c is granted when b checks in, d checks
	// its queued request in, e's connection closes.
	queue := func(cl *protocol.Conn) uint64 {
		m, err := cl.Call(&protocol.Checkout{Feature: "q1", Version: "1.0", Count: 1, Flags: protocol.CheckoutQueue})
		if err != nil {
			t.Fatalf("queued checkout: %v", err)
		}
		q, ok := m.(*protocol.Queued)
		if !ok {
			t.Fatalf("queued checkout: %T, want QUEUED", m)
		}
		return q.Handle
	}
	d, e := s.vendor("d"), s.vendor("e")
	queue(c)
	hd := queue(d)
	queue(e)
	if _, err := d.Call(&protocol.Checkin{Handle: hd}); err != nil {
		t.Fatalf("checkin of the queued request: %v", err)
	}
	e.Close()
	s.waitLog(`(demo) DEQUEUED: "q1" e@testhost`)
	if _, err := b.Call(&protocol.Checkin{Handle: hb}); err != nil {
		t.Fatalf("checkin of q1: %v", err)
	}
	s.waitLog(`(demo) OUT: "q1" c@testhost`)

	// A suite component takes a seat of the suite too.
	hs, code := checkout(t, a, "c1")
	if code != 0 {
		t.Fatalf("checkout of c1: code %d", code)
	}
	if _, err := a.Call(&protocol.Checkin{Handle: hs}); err != nil {
		t.Fatalf("checkin of c1: %v", err)
	}

	g := s.vendor("g")
	checkout(t, g, "f1")
	if m, err := s.vendor("admin").Call(&protocol.Remove{Feature: "f1", User: "g", Host: "testhost", Display: "/dev/pts/9"}); err != nil || m.(*protocol.OK).Count != 1 {
		t.Fatalf("lmremove: %v %v", m, err)
	}
	if _, err := admin(t, s.port, &protocol.Reread{}); err != nil {
		t.Fatalf("lmreread: %v", err)
	}
	s.waitLog("(demo) Rereading license file")

	// kill -9 loses what the vendor daemon had not written yet (at most
	// one flush interval): wait until its lines are in the file.
	s.waitLog("(demo) REMOVING g@testhost from f1")
	syscall.Kill(vpid, syscall.SIGKILL)
	s.waitStarted(2)
	eventually(t, "the restarted vendor daemon's RESERVE line", func() bool {
		return strings.Count(s.readLog(), "(demo) RESERVE r1 for USER joe") == 2
	})
	// A seat still out at lmdown goes back as the vendor daemon stops:
	// its IN line is written before the process exits.
	if _, code := checkout(t, s.vendor("h"), "f1"); code != 0 {
		t.Fatalf("checkout after the restart: code %d", code)
	}
	if _, err := admin(t, s.port, &protocol.Shutdown{}); err != nil {
		t.Fatalf("lmdown: %v", err)
	}
	s.waitExit()

	want := map[string]int{
		"(demo) OUT f1 h":                1,
		"(demo) IN f1 h":                 1,
		"(demo) OUT f1 a":                300,
		"(demo) IN f1 a":                 300,
		"(demo) OUT f1 g":                1,
		"(demo) REMOVING":                1,
		"(demo) OUT q1 b":                1,
		"(demo) IN q1 b":                 1,
		"(demo) DENIED q1 c":             30,
		"(demo) UNSUPPORTED nosuch c":    3,
		"(demo) QUEUED q1 c":             1,
		"(demo) QUEUED q1 d":             1,
		"(demo) QUEUED q1 e":             1,
		"(demo) DEQUEUED q1 c":           1, // granted
		"(demo) DEQUEUED q1 d":           1, // checked in while queued
		"(demo) DEQUEUED q1 e":           1, // its connection closed
		"(demo) OUT q1 c":                1,
		"(demo) OUT c1 a":                1,
		"(demo) OUT ste a":               1,
		"(demo) IN c1 a":                 1,
		"(demo) IN ste a":                1,
		"(demo) RESERVE":                 2, // at start-up and at the restart
		"(demo) Server started":          2,
		"(demo) Rereading license file":  1,
		"(lmgrd) Rereading license file": 1,
		"(lmgrd) Started demo":           1,
		"(lmgrd) demo exited":            1,
		"(lmgrd) REStarted demo":         1,
		"(lmgrd) SHUTDOWN request":       1,
		"(lmgrd) Shutting down demo":     1,
		"(lmgrd) EXITING DUE TO SIGNAL":  1,
		"(demo) EXITING DUE TO SIGNAL":   1,
	}
	got := lineCounts(t, s.readLog())
	keys := map[string]bool{}
	for k := range want {
		keys[k] = true
	}
	for k := range got {
		keys[k] = true
	}
	var sorted []string
	for k := range keys {
		sorted = append(sorted, k)
	}
	sort.Strings(sorted)
	for _, k := range sorted {
		if got[k] != want[k] {
			t.Errorf("%s: %d lines, want %d", k, got[k], want[k])
		}
	}
	if t.Failed() {
		t.Logf("debug log:\n%s", s.readLog())
	}
}

// TestDebugLogConfigLines: what keeps a daemon from serving is logged in
// the manual's words, and what a vendor daemon prints on stderr carries
// the debug log prefix.
func TestDebugLogConfigLines(t *testing.T) {
	t.Parallel() // its own processes, directories, ports and lock directory
	tests := []struct {
		name    string
		license string    // %d is the port
		tamper  [2]string // replaced in the signed file: a BAD CODE
		want    []string
		exits   bool // lmgrd exits by itself
	}{
		{"unknown host", "SERVER no-such-host-golm.invalid ANY %d\nVENDOR demo\nFEATURE f1 demo 1.0 permanent 2\n",
			[2]string{},
			[]string{"(lmgrd) Unknown host: no-such-host-golm.invalid", "(lmgrd) no-such-host-golm.invalid: Not a valid server host, exiting"}, true},
		{"another host's address is not unknown", "SERVER 192.0.2.1 ANY %d\nVENDOR demo\nFEATURE f1 demo 1.0 permanent 2\n",
			[2]string{},
			[]string{"(lmgrd) 192.0.2.1: Not a valid server host, exiting"}, true},
		{"options file missing", "SERVER this_host ANY %d\nVENDOR demo options=/nonexistent/demo.opt\nFEATURE f1 demo 1.0 permanent 2\n",
			[2]string{},
			[]string{`(demo) CANNOT OPEN options file "/nonexistent/demo.opt": no such file or directory`, "(demo) Server started"}, false},
		{"vendor daemon stderr", "SERVER this_host ANY %d\nVENDOR demo\nFEATURE f1 demo 1.0 permanent 2\n",
			[2]string{"permanent 2", "permanent 9"},
			[]string{"(demo) BAD CODE for f1", "(demo) No features to serve!", "(demo) demo: no features to serve", "(lmgrd) demo exited with status 3"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			port := freePort(t)
			p := writeLicense(t, dir, fmt.Sprintf(tt.license, port))
			if tt.tamper[0] != "" {
				text, err := os.ReadFile(p)
				if err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, []byte(strings.Replace(string(text), tt.tamper[0], tt.tamper[1], 1)), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			s := launch(t, dir, port)
			if tt.exits {
				s.waitExit()
			}
			for _, w := range tt.want {
				s.waitLog(w)
			}
			if !tt.exits {
				s.cmd.Process.Signal(syscall.SIGTERM)
				s.waitExit()
			}
			log := s.readLog()
			lineCounts(t, log) // every line has its prefix
			if strings.Contains(log, "Unknown host") != strings.Contains(tt.name, "unknown host") {
				t.Errorf("Unknown host line where it should not be, or missing:\n%s", log)
			}
		})
	}
}

// TestDebugLogShuttingDown: lmdown, lmdown -vendor and SIGTERM each log
// lmgrd's "Shutting down demo" once, before the vendor daemon's last
// line, though the two processes buffer their lines separately.
func TestDebugLogShuttingDown(t *testing.T) {
	t.Parallel() // its own processes, directories, ports and lock directory
	tests := []struct {
		name string
		stop func(s *server)
	}{
		{"lmdown", func(s *server) {
			if _, err := admin(t, s.port, &protocol.Shutdown{}); err != nil {
				t.Fatalf("lmdown: %v", err)
			}
		}},
		{"lmdown -vendor", func(s *server) {
			if _, err := admin(t, s.port, &protocol.Shutdown{Vendor: "demo"}); err != nil {
				t.Fatalf("lmdown -vendor demo: %v", err)
			}
			s.waitLog("(demo) EXITING DUE TO SIGNAL 15")
			s.cmd.Process.Signal(syscall.SIGTERM)
		}},
		{"SIGTERM", func(s *server) { s.cmd.Process.Signal(syscall.SIGTERM) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := startLmgrd(t)
			tt.stop(s)
			s.waitExit()
			log := s.readLog()
			lineCounts(t, log)
			if n := strings.Count(log, "(lmgrd) Shutting down demo\n"); n != 1 {
				t.Errorf("%d Shutting down demo lines, want 1:\n%s", n, log)
			}
			down, exit := strings.Index(log, "(lmgrd) Shutting down demo"), strings.Index(log, "(demo) EXITING DUE TO SIGNAL 15")
			if exit < 0 || down > exit {
				t.Errorf("Shutting down at %d, the vendor daemon's EXITING at %d: want it first:\n%s", down, exit, log)
			}
		})
	}
}

// TestDebugLogNoiseSummaryAtShutdown: requests a vendor daemon does not
// take are logged 50 a minute, and the summary of the rest is written
// when the daemon shuts down, not only when a later line comes.
func TestDebugLogNoiseSummaryAtShutdown(t *testing.T) {
	t.Parallel() // its own processes, directories, ports and lock directory
	s := startLmgrd(t)
	for i := range 60 {
		c := s.vendor("noisy")
		if _, err := c.Call(&protocol.Locate{Vendor: "demo"}); err == nil {
			t.Fatalf("request %d: a LOCATE answered by the vendor daemon", i)
		}
		c.Close()
	}
	if _, err := admin(t, s.port, &protocol.Shutdown{}); err != nil {
		t.Fatalf("lmdown: %v", err)
	}
	s.waitExit()
	log := s.readLog()
	lineCounts(t, log)
	if n := strings.Count(log, "(demo) Malformed request from 127.0.0.1: LOCATE not allowed on a vendor daemon connection\n"); n != 50 {
		t.Errorf("%d Malformed request lines, want 50", n)
	}
	if !strings.Contains(log, "(demo) (10 more malformed messages not logged)\n") {
		t.Errorf("no summary of the 10 lines not logged:\n%s", log)
	}
}
