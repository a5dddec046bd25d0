package bench

import (
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golm/lmutil/licfile"
	"golm/lmutil/server"
)

func TestTriadLicenseText(t *testing.T) {
	got := string(TriadLicenseText([]string{"127.0.0.1", "127.0.0.2", "127.0.0.3"}, []int{27000, 27000, 27001}, 2, 7))
	want := "SERVER 127.0.0.1 ANY 27000\nSERVER 127.0.0.2 ANY 27000\nSERVER 127.0.0.3 ANY 27001\n" +
		"VENDOR demo\n" +
		"FEATURE f00000 demo 1.0 permanent 7 VENDOR_STRING=\"bench 0\"\n" +
		"FEATURE f00001 demo 1.0 permanent 7 VENDOR_STRING=\"bench 1\"\n"
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	// No features: the SERVER and VENDOR lines alone.
	if got := string(TriadLicenseText([]string{"a"}, []int{1}, 0, 7)); got != "SERVER a ANY 1\nVENDOR demo\n" {
		t.Errorf("no features: %q", got)
	}
}

func TestWriteTriadLicense(t *testing.T) {
	keys := filepath.Join("..", "..", "testdata", "keys")
	hosts := []string{"127.0.0.1", "127.0.0.2", "127.0.0.3"}
	dir := t.TempDir()
	p, err := WriteTriadLicense(dir, keys, hosts, []int{27000, 27000, 27000}, 1, 4)
	if err != nil {
		t.Fatal(err)
	}
	if p != filepath.Join(dir, "license.lic") {
		t.Errorf("path %s", p)
	}
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	f, err := licfile.Parse(strings.NewReader(string(data)), p)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Servers) != 3 || f.Servers[1].Host != "127.0.0.2" || f.Servers[2].Port != 27000 {
		t.Errorf("servers %+v", f.Servers)
	}
	pubText, err := os.ReadFile(filepath.Join(dir, "demo.pub"))
	if err != nil {
		t.Fatal(err)
	}
	pub, err := licfile.ParsePublicKey(pubText)
	if err != nil {
		t.Fatal(err)
	}
	// f00000 and the hot feature, both signed with the key beside them.
	if n, err := ParseVerify(data, pub.Key); err != nil || n != 2 {
		t.Errorf("ParseVerify = %d, %v; want 2 lines verified", n, err)
	}
	for _, c := range []struct {
		name  string
		hosts []string
		ports []int
		want  string
	}{
		{"two hosts", hosts[:2], []int{1, 2}, "a triad has three SERVER lines: 2 hosts and 2 ports given"},
		{"four hosts", append(hosts, "127.0.0.4"), []int{1, 2, 3, 4}, "a triad has three SERVER lines: 4 hosts and 4 ports given"},
		// The message counts the hosts only.
		{"ports short", hosts, []int{1, 2}, "a triad has three SERVER lines: 3 hosts and 2 ports given"},
	} {
		t.Run(c.name, func(t *testing.T) {
			d := t.TempDir()
			if _, err := WriteTriadLicense(d, keys, c.hosts, c.ports, 1, 1); err == nil || !strings.HasPrefix(err.Error(), c.want) {
				t.Errorf("got %v, want %q", err, c.want)
			}
			if _, err := os.Stat(filepath.Join(d, "license.lic")); err == nil {
				t.Error("a license was written")
			}
		})
	}
	t.Run("no key", func(t *testing.T) {
		d := t.TempDir()
		if _, err := WriteTriadLicense(d, d, hosts, []int{1, 2, 3}, 1, 1); err == nil {
			t.Error("a license signed without a key")
		}
		if _, err := os.Stat(filepath.Join(d, "license.lic")); err == nil {
			t.Error("a license was written")
		}
	})
}

