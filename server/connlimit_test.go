package server

import (
	"io"
	"net"
	"testing"

	"golm/lmutil/protocol"

	"golm/lmutil/protocol/lmerr"
)

// addrConn is a net.Conn that only has a remote address.
type addrConn struct {
	net.Conn
	addr net.Addr
}

func (c addrConn) RemoteAddr() net.Addr { return c.addr }

// unixPeer returns the server's end of a connection over a Unix socket
// of the test's own, as the admin socket's accept loop sees it.
func unixPeer(t *testing.T) *net.UnixConn {
	t.Helper()
	return unixPair(t).(*net.UnixConn)
}

func TestConnLimit(t *testing.T) {
	local := addrConn{addr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 5000}}
	remote := addrConn{addr: &net.TCPAddr{IP: net.IPv4(10, 1, 2, 3), Port: 5000}}
	unix := unixPeer(t)
	client := &protocol.Hello{Role: protocol.RoleClient, Identity: protocol.Identity{User: "joe", Host: "pc1"}}
	admin := &protocol.Hello{Role: protocol.RoleAdmin, Identity: protocol.Identity{User: "root", Host: "pc1"}}
	const max = 4
	tests := []struct {
		name     string
		open     int64 // connections on the limit's (and spare) slots before the one asked about
		reserved int64 // connections on reserved slots before it
		nc       net.Conn
		socket   bool // accepted on the admin socket
		notAdmin bool // its peer credentials are not an administrator's
		want     slot
		hello    *protocol.Hello
		code     lmerr.Code // of admit, 0 for admitted
	}{
		{"under the limit", 2, 0, remote, false, false, slotOpen, client, 0},
		{"the last client slot", max - 1, 0, local, false, false, slotOpen, client, 0},
		{"client past the limit", max, 0, local, false, false, slotOpen, client, -106},
		{"local admin over TCP past the limit", max, 0, local, false, false, slotOpen, admin, 0},
		{"remote admin past the limit", max, 0, remote, false, false, slotOpen, admin, -106},
		{"the last spare slot", max + SpareConnections - 1, 0, local, false, false, slotOpen, admin, 0},
		{"past the spare slots", max + SpareConnections, 0, local, false, false, slotNone, nil, 0},
		{"TCP past the spares with every reserved slot free", max + SpareConnections, 0, remote, false, false, slotNone, nil, 0},
		{"admin socket under the limit", 2, 0, unix, true, false, slotOpen, client, 0},
		{"admin socket under the limit, not an administrator", 2, 0, unix, true, true, slotOpen, admin, 0},
		{"admin socket at the limit", max, 0, unix, true, false, slotReserved, admin, 0},
		{"admin socket with the spares taken", max + SpareConnections, 0, unix, true, false, slotReserved, admin, 0},
		{"client on a reserved slot", max, 0, unix, true, false, slotReserved, client, -106},
		{"the last reserved slot", max + SpareConnections, AdminConnections - 1, unix, true, false, slotReserved, admin, 0},
		{"past the reserved slots", max + SpareConnections, AdminConnections, unix, true, false, slotNone, nil, 0},
		{"admin socket at the limit, not an administrator", max, 0, unix, true, true, slotNone, nil, 0},
		{"a TCP peer on the admin socket's accept path", max, 0, local, true, false, slotNone, nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newConnLimit(max, NewDebugLog(io.Discard, "demo", nil))
			var trust Trust
			if tt.notAdmin {
				// A peer of uid 1234, neither root nor the daemon's
				// account nor in its admin group.
				l.cred = func(*net.UnixConn) (uint32, uint32, int32, error) { return 1234, 1234, 1, nil }
				trust = Trust{
					lookupGroup: func(string) (string, bool) { return "4242", true },
					userGroups:  func(uint32) []string { return nil },
				}
			}
			l.n.Store(tt.open)
			l.reserved.Store(tt.reserved)
			got := l.accept(tt.nc, tt.socket, trust)
			if got != tt.want {
				t.Fatalf("accept = %d, want %d", got, tt.want)
			}
			if got == slotNone {
				if l.n.Load() != tt.open || l.reserved.Load() != tt.reserved {
					t.Errorf("refused connection left %d+%d counted, want %d+%d", l.n.Load(), l.reserved.Load(), tt.open, tt.reserved)
				}
				return
			}
			var code lmerr.Code
			if e := l.admit(tt.hello, tt.nc, got); e != nil {
				code = e.Code
			}
			if code != tt.code {
				t.Errorf("admit = %d, want %d", code, tt.code)
			}
			l.release(got)
			if n, r := l.n.Load(), l.reserved.Load(); n != tt.open || r != tt.reserved {
				t.Errorf("after release %d+%d counted, want %d+%d", n, r, tt.open, tt.reserved)
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

// TestProvenAdmin: a reserved slot goes to the peer credentials of root,
// the daemon's own account and the admin group's members, nobody else.
func TestProvenAdmin(t *testing.T) {
	unix := unixPeer(t)
	tcp := addrConn{addr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 5000}}
	const self, adminGID, other = 500, "700", 600
	trust := Trust{
		lookupGroup: func(string) (string, bool) { return adminGID, true },
		userGroups: func(uid uint32) []string {
			if uid == 601 {
				return []string{adminGID}
			}
			return []string{"100"}
		},
	}
	tests := []struct {
		name     string
		nc       net.Conn
		uid, gid uint32
		credErr  bool
		want     bool
	}{
		{"root", unix, 0, 0, false, true},
		{"the daemon's account", unix, self, 100, false, true},
		{"a member of the admin group", unix, 601, 100, false, true},
		{"primary group the admin group", unix, other, 700, false, true},
		{"another user", unix, other, 100, false, false},
		{"credentials unreadable", unix, 0, 0, true, false},
		{"a TCP connection", tcp, 0, 0, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newConnLimit(4, NewDebugLog(io.Discard, "demo", nil))
			l.self = self
			l.cred = func(*net.UnixConn) (uint32, uint32, int32, error) {
				if tt.credErr {
					return 0, 0, 0, net.ErrClosed
				}
				return tt.uid, tt.gid, 1, nil
			}
			if got := l.provenAdmin(tt.nc, trust); got != tt.want {
				t.Errorf("provenAdmin(uid %d gid %d) = %v, want %v", tt.uid, tt.gid, got, tt.want)
			}
		})
	}
}
