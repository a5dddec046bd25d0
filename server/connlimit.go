package server

import (
	"net"
	"os"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"

	"golm/lmutil/protocol"
	"golm/lmutil/protocol/lmerr"
	"golm/lmutil/protocol/peercred"
)

// DefaultMaxConnections bounds the client connections one daemon (lmgrd or
// a vendor daemon) keeps open at once, like FlexNet's MAX_CONNECTIONS. It
// is lowered to what the process's open-file limit allows.
const DefaultMaxConnections = 10000

// MaxConnectionsEnv names the environment variable that sets another
// connection limit for lmgrd and, since they inherit lmgrd's environment,
// its vendor daemons.
const MaxConnectionsEnv = "GOLM_MAX_CONNECTIONS"

// AdminConnections are the connections kept, beyond the limit, for
// license administrators' tools (lmstat, lmdown, lmremove, ...) on the
// daemon's admin socket (protocol.AdminSocket, lmgrd -2 -p), so that an
// administrator can still see and clear a server that clients flood. A
// connection gets one only when the kernel's peer credentials show an
// administrator (root, the daemon's own account, or the admin group of
// Trust); whatever a TCP peer sends, it never holds one.
const AdminConnections = 8

// SpareConnections are the TCP connections taken past the limit, until
// their HELLO, so that a client can be told -106 rather than see its
// connection closed, and an admin tool over loopback (no admin socket)
// still gets in while the flood leaves a spare one free. A flood of
// connections that say nothing can hold them all: then new TCP
// connections are closed as soon as they are accepted, and only the
// admin socket's AdminConnections are certain.
const SpareConnections = 8

// HandshakeTimeout is the default bound on the wait for a new
// connection's HELLO: a client that connects and says nothing, or
// dribbles its HELLO a byte at a time (slow loris), is dropped after it.
// VendorConfig.HandshakeTimeout and Config.HandshakeTimeout, or
// HandshakeTimeoutEnv, set another.
const HandshakeTimeout = 10 * time.Second

// HandshakeTimeoutEnv names the environment variable (a Go duration,
// "2s") that sets another handshake timeout for lmgrd and, since they
// inherit lmgrd's environment, its vendor daemons.
const HandshakeTimeoutEnv = "GOLM_HANDSHAKE_TIMEOUT"

// handshakeTimeout resolves a configured handshake timeout: d when
// positive, else the environment's HandshakeTimeoutEnv, else
// HandshakeTimeout.
func handshakeTimeout(d time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	if v, err := time.ParseDuration(os.Getenv(HandshakeTimeoutEnv)); err == nil && v > 0 {
		return v
	}
	return HandshakeTimeout
}

// fdHeadroom is the open files a daemon keeps for everything but client
// connections: listeners, logs, the control channel, its children.
const fdHeadroom = 64

// slot is what a connection holds of its daemon's connection limit.
type slot uint8

const (
	slotNone     slot = iota // none: the connection is closed at once
	slotOpen                 // one of the limit's, or a spare one past it
	slotReserved             // one of AdminConnections, on the admin socket
)

// connLimit counts a daemon's open connections and refuses those past
// its limit. Up to max connections are served; past it, TCP connections
// get one of SpareConnections until their HELLO, which is answered with
// -106 unless it is an admin tool's from loopback, and connections on
// the admin socket from administrators get one of AdminConnections;
// everything else is closed as soon as it is accepted.
type connLimit struct {
	max      int64
	n        atomic.Int64 // connections holding slotOpen
	reserved atomic.Int64 // connections holding slotReserved
	self     int          // the daemon's effective uid
	log      *DebugLog
	// cred reads a Unix socket peer's credentials; nil means the
	// kernel's (tests running as root pretend to be someone else).
	cred func(*net.UnixConn) (uid, gid uint32, pid int32, err error)
}

