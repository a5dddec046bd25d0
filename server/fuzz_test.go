package server

import (
	"context"
	"io"
	"net"
	"testing"
	"time"

	"golm/lmutil/protocol"
)

// FuzzVendorRequests feeds arbitrary bytes after a valid HELLO to a vendor
// daemon connection handler: it must answer or close, never panic, and the
// state must never hand out more seats than a pool has.
func FuzzVendorRequests(f *testing.F) {
	frame := func(ms ...protocol.Message) []byte {
		var b []byte
		for _, m := range ms {
			b, _ = protocol.AppendFrame(b, m)
		}
		return b
	}
	f.Add(frame(&protocol.Checkout{Feature: "f1", Version: "1.0", Count: 1}, &protocol.Checkin{Handle: 101}))
	f.Add(frame(&protocol.Checkout{Feature: "f1", Count: 5}, &protocol.FeatureStatusRequest{}))
	f.Add(frame(&protocol.Remove{Feature: "f1", User: "u"}, &protocol.RemoveHandle{Handle: 1 << 40}))
	f.Add(frame(&protocol.Heartbeat{Seq: 3}, &protocol.Shutdown{}))
	f.Add([]byte{0, 0, 0, 2, byte(protocol.TypeCheckout), 0xff})
	f.Add(frame(&protocol.Checkout{Feature: "f1", Count: 2}, &protocol.Checkout{Feature: "f1", Count: 1, Flags: protocol.CheckoutQueue},
		&protocol.QueuePoll{Handle: 102}, &protocol.Checkin{Handle: 102}))
	f.Add(frame(&protocol.Checkout{Feature: "f1", Count: 1, Flags: protocol.CheckoutSigned}, &protocol.Checkout{Feature: "f1", Count: 1, Flags: protocol.CheckoutQueue | protocol.CheckoutSigned},
		&protocol.Checkout{Feature: "f1", Count: 1, Flags: ^uint64(0)}, &protocol.QueuePoll{Handle: 101}, &protocol.QueuePoll{Handle: 103}))
	f.Add(frame(&protocol.SignedGranted{Granted: protocol.Granted{Handle: 1, Feature: "f1"}, Form: 1, Lines: []protocol.GrantLine{{Text: "t", Sign: "s"}}}))
	f.Add(frame(&protocol.Linger{Seconds: 5}, &protocol.Idle{Idle: true}, &protocol.HostIDs{Ethers: []string{"08002b32b161"}},
		&protocol.Checkout{Feature: "f1", Count: 1, VendorData: "x"}, &protocol.Checkin{Handle: 101}))
	dir := f.TempDir()
	p := signedLicense(f, dir, twoSeats)
	v, err := NewVendor(VendorConfig{Name: "demo", LicenseFiles: []string{p}, Addr: "127.0.0.1:0"})
	if err != nil {
		f.Fatal(err)
	}
	defer v.Shutdown(context.Background())
	var violation error
	v.State().CheckInvariants(func(err error) { violation = err })
	hello := frame(&protocol.Hello{Version: protocol.Version, Role: protocol.RoleClient})
	f.Fuzz(func(t *testing.T, data []byte) {
		cc, sc := net.Pipe()
		done := make(chan struct{})
		go func() {
			defer close(done)
			c := protocol.NewConn(sc)
			c.ReadTimeout = time.Second
			v.serveConn(c, slotOpen)
			sc.Close()
		}()
		go io.Copy(io.Discard, cc)
		cc.SetWriteDeadline(time.Now().Add(2 * time.Second))
		cc.Write(hello)
		cc.Write(data)
		cc.Close()
		<-done
		if violation != nil {
			t.Fatal(violation)
		}
		for _, ps := range v.State().Status() {
			if !ps.Pool.Uncounted && ps.InUse > ps.Pool.Count {
				t.Fatalf("%d seats of %s out, count %d", ps.InUse, ps.Pool.Feature, ps.Pool.Count)
			}
		}
	})
}