func TestCanListen(t *testing.T) {
	if err := CanListen(); err != nil {
		t.Errorf("no addresses: %v", err)
	}
	if err := CanListen("127.0.0.1"); err != nil {
		t.Errorf("127.0.0.1: %v", err)
	}
	// 192.0.2.1 (TEST-NET-1) is no address of this host.
	err := CanListen("127.0.0.1", "192.0.2.1")
	if err == nil || !strings.HasPrefix(err.Error(), "cannot listen on 192.0.2.1: ") {
		t.Errorf("got %v, want the address that failed", err)
	}
}

func TestFreePort(t *testing.T) {
	for range 5 {
		p, err := FreePort()
		if err != nil {
			t.Fatal(err)
		}
		if p < 20000 || p >= 32000 {
			t.Errorf("port %d, want one in [20000, 32000)", p)
		}
		ln, err := net.Listen("tcp", ":"+strconv.Itoa(p))
		if err != nil {
			t.Errorf("port %d is not free: %v", p, err)
			continue
		}
		ln.Close()
	}
}

func TestTriadPorts(t *testing.T) {
	ports, err := TriadPorts(3)
	if err != nil {
		t.Fatal(err)
	}
	if len(ports) != 3 {
		t.Fatalf("ports %v", ports)
	}
	for i, p := range ports {
		if p+server.TriadPortStep > 65535 {
			t.Errorf("port %d has no Raft port", p)
		}
		for j, q := range ports {
			if i != j && (p == q || p == q+server.TriadPortStep) {
				t.Errorf("ports %v: %d is %d or its Raft port", ports, p, q)
			}
		}
	}
	if ports, err := TriadPorts(0); err != nil || len(ports) != 0 {
		t.Errorf("no ports: %v, %v", ports, err)
	}
}

// member is a triad member whose debug log is log, running or not.
func member(t *testing.T, name, log string, running bool) *Server {
	t.Helper()
	p := filepath.Join(t.TempDir(), "debug.log")
	if err := os.WriteFile(p, []byte(log), 0o644); err != nil {
		t.Fatal(err)
	}
	s := &Server{Name: name, LogPath: p, done: make(chan struct{})}
	if !running {
		close(s.done)
	}
	return s
}

func connected(master string) string {
	return "12:00:00 (demo) CONNECTED, master is " + master + "\n"
}

func TestMaster(t *testing.T) {
	for _, c := range []struct{ name, log, want string }{
		{"none yet", "12:00:00 (lmgrd) Started demo\n", ""},
		{"one", connected("27000@127.0.0.2"), "27000@127.0.0.2"},
		{"the last of several", connected("27000@127.0.0.2") + "12:00:01 (demo) lost the master\n" + connected("27000@127.0.0.3"), "27000@127.0.0.3"},
		{"another vendor's", "12:00:00 (other) CONNECTED, master is 27000@127.0.0.2\n", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := member(t, "27000@127.0.0.1", c.log, true).Master(); got != c.want {
				t.Errorf("got %q, want %q", got, c.want)
			}
		})
	}
	s := &Server{LogPath: filepath.Join(t.TempDir(), "missing.log")}
	if got := s.Master(); got != "" {
		t.Errorf("no log: %q", got)
	}
}

func TestAlive(t *testing.T) {
	if !member(t, "a", "", true).Alive() {
		t.Error("a running member is not alive")
	}
	if member(t, "a", "", false).Alive() {
		t.Error("a member that exited is alive")
	}
}

