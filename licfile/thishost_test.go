package licfile

import "testing"

func TestIsThisHost(t *testing.T) {
	fqdn := &Machine{Hostname: "pc1.example.com", IPs: []string{"192.0.2.7", "198.51.100.3"}}
	short := &Machine{Hostname: "pc1", IPs: []string{"192.0.2.7"}}
	tests := []struct {
		name string
		host string
		m    *Machine
		want bool
	}{
		{"this_host", "this_host", fqdn, true},
		{"this_host upper case", "THIS_HOST", fqdn, true},
		{"localhost", "localhost", fqdn, true},
		{"localhost with a dot", "localhost.", fqdn, true},
		{"localhost without a machine", "localhost", nil, true},
		{"127.0.0.1", "127.0.0.1", fqdn, true},
		{"127.0.1.1", "127.0.1.1", fqdn, true},
		{"::1", "::1", fqdn, true},
		{"::1 without a machine", "::1", nil, true},
		{"short name of an FQDN host", "pc1", fqdn, true},
		{"FQDN of an FQDN host", "pc1.example.com", fqdn, true},
		{"FQDN with a trailing dot", "PC1.example.com.", fqdn, true},
		{"FQDN of a short-named host", "pc1.example.com", short, true},
		{"short name of a short-named host", "PC1", short, true},
		{"an address of this host", "192.0.2.7", fqdn, true},
		{"another address of this host", "198.51.100.3", fqdn, true},
		{"an IPv4-mapped address of this host", "::ffff:192.0.2.7", fqdn, true},
		{"another host's address", "192.0.2.8", fqdn, false},
		{"an address without a machine", "192.0.2.7", nil, false},
		{"another host", "pc2", fqdn, false},
		{"another host's FQDN", "pc2.example.com", fqdn, false},
		{"a name that starts like this host's", "pc10", fqdn, false},
		{"a name without a machine", "pc1", nil, false},
		{"a name on a machine without a name", "pc1", &Machine{}, false},
		{"an address that looks like a name's label", "192.0.2.7", &Machine{Hostname: "192"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := IsThisHost(tt.host, tt.m); got != tt.want {
				t.Errorf("IsThisHost(%q, %+v) = %v, want %v", tt.host, tt.m, got, tt.want)
			}
		})
	}
}
