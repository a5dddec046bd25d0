package server

import (
	"fmt"
	"net"
	"os/user"
	"slices"
	"strconv"

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

// AdminGroup is the UNIX group of license administrators (lmgrd -2 -p).
const AdminGroup = "lmadmin"

// Trust is the admin policy of DESIGN.md "Trust": who may run lmdown,
// lmreread and lmremove.
type Trust struct {
	// NoLmdown and NoLmremove are lmgrd -x lmdown / -x lmremove.
	NoLmdown   bool
	NoLmremove bool
	// AdminOnly is lmgrd -2 -p: admin requests must come over the
	// server's local Unix socket (AdminSocket) from root or a member of
	// the lmadmin group, decided by the kernel's peer credentials. When
	// there is no lmadmin group, root and members of group 0 are
	// administrators (manual 7.2).
	AdminOnly bool
	// AllowRemote lets admin requests in from other hosts. No flag sets it
	// today; admin commands are local only, as lmgrd -local asks.
	AllowRemote bool
	// lookupGroup and userGroups are os/user lookups, replaced in tests.
	lookupGroup func(name string) (gid string, ok bool)
	userGroups  func(uid uint32) []string
}

// Admin requests a Trust decides on.
const (
	AdminLmdown   = "lmdown"
	AdminLmreread = "lmreread"
	AdminLmremove = "lmremove"
)

// AdminSocket is the local Unix socket address (in Linux's abstract
// namespace) where a server started with -2 -p takes admin requests:
// "@golm-lmgrd-27000" for lmgrd on port 27000, "@golm-demo-27000" for
// its vendor daemon demo.
func AdminSocket(daemon string, lmgrdPort int) string {
	return "@golm-" + daemon + "-" + strconv.Itoa(lmgrdPort)
}

// Check decides whether the peer of nc may run the admin command cmd. It
// returns nil or a -63 error.
func (t Trust) Check(cmd string, nc net.Conn) *lmerr.Error {
	switch {
	case cmd == AdminLmdown && t.NoLmdown:
		return lmerr.New(-63, minorLmdownOff, "lmdown is disabled on this license server (lmgrd -x lmdown)")
	case cmd == AdminLmremove && t.NoLmremove:
		return lmerr.New(-63, minorLmremoveOff, "lmremove is disabled on this license server (lmgrd -x lmremove)")
	}
	if t.AdminOnly {
		uc, ok := nc.(*net.UnixConn)
		if !ok {
			return lmerr.New(-63, minorNoCredentials, cmd+": this license server takes admin commands only on its local socket (lmgrd -2 -p)")
		}
		uid, gid, err := peerCredentials(uc)
		if err != nil {
			return lmerr.New(-63, minorNoCredentials, fmt.Sprintf("%s: cannot read peer credentials: %v", cmd, err))
		}
		if !t.isAdmin(uid, gid) {
			return lmerr.New(-63, minorNotLmadmin, fmt.Sprintf("%s: uid %d is not a license administrator (group %s)", cmd, uid, AdminGroup))
		}
		return nil
	}
	if !t.AllowRemote && !IsLocalPeer(nc.RemoteAddr()) {
		return lmerr.New(-63, minorNotLocal, cmd+" must be run on the license server machine")
	}
	return nil
}

// isAdmin applies manual 7.2: members of lmadmin when that group exists,
// else root and members of group 0.
func (t Trust) isAdmin(uid, gid uint32) bool {
	lookupGroup, userGroups := t.lookupGroup, t.userGroups
	if lookupGroup == nil {
		lookupGroup = osLookupGroup
	}
	if userGroups == nil {
		userGroups = osUserGroups
	}
	groups := append(userGroups(uid), strconv.FormatUint(uint64(gid), 10))
	if admin, ok := lookupGroup(AdminGroup); ok {
		return slices.Contains(groups, admin)
	}
	return uid == 0 || slices.Contains(groups, "0")
}

func osLookupGroup(name string) (string, bool) {
	g, err := user.LookupGroup(name)
	if err != nil {
		return "", false
	}
	return g.Gid, true
}

func osUserGroups(uid uint32) []string {
	u, err := user.LookupId(strconv.FormatUint(uint64(uid), 10))
	if err != nil {
		return nil
	}
	ids, _ := u.GroupIds()
	return ids
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
