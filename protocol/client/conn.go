package client

import (
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golm/lmutil/licfile"
	"golm/lmutil/protocol"

	"golm/lmutil/protocol/lmerr"
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
	c, err := connect(ctx, cfg, network, address)
	if err != nil {
		return nil, nil, err
	}
	return handshake(ctx, cfg, c, hello)
}

// handshake says hello on a new connection c and reads the server's; c
// then takes the call timeout for its requests. c is closed on failure.
func handshake(ctx context.Context, cfg *config, c *protocol.Conn, hello *protocol.Hello) (*protocol.Conn, *protocol.Hello, error) {
	h, err := exchange(ctx, cfg, c, []protocol.Message{hello}, nil)
	if err != nil {
		c.Close()
		return nil, nil, err
	}
	c.ReadTimeout = cfg.callTimeout
	c.WriteTimeout = cfg.callTimeout
	return c, h, nil
}

// connect opens a connection without saying anything on it yet. TCP
// keepalive stays off: a Job's heartbeats find a dead vendor daemon, and
// the other connections live for a request or two, so the four socket
// options keepalive sets per connection would buy nothing.
func connect(ctx context.Context, cfg *config, network, address string) (*protocol.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, cfg.dialTimeout)
	defer cancel()
	d := net.Dialer{KeepAlive: -1}
	nc, err := d.DialContext(ctx, network, address)
	if err != nil {
		return nil, connectError(err, network, address)
	}
	c := protocol.NewConn(nc)
	c.ReadTimeout = cfg.dialTimeout
	c.WriteTimeout = cfg.dialTimeout
	return c, nil
}

