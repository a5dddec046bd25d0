package server

import (
	"context"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"golm/lmutil/licfile"
)

func TestTriadServers(t *testing.T) {
	tests := []struct {
		name, text string
		triad      bool
		err        string
	}{
		{"one", "SERVER h1 ANY 27000\nVENDOR demo\n", false, ""},
		{"three", "SERVER h1 ANY 27000\nSERVER h2 ANY 27000\nSERVER h3 ANY 27001\nVENDOR demo\n", true, ""},
		{"two", "SERVER h1 ANY 27000\nSERVER h2 ANY 27000\nVENDOR demo\n", false, "2 SERVER lines: a license file has one SERVER line, or three"},
		{"no port", "SERVER h1 ANY 27000\nSERVER h2 ANY\nSERVER h3 ANY 27000\nVENDOR demo\n", false, "needs its port"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := licfile.Parse(strings.NewReader(tt.text), "license.lic")
			if err != nil {
				t.Fatal(err)
			}
			got, err := triadServers([]*licfile.File{f})
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want one with %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if (got != nil) != tt.triad {
				t.Errorf("triad %v, want %v", got != nil, tt.triad)
			}
		})
	}
}

// TestFindServerTriad: three lmgrds of one triad on one host with three
// ports each take the first line whose port is free.
func TestFindServerTriad(t *testing.T) {
	var ports []int
	var lns []net.Listener
	for range 3 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		lns = append(lns, ln)
		ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
	}
	for _, ln := range lns {
		ln.Close()
	}
	var text strings.Builder
	for _, p := range ports {
		text.WriteString("SERVER 127.0.0.1 ANY " + strconv.Itoa(p) + "\n")
	}
	text.WriteString("VENDOR demo\n")
	f, err := licfile.Parse(strings.NewReader(text.String()), "license.lic")
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		l := &Lmgrd{cfg: Config{BindRetry: 1}, log: NewDebugLog(io.Discard, "lmgrd", time.Now)}
		cfg := Config{}
		srv, err := l.findServer(context.Background(), []*licfile.File{f}, &cfg)
		if err != nil {
			t.Fatalf("lmgrd %d: %v", i+1, err)
		}
		t.Cleanup(func() { cfg.Listener.Close() })
		if srv.Port != ports[i] || l.triad.self != i {
			t.Errorf("lmgrd %d took port %d (member %d), want %d", i+1, srv.Port, l.triad.self, ports[i])
		}
		if got, want := l.triadArgs(f.Vendors[0])[1], strings.Join([]string{
			strconv.Itoa(ports[0]) + "@127.0.0.1=127.0.0.1:" + strconv.Itoa(ports[0]+TriadPortStep),
			strconv.Itoa(ports[1]) + "@127.0.0.1=127.0.0.1:" + strconv.Itoa(ports[1]+TriadPortStep),
			strconv.Itoa(ports[2]) + "@127.0.0.1=127.0.0.1:" + strconv.Itoa(ports[2]+TriadPortStep),
		}, ","); got != want {
			t.Errorf("-triad-peers %s, want %s", got, want)
		}
	}
	l := &Lmgrd{cfg: Config{BindRetry: 1}, log: NewDebugLog(io.Discard, "lmgrd", time.Now)}
	if _, err := l.findServer(context.Background(), []*licfile.File{f}, &Config{}); err == nil || !strings.Contains(err.Error(), "Not a valid server host") {
		t.Errorf("a fourth lmgrd: %v, want Not a valid server host", err)
	}
}

func TestTriadRunID(t *testing.T) {
	a := TriadRunID("demo", []string{"27000@h1", "27000@h2", "27000@h3"})
	if a != TriadRunID("demo", []string{"27000@h1", "27000@h2", "27000@h3"}) {
		t.Error("the run of a triad changes between calls")
	}
	if a == TriadRunID("other", []string{"27000@h1", "27000@h2", "27000@h3"}) || a == TriadRunID("demo", []string{"27000@h1", "27000@h2", "27000@h4"}) {
		t.Error("two triads have one run")
	}
}
