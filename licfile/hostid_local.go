package licfile

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"net"
	"os"
	"os/user"
	"sort"
	"strings"
)

// NetInterface is one network interface as the hostid code needs it.
type NetInterface struct {
	Index    int
	Name     string
	Loopback bool
	MAC      net.HardwareAddr
	IPs      []net.IP
}

// MachineProbe is the operating system as LocalMachine sees it. Every nil
// field means "ask the operating system", so the zero MachineProbe
// describes this host; tests and lmhostid's goldens fill the fields.
type MachineProbe struct {
	// Interfaces lists the network interfaces.
	Interfaces func() ([]NetInterface, error)
	// Hostname returns the host name.
	Hostname func() (string, error)
	// Getenv looks up USER, LOGNAME and DISPLAY.
	Getenv func(string) string
	// CurrentUser is the login name when neither USER nor LOGNAME is set.
	CurrentUser func() (string, error)
	// TTY is the terminal of standard input (/dev/pts/0), "" if none.
	TTY func() string
	// ReadFile reads /etc/hostid and /etc/hosts for the 32-bit hostid.
	ReadFile func(string) ([]byte, error)
}

// DefaultDisplay is the display of a process that has neither DISPLAY nor
// a terminal on its standard input (a cron job, a daemon).
const DefaultDisplay = "/dev/tty"

// LocalMachine describes this host for hostid matching and lmhostid: every
// Ethernet address, the host name, the user, the display, the IPv4
// addresses and the 32-bit hostid. It does no DNS lookups. The error,
// when the interfaces cannot be listed, comes with everything else filled.
func LocalMachine() (*Machine, error) {
	return MachineProbe{}.Machine()
}

// Machine describes the host the probe sees; see LocalMachine.
//
//   - Ethers: the 6-byte hardware addresses of all interfaces, in
//     interface index order, as 12 lower-case hex digits; loopback
//     interfaces, all-zero addresses and repeats (bonds, VLANs) left out.
//   - Hostname: as the operating system reports it.
//   - User: $USER, else $LOGNAME, else the login name of the process.
//   - Display: $DISPLAY, else the terminal of standard input, else
//     DefaultDisplay, the way FLEXlm clients report a display on UNIX.
//   - IPs: every IPv4 address, non-loopback interfaces first, each group
//     in interface index order, no repeats.
//   - Long: the 32-bit hostid with gethostid(3) semantics; see LongHostID.
func (p MachineProbe) Machine() (*Machine, error) {
	m := &Machine{}
	ifaces, ifErr := p.interfaces()
	sort.SliceStable(ifaces, func(i, j int) bool { return ifaces[i].Index < ifaces[j].Index })
	m.Ethers = ethers(ifaces)
	m.IPs = ipv4s(ifaces)

	if h, err := p.hostname(); err == nil {
		m.Hostname = h
	}
	m.User = p.user()
	m.Display = p.display()
	m.Long = LongHostID(p.readFile, m.Hostname, m.IPs)
	if ifErr != nil {
		return m, fmt.Errorf("listing network interfaces: %w", ifErr)
	}
	return m, nil
}