func TestWaitMaster(t *testing.T) {
	const m1, m2, m3 = "27000@127.0.0.1", "27000@127.0.0.2", "27000@127.0.0.3"
	for _, c := range []struct {
		name    string
		logs    [3]string // the members' logs
		running [3]bool
		want    string // the master's name, "" for a timeout
	}{
		{"all agree", [3]string{connected(m2), connected(m2), connected(m2)}, [3]bool{true, true, true}, m2},
		{"a member that exited is not asked", [3]string{connected(m1), connected(m2), connected(m2)}, [3]bool{false, true, true}, m2},
		{"they disagree", [3]string{connected(m1), connected(m2), connected(m2)}, [3]bool{true, true, true}, ""},
		{"one has no master yet", [3]string{connected(m2), "", connected(m2)}, [3]bool{true, true, true}, ""},
		{"the master named exited", [3]string{connected(m1), connected(m1), connected(m1)}, [3]bool{false, true, true}, ""},
		{"the master named is no member", [3]string{connected("27000@h9"), connected("27000@h9"), connected("27000@h9")}, [3]bool{true, true, true}, ""},
		{"none running", [3]string{connected(m1), connected(m1), connected(m1)}, [3]bool{false, false, false}, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			ms := []*Server{member(t, m1, c.logs[0], c.running[0]), member(t, m2, c.logs[1], c.running[1]), member(t, m3, c.logs[2], c.running[2])}
			got, err := WaitMaster(ms, 30*time.Millisecond)
			if c.want == "" {
				if got != nil || err == nil || err.Error() != "the members agreed on no running master within 30ms" {
					t.Errorf("got %v, %v; want the timeout", got, err)
				}
				return
			}
			if err != nil || got == nil || got.Name != c.want {
				t.Errorf("got %v, %v; want %s", got, err, c.want)
			}
		})
	}
	t.Run("agreement comes later", func(t *testing.T) {
		ms := []*Server{member(t, m1, connected(m1), true), member(t, m2, connected(m2), true), member(t, m3, connected(m2), true)}
		go func() {
			time.Sleep(30 * time.Millisecond)
			os.WriteFile(ms[0].LogPath, []byte(connected(m1)+connected(m2)), 0o644)
		}()
		got, err := WaitMaster(ms, 5*time.Second)
		if err != nil || got != ms[1] {
			t.Errorf("got %v, %v; want %s", got, err, m2)
		}
	})
}

func TestLogWatch(t *testing.T) {
	s := member(t, "", "old CONNECTED\n", true)
	w := s.Watch("CONNECTED")
	if n := w.Count(); n != 0 {
		t.Errorf("lines before the watch counted: %d", n)
	}
	f, err := os.OpenFile(s.LogPath, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	f.WriteString("a CONNECTED\nb other\nc CONNE")
	if n := w.Count(); n != 1 {
		t.Errorf("after one line and a half: %d, want 1", n)
	}
	// The half line is counted once it ends, and only once.
	f.WriteString("CTED\n")
	if n := w.Count(); n != 2 {
		t.Errorf("once the line ends: %d, want 2", n)
	}
	if n := w.Count(); n != 2 {
		t.Errorf("nothing new: %d, want 2", n)
	}
	if err := w.Wait(2, time.Second); err != nil {
		t.Errorf("Wait(2): %v", err)
	}
	err = w.Wait(3, 20*time.Millisecond)
	if err == nil || !strings.HasPrefix(err.Error(), `2 lines with "CONNECTED" in `) || !strings.HasSuffix(err.Error(), " after 20ms, want 3") {
		t.Errorf("Wait(3) = %v, want a timeout", err)
	}
	// A log that is not there yet: the watch starts at its beginning.
	missing := &Server{LogPath: filepath.Join(t.TempDir(), "later.log")}
	w = missing.Watch("x")
	if n := w.Count(); n != 0 {
		t.Errorf("no log: %d", n)
	}
	os.WriteFile(missing.LogPath, []byte("x\nx\n"), 0o644)
	if n := w.Count(); n != 2 {
		t.Errorf("a log made after the watch: %d, want 2", n)
	}
}

func TestFormatOneRun(t *testing.T) {
	if got, want := (Runs{1234.5}).Format("ms", 1), "1,234.5 ms (n=1)"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if got := Millis(1500 * time.Microsecond); got != 1.5 {
		t.Errorf("Millis = %v, want 1.5", got)
	}
}
