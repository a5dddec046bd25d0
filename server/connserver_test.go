package server

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golm/lmutil/licfile"
	"golm/lmutil/protocol"
)

// waitFor polls cond until it holds or d passes.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	end := time.Now().Add(d)
	for !cond() {
		if time.Now().After(end) {
			t.Fatalf("gave up after %s waiting for %s", d, what)
		}
		time.Sleep(time.Millisecond) // polling interval
	}
}

// goroutinesContain reports whether the stack of some goroutine holds fn.
func goroutinesContain(fn string) bool {
	buf := make([]byte, 1<<20)
	return bytes.Contains(buf[:runtime.Stack(buf, true)], []byte(fn))
}

// TestVendorShutdownWaitsForTick: a tick under way when Shutdown begins
// is over before the report log's STOP record is written, so nothing it
// does is logged after STOP. The tick is held inside its step (in the
// clock it reads) until either the STOP record is in the file (the bug)
// or Shutdown is seen waiting for the tick.
func TestVendorShutdownWaitsForTick(t *testing.T) {
	t.Parallel() // a vendor daemon of its own, in this process
	var armed atomic.Bool
	inTick := make(chan struct{})
	release := make(chan struct{})
	h := newHarness(t, lic("FEATURE f1 demo 1.0 permanent 2"), "REPORTLOG report.rl\n", func(cfg *VendorConfig) {
		now := cfg.Now
		cfg.Now = func() time.Time {
			if armed.Load() && goroutineIn("(*Vendor).tickLoop") && armed.CompareAndSwap(true, false) {
				close(inTick)
				<-release
			}
			return now()
		}
	})
	path := filepath.Join(h.dir, "report.rl")
	armed.Store(true)
	<-inTick
	done := make(chan error, 1)
	go func() { done <- h.v.Shutdown(context.Background()) }()
	stopWritten := func() bool {
		b, _ := os.ReadFile(path)
		return bytes.Contains(b, []byte("STOP"))
	}
	end := time.Now().Add(10 * time.Second)
	for {
		if stopWritten() {
			close(release)
			t.Fatal("the STOP record was written while a tick was under way")
		}
		if goroutinesContain("(*connServer).waitBackground") {
			break
		}
		if time.Now().After(end) {
			close(release)
			t.Fatal("Shutdown neither wrote STOP nor waited for the tick")
		}
		time.Sleep(time.Millisecond) // polling interval
	}
	if stopWritten() {
		t.Error("the STOP record was written before the tick ended")
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	got := records(t, path)
	if len(got) == 0 || got[len(got)-1] != "STOP" {
		t.Errorf("records %q, want STOP last", got)
	}
}

// goroutineIn reports whether the calling goroutine's stack holds fn.
func goroutineIn(fn string) bool {
	buf := make([]byte, 64<<10)
	return bytes.Contains(buf[:runtime.Stack(buf, false)], []byte(fn))
}

// TestLmgrdStartsNoVendorAfterStop: once lmgrd has stopped its vendor
// daemons (Serve ending), neither an lmreread that races with the
// shutdown nor a DAEMON line it brings starts one again.
func TestLmgrdStartsNoVendorAfterStop(t *testing.T) {
	log := &logBuffer{}
	l := &Lmgrd{
		// No vendor daemon binary: every start fails and is retried at
		// once, so a supervisor that runs keeps saying so.
		cfg:      Config{Restart: RestartPolicy{First: time.Millisecond, Max: time.Millisecond, Limit: 1 << 20}, Stderr: io.Discard},
		log:      unbufferedLog(log, "lmgrd", time.Now),
		byName:   map[string]*child{},
		shutdown: make(chan struct{}),
	}
	ctx := context.Background()
	l.addVendor(ctx, &licfile.Vendor{Name: "demo"})
	waitFor(t, 10*time.Second, "a start of demo", func() bool {
		return strings.Contains(log.String(), "Cannot start vendor daemon demo")
	})
	l.stopVendors()
	demo := l.byName["demo"]
	if demo.reread(ctx) {
		t.Error("lmreread after the vendor daemons were stopped: reread = true, want false")
	}
	l.addVendor(ctx, &licfile.Vendor{Name: "other"})
	if l.byName["other"] != nil {
		t.Error("a DAEMON line read after the vendor daemons were stopped was added")
	}
	demo.mu.Lock()
	running := demo.running
	demo.mu.Unlock()
	if running {
		demo.stop()
		t.Error("demo's supervisor runs again after stopVendors")
	}
}

// flakyListener fails Accept with errs, one a call, then blocks until
// closed.
type flakyListener struct {
	mu     sync.Mutex
	errs   []error
	calls  int
	closed chan struct{}
	once   sync.Once
}

func (l *flakyListener) Accept() (net.Conn, error) {
	l.mu.Lock()
	l.calls++
	if len(l.errs) > 0 {
		err := l.errs[0]
		l.errs = l.errs[1:]
		l.mu.Unlock()
		return nil, err
	}
	l.mu.Unlock()
	<-l.closed
	return nil, net.ErrClosed
}

func (l *flakyListener) Close() error {
	l.once.Do(func() { close(l.closed) })
	return nil
}

func (l *flakyListener) Addr() net.Addr { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)} }

