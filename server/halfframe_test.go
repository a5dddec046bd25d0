package server

import (
	"context"
	"encoding/binary"
	"io"
	"net"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golm/lmutil/protocol"
)

// stallListener hands out connections that count, once each, the moment
// the server reads from them again after it has consumed the bytes
// their peer sent (want): by then it has done everything those bytes
// make it do, allocations included.
type stallListener struct {
	net.Listener
	want    int // set before Accept is first called
	waiting atomic.Int64
}

func (l *stallListener) Accept() (net.Conn, error) {
	nc, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &stallConn{Conn: nc, l: l}, nil
}

type stallConn struct {
	net.Conn
	l    *stallListener
	got  int
	once sync.Once
}

func (c *stallConn) Read(p []byte) (int, error) {
	if c.got >= c.l.want {
		c.once.Do(func() { c.l.waiting.Add(1) })
	}
	n, err := c.Conn.Read(p)
	c.got += n
	return n, err
}

// halfFrames opens n connections to addr, each sending a header that
// announces a frame of protocol.MaxFrame bytes and then extra of them,
// and returns the live heap it cost once the server, behind ln, has
// read them all.
func halfFrames(t *testing.T, ln *stallListener, addr string, n, extra int) (perConn int64) {
	t.Helper()
	msg := binary.BigEndian.AppendUint32(nil, protocol.MaxFrame)
	msg = append(msg, make([]byte, extra)...)
	if ln.want != len(msg) {
		t.Fatalf("the listener waits for %d bytes a connection, the test sends %d", ln.want, len(msg))
	}
	heap := func() int64 {
		var ms runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&ms)
		return int64(ms.HeapAlloc)
	}
	before := heap()
	conns := make([]net.Conn, 0, n)
	t.Cleanup(func() {
		for _, c := range conns {
			c.Close()
		}
	})
	for range n {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
		if _, err := c.Write(msg); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(30 * time.Second)
	for ln.waiting.Load() < int64(n) {
		if time.Now().After(deadline) {
			t.Fatalf("the server read %d of %d half frames", ln.waiting.Load(), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
	return (heap() - before) / int64(n)
}

// TestHalfFrameMemory: connections that announce a 64 KiB HELLO and send
// a few bytes of it cost the vendor daemon and lmgrd a few KiB each,
// not 64 (the buffer grows with what arrives), until the handshake
// timeout drops them.
func TestHalfFrameMemory(t *testing.T) {
	const n = 300
	// The connection's Conn, its 512-byte read buffer, the first 4 KiB of
	// the frame buffer and the runtime's share of the socket (both ends:
	// the test's client connections are in the same heap), with room.
	const perMax = 16 << 10
	tests := []struct {
		name  string
		extra int
	}{
		{"header only", 0},
		{"header and a few bytes", 10},
	}
	for _, tt := range tests {
		t.Run("vendor daemon/"+tt.name, func(t *testing.T) {
			ln := &stallListener{Listener: listenLoopback(t), want: 4 + tt.extra}
			h := newHarness(t, twoSeats, "", func(c *VendorConfig) {
				c.Listener = ln
				c.HandshakeTimeout = time.Minute
			})
			per := halfFrames(t, ln, h.v.Addr().String(), n, tt.extra)
			t.Logf("%d bytes of heap per connection", per)
			if per > perMax {
				t.Errorf("%d bytes of heap per connection, want at most %d", per, perMax)
			}
		})
		t.Run("lmgrd/"+tt.name, func(t *testing.T) {
			ln := &stallListener{Listener: listenLoopback(t), want: 4 + tt.extra}
			l, _ := testLmgrd(t)
			l.cfg.HandshakeTimeout = time.Minute
			ctx, cancel := context.WithCancel(context.Background())
			var wg sync.WaitGroup
			t.Cleanup(func() { cancel(); ln.Close(); wg.Wait() })
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					nc, err := ln.Accept()
					if err != nil {
						return
					}
					wg.Add(1)
					go func() {
						defer wg.Done()
						c := protocol.NewConn(nc)
						context.AfterFunc(ctx, func() { c.Close() })
						l.serveConn(ctx, c, slotOpen)
						c.Close()
					}()
				}
			}()
			per := halfFrames(t, ln, ln.Addr().String(), n, tt.extra)
			t.Logf("%d bytes of heap per connection", per)
			if per > perMax {
				t.Errorf("%d bytes of heap per connection, want at most %d", per, perMax)
			}
		})
	}
}

// TestHandshakeTimeout: a connection that says nothing, or only part of
// its HELLO, is closed at the handshake deadline; one that said HELLO
// stays.
func TestHandshakeTimeout(t *testing.T) {
	t.Parallel() // a vendor daemon of its own, in this process
	const timeout = 100 * time.Millisecond
	h := newHarness(t, twoSeats, "", func(c *VendorConfig) { c.HandshakeTimeout = timeout })
	tests := []struct {
		name     string
		send     []byte
		wantOpen bool
	}{
		{"silent", nil, false},
		{"a header announcing 64 KiB", binary.BigEndian.AppendUint32(nil, protocol.MaxFrame), false},
		{"half a HELLO", frames(t, clientHello("joe"))[:10], false},
		{"a whole HELLO", frames(t, clientHello("joe")), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			nc, _ := rawDial(t, h.v.Addr().String())
			if _, err := nc.Write(tt.send); err != nil {
				t.Fatal(err)
			}
			// Read until the server closes, or well past the deadline.
			nc.SetReadDeadline(time.Now().Add(20 * timeout))
			_, err := io.Copy(io.Discard, nc)
			closed := err == nil
			if closed == tt.wantOpen {
				t.Errorf("closed by the server: %v (read: %v), want %v", closed, err, !tt.wantOpen)
			}
		})
	}
}

// listenLoopback listens on 127.0.0.1:0 for the test.
func listenLoopback(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln
}
