package client_test

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"golm/lmutil/commands"
	golm "golm/lmutil/server"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golm/lmutil/licfile"
	"golm/lmutil/protocol"
	"golm/lmutil/protocol/client"
	"golm/lmutil/server/servertest"

	"golm/lmutil/protocol/lmerr"
)

// lmutilBin is the lmutil of the end-to-end tests: this test binary,
// linked as lmutil by TestMain (servertest.Main).
var lmutilBin string

func TestMain(m *testing.M) {
	os.Exit(servertest.Main(m, &lmutilBin, servertest.Lmutil{
		Run: func(ctx context.Context, argv []string) int {
			return commands.Main(ctx, argv, commands.OSEnv("lmutil"))
		},
		IsCommand:  func(name string) bool { return commands.Lookup(name) != nil },
		ControlEnv: golm.ControlEnv,
	}))
}

// server is a real lmgrd with its vendor daemon "demo" on loopback.
type server struct {
	t       *testing.T
	dir     string
	license string
	log     string
	port    int
	cmd     *exec.Cmd
	exited  chan struct{}
	key     ed25519.PrivateKey
}

func freePort(t *testing.T) int { return servertest.FreePort(t) }

// startServer writes a signed license with features (FEATURE lines
// without SIGN=) and starts lmgrd -z on it.
func startServer(t *testing.T, features string) *server {
	t.Helper()
	s := &server{t: t, dir: t.TempDir(), port: freePort(t), exited: make(chan struct{})}
	s.license = filepath.Join(s.dir, "license.lic")
	s.log = filepath.Join(s.dir, "debug.log")
	keyPath, _, err := licfile.GenerateKey(s.dir, "demo", nil)
	if err != nil {
		t.Fatal(err)
	}
	priv, err := licfile.LoadPrivateKey(keyPath)
	if err != nil {
		t.Fatal(err)
	}
	s.key = priv.Key
	s.writeLicense(features)
	s.cmd = exec.Command(lmutilBin, "lmgrd", "-z", "-c", s.license, "-l", s.log)
	s.cmd.Dir = s.dir
	s.cmd.Env = append(os.Environ(), "GOLM_LOCKDIR="+filepath.Join(s.dir, "lock"))
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { s.cmd.Wait(); close(s.exited) }()
	t.Cleanup(s.stop)
	s.waitLog("Started demo", 1)
	return s
}

func (s *server) writeLicense(features string) {
	s.t.Helper()
	text := fmt.Sprintf("SERVER this_host ANY %d\nVENDOR demo\n%s", s.port, features)
	f, err := licfile.Parse(strings.NewReader(text), s.license)
	if err != nil {
		s.t.Fatalf("license: %v", err)
	}
	data, _, err := licfile.SignFile([]byte(text), f, map[string]ed25519.PrivateKey{"demo": s.key})
	if err != nil {
		s.t.Fatal(err)
	}
	if err := os.WriteFile(s.license, data, 0o644); err != nil {
		s.t.Fatal(err)
	}
}

func (s *server) stop() {
	if s.cmd.Process == nil {
		return
	}
	select {
	case <-s.exited:
		return
	default:
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(10 * time.Second):
		s.cmd.Process.Kill()
		s.t.Errorf("lmgrd did not exit on SIGTERM")
	}
}

// waitLog polls the debug log until it has n lines containing text.
func (s *server) waitLog(text string, n int) string {
	s.t.Helper()
	var data []byte
	poll(s.t, fmt.Sprintf("%d debug log lines with %q", n, text), func() bool {
		data, _ = os.ReadFile(s.log)
		return strings.Count(string(data), text) >= n
	})
	return string(data)
}

// poll waits for cond with a deadline.
func poll(t *testing.T, what string, cond func() bool) {
	t.Helper()
	servertest.Poll(t, what, 15*time.Second, cond)
}

func (s *server) open(t *testing.T, user string, opts ...client.Option) *client.Job {
	t.Helper()
	opts = append([]client.Option{
		client.WithGetenv(func(string) string { return "" }),
		client.WithUser(user), client.WithHeartbeat(200 * time.Millisecond),
	}, opts...)
	j, err := client.Open(context.Background(), s.license, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { j.Close() })
	return j
}