// maxConnections resolves a configured limit: n when positive, else the
// environment's MaxConnectionsEnv, else DefaultMaxConnections; never more
// than the open-file limit leaves room for.
func maxConnections(n int) int {
	if n <= 0 {
		n = DefaultMaxConnections
		if v, err := strconv.Atoi(os.Getenv(MaxConnectionsEnv)); err == nil && v > 0 {
			n = v
		}
	}
	const beyond = SpareConnections + AdminConnections + fdHeadroom
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err == nil && rl.Cur < uint64(n+beyond) {
		n = max(1, int(rl.Cur)-beyond)
	}
	return n
}

func newConnLimit(n int, log *DebugLog) *connLimit {
	return &connLimit{max: int64(maxConnections(n)), self: os.Geteuid(), log: log}
}

// Max is the limit in force.
func (l *connLimit) Max() int { return int(l.max) }

// accept counts a new connection, nc, accepted on the admin socket when
// adminSocket is true, and says which slot it holds; slotNone means it
// must be closed at once. On the admin socket a connection takes one of
// the limit's slots while there is one (an lmstat on a quiet server
// costs no reserved slot) and a reserved one only when trust's rules
// find its peer credentials an administrator's: the lookup happens only
// then, on the admin socket's own accept loop.
func (l *connLimit) accept(nc net.Conn, adminSocket bool, trust Trust) slot {
	if !adminSocket {
		if l.n.Add(1) > l.max+SpareConnections {
			l.n.Add(-1)
			l.log.Limited("connections", "Out of network connections: %d open, closing a new one from %s", l.max+SpareConnections, peerString(nc))
			return slotNone
		}
		return slotOpen
	}
	if l.n.Add(1) <= l.max {
		return slotOpen
	}
	l.n.Add(-1)
	if !l.provenAdmin(nc, trust) {
		l.log.Limited("connections", "Out of network connections: %d open, closing a new one from %s, not an administrator", l.max, peerString(nc))
		return slotNone
	}
	if l.reserved.Add(1) > AdminConnections {
		l.reserved.Add(-1)
		l.log.Limited("connections", "Out of network connections: all %d kept for administrators in use, closing a new one from %s", AdminConnections, peerString(nc))
		return slotNone
	}
	return slotReserved
}

// provenAdmin reports whether the kernel's credentials for the peer of
// nc, a connection on the admin socket, are an administrator's: root,
// the daemon's own account, or a member of trust's admin group.
func (l *connLimit) provenAdmin(nc net.Conn, trust Trust) bool {
	uc, ok := nc.(*net.UnixConn)
	if !ok {
		return false
	}
	cred := l.cred
	if cred == nil {
		cred = func(uc *net.UnixConn) (uint32, uint32, int32, error) {
			c, err := peercred.Of(uc)
			return c.UID, c.GID, c.PID, err
		}
	}
	uid, gid, _, err := cred(uc)
	if err != nil {
		return false
	}
	return uid == 0 || int(uid) == l.self || trust.isAdmin(uid, int64(gid))
}

// release uncounts a closed connection that held s.
func (l *connLimit) release(s slot) {
	switch s {
	case slotOpen:
		l.n.Add(-1)
	case slotReserved:
		l.reserved.Add(-1)
	}
}

// admit decides, once a connection holding s has said HELLO, whether it
// may stay: past the limit only admin tools on this host may, and on a
// reserved slot only admin tools. A refusal is -106, "License server out
// of network connections".
func (l *connLimit) admit(hello *protocol.Hello, nc net.Conn, s slot) *lmerr.Error {
	admin := hello.Role == protocol.RoleAdmin
	var n int64
	switch {
	case s == slotReserved && admin:
		return nil
	case s == slotReserved:
		n = l.max
	default:
		n = l.n.Load()
		if n <= l.max || (admin && IsLocalPeer(nc.RemoteAddr())) {
			return nil
		}
	}
	l.log.Limited("connections", "Out of network connections: %d open, limit %d; refusing %s@%s (%s)",
		n, l.max, hello.Identity.User, hello.Identity.Host, peerString(nc))
	return lmerr.New(lmerr.NoConnections, lmerr.MinorNoConnections)
}
