package e2e_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"golm/lmutil/protocol"
	"golm/lmutil/protocol/client"
	golm "golm/lmutil/server"
	"golm/lmutil/server/servertest"
)

// hostileFeatures: steady for the steady loop, f1 for the hostile
// clients, big for crowds.
const hostileFeatures = "FEATURE steady demo 1.0 permanent 1\nFEATURE f1 demo 1.0 permanent 4\nFEATURE big demo 1.0 permanent 100000\n"

// steady is a client that checks f1 out and in again and again while a
// test attacks the server: every attack must leave it served.
type steady struct {
	ok     atomic.Int64
	fails  atomic.Int64
	mu     sync.Mutex
	last   error
	cancel context.CancelFunc
	done   chan struct{}
	seen   int64 // fails already reported
}

// startSteady starts the steady loop on feature as user "steady".
func startSteady(t *testing.T, s *server, feature string) *steady {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	st := &steady{cancel: cancel, done: make(chan struct{})}
	job, err := client.Open(ctx, s.lic, client.WithUser("steady"), client.WithDisplay("steady"), client.WithCallTimeout(deadline))
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		defer close(st.done)
		defer job.Close()
		for ctx.Err() == nil {
			lic, err := job.Checkout(ctx, feature, "1.0", 1)
			if err == nil {
				err = lic.Checkin(ctx)
			}
			if ctx.Err() != nil {
				return
			}
			if err != nil {
				st.fails.Add(1)
				st.mu.Lock()
				st.last = err
				st.mu.Unlock()
				time.Sleep(20 * time.Millisecond) // a retry pause, not a wait for the server
				continue
			}
			st.ok.Add(1)
		}
	}()
	t.Cleanup(func() { st.cancel(); <-st.done })
	return st
}

// progress waits until the loop has done a few more checkouts, and fails
// the test when any checkout failed since the last call.
func (st *steady) progress(t *testing.T, during string) {
	t.Helper()
	from := st.ok.Load()
	poll(t, "the steady checkout loop to go on after "+during, func() bool { return st.ok.Load() >= from+3 })
	if f := st.fails.Load(); f != st.seen {
		st.mu.Lock()
		err := st.last
		st.mu.Unlock()
		t.Errorf("steady loop: %d checkouts failed during %s, last: %v", f-st.seen, during, err)
		st.seen = f
	}
}

var vendorPortRE = regexp.MustCompile(`\(lmgrd\) (?:RE)?Started demo \(internet tcp_port (\d+) pid \d+\)`)

// vendorPort is the port of the latest vendor daemon lmgrd started.
func (s *server) vendorPort() int {
	s.t.Helper()
	m := vendorPortRE.FindAllStringSubmatch(s.logText(), -1)
	if len(m) == 0 {
		s.t.Fatal("no vendor daemon started")
	}
	p, _ := strconv.Atoi(m[len(m)-1][1])
	return p
}

// dialRaw connects to a port on loopback.
func dialRaw(t *testing.T, port int) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), deadline)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// frames encodes ms as consecutive frames (servertest.Frames).
func frames(t *testing.T, ms ...protocol.Message) []byte {
	t.Helper()
	return servertest.Frames(t, ms...)
}

func clientHello(id protocol.Identity) *protocol.Hello {
	return &protocol.Hello{Version: protocol.Version, Role: protocol.RoleClient, Identity: id, JobID: rand.Uint64() | 1}
}

// hostileHandshake is the handshake deadline of the servers the hostile
// tests attack (GOLM_HANDSHAKE_TIMEOUT): short, so that the connections
// which stall are dropped soon, and long enough for every real client
// (the steady loop, lmstat) to send its HELLO on a loaded machine.
const hostileHandshake = 2 * time.Second

// dropDeadline bounds how long a server may take to drop a hostile
// connection: the handshake deadline plus a generous margin.
const dropDeadline = hostileHandshake + deadline

