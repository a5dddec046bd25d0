//go:build !linux

package peercred

import "net"

// Of is not implemented off Linux.
func Of(*net.UnixConn) (Cred, error) { return Cred{}, ErrUnsupported }

// TCPOwner is not implemented off Linux.
func TCPOwner(local, remote net.Addr) (uint32, error) { return 0, ErrUnsupported }

// ListenerOwner is not implemented off Linux.
func ListenerOwner(port int) (uint32, error) { return 0, ErrUnsupported }
