package server

import (
	"net"
	"os"
	"path/filepath"
	"strconv"
	"testing"
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