// startHostileServer is startServer with the handshake deadline
// hostileHandshake.
func startHostileServer(t *testing.T, features string, extra ...string) *server {
	t.Helper()
	return startServerEnv(t, features, nil, []string{golm.HandshakeTimeoutEnv + "=" + hostileHandshake.String()}, extra...)
}

// readUntilClosed reads what the server sends until it closes the
// connection, and fails when it does not within dropDeadline. Whatever
// it sent must be well-formed frames.
func readUntilClosed(t *testing.T, c net.Conn) []protocol.Message {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(dropDeadline))
	got, err := io.ReadAll(c)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("the server kept the connection open for %s (read %d bytes)", dropDeadline, len(got))
	}
	var ms []protocol.Message
	r := protocol.NewReader(bytes.NewReader(got))
	for {
		m, err := r.ReadMessage()
		if err == io.EOF {
			return ms
		}
		if err != nil {
			t.Fatalf("the server sent something that is not a frame: %v (%q)", err, got)
		}
		ms = append(ms, m)
	}
}

// types names the messages' types.
func types(ms []protocol.Message) string {
	var b []string
	for _, m := range ms {
		s := m.Type().String()
		if e, ok := m.(*protocol.Error); ok {
			s += fmt.Sprintf("(%d)", e.Code)
		}
		b = append(b, s)
	}
	return strings.Join(b, " ")
}

// tlsClientHello is the start of a TLS 1.2 ClientHello record.
var tlsClientHello = []byte{0x16, 0x03, 0x01, 0x00, 0x2f, 0x01, 0x00, 0x00, 0x2b, 0x03, 0x03,
	1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32,
	0x00, 0x00, 0x02, 0x00, 0x2f, 0x01, 0x00}

// smbNegotiate is the start of an SMB1 NEGOTIATE request over NetBIOS.
var smbNegotiate = []byte{0x00, 0x00, 0x00, 0x54, 0xff, 'S', 'M', 'B', 0x72, 0, 0, 0, 0, 0x18, 0x53, 0xc8,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xfe, 0, 0, 0, 0, 0, 0x31, 0, 0x02, 'N', 'T', ' ', 'L', 'M', 0}