func ethers(ifaces []NetInterface) []string {
	var out []string
	seen := map[string]bool{}
	for _, ifc := range ifaces {
		if ifc.Loopback || len(ifc.MAC) != 6 {
			continue
		}
		zero := true
		for _, b := range ifc.MAC {
			if b != 0 {
				zero = false
			}
		}
		if zero {
			continue
		}
		s := fmt.Sprintf("%x", []byte(ifc.MAC))
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

func ipv4s(ifaces []NetInterface) []string {
	var out, loop []string
	seen := map[string]bool{}
	for _, ifc := range ifaces {
		for _, ip := range ifc.IPs {
			v4 := ip.To4()
			if v4 == nil {
				continue
			}
			s := v4.String()
			if seen[s] {
				continue
			}
			seen[s] = true
			if ifc.Loopback || v4.IsLoopback() {
				loop = append(loop, s)
			} else {
				out = append(out, s)
			}
		}
	}
	return append(out, loop...)
}

func (p MachineProbe) interfaces() ([]NetInterface, error) {
	if p.Interfaces != nil {
		return p.Interfaces()
	}
	return osInterfaces()
}

// osInterfaces lists the operating system's interfaces with their addresses.
func osInterfaces() ([]NetInterface, error) {
	ifaces, err := net.Interfaces()
	if err != nil {
		return nil, err
	}
	out := make([]NetInterface, 0, len(ifaces))
	for _, ifc := range ifaces {
		ni := NetInterface{
			Index:    ifc.Index,
			Name:     ifc.Name,
			Loopback: ifc.Flags&net.FlagLoopback != 0,
			MAC:      ifc.HardwareAddr,
		}
		if addrs, err := ifc.Addrs(); err == nil {
			for _, a := range addrs {
				if ipn, ok := a.(*net.IPNet); ok {
					ni.IPs = append(ni.IPs, ipn.IP)
				}
			}
		}
		out = append(out, ni)
	}
	return out, nil
}

func (p MachineProbe) hostname() (string, error) {
	if p.Hostname != nil {
		return p.Hostname()
	}
	return os.Hostname()
}

func (p MachineProbe) getenv(k string) string {
	if p.Getenv != nil {
		return p.Getenv(k)
	}
	return os.Getenv(k)
}

func (p MachineProbe) user() string {
	for _, k := range []string{"USER", "LOGNAME"} {
		if v := p.getenv(k); v != "" {
			return v
		}
	}
	cur := p.CurrentUser
	if cur == nil {
		cur = func() (string, error) {
			u, err := user.Current()
			if err != nil {
				return "", err
			}
			return u.Username, nil
		}
	}
	if u, err := cur(); err == nil {
		return u
	}
	return ""
}

func (p MachineProbe) display() string {
	if d := p.getenv("DISPLAY"); d != "" {
		return d
	}
	tty := p.TTY
	if tty == nil {
		tty = stdinTTY
	}
	if t := tty(); t != "" {
		return t
	}
	return DefaultDisplay
}

func (p MachineProbe) readFile(name string) ([]byte, error) {
	if p.ReadFile != nil {
		return p.ReadFile(name)
	}
	return os.ReadFile(name)
}

// stdinTTY is the terminal device of standard input, found through
// /proc on Linux; "" when standard input is not a terminal device.
func stdinTTY() string {
	t, err := os.Readlink("/proc/self/fd/0")
	if err != nil || !strings.HasPrefix(t, "/dev/") || !(strings.HasPrefix(t, "/dev/pts/") || strings.HasPrefix(t, "/dev/tty") || strings.HasPrefix(t, "/dev/console")) {
		return ""
	}
	return t
}

// LongHostID computes the 32-bit hostid (lmhostid -long, a HOSTID= of 8
// hex digits) the way glibc's gethostid(3) does on a little-endian Linux
// machine, without DNS:
//
//  1. /etc/hostid, when it holds at least 4 bytes: its first 4 bytes as
//     a native-endian 32-bit number (what sethostid(3) and
//     `genhostid` write).
//  2. Otherwise the IPv4 address of hostname: looked up in /etc/hosts
//     only, else the first address of ips (this host's addresses,
//     non-loopback first). The address a.b.c.d gives the hostid
//     b a d c (each a byte): gethostid's 16-bit rotation of the address
//     in memory order, so 127.0.1.1 gives 007f0101 like hostid(1).
//  3. "" when there is no address at all.
//
// The result is 8 lower-case hex digits. readFile nil means os.ReadFile.
func LongHostID(readFile func(string) ([]byte, error), hostname string, ips []string) string {
	if readFile == nil {
		readFile = os.ReadFile
	}
	if b, err := readFile("/etc/hostid"); err == nil && len(b) >= 4 {
		return fmt.Sprintf("%08x", binary.NativeEndian.Uint32(b[:4]))
	}
	var ip net.IP
	if hostname != "" {
		if b, err := readFile("/etc/hosts"); err == nil {
			ip = hostsLookup(b, hostname)
		}
	}
	if ip == nil && len(ips) > 0 {
		ip = net.ParseIP(ips[0]).To4()
	}
	if ip == nil {
		return ""
	}
	return fmt.Sprintf("%02x%02x%02x%02x", ip[1], ip[0], ip[3], ip[2])
}

// hostsLookup finds the first IPv4 address of name (case-insensitive, a
// canonical name or an alias) in /etc/hosts data.
func hostsLookup(data []byte, name string) net.IP {
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := sc.Text()
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		ip := net.ParseIP(f[0]).To4()
		if ip == nil {
			continue
		}
		for _, n := range f[1:] {
			if strings.EqualFold(n, name) {
				return ip
			}
		}
	}
	return nil
}
