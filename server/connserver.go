package server

import (
	"context"
	"errors"
	"net"
	"sync"
	"time"

	"golm/lmutil/protocol"
)

// connServer is what lmgrd and the vendor daemon share of serving
// connections: the accept loops of their TCP port and admin socket, with
// a growing pause after a temporary accept error; the connection limit
// (connlimit.go); the handshake deadline of a new connection; the
// tracking of open connections; and a graceful shutdown that closes the
// listeners and connections and waits for their handlers.
//
// A new connection's goroutine waits for the whole of its first frame (a
// HELLO, all but always) on a shallow stack, bounded by the handshake
// timeout, and only then calls handle, which answers the handshake with
// the connection's read timeout still the handshake's.
type connServer struct {
	log       *DebugLog
	limit     *connLimit
	trust     Trust
	handshake time.Duration // bound on the wait for a HELLO
	// handle serves one connection, which holds sl of the limit, once
	// its first frame has arrived. The connection is closed and its slot
	// released when handle returns.
	handle func(c *protocol.Conn, sl slot)

	ln      net.Listener
	adminLn net.Listener // the local admin socket; nil when there is none

	mu      sync.Mutex
	conns   map[*protocol.Conn]struct{}
	closing bool
	closed  chan struct{}  // closed by stopAccepting
	wg      sync.WaitGroup // the connections' handlers
	bg      sync.WaitGroup // the daemon's own loops (see spawn)
}

func newConnServer(log *DebugLog, limit *connLimit, trust Trust, handshake time.Duration) *connServer {
	return &connServer{
		log:       log,
		limit:     limit,
		trust:     trust,
		handshake: handshake,
		conns:     map[*protocol.Conn]struct{}{},
		closed:    make(chan struct{}),
	}
}

// listeners are the listeners the server accepts on.
func (s *connServer) listeners() []net.Listener {
	if s.adminLn != nil {
		return []net.Listener{s.ln, s.adminLn}
	}
	return []net.Listener{s.ln}
}

// serve runs an accept loop per listener until close; it returns when
// every loop has, not waiting for the connections (see wait).
func (s *connServer) serve() {
	var loops sync.WaitGroup
	for _, ln := range s.listeners() {
		loops.Add(1)
		go func() {
			defer loops.Done()
			s.acceptLoop(ln)
		}()
	}
	loops.Wait()
}

// acceptLoop serves one listener until it is closed. A temporary error
// (out of file descriptors) is retried after a pause that doubles from
// 5 ms up to a second, said once per window in the debug log.
func (s *connServer) acceptLoop(ln net.Listener) {
	var pause time.Duration
	for {
		nc, err := ln.Accept()
		if err != nil {
			if s.isClosing() || errors.Is(err, net.ErrClosed) {
				return
			}
			pause = min(max(2*pause, 5*time.Millisecond), time.Second)
			s.log.Limited("accept", "accept: %v", err)
			t := time.NewTimer(pause)
			select {
			case <-s.closed:
				t.Stop()
				return
			case <-t.C:
			}
			continue
		}
		pause = 0
		if !s.serveNew(nc, ln == s.adminLn) {
			return
		}
	}
}

// serveNew serves nc, a new connection (accepted on the admin socket
// when adminSocket is true, or handed over by lmgrd), on a goroutine of
// its own unless the connection limit refuses it; false when the server
// is shutting down.
func (s *connServer) serveNew(nc net.Conn, adminSocket bool) bool {
	sl := s.limit.accept(nc, adminSocket, s.trust)
	if sl == slotNone {
		nc.Close()
		return true
	}
	c := protocol.NewConn(nc)
	if !s.track(c) {
		s.limit.release(sl)
		c.Close()
		return false
	}
	go func() {
		defer s.wg.Done()
		defer s.limit.release(sl)
		defer s.untrack(c)
		// The HELLO is waited for here, on the shallow stack: a
		// connection that says nothing, or sends a header and nothing
		// more, costs no handler stack and no frame buffer until the
		// handshake timeout drops it.
		c.ReadTimeout = s.handshake
		if c.WaitFrame() == nil {
			s.handle(c, sl)
		}
	}()
	return true
}

// track counts c as open, with its handler in wg; false once close has
// begun.
func (s *connServer) track(c *protocol.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return false
	}
	s.conns[c] = struct{}{}
	s.wg.Add(1)
	return true
}

func (s *connServer) untrack(c *protocol.Conn) {
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
	c.Close()
}

func (s *connServer) isClosing() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closing
}

// close stops accepting and closes every open connection; it reports
// whether this call stopped the accepting.
func (s *connServer) close() bool {
	first := s.stopAccepting()
	s.closeConns()
	return first
}

// stopAccepting closes the listeners, once, and reports whether this
// call did. Connections accepted or handed over from then on are closed
// at once; those open stay open (see closeConns).
func (s *connServer) stopAccepting() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return false
	}
	s.closing = true
	close(s.closed)
	for _, ln := range s.listeners() {
		ln.Close()
	}
	return true
}

// closeConns closes every open connection; their handlers then return.
func (s *connServer) closeConns() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		c.Close()
	}
}

// spawn runs f on a goroutine of its own that waitBackground waits for,
// unless the server is shutting down (false). A daemon's loops that end
// at shutdown (the vendor daemon's tick) go through it, so that what
// they write comes before what the daemon writes last.
func (s *connServer) spawn(f func()) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return false
	}
	s.bg.Add(1)
	go func() {
		defer s.bg.Done()
		f()
	}()
	return true
}

// waitBackground waits for the goroutines of spawn, or for ctx.
func (s *connServer) waitBackground(ctx context.Context) error {
	return waitGroup(ctx, &s.bg)
}

// wait waits for the handlers of every connection to return, or for ctx.
func (s *connServer) wait(ctx context.Context) error {
	return waitGroup(ctx, &s.wg)
}

// waitGroup waits for wg, or for ctx.
func waitGroup(ctx context.Context, wg *sync.WaitGroup) error {
	return waitFunc(ctx, wg.Wait)
}

// waitFunc runs f and waits for it to return, or for ctx; f goes on
// running when ctx ends first.
func waitFunc(ctx context.Context, f func()) error {
	if ctx.Done() == nil {
		f()
		return nil
	}
	done := make(chan struct{})
	go func() {
		f()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
