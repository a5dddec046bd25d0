package bench

import (
	"bufio"
	"io"
	"net"
	"sync"
)

// Exchange is one request/reply pair of an echo round trip: the client
// writes Request bytes and reads Reply bytes back.
type Exchange struct {
	Request, Reply int
}

// EchoServer answers each request of the exchanges, taken in turn, with
// a reply of its size: a plain TCP server doing no work, the machine's
// limit for round trips of golm's message sizes.
type EchoServer struct {
	ln        net.Listener
	exchanges []Exchange
	wg        sync.WaitGroup
	mu        sync.Mutex
	conns     map[net.Conn]struct{}
}

// NewEchoServer listens on addr ("127.0.0.1:0").
func NewEchoServer(addr string, exchanges []Exchange) (*EchoServer, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	return &EchoServer{ln: ln, exchanges: exchanges, conns: map[net.Conn]struct{}{}}, nil
}

// Addr is the address the server listens on.
func (s *EchoServer) Addr() net.Addr { return s.ln.Addr() }

// Serve accepts connections until Close, one goroutine per connection.
func (s *EchoServer) Serve() {
	for {
		c, err := s.ln.Accept()
		if err != nil {
			break
		}
		s.mu.Lock()
		s.conns[c] = struct{}{}
		s.mu.Unlock()
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.serve(c)
			s.mu.Lock()
			delete(s.conns, c)
			s.mu.Unlock()
		}()
	}
	s.wg.Wait()
}

func (s *EchoServer) serve(c net.Conn) {
	defer c.Close()
	br := bufio.NewReaderSize(c, 4096)
	buf := make([]byte, maxExchange(s.exchanges))
	for i := 0; ; i = (i + 1) % len(s.exchanges) {
		x := s.exchanges[i]
		if _, err := io.ReadFull(br, buf[:x.Request]); err != nil {
			return
		}
		if _, err := c.Write(buf[:x.Reply]); err != nil {
			return
		}
	}
}

// Close stops the server and closes its connections.
func (s *EchoServer) Close() {
	s.ln.Close()
	s.mu.Lock()
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
}

func maxExchange(xs []Exchange) int {
	n := 1
	for _, x := range xs {
		n = max(n, x.Request, x.Reply)
	}
	return n
}

// EchoClient is one connection doing round trips with an EchoServer.
type EchoClient struct {
	c         net.Conn
	br        *bufio.Reader
	buf       []byte
	exchanges []Exchange
	i         int
}

// DialEcho connects to an EchoServer at addr.
func DialEcho(addr string, exchanges []Exchange) (*EchoClient, error) {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	return &EchoClient{c: c, br: bufio.NewReaderSize(c, 4096), buf: make([]byte, maxExchange(exchanges)), exchanges: exchanges}, nil
}

// RoundTrip does the next exchange: one request written, one reply read.
func (e *EchoClient) RoundTrip() error {
	x := e.exchanges[e.i]
	e.i = (e.i + 1) % len(e.exchanges)
	if _, err := e.c.Write(e.buf[:x.Request]); err != nil {
		return err
	}
	_, err := io.ReadFull(e.br, e.buf[:x.Reply])
	return err
}

// Close closes the connection with a reset, as golm's client closes a
// connection whose requests were all answered, so that the baseline
// leaves no TIME_WAIT sockets behind to slow the connects of the stages
// after it.
func (e *EchoClient) Close() error {
	if tc, ok := e.c.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	return e.c.Close()
}