// inUse asks the vendor daemon, as lmstat does, how many seats of
// feature are in use and returns the user entries' handles.
func (s *server) inUse(t *testing.T, feature string) (int, []uint64) {
	t.Helper()
	a := s.admin(t)
	defer a.Close()
	v, err := a.Vendor(context.Background(), "demo", "")
	if err != nil {
		t.Fatalf("Vendor: %v", err)
	}
	defer v.Close()
	n := -1
	var handles []uint64
	for m, err := range v.FeatureStatus(context.Background(), feature) {
		if err != nil {
			t.Fatalf("FeatureStatus: %v", err)
		}
		switch m := m.(type) {
		case *protocol.FeatureHeader:
			n = m.InUse
		case *protocol.UserEntry:
			handles = append(handles, m.Handle)
		}
	}
	return n, handles
}

func (s *server) admin(t *testing.T) *client.Admin {
	t.Helper()
	a, err := client.DialAdmin(context.Background(), []licfile.ServerAddr{{Host: "localhost", Port: s.port}})
	if err != nil {
		t.Fatalf("DialAdmin: %v", err)
	}
	return a
}

func checkout(t *testing.T, j *client.Job, feature string) *client.License {
	t.Helper()
	lic, err := j.Checkout(context.Background(), feature, "1.0", 1)
	if err != nil {
		t.Fatalf("Checkout(%s): %v", feature, err)
	}
	return lic
}

func wantCode(t *testing.T, err error, code lmerr.Code) {
	t.Helper()
	var e *client.Error
	if !errors.As(err, &e) || e.Code != code {
		t.Fatalf("got error %v, want FlexLM code %d", err, code)
	}
}

func TestE2ECheckoutAndDenials(t *testing.T) {
	s := startServer(t, "FEATURE f1 demo 1.0 permanent 2\nFEATURE old demo 1.0 permanent 2\nFEATURE gone demo 1.0 1-jan-2001 2\n")
	a := s.open(t, "ann")
	b := s.open(t, "bob")
	c := s.open(t, "cat")
	checkout(t, a, "f1")
	checkout(t, b, "f1")
	tests := []struct {
		name    string
		feature string
		version string
		code    lmerr.Code
	}{
		{"count reached", "f1", "1.0", -4},
		{"no such feature", "nope", "1.0", -5},
		{"version too new", "old", "2.0", -25},
		{"expired", "gone", "1.0", -10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.Checkout(context.Background(), tt.feature, tt.version, 1)
			wantCode(t, err, tt.code)
		})
	}
	if n, _ := s.inUse(t, "f1"); n != 2 {
		t.Errorf("f1 in use = %d, want 2", n)
	}
	a.Close()
	poll(t, "ann's seat to be free", func() bool { n, _ := s.inUse(t, "f1"); return n == 1 })
	checkout(t, c, "f1")
}

var startedRE = regexp.MustCompile(`Started demo \(internet tcp_port \d+ pid (\d+)\)`)

func TestE2EVendorDaemonRestart(t *testing.T) {
	s := startServer(t, "FEATURE f1 demo 1.0 permanent 2\n")
	a, b := s.open(t, "ann"), s.open(t, "bob")
	la, lb := checkout(t, a, "f1"), checkout(t, b, "f1")
	m := startedRE.FindStringSubmatch(s.waitLog("Started demo", 1))
	if m == nil {
		t.Fatal("no pid in the Started line")
	}
	pid, _ := strconv.Atoi(m[1])
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatalf("kill -9 vendor daemon %d: %v", pid, err)
	}
	s.waitLog("REStarted demo", 1)
	poll(t, "both holders to hold their seats again", func() bool {
		n, _ := s.inUse(t, "f1")
		return n == 2
	})
	for _, l := range []*client.License{la, lb} {
		if err := l.Err(); err != nil {
			t.Errorf("license lost: %v", err)
		}
	}
	_, err := s.open(t, "cat").Checkout(context.Background(), "f1", "1.0", 1)
	wantCode(t, err, -4)
	if err := la.Checkin(context.Background()); err != nil {
		t.Errorf("Checkin after the restart: %v", err)
	}
	poll(t, "ann's seat to be free", func() bool { n, _ := s.inUse(t, "f1"); return n == 1 })
}