// TestHostileFrames: malformed frames and other protocols on the lmgrd
// and vendor daemon ports are dropped (at once, or by the handshake
// deadline when they stall) without an answer that is not a frame, while
// the steady loop keeps checking out.
func TestHostileFrames(t *testing.T) {
	t.Parallel() // its own server: the attacks of several tests overlap
	s := startHostileServer(t, hostileFeatures)
	st := startSteady(t, s, "steady")
	st.progress(t, "start")
	hello := frames(t, clientHello(protocol.Identity{User: "mallory", Host: "evil", Display: "x"}))
	badMagic := bytes.Replace(bytes.Clone(hello), []byte(protocol.Magic), []byte("XOLM"), 1)
	badVersion := frames(t, &protocol.Hello{Version: protocol.Version + 99, Role: protocol.RoleClient})
	length := func(n uint32, rest ...byte) []byte {
		b := binary.BigEndian.AppendUint32(nil, n)
		return append(b, rest...)
	}
	rnd := make([]byte, 4096)
	rand.New(rand.NewSource(8)).Read(rnd)
	filler := bytes.Repeat([]byte{'A'}, 64<<10)
	maxFrame := append(length(protocol.MaxFrame, byte(protocol.TypeHello)), bytes.Repeat([]byte{0x7f}, protocol.MaxFrame-1)...)
	tests := []struct {
		name string
		send []byte
		// want is the reply before the server closes: a HELLO when the
		// handshake went through, an ERROR(code) when refused.
		want string
	}{
		{"length 0", length(0), ""},
		{"length short of its payload", append(length(2, byte(protocol.TypeHello)), hello...), ""},
		{"length longer than sent, stalling", length(1000, byte(protocol.TypeHello), 'G', 'O'), ""},
		{"length 65535 of filler", append(length(65535), bytes.Repeat([]byte{0xee}, 65535)...), ""},
		{"length MaxFrame", maxFrame, ""},
		{"length MaxFrame+1", length(protocol.MaxFrame + 1), ""},
		{"length 4 GiB", length(0xffffffff, 1, 2, 3), ""},
		{"64 KiB of filler", filler, ""},
		{"bad magic", badMagic, ""},
		{"bad version", badVersion, "ERROR(-83)"},
		{"unknown message type", append(bytes.Clone(hello), length(3, 0xee, 1, 2)...), "HELLO"},
		{"reply type as a request", append(bytes.Clone(hello), frames(t, &protocol.Granted{Handle: 1})...), "HELLO"},
		{"bad payload", append(bytes.Clone(hello), length(3, byte(protocol.TypeCheckout), 0xff, 0xff)...), "HELLO"},
		{"HTTP", []byte("GET / HTTP/1.1\r\nHost: license\r\n\r\n"), ""},
		{"TLS ClientHello", tlsClientHello, ""},
		{"SMB negotiate", smbNegotiate, ""},
		{"random bytes", rnd, ""},
		{"nothing at all", nil, ""},
	}
	// Every attack is sent at once, so that the stalling ones wait for
	// the handshake deadline together; then each is judged.
	ports := map[string]int{"lmgrd": s.port, "vendor daemon": s.vendorPort()}
	daemons := []string{"lmgrd", "vendor daemon"}
	conns := map[string][]net.Conn{}
	for _, daemon := range daemons {
		for _, tt := range tests {
			c := dialRaw(t, ports[daemon])
			conns[daemon] = append(conns[daemon], c)
			go func() {
				c.SetWriteDeadline(time.Now().Add(deadline))
				c.Write(tt.send) // the server may close before reading it all
			}()
		}
	}
	for _, daemon := range daemons {
		t.Run(daemon, func(t *testing.T) {
			for i, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					if got := types(readUntilClosed(t, conns[daemon][i])); got != tt.want {
						t.Errorf("replies before closing: %q, want %q", got, tt.want)
					}
				})
			}
		})
	}
	st.progress(t, "hostile frames")
	if r := s.run(nil, "lmstat", "-a", "-c", s.lic); r.status != 0 {
		t.Errorf("lmstat -a after hostile frames: exit %d\n%s", r.status, r.stdout)
	}
}

// TestOneByteWrites: a client that writes its HELLO, a checkout with
// thousands of bytes of vendor data and a checkin one byte at a time is
// served like any other.
func TestOneByteWrites(t *testing.T) {
	t.Parallel() // its own server: the attacks of several tests overlap
	s := startHostileServer(t, hostileFeatures)
	st := startSteady(t, s, "steady")
	c := dialRaw(t, s.vendorPort())
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetNoDelay(true)
	}
	data := frames(t, clientHello(protocol.Identity{User: "dribble", Host: "h", Display: "d"}),
		&protocol.Checkout{Feature: "f1", Version: "1.0", Count: 1, VendorData: strings.Repeat("v", 3000)},
		&protocol.Checkin{Handle: 0}) // the handle is not known yet: a refusal, then the connection goes on
	r := protocol.NewReader(c)
	for i := range data {
		c.SetWriteDeadline(time.Now().Add(deadline))
		if _, err := c.Write(data[i : i+1]); err != nil {
			t.Fatalf("write of byte %d of %d: %v", i, len(data), err)
		}
	}
	c.SetReadDeadline(time.Now().Add(deadline))
	var got []protocol.Message
	for range 3 {
		m, err := r.ReadMessage()
		if err != nil {
			t.Fatalf("after %d replies: %v", len(got), err)
		}
		got = append(got, m)
	}
	if g := types(got); g != "HELLO GRANTED ERROR(-41)" {
		t.Errorf("replies %q, want HELLO GRANTED ERROR(-41)", g)
	}
	s.waitInUse("f1", 1)
	st.progress(t, "one-byte writes")
}

