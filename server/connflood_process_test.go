package server_test

import (
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"os/user"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golm/lmutil/protocol"
	golm "golm/lmutil/server"
)

// flood fills a daemon's connection limit on port: silent connections
// that never say a word, held open, and re-dialling ones that connect
// and close again until the test ends. It returns once a new TCP
// connection is closed without an answer to its HELLO, the sign that
// every slot a TCP peer can take is taken.
func flood(t *testing.T, port, silent, redialers int) {
	t.Helper()
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	for range silent {
		c, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			t.Fatalf("silent connection: %v", err)
		}
		t.Cleanup(func() { c.Close() })
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	t.Cleanup(func() { cancel(); wg.Wait() })
	for range redialers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var d net.Dialer
			for ctx.Err() == nil {
				if c, err := d.DialContext(ctx, "tcp", addr); err == nil {
					c.Close()
				}
			}
		}()
	}
	hello := &protocol.Hello{Version: protocol.Version, Role: protocol.RoleAdmin, Identity: protocol.Identity{User: "probe", Host: "testhost"}}
	eventually(t, "the daemon on port "+strconv.Itoa(port)+" to take no more TCP connections", func() bool {
		nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			return false
		}
		defer nc.Close()
		c := protocol.NewConn(nc)
		c.ReadTimeout = 5 * time.Second
		_, err = protocol.ClientHandshake(c, hello)
		return err != nil && codeOf(err) != -106
	})
}

// TestAdminSlotsUnderFlood: with lmgrd's and the vendor daemon's
// connection limits filled by TCP connections that say nothing and by
// connect-only sockets that re-dial as fast as they can, lmstat and
// lmremove still get in over the admin socket (lmgrd -2 -p), on the
// slots kept for administrators, while TCP clients get nowhere.
func TestAdminSlotsUnderFlood(t *testing.T) {
	if _, err := user.LookupGroup(golm.AdminGroup); os.Getuid() != 0 || err == nil {
		t.Skip("lmremove with -2 -p needs root and no lmadmin group")
	}
	const limit = 6
	t.Setenv(golm.MaxConnectionsEnv, strconv.Itoa(limit))
	// The silent connections stay for the whole test.
	t.Setenv(golm.HandshakeTimeoutEnv, "5m")
	s := startLmgrd(t, "-2", "-p")
	joe := s.vendor("joe")
	checkout(t, joe, "f1")
	vport := s.vendor("locate").NetConn().RemoteAddr().(*net.TCPAddr).Port
	silent := limit + golm.SpareConnections + golm.AdminConnections + 4
	flood(t, s.port, silent, 8)
	flood(t, vport, silent, 8)

	lmutilRun := func(args ...string) (string, error) {
		cmd := exec.Command(lmutil, args...)
		cmd.Dir = s.dir
		cmd.Env = append(os.Environ(), "USER=late", "LOGNAME=late")
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	if out, err := lmutilRun("lmwrap", "-c", "license.lic", "f1", "--", "true"); err == nil {
		t.Errorf("a client over TCP with the limits taken: succeeded, want a failure\n%s", out)
	}
	for range 3 { // more than once: a reserved slot goes back
		out, err := lmutilRun("lmstat", "-a", "-c", "license.lic")
		if err != nil || !strings.Contains(out, "joe testhost") {
			t.Fatalf("lmstat -a over the admin socket under the flood: %v\n%s", err, out)
		}
	}
	if out, err := lmutilRun("lmremove", "-c", "license.lic", "f1", "joe", "testhost", "/dev/pts/9"); err != nil {
		t.Fatalf("lmremove over the admin socket under the flood: %v\n%s", err, out)
	}
	s.waitLog("(demo) REMOVING joe@testhost from f1")
	s.waitLog("Out of network connections")
}

// TestHandshakeTimeoutProcess: lmgrd and its vendor daemon close a TCP
// connection that says nothing, or sends a frame header and nothing
// more, at the handshake deadline ($GOLM_HANDSHAKE_TIMEOUT); one that
// said HELLO stays.
func TestHandshakeTimeoutProcess(t *testing.T) {
	const timeout = 200 * time.Millisecond
	t.Setenv(golm.HandshakeTimeoutEnv, timeout.String())
	s := startLmgrd(t)
	vport := s.vendor("locate").NetConn().RemoteAddr().(*net.TCPAddr).Port
	hello := &protocol.Hello{Version: protocol.Version, Role: protocol.RoleClient, Identity: protocol.Identity{User: "joe", Host: "testhost"}}
	helloFrame, err := protocol.AppendFrame(nil, hello)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		send     []byte
		wantOpen bool
	}{
		{"silent", nil, false},
		{"a header announcing 64 KiB", []byte{0, 1, 0, 0}, false},
		{"half a HELLO", helloFrame[:len(helloFrame)/2], false},
		{"a whole HELLO", helloFrame, true},
	}
	for _, d := range []struct {
		name string
		port int
	}{{"lmgrd", s.port}, {"vendor daemon", vport}} {
		for _, tt := range tests {
			t.Run(d.name+"/"+tt.name, func(t *testing.T) {
				t.Parallel() // the connections that stay open wait out their window together
				nc, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(d.port)), 5*time.Second)
				if err != nil {
					t.Fatal(err)
				}
				defer nc.Close()
				if _, err := nc.Write(tt.send); err != nil {
					t.Fatal(err)
				}
				// Read until the daemon closes, or well past the deadline.
				nc.SetReadDeadline(time.Now().Add(10 * timeout))
				var buf [4096]byte
				var rerr error
				for rerr == nil {
					_, rerr = nc.Read(buf[:])
				}
				closed := !errors.Is(rerr, os.ErrDeadlineExceeded)
				if closed == tt.wantOpen {
					t.Errorf("closed by the daemon: %v (read: %v), want %v", closed, rerr, !tt.wantOpen)
				}
			})
		}
	}
}