func TestE2ERemoveRereadDown(t *testing.T) {
	s := startServer(t, "FEATURE f1 demo 1.0 permanent 2\n")
	ctx := context.Background()
	a, b := s.open(t, "ann"), s.open(t, "bob")
	checkout(t, a, "f1")
	lb := checkout(t, b, "f1")
	adm := s.admin(t)
	defer adm.Close()

	id := a.Identity()
	if n, err := adm.Remove(ctx, "f1", id.User, id.Host, id.Display); err != nil || n != 1 {
		t.Fatalf("Remove by user = %d, %v; want 1, nil", n, err)
	}
	s.waitLog("REMOVING ann@", 1)
	if n, err := adm.RemoveHandle(ctx, "f1", lb.Handle()); err != nil || n != 1 {
		t.Fatalf("RemoveHandle(%d) = %d, %v; want 1, nil", lb.Handle(), n, err)
	}
	s.waitLog("REMOVING bob@", 1)

	s.writeLicense("FEATURE f1 demo 1.0 permanent 2\nFEATURE f2 demo 1.0 permanent 1\n")
	if _, err := adm.Reread(ctx, ""); err != nil {
		t.Fatalf("Reread: %v", err)
	}
	poll(t, "f2 to be served", func() bool {
		_, err := s.open(t, "cat").Checkout(ctx, "f2", "1.0", 1)
		return err == nil
	})

	if _, err := adm.Shutdown(ctx, "", true); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	select {
	case <-s.exited:
	case <-time.After(15 * time.Second):
		t.Fatal("lmgrd still running after lmdown")
	}
	m := startedRE.FindStringSubmatch(s.waitLog("Started demo", 1))
	pid, _ := strconv.Atoi(m[1])
	poll(t, "the vendor daemon to exit", func() bool { return syscall.Kill(pid, 0) != nil })
}

// TestE2ELmwrap runs lmwrap holders as real processes: two hold the two
// seats, the third is denied with exit status 252, and kill -9 of a
// holder frees its seat.
func TestE2ELmwrap(t *testing.T) {
	s := startServer(t, "FEATURE f1 demo 1.0 permanent 2\n")
	env := append(os.Environ(), "LM_LICENSE_FILE="+s.license, client.HeartbeatEnv+"=200ms", "FLEXLM_DIAGNOSTICS=")
	var holders []*exec.Cmd
	for i := 0; i < 2; i++ {
		cmd := exec.Command(lmutilBin, "lmwrap", "f1", "--", "sh", "-c", "echo holding; exec sleep 60")
		cmd.Env = env
		// Its own process group, so that cleanup also ends the sleep a
		// killed lmwrap leaves behind.
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL); cmd.Wait() })
		line, err := bufio.NewReader(out).ReadString('\n')
		if err != nil || line != "holding\n" {
			t.Fatalf("holder %d said %q, %v; want holding", i, line, err)
		}
		holders = append(holders, cmd)
	}
	third := exec.Command(lmutilBin, "lmwrap", "f1", "--", "true")
	third.Env = env
	out, err := third.CombinedOutput()
	var xe *exec.ExitError
	if !errors.As(err, &xe) || xe.ExitCode() != 252 {
		t.Fatalf("third lmwrap: %v, output %q; want exit status 252", err, out)
	}
	if want := "Licensed number of users already reached. (-4,342)\n"; string(out) != want {
		t.Errorf("third lmwrap printed %q, want %q", out, want)
	}
	// kill -9 the lmwrap process itself (not its sleep): its connection
	// closes and the vendor daemon frees the seat at once.
	holders[0].Process.Kill()
	poll(t, "the killed holder's seat to be free", func() bool { n, _ := s.inUse(t, "f1"); return n == 1 })

	ok := exec.Command(lmutilBin, "lmwrap", "f1", "--", "sh", "-c", "exit 3")
	ok.Env = env
	err = ok.Run()
	if !errors.As(err, &xe) || xe.ExitCode() != 3 {
		t.Errorf("lmwrap of exit 3: %v, want exit status 3", err)
	}
}

