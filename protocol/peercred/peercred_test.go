package peercred

import (
	"errors"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// A table as Linux writes it on a little-endian machine.
const tcpTable = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000:6978 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 97 1 00000000a541e2a1 100 0 0 10 0
   1: 0100007F:8801 0100007F:6978 01 00000000:00000000 00:00000000 00000000  1001        0 4242 1 00000000a541e2a1 20 4 30 10 -1
   2: 0100007F:6978 0100007F:8801 01 00000000:00000000 00:00000000 00000000  1000        0 4243 1 00000000a541e2a1 20 4 30 10 -1
   3: 0100007F:8802 0100007F:6978 06 00000000:00000000 03:00001536 00000000     0        0 0 3 00000000c0b982c8
   4: 0100007F:8803 0100007F:6978 01 00000000:00000000 00:00000000 00000000     0        0 0 1 00000000a541e2a1 20 4 30 10 -1
`

const tcp6Table = `  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000000000000:6978 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000  1002        0 98 2 00000000c94ce541 100 0 0 10 0
   1: 00000000000000000000000001000000:9000 00000000000000000000000001000000:6979 01 00000000:00000000 00:00000000 00000000  1003        0 99 2 00000000c94ce541 100 0 0 10 0
   2: 0000000000000000FFFF00000100007F:9001 0000000000000000FFFF00000100007F:6979 01 00000000:00000000 00:00000000 00000000  1004        0 100 2 00000000c94ce541 100 0 0 10 0
`

func littleEndian(t *testing.T) {
	t.Helper()
	switch runtime.GOARCH {
	case "amd64", "386", "arm64", "arm", "riscv64", "loong64", "ppc64le", "mips64le", "mipsle", "wasm":
	default:
		t.Skip("the sample tables are a little-endian machine's")
	}
}

func TestParseTable(t *testing.T) {
	littleEndian(t)
	v4, err := parseTable(strings.NewReader(tcpTable))
	if err != nil {
		t.Fatal(err)
	}
	v6, err := parseTable(strings.NewReader(tcp6Table))
	if err != nil {
		t.Fatal(err)
	}
	all := append(v4, v6...)
	ap := netip.MustParseAddrPort
	conns := []struct {
		name          string
		local, remote netip.AddrPort // the server end's
		want          uint32
		wantErr       error
	}{
		{"established client", ap("127.0.0.1:27000"), ap("127.0.0.1:34817"), 1001, nil},
		{"the server's own end is not the client", ap("127.0.0.1:34817"), ap("127.0.0.1:27000"), 1000, nil},
		{"TIME_WAIT shows uid 0 and is skipped", ap("127.0.0.1:27000"), ap("127.0.0.1:34818"), 0, ErrNotFound},
		{"established without an inode is skipped", ap("127.0.0.1:27000"), ap("127.0.0.1:34819"), 0, ErrNotFound},
		{"IPv6 loopback", ap("[::1]:27001"), ap("[::1]:36864"), 1003, nil},
		{"IPv4-mapped is IPv4", ap("127.0.0.1:27001"), ap("127.0.0.1:36865"), 1004, nil},
		{"unknown port", ap("127.0.0.1:27000"), ap("127.0.0.1:1"), 0, ErrNotFound},
		{"another address", ap("127.0.0.2:27000"), ap("127.0.0.1:34817"), 0, ErrNotFound},
	}
	for _, tt := range conns {
		t.Run(tt.name, func(t *testing.T) {
			got, err := connOwner(all, tt.local, tt.remote)
			if !errors.Is(err, tt.wantErr) || (err == nil && got != tt.want) {
				t.Fatalf("connOwner = %d, %v; want %d, %v", got, err, tt.want, tt.wantErr)
			}
		})
	}
	t.Run("listener", func(t *testing.T) {
		if got, err := listenerOwner(v4, 27000); err != nil || got != 1000 {
			t.Errorf("listenerOwner(27000) = %d, %v; want 1000", got, err)
		}
		if _, err := listenerOwner(all, 27001); !errors.Is(err, ErrNotFound) {
			t.Errorf("listenerOwner(27001) = %v, want ErrNotFound (only connections use it)", err)
		}
		if _, err := listenerOwner(all, 27000); err == nil {
			t.Error("listenerOwner with listeners of two uids answered; want an error")
		}
	})
}

func TestParseTableRefusesGarbage(t *testing.T) {
	for _, line := range []string{
		"   0: 0100007F:6978 0100007F:8801 01",
		"   0: 0100007F 0100007F:8801 01 0:0 0:0 0 1000 0 1 1",
		"   0: 0100007G:6978 0100007F:8801 01 0:0 0:0 0 1000 0 1 1",
		"   0: 0100007F:6978 0100007F:8801 01 0:0 0:0 0 -1 0 1 1",
		"   0: 01007F:6978 0100007F:8801 01 0:0 0:0 0 1000 0 1 1",
	} {
		if _, err := parseTable(strings.NewReader("header\n" + line + "\n")); err == nil {
			t.Errorf("parseTable(%q) = nil error, want one", line)
		}
	}
}

func TestLive(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("Linux only")
	}
	me := uint32(os.Geteuid())
	for _, network := range []string{"tcp4", "tcp6"} {
		t.Run(network, func(t *testing.T) {
			addr := "127.0.0.1:0"
			if network == "tcp6" {
				addr = "[::1]:0"
			}
			ln, err := net.Listen(network, addr)
			if err != nil {
				t.Skipf("no %s loopback: %v", network, err)
			}
			defer ln.Close()
			cc, err := net.Dial(network, ln.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer cc.Close()
			sc, err := ln.Accept()
			if err != nil {
				t.Fatal(err)
			}
			defer sc.Close()
			if uid, err := TCPOwner(sc.LocalAddr(), sc.RemoteAddr()); err != nil || uid != me {
				t.Errorf("TCPOwner = %d, %v; want %d", uid, err, me)
			}
			if uid, err := ListenerOwner(ln.Addr().(*net.TCPAddr).Port); err != nil || uid != me {
				t.Errorf("ListenerOwner = %d, %v; want %d", uid, err, me)
			}
			if runtime.GOOS == "linux" {
				socks, err := tables()
				if err != nil {
					t.Fatal(err)
				}
				if uid, err := listenerOwner(socks, ln.Addr().(*net.TCPAddr).Port); err != nil || uid != me {
					t.Errorf("listener owner from /proc = %d, %v; want %d", uid, err, me)
				}
				if _, err := diagListeners(); err != nil {
					t.Logf("no socket diagnostics: %v", err)
				}
			}
		})
	}
	t.Run("unix", func(t *testing.T) {
		ln, err := net.Listen("unix", filepath.Join(t.TempDir(), "s"))
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		cc, err := net.Dial("unix", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer cc.Close()
		sc, err := ln.Accept()
		if err != nil {
			t.Fatal(err)
		}
		defer sc.Close()
		for name, c := range map[string]net.Conn{"server end": sc, "client end": cc} {
			cred, err := Of(c.(*net.UnixConn))
			if err != nil || cred.UID != me || cred.PID != int32(os.Getpid()) {
				t.Errorf("%s: Of = %+v, %v; want uid %d pid %d", name, cred, err, me, os.Getpid())
			}
		}
	})
}

// TestDiagOwner checks the netlink lookup against real loopback
// connections, IPv4, IPv6 and IPv4-mapped, and that it agrees with
// /proc.
func TestDiagOwner(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("Linux only")
	}
	me := uint32(os.Geteuid())
	for _, tt := range []struct{ name, listen, dial string }{
		{"IPv4", "127.0.0.1:0", "127.0.0.1"},
		{"IPv6", "[::1]:0", "::1"},
		{"IPv4-mapped", "[::]:0", "::ffff:127.0.0.1"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ln, err := net.Listen("tcp", tt.listen)
			if err != nil {
				t.Skipf("cannot listen on %s: %v", tt.listen, err)
			}
			defer ln.Close()
			port := ln.Addr().(*net.TCPAddr).Port
			cc, err := net.Dial("tcp", net.JoinHostPort(tt.dial, strconv.Itoa(port)))
			if err != nil {
				t.Skipf("cannot dial %s: %v", tt.dial, err)
			}
			defer cc.Close()
			sc, err := ln.Accept()
			if err != nil {
				t.Fatal(err)
			}
			defer sc.Close()
			l, _ := addrPort(sc.LocalAddr())
			r, _ := addrPort(sc.RemoteAddr())
			uid, err := diagOwner(r, l)
			if errors.Is(err, errNoDiag) {
				t.Skip("no socket diagnostics in this kernel")
			}
			if err != nil || uid != me {
				t.Fatalf("diagOwner = %d, %v; want %d", uid, err, me)
			}
			socks, err := tables()
			if err != nil {
				t.Fatal(err)
			}
			if puid, err := connOwner(socks, l, r); err != nil || puid != uid {
				t.Errorf("/proc says %d, %v; netlink %d", puid, err, uid)
			}
			// The server's own end is not the client's.
			if _, err := diagOwner(netip.AddrPortFrom(r.Addr(), r.Port()+1), l); !errors.Is(err, ErrNotFound) {
				t.Errorf("diagOwner of a port nobody uses = %v, want ErrNotFound", err)
			}
			// A client that has closed its end (it sent a request and
			// left) is nobody: its socket is no longer established.
			cc.Close()
			if uid, err := diagOwner(r, l); !errors.Is(err, ErrNotFound) {
				t.Errorf("diagOwner after the client closed = %d, %v; want ErrNotFound", uid, err)
			}
			if uid, err := TCPOwner(sc.LocalAddr(), sc.RemoteAddr()); !errors.Is(err, ErrNotFound) {
				t.Errorf("TCPOwner after the client closed = %d, %v; want ErrNotFound", uid, err)
			}
		})
	}
}
