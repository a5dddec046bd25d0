package client

import (
	"context"
	"errors"
	"net"
	"testing"

	"golm/lmutil/licfile"
	"golm/lmutil/protocol"
)

// TestDialAdminLocalSocket checks that an admin command reaches a server
// on this host through its local admin socket when it has one: nothing
// listens on the TCP port, so only the socket can answer.
func TestDialAdminLocalSocket(t *testing.T) {
	f := newFakeServer(t, map[string]int{"f1": 1})
	port := closedPort(t)
	ln, err := net.Listen("unix", protocol.AdminSocket("lmgrd", port))
	if err != nil {
		t.Skipf("no abstract Unix sockets here: %v", err)
	}
	defer ln.Close()
	go f.accept(ln, f.serveLmgrd)
	ctx := context.Background()
	for _, host := range []string{"localhost", "this_host", "pc1"} {
		t.Run(host, func(t *testing.T) {
			a, err := DialAdmin(ctx, []licfile.ServerAddr{{Host: host, Port: port}}, testOpts()...)
			if err != nil {
				t.Fatalf("DialAdmin(%s) = %v, want the local socket to answer", host, err)
			}
			defer a.Close()
			if n, err := a.Reread(ctx, ""); err != nil || n != 1 {
				t.Fatalf("Reread = %d, %v, want 1, nil", n, err)
			}
		})
	}
	t.Run("other host", func(t *testing.T) {
		// Another host is reached over TCP only: the socket is not tried.
		if a, err := DialAdmin(ctx, []licfile.ServerAddr{{Host: "pc2.invalid", Port: port}}, testOpts()...); err == nil {
			a.Close()
			t.Fatal("DialAdmin to another host answered through the local socket")
		}
	})
}

// TestDialAdminFallsBackToTCP checks that without a local admin socket a
// server on this host is reached over loopback TCP.
func TestDialAdminFallsBackToTCP(t *testing.T) {
	f := newFakeServer(t, map[string]int{"f1": 1})
	port := f.lmgrd.Addr().(*net.TCPAddr).Port
	a, err := DialAdmin(context.Background(), []licfile.ServerAddr{{Host: "pc1", Port: port}}, testOpts()...)
	if err != nil {
		t.Fatalf("DialAdmin = %v", err)
	}
	defer a.Close()
	if got := a.Addr(); got.Host != "pc1" || got.Port != port {
		t.Errorf("Addr = %+v, want pc1:%d", got, port)
	}
	if n, err := a.Shutdown(context.Background(), "", false); err != nil || n != 2 {
		t.Fatalf("Shutdown = %d, %v, want 2, nil", n, err)
	}
}

func TestTrustedAdminServer(t *testing.T) {
	const me, server = 1000, 500
	owner := func(uid uint32, err error) func(int) (uint32, error) {
		return func(port int) (uint32, error) {
			if port != 27000 {
				t.Errorf("listener owner of port %d asked, want 27000", port)
			}
			return uid, err
		}
	}
	tests := []struct {
		name  string
		uid   uint32
		owner func(int) (uint32, error)
		want  bool
	}{
		{"root", 0, owner(server, nil), true},
		{"the caller's own user", me, owner(server, nil), true},
		{"the owner of the server's port", server, owner(server, nil), true},
		{"another user", 1001, owner(server, nil), false},
		{"another user, port owned by root", 1001, owner(0, nil), false},
		{"port owner unknown", server, owner(0, errors.New("no listener")), false},
		{"squatter who also owns the port is the server", 1001, owner(1001, nil), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := trustedAdminServer(tt.uid, me, 27000, tt.owner); got != tt.want {
				t.Errorf("trustedAdminServer(uid %d) = %v, want %v", tt.uid, got, tt.want)
			}
		})
	}
}
