package e2e_test

import (
	"testing"

	"golm/lmutil/protocol"
)

// TestHandoff: lmgrd hands a client's connection over to the vendor
// daemon when asked (LOCATE_HANDOFF), so that one connection to lmgrd's
// port carries the whole checkout; it answers as to LOCATE when the
// vendor is unknown, and when the client sent more behind its request.
func TestHandoff(t *testing.T) {
	t.Parallel()
	s := startServer(t, twoSeats)
	id := protocol.Identity{User: "hana", Host: "pc", Display: ":1"}
	read := func(t *testing.T, c *protocol.Conn) protocol.Message {
		t.Helper()
		c.ReadTimeout = deadline
		m, err := c.Recv()
		if err != nil {
			t.Fatalf("read: %v", err)
		}
		return m
	}

	t.Run("handed over", func(t *testing.T) {
		c := protocol.NewConn(dialRaw(t, s.port))
		c.NetConn().Write(frames(t, clientHello(id), &protocol.LocateHandoff{Feature: "f1"}))
		if h, ok := read(t, c).(*protocol.Hello); !ok || h.Daemon != "lmgrd" {
			t.Fatalf("first answer %#v, want lmgrd's Hello", h)
		}
		if m, ok := read(t, c).(*protocol.HandedOff); !ok || m.Vendor != "demo" {
			t.Fatalf("second answer %#v, want HANDED_OFF demo", m)
		}
		// The same connection now talks to the vendor daemon.
		c.NetConn().Write(frames(t, clientHello(id), &protocol.Checkout{Feature: "f1", Version: "1.0", Count: 1}))
		if h, ok := read(t, c).(*protocol.Hello); !ok || h.Daemon != "demo" {
			t.Fatalf("after the handoff: %#v, want the vendor daemon's Hello", h)
		}
		if g, ok := read(t, c).(*protocol.Granted); !ok || g.Feature != "f1" {
			t.Fatalf("checkout answered %#v, want GRANTED f1", g)
		}
		s.waitInUse("f1", 1)
		c.Close()
		s.waitInUse("f1", 0)
	})

	t.Run("unknown vendor", func(t *testing.T) {
		c := protocol.NewConn(dialRaw(t, s.port))
		c.NetConn().Write(frames(t, clientHello(id), &protocol.LocateHandoff{Vendor: "nosuch"}))
		read(t, c) // lmgrd's Hello
		if e, ok := read(t, c).(*protocol.Error); !ok || e.Code != -97 {
			t.Fatalf("answer %#v, want ERROR -97", e)
		}
	})

	t.Run("more behind the request", func(t *testing.T) {
		c := protocol.NewConn(dialRaw(t, s.port))
		c.NetConn().Write(frames(t, clientHello(id), &protocol.LocateHandoff{Feature: "f1"}, &protocol.Heartbeat{Seq: 7}))
		read(t, c) // lmgrd's Hello
		if r, ok := read(t, c).(*protocol.LocateReply); !ok || r.Vendor != "demo" || r.Port != s.vendorPort() {
			t.Fatalf("answer %#v, want LOCATE_REPLY demo port %d", r, s.vendorPort())
		}
		// Still lmgrd's connection: the heartbeat behind is lmgrd's to answer.
		if a, ok := read(t, c).(*protocol.HeartbeatAck); !ok || a.Seq != 7 {
			t.Fatalf("heartbeat answered %#v, want lmgrd's HEARTBEAT_ACK 7", a)
		}
	})
}
