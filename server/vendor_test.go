package server

import (
	"context"
	"crypto/ed25519"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golm/lmutil/licfile"
	"golm/lmutil/protocol"
)

// signedLicense writes text as license.lic in dir, signed with a new demo
// key whose demo.pub sits beside it.
func signedLicense(t testing.TB, dir, text string) string {
	t.Helper()
	keyPath, _, err := licfile.GenerateKey(dir, "demo", nil)
	if err != nil {
		t.Fatal(err)
	}
	key, err := licfile.LoadPrivateKey(keyPath)
	if err != nil {
		t.Fatal(err)
	}
	f, err := licfile.Parse(strings.NewReader(text), "license.lic")
	if err != nil {
		t.Fatal(err)
	}
	data, _, err := licfile.SignFile([]byte(text), f, map[string]ed25519.PrivateKey{"demo": key.Key})
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "license.lic")
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// logBuffer is a concurrency-safe log sink.
type logBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func startVendor(t *testing.T, license string) (*Vendor, *logBuffer) {
	t.Helper()
	dir := t.TempDir()
	p := signedLicense(t, dir, license)
	out := &logBuffer{}
	v, err := NewVendor(VendorConfig{
		Name:         "demo",
		LicenseFiles: []string{p},
		Addr:         "127.0.0.1:0",
		ServerHost:   "srv",
		LmgrdPort:    27000,
		Software:     "0.1.0",
		Log:          unbufferedLog(out, "demo", nil),
	})
	if err != nil {
		t.Fatalf("NewVendor: %v\n%s", err, out.String())
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { v.Serve(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return v, out
}

func connect(t *testing.T, addr net.Addr, user string) *protocol.Conn {
	t.Helper()
	nc, err := net.Dial("tcp", addr.String())
	if err != nil {
		t.Fatal(err)
	}
	c := protocol.NewConn(nc)
	t.Cleanup(func() { c.Close() })
	if _, err := protocol.ClientHandshake(c, &protocol.Hello{Version: protocol.Version, Role: protocol.RoleClient,
		Identity: protocol.Identity{User: user, Host: "h", Display: "d"}}); err != nil {
		t.Fatal(err)
	}
	return c
}

const twoSeats = "SERVER this_host ANY 27000\nVENDOR demo\nFEATURE f1 demo 1.0 permanent 2\nFEATURE tampered demo 1.0 permanent 1\n"

func TestVendorConcurrentClients(t *testing.T) {
	v, _ := startVendor(t, twoSeats)
	const clients = 12
	var wg sync.WaitGroup
	for i := 0; i < clients; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			nc, err := net.Dial("tcp", v.Addr().String())
			if err != nil {
				t.Error(err)
				return
			}
			c := protocol.NewConn(nc)
			defer c.Close()
			if _, err := protocol.ClientHandshake(c, &protocol.Hello{Version: protocol.Version, Role: protocol.RoleClient}); err != nil {
				t.Error(err)
				return
			}
			for j := 0; j < 20; j++ {
				m, err := c.Call(&protocol.Checkout{Feature: "f1", Version: "1.0", Count: 1})
				var pe *protocol.PeerError
				switch {
				case errors.As(err, &pe):
					if pe.Msg.Code != -4 {
						t.Errorf("denial code %d, want -4", pe.Msg.Code)
					}
				case err != nil:
					t.Error(err)
					return
				default:
					if _, err := c.Call(&protocol.Checkin{Handle: m.(*protocol.Granted).Handle}); err != nil {
						t.Error(err)
					}
				}
				for _, ps := range v.State().Status() {
					if ps.InUse > ps.Pool.Count {
						t.Errorf("%d seats of %s out, count %d", ps.InUse, ps.Pool.Feature, ps.Pool.Count)
					}
				}
			}
		}()
	}
	wg.Wait()
}

func TestVendorProtocolViolation(t *testing.T) {
	v, _ := startVendor(t, twoSeats)
	good := connect(t, v.Addr(), "good")
	if _, err := good.Call(&protocol.Checkout{Feature: "f1", Version: "1.0", Count: 1}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		frame []byte
	}{
		{"oversized length", binary.BigEndian.AppendUint32(nil, protocol.MaxFrame+1)},
		{"unknown type", []byte{0, 0, 0, 1, 200}},
		{"truncated checkout", []byte{0, 0, 0, 3, byte(protocol.TypeCheckout), 9, 'f'}},
		{"lmgrd-only message", []byte{0, 0, 0, 1, byte(protocol.TypeServerStatusRequest)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bad := connect(t, v.Addr(), "bad")
			if _, err := bad.NetConn().Write(tt.frame); err != nil {
				t.Fatal(err)
			}
			bad.NetConn().SetReadDeadline(time.Now().Add(5 * time.Second))
			var one [1]byte
			if _, err := bad.NetConn().Read(one[:]); err == nil {
				t.Fatalf("the server answered a violation instead of closing")
			}
			// Everyone else is still served.
			if m, err := good.Call(&protocol.Heartbeat{Seq: 7}); err != nil || m.(*protocol.HeartbeatAck).Seq != 7 {
				t.Fatalf("good client after a violation: %v %v", m, err)
			}
		})
	}
}

func TestVendorBadSignature(t *testing.T) {
	dir := t.TempDir()
	p := signedLicense(t, dir, twoSeats)
	data, _ := os.ReadFile(p)
	// Raise the count of the "tampered" line after signing.
	data = []byte(strings.Replace(string(data), "tampered demo 1.0 permanent 1", "tampered demo 1.0 permanent 9", 1))
	os.WriteFile(p, data, 0o644)
	out := &logBuffer{}
	v, err := NewVendor(VendorConfig{Name: "demo", LicenseFiles: []string{p}, Addr: "127.0.0.1:0", Log: unbufferedLog(out, "demo", nil)})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Shutdown(context.Background())
	if !strings.Contains(out.String(), "(demo) BAD CODE for tampered") {
		t.Errorf("log lacks BAD CODE:\n%s", out.String())
	}
	for _, ps := range v.State().Status() {
		if ps.Pool.Feature == "tampered" {
			t.Errorf("the tampered line is served")
		}
	}
}

func TestVendorNoFeatures(t *testing.T) {
	dir := t.TempDir()
	p := signedLicense(t, dir, "SERVER this_host ANY 27000\nVENDOR demo\nFEATURE f1 other 1.0 permanent 2\n")
	out := &logBuffer{}
	_, err := NewVendor(VendorConfig{Name: "demo", LicenseFiles: []string{p}, Addr: "127.0.0.1:0", Log: unbufferedLog(out, "demo", nil)})
	if !errors.Is(err, ErrNoFeatures) || !strings.Contains(out.String(), "(demo) No features to serve!") {
		t.Fatalf("NewVendor = %v, log %q; want ErrNoFeatures logged", err, out.String())
	}
}

func TestVendorStatusStream(t *testing.T) {
	v, _ := startVendor(t, twoSeats)
	c := connect(t, v.Addr(), "joe")
	g, err := c.Call(&protocol.Checkout{Feature: "f1", Version: "1.0", Count: 1})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Send(&protocol.FeatureStatusRequest{}); err != nil {
		t.Fatal(err)
	}
	var got []string
	for {
		m, err := c.Recv()
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, m.Type().String())
		if h, ok := m.(*protocol.FeatureHeader); ok && h.Name == "f1" && (h.Issued != 2 || h.InUse != 1) {
			t.Errorf("f1 header %+v, want 2 issued, 1 in use", h)
		}
		if u, ok := m.(*protocol.UserEntry); ok && (u.User != "joe" || u.Handle != g.(*protocol.Granted).Handle || u.ServerHost != "srv" || u.Port != 27000) {
			t.Errorf("user entry %+v", u)
		}
		if _, ok := m.(*protocol.End); ok {
			break
		}
	}
	want := "FEATURE_HEADER POOL_STATUS USER_ENTRY FEATURE_HEADER POOL_STATUS END"
	if strings.Join(got, " ") != want {
		t.Errorf("status stream = %s, want %s", strings.Join(got, " "), want)
	}
}

