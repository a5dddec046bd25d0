package server

import (
	"bytes"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golm/lmutil/protocol"
)

// unixPair returns the server end of a connected Unix socket.
func unixPair(t *testing.T) net.Conn {
	t.Helper()
	ln, err := net.Listen("unix", filepath.Join(t.TempDir(), "s"))
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	cc, err := net.Dial("unix", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cc.Close() })
	sc, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sc.Close() })
	return sc
}

func tcpPair(t *testing.T) net.Conn {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	cc, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cc.Close() })
	sc, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sc.Close() })
	return sc
}

func TestTrustCheck(t *testing.T) {
	me := strconv.Itoa(os.Getuid())
	const adminGID = "999999" // a group this test process is not in
	withGroup := func(member bool) Trust {
		return Trust{
			AdminOnly:   true,
			lookupGroup: func(string) (string, bool) { return adminGID, true },
			userGroups: func(uid uint32) []string {
				if strconv.FormatUint(uint64(uid), 10) != me {
					t.Errorf("credentials say uid %d, want %s", uid, me)
				}
				if member {
					return []string{adminGID}
				}
				return nil
			},
		}
	}
	tests := []struct {
		name      string
		trust     Trust
		cmd       string
		conn      func(*testing.T) net.Conn
		wantMinor int // 0: allowed
	}{
		{"loopback lmdown", Trust{}, AdminLmdown, tcpPair, 0},
		{"-x lmdown", Trust{NoLmdown: true}, AdminLmdown, tcpPair, minorLmdownOff},
		{"-x lmdown leaves lmreread", Trust{NoLmdown: true}, AdminLmreread, tcpPair, 0},
		{"-x lmremove", Trust{NoLmremove: true}, AdminLmremove, tcpPair, minorLmremoveOff},
		{"-2 -p over TCP", withGroup(true), AdminLmdown, tcpPair, minorNoCredentials},
		{"-2 -p lmadmin member", withGroup(true), AdminLmdown, unixPair, 0},
		{"-2 -p not a member", withGroup(false), AdminLmremove, unixPair, minorNotLmadmin},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := tt.trust.Check(tt.cmd, tt.conn(t))
			switch {
			case tt.wantMinor == 0 && e != nil:
				t.Fatalf("Check = %v, want allowed", e)
			case tt.wantMinor != 0 && (e == nil || e.Code != -63 || e.Minor != tt.wantMinor):
				t.Fatalf("Check = %v, want -63 minor %d", errOrNil(e), tt.wantMinor)
			}
		})
	}
}

func TestIsAdminWithoutLmadmin(t *testing.T) {
	noGroup := func(string) (string, bool) { return "", false }
	tests := []struct {
		name   string
		uid    uint32
		gid    uint32
		groups []string
		want   bool
	}{
		{"root", 0, 0, nil, true},
		{"group 0 member", 1000, 1000, []string{"1000", "0"}, true},
		{"plain user", 1000, 1000, []string{"1000"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := Trust{lookupGroup: noGroup, userGroups: func(uint32) []string { return tt.groups }}
			if got := tr.isAdmin(tt.uid, tt.gid); got != tt.want {
				t.Errorf("isAdmin(%d, %d) = %v, want %v", tt.uid, tt.gid, got, tt.want)
			}
		})
	}
}

func TestAuthorize(t *testing.T) {
	who := protocol.Identity{User: "ann", Host: "pc9", PID: 77}
	tests := []struct {
		name    string
		trust   Trust
		req     protocol.Message
		wantErr string // "" allowed
		wantLog string // "" nothing logged
	}{
		{"status is not privileged", Trust{NoLmdown: true, NoLmremove: true}, &protocol.ServerStatusRequest{}, "", ""},
		{"checkout is not privileged", Trust{AdminOnly: true}, &protocol.Checkout{Feature: "f1"}, "", ""},
		{"lmdown from loopback", Trust{}, &protocol.Shutdown{}, "", ""},
		{"-x lmdown", Trust{NoLmdown: true}, &protocol.Shutdown{},
			"You are not a license administrator. (-63,602)",
			"SHUTDOWN request (lmdown) from ann at node pc9 (pid 77, peer 127.0.0.1:"},
		{"-x lmremove by handle", Trust{NoLmremove: true}, &protocol.RemoveHandle{Feature: "f1", Handle: 3},
			"You are not a license administrator. (-63,603)",
			"REMOVE_HANDLE request (lmremove) from ann at node pc9"},
		{"-2 -p over TCP", Trust{AdminOnly: true}, &protocol.Reread{},
			"You are not a license administrator. (-63,605)",
			"REREAD request (lmreread) from ann at node pc9"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			log := unbufferedLog(&buf, "lmgrd", nil)
			e := tt.trust.Authorize(tt.req, tcpPair(t), who, log)
			got := ""
			if e != nil {
				got = e.Error()
			}
			if got != tt.wantErr {
				t.Errorf("Authorize = %q, want %q", got, tt.wantErr)
			}
			if tt.wantLog == "" && buf.Len() != 0 {
				t.Errorf("log = %q, want nothing", buf.String())
			}
			if tt.wantLog != "" && !strings.Contains(buf.String(), tt.wantLog) {
				t.Errorf("log = %q, want it to contain %q", buf.String(), tt.wantLog)
			}
		})
	}
}

func TestIsAdminRequest(t *testing.T) {
	for typ := protocol.Type(1); typ < 64; typ++ {
		want := typ == protocol.TypeShutdown || typ == protocol.TypeReread || typ == protocol.TypeRemove || typ == protocol.TypeRemoveHandle ||
			typ == protocol.TypeSwitchReportLog || typ == protocol.TypeNewReportLog || typ == protocol.TypeSwitchDebugLog
		if got := IsAdminRequest(typ); got != want {
			t.Errorf("IsAdminRequest(%v) = %v, want %v", typ, got, want)
		}
	}
}

func TestIsLocalPeer(t *testing.T) {
	tests := []struct {
		addr net.Addr
		want bool
	}{
		{&net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)}, true},
		{&net.TCPAddr{IP: net.IPv6loopback}, true},
		{&net.TCPAddr{IP: net.IPv4(192, 0, 2, 2)}, false},
		{&net.TCPAddr{}, false},
		{&net.UnixAddr{Name: "@golm-lmgrd-27000", Net: "unix"}, true},
		{&net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)}, false},
	}
	for _, tt := range tests {
		t.Run(tt.addr.String(), func(t *testing.T) {
			if got := IsLocalPeer(tt.addr); got != tt.want {
				t.Errorf("IsLocalPeer(%v) = %v, want %v", tt.addr, got, tt.want)
			}
		})
	}
}
