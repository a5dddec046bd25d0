package licfile

import (
	"encoding/binary"
	"errors"
	"io/fs"
	"net"
	"reflect"
	"regexp"
	"testing"
)

func mac(t *testing.T, s string) net.HardwareAddr {
	t.Helper()
	m, err := net.ParseMAC(s)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func files(m map[string]string) func(string) ([]byte, error) {
	return func(name string) ([]byte, error) {
		if d, ok := m[name]; ok {
			return []byte(d), nil
		}
		return nil, fs.ErrNotExist
	}
}

func TestProbeMachine(t *testing.T) {
	ifaces := []NetInterface{
		{Index: 3, Name: "eth1", MAC: mac(t, "c6:54:01:5c:10:1f"), IPs: []net.IP{net.ParseIP("10.1.2.3"), net.ParseIP("fe80::1")}},
		{Index: 1, Name: "lo", Loopback: true, MAC: nil, IPs: []net.IP{net.ParseIP("127.0.0.1"), net.ParseIP("::1")}},
		{Index: 2, Name: "eth0", MAC: mac(t, "a4:1f:d5:02:8d:74"), IPs: []net.IP{net.ParseIP("192.168.0.7")}},
		{Index: 4, Name: "bond0", MAC: mac(t, "a4:1f:d5:02:8d:74"), IPs: []net.IP{net.ParseIP("192.168.0.7")}},
		{Index: 5, Name: "tun0", MAC: nil, IPs: []net.IP{net.ParseIP("10.8.0.1")}},
		{Index: 6, Name: "dummy0", MAC: mac(t, "00:00:00:00:00:00")},
		{Index: 7, Name: "ib0", MAC: mac(t, "00:00:00:48:fe:80:00:00:00:00:00:00:00:02:c9:03:00:0b:1a:11")},
	}
	p := MachineProbe{
		Interfaces: func() ([]NetInterface, error) { return ifaces, nil },
		Hostname:   func() (string, error) { return "storage", nil },
		Getenv:     func(k string) string { return map[string]string{"USER": "joe"}[k] },
		TTY:        func() string { return "/dev/pts/3" },
		ReadFile:   files(nil),
	}
	got, err := p.Machine()
	if err != nil {
		t.Fatalf("Machine() error = %v", err)
	}
	want := &Machine{
		Ethers:   []string{"a41fd5028d74", "c654015c101f"},
		Hostname: "storage",
		User:     "joe",
		Display:  "/dev/pts/3",
		IPs:      []string{"192.168.0.7", "10.1.2.3", "10.8.0.1", "127.0.0.1"},
		Long:     "a8c00700",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Machine() =\n  %+v\nwant\n  %+v", got, want)
	}
}

func TestProbeUserAndDisplay(t *testing.T) {
	tests := []struct {
		name        string
		env         map[string]string
		cur         func() (string, error)
		tty         string
		wantUser    string
		wantDisplay string
	}{
		{"USER wins", map[string]string{"USER": "u1", "LOGNAME": "l1", "DISPLAY": ":0"}, nil, "/dev/pts/1", "u1", ":0"},
		{"LOGNAME second", map[string]string{"LOGNAME": "l1"}, nil, "/dev/pts/1", "l1", "/dev/pts/1"},
		{"login name last", nil, func() (string, error) { return "root", nil }, "", "root", DefaultDisplay},
		{"nothing known", nil, func() (string, error) { return "", errors.New("no user") }, "", "", DefaultDisplay},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := MachineProbe{
				Interfaces:  func() ([]NetInterface, error) { return nil, nil },
				Hostname:    func() (string, error) { return "", errors.New("no name") },
				Getenv:      func(k string) string { return tt.env[k] },
				CurrentUser: tt.cur,
				TTY:         func() string { return tt.tty },
				ReadFile:    files(nil),
			}
			m, err := p.Machine()
			if err != nil {
				t.Fatal(err)
			}
			if m.User != tt.wantUser || m.Display != tt.wantDisplay {
				t.Errorf("user, display = %q, %q; want %q, %q", m.User, m.Display, tt.wantUser, tt.wantDisplay)
			}
			if m.Long != "" || m.Ethers != nil || m.IPs != nil {
				t.Errorf("machine without interfaces = %+v, want no ethers, IPs or long hostid", m)
			}
		})
	}
}

func TestProbeInterfaceError(t *testing.T) {
	p := MachineProbe{
		Interfaces: func() ([]NetInterface, error) { return nil, errors.New("netlink denied") },
		Hostname:   func() (string, error) { return "h", nil },
		Getenv:     func(string) string { return "" },
		TTY:        func() string { return "" },
		ReadFile:   files(nil),
	}
	m, err := p.Machine()
	if err == nil {
		t.Fatal("Machine() error = nil, want the interface error")
	}
	if m == nil || m.Hostname != "h" {
		t.Errorf("Machine() = %+v, want the rest filled", m)
	}
}

func TestLongHostID(t *testing.T) {
	hosts := "# comment\n127.0.0.1 localhost\n127.0.1.1 storage.example.com Storage # alias\n::1 storage\n"
	tests := []struct {
		name  string
		files map[string]string
		host  string
		ips   []string
		want  string
	}{
		{"etc hostid", map[string]string{"/etc/hostid": hostidFile(0x69021c89), "/etc/hosts": hosts}, "storage", nil, "69021c89"},
		{"short etc hostid ignored", map[string]string{"/etc/hostid": "\x01", "/etc/hosts": hosts}, "storage", nil, "007f0101"},
		{"etc hosts alias case-insensitive", map[string]string{"/etc/hosts": hosts}, "STORAGE", []string{"10.0.0.1"}, "007f0101"},
		{"first interface address", map[string]string{"/etc/hosts": hosts}, "other", []string{"192.168.0.7"}, "a8c00700"},
		{"no hosts file", nil, "storage", []string{"10.1.2.3"}, "010a0302"},
		{"nothing", nil, "storage", nil, ""},
		{"bad address", nil, "", []string{"nonsense"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := LongHostID(files(tt.files), tt.host, tt.ips); got != tt.want {
				t.Errorf("LongHostID(%q, %q) = %q, want %q", tt.host, tt.ips, got, tt.want)
			}
		})
	}
}

// hostidFile is /etc/hostid holding id, in this machine's byte order.
func hostidFile(id uint32) string {
	b := binary.NativeEndian.AppendUint32(nil, id)
	return string(b)
}

// TestLocalMachine checks the real host only for well-formedness: the
// values themselves depend on the machine.
func TestLocalMachine(t *testing.T) {
	m, err := LocalMachine()
	if err != nil {
		t.Skipf("cannot list interfaces here: %v", err)
	}
	hex12 := regexp.MustCompile(`^[0-9a-f]{12}$`)
	for _, e := range m.Ethers {
		if !hex12.MatchString(e) || e == "000000000000" {
			t.Errorf("ether %q is not 12 hex digits of a real address", e)
		}
	}
	for _, ip := range m.IPs {
		if net.ParseIP(ip).To4() == nil {
			t.Errorf("IP %q is not IPv4", ip)
		}
	}
	if m.Long != "" && !regexp.MustCompile(`^[0-9a-f]{8}$`).MatchString(m.Long) {
		t.Errorf("Long = %q, want 8 hex digits", m.Long)
	}
	if m.Display == "" {
		t.Error("Display is empty, want DISPLAY, a tty or the default")
	}
}