// TestE2ERecheckoutAfterRemove: "If the application is active, it will
// re-checkout the license after it is freed by lmremove" (manual 7.10).
// An active job notices at its next heartbeat and checks the license out
// again under a new handle; a job that says it is idle does not, until
// it is busy again; a license somebody else took meanwhile is lost with
// the checkout's error.
func TestE2ERecheckoutAfterRemove(t *testing.T) {
	s := startServer(t, "FEATURE f1 demo 1.0 permanent 1\nFEATURE f2 demo 1.0 permanent 1\n")
	ctx := context.Background()
	adm := s.admin(t)
	defer adm.Close()

	t.Run("active", func(t *testing.T) {
		a := s.open(t, "ann") // heartbeats every 200 ms
		la := checkout(t, a, "f1")
		old := la.Handle()
		if n, err := adm.RemoveHandle(ctx, "f1", old); err != nil || n != 1 {
			t.Fatalf("RemoveHandle(%d) = %d, %v; want 1, nil", old, n, err)
		}
		poll(t, "ann to hold f1 again under a new handle", func() bool {
			n, handles := s.inUse(t, "f1")
			return n == 1 && la.Handle() != old && len(handles) == 1 && handles[0] == la.Handle()
		})
		if err := la.Err(); err != nil {
			t.Errorf("Err after the re-checkout: %v", err)
		}
		if err := la.Checkin(ctx); err != nil {
			t.Errorf("Checkin of the re-checked-out license: %v", err)
		}
		poll(t, "f1 to be free", func() bool { n, _ := s.inUse(t, "f1"); return n == 0 })
	})

	t.Run("idle, then busy", func(t *testing.T) {
		b := s.open(t, "bob", client.WithHeartbeat(time.Hour))
		lb := checkout(t, b, "f2")
		if err := b.SetIdle(ctx, true); err != nil {
			t.Fatal(err)
		}
		if n, err := adm.RemoveHandle(ctx, "f2", lb.Handle()); err != nil || n != 1 {
			t.Fatalf("RemoveHandle = %d, %v; want 1, nil", n, err)
		}
		if n, _ := s.inUse(t, "f2"); n != 0 {
			t.Fatalf("f2 in use after lmremove = %d, want 0", n)
		}
		if err := b.SetIdle(ctx, false); err != nil {
			t.Fatal(err)
		}
		if n, handles := s.inUse(t, "f2"); n != 1 || len(handles) != 1 || handles[0] != lb.Handle() {
			t.Errorf("after SetIdle(false): f2 in use %d by %v, want 1 by bob's handle %d", n, handles, lb.Handle())
		}
	})

	t.Run("taken meanwhile", func(t *testing.T) {
		c := s.open(t, "cat", client.WithHeartbeat(time.Hour))
		lc := checkout(t, c, "f1")
		if n, err := adm.RemoveHandle(ctx, "f1", lc.Handle()); err != nil || n != 1 {
			t.Fatalf("RemoveHandle = %d, %v; want 1, nil", n, err)
		}
		checkout(t, s.open(t, "dan"), "f1") // the only seat
		if err := c.SetIdle(ctx, false); err != nil {
			t.Fatal(err)
		}
		wantCode(t, lc.Err(), -4)
		if err := lc.Checkin(ctx); err != nil {
			t.Errorf("Checkin of a lost license: %v, want nil", err)
		}
	})
}

// TestE2EQueuedAcrossRestart: a request queued at a vendor daemon that
// dies is queued again at the restarted one, and granted when the seat
// frees up, instead of failing with the broken connection.
func TestE2EQueuedAcrossRestart(t *testing.T) {
	s := startServer(t, "FEATURE f1 demo 1.0 permanent 1\n")
	ctx := context.Background()
	a := s.open(t, "ann")
	la := checkout(t, a, "f1")
	b := s.open(t, "bob", client.WithQueuePoll(50*time.Millisecond))
	lb, err := b.CheckoutQueued(ctx, "f1", "1.0", 1)
	if lb == nil || !lb.Queued() {
		t.Fatalf("CheckoutQueued = %v, %v; want a queued license", lb, err)
	}
	m := startedRE.FindStringSubmatch(s.waitLog("Started demo", 1))
	pid, _ := strconv.Atoi(m[1])
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatalf("kill -9 vendor daemon %d: %v", pid, err)
	}
	s.waitLog("REStarted demo", 1)
	poll(t, "ann to hold f1 again", func() bool { n, _ := s.inUse(t, "f1"); return n == 1 && la.Err() == nil })
	waited := make(chan error, 1)
	go func() { waited <- lb.Wait(ctx) }()
	if err := la.Checkin(ctx); err != nil {
		t.Fatalf("ann's Checkin: %v", err)
	}
	select {
	case err := <-waited:
		if err != nil || lb.Queued() {
			t.Fatalf("bob's Wait = %v (queued %v); want the grant", err, lb.Queued())
		}
	case <-time.After(15 * time.Second):
		t.Fatal("bob's queued request was not granted after the restart")
	}
	if n, handles := s.inUse(t, "f1"); n != 1 || len(handles) != 1 || handles[0] != lb.Handle() {
		t.Errorf("f1 in use %d by %v, want 1 by bob's handle %d", n, handles, lb.Handle())
	}
}
