package licfile

import (
	"net"
	"strings"
)

// IsThisHost reports whether host, as a SERVER line or a port@host names
// it, is the machine m: this_host, localhost, a loopback address
// (127.0.0.0/8, ::1), m's host name or its first label (either side may
// be the short name: "pc1" and "pc1.example.com" name the same host), or
// one of m's addresses. Case and a trailing dot ("pc1.example.com.") do
// not matter; an IP address is compared as an address, never as a name.
// lmgrd decides with it which SERVER line is its own and admin tools
// whether the server is on this host, which decides admin rights, so
// both ask this one function.
func IsThisHost(host string, m *Machine) bool {
	h := strings.ToLower(strings.TrimSuffix(host, "."))
	switch h {
	case "", "this_host", "localhost":
		return true
	}
	if ip := net.ParseIP(h); ip != nil {
		if ip.IsLoopback() {
			return true
		}
		if m != nil {
			for _, mine := range m.IPs {
				if ip.Equal(net.ParseIP(mine)) {
					return true
				}
			}
		}
		return false
	}
	if m == nil || m.Hostname == "" {
		return false
	}
	name := strings.ToLower(strings.TrimSuffix(m.Hostname, "."))
	short, _, _ := strings.Cut(name, ".")
	hshort, _, _ := strings.Cut(h, ".")
	return h == name || hshort == short
}
