package server

import (
	"net"

	"golm/lmutil/protocol/lmerr"
)

// Minor numbers of the -63 refusals, one per rule.
const (
	minorNotLocal      = 601
	minorLmdownOff     = 602
	minorLmremoveOff   = 603
	minorNotLmadmin    = 604
	minorNoCredentials = 605
)

// Trust is the admin policy of DESIGN.md "Trust": who may run lmdown,
// lmreread and lmremove.
type Trust struct {
	// NoLmdown and NoLmremove are lmgrd -x lmdown / -x lmremove.
	NoLmdown   bool
	NoLmremove bool
	// AllowRemote lets admin requests in from other hosts. No flag sets it
	// today; admin commands are local only, as lmgrd -local asks.
	AllowRemote bool
}

// Admin requests a Trust decides on.
const (
	AdminLmdown   = "lmdown"
	AdminLmreread = "lmreread"
	AdminLmremove = "lmremove"
)

// Check decides whether the peer at addr may run the admin command cmd.
// It returns nil or a -63 error.
func (t Trust) Check(cmd string, addr net.Addr) *lmerr.Error {
	switch {
	case cmd == AdminLmdown && t.NoLmdown:
		return lmerr.New(-63, minorLmdownOff, "lmdown is disabled on this license server (lmgrd -x lmdown)")
	case cmd == AdminLmremove && t.NoLmremove:
		return lmerr.New(-63, minorLmremoveOff, "lmremove is disabled on this license server (lmgrd -x lmremove)")
	}
	if !t.AllowRemote && !IsLocalPeer(addr) {
		return lmerr.New(-63, minorNotLocal, cmd+" must be run on the license server machine")
	}
	return nil
}

// IsLocalPeer reports whether a connection from addr comes from this
// host: a loopback address, one of this host's own addresses, or a Unix
// socket.
func IsLocalPeer(addr net.Addr) bool {
	var ip net.IP
	switch a := addr.(type) {
	case *net.TCPAddr:
		ip = a.IP
	case *net.UnixAddr:
		return true
	default:
		return false
	}
	if ip == nil {
		return false
	}
	if ip.IsLoopback() {
		return true
	}
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return false
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.Equal(ip) {
			return true
		}
	}
	return false
}

// peerIP is the IP address of a connection's peer as a string ("" when it
// has none).
func peerIP(addr net.Addr) string {
	if a, ok := addr.(*net.TCPAddr); ok {
		if v4 := a.IP.To4(); v4 != nil {
			return v4.String()
		}
		return a.IP.String()
	}
	return ""
}
