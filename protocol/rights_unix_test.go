//go:build unix

package protocol

import (
	"io"
	"net"
	"os"
	"syscall"
	"testing"
)

// unixPair is a connected pair of Unix-domain stream sockets.
func unixPair(t *testing.T) (a, b *net.UnixConn) {
	t.Helper()
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	conn := func(fd int) *net.UnixConn {
		f := os.NewFile(uintptr(fd), "pair")
		defer f.Close()
		c, err := net.FileConn(f)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c.(*net.UnixConn)
	}
	return conn(fds[0]), conn(fds[1])
}

// tcpPair is a connected pair of TCP connections on loopback.
func tcpPair(t *testing.T) (client, server net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	client, err = net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	server, err = ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close(); server.Close() })
	return client, server
}

// TestSendConn passes the server side of two TCP connections over a Unix
// socket, between other frames, and checks that each descriptor arrives
// with its frame and still talks to its client after the sender closed
// its own.
func TestSendConn(t *testing.T) {
	a, b := unixPair(t)
	sender, receiver := NewConn(a), NewRightsConn(b)
	var clients []net.Conn
	for i := 0; i < 2; i++ {
		cl, sv := tcpPair(t)
		clients = append(clients, cl)
		if err := sender.Send(&Heartbeat{Seq: uint64(i)}); err != nil {
			t.Fatal(err)
		}
		if err := sender.SendConn(&HandedOff{Vendor: "demo"}, sv); err != nil {
			t.Fatalf("SendConn: %v", err)
		}
		sv.Close() // the receiver's descriptor keeps the connection
	}
	for i, cl := range clients {
		if m, err := receiver.Recv(); err != nil {
			t.Fatal(err)
		} else if _, ok := m.(*Heartbeat); !ok {
			t.Fatalf("frame %d: %v, want a heartbeat", i, m.Type())
		}
		m, err := receiver.Recv()
		if err != nil {
			t.Fatal(err)
		}
		if h, ok := m.(*HandedOff); !ok || h.Vendor != "demo" {
			t.Fatalf("frame %d: %#v, want HandedOff demo", i, m)
		}
		fd, ok := receiver.TakeFD()
		if !ok {
			t.Fatalf("connection %d: no descriptor came", i)
		}
		f := os.NewFile(uintptr(fd), "passed")
		nc, err := net.FileConn(f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		want := []byte{'h', 'i', byte('0' + i)}
		if _, err := nc.Write(want); err != nil {
			t.Fatal(err)
		}
		nc.Close()
		got, err := io.ReadAll(cl)
		if err != nil || string(got) != string(want) {
			t.Errorf("client %d read %q, %v; want %q", i, got, err, want)
		}
	}
	if fd, ok := receiver.TakeFD(); ok {
		t.Errorf("an extra descriptor %d came", fd)
	}
}

// TestSendConnNeedsUnix: a connection is passed over a Unix socket only.
func TestSendConnNeedsUnix(t *testing.T) {
	cl, sv := tcpPair(t)
	if err := NewConn(cl).SendConn(&HandedOff{}, sv); err == nil {
		t.Error("SendConn over TCP succeeded")
	}
	if _, ok := NewConn(cl).TakeFD(); ok {
		t.Error("TakeFD on a plain Conn returned a descriptor")
	}
}

// TestRightsConnEnd: when the peer closes or resets the connection, Recv
// on a NewRightsConn ends with an error, as on any Conn: no panic, no
// endless empty reads.
func TestRightsConnEnd(t *testing.T) {
	for _, reset := range []bool{false, true} {
		a, b := unixPair(t)
		receiver := NewRightsConn(b)
		NewConn(a).Send(&Heartbeat{Seq: 1})
		if reset {
			// Unread data at close makes the kernel reset the peer.
			b.Write([]byte("unread by a"))
		}
		a.Close()
		if _, err := receiver.Recv(); err != nil {
			t.Fatalf("reset %v: first frame: %v", reset, err)
		}
		if _, err := receiver.Recv(); err == nil {
			t.Errorf("reset %v: Recv after the peer closed: no error", reset)
		}
	}
}