// TestSlowLoris: connections that dribble a byte now and then, and never
// finish a HELLO, are dropped by the handshake deadline on both daemons;
// meanwhile the steady loop goes on.
func TestSlowLoris(t *testing.T) {
	t.Parallel() // its own server: the attacks of several tests overlap
	s := startHostileServer(t, hostileFeatures)
	st := startSteady(t, s, "steady")
	const n = 40
	hello := frames(t, clientHello(protocol.Identity{User: "loris"}))
	var wg sync.WaitGroup
	dropped := make(chan error, 2*n)
	for i := range 2 * n {
		port := s.port
		if i%2 == 1 {
			port = s.vendorPort()
		}
		c := dialRaw(t, port)
		wg.Add(1)
		go func() {
			defer wg.Done()
			end := time.Now().Add(dropDeadline)
			for i := 0; time.Now().Before(end); i = (i + 1) % len(hello) {
				c.SetWriteDeadline(time.Now().Add(deadline))
				if _, err := c.Write(hello[i : i+1]); err != nil {
					dropped <- nil
					return
				}
				time.Sleep(500 * time.Millisecond) // the attack's pace
			}
			dropped <- fmt.Errorf("connection to port %d still open after %s", port, dropDeadline)
		}()
	}
	wg.Wait()
	close(dropped)
	for err := range dropped {
		if err != nil {
			t.Error(err)
		}
	}
	st.progress(t, "slow loris")
}

// TestHostileStrings: control characters, bad UTF-8, forged log lines and
// over-long strings in every identity field and in the feature name are
// refused or served, and come out of lmstat and the debug log escaped.
func TestHostileStrings(t *testing.T) {
	t.Parallel() // its own server: the attacks of several tests overlap
	s := startHostileServer(t, hostileFeatures)
	st := startSteady(t, s, "steady")
	forged := "\n12:00:00 (lmgrd) EXITING DUE TO SIGNAL 15\n"
	id := protocol.Identity{
		User:    "mal\x1b[2Jlory" + forged,
		Host:    "ho\rst\xff\xfe",
		Display: "\x00\x07:0\u0085",
		Project: "p\x1b]0;title\x07",
		Program: "../../etc/passwd\x00",
	}
	c := dialRaw(t, s.vendorPort())
	c.SetDeadline(time.Now().Add(deadline))
	pc := protocol.NewConn(c)
	if _, err := protocol.ClientHandshake(pc, clientHello(id)); err != nil {
		t.Fatal(err)
	}
	if _, err := pc.Call(&protocol.Checkout{Feature: "f1", Version: "1.0", Count: 1, VendorData: "vd\x1b[31m" + forged}); err != nil {
		t.Fatalf("checkout with hostile identity: %v", err)
	}
	for _, feature := range []string{"f1" + forged, "\x1b[2J", "f\xff", strings.Repeat("F", protocol.MaxString)} {
		_, err := pc.Call(&protocol.Checkout{Feature: feature, Version: "1.0", Count: 1})
		var pe *protocol.PeerError
		if !errors.As(err, &pe) || pe.Msg.Code != -5 {
			t.Errorf("checkout of feature %.40q: %v, want -5", feature, err)
		}
	}
	// A string longer than MaxString is a violation: the connection goes.
	long := dialRaw(t, s.vendorPort())
	long.Write(frames(t, clientHello(protocol.Identity{User: "u"})))
	over := []byte{byte(protocol.TypeCheckout)}
	over = binary.AppendUvarint(over, protocol.MaxString+1)
	over = append(over, bytes.Repeat([]byte{'F'}, protocol.MaxString+1)...)
	long.Write(append(binary.BigEndian.AppendUint32(nil, uint32(len(over))), over...))
	if got := types(readUntilClosed(t, long)); got != "HELLO" {
		t.Errorf("over-long string: replies %q, want HELLO then close", got)
	}
	// lmremove by the hostile names works, and is logged escaped.
	s.waitInUse("f1", 1)
	r := s.run(nil, "lmstat", "-a", "-c", s.lic)
	if r.status != 0 {
		t.Fatalf("lmstat -a: exit %d\n%s", r.status, r.stdout)
	}
	checkHarmless(t, "lmstat -a", r.stdout)
	if !strings.Contains(r.stdout, `mal\x1b[2Jlory\x0a12:00:00 (lmgrd) EXITING DUE TO SIGNAL 15\x0a ho\x0dst\xff\xfe \x00\x07:0\u0085`) {
		t.Errorf("lmstat -a lacks the escaped user line:\n%s", r.stdout)
	}
	pc.Close()
	s.waitInUse("f1", 0)
	st.progress(t, "hostile strings")
	s.waitLog(`OUT: "f1" mal\\x1b\[2Jlory`, 1) // IN lines are rate limited, and the steady loop uses them up
	checkHarmless(t, "the debug log", s.logText())
	if strings.Contains(s.logText(), "\n12:00:00 (lmgrd) EXITING") {
		t.Errorf("a client forged a debug log line:\n%s", s.logText())
	}
}

