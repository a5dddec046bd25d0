package client

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"golm/lmutil/licfile"
	"golm/lmutil/protocol"
)

// stubServer accepts connections on loopback and hands each to serve.
func stubServer(t *testing.T, serve func(net.Conn)) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer nc.Close()
				nc.SetDeadline(time.Now().Add(10 * time.Second))
				serve(nc)
			}()
		}
	}()
	return ln.Addr().(*net.TCPAddr).Port
}

// readOneFrame reads exactly one frame off nc, leaving whatever the
// client sent behind it unread in the socket.
func readOneFrame(nc net.Conn) error {
	var hdr [4]byte
	if _, err := io.ReadFull(nc, hdr[:]); err != nil {
		return err
	}
	_, err := io.CopyN(io.Discard, nc, int64(binary.BigEndian.Uint32(hdr[:])))
	return err
}

// refuse reads the client's Hello only and refuses it with -106, closing
// the connection with the client's pipelined requests unread (so the
// kernel resets it).
func refuse(nc net.Conn) {
	if readOneFrame(nc) != nil {
		return
	}
	_ = protocol.NewWriter(nc).WriteMessage(&protocol.Error{Code: -106, Minor: 1})
}

// redirect is an lmgrd that sends every Locate to port.
func redirect(port int) func(net.Conn) {
	return func(nc net.Conn) {
		c := protocol.NewConn(nc)
		if _, err := protocol.ServerHandshake(c); err != nil {
			return
		}
		if c.Send(&protocol.Hello{Version: protocol.Version, Role: protocol.RoleServer, Daemon: "lmgrd"}) != nil {
			return
		}
		for {
			m, err := c.Recv()
			if err != nil {
				return
			}
			if _, ok := m.(*protocol.Locate); !ok {
				return
			}
			if c.Send(&protocol.LocateReply{Vendor: "demo", Port: port}) != nil {
				return
			}
		}
	}
}

// TestRefusedPipelinedHandshake: a server out of connections refuses the
// Hello that the client sent together with its first requests, without
// reading those; the client still learns of the refusal as the FlexLM
// error -106, from lmgrd and from the vendor daemon alike.
func TestRefusedPipelinedHandshake(t *testing.T) {
	machine := &licfile.Machine{Hostname: "pc1", User: "joe", Ethers: []string{"0a0b0c0d0e0f", "0a0b0c0d0e10"}}
	tests := []struct {
		name  string
		lmgrd func(t *testing.T) int
	}{
		{"lmgrd", func(t *testing.T) int { return stubServer(t, refuse) }},
		{"vendor daemon", func(t *testing.T) int { return stubServer(t, redirect(stubServer(t, refuse))) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			port := tt.lmgrd(t)
			j := openJob(t, strconv.Itoa(port)+"@127.0.0.1", WithMachine(machine), WithLinger(time.Minute))
			_, err := j.Checkout(context.Background(), "f1", "1.0", 1)
			if !codeIs(err, -106) {
				t.Fatalf("Checkout: %v, want -106", err)
			}
		})
	}
}

// TestLocateRefused: lmgrd's Error frame in answer to the Locate that came
// with the Hello is the checkout's error.
func TestLocateRefused(t *testing.T) {
	f := newFakeServer(t, map[string]int{"f1": 1})
	j := openJob(t, f.spec(), WithVendor("other"))
	_, err := j.Checkout(context.Background(), "f1", "1.0", 1)
	if !codeIs(err, -97) {
		t.Fatalf("Checkout: %v, want -97", err)
	}
}

// TestCloseRacesCheckin closes a job while its license is being checked
// in: whichever wins, the checkin returns nil or -41 (already checked in
// by Close), and the seat is free again.
func TestCloseRacesCheckin(t *testing.T) {
	f := newFakeServer(t, map[string]int{"f1": 1})
	for i := range 20 {
		j, err := Open(context.Background(), f.spec(), testOpts()...)
		if err != nil {
			t.Fatal(err)
		}
		lic, err := j.Checkout(context.Background(), "f1", "1.0", 1)
		if err != nil {
			t.Fatalf("round %d: Checkout: %v", i, err)
		}
		var wg sync.WaitGroup
		var checkinErr error
		wg.Add(1)
		go func() {
			defer wg.Done()
			checkinErr = lic.Checkin(context.Background())
		}()
		j.Close()
		wg.Wait()
		if checkinErr != nil && !codeIs(checkinErr, -41) {
			t.Fatalf("round %d: Checkin racing Close: %v, want nil or -41", i, checkinErr)
		}
		waitFor(t, "the seat to be free", func() bool { return f.InUse("f1") == 0 })
	}
}