func newTestConnServer(ln net.Listener, handle func(*protocol.Conn, slot)) (*connServer, *logBuffer) {
	log := &logBuffer{}
	dl := unbufferedLog(log, "test", time.Now)
	s := newConnServer(dl, newConnLimit(4, dl), Trust{}, 50*time.Millisecond)
	s.ln, s.handle = ln, handle
	return s, log
}

// TestConnServerAcceptBackoff: temporary accept errors are retried (and
// logged once per window), a closed listener ends the loop.
func TestConnServerAcceptBackoff(t *testing.T) {
	tmp := errors.New("too many open files")
	ln := &flakyListener{errs: []error{tmp, tmp, tmp}, closed: make(chan struct{})}
	s, log := newTestConnServer(ln, func(*protocol.Conn, slot) {})
	served := make(chan struct{})
	go func() { s.serve(); close(served) }()
	waitFor(t, 10*time.Second, "the accept retries", func() bool {
		ln.mu.Lock()
		defer ln.mu.Unlock()
		return ln.calls > 3
	})
	s.close()
	<-served
	if !strings.Contains(log.String(), "accept: too many open files") {
		t.Errorf("the accept error is not in the log:\n%s", log.String())
	}
}

// TestConnServerConnections: a connection is handed to handle after its
// first frame, one that says nothing is dropped at the handshake timeout
// without handle, and after close nothing is accepted or served and
// every handler has returned.
func TestConnServerConnections(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var handled atomic.Int32
	s, _ := newTestConnServer(ln, func(c *protocol.Conn, sl slot) {
		handled.Add(1)
		if sl != slotOpen {
			t.Errorf("slot %d, want slotOpen", sl)
		}
		if _, err := protocol.ServerHandshake(c); err != nil {
			return
		}
		if c.Send(&protocol.Hello{Version: protocol.Version, Role: protocol.RoleServer}) != nil {
			return
		}
		c.ReadTimeout = -1
		c.Recv() // until the connection closes
	})
	served := make(chan struct{})
	go func() { s.serve(); close(served) }()

	silent, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	silent.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := silent.Read(make([]byte, 1)); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("a silent connection: read %v, want it closed by the server", err)
	}
	if n := handled.Load(); n != 0 {
		t.Errorf("handle called %d times for a connection that said nothing", n)
	}

	nc, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	c := protocol.NewConn(nc)
	defer c.Close()
	if _, err := protocol.ClientHandshake(c, &protocol.Hello{Version: protocol.Version, Role: protocol.RoleClient}); err != nil {
		t.Fatalf("handshake: %v", err)
	}
	if n := handled.Load(); n != 1 {
		t.Errorf("handle called %d times, want 1", n)
	}
	if !s.close() {
		t.Error("first close = false")
	}
	if s.close() {
		t.Error("second close = true")
	}
	<-served
	if err := s.wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	if s.limit.n.Load() != 0 {
		t.Errorf("%d slots held after every handler returned", s.limit.n.Load())
	}
	a, b := net.Pipe()
	defer b.Close()
	if s.serveNew(a, false) {
		t.Error("serveNew after close = true")
	}
	if s.spawn(func() {}) {
		t.Error("spawn after close = true")
	}
}

// TestSupervisorStartsNothingOnceStopped: a supervisor whose stop came
// (with its restart timer, or before it began) starts no vendor daemon.
func TestSupervisorStartsNothingOnceStopped(t *testing.T) {
	for _, tt := range []struct {
		name   string
		cancel bool // lmgrd's context ended rather than a stop
	}{{"stop", false}, {"context", true}} {
		t.Run(tt.name, func(t *testing.T) {
			log := &logBuffer{}
			l := &Lmgrd{cfg: Config{Stderr: io.Discard}, log: unbufferedLog(log, "lmgrd", time.Now), byName: map[string]*child{}}
			c := newChild(l, &licfile.Vendor{Name: "demo"})
			stopReq, done := make(chan struct{}), make(chan struct{})
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if tt.cancel {
				cancel()
			} else {
				close(stopReq)
			}
			c.supervise(ctx, stopReq, done)
			if strings.Contains(log.String(), "vendor daemon demo") {
				t.Errorf("a stopped supervisor tried to start demo:\n%s", log.String())
			}
		})
	}
}
