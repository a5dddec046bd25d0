package server

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golm/lmutil/licfile"
	"golm/lmutil/protocol/lmerr"
)

// A license file with three SERVER lines is a triad (manual 5.3). Each
// lmgrd of it is the member of the first SERVER line, in file order,
// whose host is an address of this host (or -bind's address) and whose
// host:port it can bind: binding decides, so three lmgrds on one host
// (three addresses with one port, or one address with three ports) take
// one line each whatever order they start in. Every vendor of the file
// is a Raft group of the three members; the group of the vendor on the
// file's i-th VENDOR (or DAEMON) line, from 0, listens on the member's
// host at its SERVER port + 100*(i+1) (27100 for the first vendor of a
// triad on 27000). Clients need the SERVER ports and the vendor daemons'
// ports; members need each other's Raft ports.

// TriadPortStep is what the Raft port of the i-th vendor adds to the
// SERVER port for each vendor: SERVER port + TriadPortStep*(i+1).
const TriadPortStep = 100

// TriadDataEnv names the variable that sets lmgrd's default data
// directory (see DefaultDataDir).
const TriadDataEnv = "GOLM_DATA_DIR"

// lmgrdTriad is what an lmgrd of a triad knows of its members.
type lmgrdTriad struct {
	servers [3]*licfile.Server
	addrs   [3]string // each SERVER host resolved to an IP address
	self    int
	vendors []string // vendor names in VENDOR-line order: the i of each Raft port
}

// TriadMember names a member: "port@host", as its SERVER line says.
func TriadMember(s *licfile.Server) string {
	return strconv.Itoa(s.Port) + "@" + s.Host
}

// triadServers returns the SERVER lines of the first license file with
// more than one; an error for a file with two (the manual: one or three).
func triadServers(files []*licfile.File) ([]*licfile.Server, error) {
	for _, f := range files {
		switch n := len(f.Servers); {
		case n == 3:
			for _, s := range f.Servers {
				if s.Port == 0 {
					return nil, &ConfigError{Msg: fmt.Sprintf("%s:%d: a SERVER line of a three-server triad needs its port", s.Pos.File, s.Pos.Line), Err: lmerr.New(lmerr.BadFile, lmerr.MinorLmgrdSyntax)}
				}
			}
			return f.Servers, nil
		case n == 2 || n > 3:
			s := f.Servers[0]
			return nil, &ConfigError{Msg: fmt.Sprintf("%s:%d: %d SERVER lines: a license file has one SERVER line, or three for redundancy", s.Pos.File, s.Pos.Line, n), Err: lmerr.New(lmerr.BadFile, lmerr.MinorLmgrdSyntax)}
		}
	}
	return nil, nil
}

// findServer is FindServerLine, or for a triad the member's line with
// its port bound (see the comment above).
func (l *Lmgrd) findServer(ctx context.Context, files []*licfile.File, cfg *Config) (*licfile.Server, error) {
	servers, err := triadServers(files)
	if err != nil {
		return nil, err
	}
	if servers == nil {
		return FindServerLine(files, cfg.Hostname, cfg.Machine)
	}
	t := &lmgrdTriad{}
	copy(t.servers[:], servers)
	for _, v := range vendorLines(files) {
		t.vendors = append(t.vendors, v.Name)
	}
	for i, s := range servers {
		t.addrs[i] = resolveHost(ctx, s.Host)
	}
	deadline := time.Now().Add(l.cfg.BindRetry)
	lc := net.ListenConfig{KeepAlive: -1}
	for {
		busy := false
		for i, s := range servers {
			if t.addrs[i] == "" || cfg.Bind != "" && cfg.Bind != t.addrs[i] || !s.HostID.Matches(cfg.Machine) {
				continue
			}
			if cfg.Listener != nil {
				// A listener given by the caller is the member's whose
				// port it has.
				if a, ok := cfg.Listener.Addr().(*net.TCPAddr); ok && a.Port == s.Port {
					t.self = i
					l.triad = t
					return s, nil
				}
				continue
			}
			ln, err := lc.Listen(ctx, "tcp", net.JoinHostPort(t.addrs[i], strconv.Itoa(s.Port)))
			if err == nil {
				t.self = i
				l.triad = t
				cfg.Listener = ln
				l.log.Printf("Three-server triad: this is %s (SERVER line %d)", TriadMember(s), i+1)
				return s, nil
			}
			busy = busy || errors.Is(err, syscall.EADDRINUSE)
		}
		if !busy || !time.Now().Before(deadline) || ctx.Err() != nil {
			break
		}
		l.log.Printf("Retrying socket bind (address in use): the SERVER ports of this host are in use")
		t := time.NewTimer(l.cfg.BindRetryEvery)
		select {
		case <-ctx.Done():
		case <-t.C:
		}
		t.Stop()
	}
	s := servers[0]
	return nil, &ConfigError{Msg: fmt.Sprintf("%s:%d: no SERVER line of the triad names a free address of this host\n%s: Not a valid server host, exiting", s.Pos.File, s.Pos.Line, s.Host),
		Err: lmerr.New(lmerr.NotThisHost, lmerr.MinorLmgrdNotServerHost)}
}

