package e2e_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golm/lmutil/protocol/client"
	"golm/lmutil/protocol/lmerr"
)

// ipCmd runs ip with args and fails the test when it fails.
func ipCmd(t *testing.T, args ...string) {
	t.Helper()
	if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
		t.Fatalf("ip %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// netnsTriad is three network namespaces, each with one veth whose
// other end is a port of a bridge in the root namespace; the bridge has
// an address of the same /24, so that the test reaches every member.
type netnsTriad struct {
	ns  []string // namespace names
	dev []string // the veth end inside each namespace
	ips []string // its address
}

// newNetnsTriad builds the namespaces, or skips the test when it cannot
// (not root, no ip, no network namespaces); everything it creates is
// removed when the test ends.
func newNetnsTriad(t *testing.T) *netnsTriad {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("network namespaces need root")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("no ip command (iproute2)")
	}
	id := strconv.Itoa(os.Getpid() % 1000000)
	probe := "golm-probe-" + id
	if out, err := exec.Command("ip", "netns", "add", probe).CombinedOutput(); err != nil {
		t.Skipf("ip netns add does not work here: %v %s", err, out)
	}
	exec.Command("ip", "netns", "del", probe).Run()

	// A /24 of 10.213.0.0/16 that no address or route of the root
	// namespace uses yet.
	used, _ := exec.Command("ip", "-4", "route", "show", "table", "all").Output()
	addrs, _ := exec.Command("ip", "-4", "addr").Output()
	used = append(used, addrs...)
	subnet := ""
	for i := range 200 {
		n := (os.Getpid()+i)%200 + 20
		if !strings.Contains(string(used), fmt.Sprintf("10.213.%d.", n)) {
			subnet = fmt.Sprintf("10.213.%d.", n)
			break
		}
	}
	if subnet == "" {
		t.Skip("no free /24 in 10.213.0.0/16")
	}

	br := "gbr" + id
	ipCmd(t, "link", "add", br, "type", "bridge")
	t.Cleanup(func() { exec.Command("ip", "link", "del", br).Run() })
	ipCmd(t, "addr", "add", subnet+"254/24", "dev", br)
	ipCmd(t, "link", "set", br, "up")
	n := &netnsTriad{}
	for i := 1; i <= 3; i++ {
		ns := fmt.Sprintf("golm-%s-%d", id, i)
		host := fmt.Sprintf("gv%sh%d", id, i)
		peer := fmt.Sprintf("gv%sn%d", id, i)
		ipCmd(t, "netns", "add", ns)
		t.Cleanup(func() { exec.Command("ip", "netns", "del", ns).Run() })
		ipCmd(t, "link", "add", host, "type", "veth", "peer", "name", peer)
		t.Cleanup(func() { exec.Command("ip", "link", "del", host).Run() })
		ipCmd(t, "link", "set", peer, "netns", ns)
		ipCmd(t, "link", "set", host, "master", br)
		ipCmd(t, "link", "set", host, "up")
		ip := subnet + strconv.Itoa(i)
		ipCmd(t, "-n", ns, "link", "set", "lo", "up")
		ipCmd(t, "-n", ns, "addr", "add", ip+"/24", "dev", peer)
		ipCmd(t, "-n", ns, "link", "set", peer, "up")
		n.ns, n.dev, n.ips = append(n.ns, ns), append(n.dev, peer), append(n.ips, ip)
	}
	// Every member reaches the others and the root namespace.
	for i, ns := range n.ns {
		if _, err := exec.LookPath("ping"); err != nil {
			break
		}
		for _, ip := range append([]string{subnet + "254"}, n.ips...) {
			if ip == n.ips[i] {
				continue
			}
			if out, err := exec.Command("ip", "netns", "exec", ns, "ping", "-c", "1", "-W", "2", ip).CombinedOutput(); err != nil {
				t.Fatalf("%s cannot reach %s: %v\n%s", ns, ip, err, out)
			}
		}
	}
	return n
}

// cut makes member i and the other two unreachable from each other with
// blackhole routes on both sides, the root namespace still reaching all
// three; heal removes them.
func (n *netnsTriad) cut(t *testing.T, i int, heal bool) {
	t.Helper()
	verb := "add"
	if heal {
		verb = "del"
	}
	for j := range n.ns {
		if j == i {
			continue
		}
		ipCmd(t, "-n", n.ns[i], "route", verb, "blackhole", n.ips[j]+"/32")
		ipCmd(t, "-n", n.ns[j], "route", verb, "blackhole", n.ips[i]+"/32")
	}
}

var inUseRE = regexp.MustCompile(`Users of f1:  \(Total of (\d+) licenses? issued;  Total of (\d+) licenses? in use\)`)

// inUse is how many seats of f1 lmstat -a of m shows out, false when m
// did not answer.
func inUse(m *member) (int, bool) {
	r := m.run("lmstat", "-a", "-c", m.name())
	g := inUseRE.FindStringSubmatch(r.stdout)
	if r.status != 0 || g == nil {
		return 0, false
	}
	n, _ := strconv.Atoi(g[2])
	return n, true
}

// TestTriadPartitionNetns: three lmgrds, each in a network namespace of
// its own, elect a master; clients hold seats; the master is cut off
// from the other two (the test still reaches it). The two elect a new
// master that grants; the old master refuses (-96) and never grants;
// no member ever shows more seats out than the license has. After the
// partition heals the old master follows, the holders' seats are still
// out under their handles, and the three report logs are the same and
// hold every grant a client was told about.
func TestTriadPartitionNetns(t *testing.T) {
	const seats, holders = 5, 3
	n := newNetnsTriad(t)
	port := triadPorts(t, 1)[0]
	ms := triadSetup(t, n.ips, []int{port, port, port}, fmt.Sprintf("FEATURE f1 demo 1.0 permanent %d\n", seats))
	const grace = 3 * time.Second
	for i, m := range ms {
		m.netns = n.ns[i]
		m.env = []string{"GOLM_TRIAD_GRACE=" + grace.String()}
	}
	master := startTriad(t, ms)
	old := -1
	for i, m := range ms {
		if m == master {
			old = i
		}
	}
	t.Logf("master: %s", master.name())

	// Every member's view of the seats out, sampled until the test ends.
	stop := make(chan struct{})
	var watch sync.WaitGroup
	var mu sync.Mutex
	maxOut, samples := 0, 0
	watch.Add(1)
	go func() {
		defer watch.Done()
		for {
			for _, m := range ms {
				if k, ok := inUse(m); ok {
					mu.Lock()
					maxOut, samples = max(maxOut, k), samples+1
					if k > seats {
						t.Errorf("%s shows %d seats of f1 out, the license has %d", m.name(), k, seats)
					}
					mu.Unlock()
				}
			}
			select {
			case <-stop:
				return
			case <-time.After(100 * time.Millisecond):
			}
		}
	}()
	defer func() { close(stop); watch.Wait() }()

	for i := range holders {
		holdAt(t, ms, fmt.Sprintf("h%d", i))
	}
	var held map[string]string
	poll(t, fmt.Sprintf("%d seats held", holders), func() bool {
		held, _ = master.seats()
		return len(held) == holders
	})
	var told []string // the handles of the grants clients were told of
	for _, h := range held {
		told = append(told, h)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 2*deadline)
	defer cancel()
	grant := func(spec, user string) (*client.License, *client.Job, error) {
		j, err := client.Open(ctx, spec, client.WithUser(user), client.WithDir(ms[0].dir))
		if err != nil {
			return nil, nil, err
		}
		lic, err := j.Checkout(ctx, "f1", "1.0", 1)
		if err != nil {
			j.Close()
			return nil, nil, err
		}
		told = append(told, strconv.FormatUint(lic.Handle(), 10))
		return lic, j, nil
	}
	// direct is a checkout sent to the old master alone: nil when it
	// was refused with -96 (no quorum, or not the master), else what it
	// did instead.
	direct := func() error {
		lic, j, err := grant(master.name(), "direct")
		if err == nil {
			lic.Checkin(ctx)
			j.Close()
			return fmt.Errorf("the partitioned old master %s granted handle %d", master.name(), lic.Handle())
		}
		var e *lmerr.Error
		if !errors.As(err, &e) || e.Code != lmerr.ServerDown || e.Minor != lmerr.MinorTriadNoQuorum && e.Minor != lmerr.MinorTriadNotMaster {
			return fmt.Errorf("checkout at the old master: %w, want -96", err)
		}
		t.Logf("checkout at the old master refused: %v", err)
		return nil
	}

	cut := time.Now()
	n.cut(t, old, false)
	// A checkout at the old master while its lease may still run: it
	// cannot commit, so it must not be granted.
	early := make(chan error, 1)
	go func() { early <- direct() }()
	var others []*member
	for _, m := range ms {
		if m != master {
			others = append(others, m)
		}
	}
	next := waitMaster(t, others)
	if next == master {
		t.Fatalf("the two members cut off from %s still name it master", master.name())
	}
	t.Logf("new master %s %v after the cut", next.name(), time.Since(cut))
	// The new master grants, to a client that tries the members in
	// SERVER-line order, the old master first when it was first.
	var probe *client.License
	var probeJob *client.Job
	poll(t, "a grant by the new master", func() bool {
		lic, j, err := grant(spec(ms), "probe")
		if err != nil {
			t.Logf("checkout through the triad: %v", err)
			return false
		}
		probe, probeJob = lic, j
		return true
	})
	t.Logf("new master granted %v after the cut", time.Since(cut))
	if got, _ := next.seats(); got["probe"] == "" {
		t.Errorf("the new master's seats %v lack the probe's", got)
	}
	if err := <-early; err != nil {
		t.Errorf("right after the cut: %v", err)
	}
	// The old master, its lease run out, refuses at once.
	for range 3 {
		began := time.Now()
		if err := direct(); err != nil {
			t.Error(err)
		}
		if d := time.Since(began); d > 2*time.Second {
			t.Errorf("the old master took %v to refuse a checkout", d)
		}
	}
	if err := probe.Checkin(ctx); err != nil {
		t.Errorf("checkin at the new master: %v", err)
	}
	probeJob.Close()

	poll(t, "the grace period to pass", func() bool { return time.Since(cut) > grace+3*time.Second })
	if got, _ := next.seats(); !equalMaps(got, held) {
		t.Errorf("seats on the new master %v past the grace period, before the cut %v", got, held)
	}
	// Healed, the old master follows the new one and catches up.
	n.cut(t, old, true)
	healed := time.Now()
	poll(t, "the old master to follow "+next.name(), func() bool {
		return master.master() == next.name()
	})
	t.Logf("%s follows %s %v after the heal", master.name(), next.name(), time.Since(healed))
	lic, j, err := grant(spec(ms), "after")
	if err != nil {
		t.Fatalf("checkout after the heal: %v", err)
	}
	lic.Checkin(ctx)
	j.Close()
	poll(t, "the old master's seats to match the new master's", func() bool {
		a, ok1 := master.seats()
		b, ok2 := next.seats()
		return ok1 && ok2 && equalMaps(a, b)
	})

	// The holders' seats are still out under their handles, past the
	// new master's grace period: a holder on the old master was told to
	// move by its heartbeat's -96 and reattached.
	if final, _ := next.seats(); !equalMaps(final, held) {
		t.Errorf("seats at the end %v, before the cut %v", final, held)
	}
	sameReportLogs(t, ms, "report.rl", len(told)+2)
	for _, m := range ms {
		recs := strings.Join(usageRecords(t, m.dir+"/report.rl"), "\n") + "\n"
		for _, h := range told {
			if !strings.Contains(recs, "handle="+h+" ") && !strings.Contains(recs, "handle="+h+"\n") {
				t.Errorf("%s's report log lacks the grant of handle %s", m.name(), h)
			}
		}
	}
	mu.Lock()
	t.Logf("seats out: at most %d of %d in %d lmstat samples; %d grants checked in the report logs", maxOut, seats, samples, len(told))
	mu.Unlock()
}
