package server

import (
	"fmt"
	"net"
	"os"
	"os/user"
	"slices"
	"strconv"
	"strings"

	"golm/lmutil/protocol"
	"golm/lmutil/protocol/lmerr"
	"golm/lmutil/protocol/peercred"
)

// AdminGroup is the UNIX group of license administrators (lmgrd -2 -p).
const AdminGroup = "lmadmin"

// Trust is the admin policy of DESIGN.md "Trust": who may run lmdown,
// lmreread, lmremove and the other privileged commands.
//
// Who asks is what the kernel says, never the user name a client sends:
// on the local admin socket the peer's SO_PEERCRED, over loopback TCP the
// uid that owns the client's socket in /proc/net/tcp or tcp6 (a
// connection over loopback never leaves this host's network namespace,
// and the kernel lists both of its ends there). So an admin tool that
// falls back to TCP, because someone else holds the socket's name, is
// judged by the same rule as on the socket, and a local user cannot get
// around the rule by using TCP. A client that cannot be identified (its
// end is gone, another system) is refused.
type Trust struct {
	// NoLmdown and NoLmremove are lmgrd -x lmdown / -x lmremove.
	NoLmdown   bool
	NoLmremove bool
	// AdminOnly is lmgrd -2 -p: admin requests only from license
	// administrators as the manual defines them: members of the lmadmin
	// group, or root and members of group 0 when there is no lmadmin
	// group (root too is refused when lmadmin exists and root is not in
	// it). Without it, the default admits root, the account the server
	// runs as, and those administrators.
	AdminOnly bool
	// AllowRemote (lmgrd -allow-remote-admin) lets admin requests in
	// over TCP from anyone who can reach the port, from other hosts
	// too, as FLEXlm's lmgrd did. It does not weaken AdminOnly.
	AllowRemote bool
	// lookupGroup and userGroups are os/user lookups, replaced in tests,
	// and serverUID is the server's own uid (os.Geteuid).
	lookupGroup func(name string) (gid string, ok bool)
	userGroups  func(uid uint32) []string
	serverUID   func() uint32
}

// The privileged commands a Trust decides on, by the lmutil command that
// sends them.
const (
	AdminLmdown   = "lmdown"
	AdminLmreread = "lmreread"
	AdminLmremove = "lmremove"
)

// adminCommand says which privileged command a request is, and whether
// an lmgrd -x switch disables it; ok is false for requests anyone may
// send. It is the one place that lists privileged requests: lmswitchr,
// lmswitch and lmnewlog join by adding their message type here.
func (t Trust) adminCommand(typ protocol.Type) (cmd string, disabled bool, ok bool) {
	switch typ {
	case protocol.TypeShutdown:
		return AdminLmdown, t.NoLmdown, true
	case protocol.TypeReread:
		return AdminLmreread, false, true
	case protocol.TypeRemove, protocol.TypeRemoveHandle:
		return AdminLmremove, t.NoLmremove, true
	case protocol.TypeSwitchReportLog:
		return "lmswitchr", false, true
	case protocol.TypeNewReportLog:
		return "lmnewlog", false, true
	case protocol.TypeSwitchDebugLog:
		return "lmswitch", false, true
	}
	return "", false, false
}

// Authorize decides whether the peer of nc, which introduced itself as
// who, may send req. It returns nil for requests that are not privileged
// and for allowed ones; a refusal is a -63 error, also written to log
// (rate limited) with who asked and from where.
func (t Trust) Authorize(req protocol.Message, nc net.Conn, who protocol.Identity, log *DebugLog) *lmerr.Error {
	cmd, disabled, ok := t.adminCommand(req.Type())
	if !ok {
		return nil
	}
	e, peer := t.decide(cmd, disabled, nc)
	if e != nil {
		log.Limited("refused", "%s request (%s) from %s refused: %s %s", req.Type(), cmd, adminRequester(who, peer, nc), e.Message(), e.Suffix())
		for _, d := range e.Detail {
			log.Limited("refused", "    %s", d)
		}
	}
	return e
}

