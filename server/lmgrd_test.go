package server

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"golm/lmutil/licfile"
)

func TestFindServerLine(t *testing.T) {
	m := &licfile.Machine{Hostname: "globes.example.com", Ethers: []string{"08002b32b161"}, IPs: []string{"10.1.2.3"}}
	tests := []struct {
		name    string
		servers string
		want    string // the chosen line's host, or the error text
	}{
		{"this_host any", "SERVER this_host ANY 27000", "this_host"},
		{"short name, ethernet hostid", "SERVER globes 08002b32b161", "globes"},
		{"full name, case", "SERVER Globes.Example.COM ANY", "Globes.Example.COM"},
		{"own address", "SERVER 10.1.2.3 ANY", "10.1.2.3"},
		{"second line names us", "SERVER other ANY\nSERVER globes ANY", "globes"},
		{"wrong hostid", "SERVER globes 0123456789ab", "license.lic:1: SERVER line for host globes is locked to hostid 0123456789ab, but this host's is 08002b32b161 (lmhostid prints this host's hostids)\nglobes: Wrong hostid, exiting"},
		{"wrong hostid, second line", "SERVER other ANY\nSERVER globes 0123456789ab", "license.lic:2: SERVER line for host globes is locked to hostid 0123456789ab, but this host's is 08002b32b161 (lmhostid prints this host's hostids)\nglobes: Wrong hostid, exiting"},
		{"wrong 32-bit hostid, none here", "SERVER globes 0123abcd", "license.lic:1: SERVER line for host globes is locked to hostid 0123abcd, but this host's is unknown (lmhostid prints this host's hostids)\nglobes: Wrong hostid, exiting"},
		{"wrong INTERNET hostid", "SERVER globes INTERNET=10.9.*.*", "license.lic:1: SERVER line for host globes is locked to hostid INTERNET=10.9.*.*, but this host's is INTERNET=10.1.2.3 (lmhostid prints this host's hostids)\nglobes: Wrong hostid, exiting"},
		{"renamed host, hostid matches", "SERVER oldname 08002b32b161", "oldname"},
		{"not us", "SERVER other ANY", "license.lic:1: SERVER line names host other, which is not this host (globes.example.com): use this_host or this host's name\nother: Not a valid server host, exiting"},
		{"no SERVER line", "", "No SERVER lines in license file, exiting"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			text := tt.servers + "\nVENDOR demo\n"
			f, err := licfile.Parse(strings.NewReader(text), "license.lic")
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			s, err := FindServerLine([]*licfile.File{f}, "globes.example.com", m)
			got := ""
			if err != nil {
				got = err.Error()
			} else {
				got = s.Host
			}
			if got != tt.want {
				t.Errorf("FindServerLine = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestBindRetryEvery: lmgrd tries a busy port again after each
// BindRetryEvery pause until BindRetry has passed, saying so each time.
func TestBindRetryEvery(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", ":0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() }) // after the parallel subtests
	port := ln.Addr().(*net.TCPAddr).Port
	for _, c := range []struct {
		name     string
		every    time.Duration
		min, max int // tries the terminal hears of
	}{
		{"every 50ms for 1s", 50 * time.Millisecond, 3, 21},
		{"the default pause, longer than the second", DefaultBindRetryEvery, 1, 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()            // both try the one busy port
			var stderr bytes.Buffer // bind writes it on this goroutine
			l := &Lmgrd{cfg: Config{BindRetry: time.Second, BindRetryEvery: c.every, Stderr: &stderr}, log: NewDebugLog(io.Discard, "lmgrd", time.Now)}
			if got, err := l.bind(context.Background(), port); err == nil {
				got.Close()
				t.Fatal("bound a busy port")
			}
			n := strings.Count(stderr.String(), fmt.Sprintf("port %d is in use by another process", port))
			if n < c.min || n > c.max {
				t.Errorf("%d tries announced, want %d to %d:\n%s", n, c.min, c.max, stderr.String())
			}
		})
	}
}