// checkHarmless fails when text has bad UTF-8 or control characters other
// than newline and tab.
func checkHarmless(t *testing.T, what, text string) {
	t.Helper()
	if !utf8.ValidString(text) {
		t.Errorf("%s is not valid UTF-8:\n%q", what, text)
	}
	for i, r := range text {
		if (r < 0x20 && r != '\n' && r != '\t') || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			t.Errorf("%s has a raw control character %U at byte %d:\n%q", what, r, i, text)
			return
		}
	}
}

// TestOutOfOrderRequests: checkin before checkout, double checkin,
// removal of unknown handles, polls and heartbeats for dead handles,
// requests meant for the other daemon and forged roles are refused one by
// one, the connection stays usable, and no seat is counted wrong.
func TestOutOfOrderRequests(t *testing.T) {
	t.Parallel() // its own server: the attacks of several tests overlap
	s := startHostileServer(t, hostileFeatures)
	st := startSteady(t, s, "steady")
	c := dialRaw(t, s.vendorPort())
	c.SetDeadline(time.Now().Add(4 * deadline))
	pc := protocol.NewConn(c)
	if _, err := protocol.ClientHandshake(pc, clientHello(protocol.Identity{User: "root", Host: "localhost", Display: "d", Program: "lmgrd"})); err != nil {
		t.Fatal(err)
	}
	call := func(t *testing.T, m protocol.Message) string {
		t.Helper()
		r, err := pc.Call(m)
		var pe *protocol.PeerError
		switch {
		case errors.As(err, &pe):
			return fmt.Sprintf("ERROR(%d)", pe.Msg.Code)
		case err != nil:
			t.Fatalf("%s: %v", m.Type(), err)
		}
		return r.Type().String()
	}
	first := call(t, &protocol.Checkout{Feature: "big", Version: "1.0", Count: 1})
	tests := []struct {
		name string
		req  protocol.Message
		want string
	}{
		{"checkin of a handle never given", &protocol.Checkin{Handle: 999999}, "ERROR(-41)"},
		{"checkin of handle 0", &protocol.Checkin{Handle: 0}, "ERROR(-41)"},
		{"checkin of a 64-bit handle", &protocol.Checkin{Handle: 1 << 40}, "ERROR(-41)"},
		{"poll of a handle never queued", &protocol.QueuePoll{Handle: 77}, "ERROR(-41)"},
		{"remove of an unknown handle", &protocol.RemoveHandle{Feature: "big", Handle: 999999}, "ERROR(-41)"},
		{"remove of an unknown user", &protocol.Remove{Feature: "big", User: "nobody", Host: "nowhere", Display: "none"}, "ERROR(-41)"},
		{"remove of an unknown feature", &protocol.Remove{Feature: "nosuch", User: "x"}, "ERROR(-41)"},
		{"heartbeat", &protocol.Heartbeat{Seq: 1 << 60}, "HEARTBEAT_ACK"},
		{"lmdown sent to the vendor daemon", &protocol.Shutdown{Vendor: "demo", Force: true}, "ERROR(-85)"},
		{"lmreread sent to the vendor daemon", &protocol.Reread{}, "ERROR(-85)"},
		{"checkout of a huge count", &protocol.Checkout{Feature: "big", Count: 1 << 30}, "ERROR(-42)"},
		{"checkout of more than the pool", &protocol.Checkout{Feature: "f1", Count: 5}, "ERROR(-26)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := call(t, tt.req); got != tt.want {
				t.Errorf("%s: %s, want %s", tt.req.Type(), got, tt.want)
			}
		})
	}
	if first != "GRANTED" {
		t.Fatalf("first checkout: %s", first)
	}
	s.waitInUse("big", 1)
	// The one checkout goes back once: a second checkin is -41.
	handles := handleRE.FindAllStringSubmatch(s.run(nil, "lmstat", "-a", "-c", s.lic).stdout, -1)
	var h uint64
	for _, m := range handles {
		if m[1] == "root" {
			h, _ = strconv.ParseUint(m[4], 10, 64)
		}
	}
	if got := call(t, &protocol.Checkin{Handle: h}); got != "OK" {
		t.Errorf("checkin of handle %d: %s, want OK", h, got)
	}
	if got := call(t, &protocol.Checkin{Handle: h}); got != "ERROR(-41)" {
		t.Errorf("second checkin of handle %d: %s, want ERROR(-41)", h, got)
	}
	if got := call(t, &protocol.Heartbeat{Seq: 2}); got != "HEARTBEAT_ACK" {
		t.Errorf("heartbeat after the checkin: %s", got)
	}
	s.waitInUse("big", 0)

	// A control-channel HELLO to lmgrd is refused: only lmgrd's own
	// children speak on the control channel, over a socketpair.
	lc := dialRaw(t, s.port)
	lc.Write(frames(t, &protocol.Hello{Version: protocol.Version, Role: protocol.RoleVendorControl, Identity: protocol.Identity{User: "root"}, Daemon: "demo"},
		&protocol.Ready{Port: 1, PID: 1}))
	if got := types(readUntilClosed(t, lc)); got != "ERROR(-85)" {
		t.Errorf("vendor control HELLO to lmgrd: %q, want ERROR(-85)", got)
	}
	if r := s.run(nil, "lmstat", "-c", s.lic); r.status != 0 || !strings.Contains(r.stdout, "demo: UP") {
		t.Errorf("lmstat after a forged vendor daemon: exit %d\n%s", r.status, r.stdout)
	}
	st.progress(t, "out-of-order requests")
}