// Check decides whether the peer of nc may run the admin command cmd
// (AdminLmdown, ...). It returns nil or a -63 error and logs nothing.
func (t Trust) Check(cmd string, nc net.Conn) *lmerr.Error {
	disabled := (cmd == AdminLmdown && t.NoLmdown) || (cmd == AdminLmremove && t.NoLmremove)
	e, _ := t.decide(cmd, disabled, nc)
	return e
}

// peerCred is what the kernel says about the process at the other end
// of an admin connection: uid, gid and pid on the local socket, the uid
// alone (gid and pid -1) over loopback TCP.
type peerCred struct {
	uid      uint32
	gid, pid int64
}

// peerOf identifies the peer of nc: its kernel credentials when it is on
// this host and they can be read (cred nil otherwise), and whether it is
// on this host at all.
func peerOf(nc net.Conn) (cred *peerCred, local bool, err error) {
	if uc, ok := nc.(*net.UnixConn); ok {
		c, err := peercred.Of(uc)
		if err != nil {
			return nil, true, err
		}
		return &peerCred{uid: c.UID, gid: int64(c.GID), pid: int64(c.PID)}, true, nil
	}
	if !IsLocalPeer(nc.RemoteAddr()) {
		return nil, false, nil
	}
	uid, err := peercred.TCPOwner(nc.LocalAddr(), nc.RemoteAddr())
	if err != nil {
		return nil, true, err
	}
	return &peerCred{uid: uid, gid: -1, pid: -1}, true, nil
}

// decide applies the rules in order: a disabled command, then -2 -p
// (administrators only, from this host), then -allow-remote-admin, then
// the default (this host; root, the server's account or an
// administrator). It also returns the peer credentials when it read
// them.
func (t Trust) decide(cmd string, disabled bool, nc net.Conn) (*lmerr.Error, *peerCred) {
	if disabled {
		minor := lmerr.MinorAdminLmdownOff
		if cmd == AdminLmremove {
			minor = lmerr.MinorAdminLmremoveOff
		}
		return lmerr.New(lmerr.NotAdmin, minor, fmt.Sprintf("%s is disabled on this license server (lmgrd -x %s)", cmd, cmd)), nil
	}
	if t.AllowRemote && !t.AdminOnly {
		return nil, nil
	}
	cred, local, err := peerOf(nc)
	switch {
	case !local && t.AdminOnly:
		return lmerr.New(lmerr.NotAdmin, lmerr.MinorAdminNoCredentials, cmd+": this license server takes admin commands only from license administrators on its own host (lmgrd -2 -p)"), nil
	case !local:
		return lmerr.New(lmerr.NotAdmin, lmerr.MinorAdminNotLocal, cmd+" must be run on the license server machine (lmgrd -allow-remote-admin accepts other hosts)"), nil
	case cred == nil:
		return lmerr.New(lmerr.NotAdmin, lmerr.MinorAdminNoCredentials, fmt.Sprintf("%s: cannot tell which user is asking: %v", cmd, err)), nil
	}
	if ok, minor := t.allowed(cred); !ok {
		if minor == lmerr.MinorAdminNotLmadmin {
			return lmerr.New(lmerr.NotAdmin, minor, fmt.Sprintf("%s: uid %d is not a license administrator (group %s)", cmd, cred.uid, t.adminGroupName())), cred
		}
		return lmerr.New(lmerr.NotAdmin, minor, fmt.Sprintf("%s: uid %d is not root, the license server's user (uid %d) or a license administrator (group %s)", cmd, cred.uid, t.ownUID(), t.adminGroupName())), cred
	}
	return nil, cred
}

