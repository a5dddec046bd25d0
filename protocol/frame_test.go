package protocol

import (
	"errors"
	"net"
	"os"
	"testing"
	"time"
)

func pipe(t *testing.T) (client, server *Conn) {
	t.Helper()
	a, b := net.Pipe()
	t.Cleanup(func() { a.Close(); b.Close() })
	return NewConn(a), NewConn(b)
}

func TestHandshake(t *testing.T) {
	tests := []struct {
		name       string
		version    int
		wantErr    bool
		wantServer bool // the server's handshake succeeds
	}{
		{"same version", Version, false, true},
		{"newer client", Version + 1, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, s := pipe(t)
			done := make(chan error, 1)
			go func() {
				h, err := ServerHandshake(s)
				if err == nil {
					if h.Identity.User != "joe" {
						err = errors.New("server saw user " + h.Identity.User)
					} else {
						err = s.Send(&Hello{Version: Version, Role: RoleServer, Daemon: "lmgrd", RunID: 5})
					}
				}
				s.Close()
				done <- err
			}()
			h, err := ClientHandshake(c, &Hello{Version: tt.version, Role: RoleAdmin, Identity: Identity{User: "joe"}})
			if gotErr := err != nil; gotErr != tt.wantErr {
				t.Fatalf("ClientHandshake error = %v, want error: %v", err, tt.wantErr)
			}
			if err == nil && (h.Daemon != "lmgrd" || h.RunID != 5) {
				t.Errorf("server hello = %+v, want daemon lmgrd run 5", h)
			}
			var pe *PeerError
			if tt.wantErr && (!errors.As(err, &pe) || pe.Msg.Code != -83) {
				t.Errorf("ClientHandshake error = %v, want a -83 peer error", err)
			}
			if serr := <-done; (serr == nil) != tt.wantServer {
				t.Errorf("ServerHandshake error = %v, want success: %v", serr, tt.wantServer)
			}
		})
	}
}

func TestRecvDeadline(t *testing.T) {
	c, _ := pipe(t)
	c.ReadTimeout = 20 * time.Millisecond
	_, err := c.Recv()
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("Recv from a silent peer: got %v, want a deadline error", err)
	}
}

func TestCallPeerError(t *testing.T) {
	c, s := pipe(t)
	go func() {
		if _, err := s.Recv(); err == nil {
			_ = s.Send(&Error{Code: -4, Minor: 342})
		}
	}()
	_, err := c.Call(&Checkout{Feature: "f1", Version: "1.0", Count: 1})
	var pe *PeerError
	if !errors.As(err, &pe) || pe.Msg.Code != -4 {
		t.Fatalf("Call: got %v, want a -4 peer error", err)
	}
}

// BenchmarkRoundTrip measures one checkout request and its reply over a
// loopback TCP connection, the hot path of a vendor daemon.
func BenchmarkRoundTrip(b *testing.B) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	go func() {
		nc, err := ln.Accept()
		if err != nil {
			return
		}
		s := NewConn(nc)
		s.ReadTimeout = -1
		g := &Granted{Handle: 401, Feature: "f1", Version: "1.0", Expiry: "permanent"}
		for {
			if _, err := s.Recv(); err != nil {
				nc.Close()
				return
			}
			if err := s.Send(g); err != nil {
				return
			}
		}
	}()
	nc, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	c := NewConn(nc)
	defer c.Close()
	req := &Checkout{Feature: "f1", Version: "1.0", Count: 1}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Call(req); err != nil {
			b.Fatal(err)
		}
	}
}

func TestNextDeadline(t *testing.T) {
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	const d = 8 * time.Second
	tests := []struct {
		name       string
		cur        time.Time
		set        bool
		d          time.Duration
		want       time.Time
		wantChange bool
	}{
		{"first", time.Time{}, false, d, now.Add(9 * time.Second), true},
		{"still ahead by d", now.Add(8500 * time.Millisecond), true, d, now.Add(8500 * time.Millisecond), false},
		{"exactly d ahead", now.Add(d), true, d, now.Add(d), false},
		{"less than d ahead", now.Add(7 * time.Second), true, d, now.Add(9 * time.Second), true},
		{"too far ahead (timeout shortened)", now.Add(time.Minute), true, d, now.Add(9 * time.Second), true},
		{"was none, now wanted", time.Time{}, true, d, now.Add(9 * time.Second), true},
		{"none wanted, first", time.Time{}, false, -1, time.Time{}, true},
		{"none wanted, none set", time.Time{}, true, -1, time.Time{}, false},
		{"none wanted, one set", now.Add(d), true, -1, time.Time{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, change := nextDeadline(tt.cur, tt.set, now, tt.d)
			if !got.Equal(tt.want) || change != tt.wantChange {
				t.Errorf("nextDeadline = %v, %v; want %v, %v", got, change, tt.want, tt.wantChange)
			}
		})
	}
}

// TestSetReadDeadline checks that a deadline set through Conn ends a
// waiting Recv at once, and that the next Recv sets its own deadline
// again instead of keeping the one it set before (which it would believe
// still current).
func TestSetReadDeadline(t *testing.T) {
	c, s := pipe(t)
	c.ReadTimeout = time.Minute
	go s.Send(&Heartbeat{Seq: 1})
	if _, err := c.Recv(); err != nil {
		t.Fatalf("first Recv: %v", err)
	}
	done := make(chan error, 1)
	go func() { _, err := c.Recv(); done <- err }()
	// The Recv above waits with a deadline a minute away, and a deadline
	// in the past ends it at once. (Until that Recv has begun, it sets its
	// own deadline over this one: set it again until the Recv ends.)
	for waited := false; !waited; {
		if err := c.SetReadDeadline(time.Unix(1, 0)); err != nil {
			t.Fatal(err)
		}
		select {
		case err := <-done:
			if !errors.Is(err, os.ErrDeadlineExceeded) {
				t.Fatalf("Recv after SetReadDeadline(past): err %v, want a deadline error", err)
			}
			waited = true
		case <-time.After(10 * time.Millisecond):
		}
	}
	go s.Send(&Heartbeat{Seq: 2})
	m, err := c.Recv()
	if err != nil {
		t.Fatalf("Recv after the interrupted one: %v", err)
	}
	if hb, ok := m.(*Heartbeat); !ok || hb.Seq != 2 {
		t.Fatalf("Recv = %#v, want heartbeat 2", m)
	}
}
