package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golm/lmutil/protocol"
	"golm/lmutil/server/state"

	"golm/lmutil/protocol/lmerr"
)

// testClock is a settable clock shared by a vendor daemon and its test.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// harness is a real vendor daemon on loopback with a settable clock,
// its debug log, and the state machine's invariants checked after every
// command.
type harness struct {
	t     *testing.T
	v     *Vendor
	log   *logBuffer
	clock *testClock
	dir   string
}

// invariantLog collects invariant violations from any goroutine; the test
// fails on them once the vendor daemon has stopped.
type invariantLog struct {
	mu   sync.Mutex
	errs []string
}

func (l *invariantLog) add(err error) {
	l.mu.Lock()
	l.errs = append(l.errs, err.Error())
	l.mu.Unlock()
}

// newHarness signs license into a new directory, writes opts (when not
// "") as demo.opt beside it, and starts a vendor daemon on it.
func newHarness(t *testing.T, license, opts string, tweak ...func(*VendorConfig)) *harness {
	t.Helper()
	h := &harness{t: t, log: &logBuffer{}, clock: &testClock{t: testNow}, dir: t.TempDir()}
	p := signedLicense(t, h.dir, license)
	if opts != "" {
		if err := os.WriteFile(filepath.Join(h.dir, "demo.opt"), []byte(opts), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cfg := VendorConfig{
		Name:         "demo",
		LicenseFiles: []string{p},
		Addr:         "127.0.0.1:0",
		ServerHost:   "srv",
		LmgrdPort:    27000,
		Software:     "0.1.0",
		Log:          unbufferedLog(h.log, "demo", h.clock.Now),
		Now:          h.clock.Now,
		TickInterval: 5 * time.Millisecond,
		MinTimeout:   time.Second,
	}
	for _, f := range tweak {
		f(&cfg)
	}
	v, err := NewVendor(cfg)
	if err != nil {
		t.Fatalf("NewVendor: %v\n%s", err, h.log.String())
	}
	h.v = v
	inv := &invariantLog{}
	v.State().CheckInvariants(inv.add)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { v.Serve(ctx); close(done) }()
	t.Cleanup(func() {
		cancel()
		<-done
		for _, e := range inv.errs {
			t.Errorf("invariant: %s", e)
		}
		if t.Failed() {
			t.Logf("debug log:\n%s", h.log.String())
		}
	})
	return h
}

// testClient is one client connection to the harness's vendor daemon.
type testClient struct {
	t *testing.T
	c *protocol.Conn
}

// client connects as user on host with display; with project it sets
// LM_PROJECT.
func (h *harness) client(user, host, display string, project ...string) *testClient {
	h.t.Helper()
	nc, err := net.Dial("tcp", h.v.Addr().String())
	if err != nil {
		h.t.Fatal(err)
	}
	c := protocol.NewConn(nc)
	h.t.Cleanup(func() { c.Close() })
	id := protocol.Identity{User: user, Host: host, Display: display}
	if len(project) > 0 {
		id.Project = project[0]
	}
	if _, err := protocol.ClientHandshake(c, &protocol.Hello{Version: protocol.Version, Role: protocol.RoleClient, Identity: id}); err != nil {
		h.t.Fatal(err)
	}
	return &testClient{t: h.t, c: c}
}

// code is the FlexLM code of a call's error, 0 for none.
func code(t *testing.T, err error) lmerr.Code {
	t.Helper()
	if err == nil {
		return 0
	}
	var pe *protocol.PeerError
	if errors.As(err, &pe) {
		return pe.Msg.Code
	}
	t.Fatalf("call failed: %v", err)
	return 0
}

// co checks out count licenses of feature at version.
func (c *testClient) co(feature, version string, count int) (handle uint64, code_ lmerr.Code) {
	c.t.Helper()
	m, err := c.c.Call(&protocol.Checkout{Feature: feature, Version: version, Count: count})
	if err != nil {
		return 0, code(c.t, err)
	}
	return m.(*protocol.Granted).Handle, 0
}

// want checks out and fails the test unless the result has wantCode.
func (c *testClient) want(feature, version string, count int, wantCode lmerr.Code) uint64 {
	c.t.Helper()
	h, got := c.co(feature, version, count)
	if got != wantCode {
		c.t.Fatalf("checkout %s v%s x%d: code %d, want %d", feature, version, count, got, wantCode)
	}
	return h
}

// queue asks for a queued checkout: queued is true when the answer is
// Queued.
func (c *testClient) queue(feature, version string, count int) (handle uint64, queued bool, code_ lmerr.Code) {
	c.t.Helper()
	m, err := c.c.Call(&protocol.Checkout{Feature: feature, Version: version, Count: count, Flags: protocol.CheckoutQueue})
	if err != nil {
		return 0, false, code(c.t, err)
	}
	switch m := m.(type) {
	case *protocol.Granted:
		return m.Handle, false, 0
	case *protocol.Queued:
		return m.Handle, true, 0
	}
	c.t.Fatalf("queued checkout answered %s", m.Type())
	return 0, false, 0
}

// poll asks about a queued request: granted or still queued.
func (c *testClient) poll(handle uint64) (granted bool, code_ lmerr.Code) {
	c.t.Helper()
	m, err := c.c.Call(&protocol.QueuePoll{Handle: handle})
	if err != nil {
		return false, code(c.t, err)
	}
	_, granted = m.(*protocol.Granted)
	return granted, 0
}

func (c *testClient) checkin(handle uint64) lmerr.Code {
	c.t.Helper()
	_, err := c.c.Call(&protocol.Checkin{Handle: handle})
	return code(c.t, err)
}

func (c *testClient) call(m protocol.Message) {
	c.t.Helper()
	if _, err := c.c.Call(m); err != nil {
		c.t.Fatalf("%s: %v", m.Type(), err)
	}
}

// status renders the vendor daemon's status stream for feature ("" for
// all) compactly, one line per frame, handles and times left out:
//
//	f1 issued=5 inuse=2
//	 v1.0 floating issued=5 inuse=2
//	  joe h d v1.0 x1
//	  joe h d v1.0 x1 linger 10/30
//	  queued ann h d x1
//	  RESERVATION 1 USER robert
func (h *harness) status(feature string) string {
	h.t.Helper()
	c := h.client("admin", "srv", "console")
	if err := c.c.Send(&protocol.FeatureStatusRequest{Feature: feature}); err != nil {
		h.t.Fatal(err)
	}
	var b strings.Builder
	for {
		m, err := c.c.Recv()
		if err != nil {
			h.t.Fatal(err)
		}
		switch m := m.(type) {
		case *protocol.FeatureHeader:
			switch {
			case m.Code != 0:
				fmt.Fprintf(&b, "%s error %d\n", m.Name, m.Code)
			case m.Uncounted:
				fmt.Fprintf(&b, "%s uncounted inuse=%d\n", m.Name, m.InUse)
			default:
				fmt.Fprintf(&b, "%s issued=%d inuse=%d\n", m.Name, m.Issued, m.InUse)
			}
		case *protocol.PoolStatus:
			kind := map[protocol.LicenseType]string{protocol.Floating: "floating", protocol.Nodelocked: "nodelocked", protocol.UncountedNodelocked: "uncounted"}[m.LicenseType]
			if m.HostID != "" {
				kind += " " + m.HostID
			}
			fmt.Fprintf(&b, " v%s %s issued=%d inuse=%d\n", m.Version, kind, m.Issued, m.InUse)
		case *protocol.UserEntry:
			if m.Queued {
				fmt.Fprintf(&b, "  queued %s %s %s x%d\n", m.User, m.Host, m.Display, m.Count)
				continue
			}
			fmt.Fprintf(&b, "  %s %s %s v%s x%d", m.User, m.Host, m.Display, m.Version, m.Count)
			if m.LingerTotal > 0 {
				fmt.Fprintf(&b, " linger %d/%d", m.LingerRemaining, m.LingerTotal)
			}
			b.WriteByte('\n')
		case *protocol.ReservationEntry:
			fmt.Fprintf(&b, "  RESERVATION %d %s %s\n", m.Count, m.Kind, m.Name)
		case *protocol.End:
			c.c.Close()
			return b.String()
		}
	}
}

// wantStatus fails unless the status of feature is want.
func (h *harness) wantStatus(feature, want string) {
	h.t.Helper()
	if got := h.status(feature); got != want {
		h.t.Fatalf("status of %q:\n%s\nwant:\n%s", feature, got, want)
	}
}

// eventuallyStatus polls the status of feature until it is want.
func (h *harness) eventuallyStatus(feature, want string) {
	h.t.Helper()
	var got string
	deadline := time.Now().Add(15 * time.Second)
	for {
		if got = h.status(feature); got == want {
			return
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("status of %q never became:\n%s\nlast:\n%s", feature, want, got)
		}
		time.Sleep(5 * time.Millisecond) // polling interval
	}
}

// wantLog fails unless the debug log comes to contain every line part.
func (h *harness) wantLog(parts ...string) {
	h.t.Helper()
	// The lines of what the tick loop did (a TIMEOUT's IN, a linger's
	// end) are written just after the state changed, so a test that saw
	// the state may be ahead of them: wait for them as for a status.
	deadline := time.Now().Add(15 * time.Second)
	for {
		log := h.log.String()
		var missing []string
		for _, p := range parts {
			if !strings.Contains(log, p) {
				missing = append(missing, p)
			}
		}
		if len(missing) == 0 {
			return
		}
		if time.Now().After(deadline) {
			for _, p := range missing {
				h.t.Errorf("debug log lacks %q:\n%s", p, log)
			}
			return
		}
		time.Sleep(5 * time.Millisecond) // polling interval
	}
}

// lic builds a license file for vendor demo from its feature lines.
func lic(lines ...string) string {
	return "SERVER this_host ANY 27000\nVENDOR demo\n" + strings.Join(lines, "\n") + "\n"
}

var testNow = time.Date(2026, 3, 15, 10, 30, 0, 0, time.Local)

func client(user, host string) state.Client {
	return state.Client{User: user, Host: host, Display: "/dev/pts/1", IP: "127.0.0.1"}
}

func errOrNil(e *lmerr.Error) error {
	if e == nil {
		return nil
	}
	return e
}