// allowed applies the uid rule to a peer on this host; minor says which
// rule refused it.
func (t Trust) allowed(cred *peerCred) (ok bool, minor lmerr.Minor) {
	if t.AdminOnly {
		return t.isAdmin(cred.uid, cred.gid), lmerr.MinorAdminNotLmadmin
	}
	if cred.uid == 0 || cred.uid == t.ownUID() || t.isAdmin(cred.uid, cred.gid) {
		return true, 0
	}
	return false, lmerr.MinorAdminNotAdmin
}

// ownUID is the uid the server runs as.
func (t Trust) ownUID() uint32 {
	if t.serverUID != nil {
		return t.serverUID()
	}
	return uint32(os.Geteuid())
}

// adminGroupName names the group that decides: lmadmin, or group 0 when
// there is no lmadmin group.
func (t Trust) adminGroupName() string {
	lookupGroup := t.lookupGroup
	if lookupGroup == nil {
		lookupGroup = osLookupGroup
	}
	if _, ok := lookupGroup(AdminGroup); ok {
		return AdminGroup
	}
	return "0"
}

// adminRequester describes who sent an admin request for the log: the user and
// host the client claims, the kernel's uid and pid on the local socket or
// the pid the client claims, and the peer address.
func adminRequester(who protocol.Identity, cred *peerCred, nc net.Conn) string {
	var b strings.Builder
	u, h := who.User, who.Host
	if u == "" {
		u = "?"
	}
	if h == "" {
		h = "?"
	}
	fmt.Fprintf(&b, "%s at node %s", u, h)
	var extra []string
	if cred != nil {
		extra = append(extra, fmt.Sprintf("uid %d", cred.uid))
		if cred.pid >= 0 {
			extra = append(extra, fmt.Sprintf("pid %d", cred.pid))
		} else if who.PID != 0 {
			extra = append(extra, fmt.Sprintf("pid %d", who.PID))
		}
	} else if who.PID != 0 {
		extra = append(extra, fmt.Sprintf("pid %d", who.PID))
	}
	extra = append(extra, "peer "+peerString(nc))
	b.WriteString(" (" + strings.Join(extra, ", ") + ")")
	return b.String()
}

// peerString is the peer address of nc as the log shows it.
func peerString(nc net.Conn) string {
	a := nc.RemoteAddr()
	if a == nil {
		return "?"
	}
	if _, ok := a.(*net.UnixAddr); ok {
		if l := nc.LocalAddr(); l != nil {
			return "unix:" + l.String()
		}
		return "unix"
	}
	return a.String()
}

// isAdmin applies manual 7.2: members of lmadmin when that group exists,
// else root and members of group 0. gid is the peer's group from the
// kernel, -1 when only the uid is known; the user database adds the
// user's groups.
func (t Trust) isAdmin(uid uint32, gid int64) bool {
	lookupGroup, userGroups := t.lookupGroup, t.userGroups
	if lookupGroup == nil {
		lookupGroup = osLookupGroup
	}
	if userGroups == nil {
		userGroups = osUserGroups
	}
	groups := userGroups(uid)
	if gid >= 0 {
		groups = append(groups, strconv.FormatInt(gid, 10))
	}
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
// host as far as admin requests go: a Unix socket or a loopback address.
// A TCP connection from one of this host's other addresses is not
// trusted: it cannot be told apart from a forwarded one, and the admin
// commands use the local socket or loopback for a server on this host.
func IsLocalPeer(addr net.Addr) bool {
	switch a := addr.(type) {
	case *net.TCPAddr:
		return a.IP != nil && a.IP.IsLoopback()
	case *net.UnixAddr:
		return true
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

// rootWarning is what lmgrd logs when it runs as root (manual D.3.6,
// D.3.7): it works, but should not.
var rootWarning = []string{
	"WARNING: lmgrd is running as root.",
	"    No part of the license server needs root permissions, and a daemon",
	"    running as root is a security risk. Run lmgrd as a non-privileged user,",
	`    for example from a boot script: su username -c "umask 022; lmgrd ..."`,
}
