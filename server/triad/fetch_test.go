package triad

import (
	"fmt"
	"io"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// fetchServer is a stream layer on loopback serving lines of "rec N"
// for a triad whose members are all on 127.0.0.1; refused counts the
// fetches refused as not from a member's host.
func fetchServer(t *testing.T) (*streamLayer, *atomic.Int32) {
	t.Helper()
	peers := [3]Peer{{"a", "127.0.0.1:1"}, {"b", "127.0.0.1:2"}, {"c", "127.0.0.1:3"}}
	hosts := newPeerHosts(peers)
	lines := func(from, to uint64) ([]string, error) {
		var out []string
		for s := from; s < to && s <= 10; s++ {
			out = append(out, fmt.Sprintf("rec %d", s))
		}
		return out, nil
	}
	var refused atomic.Int32
	logf := func(format string, args ...any) {
		if strings.Contains(format, "refused") {
			refused.Add(1)
		}
	}
	s, err := newStreamLayer("127.0.0.1:0", func(c net.Conn) { serveFetch(c, hosts, lines, logf) })
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, &refused
}

// rawFetch sends req from local (nil: any) and returns all the answer.
func rawFetch(t *testing.T, addr string, local net.Addr, req string) string {
	t.Helper()
	d := net.Dialer{LocalAddr: local, Timeout: 5 * time.Second}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	io.WriteString(c, req)
	b, _ := io.ReadAll(c)
	return string(b)
}

// TestFetchServer: a member's Raft port serves a fetch from a member's
// host, refuses one from another address and closes a malformed
// request, and goes on serving; a connection that starts as Raft's
// goes to Raft whole.
func TestFetchServer(t *testing.T) {
	t.Parallel()
	s, refused := fetchServer(t)
	addr := s.Addr().String()

	lines, err := fetchReport(addr, 3, 6)
	if err != nil || strings.Join(lines, ",") != "rec 3,rec 4,rec 5" {
		t.Fatalf("fetch 3..5 = %q %v", lines, err)
	}
	if lines, err := fetchReport(addr, 9, 100); err != nil || len(lines) != 2 {
		t.Fatalf("fetch past the end = %q %v, want rec 9 and 10", lines, err)
	}

	// Not a member's host: 127.0.0.9 is loopback, but no member's.
	got := rawFetch(t, addr, &net.TCPAddr{IP: net.IPv4(127, 0, 0, 9)}, "R1 5\n")
	if got != "" {
		t.Fatalf("a fetch from 127.0.0.9 was answered %q", got)
	}
	deadline := time.Now().Add(5 * time.Second)
	for refused.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if refused.Load() != 1 {
		t.Fatalf("%d refusals in the debug log, want 1", refused.Load())
	}
	// Another within the minute is refused without a line of its own.
	if got := rawFetch(t, addr, &net.TCPAddr{IP: net.IPv4(127, 0, 0, 9)}, "R1 5\n"); got != "" {
		t.Fatalf("a second fetch from 127.0.0.9 was answered %q", got)
	}
	for _, req := range []string{"Rx y\n", "R5 5\n", "R0 3\n", "R1\n", "R" + strings.Repeat("1", 200) + " 2\n"} {
		if got := rawFetch(t, addr, nil, req); got != "" {
			t.Errorf("malformed request %q answered %q", req, got)
		}
	}
	if lines, err := fetchReport(addr, 1, 3); err != nil || len(lines) != 2 {
		t.Fatalf("fetch after the refusals = %q %v", lines, err)
	}
	if refused.Load() != 1 {
		t.Fatalf("%d refusals in the debug log, want 1 a minute", refused.Load())
	}

	// Raft's first byte is its RPC type: the connection is Raft's.
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write([]byte{1, 'x', 'y'})
	rc, err := s.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	rc.SetReadDeadline(time.Now().Add(5 * time.Second))
	b := make([]byte, 3)
	if _, err := io.ReadFull(rc, b); err != nil || string(b) != "\x01xy" {
		t.Fatalf("Raft's connection read %q %v, want its three bytes", b, err)
	}
}

// TestPeerHostsReresolve: an address that is not a member's makes the
// member names be looked up again only once every reresolveEvery, so
// that a stream of connections from elsewhere costs no lookup each; a
// member's address is let in at once.
func TestPeerHostsReresolve(t *testing.T) {
	h := newPeerHosts([3]Peer{{"a", "127.0.0.1:1"}, {"b", "127.0.0.2:1"}, {"c", "127.0.0.3:1"}})
	at := func(ip string) net.Addr { return &net.TCPAddr{IP: net.ParseIP(ip), Port: 5} }
	tests := []struct {
		name       string
		ip         string
		age        time.Duration // of the last lookup
		want       bool
		wantLookup bool
	}{
		{"member", "127.0.0.2", 0, true, false},
		{"stranger, lookup fresh", "127.0.0.9", 0, false, false},
		{"stranger, lookup old", "127.0.0.9", 2 * reresolveEvery, false, true},
		{"member, lookup old", "127.0.0.3", 2 * reresolveEvery, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := time.Now().Add(-tt.age)
			h.resolved = before
			if got := h.allowed(at(tt.ip)); got != tt.want {
				t.Errorf("allowed(%s) = %v, want %v", tt.ip, got, tt.want)
			}
			if looked := !h.resolved.Equal(before); looked != tt.wantLookup {
				t.Errorf("looked up again: %v, want %v", looked, tt.wantLookup)
			}
		})
	}
}