// TestForgedAdmin: under lmgrd -2 -p an admin request over TCP from a
// user who is not a license administrator is refused whatever identity
// it claims (root, lmgrd itself), because only the kernel's word on who
// owns the connection counts. Run as root, the requests come from a
// process of uid nobody; otherwise from this test's own user, which is
// lmgrd's but, under -2 -p, no administrator. Requests from another host
// and from a non-admin user through lmutil are covered by the server
// package's TestRemoteAdminRefused and TestAdminOnlyRefusesNonAdminUser;
// log paths with "..", symbolic links and devices by
// TestLogSwitchBadPaths here and TestLogSwitchRefused there.
func TestForgedAdmin(t *testing.T) {
	t.Parallel() // its own server: the attacks of several tests overlap
	s := startHostileServer(t, hostileFeatures, "-2", "-p")
	st := startSteady(t, s, "steady")
	var exe string
	if os.Geteuid() == 0 {
		exe = worldCopy(t)
	}
	call := func(t *testing.T, port int, id protocol.Identity, req protocol.Message) string {
		h := &protocol.Hello{Version: protocol.Version, Role: protocol.RoleAdmin, Identity: id, JobID: rand.Uint64() | 1}
		if os.Geteuid() == 0 {
			return callAs(t, exe, nobody, port, h, req)
		}
		c := dialRaw(t, port)
		c.SetDeadline(time.Now().Add(deadline))
		pc := protocol.NewConn(c)
		if _, err := protocol.ClientHandshake(pc, h); err != nil {
			t.Fatal(err)
		}
		_, err := pc.Call(req)
		var pe *protocol.PeerError
		if errors.As(err, &pe) {
			return fmt.Sprintf("%d,%d", pe.Msg.Code, pe.Msg.Minor)
		}
		if err != nil {
			return err.Error()
		}
		return "OK"
	}
	for _, id := range []protocol.Identity{
		{User: "root", Host: "localhost", Program: "lmdown"},
		{User: "root", Host: s.host, PID: 1, Program: "lmgrd"},
	} {
		for _, req := range []protocol.Message{&protocol.Shutdown{Force: true}, &protocol.Reread{}} {
			t.Run(id.Program+"/"+req.Type().String(), func(t *testing.T) {
				if got := call(t, s.port, id, req); !strings.HasPrefix(got, "-63,") {
					t.Errorf("%s claiming %s over TCP: %s, want -63", req.Type(), id.User, got)
				}
			})
		}
	}
	if got := call(t, s.vendorPort(), protocol.Identity{User: "root"}, &protocol.Remove{Feature: "steady", User: "steady", Host: s.host, Display: "steady"}); !strings.HasPrefix(got, "-63,") {
		t.Errorf("lmremove claiming root over TCP: %s, want -63", got)
	}
	select {
	case <-s.done:
		t.Fatal("lmgrd exited")
	default:
	}
	st.progress(t, "forged admin requests")
}

