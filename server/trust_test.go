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

	"golm/lmutil/protocol/lmerr"
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
	me := uint32(os.Geteuid())
	const adminGID = "999999" // a group this test process is not in
	// as makes the test process an ordinary user: the server runs as
	// another uid, and lmadmin exists with the test's user in it or not.
	as := func(adminOnly, member bool) Trust {
		return Trust{
			AdminOnly:   adminOnly,
			serverUID:   func() uint32 { return me + 1 },
			lookupGroup: func(string) (string, bool) { return adminGID, true },
			userGroups: func(uid uint32) []string {
				if uid != me {
					t.Errorf("credentials say uid %d, want %d", uid, me)
				}
				if member {
					return []string{adminGID}
				}
				return nil
			},
		}
	}
	notRoot := func(t *testing.T) {
		if me == 0 {
			t.Skip("root is always an administrator by default")
		}
	}
	remote := as(false, false)
	remote.AllowRemote = true
	adminOnlyRemote := as(true, false)
	adminOnlyRemote.AllowRemote = true
	tests := []struct {
		name      string
		trust     Trust
		cmd       string
		conn      func(*testing.T) net.Conn
		skip      func(*testing.T)
		wantMinor lmerr.Minor // 0: allowed
	}{
		{"loopback lmdown by the server's user", Trust{}, AdminLmdown, tcpPair, nil, 0},
		{"socket lmdown by the server's user", Trust{}, AdminLmdown, unixPair, nil, 0},
		{"-x lmdown", Trust{NoLmdown: true}, AdminLmdown, tcpPair, nil, lmerr.MinorAdminLmdownOff},
		{"-x lmdown leaves lmreread", Trust{NoLmdown: true}, AdminLmreread, tcpPair, nil, 0},
		{"-x lmremove", Trust{NoLmremove: true}, AdminLmremove, tcpPair, nil, lmerr.MinorAdminLmremoveOff},
		{"-x lmdown and -allow-remote-admin", Trust{NoLmdown: true, AllowRemote: true}, AdminLmdown, tcpPair, nil, lmerr.MinorAdminLmdownOff},
		{"another user on the socket", as(false, false), AdminLmreread, unixPair, notRoot, lmerr.MinorAdminNotAdmin},
		{"another user over loopback TCP", as(false, false), AdminLmreread, tcpPair, notRoot, lmerr.MinorAdminNotAdmin},
		{"lmadmin member on the socket", as(false, true), AdminLmremove, unixPair, nil, 0},
		{"lmadmin member over loopback TCP", as(false, true), AdminLmremove, tcpPair, nil, 0},
		{"-allow-remote-admin admits another user", remote, AdminLmdown, tcpPair, nil, 0},
		{"-2 -p lmadmin member on the socket", as(true, true), AdminLmdown, unixPair, nil, 0},
		{"-2 -p lmadmin member over loopback TCP", as(true, true), AdminLmdown, tcpPair, nil, 0},
		{"-2 -p not a member", as(true, false), AdminLmremove, unixPair, nil, lmerr.MinorAdminNotLmadmin},
		{"-2 -p not a member over loopback TCP", as(true, false), AdminLmremove, tcpPair, nil, lmerr.MinorAdminNotLmadmin},
		{"-2 -p not a member with -allow-remote-admin", adminOnlyRemote, AdminLmremove, tcpPair, nil, lmerr.MinorAdminNotLmadmin},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.skip != nil {
				tt.skip(t)
			}
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

// TestTrustAllowed is the uid rule alone, over (uid, groups, mode): the
// server runs as uid 500, lmadmin is gid 600 when it exists.
func TestTrustAllowed(t *testing.T) {
	const server, lmadmin = 500, "600"
	tests := []struct {
		name      string
		uid       uint32
		gid       int64 // -1: unknown (loopback TCP)
		groups    []string
		hasGroup  bool // an lmadmin group exists
		adminOnly bool
		want      bool
	}{
		{"root", 0, 0, nil, false, false, true},
		{"root with lmadmin", 0, 0, nil, true, false, true},
		{"the server's user", server, 500, nil, true, false, true},
		{"the server's user over TCP", server, -1, nil, true, false, true},
		{"lmadmin member", 1000, 1000, []string{"1000", lmadmin}, true, false, true},
		{"lmadmin as primary group", 1000, 600, nil, true, false, true},
		{"lmadmin member over TCP", 1000, -1, []string{lmadmin}, true, false, true},
		{"plain user", 1000, 1000, []string{"1000"}, true, false, false},
		{"plain user, no lmadmin", 1000, 1000, []string{"1000"}, false, false, false},
		{"plain user over TCP, no lmadmin", 1000, -1, []string{"1000"}, false, false, false},
		{"group 0 member, no lmadmin", 1000, 1000, []string{"0"}, false, false, true},
		{"group 0 member with lmadmin", 1000, 1000, []string{"0"}, true, false, false},
		{"-2 -p root, no lmadmin", 0, 0, nil, false, true, true},
		{"-2 -p root not in lmadmin", 0, 0, nil, true, true, false},
		{"-2 -p root in lmadmin", 0, 0, []string{lmadmin}, true, true, true},
		{"-2 -p the server's user", server, 500, nil, true, true, false},
		{"-2 -p the server's user, no lmadmin", server, 500, nil, false, true, false},
		{"-2 -p lmadmin member", 1000, 1000, []string{lmadmin}, true, true, true},
		{"-2 -p group 0 member, no lmadmin", 1000, 1000, []string{"0"}, false, true, true},
		{"-2 -p plain user", 1000, 1000, []string{"1000"}, true, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := Trust{
				AdminOnly:   tt.adminOnly,
				serverUID:   func() uint32 { return server },
				lookupGroup: func(string) (string, bool) { return lmadmin, tt.hasGroup },
				userGroups:  func(uint32) []string { return tt.groups },
			}
			got, minor := tr.allowed(&peerCred{uid: tt.uid, gid: tt.gid, pid: -1})
			if got != tt.want {
				t.Errorf("allowed(uid %d, gid %d, groups %v) = %v (minor %d), want %v", tt.uid, tt.gid, tt.groups, got, minor, tt.want)
			}
		})
	}
}

func TestAuthorize(t *testing.T) {
	who := protocol.Identity{User: "ann", Host: "pc9", PID: 77}
	// -2 -p with an lmadmin group the test's user is not in.
	notMember := Trust{AdminOnly: true, lookupGroup: func(string) (string, bool) { return "999999", true }, userGroups: func(uint32) []string { return nil }}
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
		{"-2 -p not a member over TCP", notMember, &protocol.Reread{},
			"You are not a license administrator. (-63,604)",
			"REREAD request (lmreread) from ann at node pc9 (uid " + strconv.Itoa(os.Geteuid()) + ", pid 77, peer 127.0.0.1:"},
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

// TestAdminCommands: exactly the admin requests are privileged.
func TestAdminCommands(t *testing.T) {
	for typ := protocol.Type(1); typ < 64; typ++ {
		want := typ == protocol.TypeShutdown || typ == protocol.TypeReread || typ == protocol.TypeRemove || typ == protocol.TypeRemoveHandle ||
			typ == protocol.TypeSwitchReportLog || typ == protocol.TypeNewReportLog || typ == protocol.TypeSwitchDebugLog
		if _, _, got := (Trust{}).adminCommand(typ); got != want {
			t.Errorf("adminCommand(%v) privileged = %v, want %v", typ, got, want)
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