// exchange writes out (a Hello, then at most one request) in one write
// and reads the server's Hello and, when out holds a request, its reply
// into *reply. The client does not wait for the server's Hello before
// sending its request: a server reads a connection's frames in order, so
// a request behind the Hello is read once the handshake is done, and a
// server that refuses the Hello answers with an Error frame in place of
// its Hello and closes, which the client reads as the FlexLM error.
// Everything is bounded by the dial timeout, even a peer that accepts and
// then says nothing.
func exchange(ctx context.Context, cfg *config, c *protocol.Conn, out []protocol.Message, reply *protocol.Message) (*protocol.Hello, error) {
	ctx, cancel := context.WithTimeout(ctx, cfg.dialTimeout)
	defer cancel()
	stop := context.AfterFunc(ctx, func() { c.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	if err := c.SendAll(out); err != nil {
		return nil, netError(err, lmerr.CantWrite, lmerr.MinorClientWrite)
	}
	m, err := c.Recv()
	if err != nil {
		return nil, netError(err, lmerr.CantRead, lmerr.MinorClientRead)
	}
	h, err := serverHello(m)
	if err != nil {
		return nil, err
	}
	if reply != nil {
		if *reply, err = c.Recv(); err != nil {
			return nil, netError(err, lmerr.CantRead, lmerr.MinorClientRead)
		}
	}
	return h, nil
}

// hangUp closes a connection whose conversation is over (every request
// answered) without the closing handshake: the kernel resets it instead
// of keeping it in TIME_WAIT for a minute. A client that opens new
// connections at a high rate (a wrapped command run in a loop) would
// otherwise fill the ephemeral ports with TIME_WAIT sockets and make
// every connect search longer for a free one. The server sees the reset
// as the end of the connection, as it would see end of file.
func hangUp(c *protocol.Conn) {
	if tc, ok := c.NetConn().(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	c.Close()
}

// serverHello checks the first frame a server sent: its Hello in this
// package's protocol version, or an Error frame refusing the client (the
// FlexLM error it carries, say -106 when the server is out of
// connections).
func serverHello(m protocol.Message) (*protocol.Hello, error) {
	switch m := m.(type) {
	case *protocol.Error:
		return nil, fromPeer(m)
	case *protocol.Hello:
		if m.Version != protocol.Version {
			return nil, netError(&protocol.Violation{Reason: "handshake: server speaks protocol version " + strconv.Itoa(m.Version) + ", want " + strconv.Itoa(protocol.Version)}, lmerr.BadComm, lmerr.MinorClientHandshakeVersion)
		}
		return m, nil
	}
	return nil, netError(&protocol.Violation{Reason: "handshake: got " + m.Type().String() + ", want HELLO"}, lmerr.BadComm, lmerr.MinorClientHandshake)
}

// connectError is the FlexLM error of a failed connect: -14 when the
// server's host name cannot be resolved (the more specific error), else
// -15, naming the server in the long form either way.
func connectError(err error, network, address string) *Error {
	server := address
	if network != "unix" {
		if h, _, e := net.SplitHostPort(address); e == nil {
			server = h
		}
	}
	var dns *net.DNSError
	if errors.As(err, &dns) {
		e := netError(err, lmerr.BadHost, lmerr.MinorClientHostLookup)
		e.Detail = append(e.Detail, "Server name: "+server)
		return e
	}
	e := netError(err, lmerr.NoServer, lmerr.MinorClientConnect)
	if e.Code == lmerr.NoServer {
		e.Detail = append(e.Detail, "Server name: "+server)
	}
	return e
}

// dialFirst calls try for each server of spec (and each port of an
// @host) in order and returns the first connection it makes, or the first
// error when none answers. The ports of an @host (27000-27009) are first
// probed all at once, so that silent ports cost one connect timeout in
// all rather than one each; try then goes to the ports that accepted.
func dialFirst(ctx context.Context, cfg *config, spec []licfile.ServerAddr, try func(host string, port int) (*protocol.Conn, *protocol.Hello, error)) (*protocol.Conn, *protocol.Hello, licfile.ServerAddr, error) {
	var first error
	for _, a := range spec {
		ports := a.Ports()
		if len(ports) > 1 {
			var err error
			if ports, err = openPorts(ctx, cfg, dialHost(a.Host), ports); err != nil {
				if first == nil {
					first = err
				}
				continue
			}
		}
		for _, p := range ports {
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
		first = newError(lmerr.NoServer, lmerr.MinorClientConnect)
	}
	return nil, nil, licfile.ServerAddr{}, first
}

// openPorts connects to every port of host at once and returns, in
// order, those that accepted, within one dial timeout in all. The probe
// connections are reset at once. A host name that does not resolve is
// -14; no port accepting is the first port's error.
func openPorts(ctx context.Context, cfg *config, host string, ports []int) ([]int, error) {
	ctx, cancel := context.WithTimeout(ctx, cfg.dialTimeout)
	defer cancel()
	if _, err := net.DefaultResolver.LookupHost(ctx, host); err != nil {
		return nil, connectError(err, "tcp", net.JoinHostPort(host, strconv.Itoa(ports[0])))
	}
	errs := make([]error, len(ports))
	var wg sync.WaitGroup
	for i, p := range ports {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d := net.Dialer{KeepAlive: -1}
			nc, err := d.DialContext(ctx, "tcp", net.JoinHostPort(host, strconv.Itoa(p)))
			if err != nil {
				errs[i] = connectError(err, "tcp", net.JoinHostPort(host, strconv.Itoa(p)))
				return
			}
			if tc, ok := nc.(*net.TCPConn); ok {
				_ = tc.SetLinger(0)
			}
			nc.Close()
		}()
	}
	wg.Wait()
	var open []int
	for i, p := range ports {
		if errs[i] == nil {
			open = append(open, p)
		}
	}
	if len(open) == 0 {
		return nil, errs[0]
	}
	return open, nil
}

// locate asks lmgrd at spec for the vendor daemon and connects to it,
// without a handshake yet: the link's first call sends the Hello (see
// newLink). It returns the vendor daemon connection, the vendor's name
// and the lmgrd address that answered.
//
// Each call asks lmgrd afresh (a restarted vendor daemon may listen on
// another port), in one round trip: the Hello and the Locate go out in
// one write, and the client closes the connection once it has the
// answer.
func locate(ctx context.Context, cfg *config, spec []licfile.ServerAddr, vendor, feature string, hello *protocol.Hello) (*protocol.Conn, string, licfile.ServerAddr, error) {
	var m protocol.Message
	handoff := []protocol.Message{hello, &protocol.LocateHandoff{Vendor: vendor, Feature: feature}}
	plain := []protocol.Message{hello, &protocol.Locate{Vendor: vendor, Feature: feature}}
	lc, _, addr, err := dialFirst(ctx, cfg, spec, func(host string, port int) (*protocol.Conn, *protocol.Hello, error) {
		address := net.JoinHostPort(dialHost(host), strconv.Itoa(port))
		var h *protocol.Hello
		var err error
		for _, out := range [][]protocol.Message{handoff, plain} {
			var c *protocol.Conn
			if c, err = connect(ctx, cfg, "tcp", address); err != nil {
				return nil, nil, err
			}
			if h, err = exchange(ctx, cfg, c, out, &m); err == nil {
				return c, h, nil
			}
			c.Close()
			if codeOf(err) != lmerr.CantRead || ctx.Err() != nil {
				break
			}
			// No answer to the handoff request: an lmgrd that does not
			// know it closes the connection. Ask it the older way.
		}
		return nil, nil, err
	})
	if err != nil {
		return nil, "", addr, err
	}
	var r *protocol.LocateReply
	switch mm := m.(type) {
	case *protocol.HandedOff:
		// lmgrd handed this connection over to the vendor daemon: it
		// is the vendor daemon connection now.
		return lc, mm.Vendor, addr, nil
	case *protocol.LocateReply:
		hangUp(lc)
		r = mm
	case *protocol.Error:
		hangUp(lc)
		return nil, "", addr, fromPeer(mm)
	default:
		hangUp(lc)
		return nil, "", addr, newError(lmerr.BadComm, lmerr.MinorClientLocateReply, "lmgrd answered LOCATE with "+m.Type().String())
	}
	host := r.Host
	if host == "" {
		host = addr.Host
	}
	vc, err := connect(ctx, cfg, "tcp", net.JoinHostPort(dialHost(host), strconv.Itoa(r.Port)))
	if err != nil {
		if codeOf(err) == lmerr.NoServer {
			// lmgrd knows the daemon but it does not answer: it is
			// down or restarting.
			err = lmerr.VendorDownError(r.Vendor, lmerr.MinorClientVendorDown)
		}
		return nil, "", addr, err
	}
	return vc, r.Vendor, addr, nil
}

// link is one live connection to a vendor daemon. Requests are
// serialised by the caller (vendorConn.mu), and the caller of a request
// reads its reply itself, on its own goroutine. While no request is under
// way for a while (idleWatch), a watcher waits for the connection to
// become readable without reading from it, so that a connection the
// vendor daemon closes is noticed at once rather than at the next
// heartbeat; the next request stops the watcher first. A busy link thus
// costs no goroutine hand-over per request.
//
// A new link has not done its handshake: its first call sends the
// client's Hello and the setup requests (hostids, linger) in the same
// write as the request, and reads the server's Hello and their replies
// before the request's own.
type link struct {
	c     *protocol.Conn
	hello *protocol.Hello    // the server's Hello, once the first call has read it
	pre   []protocol.Message // the Hello and setup requests the first call sends
	cfg   *config

	dead chan struct{}
	once sync.Once
	err  error

	rc       syscall.RawConn // nil: no watcher on this connection
	mu       sync.Mutex
	busy     bool          // a call is under way
	watching bool          // the watcher waits on the connection
	kicked   bool          // a call stopped the watcher
	stopped  chan struct{} // closed when the watcher stops
	idle     *time.Timer   // starts the watcher

	callDone <-chan struct{} // the Done channel of the call under way
	ctxDone  <-chan struct{} // the Done channel watchContext watches
	stopCtx  func() bool     // stops watching it
}

// idleWatch is how long a link stays without a request before its
// watcher starts.
const idleWatch = 100 * time.Millisecond

// newLink wraps a connection to a vendor daemon whose first call will
// send hello, then setup (requests whose Error replies are logged and
// otherwise ignored), then its own request.
func newLink(c *protocol.Conn, cfg *config, hello *protocol.Hello, setup []protocol.Message) *link {
	l := &link{c: c, cfg: cfg, pre: append([]protocol.Message{hello}, setup...), dead: make(chan struct{})}
	if sc, ok := c.NetConn().(syscall.Conn); ok && canWatch {
		l.rc, _ = sc.SyscallConn()
	}
	return l
}

// fail marks the link dead with err and closes the connection.
func (l *link) fail(err error) {
	l.once.Do(func() {
		l.err = err
		l.c.Close()
		close(l.dead)
		l.mu.Lock()
		if l.idle != nil {
			l.idle.Stop()
		}
		if l.stopCtx != nil {
			l.stopCtx()
		}
		l.mu.Unlock()
	})
}

// watchContext makes the cancellation of ctx during a call close the
// connection: the reply the call would have read could not be told from
// the next call's. A link keeps watching the last context it was given
// (an application usually passes the same one, or one without
// cancellation), so that calls do not each register and unregister a
// callback with it; a cancellation between calls changes nothing.
func (l *link) watchContext(ctx context.Context) {
	done := ctx.Done()
	l.mu.Lock()
	defer l.mu.Unlock()
	if done == nil || done == l.ctxDone || l.isDead() {
		return
	}
	if l.stopCtx != nil {
		l.stopCtx()
	}
	l.ctxDone = done
	l.stopCtx = context.AfterFunc(ctx, func() {
		l.mu.Lock()
		during := l.busy && l.callDone == done
		l.mu.Unlock()
		if during {
			l.fail(ctx.Err())
		}
	})
}

// hangUp closes the link once every call was answered, with a reset
// (see the function hangUp).
func (l *link) hangUp() {
	l.begin(context.Background())
	if !l.isDead() {
		if tc, ok := l.c.NetConn().(*net.TCPConn); ok {
			_ = tc.SetLinger(0)
		}
	}
	l.fail(errClosed)
	l.end()
}

var errClosed = errors.New("connection closed")

func (l *link) isDead() bool {
	select {
	case <-l.dead:
		return true
	default:
		return false
	}
}

// begin stops the watcher, if it runs, and marks a call under way.
func (l *link) begin(ctx context.Context) {
	l.mu.Lock()
	l.busy = true
	l.callDone = ctx.Done()
	var wait chan struct{}
	if l.watching {
		l.kicked = true
		// Wakes the watcher: it sets no deadline of its own while
		// watching, and it cleared this one before it began.
		l.c.SetReadDeadline(time.Unix(1, 0))
		wait = l.stopped
	}
	l.mu.Unlock()
	if wait != nil {
		<-wait
	}
}

// end marks the call done and starts the watcher after idleWatch.
func (l *link) end() {
	l.mu.Lock()
	l.busy = false
	l.callDone = nil
	if l.rc != nil && !l.isDead() {
		if l.idle == nil {
			l.idle = time.AfterFunc(idleWatch, l.watch)
		} else {
			l.idle.Reset(idleWatch)
		}
	}
	l.mu.Unlock()
}

// watch waits, while no call is under way, for the connection to become
// readable: then the vendor daemon closed it, it broke, or the server
// sent something nobody asked for, and the link fails.
func (l *link) watch() {
	l.mu.Lock()
	if l.busy || l.watching || l.isDead() {
		l.mu.Unlock()
		return
	}
	l.watching, l.kicked = true, false
	stopped := make(chan struct{})
	l.stopped = stopped
	l.c.SetReadDeadline(time.Time{})
	l.mu.Unlock()

	n, err := waitReadable(l.rc)

	l.mu.Lock()
	kicked := l.kicked
	l.watching = false
	l.mu.Unlock()
	switch {
	case err != nil && kicked && errors.Is(err, os.ErrDeadlineExceeded):
		// A call wants the connection.
	case err != nil:
		l.fail(err)
	case n == 0:
		l.fail(io.EOF)
	default:
		l.fail(errors.New("unsolicited data from server"))
	}
	close(stopped)
}

// call sends req and reads its reply. An Error frame becomes an *Error; a
// broken or silent connection kills the link.
func (l *link) call(ctx context.Context, req protocol.Message, timeout time.Duration) (protocol.Message, error) {
	if err := l.open(ctx, timeout); err != nil {
		return nil, err
	}
	defer l.end()
	if l.pre != nil {
		return l.first(ctx, req, timeout)
	}
	if err := l.c.Send(req); err != nil {
		return nil, l.broken(ctx, err, lmerr.CantWrite, lmerr.MinorClientWrite, timeout)
	}
	return l.reply(ctx, timeout)
}

// open begins a call with timeout: nil, and the caller must end it with
// l.end, or the error when the link is dead or ctx has ended.
func (l *link) open(ctx context.Context, timeout time.Duration) error {
	if l.isDead() {
		return netError(l.err, lmerr.CantRead, lmerr.MinorClientRead)
	}
	l.begin(ctx)
	if l.isDead() {
		l.end()
		return netError(l.err, lmerr.CantRead, lmerr.MinorClientRead)
	}
	if err := ctx.Err(); err != nil {
		l.end()
		return err
	}
	l.watchContext(ctx)
	l.c.ReadTimeout, l.c.WriteTimeout = timeout, timeout
	return nil
}

// callAll sends reqs, requests that do not depend on each other's
// answers, in one write and reads their replies in order: one round trip
// for all of them. replies[i] and errs[i] are req i's, as call returns
// them; a broken connection fails every request not yet answered.
func (l *link) callAll(ctx context.Context, reqs []protocol.Message, timeout time.Duration) (replies []protocol.Message, errs []error) {
	replies, errs = make([]protocol.Message, len(reqs)), make([]error, len(reqs))
	failFrom := func(i int, err error) {
		for ; i < len(reqs); i++ {
			errs[i] = err
		}
	}
	if l.pre != nil {
		// The handshake goes out with the first request.
		for i, req := range reqs {
			replies[i], errs[i] = l.call(ctx, req, timeout)
		}
		return replies, errs
	}
	if err := l.open(ctx, timeout); err != nil {
		failFrom(0, err)
		return replies, errs
	}
	defer l.end()
	if err := l.c.SendAll(reqs); err != nil {
		failFrom(0, l.broken(ctx, err, lmerr.CantWrite, lmerr.MinorClientWrite, timeout))
		return replies, errs
	}
	for i := range reqs {
		if replies[i], errs[i] = l.reply(ctx, timeout); errs[i] != nil && l.isDead() {
			failFrom(i, errs[i])
			break
		}
	}
	return replies, errs
}

// reply reads the reply to the request just sent.
func (l *link) reply(ctx context.Context, timeout time.Duration) (protocol.Message, error) {
	m, err := l.c.Recv()
	if err != nil {
		return nil, l.broken(ctx, err, lmerr.CantRead, lmerr.MinorClientRead, timeout)
	}
	if e, ok := m.(*protocol.Error); ok {
		return nil, fromPeer(e)
	}
	return m, nil
}

// first is the link's first call: the handshake, the setup requests and
// req, all sent in one write.
func (l *link) first(ctx context.Context, req protocol.Message, timeout time.Duration) (protocol.Message, error) {
	out := append(l.pre, req)
	l.pre = nil
	c := l.c
	if err := c.SendAll(out); err != nil {
		return nil, l.broken(ctx, err, lmerr.CantWrite, lmerr.MinorClientWrite, timeout)
	}
	// A server that accepts and then says nothing is given the dial
	// timeout, as a handshake.
	c.ReadTimeout = min(timeout, l.cfg.dialTimeout)
	m, err := c.Recv()
	c.ReadTimeout = timeout
	if err != nil {
		return nil, l.broken(ctx, err, lmerr.CantRead, lmerr.MinorClientRead, timeout)
	}
	h, err := serverHello(m)
	if err != nil {
		// Refused (the server closes), or not a server we can talk to.
		l.fail(err)
		return nil, err
	}
	l.hello = h
	for _, m := range out[1 : len(out)-1] {
		if _, err := l.reply(ctx, timeout); err != nil {
			if l.isDead() {
				return nil, err
			}
			l.cfg.log("%s: %v", m.Type(), err)
		}
	}
	return l.reply(ctx, timeout)
}

// broken fails the link after a read or write error and returns the
// error the caller sees: the context's when it ended the call, -16
// "no reply" when the server stayed silent for timeout, or the
// transport error as code.
func (l *link) broken(ctx context.Context, err error, code lmerr.Code, minor lmerr.Minor, timeout time.Duration) error {
	l.fail(err)
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return newError(lmerr.CantRead, lmerr.MinorClientNoReply, "no reply from server within "+timeout.String())
	}
	return netError(err, code, minor)
}

// reconnectPacing is the backoff window of a job's first reconnect try
// after a break, and the most it doubles to after each failed try, for
// heartbeat interval hb: a second, then up to two (less for a short
// heartbeat, so that a job heartbeating every few hundred milliseconds
// comes back as fast).
func reconnectPacing(hb time.Duration) (first, limit time.Duration) {
	limit = min(max(hb/4, 100*time.Millisecond), 2*time.Second)
	return min(time.Second, limit), limit
}

// reconnectPause is a reconnect try's wait: uniformly random in [0,
// window), so that clients that lost the same vendor daemon at the same
// moment do not come back together.
func reconnectPause(window time.Duration) time.Duration { return rand.N(window) }
