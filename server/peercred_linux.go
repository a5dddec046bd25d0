package server

import (
	"net"
	"syscall"
)

// peerCredentials returns the uid, gid and pid of the process at the
// other end of a local Unix socket, as the kernel recorded them
// (SO_PEERCRED).
func peerCredentials(c *net.UnixConn) (uid, gid uint32, pid int32, err error) {
	raw, err := c.SyscallConn()
	if err != nil {
		return 0, 0, 0, err
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
		return 0, 0, 0, err
	}
	return cred.Uid, cred.Gid, cred.Pid, nil
}