// TestStatusDisclosure: what lmgrd and the vendor daemon answer to status
// requests holds no signature, key or path beyond the license file path
// that lmstat prints.
func TestStatusDisclosure(t *testing.T) {
	t.Parallel() // its own server: the attacks of several tests overlap
	s := startHostileServer(t, hostileFeatures)
	s.hold("alice", ":1", "f1")
	s.waitInUse("f1", 1)
	lic, err := os.ReadFile(s.lic)
	if err != nil {
		t.Fatal(err)
	}
	secrets := regexp.MustCompile(`SIGN=("[^"]+"|\S+)`).FindAllString(string(lic), -1)
	if len(secrets) == 0 {
		t.Fatalf("no SIGN= in the license:\n%s", lic)
	}
	for i, sig := range secrets {
		secrets[i] = strings.Trim(strings.TrimPrefix(sig, "SIGN="), `"`)
		if len(secrets[i]) > 24 {
			secrets[i] = secrets[i][:24] // any part of it would do; a prefix survives line folding
		}
	}
	secrets = append(secrets, s.log, filepath.Join(s.dir, "demo.key"), filepath.Join(s.dir, "demo.pub"), "demo.key", "demo.pub")
	var wire bytes.Buffer
	for port, req := range map[int]protocol.Message{s.port: &protocol.ServerStatusRequest{}, s.vendorPort(): &protocol.FeatureStatusRequest{}} {
		c := dialRaw(t, port)
		c.SetDeadline(time.Now().Add(deadline))
		c.Write(frames(t, &protocol.Hello{Version: protocol.Version, Role: protocol.RoleAdmin, Identity: protocol.Identity{User: "curious"}}, req))
		r := protocol.NewReader(io.TeeReader(c, &wire))
		for {
			m, err := r.ReadMessage()
			if err != nil {
				t.Fatalf("%s: %v", req.Type(), err)
			}
			if _, ok := m.(*protocol.End); ok {
				break
			}
		}
		c.Close()
	}
	for _, secret := range secrets {
		if bytes.Contains(wire.Bytes(), []byte(secret)) {
			t.Errorf("a status reply holds %q", secret)
		}
	}
	out := s.run(nil, "lmstat", "-a", "-c", s.lic).stdout
	if n, m := bytes.Count(wire.Bytes(), []byte(s.dir)), strings.Count(out, s.dir); n > m {
		t.Errorf("status replies name the server's directory %d times, lmstat -a prints it %d times", n, m)
	}
}