func TestVendorDropsSilentClient(t *testing.T) {
	t.Parallel() // a vendor daemon of its own, in this process
	dir := t.TempDir()
	p := signedLicense(t, dir, twoSeats)
	v, err := NewVendor(VendorConfig{Name: "demo", LicenseFiles: []string{p}, Addr: "127.0.0.1:0", ClientTimeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { v.Serve(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	c := connect(t, v.Addr(), "quiet")
	if _, err := c.Call(&protocol.Checkout{Feature: "f1", Version: "1.0", Count: 1}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for v.State().Status()[0].InUse != 0 {
		if time.Now().After(deadline) {
			t.Fatal("a client that stopped heartbeating still holds its seat")
		}
		time.Sleep(10 * time.Millisecond) // polling interval
	}
}

// TestVendorKeepsStoppedClient: a client that says nothing (stopped,
// suspended) keeps its seat while its connection lives, and the vendor
// daemon watches that connection with TCP keepalive instead of a read
// deadline (the kernel shows the keepalive timer on the server's socket).
func TestVendorKeepsStoppedClient(t *testing.T) {
	dir := t.TempDir()
	p := signedLicense(t, dir, twoSeats)
	v, err := NewVendor(VendorConfig{Name: "demo", LicenseFiles: []string{p}, Addr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { v.Serve(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	c := connect(t, v.Addr(), "stopped")
	if _, err := c.Call(&protocol.Checkout{Feature: "f1", Version: "1.0", Count: 1}); err != nil {
		t.Fatal(err)
	}
	server := v.Addr().(*net.TCPAddr).Port
	client := c.NetConn().LocalAddr().(*net.TCPAddr).Port
	if _, err := tcpTimer(server, client); err != nil {
		t.Skipf("no /proc/net/tcp: %v", err)
	}
	// Once the reply is acknowledged (timer 1, retransmit, until then),
	// the keepalive timer (2) runs.
	deadline := time.Now().Add(10 * time.Second)
	for {
		timer, err := tcpTimer(server, client)
		if err == nil && timer == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("timer of the server's socket = %d (%v), want the keepalive timer (2)", timer, err)
		}
		time.Sleep(10 * time.Millisecond) // polling interval
	}
	if got := v.State().Status()[0].InUse; got != 1 {
		t.Errorf("in use = %d, want 1", got)
	}
}

// tcpTimer is the "tr" field of /proc/net/tcp for the IPv4 socket with
// local port local and remote port remote: which kernel timer runs.
func tcpTimer(local, remote int) (int, error) {
	data, err := os.ReadFile("/proc/net/tcp")
	if err != nil {
		return 0, err
	}
	want := fmt.Sprintf(":%04X", local)
	peer := fmt.Sprintf(":%04X", remote)
	for _, line := range strings.Split(string(data), "\n")[1:] {
		f := strings.Fields(line)
		if len(f) < 6 || !strings.HasSuffix(f[1], want) || !strings.HasSuffix(f[2], peer) {
			continue
		}
		tr, _, _ := strings.Cut(f[5], ":")
		n, err := strconv.ParseInt(tr, 16, 0)
		return int(n), err
	}
	return 0, fmt.Errorf("no socket %d -> %d", local, remote)
}
