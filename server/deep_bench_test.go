package server

import (
	"context"
	"fmt"
	"math"
	"net"
	"strings"
	"sync"
	"testing"

	"golm/lmutil/protocol"
)

// BenchmarkServeDeep measures checkout+checkin pairs from many busy
// clients at once, answered on their connections' goroutines (inline)
// and on the request workers, as past deepAbove connections: more
// clients than workers keep every long-lived worker busy, so that extra
// workers take the rest.
func BenchmarkServeDeep(b *testing.B) {
	var lic strings.Builder
	lic.WriteString("SERVER this_host ANY 27000\nVENDOR demo\n")
	for i := range 10 {
		fmt.Fprintf(&lic, "FEATURE f%d demo 1.0 permanent 1000\n", i)
	}
	v, err := NewVendor(VendorConfig{Name: "demo", LicenseFiles: []string{signedLicense(b, b.TempDir(), lic.String())},
		Addr: "127.0.0.1:0", ServerHost: "srv", LmgrdPort: 27000})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { v.Serve(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	const clients = 64
	conns := make([]*protocol.Conn, clients)
	for i := range conns {
		nc, err := net.Dial("tcp", v.Addr().String())
		if err != nil {
			b.Fatal(err)
		}
		c := protocol.NewConn(nc)
		defer c.Close()
		if _, err := protocol.ClientHandshake(c, &protocol.Hello{Version: protocol.Version, Role: protocol.RoleClient,
			Identity: protocol.Identity{User: fmt.Sprintf("u%d", i), Host: "h", Display: "d"}}); err != nil {
			b.Fatal(err)
		}
		conns[i] = c
	}
	for _, mode := range []struct {
		name      string
		deepAbove int64
	}{{"inline", math.MaxInt64}, {"request workers", 0}} {
		b.Run(mode.name, func(b *testing.B) {
			v.deepAbove.Store(mode.deepAbove)
			defer v.deepAbove.Store(deepAbove)
			b.ReportAllocs()
			per := b.N/clients + 1
			var wg sync.WaitGroup
			b.ResetTimer()
			for i, c := range conns {
				wg.Add(1)
				go func() {
					defer wg.Done()
					f := fmt.Sprintf("f%d", i%10)
					for range per {
						m, err := c.Call(&protocol.Checkout{Feature: f, Version: "1.0", Count: 1})
						if err != nil {
							b.Error(err)
							return
						}
						if _, err := c.Call(&protocol.Checkin{Handle: m.(*protocol.Granted).Handle}); err != nil {
							b.Error(err)
							return
						}
					}
				}()
			}
			wg.Wait()
		})
	}
}