// TestIdleLinkWatcher: a link left idle watches its connection, notices
// at once when the vendor daemon drops it, and hands the connection back
// to the next request when there is one.
func TestIdleLinkWatcher(t *testing.T) {
	f := newFakeServer(t, map[string]int{"f1": 2})
	j := openJob(t, f.spec(), WithHeartbeat(time.Hour))
	watching := func(vc *vendorConn) func() bool {
		return func() bool {
			vc.mu.Lock()
			l := vc.link
			vc.mu.Unlock()
			l.mu.Lock()
			defer l.mu.Unlock()
			return l.watching
		}
	}
	lic, err := j.Checkout(context.Background(), "f1", "1.0", 1)
	if err != nil {
		t.Fatal(err)
	}
	vc := lic.vc
	waitFor(t, "the idle link's watcher", watching(vc))
	// A request takes the connection over from the watcher.
	lic2, err := j.Checkout(context.Background(), "f1", "1.0", 1)
	if err != nil {
		t.Fatalf("Checkout with the watcher running: %v", err)
	}
	if err := lic2.Checkin(context.Background()); err != nil {
		t.Fatalf("Checkin: %v", err)
	}
	if got := f.InUse("f1"); got != 1 {
		t.Fatalf("seats in use %d, want 1", got)
	}
	waitFor(t, "the watcher again", watching(vc))
	vc.mu.Lock()
	old := vc.link
	vc.mu.Unlock()
	f.restartVendor()
	// With hour-long heartbeats only the watcher can notice the drop:
	// the job reconnects and checks the license out again.
	waitFor(t, "the dropped connection to be noticed", old.isDead)
	waitFor(t, "the license to be checked out again", func() bool { return f.InUse("f1") == 1 })
	if err := lic.Err(); err != nil {
		t.Errorf("license lost after the reconnect: %v", err)
	}
}

// TestCallCancelled: cancelling a request's context while it waits for
// the reply ends the request with the context's error and drops the
// connection; a context cancelled after its request was answered changes
// nothing for the next request.
func TestCallCancelled(t *testing.T) {
	t.Run("during the call", func(t *testing.T) {
		got := make(chan struct{})
		silent := stubServer(t, func(nc net.Conn) {
			c := protocol.NewConn(nc)
			if _, err := protocol.ServerHandshake(c); err != nil {
				return
			}
			if c.Send(&protocol.Hello{Version: protocol.Version, Role: protocol.RoleServer, Daemon: "demo"}) != nil {
				return
			}
			// The Hello is followed by the setup requests (HostInfo at
			// least), then the checkout: none is answered, and the
			// connection stays open until the client hangs up, so that
			// only the cancellation can end the call.
			for {
				m, err := c.Recv()
				if err != nil {
					return
				}
				if _, ok := m.(*protocol.Checkout); ok {
					close(got)
					break
				}
			}
			for {
				if _, err := c.Recv(); err != nil {
					return
				}
			}
		})
		port := stubServer(t, redirect(silent))
		j := openJob(t, strconv.Itoa(port)+"@127.0.0.1", WithCallTimeout(time.Hour))
		ctx, cancel := context.WithCancel(context.Background())
		go func() {
			<-got
			cancel()
		}()
		_, err := j.Checkout(ctx, "f1", "1.0", 1)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Checkout: %v, want %v", err, context.Canceled)
		}
	})
	t.Run("after the call", func(t *testing.T) {
		f := newFakeServer(t, map[string]int{"f1": 2})
		j := openJob(t, f.spec())
		ctx, cancel := context.WithCancel(context.Background())
		lic, err := j.Checkout(ctx, "f1", "1.0", 1)
		if err != nil {
			t.Fatal(err)
		}
		cancel()
		if err := lic.Checkin(context.Background()); err != nil {
			t.Fatalf("Checkin after the checkout's context ended: %v", err)
		}
		if got := f.InUse("f1"); got != 0 {
			t.Errorf("seats in use %d, want 0", got)
		}
		if f.checkinCount() != 1 {
			t.Errorf("checkins %d, want 1 (on the same connection)", f.checkinCount())
		}
	})
}

func (f *fakeServer) checkinCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.checkins
}

// TestCallAll: requests sent together come back in order, each with its
// own reply or error, and a request behind a refused one is still
// answered.
func TestCallAll(t *testing.T) {
	f := newFakeServer(t, map[string]int{"f1": 2})
	j := openJob(t, f.spec(), WithHeartbeat(time.Hour))
	lic, err := j.Checkout(context.Background(), "f1", "1.0", 1)
	if err != nil {
		t.Fatal(err)
	}
	vc := lic.vc
	vc.mu.Lock()
	defer vc.mu.Unlock()
	replies, errs := vc.link.callAll(context.Background(), []protocol.Message{
		&protocol.Heartbeat{Seq: 41},
		&protocol.Checkin{Handle: 999999}, // no such handle: -41
		&protocol.Heartbeat{Seq: 42},
	}, time.Minute)
	for i, seq := range map[int]uint64{0: 41, 2: 42} {
		if a, ok := replies[i].(*protocol.HeartbeatAck); !ok || errs[i] != nil || a.Seq != seq {
			t.Errorf("reply %d = %#v, %v; want HEARTBEAT_ACK %d", i, replies[i], errs[i], seq)
		}
	}
	if codeOf(errs[1]) != -41 {
		t.Errorf("reply 1 = %#v, %v; want -41", replies[1], errs[1])
	}
}
