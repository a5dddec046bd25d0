//go:build !unix

package protocol

import (
	"errors"
	"net"
)

// CanPassConns reports whether this system can pass a connection to
// another process over a Unix-domain socket (SendConn).
const CanPassConns = false

// NewRightsConn is NewConn: this system passes no descriptors.
func NewRightsConn(uc *net.UnixConn) *Conn { return NewConn(uc) }

type rightsReader struct{}

// TakeFD reports that no descriptor came.
func (c *Conn) TakeFD() (int, bool) { return -1, false }

// CloseFDs does nothing here.
func (c *Conn) CloseFDs() {}

// SendConn fails: this system passes no connections.
func (c *Conn) SendConn(m Message, nc net.Conn) error {
	return errors.New("protocol: passing connections is not supported on this system")
}
