package client

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"net"
	"strconv"

	"golm/lmutil/protocol"
)

// PortKind is what Probe found listening on a port.
type PortKind int

// The kinds of port Probe tells apart.
const (
	PortClosed PortKind = iota // nothing accepts connections
	PortOther                  // something listens but does not speak golm's protocol
	PortLmgrd                  // an lmgrd
	PortVendor                 // a vendor daemon
)

// PortProbe is the result of probing one port.
type PortProbe struct {
	Port int
	Kind PortKind
	// Hello is the server's Hello for PortLmgrd and PortVendor: its
	// Daemon is "lmgrd" or the vendor's name.
	Hello *protocol.Hello
	// Vendors are the vendor daemons an lmgrd says it runs.
	Vendors []string
}

// Probe connects to host:port and tells an lmgrd, a vendor daemon,
// another program and a closed port apart by speaking golm's handshake
// (lmdiag's extended connection diagnostics). An lmgrd is also asked
// which vendor daemons it runs. Each step is bounded by the dial timeout
// (WithDialTimeout); keep it short when probing many ports.
func Probe(ctx context.Context, host string, port int, opts ...Option) PortProbe {
	cfg := newConfig(opts)
	r := PortProbe{Port: port}
	ctx, cancel := context.WithTimeout(ctx, cfg.dialTimeout)
	defer cancel()
	var d net.Dialer
	nc, err := d.DialContext(ctx, "tcp", net.JoinHostPort(dialHost(host), strconv.Itoa(port)))
	if err != nil {
		return r
	}
	defer nc.Close()
	r.Kind = PortOther
	stop := context.AfterFunc(ctx, func() { nc.Close() })
	defer stop()
	c := protocol.NewConn(nc)
	c.ReadTimeout = cfg.dialTimeout
	c.WriteTimeout = cfg.dialTimeout
	var b [8]byte
	_, _ = rand.Read(b[:])
	mine := &protocol.Hello{Version: protocol.Version, Role: protocol.RoleAdmin, Software: cfg.software, JobID: binary.BigEndian.Uint64(b[:]) | 1,
		Identity: protocol.Identity{User: cfg.user, Host: cfg.host, Program: cfg.program}}
	h, err := protocol.ClientHandshake(c, mine)
	if err != nil {
		return r // not golm, or a golm server that refused the handshake
	}
	r.Hello = h
	if h.Daemon != "lmgrd" {
		r.Kind = PortVendor
		return r
	}
	r.Kind = PortLmgrd
	m, err := c.Call(&protocol.ServerStatusRequest{})
	if _, ok := m.(*protocol.ServerStatus); err != nil || !ok {
		return r
	}
	for {
		m, err := c.Recv()
		if err != nil {
			return r
		}
		vs, ok := m.(*protocol.VendorStatus)
		if !ok {
			return r
		}
		r.Vendors = append(r.Vendors, vs.Name)
	}
}
