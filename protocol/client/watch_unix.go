//go:build unix

package client

import "syscall"

// canWatch says whether links can wait for their connection to become
// readable without reading (waitReadable).
const canWatch = true

// waitReadable blocks until the connection has data to read or the peer
// closed it, without taking anything off it: n is 1 when a byte waits,
// 0 at end of file. A read deadline ends the wait with an error.
func waitReadable(rc syscall.RawConn) (n int, err error) {
	var perr error
	err = rc.Read(func(fd uintptr) bool {
		var b [1]byte
		n, _, perr = syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		return perr != syscall.EAGAIN && perr != syscall.EWOULDBLOCK && perr != syscall.EINTR
	})
	if err != nil {
		return 0, err
	}
	return n, perr
}