// resolveHost is host's first IPv4 address (else its first), "" when it
// does not resolve.
func resolveHost(ctx context.Context, host string) string {
	if ip := net.ParseIP(host); ip != nil {
		return ip.String()
	}
	if strings.EqualFold(host, "this_host") || strings.EqualFold(host, "localhost") {
		return "127.0.0.1"
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	ips, err := net.DefaultResolver.LookupIP(ctx, "ip", host)
	if err != nil || len(ips) == 0 {
		return ""
	}
	for _, ip := range ips {
		if ip.To4() != nil {
			return ip.String()
		}
	}
	return ips[0].String()
}

// IsTriad reports whether this lmgrd is a member of a triad.
func (l *Lmgrd) IsTriad() bool { return l.triad != nil }

// triadArgs are the vendor daemon's triad arguments: its Raft peers
// (member=address, in SERVER-line order), itself, and its data directory.
func (l *Lmgrd) triadArgs(vl *licfile.Vendor) []string {
	t := l.triad
	if t == nil {
		return nil
	}
	// A vendor added by an lmreread comes after those of the start.
	idx := slices.Index(t.vendors, vl.Name)
	if idx < 0 {
		idx = len(t.vendors)
	}
	var peers []string
	for i, s := range t.servers {
		peers = append(peers, TriadMember(s)+"="+net.JoinHostPort(t.addrs[i], strconv.Itoa(s.Port+TriadPortStep*(idx+1))))
	}
	self := t.servers[t.self]
	dir := l.cfg.DataDir
	if dir == "" {
		dir = DefaultDataDir(os.Getenv)
	}
	dir = filepath.Join(dir, vl.Name+"-"+TriadMember(self))
	a := []string{"-triad-peers", strings.Join(peers, ","), "-triad-self", TriadMember(self), "-data", dir}
	if l.cfg.Bind == "" {
		a = append(a, "-bind", t.addrs[t.self])
	}
	return a
}

// DefaultDataDir is where a member of a triad keeps its Raft log and
// snapshots without lmgrd -data: $GOLM_DATA_DIR, else /var/lib/golm for
// root, else $XDG_STATE_HOME/golm, else ~/.local/state/golm. Each vendor
// has a directory of its own in it, VENDOR-port@host.
func DefaultDataDir(getenv func(string) string) string {
	if d := getenv(TriadDataEnv); d != "" {
		return d
	}
	if os.Geteuid() == 0 {
		return "/var/lib/golm"
	}
	if d := getenv("XDG_STATE_HOME"); d != "" {
		return filepath.Join(d, "golm")
	}
	if h := getenv("HOME"); h != "" {
		return filepath.Join(h, ".local", "state", "golm")
	}
	return filepath.Join(os.TempDir(), fmt.Sprintf("golm-%d", os.Geteuid()))
}

// TriadRunID is the run a triad's handles belong to, the same on every
// member and across restarts: the seat table outlives each vendor daemon.
func TriadRunID(vendor string, members []string) uint64 {
	h := sha256.Sum256([]byte(vendor + "\x00" + strings.Join(members, ",")))
	return binary.BigEndian.Uint64(h[:8]) | 1
}

// setMaster records the master the vendor daemon's Raft group has.
func (c *child) setMaster(m string) {
	c.mu.Lock()
	c.master = m
	c.mu.Unlock()
}

// isMaster reports whether lmstat shows this lmgrd as the master: always
// for one server; for a triad, when the group of the first vendor that
// is up names this member.
func (l *Lmgrd) isMaster() bool {
	if l.triad == nil {
		return true
	}
	self := TriadMember(l.triad.servers[l.triad.self])
	for _, c := range l.vendorList() {
		c.mu.Lock()
		up, m := c.up, c.master
		c.mu.Unlock()
		if up {
			return m == self
		}
	}
	return false
}

// triadSharesPort reports whether another member of this lmgrd's triad
// has its SERVER port. The local admin socket is named after the port
// (protocol.AdminSocket), so members on one host with one port (127.0.0.1,
// 127.0.0.2, 127.0.0.3) would share a name and an admin command could
// reach the wrong member: such members take admin requests on TCP only,
// where the kernel still says who asks (/proc/net/tcp, Linux).
func (l *Lmgrd) triadSharesPort() bool {
	t := l.triad
	if t == nil {
		return false
	}
	for i, s := range t.servers {
		if i != t.self && s.Port == t.servers[t.self].Port {
			return true
		}
	}
	return false
}

// TriadMembers returns, for a member of a triad, the members' port@host
// in SERVER-line order, their addresses (each host as resolved at start)
// and the index of this lmgrd's; nil names for one server.
func (l *Lmgrd) TriadMembers() (names []string, addrs []licfile.ServerAddr, self int) {
	t := l.triad
	if t == nil {
		return nil, nil, 0
	}
	for i, s := range t.servers {
		names = append(names, TriadMember(s))
		host := t.addrs[i]
		if host == "" {
			host = s.Host
		}
		addrs = append(addrs, licfile.ServerAddr{Host: host, Port: s.Port})
	}
	return names, addrs, t.self
}
