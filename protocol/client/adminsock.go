package client

import (
	"context"
	"errors"
	"net"
	"os"

	"golm/lmutil/licfile"
	"golm/lmutil/protocol"
	"golm/lmutil/protocol/peercred"
)

// dialAdminDaemon connects an admin command to daemon ("lmgrd" or a
// vendor name) listening on port, for an lmgrd on lmgrdPort at host. For
// a server on this host it tries the daemon's local admin socket first,
// where the server decides by the caller's kernel credentials, then TCP
// over loopback, where the server finds the caller's uid from the
// kernel's socket table; other hosts get plain TCP.
//
// Any local user can bind a name in the abstract namespace, and one that
// got there first could answer lmstat with no users or lmdown with a
// success that did nothing. So before saying anything on the socket the
// admin tool asks the kernel who listens there (SO_PEERCRED) and talks
// only to root, to its own user, or to the user that owns the daemon's
// TCP port; anyone else's socket is passed over for TCP.
func dialAdminDaemon(ctx context.Context, cfg *config, host, daemon string, port, lmgrdPort int, hello *protocol.Hello) (*protocol.Conn, *protocol.Hello, error) {
	if !licfile.IsThisHost(host, cfg.machine) || otherLoopback(host) {
		return dial(ctx, cfg, host, port, hello)
	}
	if c, h, err := dialAdminSocket(ctx, cfg, protocol.AdminSocket(daemon, lmgrdPort), port, hello); err == nil {
		return c, h, nil
	}
	return dial(ctx, cfg, "localhost", port, hello)
}

// errNotTheServer is a local admin socket held by a process that is not
// the license server's.
var errNotTheServer = errors.New("the admin socket is held by another user")

// dialAdminSocket connects to the local admin socket name of a daemon
// whose TCP port is port, checks who listens on it, and does the
// handshake.
func dialAdminSocket(ctx context.Context, cfg *config, name string, port int, hello *protocol.Hello) (*protocol.Conn, *protocol.Hello, error) {
	c, err := connect(ctx, cfg, "unix", name)
	if err != nil {
		return nil, nil, err
	}
	uc, ok := c.NetConn().(*net.UnixConn)
	if !ok {
		c.Close()
		return nil, nil, errNotTheServer
	}
	cred, err := peercred.Of(uc)
	if err != nil || !trustedAdminServer(cred.UID, uint32(os.Geteuid()), port, peercred.ListenerOwner) {
		c.Close()
		return nil, nil, errNotTheServer
	}
	return handshake(ctx, cfg, c, hello)
}

// trustedAdminServer reports whether a local admin socket that uid
// listens on may speak for the daemon on TCP port: root may, and so may
// the caller's own user (whatever runs as the caller could act as the
// caller anyway), and the user that owns every socket listening on port.
func trustedAdminServer(uid, me uint32, port int, listenerOwner func(int) (uint32, error)) bool {
	if uid == 0 || uid == me {
		return true
	}
	owner, err := listenerOwner(port)
	return err == nil && owner == uid
}

// dialAdminLmgrd is dialLmgrd for admin commands: each server of spec in
// order through dialAdminDaemon.
func dialAdminLmgrd(ctx context.Context, cfg *config, spec []licfile.ServerAddr, hello *protocol.Hello) (*protocol.Conn, *protocol.Hello, licfile.ServerAddr, error) {
	return dialFirst(ctx, cfg, spec, func(host string, port int) (*protocol.Conn, *protocol.Hello, error) {
		return dialAdminDaemon(ctx, cfg, host, "lmgrd", port, port, hello)
	})
}
