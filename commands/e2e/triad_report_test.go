package e2e_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestTriadReportCatchUp: (a) a member stopped while the others commit
// and compact their Raft logs past it is sent the master's snapshot when
// it comes back, and copies the report log records the snapshot
// compacted from another member: its report log is the master's, file
// for file, and verifies; (b) a member whose data directory was deleted
// while it was down comes back with its report log and writes no record
// of it twice.
func TestTriadReportCatchUp(t *testing.T) {
	t.Parallel() // three lmgrds of its own, on ports of its own
	ports := triadPorts(t, 3)
	ms := triadSetup(t, []string{"127.0.0.1", "127.0.0.1", "127.0.0.1"}, ports, "FEATURE f1 demo 1.0 permanent 4\n")
	for _, m := range ms {
		m.env = []string{"GOLM_TRIAD_SNAPSHOT_THRESHOLD=4", "GOLM_TRIAD_SNAPSHOT_INTERVAL=50ms", "GOLM_TRIAD_TRAILING_LOGS=1"}
	}
	master := startTriad(t, ms)
	checkout := func(n int, user string) {
		t.Helper()
		for i := range n {
			if r := checkoutOnce(t, ms, fmt.Sprintf("%s%d", user, i)); r.status != 0 {
				t.Fatalf("checkout: status %d\n%s%s", r.status, r.stdout, r.stderr)
			}
		}
	}
	checkout(2, "a")
	sameReportLogs(t, ms, "report.rl", 4)

	// (a) One member down while the others commit past it.
	lag := ms[0]
	if lag == master {
		lag = ms[1]
	}
	lag.stop()
	checkout(4, "b")
	// An lmswitchr it misses: it makes the same switch as it copies.
	if r := master.run("lmswitchr", "-c", master.name(), "demo", "switched.rl"); r.status != 0 {
		t.Fatalf("lmswitchr: status %d\n%s%s", r.status, r.stdout, r.stderr)
	}
	checkout(4, "e")
	lag.start()
	checkout(1, "c")
	sameReportLogs(t, ms, "report.rl", 2*6)
	sameReportLogs(t, ms, "switched.rl", 2*5)
	if !strings.Contains(lag.logText(), "records copied from another member") {
		t.Errorf("%s did not copy records from another member: was it sent a snapshot?", lag.name())
	}
	if !strings.Contains(lag.logText(), "as the triad's record") {
		t.Errorf("%s did not follow the lmswitchr it copied", lag.name())
	}
	for _, l := range strings.Split(lag.logText(), "\n") {
		if strings.Contains(l, "REPORTLOG") {
			t.Log(l)
		}
	}
	if strings.Contains(lag.logText(), "missing from this report log") {
		t.Errorf("%s has a gap in its report log", lag.name())
	}

	// (b) Its data directory deleted while it is down.
	lag.stop()
	if err := os.RemoveAll(filepath.Join(lag.dir, "data")); err != nil {
		t.Fatal(err)
	}
	lag.start()
	checkout(1, "d")
	sameReportLogs(t, ms, "switched.rl", 2*6)
	seen := map[string]bool{}
	b1, _ := os.ReadFile(filepath.Join(lag.dir, "report.rl"))
	b2, _ := os.ReadFile(filepath.Join(lag.dir, "switched.rl"))
	for _, line := range strings.Split(string(b1)+string(b2), "\n") {
		for _, f := range strings.Split(line, "\t") {
			if strings.HasPrefix(f, "seq=") && strings.HasPrefix(line, "time=") {
				if seen[f] {
					t.Errorf("%s: %s written twice", lag.name(), f)
				}
				seen[f] = true
			}
		}
	}
}
