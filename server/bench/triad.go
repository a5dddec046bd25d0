package bench

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"syscall"
	"time"

	"golm/lmutil/server"
)

// A triad is three lmgrd processes of one license file with three SERVER
// lines. On one host its members listen on 127.0.0.1, 127.0.0.2 and
// 127.0.0.3 with one port, or on three ports of 127.0.0.1; each vendor's
// Raft group listens on the member's port + server.TriadPortStep.

// TriadLicenseText is LicenseText for a triad: a SERVER line per host,
// hosts[i] at ports[i], in that order.
func TriadLicenseText(hosts []string, ports []int, features, seats int) []byte {
	var b bytes.Buffer
	for i, h := range hosts {
		fmt.Fprintf(&b, "SERVER %s ANY %d\n", h, ports[i])
	}
	return appendFeatures(b.Bytes(), features, seats)
}

// WriteTriadLicense is WriteLicense for a triad (TriadLicenseText): one
// member's copy of the file, in dir.
func WriteTriadLicense(dir, keyDir string, hosts []string, ports []int, features, seats int) (string, error) {
	if len(hosts) != 3 || len(ports) != 3 {
		return "", fmt.Errorf("a triad has three SERVER lines: %d hosts and %d ports given", len(hosts), len(ports))
	}
	return writeSigned(dir, keyDir, TriadLicenseText(hosts, ports, features, seats))
}

// CanListen returns an error when this host cannot listen on one of ips
// (127.0.0.2 is not loopback everywhere).
func CanListen(ips ...string) error {
	for _, ip := range ips {
		ln, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
		if err != nil {
			return fmt.Errorf("cannot listen on %s: %w", ip, err)
		}
		ln.Close()
	}
	return nil
}

// FreePort returns a TCP port that was free a moment ago on every
// address. It is taken at random below Linux's default ephemeral range
// (32768 up), so that none of the suite's thousands of outgoing
// connections can take it before lmgrd binds it; the kernel's choice is
// the fallback when none is free there.
func FreePort() (int, error) {
	for range 100 {
		ln, err := net.Listen("tcp", ":"+strconv.Itoa(20000+rand.IntN(12000)))
		if err == nil {
			defer ln.Close()
			return ln.Addr().(*net.TCPAddr).Port, nil
		}
	}
	ln, err := net.Listen("tcp", ":0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// TriadPorts returns n ports that were free a moment ago on every
// address, each with its first vendor's Raft port free too and none
// another's Raft port.
func TriadPorts(n int) ([]int, error) {
	var ports []int
	taken := func(p int) bool {
		for _, q := range ports {
			if p == q || p == q+server.TriadPortStep || p+server.TriadPortStep == q {
				return true
			}
		}
		return false
	}
	free := func(p int) bool {
		ln, err := net.Listen("tcp", ":"+strconv.Itoa(p))
		if err != nil {
			return false
		}
		ln.Close()
		return true
	}
	for tries := 0; len(ports) < n; tries++ {
		if tries > 1000 {
			return nil, fmt.Errorf("no %d free ports with their Raft ports", n)
		}
		p, err := FreePort()
		if err != nil {
			return nil, err
		}
		if p+server.TriadPortStep > 65535 || taken(p) || !free(p+server.TriadPortStep) {
			continue
		}
		ports = append(ports, p)
	}
	return ports, nil
}

var (
	tookLineRE = regexp.MustCompile(`\(lmgrd\) Three-server triad: this is (\S+) `)
	masterRE   = regexp.MustCompile(`\(` + Vendor + `\) CONNECTED, master is (\S+)`)
)

// StartMember starts the triad member of SERVER line port@ip: lmutil
// lmgrd -z -bind ip, its data directory dir/data, as StartLmgrd. It
// waits until lmgrd took that SERVER line and its vendor daemon started
// (members that share an address take the first free line of it, so
// they are started one after the other, in SERVER-line order); a member
// that took another line is stopped and an error.
func StartMember(lmutil, license, dir, ip string, port int, env []string, timeout time.Duration) (*Server, error) {
	s, err := startLmgrd(lmutil, license, dir, []string{"-bind", ip, "-data", filepath.Join(dir, "data")}, env, timeout)
	if err != nil {
		return nil, err
	}
	s.Name = strconv.Itoa(port) + "@" + ip
	data, _ := os.ReadFile(s.LogPath)
	if m := tookLineRE.FindSubmatch(data); m == nil || string(m[1]) != s.Name {
		s.Stop()
		return nil, fmt.Errorf("lmgrd meant for %s did not take its SERVER line:\n%s", s.Name, data)
	}
	return s, nil
}

// Master is the master this member's debug log named last, "" for none.
func (s *Server) Master() string {
	data, _ := os.ReadFile(s.LogPath)
	all := masterRE.FindAllSubmatch(data, -1)
	if len(all) == 0 {
		return ""
	}
	return string(all[len(all)-1][1])
}

// Alive reports whether lmgrd is still running.
func (s *Server) Alive() bool {
	select {
	case <-s.done:
		return false
	default:
		return true
	}
}

// Kill kills lmgrd and its vendor daemon with SIGKILL, at once (the
// whole process group), and waits for lmgrd's end.
func (s *Server) Kill() {
	_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
	_ = syscall.Kill(s.VendorPID, syscall.SIGKILL)
	<-s.done
}

// WaitMaster polls the debug logs of the members still running until
// each names the same master, one of them, and returns it; an error
// after timeout.
func WaitMaster(members []*Server, timeout time.Duration) (*Server, error) {
	deadline := time.Now().Add(timeout)
	for {
		name, agreed := "", true
		for _, m := range members {
			if !m.Alive() {
				continue
			}
			got := m.Master()
			if got == "" || name != "" && got != name {
				agreed = false
				break
			}
			name = got
		}
		if agreed && name != "" {
			for _, m := range members {
				if m.Name == name && m.Alive() {
					return m, nil
				}
			}
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("the members agreed on no running master within %v", timeout)
		}
		time.Sleep(10 * time.Millisecond) // polling log files
	}
}
