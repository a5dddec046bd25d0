// Package peercred tells who is at the other end of a local connection,
// as the kernel knows it, never as the peer claims: the uid, gid and pid
// of a Unix socket's peer (SO_PEERCRED), the uid that owns the client
// socket of a loopback TCP connection (the kernel's socket diagnostics
// over netlink, else /proc/net/tcp and /proc/net/tcp6), and the uid that
// owns a listening TCP port (from /proc). lmgrd and the
// vendor daemons decide on admin requests with it, and the admin tools
// check with it who answers on a server's local admin socket. Only Linux
// is supported; elsewhere every lookup returns ErrUnsupported.
package peercred

import (
	"bufio"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strconv"
	"strings"
)

// Cred is what the kernel recorded about the process at the other end
// of a Unix socket when it connected or listened.
type Cred struct {
	UID, GID uint32
	PID      int32
}

// ErrUnsupported is returned on systems where the kernel cannot be asked.
var ErrUnsupported = errors.New("peer credentials are only read on Linux")

// ErrNotFound is returned when no socket matches: the peer went away, or
// is not on this host's loopback.
var ErrNotFound = errors.New("no such local socket")

// TCP states of /proc/net/tcp that the lookups use.
const (
	stateEstablished = 0x01
	stateListen      = 0x0A
)

// socket is one line of /proc/net/tcp or /proc/net/tcp6.
type socket struct {
	local, remote netip.AddrPort
	state         uint8
	uid           uint32
	inode         uint64
}

// parseTable reads /proc/net/tcp or /proc/net/tcp6 (the header line and
// then one socket a line). A line it cannot read is an error: the caller
// then trusts nothing rather than a partial answer.
func parseTable(r io.Reader) ([]socket, error) {
	var out []socket
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), 1<<16)
	first := true
	for sc.Scan() {
		if first {
			first = false
			continue
		}
		f := strings.Fields(sc.Text())
		if len(f) == 0 {
			continue
		}
		if len(f) < 10 {
			return nil, fmt.Errorf("short line %q", sc.Text())
		}
		local, err := parseAddr(f[1])
		if err != nil {
			return nil, err
		}
		remote, err := parseAddr(f[2])
		if err != nil {
			return nil, err
		}
		st, err := strconv.ParseUint(f[3], 16, 8)
		if err != nil {
			return nil, fmt.Errorf("bad state %q", f[3])
		}
		uid, err := strconv.ParseUint(f[7], 10, 32)
		if err != nil {
			return nil, fmt.Errorf("bad uid %q", f[7])
		}
		inode, err := strconv.ParseUint(f[9], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("bad inode %q", f[9])
		}
		out = append(out, socket{local: local, remote: remote, state: uint8(st), uid: uint32(uid), inode: inode})
	}
	return out, sc.Err()
}

// parseAddr reads "0100007F:1F90": the address as the kernel's 32-bit
// words in host byte order, printed in hex, then the port in hex.
func parseAddr(s string) (netip.AddrPort, error) {
	a, p, ok := strings.Cut(s, ":")
	if !ok {
		return netip.AddrPort{}, fmt.Errorf("bad address %q", s)
	}
	port, err := strconv.ParseUint(p, 16, 16)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("bad port in %q", s)
	}
	b, err := hex.DecodeString(a)
	if err != nil || (len(b) != 4 && len(b) != 16) {
		return netip.AddrPort{}, fmt.Errorf("bad address %q", s)
	}
	for i := 0; i < len(b); i += 4 {
		binary.NativeEndian.PutUint32(b[i:], binary.BigEndian.Uint32(b[i:]))
	}
	var ip netip.Addr
	if len(b) == 4 {
		ip = netip.AddrFrom4([4]byte(b))
	} else {
		ip = netip.AddrFrom16([16]byte(b))
	}
	return netip.AddrPortFrom(ip.Unmap(), uint16(port)), nil
}

// addrPort is a TCP address as the tables show it (IPv4-mapped IPv6
// addresses as IPv4).
func addrPort(a net.Addr) (netip.AddrPort, bool) {
	t, ok := a.(*net.TCPAddr)
	if !ok {
		return netip.AddrPort{}, false
	}
	ap := t.AddrPort()
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()), true
}

// connOwner finds, among socks, the client end of the TCP connection
// whose server end has addresses local and remote: the established
// socket with those addresses the other way round. Sockets without an
// inode (closing, TIME_WAIT) show uid 0 and are never taken.
func connOwner(socks []socket, local, remote netip.AddrPort) (uint32, error) {
	for _, s := range socks {
		if s.state == stateEstablished && s.inode != 0 && s.local == remote && s.remote == local {
			return s.uid, nil
		}
	}
	return 0, ErrNotFound
}

// listenerOwner is the uid that owns every listening socket on port; an
// error when there is none, or when sockets of several uids listen on it
// (the answer would be a guess).
func listenerOwner(socks []socket, port int) (uint32, error) {
	found := false
	var uid uint32
	for _, s := range socks {
		if s.state != stateListen || int(s.local.Port()) != port || s.inode == 0 {
			continue
		}
		if found && s.uid != uid {
			return 0, fmt.Errorf("port %d: listeners of uid %d and %d", port, uid, s.uid)
		}
		found, uid = true, s.uid
	}
	if !found {
		return 0, ErrNotFound
	}
	return uid, nil
}
