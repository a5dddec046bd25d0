package peercred

import (
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
	"os"
	"syscall"
	"time"
)

// Of returns the credentials of the process at the other end of c
// (SO_PEERCRED): for a connecting client, the process that connected;
// for a connection dialled to a server, the process that listened.
func Of(c *net.UnixConn) (Cred, error) {
	raw, err := c.SyscallConn()
	if err != nil {
		return Cred{}, err
	}
	var cred *syscall.Ucred
	var credErr error
	err = raw.Control(func(fd uintptr) {
		cred, credErr = syscall.GetsockoptUcred(int(fd), syscall.SOL_SOCKET, syscall.SO_PEERCRED)
	})
	if err == nil {
		err = credErr
	}
	if err != nil {
		return Cred{}, err
	}
	return Cred{UID: cred.Uid, GID: cred.Gid, PID: cred.Pid}, nil
}

// tables reads this network namespace's TCP sockets, IPv4 and IPv6: a
// loopback connection never leaves it.
func tables() ([]socket, error) {
	var all []socket
	for _, p := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		f, err := os.Open(p)
		if err != nil {
			if errors.Is(err, os.ErrNotExist) && p == "/proc/net/tcp6" {
				continue // no IPv6 in this kernel
			}
			return nil, err
		}
		socks, err := parseTable(f)
		f.Close()
		if err != nil {
			return nil, err
		}
		all = append(all, socks...)
	}
	return all, nil
}

// TCPOwner returns the uid owning the socket at the other end of a TCP
// connection on this host, given this end's local and remote addresses
// (net.Conn's LocalAddr and RemoteAddr): for a server, the uid of the
// client that connected over loopback. It is ErrNotFound when the client
// is on another host or has closed its end.
func TCPOwner(local, remote net.Addr) (uint32, error) {
	l, ok1 := addrPort(local)
	r, ok2 := addrPort(remote)
	if !ok1 || !ok2 {
		return 0, ErrNotFound
	}
	// The kernel's socket diagnostics find the one socket at once; the
	// tables in /proc list every socket of the host, which a vendor
	// daemon with many clients would read for each admin request.
	if uid, err := diagOwner(r, l); !errors.Is(err, errNoDiag) {
		return uid, err
	}
	socks, err := tables()
	if err != nil {
		return 0, err
	}
	return connOwner(socks, l, r)
}

// ListenerOwner returns the uid owning the TCP sockets that listen on
// port on this host.
func ListenerOwner(port int) (uint32, error) {
	// Listening sockets are few: a netlink dump of them is cheap where
	// /proc lists every connection of the host too.
	if socks, err := diagListeners(); err == nil {
		return listenerOwner(socks, port)
	}
	socks, err := tables()
	if err != nil {
		return 0, err
	}
	return listenerOwner(socks, port)
}

// errNoDiag is a kernel without socket diagnostics for TCP (or a sandbox
// that refuses them): the caller reads /proc instead.
var errNoDiag = errors.New("no sock_diag")

// Netlink socket diagnostics (linux/sock_diag.h, linux/inet_diag.h).
const (
	sockDiagByFamily = 20
	diagReqLen       = 56 // struct inet_diag_req_v2
	diagMsgLen       = 72 // struct inet_diag_msg
	diagNoCookie     = 0xFFFFFFFF
)

// diagOwner asks NETLINK_SOCK_DIAG for the established TCP socket whose
// own address is src and whose peer is dst, and returns its owner. The
// socket may be IPv4, or IPv6 with IPv4-mapped addresses: both are asked
// for.
func diagOwner(src, dst netip.AddrPort) (uint32, error) {
	families := []int{syscall.AF_INET6}
	if src.Addr().Is4() && dst.Addr().Is4() {
		families = []int{syscall.AF_INET, syscall.AF_INET6}
	}
	for _, family := range families {
		uid, err := diagLookup(family, src, dst)
		if !errors.Is(err, ErrNotFound) {
			return uid, err
		}
	}
	return 0, ErrNotFound
}

