//go:build !unix

package client

import (
	"errors"
	"syscall"
)

// canWatch is false where a socket cannot be peeked at through
// syscall.RawConn: a broken connection is then noticed at the next
// request or heartbeat.
const canWatch = false

func waitReadable(syscall.RawConn) (int, error) {
	return 0, errors.New("waiting for a readable connection is not supported here")
}
