package commands

import (
	"testing"

	"golm/lmutil/server"
)

// TestVendorDaemonDispatch: a vendor daemon is the binary started by
// lmgrd under the vendor's name with its control channel; the name alone,
// or the variable alone, is not one.
func TestVendorDaemonDispatch(t *testing.T) {
	withCtl := func(k string) string {
		if k == server.ControlEnv {
			return "3"
		}
		return ""
	}
	lmgrdArgs := []string{"-c", "/l/license.lic", "-server-host", "h", "-lmgrd-port", "27000"}
	tests := []struct {
		name     string
		argv     []string
		getenv   func(string) string
		wantOK   bool
		wantProg string
	}{
		{"started by lmgrd", append([]string{"demo"}, lmgrdArgs...), withCtl, true, "demo"},
		{"path as argv[0]", append([]string{"/opt/vendor/demo"}, lmgrdArgs...), withCtl, true, "demo"},
		{"vendor named like an applet", append([]string{"lmstat"}, lmgrdArgs...), withCtl, true, "lmstat"},
		{"vendor named like an alias", append([]string{"down"}, lmgrdArgs...), withCtl, true, "down"},
		{"applet with the variable", []string{"lmstat", "-a"}, withCtl, false, ""},
		{"lmutil with the variable", append([]string{"lmutil"}, lmgrdArgs...), withCtl, false, ""},
		{"vendor name by hand", append([]string{"demo"}, lmgrdArgs...), nil, false, ""},
		{"nothing", nil, withCtl, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, prog, args, ok := vendorDaemonDispatch(tt.argv, &Env{Getenv: tt.getenv})
			if ok != tt.wantOK || prog != tt.wantProg {
				t.Fatalf("vendorDaemonDispatch(%q) = %q, %v; want %q, %v", tt.argv, prog, ok, tt.wantProg, tt.wantOK)
			}
			if ok && (a == nil || a.Name != vendorApplet || len(args) != len(tt.argv)-1) {
				t.Errorf("applet %v, args %q", a, args)
			}
		})
	}
}
