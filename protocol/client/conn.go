package client

import (
	"context"
	"errors"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"golm/lmutil/licfile"
	"golm/lmutil/protocol"
)

// dialHost maps a SERVER line's host to an address to dial: this_host is
// the machine the client runs on.
func dialHost(h string) string {
	if strings.EqualFold(h, "this_host") || h == "" {
		return "localhost"
	}
	return h
}

// dial connects to host:port and does the handshake.
func dial(ctx context.Context, cfg *config, host string, port int, hello *protocol.Hello) (*protocol.Conn, *protocol.Hello, error) {
	return dialNetwork(ctx, cfg, "tcp", net.JoinHostPort(dialHost(host), strconv.Itoa(port)), hello)
}

// dialNetwork connects to address on network ("tcp", or "unix" for a
// server's local admin socket) and does the handshake.
func dialNetwork(ctx context.Context, cfg *config, network, address string, hello *protocol.Hello) (*protocol.Conn, *protocol.Hello, error) {
	ctx, cancel := context.WithTimeout(ctx, cfg.dialTimeout)
	defer cancel()
	var d net.Dialer
	nc, err := d.DialContext(ctx, network, address)
	if err != nil {
		return nil, nil, netError(err, -15, minorConnect)
	}
	c := protocol.NewConn(nc)
	c.ReadTimeout = cfg.dialTimeout
	c.WriteTimeout = cfg.dialTimeout
	// The handshake must finish within the dial timeout even if the
	// peer accepts and then says nothing.
	stop := context.AfterFunc(ctx, func() { nc.SetDeadline(time.Unix(1, 0)) })
	h, err := protocol.ClientHandshake(c, hello)
	stop()
	if err != nil {
		nc.Close()
		return nil, nil, netError(err, -16, minorRead)
	}
	c.ReadTimeout = cfg.callTimeout
	c.WriteTimeout = cfg.callTimeout
	return c, h, nil
}

// dialLmgrd tries each server of spec (and each port of an @host) in
// order and returns the first lmgrd that answers.
func dialLmgrd(ctx context.Context, cfg *config, spec []licfile.ServerAddr, hello *protocol.Hello) (*protocol.Conn, *protocol.Hello, licfile.ServerAddr, error) {
	return dialFirst(ctx, spec, func(host string, port int) (*protocol.Conn, *protocol.Hello, error) {
		return dial(ctx, cfg, host, port, hello)
	})
}

// dialFirst calls try for each server of spec (and each port of an
// @host) in order and returns the first connection it makes, or the first
// error when none answers.
func dialFirst(ctx context.Context, spec []licfile.ServerAddr, try func(host string, port int) (*protocol.Conn, *protocol.Hello, error)) (*protocol.Conn, *protocol.Hello, licfile.ServerAddr, error) {
	var first error
	for _, a := range spec {
		for _, p := range a.Ports() {
			c, h, err := try(a.Host, p)
			if err == nil {
				return c, h, licfile.ServerAddr{Host: a.Host, Port: p}, nil
			}
			if first == nil {
				first = err
			}
			if ctx.Err() != nil {
				return nil, nil, licfile.ServerAddr{}, first
			}
		}
	}
	if first == nil {
		first = newError(-15, minorConnect)
	}
	return nil, nil, licfile.ServerAddr{}, first
}

// locate asks lmgrd at spec for the vendor daemon and connects to it.
// It returns the vendor daemon connection, its Hello, the vendor's name
// and the lmgrd address that answered.
func locate(ctx context.Context, cfg *config, spec []licfile.ServerAddr, vendor, feature string, hello *protocol.Hello) (*protocol.Conn, *protocol.Hello, string, licfile.ServerAddr, error) {
	lc, _, addr, err := dialLmgrd(ctx, cfg, spec, hello)
	if err != nil {
		return nil, nil, "", addr, err
	}
	m, err := lc.Call(&protocol.Locate{Vendor: vendor, Feature: feature})
	lc.Close()
	if err != nil {
		return nil, nil, "", addr, netError(err, -16, minorRead)
	}
	r, ok := m.(*protocol.LocateReply)
	if !ok {
		return nil, nil, "", addr, newError(-12, minorProtocol, "lmgrd answered LOCATE with "+m.Type().String())
	}
	host := r.Host
	if host == "" {
		host = addr.Host
	}
	vc, vh, err := dial(ctx, cfg, host, r.Port, hello)
	if err != nil {
		if codeOf(err) == -15 {
			// lmgrd knows the daemon but it does not answer: it is
			// down or restarting.
			err = newError(-97, minorDown, "Vendor daemon: "+r.Vendor)
		}
		return nil, nil, "", addr, err
	}
	return vc, vh, r.Vendor, addr, nil
}

// link is one live connection to a vendor daemon with a reader goroutine,
// so that a broken connection is noticed at once rather than at the next
// heartbeat. Requests are serialised by the caller (vendorConn.mu).
type link struct {
	c       *protocol.Conn
	hello   *protocol.Hello
	replies chan protocol.Message
	dead    chan struct{}
	once    sync.Once
	err     error
}

func newLink(c *protocol.Conn, hello *protocol.Hello) *link {
	l := &link{c: c, hello: hello, replies: make(chan protocol.Message, 1), dead: make(chan struct{})}
	c.ReadTimeout = -1 // idle between requests; calls carry their own timeout
	go l.read()
	return l
}

func (l *link) read() {
	c := l.c
	for {
		m, err := c.Recv()
		if err != nil {
			l.fail(err)
			return
		}
		select {
		case l.replies <- m:
		default:
			l.fail(errors.New("unsolicited " + m.Type().String() + " from server"))
			return
		}
	}
}

// fail marks the link dead with err and closes the connection.
func (l *link) fail(err error) {
	l.once.Do(func() {
		l.err = err
		l.c.Close()
		close(l.dead)
	})
}

// call sends req and waits for its reply. An Error frame becomes an
// *Error; a broken or silent connection kills the link.
func (l *link) call(ctx context.Context, req protocol.Message, timeout time.Duration) (protocol.Message, error) {
	select {
	case <-l.dead:
		return nil, netError(l.err, -16, minorRead)
	default:
	}
	if err := l.c.Send(req); err != nil {
		l.fail(err)
		return nil, netError(err, -17, minorWrite)
	}
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case m := <-l.replies:
		if e, ok := m.(*protocol.Error); ok {
			return nil, fromPeer(e)
		}
		return m, nil
	case <-l.dead:
		return nil, netError(l.err, -16, minorRead)
	case <-ctx.Done():
		l.fail(ctx.Err())
		return nil, ctx.Err()
	case <-t.C:
		err := errors.New("no reply from server within " + timeout.String())
		l.fail(err)
		return nil, newError(-16, minorRead, err.Error())
	}
}
