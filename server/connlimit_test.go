package server

import (
	"io"
	"net"
	"testing"

	"golm/lmutil/protocol"
)

// addrConn is a net.Conn that only has a remote address.
type addrConn struct {
	net.Conn
	addr net.Addr
}

func (c addrConn) RemoteAddr() net.Addr { return c.addr }

func TestConnLimit(t *testing.T) {
	local := addrConn{addr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 5000}}
	remote := addrConn{addr: &net.TCPAddr{IP: net.IPv4(10, 1, 2, 3), Port: 5000}}
	client := &protocol.Hello{Role: protocol.RoleClient, Identity: protocol.Identity{User: "joe", Host: "pc1"}}
	admin := &protocol.Hello{Role: protocol.RoleAdmin, Identity: protocol.Identity{User: "root", Host: "pc1"}}
	tests := []struct {
		name     string
		open     int // connections accepted before the one asked about
		hello    *protocol.Hello
		nc       net.Conn
		accepted bool
		code     int // of admit, 0 for admitted
	}{
		{"under the limit", 2, client, remote, true, 0},
		{"the last client slot", 3, client, local, true, 0},
		{"client past the limit", 4, client, local, true, -106},
		{"local admin past the limit", 4, admin, local, true, 0},
		{"remote admin past the limit", 4, admin, remote, true, -106},
		{"last admin slot", 4 + AdminConnections - 1, admin, local, true, 0},
		{"past the admin slots", 4 + AdminConnections, admin, local, false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newConnLimit(4, NewDebugLog(io.Discard, "demo", nil))
			for i := 0; i < tt.open; i++ {
				if !l.accept() {
					t.Fatalf("connection %d of %d refused", i+1, tt.open)
				}
			}
			if got := l.accept(); got != tt.accepted {
				t.Fatalf("accept = %v, want %v", got, tt.accepted)
			}
			if !tt.accepted {
				return
			}
			got := 0
			if e := l.admit(tt.hello, tt.nc); e != nil {
				got = e.Code
			}
			if got != tt.code {
				t.Errorf("admit = %d, want %d", got, tt.code)
			}
			l.release()
			if n := l.n.Load(); n != int64(tt.open) {
				t.Errorf("after release %d counted, want %d", n, tt.open)
			}
		})
	}
}

func TestMaxConnectionsEnv(t *testing.T) {
	tests := []struct {
		name, env string
		cfg, want int
	}{
		{"configured", "50", 7, 7},
		{"environment", "50", 0, 50},
		{"bad environment", "many", 0, min(DefaultMaxConnections, maxConnections(DefaultMaxConnections))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(MaxConnectionsEnv, tt.env)
			if got := maxConnections(tt.cfg); got != tt.want {
				t.Errorf("maxConnections(%d) with %s=%q = %d, want %d", tt.cfg, MaxConnectionsEnv, tt.env, got, tt.want)
			}
		})
	}
}
