package peercred

import (
	"errors"
	"net"
	"os"
	"syscall"
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
	socks, err := tables()
	if err != nil {
		return 0, err
	}
	return connOwner(socks, l, r)
}

// ListenerOwner returns the uid owning the TCP sockets that listen on
// port on this host.
func ListenerOwner(port int) (uint32, error) {
	socks, err := tables()
	if err != nil {
		return 0, err
	}
	return listenerOwner(socks, port)
}