// diagSocket opens a NETLINK_SOCK_DIAG socket and sends it a request
// for TCP sockets of family in states, flags NLM_F_REQUEST plus extra;
// id, when not nil, fills struct inet_diag_sockid.
func diagSocket(family int, states uint32, extra uint16, id func([]byte)) (int, error) {
	fd, err := syscall.Socket(syscall.AF_NETLINK, syscall.SOCK_DGRAM|syscall.SOCK_CLOEXEC, syscall.NETLINK_INET_DIAG)
	if err != nil {
		return -1, errNoDiag
	}
	tv := syscall.NsecToTimeval(int64(time.Second))
	_ = syscall.SetsockoptTimeval(fd, syscall.SOL_SOCKET, syscall.SO_RCVTIMEO, &tv)
	req := make([]byte, syscall.NLMSG_HDRLEN+diagReqLen)
	ne := binary.NativeEndian
	ne.PutUint32(req[0:], uint32(len(req)))
	ne.PutUint16(req[4:], sockDiagByFamily)
	ne.PutUint16(req[6:], syscall.NLM_F_REQUEST|extra)
	ne.PutUint32(req[8:], 1) // sequence
	b := req[syscall.NLMSG_HDRLEN:]
	b[0] = byte(family)
	b[1] = syscall.IPPROTO_TCP
	ne.PutUint32(b[4:], states)
	if id != nil {
		id(b[8:])
	}
	ne.PutUint32(b[8+40:], diagNoCookie)
	ne.PutUint32(b[8+44:], diagNoCookie)
	if err := syscall.Sendto(fd, req, 0, &syscall.SockaddrNetlink{Family: syscall.AF_NETLINK}); err != nil {
		syscall.Close(fd)
		return -1, errNoDiag
	}
	return fd, nil
}

// diagListeners dumps the listening TCP sockets, IPv4 and IPv6.
func diagListeners() ([]socket, error) {
	var out []socket
	ne := binary.NativeEndian
	for _, family := range []int{syscall.AF_INET, syscall.AF_INET6} {
		fd, err := diagSocket(family, 1<<stateListen, syscall.NLM_F_DUMP, nil)
		if err != nil {
			return nil, err
		}
		buf := make([]byte, 32<<10)
		done := false
		for !done {
			n, _, err := syscall.Recvfrom(fd, buf, 0)
			if err != nil {
				syscall.Close(fd)
				return nil, errNoDiag
			}
			msgs, err := syscall.ParseNetlinkMessage(buf[:n])
			if err != nil {
				syscall.Close(fd)
				return nil, errNoDiag
			}
			for _, m := range msgs {
				switch m.Header.Type {
				case syscall.NLMSG_DONE:
					done = true
				case sockDiagByFamily:
					d := m.Data
					if len(d) < diagMsgLen {
						continue
					}
					out = append(out, socket{
						local: netip.AddrPortFrom(netip.Addr{}, binary.BigEndian.Uint16(d[4:])),
						state: d[1],
						uid:   ne.Uint32(d[64:]),
						inode: uint64(ne.Uint32(d[68:])),
					})
				default: // NLMSG_ERROR
					syscall.Close(fd)
					return nil, errNoDiag
				}
			}
		}
		syscall.Close(fd)
	}
	return out, nil
}

// diagLookup is one exact lookup of a family's socket.
func diagLookup(family int, src, dst netip.AddrPort) (uint32, error) {
	fd, err := diagSocket(family, 1<<stateEstablished, 0, func(b []byte) { putSockID(b, family, src, dst) })
	if err != nil {
		return 0, err
	}
	defer syscall.Close(fd)
	ne := binary.NativeEndian
	buf := make([]byte, 8192)
	n, _, err := syscall.Recvfrom(fd, buf, 0)
	if err != nil {
		return 0, errNoDiag
	}
	msgs, err := syscall.ParseNetlinkMessage(buf[:n])
	if err != nil || len(msgs) == 0 {
		return 0, errNoDiag
	}
	m := msgs[0]
	switch m.Header.Type {
	case syscall.NLMSG_ERROR:
		if len(m.Data) >= 4 && -int32(ne.Uint32(m.Data)) == int32(syscall.ENOENT) {
			return 0, ErrNotFound
		}
		return 0, errNoDiag
	case sockDiagByFamily:
	default:
		return 0, errNoDiag
	}
	d := m.Data
	if len(d) < diagMsgLen {
		return 0, errNoDiag
	}
	// The kernel's exact lookup may fall back to a listening or a
	// TIME_WAIT socket (uid 0, no inode): only the established socket
	// with exactly these addresses counts.
	want := make([]byte, 48)
	putSockID(want, family, src, dst)
	if d[1] != stateEstablished || string(d[4:4+36]) != string(want[:36]) {
		return 0, ErrNotFound
	}
	if ne.Uint32(d[68:]) == 0 { // inode
		return 0, ErrNotFound
	}
	return ne.Uint32(d[64:]), nil
}

// putSockID writes struct inet_diag_sockid's ports and addresses (in
// network byte order) for a socket of family whose own address is src.
func putSockID(b []byte, family int, src, dst netip.AddrPort) {
	binary.BigEndian.PutUint16(b[0:], src.Port())
	binary.BigEndian.PutUint16(b[2:], dst.Port())
	put := func(off int, a netip.Addr) {
		if family == syscall.AF_INET {
			a4 := a.Unmap().As4()
			copy(b[off:], a4[:])
			return
		}
		a16 := a.As16() // an IPv4 address as ::ffff:a.b.c.d
		copy(b[off:], a16[:])
	}
	put(4, src.Addr())
	put(20, dst.Addr())
}
