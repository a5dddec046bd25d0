package client

import (
	"errors"
	"net"
	"strconv"
	"sync"
	"testing"

	"golm/lmutil/protocol"

	"golm/lmutil/protocol/lmerr"
)

// fakeServer is a minimal in-process lmgrd plus one vendor daemon "demo"
// for the client's unit tests: one feature pool per name with a seat
// count, seats freed when their connection closes, and the re-adoption
// rule of the package doc. It reads and answers one frame at a time, as
// servers did before clients sent requests with their Hello, so the
// tests against it are also those of a new client with an older server.
// End-to-end tests use the real server.
type fakeServer struct {
	t      testing.TB
	lmgrd  net.Listener
	vendor net.Listener
	run    uint64

	mu       sync.Mutex
	total    map[string]int // feature → seats
	seats    map[uint64]*fakeSeat
	next     uint64
	checkins int
	adopted  int
	// heartbeats counts the heartbeats answered, fresh the seats granted
	// afresh (not re-adopted), vendorConns the vendor connections that
	// completed their handshake.
	heartbeats  int
	fresh       int
	vendorConns int
	// heartbeatErr, when set, answers heartbeats instead of an ack (a
	// triad member that is not the master).
	heartbeatErr *protocol.Error
	conns        map[net.Conn]bool
	// lastConn numbers connections across listeners and restarts, so
	// that a seat's conn names one connection only; stale holds the
	// listeners closed, whose late accepts are dropped.
	lastConn int
	stale    map[net.Listener]bool
	// sticky keeps seats when their connection closes, as a server that
	// has not noticed a dead connection yet.
	sticky bool
	// grant, when set, makes the answer to a granted checkout from the
	// Granted the fake would send and the request's flags (a server
	// that sends license lines, or forged ones).
	grant func(g *protocol.Granted, flags uint64) protocol.Message
}

type fakeSeat struct {
	feature string
	count   int
	job     uint64
	conn    int
}

func newFakeServer(t testing.TB, total map[string]int) *fakeServer {
	t.Helper()
	f := &fakeServer{t: t, run: 7, total: total, seats: map[uint64]*fakeSeat{}, next: 100, conns: map[net.Conn]bool{}, stale: map[net.Listener]bool{}}
	var err error
	if f.lmgrd, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	f.vendor = f.listenVendor()
	go f.accept(f.vendor, f.serveVendor)
	go f.accept(f.lmgrd, f.serveLmgrd)
	t.Cleanup(f.close)
	return f
}

func (f *fakeServer) listenVendor() net.Listener {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		f.t.Fatal(err)
	}
	return ln
}

// restartVendor kills the vendor daemon: every connection drops, every
// seat is forgotten, and a new run listens on a new port. The new
// listener is in place before lmgrd can name a port again, and a
// connection the old one accepted meanwhile is dropped, not served.
func (f *fakeServer) restartVendor() {
	ln := f.listenVendor()
	f.mu.Lock()
	f.stale[f.vendor] = true
	f.vendor.Close()
	for c := range f.conns {
		c.Close()
	}
	f.seats = map[uint64]*fakeSeat{}
	f.run++
	f.vendor = ln
	f.mu.Unlock()
	go f.accept(ln, f.serveVendor)
}

func (f *fakeServer) close() {
	f.lmgrd.Close()
	f.mu.Lock()
	f.stale[f.lmgrd], f.stale[f.vendor] = true, true
	f.vendor.Close()
	for c := range f.conns {
		c.Close()
	}
	f.mu.Unlock()
}

func (f *fakeServer) spec() string {
	return strconv.Itoa(f.lmgrd.Addr().(*net.TCPAddr).Port) + "@127.0.0.1"
}

func (f *fakeServer) accept(ln net.Listener, serve func(*protocol.Conn, int)) {
	for {
		nc, err := ln.Accept()
		if err != nil {
			return
		}
		f.mu.Lock()
		if f.stale[ln] {
			f.mu.Unlock()
			nc.Close()
			return
		}
		f.lastConn++
		id := f.lastConn
		f.conns[nc] = true
		f.mu.Unlock()
		go func(id int) {
			defer func() {
				f.mu.Lock()
				delete(f.conns, nc)
				f.mu.Unlock()
				nc.Close()
			}()
			serve(protocol.NewConn(nc), id)
		}(id)
	}
}

func (f *fakeServer) handshake(c *protocol.Conn, name string) (*protocol.Hello, bool) {
	h, err := protocol.ServerHandshake(c)
	if err != nil {
		return nil, false
	}
	f.mu.Lock()
	run := f.run
	f.mu.Unlock()
	return h, c.Send(&protocol.Hello{Version: protocol.Version, Role: protocol.RoleServer, Daemon: name, Software: "0.1.0", RunID: run}) == nil
}

