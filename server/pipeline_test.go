package server

import (
	"context"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"golm/lmutil/protocol"
	"golm/lmutil/server/servertest"

	"golm/lmutil/protocol/lmerr"
)

// frames encodes ms as consecutive frames (servertest.Frames).
func frames(t *testing.T, ms ...protocol.Message) []byte {
	t.Helper()
	return servertest.Frames(t, ms...)
}

func clientHello(user string) *protocol.Hello {
	return &protocol.Hello{Version: protocol.Version, Role: protocol.RoleClient, Identity: protocol.Identity{User: user, Host: "pc", Display: "d"}, JobID: 9}
}

// rawDial connects to addr and returns the connection with a deadline,
// so that a test never hangs on a server that does not answer.
func rawDial(t *testing.T, addr string) (net.Conn, *protocol.Conn) {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	nc.SetDeadline(time.Now().Add(10 * time.Second))
	c := protocol.NewConn(nc)
	c.ReadTimeout = 10 * time.Second
	return nc, c
}

// readTypes reads n frames, or fewer when the connection ends first.
func readMessages(t *testing.T, c *protocol.Conn, n int) ([]protocol.Message, error) {
	t.Helper()
	var got []protocol.Message
	for len(got) < n {
		m, err := c.Recv()
		if err != nil {
			return got, err
		}
		got = append(got, m)
	}
	return got, nil
}

func typesOf(ms []protocol.Message) []protocol.Type {
	out := make([]protocol.Type, len(ms))
	for i, m := range ms {
		out[i] = m.Type()
	}
	return out
}

func sameTypes(a, b []protocol.Type) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestVendorPipelinedHandshake sends the Hello and the first requests in
// one write, as the client package does, and one request at a time, as
// older clients do: the vendor daemon answers each in order either way.
func TestVendorPipelinedHandshake(t *testing.T) {
	t.Parallel() // a vendor daemon of its own, in this process
	ethers := &protocol.HostIDs{Ethers: []string{"0a0b0c0d0e0f", "not-an-ether"}}
	checkout := &protocol.Checkout{Feature: "f1", Version: "1.0", Count: 1}
	tests := []struct {
		name      string
		pipelined []protocol.Message // sent with the Hello
		then      []protocol.Message // sent one by one after the Hello is answered
		want      []protocol.Type
		closed    bool // the server closes after want
	}{
		{"hello, hostids and checkout", []protocol.Message{ethers, checkout}, nil,
			[]protocol.Type{protocol.TypeHello, protocol.TypeOK, protocol.TypeGranted}, false},
		{"hello and checkout", []protocol.Message{checkout}, nil,
			[]protocol.Type{protocol.TypeHello, protocol.TypeGranted}, false},
		{"hello and hostids", []protocol.Message{ethers}, []protocol.Message{checkout},
			[]protocol.Type{protocol.TypeHello, protocol.TypeOK, protocol.TypeGranted}, false},
		{"one at a time, as older clients", nil, []protocol.Message{ethers, checkout},
			[]protocol.Type{protocol.TypeHello, protocol.TypeOK, protocol.TypeGranted}, false},
		{"an unknown feature behind the hello", []protocol.Message{&protocol.Checkout{Feature: "nosuch", Count: 1}}, nil,
			[]protocol.Type{protocol.TypeHello, protocol.TypeError}, false},
		{"a violation behind the hello", []protocol.Message{&protocol.Locate{Vendor: "demo"}}, nil,
			[]protocol.Type{protocol.TypeHello}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, twoSeats, "")
			nc, c := rawDial(t, h.v.Addr().String())
			if _, err := nc.Write(frames(t, append([]protocol.Message{clientHello("joe")}, tt.pipelined...)...)); err != nil {
				t.Fatal(err)
			}
			got, err := readMessages(t, c, 1+len(tt.pipelined))
			if !tt.closed && err != nil {
				t.Fatalf("reading the answers: %v (got %v)", err, typesOf(got))
			}
			for _, m := range tt.then {
				if err := c.Send(m); err != nil {
					t.Fatal(err)
				}
				r, err := c.Recv()
				if err != nil {
					t.Fatalf("answer to %s: %v", m.Type(), err)
				}
				got = append(got, r)
			}
			if !sameTypes(typesOf(got), tt.want) {
				t.Fatalf("answers %v, want %v", typesOf(got), tt.want)
			}
			for _, m := range got {
				if ok, isOK := m.(*protocol.OK); isOK && ok.Count != 1 {
					t.Errorf("hostids answer counts %d, want 1 (the well-formed one)", ok.Count)
				}
			}
			if tt.closed {
				if _, err := c.Recv(); !errors.Is(err, io.EOF) && !isReset(err) {
					t.Errorf("after a violation: read %v, want the connection closed", err)
				}
			}
		})
	}
}

func isReset(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && !op.Timeout()
}

