package client

import (
	"context"
	"net"
	"strconv"
	"strings"

	"golm/lmutil/licfile"
	"golm/lmutil/protocol"
)

// adminSocketName is the local Unix socket (Linux abstract namespace)
// where lmgrd on lmgrdPort, or its vendor daemon daemon, takes admin
// requests with the caller's kernel credentials: "@golm-lmgrd-27000",
// "@golm-demo-27000". It is the name the server package documents as
// AdminSocket; lmgrd listens on it when started with -2 -p.
func adminSocketName(daemon string, lmgrdPort int) string {
	return "@golm-" + daemon + "-" + strconv.Itoa(lmgrdPort)
}

// isThisHost reports whether a SERVER line's host names the machine m:
// this_host, localhost, a loopback address, the host name (or its first
// label), or one of m's addresses.
func isThisHost(host string, m *licfile.Machine) bool {
	h := strings.ToLower(strings.TrimSuffix(host, "."))
	switch h {
	case "", "this_host", "localhost":
		return true
	}
	if ip := net.ParseIP(h); ip != nil {
		if ip.IsLoopback() {
			return true
		}
		if m != nil {
			for _, mine := range m.IPs {
				if net.ParseIP(mine).Equal(ip) {
					return true
				}
			}
		}
		return false
	}
	if m == nil || m.Hostname == "" {
		return false
	}
	name := strings.ToLower(m.Hostname)
	short, _, _ := strings.Cut(name, ".")
	hshort, _, _ := strings.Cut(h, ".")
	return h == name || h == short || hshort == short
}

// dialAdminDaemon connects an admin command to daemon ("lmgrd" or a
// vendor name) listening on port, for an lmgrd on lmgrdPort at host. For
// a server on this host it tries the daemon's local admin socket first
// (where lmgrd -2 -p decides by the caller's kernel credentials), then
// TCP over loopback, which the server trusts as local; other hosts get
// plain TCP.
func dialAdminDaemon(ctx context.Context, cfg *config, host, daemon string, port, lmgrdPort int, hello *protocol.Hello) (*protocol.Conn, *protocol.Hello, error) {
	if !isThisHost(host, cfg.machine) {
		return dial(ctx, cfg, host, port, hello)
	}
	if c, h, err := dialNetwork(ctx, cfg, "unix", adminSocketName(daemon, lmgrdPort), hello); err == nil {
		return c, h, nil
	}
	return dial(ctx, cfg, "localhost", port, hello)
}

// dialAdminLmgrd is dialLmgrd for admin commands: each server of spec in
// order through dialAdminDaemon.
func dialAdminLmgrd(ctx context.Context, cfg *config, spec []licfile.ServerAddr, hello *protocol.Hello) (*protocol.Conn, *protocol.Hello, licfile.ServerAddr, error) {
	return dialFirst(ctx, cfg, spec, func(host string, port int) (*protocol.Conn, *protocol.Hello, error) {
		return dialAdminDaemon(ctx, cfg, host, "lmgrd", port, port, hello)
	})
}