// serveLmgrd plays an lmgrd that predates LOCATE_HANDOFF: it closes the
// connection on that request, as on any it does not know, so every
// checkout against the fake also tests the client's fallback to LOCATE.
func (f *fakeServer) serveLmgrd(c *protocol.Conn, _ int) {
	c.ReadTimeout = -1
	if _, ok := f.handshake(c, "lmgrd"); !ok {
		return
	}
	for {
		m, err := c.Recv()
		if err != nil {
			return
		}
		switch m := m.(type) {
		case *protocol.Locate:
			if m.Vendor != "" && m.Vendor != "demo" {
				c.Send(&protocol.Error{Code: -97, Minor: 121})
				continue
			}
			f.mu.Lock()
			port := f.vendor.Addr().(*net.TCPAddr).Port
			f.mu.Unlock()
			c.Send(&protocol.LocateReply{Vendor: "demo", Port: port})
		case *protocol.ServerStatusRequest:
			c.Send(&protocol.ServerStatus{Host: "fake", Port: 1, Version: "0.1.0", Master: true, LicenseFiles: []string{"x.lic"}})
			c.Send(&protocol.VendorStatus{Name: "demo", Up: true, Version: "0.1.0"})
			c.Send(&protocol.VendorStatus{Name: "gone", Code: -97, Minor: 121})
			c.Send(&protocol.End{})
		case *protocol.Shutdown:
			c.Send(&protocol.OK{Count: 2})
		case *protocol.Reread:
			c.Send(&protocol.OK{Count: 1})
		default:
			return
		}
	}
}

func (f *fakeServer) inUse(feature string) int {
	n := 0
	for _, s := range f.seats {
		if s.feature == feature {
			n += s.count
		}
	}
	return n
}

// InUse reports the seats of feature in use.
func (f *fakeServer) InUse(feature string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.inUse(feature)
}

func (f *fakeServer) serveVendor(c *protocol.Conn, conn int) {
	c.ReadTimeout = -1
	h, ok := f.handshake(c, "demo")
	if !ok {
		return
	}
	f.mu.Lock()
	myRun := f.run
	f.vendorConns++
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		for k, s := range f.seats {
			if s.conn == conn && f.run == myRun && !f.sticky {
				delete(f.seats, k)
			}
		}
		f.mu.Unlock()
	}()
	for {
		m, err := c.Recv()
		if err != nil {
			return
		}
		var reply protocol.Message
		f.mu.Lock()
		switch m := m.(type) {
		case *protocol.Checkout:
			total, known := f.total[m.Feature]
			switch {
			case !known:
				reply = &protocol.Error{Code: -5, Minor: 346}
			case m.PrevRun == f.run && f.seats[m.PrevHandle] != nil && f.seats[m.PrevHandle].job == h.JobID:
				f.seats[m.PrevHandle].conn = conn
				f.adopted++
				reply = &protocol.Granted{Handle: m.PrevHandle, Feature: m.Feature, Version: "1.0", Adopted: true}
			case f.inUse(m.Feature)+m.Count > total:
				reply = &protocol.Error{Code: -4, Minor: 342}
			default:
				f.next++
				f.fresh++
				f.seats[f.next] = &fakeSeat{feature: m.Feature, count: m.Count, job: h.JobID, conn: conn}
				reply = &protocol.Granted{Handle: f.next, Feature: m.Feature, Version: "1.0", Expiry: "permanent"}
			}
		case *protocol.Checkin:
			if s := f.seats[m.Handle]; s != nil && s.conn == conn {
				delete(f.seats, m.Handle)
				f.checkins++
				reply = &protocol.OK{Count: 1}
			} else {
				reply = &protocol.Error{Code: -41, Minor: 352}
			}
		case *protocol.QueuePoll:
			// Every heartbeat asks this of each held seat: a fake that
			// closed the connection on it would free the seat each time.
			if s := f.seats[m.Handle]; s != nil && s.conn == conn {
				reply = &protocol.Granted{Handle: m.Handle, Feature: s.feature, Version: "1.0", Expiry: "permanent"}
			} else {
				reply = &protocol.Error{Code: -41, Minor: 377}
			}
		case *protocol.Heartbeat:
			f.heartbeats++
			reply = &protocol.HeartbeatAck{Seq: m.Seq}
			if f.heartbeatErr != nil {
				reply = f.heartbeatErr
			}
		case *protocol.HostInfo:
			reply = &protocol.OK{}
		case *protocol.FeatureStatusRequest:
			f.mu.Unlock()
			c.Send(&protocol.FeatureHeader{Name: "f1", Issued: 2, InUse: 1})
			c.Send(&protocol.PoolStatus{Feature: "f1", Version: "1.0", Vendor: "demo", Expiry: "permanent", LicenseType: protocol.Floating, Issued: 2, InUse: 1})
			c.Send(&protocol.UserEntry{User: "joe", Host: "pc", Display: "d", Handle: 101, Count: 1})
			c.Send(&protocol.End{})
			continue
		case *protocol.Remove:
			reply = &protocol.OK{Count: 1}
		case *protocol.RemoveHandle:
			reply = &protocol.OK{Count: 1}
		default:
			f.mu.Unlock()
			return
		}
		if g, ok := reply.(*protocol.Granted); ok && f.grant != nil && m.Type() == protocol.TypeCheckout {
			reply = f.grant(g, m.(*protocol.Checkout).Flags)
		}
		f.mu.Unlock()
		if c.Send(reply) != nil {
			return
		}
	}
}

// codeIs reports whether err is a *client.Error with code.
func codeIs(err error, code lmerr.Code) bool {
	var e *Error
	return errors.As(err, &e) && e.Code == code
}