// TestVendorPipelinedRefused: a vendor daemon out of connections refuses
// a client whose requests came behind its Hello with -106, and the client
// reads the refusal even though the server never read those requests.
func TestVendorPipelinedRefused(t *testing.T) {
	t.Parallel() // a vendor daemon of its own, in this process
	h := newHarness(t, twoSeats, "", func(c *VendorConfig) { c.MaxConnections = 1 })
	_, first := rawDial(t, h.v.Addr().String())
	if _, err := protocol.ClientHandshake(first, clientHello("first")); err != nil {
		t.Fatal(err)
	}
	nc, c := rawDial(t, h.v.Addr().String())
	if _, err := nc.Write(frames(t, clientHello("second"), &protocol.HostIDs{Ethers: []string{"0a0b0c0d0e0f"}}, &protocol.Checkout{Feature: "f1", Count: 1})); err != nil {
		t.Fatal(err)
	}
	m, err := c.Recv()
	if err != nil {
		t.Fatalf("reading the refusal: %v", err)
	}
	e, ok := m.(*protocol.Error)
	if !ok || e.Code != -106 {
		t.Fatalf("got %v, want an Error frame -106", m)
	}
}

// testLmgrd is an lmgrd serving connections from a loopback listener
// itself, its vendor daemon demo taken to be up on port 27001.
func testLmgrd(t *testing.T) (*Lmgrd, string) {
	t.Helper()
	p := signedLicense(t, t.TempDir(), twoSeats)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	l, err := New(context.Background(), Config{
		LicenseFiles: []string{p},
		Log:          NewDebugLog(io.Discard, "lmgrd", nil),
		Hostname:     "srv",
		Software:     "0.1.0",
		Listener:     ln,
		Restart:      RestartPolicy{First: time.Hour, Max: time.Hour},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, vl := range l.lic.vendors {
		ch := newChild(l, vl)
		ch.setUp(&protocol.Ready{Port: 27001, Version: "v0.1.0"}, nil)
		l.vendors = append(l.vendors, ch)
		l.byName[vl.Name] = ch
	}
	go func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer nc.Close()
				l.serveConn(context.Background(), protocol.NewConn(nc), slotOpen)
			}()
		}
	}()
	return l, ln.Addr().String()
}

// TestLmgrdPipelinedLocate: lmgrd answers a Locate sent in the same write
// as the Hello, and one sent after its Hello, the same way.
func TestLmgrdPipelinedLocate(t *testing.T) {
	tests := []struct {
		name      string
		pipelined bool
		locate    *protocol.Locate
		wantPort  int        // a LocateReply with this port
		wantCode  lmerr.Code // else an Error frame with this code
		more      bool       // a status request follows, answered too
	}{
		{"pipelined vendor", true, &protocol.Locate{Vendor: "demo"}, 27001, 0, false},
		{"pipelined feature", true, &protocol.Locate{Feature: "f1"}, 27001, 0, true},
		{"pipelined unknown vendor", true, &protocol.Locate{Vendor: "nosuch"}, 0, -97, false},
		{"one at a time, as older clients", false, &protocol.Locate{Vendor: "demo"}, 27001, 0, true},
	}
	_, addr := testLmgrd(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			nc, c := rawDial(t, addr)
			var m protocol.Message
			if tt.pipelined {
				if _, err := nc.Write(frames(t, clientHello("joe"), tt.locate)); err != nil {
					t.Fatal(err)
				}
				ms, err := readMessages(t, c, 2)
				if err != nil {
					t.Fatalf("reading the answers: %v (got %v)", err, typesOf(ms))
				}
				if _, ok := ms[0].(*protocol.Hello); !ok {
					t.Fatalf("first answer %s, want HELLO", ms[0].Type())
				}
				m = ms[1]
			} else {
				if _, err := protocol.ClientHandshake(c, clientHello("joe")); err != nil {
					t.Fatal(err)
				}
				if err := c.Send(tt.locate); err != nil {
					t.Fatal(err)
				}
				var err error
				if m, err = c.Recv(); err != nil {
					t.Fatal(err)
				}
			}
			switch m := m.(type) {
			case *protocol.LocateReply:
				if m.Port != tt.wantPort || tt.wantCode != 0 {
					t.Errorf("LocateReply port %d, want port %d / code %d", m.Port, tt.wantPort, tt.wantCode)
				}
			case *protocol.Error:
				if m.Code != tt.wantCode {
					t.Errorf("Error %d, want %d", m.Code, tt.wantCode)
				}
			default:
				t.Fatalf("answer %s, want LOCATE_REPLY or ERROR", m.Type())
			}
			if tt.more {
				if err := c.Send(&protocol.Heartbeat{Seq: 3}); err != nil {
					t.Fatal(err)
				}
				m, err := c.Recv()
				if ack, ok := m.(*protocol.HeartbeatAck); err != nil || !ok || ack.Seq != 3 {
					t.Errorf("heartbeat after the Locate: %v %v, want HEARTBEAT_ACK 3", m, err)
				}
			}
		})
	}
}

// TestLmgrdPipelinedRefused: lmgrd out of connections refuses a client
// whose Locate came behind its Hello with -106 in place of its Hello.
func TestLmgrdPipelinedRefused(t *testing.T) {
	l, addr := testLmgrd(t)
	l.limit.n.Store(l.limit.max + 1) // as if full of other clients
	nc, c := rawDial(t, addr)
	if _, err := nc.Write(frames(t, clientHello("joe"), &protocol.Locate{Vendor: "demo"})); err != nil {
		t.Fatal(err)
	}
	m, err := c.Recv()
	if err != nil {
		t.Fatalf("reading the refusal: %v", err)
	}
	if e, ok := m.(*protocol.Error); !ok || e.Code != -106 {
		t.Fatalf("got %v, want an Error frame -106", m)
	}
}
