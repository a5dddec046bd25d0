package client

import (
	"context"
	"errors"
	"net"
	"strconv"
	"testing"
	"time"

	"golm/lmutil/licfile"
	"golm/lmutil/protocol"
)

// silentLmgrd answers the handshake of every connection and then reads
// requests without ever answering one; it returns its port.
func silentLmgrd(t *testing.T) int {
	return stubServer(t, func(nc net.Conn) {
		c := protocol.NewConn(nc)
		if _, err := protocol.ServerHandshake(c); err != nil {
			return
		}
		if c.Send(&protocol.Hello{Version: protocol.Version, Role: protocol.RoleServer, Daemon: "lmgrd"}) != nil {
			return
		}
		for {
			if _, err := c.Recv(); err != nil {
				return
			}
		}
	})
}

// TestAdminCallsHonourContext: an admin call to a server that does not
// answer returns when its context is cancelled or its deadline passes,
// with the context's error, not after the connection's read timeout.
func TestAdminCallsHonourContext(t *testing.T) {
	port := silentLmgrd(t)
	spec, err := licfile.ParseServerSpec(strconv.Itoa(port) + "@127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	calls := []struct {
		name string
		call func(ctx context.Context, a *Admin) error
	}{
		{"Shutdown", func(ctx context.Context, a *Admin) error { _, err := a.Shutdown(ctx, "", false); return err }},
		{"Reread", func(ctx context.Context, a *Admin) error { _, err := a.Reread(ctx, ""); return err }},
		{"Remove", func(ctx context.Context, a *Admin) error { _, err := a.Remove(ctx, "f1", "u", "h", "d"); return err }},
		{"ServerStatus", func(ctx context.Context, a *Admin) error { _, _, err := a.ServerStatus(ctx); return err }},
		{"LicenseFiles", func(ctx context.Context, a *Admin) error { _, err := a.LicenseFiles(ctx); return err }},
	}
	ends := []struct {
		name string
		ctx  func() (context.Context, context.CancelFunc)
		want error
	}{
		{"deadline", func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), 50*time.Millisecond)
		}, context.DeadlineExceeded},
		{"cancel", func() (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancel(context.Background())
			time.AfterFunc(50*time.Millisecond, cancel)
			return ctx, cancel
		}, context.Canceled},
	}
	for _, c := range calls {
		for _, e := range ends {
			t.Run(c.name+"/"+e.name, func(t *testing.T) {
				a, err := DialAdmin(context.Background(), spec, WithCallTimeout(time.Minute))
				if err != nil {
					t.Fatal(err)
				}
				defer a.Close()
				ctx, cancel := e.ctx()
				defer cancel()
				began := time.Now()
				err = c.call(ctx, a)
				if !errors.Is(err, e.want) {
					t.Errorf("err = %v, want %v", err, e.want)
				}
				if d := time.Since(began); d > 10*time.Second {
					t.Errorf("returned after %s", d)
				}
			})
		}
	}
}
