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
)

// DefaultMaxConnections bounds the client connections one daemon (lmgrd or
// a vendor daemon) keeps open at once, like FlexNet's MAX_CONNECTIONS. It
// is lowered to what the process's open-file limit allows.
const DefaultMaxConnections = 10000

// MaxConnectionsEnv names the environment variable that sets another
// connection limit for lmgrd and, since they inherit lmgrd's environment,
// its vendor daemons.
const MaxConnectionsEnv = "GOLM_MAX_CONNECTIONS"

// AdminConnections are the connections kept, beyond the limit, for admin
// tools (lmstat, lmdown, lmremove, ...) on this host, so that an
// administrator can still see and clear a server that clients flood.
const AdminConnections = 8

// HandshakeTimeout bounds the wait for a new connection's HELLO: a client
// that connects and says nothing, or dribbles its HELLO a byte at a time
// (slow loris), is dropped after it.
const HandshakeTimeout = 10 * time.Second

// fdHeadroom is the open files a daemon keeps for everything but client
// connections: listeners, logs, the control channel, its children.
const fdHeadroom = 64

// connLimit counts a daemon's open connections and refuses those past
// its limit: past max, only local admin tools get in (with -106 for the
// others, after their HELLO); past max+AdminConnections a connection is
// closed as soon as it is accepted.
type connLimit struct {
	max int64
	n   atomic.Int64
	log *DebugLog
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
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err == nil && rl.Cur < uint64(n+AdminConnections+fdHeadroom) {
		n = max(1, int(rl.Cur)-AdminConnections-fdHeadroom)
	}
	return n
}

func newConnLimit(n int, log *DebugLog) *connLimit {
	return &connLimit{max: int64(maxConnections(n)), log: log}
}

// Max is the limit in force.
func (l *connLimit) Max() int { return int(l.max) }

// accept counts a new connection; false means it must be closed at once.
func (l *connLimit) accept() bool {
	if l.n.Add(1) > l.max+AdminConnections {
		l.n.Add(-1)
		l.log.Limited("connections", "Out of network connections: %d open, closing a new one", l.max+AdminConnections)
		return false
	}
	return true
}

// release uncounts a closed connection.
func (l *connLimit) release() { l.n.Add(-1) }

// admit decides, once a connection has said HELLO, whether it may stay:
// past the limit only admin tools on this host may. A refusal is -106,
// "License server out of network connections".
func (l *connLimit) admit(hello *protocol.Hello, nc net.Conn) *lmerr.Error {
	n := l.n.Load()
	if n <= l.max || (hello.Role == protocol.RoleAdmin && IsLocalPeer(nc.RemoteAddr())) {
		return nil
	}
	l.log.Limited("connections", "Out of network connections: %d open, limit %d; refusing %s@%s (%s)",
		n, l.max, hello.Identity.User, hello.Identity.Host, peerString(nc))
	return lmerr.New(-106, 1)
}
